# ublk_two_volumes.sh (guest, sh -e): two volumes open at once with their own keys: data
# does not cross. Plus the bad-input rules: a name in use and a backing in use are busy
# (exit 5), a missing backing is exit 4, a wrong passphrase exit 2 — and none of them
# leaves a ublk device or state behind. A backing held by another server, mapped by
# dm-crypt or mounted is refused (exit 5, one line naming the holder), and while ublkcrypt
# serves a block device, dm-crypt cannot map it.
. vm-lib.sh
step() { echo "== ublk_two_volumes: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

for v in a b; do
    truncate -s 32M /tmp/$v.img
    printf "passphrase-of-$v" >/tmp/$v.pass
    cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file /tmp/$v.pass /tmp/$v.img
    head -c 8388608 /dev/urandom >/tmp/$v.data
done

step "open both, write each its own data"
da=$(ublkcrypt open --key-file /tmp/a.pass /tmp/a.img va)
db=$(ublkcrypt open --key-file /tmp/b.pass /tmp/b.img vb)
echo "va=$da vb=$db"
test "$da" != "$db"
dd if=/tmp/a.data of="$da" bs=1M oflag=direct 2>/dev/null &
dd if=/tmp/b.data of="$db" bs=1M oflag=direct 2>/dev/null &
wait
dd if="$da" bs=1M count=8 iflag=direct 2>/dev/null | cmp - /tmp/a.data
dd if="$db" bs=1M count=8 iflag=direct 2>/dev/null | cmp - /tmp/b.data

step "status without a name lists both; --json carries their names"
ublkcrypt status | tee /tmp/list
grep -q "^va	$da	/tmp/a.img	aes-xts-plain64	" /tmp/list
grep -q "^vb	$db	/tmp/b.img	aes-xts-plain64	" /tmp/list
test "$(wc -l </tmp/list)" = 2
test "$(ublkcrypt status --json | grep -c '"name": "v[ab]"')" = 2

devices() { ls /sys/class/ublk-char 2>/dev/null | wc -l; }
n=$(devices)

step "bad input: nothing half-created"
expect_exit 5 ublkcrypt open --key-file /tmp/a.pass /tmp/a.img va
expect_exit 5 ublkcrypt open --key-file /tmp/a.pass /tmp/a.img other
expect_exit 4 ublkcrypt open --key-file /tmp/a.pass /tmp/missing.img other
expect_exit 4 ublkcrypt close nosuch
expect_exit 4 ublkcrypt status nosuch
expect_exit 1 ublkcrypt status --no-such-option
expect_exit 1 ublkcrypt open /tmp/a.img
test "$(devices)" = "$n"
test ! -e /run/ublkcrypt/other.json
test ! -e /dev/ublkcrypt/other

step "a backing held elsewhere: another server, dm-crypt, a mount (exit 5, holder named)"
expect_exit 5 ublkcrypt open --key-file /tmp/a.pass /tmp/a.img other
grep -q "held by ublkcrypt volume va" /tmp/err
truncate -s 32M /tmp/c.img
printf 'passphrase-of-c' >/tmp/c.pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/c.pass /tmp/c.img
loop=$(losetup -f --show /tmp/c.img)
cryptsetup open --key-file /tmp/c.pass "$loop" cdm
expect_exit 5 ublkcrypt open --key-file /tmp/c.pass "$loop" vc
grep -q "held by dm-crypt device cdm" /tmp/err
cryptsetup close cdm
dc=$(ublkcrypt open --key-file /tmp/c.pass "$loop" vc)
rc=0
cryptsetup open --key-file /tmp/c.pass "$loop" cdm 2>/tmp/err || rc=$?
echo "cryptsetup open of a device ublkcrypt serves: exit $rc: $(cat /tmp/err)"
test "$rc" = 5
ublkcrypt close vc
mkfs.ext4 -q -F "$loop"
mkdir -p /mnt/c
mount "$loop" /mnt/c
expect_exit 5 ublkcrypt open --key-file /tmp/c.pass "$loop" vc
grep -q "mounted on /mnt/c" /tmp/err
umount /mnt/c
losetup -d "$loop"
test "$(devices)" = "$n"

step "a volume in use refuses close"
mkdir -p /mnt/a
mkfs.ext4 -q -F "$da"
mount "$da" /mnt/a
expect_exit 5 ublkcrypt close va
umount /mnt/a

step "swap the keys: each backing only opens with its own (wrong passphrase: exit 2)"
ublkcrypt close va
ublkcrypt close vb
expect_exit 2 ublkcrypt open --key-file /tmp/a.pass /tmp/b.img x
test "$(devices)" = 0
test ! -e /run/ublkcrypt/x.json
db=$(ublkcrypt open --key-file /tmp/b.pass /tmp/b.img vb)
dd if="$db" bs=1M count=8 iflag=direct 2>/dev/null | cmp - /tmp/b.data
if dd if="$db" bs=1M count=8 iflag=direct 2>/dev/null | cmp -s - /tmp/a.data; then
    echo "volume b reads volume a's data"; exit 1
fi
ublkcrypt close vb
test "$(devices)" = 0
step "all good"
