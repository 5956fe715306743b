# ublk_handover.sh (guest, sh -e): takeovers, many in a row, under a busy filesystem. fio
# writes with crc32c verify to ext4 on a volume while the disk changes server
# UBLKCRYPT_HANDOVERS times (default 12), in turn: the control request (`open --recover`
# while the server runs), SIGUSR1 then `open --recover`, SIGKILL then `open --recover`. Each
# takeover must end within 60 s; fio then ends with 0 errors and 0 verify mismatches, the
# mount never dropped, status counts every takeover and e2fsck is clean. A hand-over that
# leaves a request the kernel never requeues hangs the next server's recovery: the
# scenario then dumps the kernel's blocked tasks and fails naming the round.
. vm-lib.sh
rounds=${UBLKCRYPT_HANDOVERS:-12}
step() { echo "== ublk_handover: $* (t=$(uptime_s))"; }
server_pid() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json; }
mounted() { grep -q ' /mnt/vol ext4 ' /proc/mounts || { echo "FAIL: the mount dropped"; exit 1; }; }
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' /proc/"$1"/status 2>/dev/null; }
hung() {
    echo "FAIL: $1"
    cat /sys/block/ublkb0/inflight || true
    echo 8 >/proc/sys/kernel/printk
    echo w >/proc/sysrq-trigger
    sleep 2
    exit 1
}
recover() {
    timeout 60 ublkcrypt open --recover vol >/tmp/recover.out 2>/tmp/recover.err ||
        hung "round $1: open --recover failed or did not end within 60 s: $(cat /tmp/recover.err)"
    test "$(cat /tmp/recover.out)" = "$dev" || { echo "FAIL: round $1 recovered as $(cat /tmp/recover.out)"; exit 1; }
}

truncate -s 160M /tmp/backing.img
printf 'handover-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/backing.img vol)
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol

step "fio verify on ext4; $rounds takeovers under it"
fio --name=verify --filename=/mnt/vol/fio.dat --size=16M --rw=randwrite --bs=4k \
    --ioengine=libaio --iodepth=16 --direct=1 --rate=1m --fsync=32 --time_based --runtime=600 \
    --verify=crc32c --verify_fatal=1 --do_verify=0 >/tmp/fio.out 2>&1 &
fio_job=$!
sleep 3
round=1
while [ "$round" -le "$rounds" ]; do
    kill -0 "$fio_job" 2>/dev/null || { echo "FAIL: fio ended early"; cat /tmp/fio.out; exit 1; }
    old=$(server_pid)
    case $((round % 3)) in
    1)  step "round $round: open --recover asks server $old to hand over"
        recover "$round" ;;
    2)  step "round $round: SIGUSR1 to server $old, then open --recover"
        kill -USR1 "$old"
        wait_until 60 "FAIL: round $round: server $old did not exit on SIGUSR1" pid_gone "$old"
        recover "$round" ;;
    0)  step "round $round: SIGKILL to server $old, then open --recover"
        kill -9 "$old"
        wait_until 60 "FAIL: round $round: server $old survived SIGKILL" pid_gone "$old"
        recover "$round" ;;
    esac
    wait_until 30 "FAIL: round $round: the old server $old did not exit" pid_gone "$old"
    test "$(server_pid)" != "$old" || { echo "FAIL: round $round: the old server still serves"; exit 1; }
    mounted
    sleep 1
    round=$((round + 1))
done

step "fio stops; every block written reads back"
kill -INT "$fio_job"
rc=0
wait "$fio_job" || rc=$?
cat /tmp/fio.out
# fio ends with 128 after the SIGINT that stops it; anything else is its own failure.
test "$rc" = 0 || test "$rc" = 128 || { echo "FAIL: fio exit $rc"; exit 1; }
grep -q 'err= 0' /tmp/fio.out || { echo "FAIL: fio reported errors"; exit 1; }
fio --name=verify --filename=/mnt/vol/fio.dat --size=16M --rw=randwrite --bs=4k \
    --ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c --verify_fatal=1 \
    --verify_only=1 >/tmp/verify.out 2>&1 || { cat /tmp/verify.out; echo "FAIL: verify"; exit 1; }
fio_verify_clean /tmp/verify.out "the verify pass after the handovers"
ublkcrypt status vol | grep -q "recoveries: $rounds\$" || { ublkcrypt status vol; echo "FAIL: status does not count $rounds recoveries"; exit 1; }
test "$(io_errors vol)" = 0
if dmesg | grep -E 'EXT4-fs (error|warning)|I/O error|Buffer I/O'; then echo "FAIL: the kernel saw I/O errors"; exit 1; fi
umount /mnt/vol
e2fsck -fn "$dev"
ublkcrypt close vol
step "all good"
