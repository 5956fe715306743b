# dpdk_card_bench.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt, the PMDs as
# --file): the same virtio-crypto card measured two ways with `ublkcrypt bench crypto`,
# aes-cbc-essiv:sha256 with 512-byte sectors from 512 B to 1 MiB requests: first through
# DPDK's crypto_virtio PMD from user space (--provider dpdk:DEVICE, the card on
# uio_pci_generic), then through the kernel's virtio_crypto driver over AF_ALG (--provider
# kernel:virtio_crypto_aes_cbc, the card given back to virtio-pci). Both tables are printed,
# not asserted (label bench). UBLKCRYPT_CARD_BENCH_SECONDS sets the seconds per cell and
# round, UBLKCRYPT_CARD_BENCH_ROUNDS the rounds (each figure its cell's median round).
step() { echo "== dpdk_card_bench: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh
. dpdk-card.sh

seconds=${UBLKCRYPT_CARD_BENCH_SECONDS:-0.5}
rounds=${UBLKCRYPT_CARD_BENCH_ROUNDS:-3}
# bench PROVIDER: the sweep of one provider on the card.
bench() {
    ublkcrypt bench crypto --provider "$1" -c aes-cbc-essiv:sha256 -s 256 --sector-size 512 \
        --sizes 512 2048 4096 16384 65536 1048576 --depths 1 8 32 --runtime "$seconds" --rounds "$rounds"
}

step "the card to DPDK"
dpdk_card_setup
export UBLKCRYPT_DPDK_DEADLINE_MS=10000
card=$(dpdk_card_name)

step "bench: the card through DPDK (dpdk:$card)"
bench "dpdk:$card"

step "the card back to the kernel's virtio_crypto"
unset UBLKCRYPT_DPDK_EAL_ARGS
dpdk_card_bind "$dpdk_bdf" virtio-pci
wait_until 10 "no $card_driver in /proc/crypto" card_present

step "bench: the card through AF_ALG (kernel:$card_driver)"
bench "kernel:$card_driver"
no_oops
step "done"
