# resize.sh (guest, sh -e): `ublkcrypt resize` (cryptsetup resize, issue 18) with dm-crypt as
# the oracle, on a loop device as an admin's LV or partition would be.
#  - grow: the file under the loop device grows, `ublkcrypt resize` takes the volume to the
#    backing's end (the loop device learns its new size from it, as from cryptsetup), ext4 is
#    grown with resize2fs and filled past the old end; dm-crypt then maps the same size and
#    reads the same bytes, and e2fsck finds the filesystem clean;
#  - shrink: dm-crypt shrinks the filesystem and `cryptsetup resize --size` the mapping;
#    `ublkcrypt resize --size` gives the same size and the same bytes; the server, killed,
#    is recovered at that size (the recovery copy follows the resize);
#  - refusals: a mounted volume (exit 5), a size beyond the backing or not a multiple of the
#    sector, both sizes at once (exit 1): one line each, and nothing changes.
# Sizes stay small: AES is emulated under TCG.
. vm-lib.sh
step() { echo "== resize: $* (t=$(uptime_s))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
printf 'resize-passphrase' >/tmp/pass
img=/tmp/vol.img
mib=1048576
size_of() { blockdev --getsize64 "$1"; }
digest() { sha256sum <"$1" | cut -d' ' -f1; }
server_pid() { sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json; }
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' /proc/"$1"/status 2>/dev/null; }
same_size() {
    [ "$1" = "$2" ] || { echo "FAIL: $3: $1 bytes, not $2"; exit 1; }
}

step "LUKS2 made by cryptsetup on a loop device (2 MiB header, 8 MiB of data), ext4 by ublkcrypt"
truncate -s 10M $img
cryptsetup luksFormat -q --type luks2 $kdf --offset 4096 --key-file /tmp/pass $img
loop=$(losetup -f --show $img)
dev=$(ublkcrypt open --key-file /tmp/pass "$loop" vol)
same_size "$(size_of "$dev")" $((8 * mib)) "the volume as opened"
mkfs.ext4 -q "$dev"
mkdir -p /mnt/vol
mount "$dev" /mnt/vol
head -c $((2 * mib)) /dev/urandom >/tmp/f1
cp /tmp/f1 /mnt/vol/f1

step "the file grows by 8 MiB; refused: in use, beyond the backing, not a sector multiple, two sizes"
truncate -s 18M $img
before=$(size_of "$dev")
expect_exit 5 ublkcrypt resize vol
grep -q "still in use" /tmp/err
expect_exit 1 ublkcrypt resize vol --device-size 1G
grep -q "beyond the backing" /tmp/err
umount /mnt/vol
expect_exit 1 ublkcrypt resize vol --device-size $((6 * mib + 100))
grep -q "not a multiple of the 4096-byte sector" /tmp/err  # cryptsetup chose 4096-byte sectors
expect_exit 1 ublkcrypt resize vol --size 8192 --device-size 4M
same_size "$(size_of "$dev")" "$before" "the volume after the refusals"
e2fsck -fn "$dev" >/dev/null

step "grow: ublkcrypt resize, resize2fs, files past the old end"
ublkcrypt resize vol
[ "$(readlink -f /dev/ublkcrypt/vol)" = "$dev" ] || { echo "FAIL: resize changed the device"; exit 1; }
same_size "$(size_of "$loop")" $((18 * mib)) "the loop device after the resize"
same_size "$(size_of "$dev")" $((16 * mib)) "the grown volume"
ublkcrypt status vol | grep -E '^ *size: *32768 sectors$' || { echo "FAIL: status shows another size"; exit 1; }
e2fsck -fy "$dev" >/dev/null 2>&1  # resize2fs insists on a fresh check; exit 0: clean
resize2fs "$dev"
mount "$dev" /mnt/vol
head -c $((6 * mib)) /dev/urandom >/tmp/f2
cp /tmp/f2 /mnt/vol/f2  # 8 MiB of files: some lie past the old 8 MiB end
umount /mnt/vol
grown=$(digest "$dev")
ublkcrypt close vol

step "dm-crypt reads the grown volume: same size, same bytes, clean ext4"
cryptsetup open --key-file /tmp/pass "$loop" dm
same_size "$(size_of /dev/mapper/dm)" $((16 * mib)) "dm-crypt's mapping"
[ "$(digest /dev/mapper/dm)" = "$grown" ] || { wrong_data "dm-crypt reads other bytes than ublkcrypt wrote on the grown volume"; exit 1; }
echo "dm-crypt reads what ublkcrypt wrote (16 MiB)"
e2fsck -fy /dev/mapper/dm >/dev/null 2>&1

step "shrink by dm-crypt: resize2fs to 13 MiB, cryptsetup resize --size 26624"
resize2fs /dev/mapper/dm 13M
cryptsetup resize --key-file /tmp/pass --size 26624 dm
same_size "$(size_of /dev/mapper/dm)" $((13 * mib)) "dm-crypt's shrunk mapping"
shrunk=$(digest /dev/mapper/dm)
cryptsetup close dm

step "ublkcrypt resize --size 26624 gives the same volume"
dev=$(ublkcrypt open --key-file /tmp/pass "$loop" vol)
same_size "$(size_of "$dev")" $((16 * mib)) "the volume as opened again"
ublkcrypt resize vol --size 26624
same_size "$(size_of "$dev")" $((13 * mib)) "the shrunk volume"
[ "$(digest "$dev")" = "$shrunk" ] || { wrong_data "ublkcrypt reads other bytes than dm-crypt on the shrunk volume"; exit 1; }
echo "ublkcrypt reads what dm-crypt left (13 MiB)"

step "a recovered server serves the size the resize gave"
pid=$(server_pid)
kill -9 "$pid"
wait_until 20 "the server survived SIGKILL" pid_gone "$pid"
again=$(ublkcrypt open --recover vol)
[ "$again" = "$dev" ] || { echo "FAIL: recovered as $again, not $dev"; exit 1; }
same_size "$(size_of "$dev")" $((13 * mib)) "the recovered volume"
[ "$(digest "$dev")" = "$shrunk" ] || { wrong_data "the recovered volume reads other bytes"; exit 1; }
e2fsck -fn "$dev" >/dev/null
mount -o ro "$dev" /mnt/vol
cmp /tmp/f1 /mnt/vol/f1
cmp /tmp/f2 /mnt/vol/f2
umount /mnt/vol
ublkcrypt close vol
losetup -d "$loop"
echo "resize: ok"
