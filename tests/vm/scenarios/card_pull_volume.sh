# card_pull_volume.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt, host hook
# card_pull_volume.hook): the card is pulled out (QMP device_del) from under two ublk
# volumes served on it, one of them under fio verify=crc32c.
#   - fio sees zero errors; each volume reports exactly one failover, to software, whose
#     reason names the card's removal, its refused socket or its missed deadline;
#   - `close` of a volume whose card was pulled succeeds (its daemon may leave kernel
#     threads stuck on the dead card behind: they must not hold the device, the state, the
#     symlink or the name), and `open` of the same name works again, data intact;
#   - the card comes back (QMP device_add); `ublkcrypt migrate` moves the volume that
#     failed over back to it: status shows provider kernel again and the card's counters
#     move; a migrate to a driver that does not exist is refused (exit 4, one line with the
#     candidates) and changes nothing.
step() { echo "== card_pull_volume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh

# One fio pass over the first 8 MiB of $1: random 4k writes, then every block read back and
# checked (crc32c). Fixed random sequence (randrepeat), so a later --verify_only pass with
# the same arguments re-checks what this one wrote. Prints the run's error count.
fio_pass() {
    fio --name=pull --filename="$1" --direct=1 --ioengine=libaio --iodepth=16 \
        --rw=randwrite --bs=4k --size=8M --verify=crc32c --do_verify=1 --verify_fatal=1 \
        --randrepeat=1 --output-format=terse --terse-version=3 $2 >"$3" 2>&1 || return 1
    grep -v '^fio:' "$3" | cut -d';' -f5
}

wait_until 10 "no $card_driver in /proc/crypto" card_present

step "two LUKS2 aes-cbc-essiv:sha256 volumes on the card"
printf 'card-pull-passphrase' >/tmp/pass
for v in pull stay; do
    truncate -s 48M /tmp/$v.img
    cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
        --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pass /tmp/$v.img
done
# The deadline is what declares the pulled card dead. On a loaded host a live TCG card
# can be slow too; 4 s keeps a slow answer from counting as a dead card.
export UBLKCRYPT_KERNEL_DEADLINE_MS=4000
pull=$(ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/pull.img pull)
stay=$(ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/stay.img stay)
echo "pull=$pull stay=$stay"
# stay: 4 MiB written through the card before the pull, read back after it.
head -c 4194304 /dev/urandom >/tmp/before
dd if=/tmp/before of="$stay" bs=1M oflag=direct status=none
test "$(provider_counter stay kernel payload)" -gt 0

step "fio verify on pull, in passes until one has started after the card is gone"
rm -f /tmp/stop /tmp/pulled-at
(
    n=0
    while [ ! -e /tmp/stop ]; do
        n=$((n + 1))
        echo "fio pass $n starts at $(uptime_s)"
        if ! errs=$(fio_pass "$pull" "" /tmp/fio.$n.out); then
            wrong_data "fio pass $n FAILED"; cat /tmp/fio.$n.out; echo fail >/tmp/fio.verdict; exit 0
        fi
        echo "fio pass $n ends at $(uptime_s): errors=$errs"
        [ "$errs" = 0 ] || { wrong_data "fio pass $n: $errs errors"; echo fail >/tmp/fio.verdict; exit 0; }
        # Stop after a pass that began once the card was already gone: by then the pass
        # the pull interrupted has finished too.
        [ -e /tmp/pulled-at ] && [ -e /tmp/fio.started-after-pull ] && touch /tmp/stop
        [ -e /tmp/pulled-at ] && touch /tmp/fio.started-after-pull
    done
    echo ok >/tmp/fio.verdict
) &
fio_loop=$!
# Pull once fio is well under way on the card.
moved_2mib_through_card() { [ "$(provider_counter pull kernel payload)" -gt 2097152 ]; }
wait_until -i 2 120 "fio moved no data through the card" moved_2mib_through_card
echo "card payload on pull before the pull: $(provider_counter pull kernel payload)"
vm-signal pull-card
vm-wait-host card-pulled 120
wait_until 30 "$card_driver still in /proc/crypto after device_del" card_absent
uptime_s >/tmp/pulled-at
echo "card gone at $(cat /tmp/pulled-at)"
wait $fio_loop
cat /tmp/fio.verdict
test "$(cat /tmp/fio.verdict)" = ok

step "pull: one failover to software, with the reason"
ublkcrypt status pull
test "$(failovers pull)" = 1
ublkcrypt status pull | grep -q "provider: *software\$"
# The reason: the card's driver left /proc/crypto (the card watch saw it first), the
# kernel refused an operation on the dead card's socket (ESHUTDOWN, when an operation
# reached it between the unplug and the watch's next read), or the operations in flight
# missed the deadline (they never complete on a pulled card).
ublkcrypt status pull | grep "failovers:" |
    grep -Eq "last: kernel:$card_driver -> software: kernel:$card_driver: (driver $card_driver left /proc/crypto \(card removed\)|[a-z]+ of sector [0-9]+: Cannot send after transport endpoint shutdown|no answer within 4000 ms)"
ublkcrypt status pull | grep -q "errors: 0\$"
sha_pull=$(head -c 8388608 "$pull" | sha256sum | cut -d' ' -f1)

step "stay: its next I/O fails over too; data written through the card reads back"
head -c 1048576 /dev/urandom >/tmp/after
dd if=/tmp/after of="$stay" bs=1M seek=4 oflag=direct status=none
dd if="$stay" bs=1M count=4 iflag=direct status=none | cmp - /tmp/before
dd if="$stay" bs=1M skip=4 count=1 iflag=direct status=none | cmp - /tmp/after
ublkcrypt status stay
test "$(failovers stay)" = 1
ublkcrypt status stay | grep -q "provider: *software\$"
# stay was idle when the card went: the watch failed its session before anything was sent
# to the dead card (an operation started there oopses the 6.12 kernel, see card_watch.h).
ublkcrypt status stay | grep "failovers:" | grep -q "driver $card_driver left /proc/crypto (card removed)"
# The kernel must stay healthy: no oops, and no CPU stuck.
no_oops

step "close a volume whose card was pulled, then open the same name again"
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/pull.json)
id=$(sed -n 's/.*"dev_id": *\([0-9]*\).*/\1/p' /run/ublkcrypt/pull.json)
t0=$(uptime_s)
ublkcrypt close pull
echo "close took $(echo "$(uptime_s) $t0" | awk '{printf "%.1f", $1 - $2}') s"
test ! -e /dev/ublkcrypt/pull
test ! -e /run/ublkcrypt/pull.json
test ! -e /run/ublkcrypt/pull.sock
test ! -e "/dev/ublkb$id"
test ! -e "/sys/class/ublk-char/ublkc$id"
# What the old daemon left behind (threads stuck on the dead card, if any): informational.
echo "old daemon $pid: $(grep -E '^(State|Threads)' /proc/$pid/status 2>/dev/null | tr '\n' ' ' || echo gone)"
# The pulled card's driver is gone: asking for it names the candidates, exit 4.
rc=0; ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/pull.img pull \
    2>/tmp/refused || rc=$?
