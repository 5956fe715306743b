# dpdk_card_pull.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt, the PMDs as
# --file, host hook card_unplug_smoke.hook): issue 20's card hot-unplugged mid-pass. A LUKS2
# aes-cbc-essiv:sha256 volume with 512-byte sectors on --backend dpdk:DEVICE (the card on
# uio_pci_generic, dpdk-card.sh) is written end to end by one sequential fio pass, every
# block with a crc32c verify header, and read back and verified by the same pass. The host
# pulls the card out (QMP device_del) once part of the pass has gone through it. Then:
#   - fio saw no error and found every block it read back intact;
#   - the volume failed over exactly once, to software, because the card stopped answering;
#     its ublk device returned no error;
#   - closed, its ciphertext opened by dm-crypt (the guest kernel's software AES): a
#     verify-only pass of the same job checks every block of the volume again.
# Knobs (--env): DPDK_CARD_PULL_MIB, the volume's size (the pass must outlast the pull);
# DPDK_CARD_PULL_AT_MIB, the bytes through the card before the pull is asked for.
step() { echo "== dpdk_card_pull: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh
. dpdk-card.sh
. fio-verify.sh
size_mib=${DPDK_CARD_PULL_MIB:-192}
pull_at_mib=${DPDK_CARD_PULL_AT_MIB:-24}

step "the card to DPDK"
dpdk_card_setup
# The deadline is what declares the pulled card dead, and the pass stalls that long once it
# is gone. A live card under TCG answers within well under a second on a quiet host; 4 s
# keeps a slow answer on a busy one from counting as a dead card.
export UBLKCRYPT_DPDK_DEADLINE_MS=4000
card=$(dpdk_card_name)
echo "the card is dpdk:$card"

step "LUKS2 aes-cbc-essiv:sha256, 512-byte sectors, $size_mib MiB, opened on the card"
truncate -s $((size_mib + 16))M /tmp/backing.img
printf 'dpdk-card-pull-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
    --sector-size 512 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pass \
    /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass --backend "dpdk:$card" /tmp/backing.img pull)
ublkcrypt status pull | grep -q "provider: *dpdk:$card\$"
test "$(blockdev --getsize64 "$dev")" = $((size_mib << 20))

step "fio writes every block and reads it back; the card is pulled part-way"
seq_fio "$dev" "$size_mib" /tmp/fio.pass --do_verify=1 &
fio_pid=$!
moved_or_done() {
    [ -e /tmp/fio.pass.rc ] || [ "$(provider_counter pull dpdk payload)" -ge $((pull_at_mib << 20)) ]
}
wait_until -i 2 120 "the card moved less than $pull_at_mib MiB in 120 s" moved_or_done
[ ! -e /tmp/fio.pass.rc ] || { echo "the pass ended before the pull (make DPDK_CARD_PULL_MIB bigger)"; exit 1; }
# A failover before the pull would be the live card's, not the pull's.
test "$(failovers pull)" = 0
echo "card payload before the pull: $(provider_counter pull dpdk payload) bytes"
vm-signal card-ready  # card_unplug_smoke.hook pulls card0 on it
vm-wait-host card-pulled 120
test ! -e "/sys/bus/pci/devices/$dpdk_bdf"
pulled_at=$(provider_counter pull dpdk payload)
echo "card gone at t=$(uptime_s), card payload then: $pulled_at bytes"
wait $fio_pid
fio_report /tmp/fio.pass "the pass"
ublkcrypt status pull

check "fio saw no error" test "$(cat /tmp/fio.pass.rc)/$(fio_field /tmp/fio.pass 5)" = 0/0
check "fio wrote all $size_mib MiB" test "$(fio_field /tmp/fio.pass 47)" = $((size_mib * 1024))
check "fio read back and verified all $size_mib MiB" test "$(fio_field /tmp/fio.pass 6)" = $((size_mib * 1024))
check "no verify mismatch" test "$(bad_blocks /tmp/fio.pass)" = 0
check "the device returned no error" test "$(io_errors pull)" = 0
check "exactly one failover" test "$(failovers pull)" = 1
check "provider software after the pull" eval 'ublkcrypt status pull | grep -q "provider: *software\$"'
# The pulled card never answers what was in flight: the deadline fails the device.
check "the failover names the card's missed deadline" eval \
    'ublkcrypt status pull | grep "failovers:" | grep -q "last: dpdk:$card -> software: .*no answer within 4000 ms"'
check "the card did not do the whole pass" test "$(provider_counter pull dpdk payload)" -lt $((size_mib << 21))
check "software did part of the pass" test "$(provider_counter pull software payload)" -gt 0
echo "dpdk_card_pull: figures: pass of $size_mib MiB: card moved $pulled_at bytes until it" \
     "was gone, $(provider_counter pull dpdk payload) in all; failovers $(failovers pull);" \
     "device errors $(io_errors pull); fio error $(fio_field /tmp/fio.pass 5)," \
     "bad blocks $(bad_blocks /tmp/fio.pass)"
ublkcrypt close pull

step "every block through dm-crypt"
cryptsetup open --key-file /tmp/pass --readonly /tmp/backing.img dmvol
seq_fio /dev/mapper/dmvol "$size_mib" /tmp/fio.dm --verify_only
fio_report /tmp/fio.dm "dm-crypt verify"
cryptsetup close dmvol
check "dm-crypt: all $size_mib MiB verified" test "$(fio_field /tmp/fio.dm 6)" = $((size_mib * 1024))
check "dm-crypt: no verify mismatch" test "$(bad_blocks /tmp/fio.dm)" = 0
check "dm-crypt: fio saw no error" test "$(cat /tmp/fio.dm.rc)/$(fio_field /tmp/fio.dm 5)" = 0/0
echo "dpdk_card_pull: figures: dm-crypt: $(fio_field /tmp/fio.dm 6) KiB verified," \
     "error $(fio_field /tmp/fio.dm 5), bad blocks $(bad_blocks /tmp/fio.dm), first at offset $(first_bad /tmp/fio.dm)"

end_checks dpdk_card_pull
step "all good"
