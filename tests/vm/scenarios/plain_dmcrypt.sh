# plain_dmcrypt.sh (guest, sh -e): plain dm-crypt volumes (issue 18) open in ublkcrypt with
# cryptsetup's options and read the same plaintext, both ways. For the default cipher
# (aes-cbc-essiv:sha256, 256 bits) and aes-xts-plain64 with --key-size 512, each with its
# own non-default --offset, --skip and --size: dm-crypt writes, ublkcrypt reads it back
# byte for byte; ublkcrypt writes, dm-crypt reads it back. Everything on the image outside
# the volume stays as it was. Then a hashed passphrase (the default ripemd160 from a piped
# line, sha256 from --key-file -), recovery of a plain volume with its --skip, and the
# negative controls: the same volume opened with a wrong --skip or --offset reads other data.
step() { echo "== plain_dmcrypt: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

img=/tmp/plain.img
bytes=4194304  # each direction: AES is emulated under TCG, keep it small
sectors=$((bytes / 512))
head -c 16777216 /dev/urandom >$img  # no zeroes: a write in the wrong place shows
cp $img /tmp/orig.img
head -c 64 /dev/urandom >/tmp/plain.key  # 512 bits; a 256-bit key is its first 32 bytes

# unchanged_outside OFFSET: the image outside [OFFSET, OFFSET + volume) is as it was; then
# the image as it is now is the next case's reference.
unchanged_outside() {
    cmp -n $(($1 * 512)) $img /tmp/orig.img
    end=$((($1 + sectors) * 512))
    cmp $img /tmp/orig.img $end $end
    cp $img /tmp/orig.img
}

# roundtrip OFFSET OPTIONS...: dm-crypt -> ublkcrypt -> dm-crypt on $img with
# "--offset OFFSET --size $sectors" plus the options given (cipher, key, --skip). Each of
# the three opens reads its standard input from $keyin (a passphrase line, or nothing).
keyin=/dev/null
roundtrip() {
    offset=$1; shift
    head -c $bytes /dev/urandom >/tmp/a
    head -c $bytes /dev/urandom >/tmp/b
    cryptsetup open -q --type plain --offset "$offset" --size $sectors "$@" $img pdm <"$keyin"
    test "$(blockdev --getsz /dev/mapper/pdm)" = $sectors
    dd if=/tmp/a of=/dev/mapper/pdm bs=1M oflag=direct conv=fsync 2>/dev/null
    cryptsetup close pdm

    dev=$(ublkcrypt open --type plain --offset "$offset" --size $sectors "$@" $img pub <"$keyin")
    test "$(blockdev --getsz "$dev")" = $sectors
    cmp /tmp/a "$dev"
    echo "ublkcrypt reads what dm-crypt wrote"
    dd if=/tmp/b of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
    ublkcrypt close pub

    cryptsetup open -q --type plain --offset "$offset" --size $sectors "$@" $img pdm <"$keyin"
    cmp /tmp/b /dev/mapper/pdm
    echo "dm-crypt reads what ublkcrypt wrote"
    cryptsetup close pdm
    unchanged_outside "$offset"
}

step "defaults (aes-cbc-essiv:sha256, 256 bits), key file, --offset 2048 --skip 77"
roundtrip 2048 --skip 77 --key-file /tmp/plain.key
ublkcrypt open --type plain --offset 2048 --skip 77 --size $sectors --key-file /tmp/plain.key $img pub >/dev/null
ublkcrypt status pub | tee /tmp/status
grep -q '^  type: *plain$' /tmp/status
grep -q '^  cipher: *aes-cbc-essiv:sha256$' /tmp/status
grep -q '^  keysize: *256 bits$' /tmp/status
grep -q '^  offset: *2048 sectors$' /tmp/status
grep -q '^  skipped: *77 sectors$' /tmp/status
grep -q "^  size: *$sectors sectors$" /tmp/status
ublkcrypt close pub

step "negative controls: a wrong --skip or --offset reads other data"
# /tmp/b is what the volume at offset 2048, skip 77 holds now.
for wrong in "--offset 2048 --skip 0" "--offset 2048 --skip 78" "--offset 2056 --skip 77"; do
    # shellcheck disable=SC2086
    dev=$(ublkcrypt open --type plain --readonly $wrong --size $sectors --key-file /tmp/plain.key $img pub)
    if cmp -s /tmp/b "$dev"; then echo "opened with $wrong, the same plaintext: the check is blind"; exit 1; fi
    echo "$wrong: other data, as it should"
    ublkcrypt close pub
done

step "aes-xts-plain64 --key-size 512, key file, --offset 8200 --skip 123456789"
roundtrip 8200 --cipher aes-xts-plain64 --key-size 512 --skip 123456789 --key-file /tmp/plain.key

step "a passphrase hashed with the default ripemd160 (one line on stdin), --skip 5"
printf 'plain passphrase\n' >/tmp/line
keyin=/tmp/line
roundtrip 16 --skip 5
keyin=/dev/null

step "a passphrase hashed with sha256 from --key-file -, aes-xts-plain64 512"
printf 'another passphrase' >/tmp/pp
roundtrip_stdin() {
    head -c $bytes /dev/urandom >/tmp/a
    cryptsetup open -q --type plain --cipher aes-xts-plain64 --key-size 512 --hash sha256 \
        --offset 64 --size $sectors --key-file - $img pdm </tmp/pp
    dd if=/tmp/a of=/dev/mapper/pdm bs=1M oflag=direct conv=fsync 2>/dev/null
    cryptsetup close pdm
    dev=$(ublkcrypt open --type plain --cipher aes-xts-plain64 --key-size 512 --hash sha256 \
        --offset 64 --size $sectors --key-file - $img pub </tmp/pp)
    cmp /tmp/a "$dev"
    ublkcrypt close pub
    # The hash is not decoration: with the default hash the same passphrase is another key.
    dev=$(ublkcrypt open --type plain --cipher aes-xts-plain64 --key-size 512 \
        --offset 64 --size $sectors --key-file - $img pub </tmp/pp)
    if cmp -s /tmp/a "$dev"; then echo "--hash made no difference"; exit 1; fi
    ublkcrypt close pub
    unchanged_outside 64
}
roundtrip_stdin

step "recovery: a plain volume handed over keeps its cipher, --offset and --skip"
head -c $bytes /dev/urandom >/tmp/c
dev=$(ublkcrypt open --type plain --cipher aes-xts-plain64 --key-size 512 --offset 2048 --skip 999 \
    --size $sectors --key-file /tmp/plain.key $img pub)
dd if=/tmp/c of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
old=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/pub.json)
ublkcrypt open --recover pub
new=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/pub.json)
test "$old" != "$new"
grep -q '"type": "plain"' /run/ublkcrypt/pub.json
cmp /tmp/c "$dev"
# Suspend would wipe a key that resume could not give back: refused, and the disk serves on.
rc=0
ublkcrypt suspend pub 2>/tmp/err || rc=$?
cat /tmp/err
test "$rc" = 1
test "$(cat /tmp/err)" = "ublkcrypt: Device pub is a plain volume: suspend needs a LUKS header"
cmp /tmp/c "$dev"
ublkcrypt close pub
cryptsetup open -q --type plain --cipher aes-xts-plain64 --key-size 512 --offset 2048 --skip 999 \
    --size $sectors --key-file /tmp/plain.key $img pdm
cmp /tmp/c /dev/mapper/pdm
cryptsetup close pdm
echo "recovered server served the same plaintext; dm-crypt agrees"

step "a cipher no provider serves: one line naming it, exit 1, nothing left behind"
rc=0
ublkcrypt open --type plain --cipher aes:64-cbc-lmk --key-file /tmp/plain.key $img pub 2>/tmp/err || rc=$?
cat /tmp/err
test "$rc" = 1
test "$(wc -l </tmp/err)" = 1
grep -q 'aes:64-cbc-lmk' /tmp/err
test ! -e /run/ublkcrypt/pub.json
step "all good"