cat /tmp/refused
test $rc = 4
grep -q "kernel:$card_driver: no such driver in /proc/crypto (candidates for" /tmp/refused
pull=$(ublkcrypt open --key-file /tmp/pass /tmp/pull.img pull)
echo "reopened pull as $pull"
test "$(head -c 8388608 "$pull" | sha256sum | cut -d' ' -f1)" = "$sha_pull"
errs=$(fio_pass "$pull" --verify_only /tmp/fio.verify.out) || { cat /tmp/fio.verify.out; exit 1; }
echo "fio verify_only after reopen: errors=$errs"
test "$errs" = 0

step "the card comes back"
vm-signal plug-card
vm-wait-host card-plugged 120
wait_until 60 "$card_driver not back in /proc/crypto 60 s after device_add" card_present
grep -B3 -A6 "^driver *: $card_driver\$" /proc/crypto | grep -E '^(name|driver|module|priority)'

step "migrate stay back to the card"
ublkcrypt migrate stay --backend kernel:$card_driver
ublkcrypt status stay
ublkcrypt status stay | grep -q "provider: *kernel:$card_driver\$"
test "$(failovers stay)" = 1  # a migrate is not a failover
card_before=$(provider_counter stay kernel payload)
dev_before=$(provider_counter stay kernel device)
sw_before=$(provider_counter stay software payload)
head -c 2097152 /dev/urandom >/tmp/back
dd if=/tmp/back of="$stay" bs=1M seek=5 oflag=direct status=none
# Direct reads: the page cache must not answer for the card.
dd if="$stay" bs=1M count=4 iflag=direct status=none | cmp - /tmp/before
dd if="$stay" bs=1M skip=4 count=1 iflag=direct status=none | cmp - /tmp/after
dd if="$stay" bs=1M skip=5 count=2 iflag=direct status=none | cmp - /tmp/back
echo "stay card payload $card_before -> $(provider_counter stay kernel payload)," \
     "bytes to card $dev_before -> $(provider_counter stay kernel device)," \
     "software payload $sw_before -> $(provider_counter stay software payload)"
test "$(provider_counter stay kernel payload)" -ge $((card_before + 2097152 + 7340032))
test "$(provider_counter stay kernel device)" -gt "$dev_before"
test "$(provider_counter stay software payload)" = "$sw_before"

step "migrate the reopened pull onto the card too"
ublkcrypt migrate pull --backend kernel:$card_driver
errs=$(fio_pass "$pull" --verify_only /tmp/fio.verify2.out) || { cat /tmp/fio.verify2.out; exit 1; }
test "$errs" = 0
test "$(provider_counter pull kernel payload)" -gt 0
ublkcrypt status pull | grep -q "provider: *kernel:$card_driver\$"

step "bad input: migrate to a driver or provider that does not exist"
rc=0; ublkcrypt migrate stay --backend kernel:no_such_driver 2>/tmp/bad || rc=$?
cat /tmp/bad
test $rc = 4
test "$(wc -l </tmp/bad)" = 1
grep -q "kernel:no_such_driver: no such driver in /proc/crypto (candidates for .*$card_driver" /tmp/bad
rc=0; ublkcrypt migrate stay --backend nosuch 2>/tmp/bad || rc=$?
cat /tmp/bad
test $rc = 4
grep -q "no such provider (available: " /tmp/bad
ublkcrypt status stay | grep -q "provider: *kernel:$card_driver\$"
test "$(failovers stay)" = 1
dd if="$stay" bs=1M count=4 iflag=direct status=none | cmp - /tmp/before

step "close both"
ublkcrypt close stay
ublkcrypt close pull
test "$(ls /sys/class/ublk-char 2>/dev/null | wc -l)" = 0
# Informational: the helpers keeping the dead card's sockets open (fd_graveyard.h).
ps -o pid,ppid,stat,comm 2>/dev/null | grep ublkcrypt || true
sleep 2  # a stalled CPU shows in dmesg after a moment
no_oops
step "all good"
