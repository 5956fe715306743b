# dpdk-card.sh: the virtio-crypto card (run-vm.sh --crypto-card) handed to DPDK's
# crypto_virtio PMD, for the scenarios that drive it from user space. A scenario sources it
# with `. dpdk-card.sh` (found on PATH) and calls dpdk_card_setup; it runs under dash -e.
# The PMDs come in as --file at their host paths (see tests/vm/CMakeLists.txt).
#
# The path: the card unbound from virtio-pci and bound to uio_pci_generic (the 6.12 kernel
# has no VFIO no-IOMMU mode; uio needs no IOMMU), 2 MiB hugepages and IOVA as physical
# addresses (a device without an IOMMU DMAs to physical addresses; EAL refuses the PMD in
# VA mode).

dpdk_pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0

# dpdk_card_bdf: the card's PCI address, or nothing when there is no card.
dpdk_card_bdf() {
    for _dev in /sys/bus/pci/devices/*; do
        [ "$(cat "$_dev/vendor"):$(cat "$_dev/device")" = "0x1af4:0x1054" ] && basename "$_dev"
    done
    return 0
}

# dpdk_card_bind BDF DRIVER: the card at BDF to DRIVER (uio_pci_generic for DPDK, virtio-pci
# for the kernel's virtio_crypto); prints the driver it ends up with.
dpdk_card_bind() {
    [ ! -e "/sys/bus/pci/devices/$1/driver" ] || echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
    echo "$2" >"/sys/bus/pci/devices/$1/driver_override"
    echo "$1" >/sys/bus/pci/drivers_probe
    echo "card $1: driver $(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")"
}

# dpdk_card_setup: EAL's runtime directories, the card on uio_pci_generic, hugepages. Sets
# dpdk_bdf (the card's PCI address) and dpdk_eal_args (EAL's arguments for the card: the
# PMDs as plugins, the card allowed, IOVA as PA); ublkcrypt's DPDK provider gets them too,
# in UBLKCRYPT_DPDK_EAL_ARGS.
dpdk_card_setup() {
    # EAL keeps its runtime files in /var/run/dpdk and refuses to load plugins from a path
    # with a world-writable directory in it (the initramfs root is one).
    mkdir -p /run/dpdk
    [ -e /var/run ] || ln -s /run /var/run
    chmod 755 / /usr /usr/lib /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/dpdk "$dpdk_pmds"

    modprobe uio_pci_generic
    dpdk_bdf=$(dpdk_card_bdf)
    [ -n "$dpdk_bdf" ] || { echo "no virtio-crypto card (run-vm.sh --crypto-card)"; exit 1; }
    dpdk_card_bind "$dpdk_bdf" uio_pci_generic

    echo 256 >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
    mkdir -p /dev/hugepages
    grep -q ' /dev/hugepages ' /proc/mounts || mount -t hugetlbfs none /dev/hugepages
    grep HugePages_Total /proc/meminfo

    dpdk_eal_args="--iova-mode=pa -a $dpdk_bdf"
    for _pmd in mempool_ring bus_pci crypto_virtio; do
        dpdk_eal_args="$dpdk_eal_args -d $dpdk_pmds/librte_$_pmd.so.23"
    done
    export UBLKCRYPT_DPDK_EAL_ARGS="$dpdk_eal_args"
}

# dpdk_card_name: the card's DPDK device name, as `ublkcrypt backends` lists it (after
# dpdk_card_setup); fails when DPDK lists no crypto_virtio device.
dpdk_card_name() {
    ublkcrypt backends >/tmp/dpdk-backends
    _name=$(awk '$2 == "crypto_virtio" { print $1 }' /tmp/dpdk-backends)
    [ -n "$_name" ] || { cat /tmp/dpdk-backends >&2; echo "DPDK lists no crypto_virtio device" >&2; return 1; }
    echo "$_name"
}
