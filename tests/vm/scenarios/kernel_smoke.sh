# kernel_smoke.sh (guest scenario, run by /init with sh -e): prove the VM has what the
# device tests need, on the real kernel: ublk control device, dm-crypt via cryptsetup over a
# loop device with ext4 on top, AF_ALG ciphers, fio with verification.
# Data is kept tiny: TCG emulates AES, slowly.

step() { echo "== smoke: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

step "ublk driver"
test -c /dev/ublk-control
grep -qw ublk_drv /proc/modules

step "AF_ALG ciphers in /proc/crypto"
grep -qw algif_skcipher /proc/modules
grep -q '^name *: xts(aes)' /proc/crypto
# essiv(cbc(aes),sha256) is instantiated on first use: checked after dm-crypt used it.
grep -q '^name *: cbc(aes)' /proc/crypto

step "dm-crypt: LUKS2 over loop over tmpfs"
dd if=/dev/zero of=/tmp/backing.img bs=1M count=0 seek=32 2>/dev/null
loop=$(losetup --show -f /tmp/backing.img)
printf 'smoke-test-passphrase' >/tmp/key
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --cipher aes-xts-plain64 --key-size 256 --key-file /tmp/key "$loop"
cryptsetup open --key-file /tmp/key "$loop" smoke
test -b /dev/mapper/smoke
cryptsetup status smoke | grep -q 'cipher:  aes-xts-plain64'

step "ext4 on the dm-crypt device"
mkfs.ext4 -q -F /dev/mapper/smoke
mkdir -p /mnt/smoke
mount -t ext4 /dev/mapper/smoke /mnt/smoke
dd if=/dev/urandom of=/tmp/payload bs=64k count=16 2>/dev/null
cp /tmp/payload /mnt/smoke/payload
umount /mnt/smoke
e2fsck -fn /dev/mapper/smoke
mount -t ext4 -o ro /dev/mapper/smoke /mnt/smoke
cmp /tmp/payload /mnt/smoke/payload
umount /mnt/smoke
cryptsetup close smoke

step "the loop device holds ciphertext, not the plaintext"
offset=$(cryptsetup luksDump "$loop" | awk '/^Data segments:/{d=1} d && $1=="offset:"{print $2; exit}')
test "$offset" -gt 0
cryptsetup open --key-file /tmp/key "$loop" smoke
plain=$(dd if=/dev/mapper/smoke bs=64k count=16 2>/dev/null | sha256sum)
cipher=$(dd if="$loop" bs=64k skip=$((offset / 65536)) count=16 2>/dev/null | sha256sum)
cryptsetup close smoke
test "$plain" != "$cipher"

step "dm-crypt plain mode with aes-cbc-essiv:sha256"
head -c 32 /dev/urandom >/tmp/plainkey  # plain mode reads exactly key-size bytes
cryptsetup open -q --type plain --cipher aes-cbc-essiv:sha256 --key-size 256 \
    --key-file /tmp/plainkey "$loop" smoke_essiv
dd if=/tmp/payload of=/dev/mapper/smoke_essiv bs=64k oflag=direct 2>/dev/null
dd if=/dev/mapper/smoke_essiv bs=64k count=16 iflag=direct 2>/dev/null | cmp - /tmp/payload
cryptsetup close smoke_essiv
grep -q '^name *: essiv(cbc(aes),sha256)' /proc/crypto
losetup -d "$loop"

step "fio verify job on a tmpfs file"
fio --name=smoke --filename=/tmp/fio.img --size=8M --bs=4k --rw=randwrite --ioengine=psync \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --output-format=terse --terse-version=3 \
    >/tmp/fio.out
cut -d';' -f1-5 /tmp/fio.out

step "files out to the host share"
if [ -d /host/out ]; then uname -r >/host/out/kernel-release; fi

if command -v ublkcrypt >/dev/null; then
    step "the project's binary (--bin) and its shared libraries load in the guest"
    ublkcrypt --help >/dev/null
fi

vm-signal smoke-done
step "all good"
