# ublk_sigkill.sh (guest, sh -e): a volume outlives its server (issue 14). fio writes with
# crc32c verify to ext4 on a volume while
#   1. the server is SIGKILLed and `ublkcrypt open --recover vol` (what ublkcrypt@.service
#      reruns) takes over the disk that waited, twice;
#   2. the binary is replaced and `open --recover` makes the running server hand over
#      to the new one (a planned upgrade);
# fio then ends with 0 errors and 0 verify mismatches, the mount never dropped, status
# counts 3 recoveries; SIGUSR1 hands over as the control request does; e2fsck is clean after
# unmount. Then a server left dead past its
# --recovery-timeout: a write waiting on its disk fails with EIO instead of hanging, the
# disk goes, its key leaves the kernel keyring.
# UBLKCRYPT_SIGKILL_OPEN_ARGS adds `open` options (--recovery-timeout 0 is the negative
# control: without user recovery this scenario must fail).
. vm-lib.sh
step() { echo "== ublk_sigkill: $* (t=$(uptime_s))"; }
server_pid() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json; }
mounted() { grep -q ' /mnt/vol ext4 ' /proc/mounts || { echo "FAIL: the mount dropped"; exit 1; }; }
fio_running() { kill -0 "$fio_job" 2>/dev/null || { echo "FAIL: fio ended before $1 (make it longer)"; cat /tmp/fio.out; exit 1; }; }
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' /proc/"$1"/status 2>/dev/null; }

truncate -s 160M /tmp/backing.img
printf 'sigkill-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
# shellcheck disable=SC2086
dev=$(ublkcrypt open ${UBLKCRYPT_SIGKILL_OPEN_ARGS:-} --key-file /tmp/pass /tmp/backing.img vol)
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
ublkcrypt status vol | grep -E 'recovery:'

step "fio verify on ext4; the server dies under it"
# Rate-limited so that the writes span the three takeovers on any machine; then fio reads
# everything back and checks each block's crc32c.
fio --name=verify --filename=/mnt/vol/fio.dat --size=24M --rw=randwrite --bs=4k \
    --ioengine=libaio --iodepth=8 --direct=1 --rate=640k --fsync=64 \
    --verify=crc32c --verify_fatal=1 --do_verify=1 >/tmp/fio.out 2>&1 &
fio_job=$!
for round in 1 2; do
    sleep 4
    fio_running "kill $round"
    pid=$(server_pid)
    echo "SIGKILL server pid $pid"
    kill -9 "$pid"
    wait_until 20 "the server survived SIGKILL" pid_gone "$pid"
    # No server: fio's I/O waits in the block layer, the disk and the mount stay.
    sleep 1
    mounted
    test -b "$dev"
    if ublkcrypt status vol 2>/tmp/status.err; then echo "FAIL: status of a dead server succeeded"; exit 1; fi
    cat /tmp/status.err
    step "recover $round"
    again=$(ublkcrypt open --recover vol)
    test "$again" = "$dev" || { echo "FAIL: recovered as $again, not $dev"; exit 1; }
    test "$(server_pid)" != "$pid"
    mounted
done

step "upgrade: a new binary takes over from the running server"
sleep 4
fio_running "the upgrade"
old=$(server_pid)
cp /usr/local/bin/ublkcrypt /usr/local/bin/ublkcrypt.new
mv /usr/local/bin/ublkcrypt.new /usr/local/bin/ublkcrypt
ls -l /proc/"$old"/exe
again=$(ublkcrypt open --recover vol)
test "$again" = "$dev"
new=$(server_pid)
test "$new" != "$old" || { echo "FAIL: the old server still serves"; exit 1; }
wait_until 20 "the old server did not exit after handing over" pid_gone "$old"
test "$(stat -L -c %i /proc/"$new"/exe)" = "$(stat -c %i /usr/local/bin/ublkcrypt)" ||
    { echo "FAIL: the new server does not run the new binary"; exit 1; }
mounted
grep -E 'handed|recovered|SIGKILL|gone' /run/ublkcrypt/vol.log || true

step "fio ends clean"
rc=0
wait "$fio_job" || rc=$?
cat /tmp/fio.out
test "$rc" = 0 || { echo "FAIL: fio exit $rc"; exit 1; }
grep -q 'err= 0' /tmp/fio.out || { echo "FAIL: fio reported errors"; exit 1; }
fio_verify_clean /tmp/fio.out "fio across the takeovers"
mounted
ublkcrypt status vol
ublkcrypt status vol | grep -q 'recoveries: 3$' || { echo "FAIL: status does not count 3 recoveries"; exit 1; }
test "$(io_errors vol)" = 0
if dmesg | grep -E 'EXT4-fs (error|warning)|I/O error|Buffer I/O'; then echo "FAIL: the kernel saw I/O errors"; exit 1; fi
grep -q 'ublkcrypt:vol' /proc/keys || { echo "FAIL: no key parked for recovery"; exit 1; }

step "SIGUSR1 hands over too (systemctl kill -s USR1 ublkcrypt@vol)"
old=$(server_pid)
kill -USR1 "$old"
wait_until 20 "the server did not exit on SIGUSR1" pid_gone "$old"
grep -q 'SIGUSR1, handing the disk over' /run/ublkcrypt/vol.log
test -b "$dev"
again=$(ublkcrypt open --recover vol)
test "$again" = "$dev"
ublkcrypt status vol | grep -q 'recoveries: 4$' || { echo "FAIL: status does not count 4 recoveries"; exit 1; }
mounted
umount /mnt/vol
e2fsck -fn "$dev"
ublkcrypt close vol
wait_until 10 "the key stayed in the keyring after close" sh -c '! grep -q ublkcrypt:vol /proc/keys'

step "nobody recovers: after --recovery-timeout the waiting I/O fails, nothing hangs"
dev=$(ublkcrypt open --recovery-timeout 3 --key-file /tmp/pass /tmp/backing.img vol)
pid=$(server_pid)
kill -9 "$pid"
wait_until 20 "the server survived SIGKILL" pid_gone "$pid"
t0=$(uptime_s)
if dd if=/dev/zero of="$dev" bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
    echo "FAIL: a write succeeded with no server"; exit 1
fi
t1=$(uptime_s)
cat /tmp/dd.err
echo "the write waited $(awk "BEGIN{print $t1 - $t0}") s"
grep -q 'Input/output error' /tmp/dd.err
awk "BEGIN{exit !($t1 - $t0 >= 1)}" || { echo "FAIL: the write failed at once, it did not wait"; exit 1; }
wait_until 20 "the dead server's ublk device stayed" sh -c '! ls /sys/class/ublk-char/ 2>/dev/null | grep -q .'
wait_until 10 "the dead server's key stayed in the keyring" sh -c '! grep -q ublkcrypt:vol /proc/keys'
test ! -e /run/ublkcrypt/vol.json
grep 'no server for' /run/ublkcrypt/vol.log
if ublkcrypt open --recover vol; then echo "FAIL: recovered a volume that was given up"; exit 1; fi
step "all good"
