# reencrypt_in_place.sh (guest, sh -e): `ublkcrypt reencrypt` with the header at the start
# of the device, dm-crypt as the oracle (issue 18).
#  1. --encrypt --reduce-device-size: an ext4 filesystem encrypted in place, once in one run
#     and once killed right after the header is placed and finished by cryptsetup; dm-crypt
#     and ublkcrypt mount it.
#  2. --decrypt --header NEW_FILE: volumes either tool encrypted in place, decrypted in
#     place; the filesystem mounts bare.
# Not ALONE, unlike reencrypt.sh: its kills come at pause points, not by the clock.
step() { echo "== reencrypt_in_place: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
printf 'reencrypt-passphrase' >/tmp/pass
mkfifo /tmp/fifo

step "1. an ext4 filesystem in the clear, encrypted in place with the header at the start"
# As an admin encrypts a disk: the filesystem ends 4 MiB before the device does
# (--reduce-device-size 4M); the header takes 2 MiB and the data moves 2 MiB along. Twice:
# once in one run, once killed right after the header is placed and finished by
# cryptsetup. dm-crypt and ublkcrypt then both mount the same files.
truncate -s 16M /tmp/r8.img
loop=$(losetup -f --show /tmp/r8.img)
for finisher in ublkcrypt cryptsetup; do
    mkfs.ext4 -q -F "$loop" 12M
    mkdir -p /mnt/r8
    mount "$loop" /mnt/r8
    head -c 3000000 /dev/urandom >/mnt/r8/file
    sum=$(md5sum </mnt/r8/file)
    umount /mnt/r8
    if [ $finisher = ublkcrypt ]; then
        ublkcrypt reencrypt --encrypt --reduce-device-size 4M $kdf --key-file /tmp/pass "$loop"
    else
        UBLKCRYPT_TEST_PAUSE=encrypt-header-placed:/tmp/fifo ublkcrypt-test reencrypt --encrypt \
            --reduce-device-size 4M $kdf --key-file /tmp/pass "$loop" &
        pid=$!
        timeout 60 cat /tmp/fifo >/dev/null
        kill -9 $pid
        wait $pid || true
        cryptsetup luksDump "$loop" | grep -q online-reencrypt
        cryptsetup reencrypt --resume-only -q --key-file /tmp/pass "$loop"
    fi
    ! cryptsetup luksDump "$loop" | grep -q online-reencrypt
    cryptsetup luksDump "$loop" | grep -q "offset: 2097152 \[bytes\]"
    cryptsetup open --readonly --key-file /tmp/pass "$loop" dm
    fsck.ext4 -n -f /dev/mapper/dm >/dev/null
    mount -o ro /dev/mapper/dm /mnt/r8
    test "$(md5sum </mnt/r8/file)" = "$sum"
    umount /mnt/r8
    cryptsetup close dm
    dev=$(ublkcrypt open --readonly --key-file /tmp/pass "$loop" ue)
    fsck.ext4 -n -f "$dev" >/dev/null
    mount -o ro "$dev" /mnt/r8
    test "$(md5sum </mnt/r8/file)" = "$sum"
    umount /mnt/r8
    ublkcrypt close ue
    dd if=/dev/zero of="$loop" bs=1M count=16 conv=fsync 2>/dev/null
    echo "encrypted in place, finished by $finisher: dm-crypt and ublkcrypt mount the same file"
done

step "2. encrypted in place by either tool, decrypted in place by ublkcrypt"
# --decrypt --header NEW_FILE: the header leaves the device and the filesystem moves back
# to its start, where it mounts with no dm-crypt or ublkcrypt at all.
for encryptor in cryptsetup ublkcrypt; do
    mkfs.ext4 -q -F "$loop" 12M
    mount "$loop" /mnt/r8
    head -c 3000000 /dev/urandom >/mnt/r8/file
    sum=$(md5sum </mnt/r8/file)
    umount /mnt/r8
    quiet=""; [ $encryptor = cryptsetup ] && quiet=-q
    $encryptor reencrypt $quiet --encrypt --reduce-device-size 4M $kdf --key-file /tmp/pass "$loop"
    rm -f /tmp/r8.hdr
    ublkcrypt reencrypt --decrypt --header /tmp/r8.hdr --key-file /tmp/pass "$loop"
    ! cryptsetup isLuks "$loop"
    fsck.ext4 -n -f "$loop" >/dev/null
    mount -o ro "$loop" /mnt/r8
    test "$(md5sum </mnt/r8/file)" = "$sum"
    umount /mnt/r8
    dd if=/dev/zero of="$loop" bs=1M count=16 conv=fsync 2>/dev/null
    echo "encrypted in place by $encryptor, decrypted in place by ublkcrypt: the same file mounts"
done
losetup -d "$loop"
step "done"
