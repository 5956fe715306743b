# dpdk_virtio_probe.sh (guest, sh -e): can DPDK's crypto_virtio PMD drive the VM's
# virtio-crypto card from user space? Issue 20's VM part rests on it. A diagnostic, not a
# CI test (label probe): it exits 0 only when the card completes cipher operations through
# the PMD, and otherwise says where the path stops.
#
# The card is set up for DPDK as guest/dpdk-card.sh says, and Debian's dpdk-test-crypto-perf
# (package dpdk-dev) pushes AES-CBC through it. Needs --crypto-card, --bin
# dpdk-test-crypto-perf and the PMDs as --file (see tests/vm/CMakeLists.txt).
#
# Operations of 2 KiB at most: Debian's DPDK 22.11.11 (like upstream from 22.11.9 and
# 25.07) refuses in crypto_virtio's enqueue any operation whose data ends past
# RTE_MBUF_DEFAULT_BUF_SIZE (2176 bytes), before the card sees it, and keeps the op's
# cookie each time: after the ring's 1024 refusals every later enqueue fails with "can not
# get cookie". The 4 KiB run checks that this limit still holds.
step() { echo "== dpdk_virtio_probe: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

. dpdk-card.sh

step "the card to uio_pci_generic, hugepages"
dpdk_card_setup

# perf SIZE OPS SECONDS: AES-CBC encryption of OPS operations of SIZE bytes through the PMD;
# its output in /tmp/perf.out, its exit status returned.
perf() {
    # shellcheck disable=SC2086
    timeout "$3" dpdk-test-crypto-perf -l 0,1 $dpdk_eal_args \
        --log-level='pmd.crypto.virtio*:info' -- \
        --ptest throughput --devtype crypto_virtio --optype cipher-only --cipher-algo aes-cbc \
        --cipher-op encrypt --cipher-key-sz 16 --cipher-iv-sz 16 --buffer-sz "$1" \
        --total-ops "$2" --burst-sz 32 >/tmp/perf.out 2>&1
}
refused() { grep -c "$1" /tmp/perf.out || true; }

failed=0
for size in 512 2048; do
    step "AES-CBC through crypto_virtio, $size-byte operations"
    rc=0
    perf "$size" 2000 30 || rc=$?
    grep -v 'can not get cookie\|virtqueue_enqueue error' /tmp/perf.out | tail -n 4
    echo "dpdk-test-crypto-perf: exit $rc; enqueues refused: $(refused 'virtqueue_enqueue error')"
    # The throughput table has a row per lcore: "lcore id  Buf Size ..." then figures.
    if [ "$rc" = 0 ] && grep -q 'lcore id' /tmp/perf.out; then
        echo "the card completes $size-byte operations through the PMD"
    else
        echo "the card never completed a $size-byte operation"
        failed=1
    fi
done

step "AES-CBC through crypto_virtio, 4096-byte operations (over the PMD's limit)"
rc=0
perf 4096 2000 10 || rc=$?
echo "dpdk-test-crypto-perf: exit $rc; enqueues refused: $(refused 'virtqueue_enqueue error')," \
    "for want of an op cookie: $(refused 'can not get cookie')"
if [ "$rc" = 0 ] && grep -q 'lcore id' /tmp/perf.out; then
    echo "4 KiB operations complete: this DPDK has no 2176-byte limit in crypto_virtio"
else
    echo "4 KiB operations are refused by the PMD (its 2176-byte limit), as expected"
fi

[ "$failed" = 0 ] || exit 1
step "the card completes operations through the PMD"
