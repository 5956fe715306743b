# card_failover.sh (guest scenario): the card is pulled out (QMP device_del, by the host
# hook card_failover.hook) while batches run through a failover-enabled session on it.
# Requires: no request fails, every ciphertext equals software's, exactly one failover to
# software whose reason is the missed deadline, and no thread hung on the dead card (the
# test binary finishes and exits). Needs --crypto-card card0, --bin kernel_provider_vmtest.
step() { echo "== card failover: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh

step "card present"
card_present

step "batches through kernel:virtio_crypto_aes_cbc; the card is pulled after batch 5"
export UBLKCRYPT_KERNEL_DEADLINE_MS=${UBLKCRYPT_KERNEL_DEADLINE_MS:-2000}
# In the background: reads stuck on the dead card pin kernel worker threads of the process
# uninterruptibly, so it can never be reaped (a kernel limit, see kernel_session.h). What
# must hold is that its datapath went on and its sessions closed; that is what it prints.
kernel_provider_vmtest failover kernel:virtio_crypto_aes_cbc --signal-after 5 \
    --signal "vm-signal pull-card" --seconds 150 >/tmp/failover.out 2>&1 &
verdict_printed() { grep -q '^CARD-FAILOVER' /tmp/failover.out; }
if ! (wait_until 180 "no verdict after 180 s" verdict_printed); then cat /tmp/failover.out; exit 1; fi
cat /tmp/failover.out
grep -q '^sessions closed' /tmp/failover.out
grep -q '^CARD-FAILOVER PASS' /tmp/failover.out
# The reason: the card watch saw the driver leave /proc/crypto, the kernel refused an
# operation on the dead card (ESHUTDOWN: the card's crypto engine stopped between the unplug
# and the watch's next read), or the operations in flight missed the deadline first
# (backends/kernel/card_watch.h). card_pull_volume.sh accepts the same three.
grep -Eq 'last_failover="kernel:virtio_crypto_aes_cbc -> software: kernel:virtio_crypto_aes_cbc: (no answer within|driver virtio_crypto_aes_cbc left /proc/crypto|[a-z]+ of sector [0-9]+: Cannot send after transport endpoint shutdown)' /tmp/failover.out

step "the card's driver is gone from /proc/crypto"
vm-wait-host card-pulled 60
wait_until 30 "$card_driver still in /proc/crypto 30 s after device_del" card_absent

step "a new session on the pulled card is refused with the candidates"
kernel_provider_vmtest check kernel:virtio_crypto_aes_cbc 2>&1 | tee /tmp/refused.out || true
grep -q 'kernel:virtio_crypto_aes_cbc: no such driver in /proc/crypto (candidates for' /tmp/refused.out
step "done"
