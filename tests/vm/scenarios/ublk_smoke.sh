# ublk_smoke.sh (guest, sh -e): the smallest proof of the real device — a plain-mode volume
# over a tmpfs file: open prints /dev/ublkbN, data round-trips, the backing holds no
# plaintext, status answers, close removes everything, a backing that shrinks gives I/O
# errors and nothing worse.
step() { echo "== ublk_smoke: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

step "open a plain aes-xts volume"
truncate -s 64M /tmp/backing.img
head -c 64 /dev/urandom >/tmp/raw.key
dev=$(ublkcrypt open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/raw.key --queues 2 \
    /tmp/backing.img smoke)
echo "opened $dev"
test -b "$dev"
test "$(readlink /dev/ublkcrypt/smoke)" = "$dev"
test -f /run/ublkcrypt/smoke.json

step "round trip 4 MiB"
head -c 4194304 /dev/urandom >/tmp/payload
dd if=/tmp/payload of="$dev" bs=1M oflag=direct 2>/dev/null
dd if="$dev" bs=1M count=4 iflag=direct 2>/dev/null | cmp - /tmp/payload
sync
ublkcrypt status smoke
ublkcrypt status --json smoke | grep -q '"writes"'

step "ciphertext on the backing"
if head -c 4194304 /tmp/backing.img | cmp -s - /tmp/payload; then
    echo "the backing holds the plaintext"; exit 1
fi

step "close"
ublkcrypt close smoke
test ! -e "$dev"
test ! -e /dev/ublkcrypt/smoke
test ! -e /run/ublkcrypt/smoke.json
if ublkcrypt close smoke; then echo "close of a closed name succeeded"; exit 1; else rc=$?; fi
test "$rc" = 4

step "reopen: the data is still there"
dev=$(ublkcrypt open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/raw.key /tmp/backing.img smoke)
dd if="$dev" bs=1M count=4 iflag=direct 2>/dev/null | cmp - /tmp/payload

pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/smoke.json)
step "the backing shrinks under the open device: I/O errors past its end, the server lives"
# tmpfs is read through a shared mapping: past the new end that is SIGBUS, which must
# become the engine's short-read error, not the server's death.
truncate -s 2M /tmp/backing.img
if dd if="$dev" of=/dev/null bs=1M skip=8 count=1 iflag=direct 2>/dev/null; then
    echo "a read past the shrunken backing succeeded"; exit 1
fi
dd if="$dev" bs=1M count=1 iflag=direct 2>/dev/null | cmp - /tmp/payload -n 1048576
kill -0 "$pid"
ublkcrypt status smoke | grep -Eq 'errors: [1-9]'

step "SIGTERM is a clean stop: device, state and symlink go away"
kill -TERM "$pid"
t=0
while [ -e /run/ublkcrypt/smoke.json ] || [ -e "$dev" ]; do
    t=$((t + 1)); test $t -lt 100; sleep 0.2
done
test ! -e /dev/ublkcrypt/smoke
test "$(ls /sys/class/ublk-char 2>/dev/null | wc -l)" = 0
grep -q 'signal 15, stopping' /run/ublkcrypt/smoke.log
step "all good"
