# crypttab.sh (guest, sh -e): attach-all and detach-all with a crypttab-format file
# (issue 18, boot). Two volumes — LUKS2 on a loop device named by UUID= with a passphrase
# file, plain aes-xts-plain64 512 with a raw key file, offset and skip — and a noauto
# line. attach-all opens the two and not the third; run again it opens nothing; data
# written through ublkcrypt reads back, and after detach-all (last line first) dm-crypt
# opens both backings with the same parameters and reads the same plaintext. A line with
# an unknown option fails with exit 1, one line naming file, line and option, and opens
# nothing.
step() { echo "== crypttab: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
devices() { ls /sys/class/ublk-char 2>/dev/null | wc -l; }

truncate -s 32M /tmp/luks.img  # LUKS2 takes the first 16 MiB
printf 'passphrase-of-luks' >/tmp/luks.pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/luks.pass /tmp/luks.img
loop=$(losetup -f --show /tmp/luks.img)
uuid=$(cryptsetup luksUUID "$loop")
head -c 16777216 /dev/urandom >/tmp/plain.img
head -c 64 /dev/urandom >/tmp/plain.key
truncate -s 16M /tmp/later.img
{
    echo "# name   device          keyfile          options"
    echo "secure   UUID=$uuid  /tmp/luks.pass   luks,discard,tries=3"
    echo
    echo "later    /tmp/later.img  none             luks,noauto"
    echo "scratch  /tmp/plain.img  /tmp/plain.key   plain,cipher=aes-xts-plain64,size=512,offset=2048,skip=8,nofail"
} >/tmp/crypttab
cat /tmp/crypttab

step "attach-all opens both volumes, not the noauto one"
ublkcrypt attach-all --crypttab /tmp/crypttab </dev/null | tee /tmp/out
grep -q '^secure: opened as /dev/ublkb[0-9]*$' /tmp/out
grep -q '^scratch: opened as /dev/ublkb[0-9]*$' /tmp/out
test "$(wc -l </tmp/out)" = 2
test "$(devices)" = 2
test ! -e /run/ublkcrypt/later.json
ublkcrypt status | tee /tmp/status
grep -q "^secure	/dev/ublkb[0-9]*	$loop	aes-xts-plain64	" /tmp/status
grep -q "^scratch	/dev/ublkb[0-9]*	/tmp/plain.img	aes-xts-plain64	" /tmp/status
ublkcrypt status scratch | tee /tmp/status
grep -q "offset: *2048 sectors" /tmp/status

step "a second attach-all is a no-op"
ublkcrypt attach-all --crypttab /tmp/crypttab </dev/null | tee /tmp/out
test "$(cat /tmp/out)" = "secure: already open
scratch: already open"
test "$(devices)" = 2

step "data written reads back"
head -c 2097152 /dev/urandom >/tmp/secure.data
head -c 2097152 /dev/urandom >/tmp/scratch.data
for v in secure scratch; do
    dd if=/tmp/$v.data of=/dev/ublkcrypt/$v bs=1M oflag=direct conv=fsync 2>/dev/null
    dd if=/dev/ublkcrypt/$v bs=1M count=2 iflag=direct 2>/dev/null | cmp - /tmp/$v.data
done

step "detach-all closes both, last line first"
ublkcrypt detach-all --crypttab /tmp/crypttab | tee /tmp/out
test "$(cat /tmp/out)" = "scratch: closed
secure: closed"
test "$(devices)" = 0
ublkcrypt detach-all --crypttab /tmp/crypttab
test "$(ublkcrypt status | wc -l)" = 0

step "dm-crypt reads the same plaintext with the crypttab's parameters"
cryptsetup open --key-file /tmp/luks.pass "$loop" secure_dm
dd if=/dev/mapper/secure_dm bs=1M count=2 iflag=direct 2>/dev/null | cmp - /tmp/secure.data
cryptsetup close secure_dm
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/plain.key \
    --offset 2048 --skip 8 /tmp/plain.img scratch_dm
dd if=/dev/mapper/scratch_dm bs=1M count=2 iflag=direct 2>/dev/null | cmp - /tmp/scratch.data
cryptsetup close scratch_dm
# The negative control: a wrong skip reads other data, so the comparison above can fail.
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/plain.key \
    --offset 2048 --skip 0 /tmp/plain.img scratch_dm
if dd if=/dev/mapper/scratch_dm bs=1M count=2 iflag=direct 2>/dev/null | cmp -s - /tmp/scratch.data; then
    echo "a wrong --skip reads the same data: the check is blind"
    exit 1
fi
cryptsetup close scratch_dm

step "an unknown option: exit 1, one line, nothing opened"
printf 'secure UUID=%s /tmp/luks.pass luks,bogus\n' "$uuid" >/tmp/crypttab.bad
rc=0
ublkcrypt attach-all --crypttab /tmp/crypttab.bad </dev/null >/tmp/out 2>/tmp/err || rc=$?
echo "exit $rc: $(cat /tmp/err)"
test "$rc" = 1
test "$(cat /tmp/err)" = "ublkcrypt: /tmp/crypttab.bad:1: unknown option 'bogus'"
test "$(devices)" = 0
test ! -e /run/ublkcrypt/secure.json
losetup -d "$loop"
step "all good"
