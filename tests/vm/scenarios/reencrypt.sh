# reencrypt.sh (guest, sh -e): `ublkcrypt reencrypt` with dm-crypt as the oracle (issue 18).
#  1. A volume cryptsetup made and dm-crypt wrote, on an image file: reencrypted (new key),
#     dm-crypt and ublkcrypt read the same bytes.
#  2. A volume ublkcrypt made and wrote, on a loop device: reencrypted to
#     aes-cbc-essiv:sha256, dm-crypt reads the same bytes.
#  3. Refused while in use (exit 5, one line): served by ublkcrypt (format too), mapped by dm-crypt.
#  4. Killed (SIGKILL) between hotzones: `ublkcrypt open` refuses the volume and names the
#     command that finishes it. Before the first hotzone, that command finishes it and
#     dm-crypt reads the same bytes; after the last, it refuses (libcryptsetup 2.6 would
#     destroy the data) and dm-crypt still reads the same bytes.
#  5. A run interrupted by ublkcrypt and finished by cryptsetup.
#  6. --encrypt and --decrypt with a detached header, each read back by the other tool.
# In-place encryption and decryption with the header on the device: reencrypt_in_place.sh.
step() { echo "== reencrypt: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
size=4194304  # AES is emulated under TCG: keep the data small (the whole data area)
printf 'reencrypt-passphrase' >/tmp/pass

volume_key() {
    cryptsetup luksDump --dump-volume-key -q --key-file /tmp/pass "$1" | tr -d ' \t\n'
}
# dm_reads DEVICE FILE: dm-crypt reads FILE's bytes at the start of DEVICE's volume.
dm_reads() {
    cryptsetup open --readonly --key-file /tmp/pass "$1" dm
    cmp -n $size "$2" /dev/mapper/dm
    cryptsetup close dm
}
# refused_busy ARGS...: ublkcrypt reencrypt ARGS exits 5 with one line.
refused_busy() {
    rc=0
    ublkcrypt reencrypt --key-file /tmp/pass "$@" 2>/tmp/err || rc=$?
    cat /tmp/err
    test $rc = 5
    test "$(wc -l </tmp/err)" = 1
}

step "1. cryptsetup's volume on an image file, written by dm-crypt"
truncate -s 20M /tmp/r1.img
cryptsetup luksFormat -q --type luks2 $kdf --key-file /tmp/pass /tmp/r1.img
head -c $size /dev/urandom >/tmp/a
cryptsetup open --key-file /tmp/pass /tmp/r1.img dm
dd if=/tmp/a of=/dev/mapper/dm bs=1M oflag=direct conv=fsync 2>/dev/null
cryptsetup close dm
old=$(volume_key /tmp/r1.img)
ublkcrypt reencrypt --key-file /tmp/pass /tmp/r1.img
test "$(volume_key /tmp/r1.img)" != "$old"
dm_reads /tmp/r1.img /tmp/a
dev=$(ublkcrypt open --readonly --key-file /tmp/pass /tmp/r1.img ur)
cmp -n $size /tmp/a "$dev"
ublkcrypt close ur

step "2. ublkcrypt's volume on a loop device, to aes-cbc-essiv:sha256"
truncate -s 20M /tmp/r2.img
loop=$(losetup -f --show /tmp/r2.img)
ublkcrypt format -q $kdf --key-file /tmp/pass "$loop"
head -c $size /dev/urandom >/tmp/b
dev=$(ublkcrypt open --key-file /tmp/pass "$loop" uw)
dd if=/tmp/b of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
ublkcrypt close uw
ublkcrypt reencrypt --key-file /tmp/pass --cipher aes-cbc-essiv:sha256 --key-size 256 "$loop"
cryptsetup luksDump "$loop" | grep -q "cipher: aes-cbc-essiv:sha256"
dm_reads "$loop" /tmp/b

step "3. refused while ublkcrypt serves it or dm-crypt maps it"
dev=$(ublkcrypt open --key-file /tmp/pass "$loop" uw)
refused_busy "$loop"
grep -q "^ublkcrypt: reencrypt: $loop: in use, held by ublkcrypt volume uw (pid" /tmp/err
# format is refused the same way: a new header under a served volume would lose it.
rc=0
ublkcrypt format -q $kdf --key-file /tmp/pass "$loop" 2>/tmp/err || rc=$?
cat /tmp/err
test $rc = 5
grep -q "^ublkcrypt: format: $loop: in use, held by ublkcrypt volume uw (pid" /tmp/err
ublkcrypt close uw
cryptsetup open --key-file /tmp/pass "$loop" dm
refused_busy "$loop"
cryptsetup close dm
dm_reads "$loop" /tmp/b

step "4. killed between hotzones, refused by open, resumed"
# The test build holds at its pause point each time libcryptsetup reports progress: once at
# the start, after each of the four 1 MiB hotzones, and once more before it finalises the
# header. Killed at the 1st (nothing moved yet): resumed. Killed at the 6th (every sector
# moved, the header not finalised), which libcryptsetup 2.6 resumes by reencrypting the
# whole device again from the old key: ublkcrypt refuses, and dm-crypt (which maps the
# segments as the header has them) still reads the same bytes.
mkfifo /tmp/fifo
for n in 1 6; do
    old=$(volume_key "$loop")
    UBLKCRYPT_TEST_PAUSE=reencrypt-hotzone:/tmp/fifo ublkcrypt-test reencrypt \
        --key-file /tmp/pass --hotzone-size 1048576 "$loop" 2>/dev/null &
    pid=$!
    i=0
    while timeout 60 cat /tmp/fifo >/dev/null; i=$((i + 1)); [ $i -lt $n ]; do
        echo go >/tmp/fifo
    done
    kill -9 $pid
    wait $pid || true
    cryptsetup luksDump "$loop" | grep -q online-reencrypt
    rc=0
    ublkcrypt open --key-file /tmp/pass "$loop" uw 2>/tmp/err || rc=$?
    cat /tmp/err
    test $rc = 1
    grep -q "finish it with ublkcrypt reencrypt --resume-only $loop" /tmp/err
    rc=0
    ublkcrypt reencrypt --resume-only --key-file /tmp/pass "$loop" 2>/tmp/err || rc=$?
    if [ $n = 6 ]; then
        cat /tmp/err
        test $rc = 1
        grep -q "every sector is already under the new key but the header was not finalised" /tmp/err
        dm_reads "$loop" /tmp/b
        echo "killed at pause $n: not resumed, dm-crypt reads the same bytes"
        continue
    fi
    test $rc = 0
    ! cryptsetup luksDump "$loop" | grep -q online-reencrypt
    test "$(volume_key "$loop")" != "$old"
    dm_reads "$loop" /tmp/b
    echo "killed at pause $n: resumed, dm-crypt reads the same bytes"
done

step "5. interrupted by ublkcrypt, finished by cryptsetup"
ublkcrypt format -q $kdf --key-file /tmp/pass "$loop"
dev=$(ublkcrypt open --key-file /tmp/pass "$loop" uw)
dd if=/tmp/b of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
ublkcrypt close uw
UBLKCRYPT_TEST_PAUSE=reencrypt-hotzone:/tmp/fifo ublkcrypt-test reencrypt \
    --key-file /tmp/pass --hotzone-size 1048576 "$loop" &
pid=$!
timeout 60 cat /tmp/fifo >/dev/null  # held after its first hotzone
kill -9 $pid
wait $pid || true
cryptsetup luksDump "$loop" | grep -q online-reencrypt
cryptsetup reencrypt --resume-only -q --key-file /tmp/pass "$loop"
! cryptsetup luksDump "$loop" | grep -q online-reencrypt
dm_reads "$loop" /tmp/b
losetup -d "$loop"

step "6. --encrypt and --decrypt with a detached header, against cryptsetup's"
# Data in the clear encrypted by ublkcrypt: dm-crypt reads it through the header; then
# decrypted by ublkcrypt back to the same bytes.
head -c $size /dev/urandom >/tmp/c
truncate -s $size /tmp/r6.img
cp /tmp/c /tmp/r6.img
ublkcrypt reencrypt --encrypt --header /tmp/r6.hdr $kdf --key-file /tmp/pass /tmp/r6.img
! cmp -s /tmp/c /tmp/r6.img
cryptsetup open --readonly --header /tmp/r6.hdr --key-file /tmp/pass /tmp/r6.img dm
cmp /tmp/c /dev/mapper/dm
cryptsetup close dm
ublkcrypt reencrypt --decrypt --header /tmp/r6.hdr --key-file /tmp/pass /tmp/r6.img
cmp /tmp/c /tmp/r6.img
# And the other way: cryptsetup encrypts, ublkcrypt serves and decrypts.
cryptsetup reencrypt --encrypt -q --header /tmp/r7.hdr $kdf --key-file /tmp/pass /tmp/r6.img
! cmp -s /tmp/c /tmp/r6.img
dev=$(ublkcrypt open --readonly --header /tmp/r7.hdr --key-file /tmp/pass /tmp/r6.img ue)
cmp /tmp/c "$dev"
ublkcrypt close ue
ublkcrypt reencrypt --decrypt --header /tmp/r7.hdr --key-file /tmp/pass /tmp/r6.img
cmp /tmp/c /tmp/r6.img

step "done"
