# card_pull_verify.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt, host hook
# card_pull_verify.hook): a card pulled out part-way through a sequential pass of 1 MiB
# O_DIRECT requests at QD16 loses no data and returns none wrong. Every block carries a
# fio crc32c verify header, so any block that went through the card, the failover or its
# retry in a wrong state shows up at its offset.
#   WRITE: an aes-cbc-essiv:sha256 LUKS2 volume on the card (kernel:virtio_crypto_aes_cbc)
#     is written once end to end; card0 is pulled once a good part of the pass has gone
#     through it. The pass sees no error; then a verify-only pass (through software by then)
#     finds every block intact; exactly one failover; the device returned no error.
#   READ: a second volume, written through software, is opened on a freshly plugged card
#     (card1) and read back end to end by a fio verify-only pass; card1 is pulled part-way.
#     No error, no mismatch, exactly one failover.
# Both passes run even when the first fails, so one boot shows both; the scenario fails at
# the end if either did. Figures (bytes through the card before the pull, failovers, fio's
# verify results) are printed for quoting.
# Knobs (--env): CARD_PULL_VERIFY_MIB, the size of each pass; CARD_PULL_AT_MIB, the bytes
# through the card before the pull is asked for. The pass must outlast the pull: the guest
# needs a moment to let the card go after device_del, and the card keeps serving until then.
step() { echo "== card_pull_verify: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh
. fio-verify.sh
size_mib=${CARD_PULL_VERIFY_MIB:-320}
pull_at_mib=${CARD_PULL_AT_MIB:-48}

# pull_card_midpass VOLUME CARD RCFILE: once VOLUME's card provider has moved pull_at_mib
# MiB, asks the host to pull CARD (hook: pull-CARD, answered by CARD-pulled) and waits
# until the driver has left /proc/crypto. Ends the scenario if the pass (RCFILE appears)
# finished first: then the pull would prove nothing.
pull_card_midpass() {
    _vol=$1 _card=$2 _rcfile=$3
    _moved_or_done() { [ -e "$_rcfile" ] || [ "$(provider_counter "$_vol" kernel payload)" -ge $((pull_at_mib << 20)) ]; }
    wait_until -i 2 300 "the card moved less than $pull_at_mib MiB for $_vol in 300 s" _moved_or_done
    if [ -e "$_rcfile" ]; then
        echo "the pass ended before $pull_at_mib MiB went through the card (make CARD_PULL_VERIFY_MIB bigger)"
        exit 1
    fi
    pulled_after=$(provider_counter "$_vol" kernel payload)
    echo "$_vol: card payload before the pull: $pulled_after bytes"
    vm-signal "pull-$_card"
    vm-wait-host "$_card-pulled" 120
    wait_until 30 "$card_driver still in /proc/crypto after device_del of $_card" card_absent
    echo "$_vol: $_card gone at t=$(uptime_s), card payload then: $(provider_counter "$_vol" kernel payload) bytes"
}

# pass_with_pull VOLUME DEVICE CARD OUT WHAT [FIO-OPTION...]: one seq_fio pass over
# VOLUME's DEVICE into OUT, with CARD pulled part-way (pull_card_midpass); then fio's and
# the volume's figures, for quoting.
pass_with_pull() {
    _pvol=$1 _pdev=$2 _pcard=$3 _pout=$4 _pwhat=$5; shift 5
    rm -f "$_pout.rc"
    _t0=$(uptime_s)
    seq_fio "$_pdev" "$size_mib" "$_pout" "$@" &
    _fio_pid=$!
    pull_card_midpass "$_pvol" "$_pcard" "$_pout.rc"
    wait $_fio_pid
    _t1=$(uptime_s)
    fio_report "$_pout" "$_pwhat"
    echo "$_pwhat: $(mib_per_s "$size_mib" "$_t0" "$_t1") MiB/s over the whole pass"
    volume_report "$_pvol"
}

# volume_report VOLUME: the figures the checks below use, for quoting.
volume_report() {
    ublkcrypt status "$1"
    echo "$1: failovers $(failovers "$1"), device errors $(io_errors "$1")," \
         "card payload $(provider_counter "$1" kernel payload), card errors $(provider_counter "$1" kernel errors)," \
         "software payload $(provider_counter "$1" software payload)"
}
mib_per_s() { awk "BEGIN{printf \"%.1f\", $1 / ($3 - $2)}"; }

wait_until 10 "no $card_driver in /proc/crypto" card_present
step "two LUKS2 aes-cbc-essiv:sha256 volumes of $size_mib MiB (+16 MiB header)"
printf 'card-pull-verify-passphrase' >/tmp/pass
for v in w r; do
    truncate -s $((size_mib + 16))M /tmp/$v.img
    cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
        --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pass /tmp/$v.img
done
# The deadline is what declares the pulled card dead. On a loaded host a live TCG card
# can be slow too; 4 s keeps a slow answer from counting as a dead card.
export UBLKCRYPT_KERNEL_DEADLINE_MS=4000

step "READ pass, part 1: r written end to end through software"
r=$(ublkcrypt open --key-file /tmp/pass --backend software /tmp/r.img r)
t0=$(uptime_s)
seq_fio "$r" "$size_mib" /tmp/fio.r-write --do_verify=0
t1=$(uptime_s)
fio_report /tmp/fio.r-write "r write (software)"
echo "r write (software): $(mib_per_s "$size_mib" "$t0" "$t1") MiB/s"
test "$(cat /tmp/fio.r-write.rc)" = 0
test "$(fio_field /tmp/fio.r-write 5)" = 0
test "$(fio_field /tmp/fio.r-write 47)" = $((size_mib * 1024))
ublkcrypt close r

step "WRITE pass: w on card0, written end to end, card0 pulled part-way"
w=$(ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/w.img w)
ublkcrypt status w | grep -q "provider: *kernel:$card_driver\$"
pass_with_pull w "$w" card0 /tmp/fio.w-write "w write pass" --do_verify=0
check "w write pass: fio saw no error" test "$(cat /tmp/fio.w-write.rc)/$(fio_field /tmp/fio.w-write 5)" = 0/0
check "w write pass: fio wrote all $size_mib MiB" test "$(fio_field /tmp/fio.w-write 47)" = $((size_mib * 1024))
# The pull landed inside the pass: software did part of it.
check "w: the card did not do the whole pass" test "$(provider_counter w kernel payload)" -lt $((size_mib << 20))
check "w: software did part of the pass" test "$(provider_counter w software payload)" -gt 0
check "w: exactly one failover" test "$(failovers w)" = 1
check "w: provider software after the pull" eval 'ublkcrypt status w | grep -q "provider: *software\$"'
check "w: the device returned no error" test "$(io_errors w)" = 0

step "WRITE pass, check: every block of w read back (software) and verified"
t0=$(uptime_s)
seq_fio "$w" "$size_mib" /tmp/fio.w-verify --verify_only
t1=$(uptime_s)
fio_report /tmp/fio.w-verify "w verify pass"
echo "w verify pass: $(mib_per_s "$size_mib" "$t0" "$t1") MiB/s"
check "w verify pass: all $size_mib MiB verified" test "$(fio_field /tmp/fio.w-verify 6)" = $((size_mib * 1024))
check "w verify pass: no verify mismatch" test "$(bad_blocks /tmp/fio.w-verify)" = 0
check "w verify pass: fio saw no error" test "$(cat /tmp/fio.w-verify.rc)/$(fio_field /tmp/fio.w-verify 5)" = 0/0
check "w: the device returned no error" test "$(io_errors w)" = 0
check "w: still one failover" test "$(failovers w)" = 1
echo "card_pull_verify: figures: WRITE pass of $size_mib MiB: card moved $pulled_after bytes" \
     "before the pull, $(provider_counter w kernel payload) in all; failovers $(failovers w);" \
     "device errors $(io_errors w); fio write error $(fio_field /tmp/fio.w-write 5);" \
     "verify: $(fio_field /tmp/fio.w-verify 6) KiB checked, error $(fio_field /tmp/fio.w-verify 5)," \
     "bad blocks $(bad_blocks /tmp/fio.w-verify), first at offset $(first_bad /tmp/fio.w-verify)"
ublkcrypt close w

step "READ pass: card1 plugged in, r opened on it, read back and verified, card1 pulled part-way"
vm-signal plug-card1
vm-wait-host card1-plugged 120
wait_until 60 "$card_driver not in /proc/crypto 60 s after card1's device_add" card_present
r=$(ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/r.img r)
ublkcrypt status r | grep -q "provider: *kernel:$card_driver\$"
pass_with_pull r "$r" card1 /tmp/fio.r-verify "r read verify pass" --verify_only
check "r read pass: all $size_mib MiB verified" test "$(fio_field /tmp/fio.r-verify 6)" = $((size_mib * 1024))
check "r read pass: no verify mismatch" test "$(bad_blocks /tmp/fio.r-verify)" = 0
check "r read pass: fio saw no error" test "$(cat /tmp/fio.r-verify.rc)/$(fio_field /tmp/fio.r-verify 5)" = 0/0
check "r: the card did not do the whole pass" test "$(provider_counter r kernel payload)" -lt $((size_mib << 20))
check "r: software did part of the pass" test "$(provider_counter r software payload)" -gt 0
check "r: exactly one failover" test "$(failovers r)" = 1
check "r: the device returned no error" test "$(io_errors r)" = 0
echo "card_pull_verify: figures: READ pass of $size_mib MiB: card moved $pulled_after bytes" \
     "before the pull, $(provider_counter r kernel payload) in all; failovers $(failovers r);" \
     "device errors $(io_errors r); verify: $(fio_field /tmp/fio.r-verify 6) KiB checked," \
     "error $(fio_field /tmp/fio.r-verify 5), bad blocks $(bad_blocks /tmp/fio.r-verify)," \
     "first at offset $(first_bad /tmp/fio.r-verify)"
if [ "$(bad_blocks /tmp/fio.r-verify)" != 0 ]; then
    # Reads write nothing: a second look through software tells wrong answers from a
    # damaged volume.
    seq_fio "$r" "$size_mib" /tmp/fio.r-again --verify_only
    fio_report /tmp/fio.r-again "r verified again (software)"
fi
ublkcrypt close r

end_checks card_pull_verify
step "all good"
