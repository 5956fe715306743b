# server_races.sh (guest, sh -e; --bin ublkcrypt ublkcrypt-test): the races and hangs of
# issue 15, each made to happen every run by holding one party at a pause point
# (UBLKCRYPT_TEST_PAUSE=POINT:FIFO, the test build; base/pause_point.h) or at a prompt:
#  reused_id  a dead server's name closed while a new server holds the dead one's ublk id
#             between ADD_DEV and START_DEV (no server pid yet): the new device survives.
#  prompt     an open held at its passphrase (--key-file on a FIFO nobody writes yet):
#             another volume opens meanwhile, well within the open lock's 30 s.
#  swap       the backing's path swapped for a symlink to another LUKS image with the same
#             passphrase between the claim and the header read: the claimed image gets the
#             writes, the other stays byte for byte.
#  held       close of a disk another process holds open: refused at once, exit 5, one line
#             naming the process; the volume still serves; close works once it lets go.
# Each step runs as its own `sh -e` (this script with the step's name), so a run reports
# every step; the scenario fails if one did.
step() { echo "== server_races: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

. vm-lib.sh

printf 'races-passphrase' >/tmp/pass
luks_image() {  # PATH: a fresh 32 MiB LUKS2 image with /tmp/pass
    truncate -s 32M "$1"
    cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file /tmp/pass "$1"
}
server_pid() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/"$1".json; }
lowest_free_id() { n=0; while [ -e /sys/class/ublk-char/ublkc$n ]; do n=$((n + 1)); done; echo $n; }

step_reused_id() {
    luks_image /tmp/r.img
    n=$(lowest_free_id)
    dead=$(sh -c 'echo $$')
    mkdir -p /run/ublkcrypt /dev/ublkcrypt
    printf '{"name":"stale","pid":%s,"dev_id":%s,"device":"/dev/ublkb%s","backing":"/tmp/gone.img"}\n' \
        "$dead" "$n" "$n" >/run/ublkcrypt/stale.json
    : >/run/ublkcrypt/stale.lock
    rm -f /tmp/p-added && mkfifo /tmp/p-added
    UBLKCRYPT_TEST_PAUSE=ublk.added:/tmp/p-added ublkcrypt-test open --key-file /tmp/pass /tmp/r.img vr \
        >/tmp/vr.out 2>&1 &
    opener=$!
    test "$(cat /tmp/p-added)" = ublk.added
    ls /sys/class/ublk-char
    test -e /sys/class/ublk-char/ublkc"$n"
    echo "new server holds ublk id $n before START_DEV; closing 'stale' (dead pid $dead, same id)"
    # Its cleanup waits for the open lock, which the new server holds until its device is
    # up and published: the close must still be waiting while the server is held.
    ublkcrypt close stale >/tmp/close-stale.out 2>&1 &
    closer=$!
    sleep 2
    kill -0 $closer 2>/dev/null || { cat /tmp/close-stale.out; echo "the close did not wait"; }
    echo go >/tmp/p-added
    rc=0
    wait $opener || rc=$?
    cat /tmp/vr.out
    wait $closer
    cat /tmp/close-stale.out
    test "$rc" = 0
    test "$(cat /tmp/vr.out)" = /dev/ublkb"$n"
    head -c 1048576 /dev/urandom >/tmp/r.data
    dd if=/tmp/r.data of=/dev/ublkb"$n" bs=64k oflag=direct 2>/dev/null
    dd if=/dev/ublkb"$n" bs=64k count=16 iflag=direct 2>/dev/null | cmp - /tmp/r.data
    # The server opts out of the OOM killer (tools/serve/oom_score.h).
    test "$(cat /proc/"$(server_pid vr)"/oom_score_adj)" = -1000
    ublkcrypt close vr
}

