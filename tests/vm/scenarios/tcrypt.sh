# tcrypt.sh (guest, sh -e): TrueCrypt volumes made by tcplay (tests/vm/tcrypt/make-volumes.sh,
# on the host) open in ublkcrypt as cryptsetup opens them (issue 18), with dm-crypt as the
# oracle: the same size, and the same plaintext both ways over the whole volume (dm-crypt
# writes, ublkcrypt reads; ublkcrypt writes, dm-crypt reads). AES with a passphrase, Serpent
# with a passphrase and two keyfiles (also from a crypttab line), a VeraCrypt volume with a
# PIM, a hidden volume and its outer volume, cascades of two and three ciphers (served by
# the kernel provider, each cipher a stage), system encryption on a disk image and on its
# partition (a loop device with partitions); then the refusals: a wrong passphrase, one
# keyfile of two, a missing keyfile.
step() { echo "== tcrypt: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh

# roundtrip IMAGE PASSPHRASE OPTIONS...: the volume through dm-crypt and ublkcrypt, both ways.
roundtrip() {
    img=$1 pass=$2
    shift 2
    printf '%s\n' "$pass" >/tmp/pass
    # shellcheck disable=SC2086
    cryptsetup open -q --type tcrypt "$@" "$img" tdm </tmp/pass
    bytes=$(blockdev --getsize64 /dev/mapper/tdm)
    head -c "$bytes" /dev/urandom >/tmp/a
    head -c "$bytes" /dev/urandom >/tmp/b
    dd if=/tmp/a of=/dev/mapper/tdm bs=1M oflag=direct conv=fsync 2>/dev/null
    cryptsetup close tdm

    dev=$(ublkcrypt open --type tcrypt "$@" "$img" tub </tmp/pass)
    got=$(blockdev --getsize64 "$dev")
    [ "$got" = "$bytes" ] || { echo "ublkcrypt serves $got bytes, dm-crypt $bytes"; exit 1; }
    cmp /tmp/a "$dev" || { wrong_data "ublkcrypt reads other data than dm-crypt wrote on $img"; exit 1; }
    echo "ublkcrypt reads what dm-crypt wrote ($bytes bytes)"
    ublkcrypt status tub >/tmp/status
    grep -q '^  type: *TCRYPT$' /tmp/status || { cat /tmp/status; exit 1; }
    dd if=/tmp/b of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
    ublkcrypt close tub

    cryptsetup open -q --type tcrypt "$@" "$img" tdm </tmp/pass
    cmp /tmp/b /dev/mapper/tdm || { wrong_data "dm-crypt reads other data than ublkcrypt wrote on $img"; exit 1; }
    echo "dm-crypt reads what ublkcrypt wrote"
    cryptsetup close tdm
}

# refused EXIT TEXT IMAGE PASSPHRASE OPTIONS...: ublkcrypt refuses with exit EXIT, one line
# holding TEXT, and serves nothing.
refused() {
    want=$1 text=$2 img=$3 pass=$4
    shift 4
    rc=0
    printf '%s\n' "$pass" | ublkcrypt open --type tcrypt "$@" "$img" tub >/tmp/out 2>&1 || rc=$?
    cat /tmp/out
    [ "$rc" = "$want" ] || { echo "exit $rc, not $want"; exit 1; }
    [ "$(wc -l </tmp/out)" = 1 ] && grep -qF "$text" /tmp/out || { echo "not the one line expected"; exit 1; }
    [ ! -e /dev/ublkcrypt/tub ] || { echo "a refused volume is served"; exit 1; }
}

# The volumes arrive in the initramfs; the data path wants them on tmpfs, as users' files.
cp /data/tcrypt/* /tmp/
step "AES-256-XTS, a passphrase"
roundtrip /tmp/tc-aes.img "tc aes pass"
cat /tmp/status  # ublkcrypt's, while it served the volume
grep -q '^  cipher: *aes-xts-plain64$' /tmp/status
grep -q '^  keysize: *512 bits$' /tmp/status

step "SERPENT-256-XTS, a passphrase and two keyfiles"
roundtrip /tmp/tc-serpent.img "tc serpent pass" --key-file /tmp/tc.keyfile --key-file /tmp/tc2.keyfile

step "the same volume from a crypttab line (attach-all): passphrase file, tcrypt-keyfile="
printf '%s' "tc serpent pass" >/tmp/serpent.pass
echo "tcct /tmp/tc-serpent.img /tmp/serpent.pass tcrypt,tcrypt-keyfile=/tmp/tc.keyfile,tcrypt-keyfile=/tmp/tc2.keyfile" \
    >/tmp/crypttab
ublkcrypt attach-all --crypttab /tmp/crypttab
cmp /tmp/b /dev/ublkcrypt/tcct || { wrong_data "attach-all serves other data than ublkcrypt wrote"; exit 1; }
echo "attach-all serves what ublkcrypt wrote"
ublkcrypt detach-all --crypttab /tmp/crypttab

step "VeraCrypt (--veracrypt --veracrypt-pim 1)"
roundtrip /tmp/vc-aes.img "vc aes pass" --veracrypt --veracrypt-pim 1

step "a hidden volume, then its outer volume"
roundtrip /tmp/tc-hidden.img "tc hidden pass" --tcrypt-hidden
roundtrip /tmp/tc-hidden.img "tc outer pass"

step "cascades: TWOFISH,AES and AES,TWOFISH,SERPENT (cryptsetup stacks a dm-crypt device per cipher)"
roundtrip /tmp/tc-chain.img "tc chain pass"
grep -q '^  cipher: *twofish-aes-xts-plain64$' /tmp/status || { cat /tmp/status; exit 1; }
grep -q '^  keysize: *1024 bits$' /tmp/status
roundtrip /tmp/tc-chain3.img "tc chain3 pass"
cat /tmp/status
grep -q '^  keysize: *1536 bits$' /tmp/status

step "system encryption: a disk image, then its partition (loop -P)"
# The image (as a whole disk): from the encrypted area to the end (cryptsetup 2.6 maps no
# partition instead). The partition: all of it, its IVs counted from the disk's start. Each
# header decrypt first fails with TrueCrypt's usual 2000 RIPEMD160 iterations (system headers
# have 1000): seconds under TCG, so the whole disk as a loop device, the image's case again,
# is left out.
roundtrip /tmp/tc-system.img "tc system pass" --tcrypt-system
loop=$(losetup -f --show -P /tmp/tc-system.img)
wait_until 10 "no partition device ${loop}p1" test -b "${loop}p1"
roundtrip "${loop}p1" "tc system pass" --tcrypt-system
grep -q '^  offset: *0 sectors$' /tmp/status || { cat /tmp/status; exit 1; }
losetup -d "$loop"

step "refusals"
# A wrong passphrase or keyfile tries every KDF and cipher TrueCrypt has (slow under TCG):
# two cases only.
refused 2 "no header decrypts with this passphrase" /tmp/tc-aes.img "not the pass"
refused 2 "no header decrypts with this passphrase and these keyfiles" /tmp/tc-serpent.img "tc serpent pass" \
    --key-file /tmp/tc.keyfile
refused 4 "keyfile /tmp/no.keyfile" /tmp/tc-serpent.img "tc serpent pass" --key-file /tmp/no.keyfile
# Only tcrypt takes several key files, as in cryptsetup.
rc=0
ublkcrypt open --type luks --key-file /tmp/tc.keyfile --key-file /tmp/tc2.keyfile /tmp/tc-aes.img tub \
    >/tmp/out 2>&1 || rc=$?
cat /tmp/out
[ "$rc" = 1 ] && [ "$(cat /tmp/out)" = "ublkcrypt: open: --key-file given 2 times: only --type tcrypt takes several (TrueCrypt keyfiles)" ]
no_oops
step "done"
