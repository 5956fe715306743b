# ublk_no_plaintext.sh (guest, sh -e): a known plaintext pattern written through the
# device never appears in the backing file. The same check on a cipher_null volume (opened
# with the explicit flag) must find it — proof the check can fail.
step() { echo "== ublk_no_plaintext: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

pattern=UBLKCRYPT-KNOWN-PLAINTEXT-PATTERN-0123456789
i=0
: >/tmp/pattern
while [ $i -lt 256 ]; do printf '%s\n' "$pattern" >>/tmp/pattern; i=$((i + 1)); done
# 256 lines of 45 bytes: ~11 KiB; repeated to 8 MiB
j=0
: >/tmp/pattern8m
while [ $j -lt 728 ]; do cat /tmp/pattern >>/tmp/pattern8m; j=$((j + 1)); done

write_pattern() {  # dev
    dd if=/tmp/pattern8m of="$1" bs=1M oflag=direct conv=fsync 2>/dev/null
    test "$(dd if="$1" bs=1M count=8 iflag=direct 2>/dev/null | grep -c "$pattern")" -gt 1000
}

step "aes-xts (LUKS2): the pattern is not in the backing"
truncate -s 32M /tmp/enc.img
printf 'pattern-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/enc.img
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/enc.img enc)
write_pattern "$dev"
ublkcrypt close enc
found=$(grep -c "$pattern" /tmp/enc.img || true)
echo "pattern lines in the encrypted backing: $found"
test "$found" = 0

step "null cipher is refused without the explicit flag"
truncate -s 32M /tmp/null.img
if ublkcrypt open --type plain --cipher cipher_null-ecb /tmp/null.img nul; then
    echo "cipher_null accepted without --allow-null-cipher"; exit 1
else rc=$?; fi
test "$rc" = 1
test ! -e /run/ublkcrypt/nul.json

step "control: cipher_null with the flag leaves the pattern visible"
dev=$(ublkcrypt open --type plain --cipher cipher_null-ecb --allow-null-cipher /tmp/null.img nul)
write_pattern "$dev"
ublkcrypt close nul
found=$(grep -c "$pattern" /tmp/null.img || true)
echo "pattern lines in the null-cipher backing: $found"
test "$found" -gt 1000
step "all good"