# A process other than this shell with /tmp/keyfifo open: the held open, at its passphrase.
reading_keyfifo() {
    for f in /proc/[0-9]*/fd/*; do
        case $f in /proc/$$/*) continue ;; esac
        [ "$(readlink "$f" 2>/dev/null)" = /tmp/keyfifo ] && return 0
    done
    return 1
}

step_prompt() {
    luks_image /tmp/w.img
    luks_image /tmp/q.img
    rm -f /tmp/keyfifo && mkfifo /tmp/keyfifo
    # This shell keeps a write end, so the held open's read waits for bytes, not a writer.
    exec 3<>/tmp/keyfifo
    # (3>&-: no other process may hold a write end, or the key file would never end.)
    ublkcrypt open --key-file /tmp/keyfifo /tmp/w.img vw >/tmp/vw.out 2>&1 3>&- &
    waiting=$!
    wait_until 30 "the first open never reached its key file" reading_keyfifo
    echo "open of vw waits at its passphrase; opening vq meanwhile"
    rc=0
    timeout 20 ublkcrypt open --key-file /tmp/pass /tmp/q.img vq >/tmp/vq.out 2>&1 3>&- || rc=$?
    cat /tmp/vq.out
    test "$rc" = 0
    printf 'races-passphrase' >&3
    exec 3>&-
    rc=0
    wait $waiting || rc=$?
    cat /tmp/vw.out
    test "$rc" = 0
    ublkcrypt close vq
    ublkcrypt close vw
}

step_swap() {
    luks_image /tmp/claimed.img
    luks_image /tmp/other.img
    ln -sf /tmp/claimed.img /tmp/disk.img
    other_before=$(md5sum </tmp/other.img)
    rm -f /tmp/p-claimed && mkfifo /tmp/p-claimed
    UBLKCRYPT_TEST_PAUSE=backing.claimed:/tmp/p-claimed ublkcrypt-test open --key-file /tmp/pass /tmp/disk.img vs \
        >/tmp/vs.out 2>&1 &
    opener=$!
    test "$(cat /tmp/p-claimed)" = backing.claimed
    ln -sfn /tmp/other.img /tmp/disk.img
    echo "claimed; /tmp/disk.img now -> $(readlink /tmp/disk.img)"
    echo go >/tmp/p-claimed
    rc=0
    wait $opener || rc=$?
    cat /tmp/vs.out
    test "$rc" = 0
    head -c 4194304 /dev/urandom >/tmp/s.data
    dd if=/tmp/s.data of="$(cat /tmp/vs.out)" bs=1M oflag=direct 2>/dev/null
    ublkcrypt close vs
    test "$(md5sum </tmp/other.img)" = "$other_before" || { echo "FAIL: the writes went to the swapped-in image"; exit 1; }
    cryptsetup open --key-file /tmp/pass /tmp/claimed.img chk
    rc=0
    dd if=/dev/mapper/chk bs=1M count=4 2>/dev/null | cmp - /tmp/s.data || rc=$?
    cryptsetup close chk
    test "$rc" = 0
}

step_held() {
    luks_image /tmp/h.img
    dev=$(ublkcrypt open --key-file /tmp/pass /tmp/h.img vh)
    sleep 1000 <"$dev" &
    holder=$!
    sleep 1
    rc=0
    timeout 30 ublkcrypt close vh 2>/tmp/held.err || rc=$?
    echo "close while held: exit $rc: $(cat /tmp/held.err)"
    test "$rc" = 5
    test "$(wc -l </tmp/held.err)" = 1
    grep -q "Device vh is still in use (held open by process $holder (sleep))" /tmp/held.err
    ublkcrypt status vh | grep -q "is active"
    kill $holder
    wait $holder 2>/dev/null || true
    ublkcrypt close vh
}

if [ -n "${1:-}" ]; then
    "step_$1"
    exit 0
fi
failed=
for s in reused_id prompt swap held; do
    step "$s"
    sh -e "$0" "$s" || { echo "== server_races: step $s FAILED"; failed="$failed $s"; }
done
if [ -n "$failed" ]; then echo "server_races: failed:$failed"; exit 1; fi
step "all good"
