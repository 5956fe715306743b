# vm-lib.sh: shell functions the guest scenarios share. A scenario sources it with
# `. vm-lib.sh` (found on PATH); it runs under dash with -e, like the scenarios.

# wait_until [-i TENTHS] SECONDS MESSAGE COMMAND [ARG...]: runs COMMAND (a program or one
# of the scenario's functions) every TENTHS tenths of a second (default 1) until it
# succeeds. If it has not after SECONDS worth of tries, prints MESSAGE and ends the
# scenario with status 1. Tries are counted, not the clock read: under TCG a slow COMMAND
# then stretches the wait instead of eating it.
wait_until() {
    _wait_tenths=1
    if [ "$1" = -i ]; then _wait_tenths=$2; shift 2; fi
    _wait_tries=$(($1 * 10 / _wait_tenths))
    _wait_message=$2
    shift 2
    while ! "$@"; do
        _wait_tries=$((_wait_tries - 1))
        [ "$_wait_tries" -gt 0 ] || { echo "$_wait_message"; exit 1; }
        sleep "$((_wait_tenths / 10)).$((_wait_tenths % 10))"
    done
}

# expect_exit RC COMMAND [ARG...]: COMMAND fails with exit RC and one line on stderr, which
# is printed (and left in /tmp/err); anything else ends the scenario with status 1.
expect_exit() {
    _want=$1
    shift
    _rc=0
    "$@" >/tmp/out 2>/tmp/err || _rc=$?
    echo "  exit $_rc: $(cat /tmp/err)"
    [ "$_rc" = "$_want" ] || { echo "'$*' exited $_rc, not $_want"; exit 1; }
    [ "$(wc -l </tmp/err)" = 1 ] || { echo "'$*' did not say why in one line"; exit 1; }
}

# The driver the virtio-crypto card (run-vm.sh --crypto-card) registers for cbc(aes), and
# whether it is in /proc/crypto now: it leaves when the host pulls the card (device_del).
card_driver=virtio_crypto_aes_cbc
card_present() { grep -q "^driver *: $card_driver\$" /proc/crypto; }
card_absent() { ! card_present; }

# provider_counter VOLUME PROVIDER FIELD: one of PROVIDER's counters in `ublkcrypt status
# VOLUME`, whose line reads
#   "  NAME:  R requests, P payload bytes, D bytes to device, F from device, E errors (...)";
# FIELD is requests, payload, device or errors.
provider_counter() {
    ublkcrypt status "$1" | sed -n "s/^  $2: *\([0-9]*\) requests, \([0-9]*\) payload bytes, \([0-9]*\) bytes to device, [0-9]* from device, \([0-9]*\) errors.*/\1 \2 \3 \4/p" |
        case $3 in requests) cut -d' ' -f1 ;; payload) cut -d' ' -f2 ;; device) cut -d' ' -f3 ;; errors) cut -d' ' -f4 ;; esac
}

# failovers VOLUME: how many times VOLUME's session failed over, from `ublkcrypt status`.
failovers() { ublkcrypt status "$1" | sed -n 's/^  failovers: *\([0-9]*\).*/\1/p'; }

# served_by_card VOLUME PROVIDER PAYLOAD_BEFORE: the card provider PROVIDER (kernel or
# dpdk) alone served VOLUME since its payload counter read PAYLOAD_BEFORE: that grew, bytes
# went to the card, software served nothing, no errors, no failover. Ends the scenario
# otherwise (sh -e).
served_by_card() {
    _after=$(provider_counter "$1" "$2" payload)
    _to_card=$(provider_counter "$1" "$2" device)
    _sw=$(provider_counter "$1" software payload)
    echo "$2 payload $3 -> $_after, bytes to card $_to_card, software payload $_sw"
    test "$_after" -gt "$3"
    test "$_to_card" -gt 0
    test "$_sw" = 0
    test "$(provider_counter "$1" "$2" errors)" = 0
    test "$(failovers "$1")" = 0
}

# check DESCRIPTION COMMAND [ARG...]: a check that does not end the scenario, so that every
# check runs in one boot; end_checks fails the scenario if any did (they gather in $failed).
check() {
    _check_what=$1; shift
    if "$@"; then echo "ok: $_check_what"; else echo "FAILED: $_check_what"; failed="${failed:-}
  $_check_what"; fi
}

# end_checks NAME: ends a scenario that used check. Wrong data first: a failed check exits 1
# whatever the kernel did (no_oops's exit 3 would let run-vm.sh boot again); otherwise
# no_oops has the last word.
end_checks() {
    if [ -n "${failed:-}" ]; then
        echo "$1 FAILED:$failed"
        exit 1
    fi
    sleep 2  # a stalled CPU shows in dmesg after a moment
    no_oops
}

# uptime_s: seconds since the guest booted (the guest's clock; under TCG the host's runs on).
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# no_oops: ends the scenario with status 1 if the kernel log shows an oops, a BUG or a CPU
# stuck. Pulling a card out can hurt the 6.12 kernel (an operation started on a removed
# card oopses it, freeing a removed card's transform stalls a CPU: see card_watch.h and
# fd_graveyard.h); a scenario that pulls one checks the kernel is whole afterwards.
#
# It exits with status 3, the one failure run-vm.sh may boot again for: the scenario checked
# its data first and found it right, only the kernel broke. Any other failure, wrong data
# included, ends the test on that boot. So a scenario calls no_oops after its data checks.
no_oops() {
    if dmesg | grep -E 'BUG:|Oops:|detected stalls|soft lockup'; then echo "the kernel is hurt"; exit 3; fi
}

# wrong_data MESSAGE: says on the console that the scenario saw wrong data, for a scenario
# that goes on after it (to count every bad case): should the guest then die before its
# exit marker, run-vm.sh reads this line and does not boot it again. The line goes into the
# kernel's log too, at the emergency level that even `dmesg -n 1` lets through: a guest that
# panics right after writing it can lose what its stdout still held for the serial port, but
# a panic prints every kernel log record on the console before it stops.
wrong_data() {
    echo "UBLKCRYPT-VM-WRONG-DATA $*"
    echo "<0>UBLKCRYPT-VM-WRONG-DATA $*" >/dev/kmsg 2>/dev/null || true
}

# fio_verify_clean OUT WHAT: fio's output OUT shows no verify mismatch. A mismatch is wrong
# data: OUT is printed, wrong_data says so, and the scenario ends with status 1.
fio_verify_clean() {
    if grep -qiE 'verify.*(bad|mismatch|fail)' "$1"; then
        cat "$1"
        wrong_data "$2: fio's verify found a block that reads back wrong"
        exit 1
    fi
}

# io_errors VOLUME: the I/O errors VOLUME's block device returned, from `ublkcrypt status`.
io_errors() { ublkcrypt status "$1" | sed -n 's/^  flushes:.*, errors: *\([0-9]*\)$/\1/p'; }
