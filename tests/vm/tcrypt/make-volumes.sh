#!/bin/bash
# make-volumes.sh OUTDIR: TrueCrypt volumes made by tcplay (Debian 12's), for vm_tcrypt
# (issue 18): the test's volumes are made here, by the tool users make them with, not kept
# as files. Run as root on the host: tcplay writes through a loop device, and asks for its
# passphrases on a terminal, which script(1) gives it (each answer is typed after its prompt:
# tcplay drops what was typed before it asks).
#   tc-aes.img        AES-256-XTS, PBKDF2-RIPEMD160, passphrase "tc aes pass"
#   tc-serpent.img    SERPENT-256-XTS, PBKDF2-RIPEMD160, passphrase "tc serpent pass" and
#                     two keyfiles, tc.keyfile and tc2.keyfile
#   tc-chain.img      TWOFISH-256-XTS,AES-256-XTS (a cascade), passphrase "tc chain pass"
#   tc-chain3.img     AES-256-XTS,TWOFISH-256-XTS,SERPENT-256-XTS (three), "tc chain3 pass"
#   tc-hidden.img     an AES outer volume ("tc outer pass") holding a 1 MiB hidden volume
#                     ("tc hidden pass")
#   vc-aes.img        a VeraCrypt AES-256-XTS volume, PBKDF2-SHA512 with PIM 1, passphrase
#                     "vc aes pass" (make-veracrypt.py: no Debian package makes these)
#   tc-system.img     a disk image with one partition under TrueCrypt system encryption,
#                     AES-256-XTS, passphrase "tc system pass" (make-truecrypt-system.py:
#                     tcplay maps system volumes but does not make them)
# All with TrueCrypt's first PBKDF2 hash, RIPEMD160: libcryptsetup tries the hashes in turn,
# each slow under TCG.
set -euo pipefail
out=${1:?usage: make-volumes.sh OUTDIR}
mkdir -p "$out"
# This fixture may run before any scenario has had run-vm.sh install the harness's packages.
"$(dirname "$0")/../deps.sh" >&2 || exit 1
command -v tcplay >/dev/null || PATH=$PATH:/usr/sbin

# create IMAGE ANSWERS TCPLAY-OPTIONS...: a 2 MiB image with a volume made by tcplay -c,
# typing ANSWERS (one per line) one second apart.
create() {
    local img=$1 answers=$2 loop
    shift 2
    rm -f "$img"
    truncate -s 2M "$img"
    loop=$(losetup -f --show "$img")
    local rc=0
    { sleep 1; while IFS= read -r line; do printf '%s\n' "$line"; sleep 1; done <<<"$answers"; sleep 2; } |
        timeout 120 script -q -e -c "tcplay -c -d $loop --insecure-erase $*" /dev/null >"$img.log" 2>&1 || rc=$?
    losetup -d "$loop"
    if [ $rc != 0 ] || ! grep -q 'All done' "$img.log"; then
        echo "make-volumes: tcplay could not make $img (exit $rc):" >&2; cat "$img.log" >&2; exit 1
    fi
    echo "made $img with tcplay $*"
}

head -c 64 /dev/urandom >"$out/tc.keyfile"
head -c 100 /dev/urandom >"$out/tc2.keyfile"
create "$out/tc-aes.img" $'tc aes pass\ntc aes pass\ny' -a RIPEMD160 -b AES-256-XTS
create "$out/tc-serpent.img" $'tc serpent pass\ntc serpent pass\ny' -a RIPEMD160 -b SERPENT-256-XTS \
    -k "$out/tc.keyfile" -k "$out/tc2.keyfile"
create "$out/tc-chain.img" $'tc chain pass\ntc chain pass\ny' -a RIPEMD160 -b TWOFISH-256-XTS,AES-256-XTS
create "$out/tc-chain3.img" $'tc chain3 pass\ntc chain3 pass\ny' -a RIPEMD160 \
    -b AES-256-XTS,TWOFISH-256-XTS,SERPENT-256-XTS
create "$out/tc-hidden.img" $'tc outer pass\ntc outer pass\ntc hidden pass\ntc hidden pass\n1M\ny' \
    -a RIPEMD160 -b AES-256-XTS -g
python3 "$(dirname "$0")/make-veracrypt.py" "$out/vc-aes.img" "vc aes pass" 1
echo "made $out/vc-aes.img with make-veracrypt.py"
python3 "$(dirname "$0")/make-truecrypt-system.py" "$out/tc-system.img" "tc system pass"
echo "made $out/tc-system.img with make-truecrypt-system.py"
