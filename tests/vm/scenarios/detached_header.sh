# detached_header.sh (guest, sh -e): detached LUKS headers (--header, issue 18) with dm-crypt
# as the oracle, both ways, LUKS2 and LUKS1. A volume made by `cryptsetup luksFormat --header`
# and written through dm-crypt opens in `ublkcrypt open --header` to the same bytes, and what
# ublkcrypt writes there reads back through `cryptsetup open --header`; a volume `ublkcrypt
# format --header` makes does the same the other way round. The data device holds only data
# (offset 0, no LUKS header on it). The server lets the header go once the volume is open,
# and `open --recover` serves on without it while the state keeps naming it; a crypttab line
# with header= opens it through attach-all.
# Negative controls: the data device opened without --header, a header that is not LUKS and
# another volume's header are each refused in one line with cryptsetup's exit code.
step() { echo "== detached_header: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
size=4194304  # per direction: AES is emulated under TCG, keep it small
sectors=32768 # the 16 MiB data device, all of it: offset 0
img=/tmp/data.img
hdr=/tmp/data.hdr
printf 'detached-passphrase' >/tmp/pass

# fresh: an empty 16 MiB data device and no header file.
fresh() { rm -f $img $hdr; truncate -s 16M $img; }

# only_data: the data device has no LUKS header and no plaintext of FILE at its start.
only_data() {
    if cryptsetup isLuks $img; then echo "a LUKS header on the data device"; exit 1; fi
    if cmp -s -n $size "$1" $img; then echo "plaintext on the data device"; exit 1; fi
}

for type in luks2 luks1; do
    step "cryptsetup luksFormat --type $type --header: dm-crypt -> ublkcrypt -> dm-crypt"
    fresh
    cryptsetup luksFormat -q --type $type $kdf --header $hdr --key-file /tmp/pass $img
    head -c $size /dev/urandom >/tmp/a
    cryptsetup open --header $hdr --key-file /tmp/pass $img dm
    test "$(blockdev --getsz /dev/mapper/dm)" = $sectors
    dd if=/tmp/a of=/dev/mapper/dm bs=1M oflag=direct conv=fsync 2>/dev/null
    cryptsetup close dm
    only_data /tmp/a
    dev=$(ublkcrypt open --header $hdr --key-file /tmp/pass $img hop)
    test "$(blockdev --getsz "$dev")" = $sectors
    cmp -n $size /tmp/a "$dev"
    echo "ublkcrypt reads what dm-crypt wrote"
    head -c $size /dev/urandom >/tmp/b
    dd if=/tmp/b of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
    ublkcrypt close hop
    cryptsetup open --header $hdr --key-file /tmp/pass $img dm
    cmp -n $size /tmp/b /dev/mapper/dm
    cryptsetup close dm
    echo "dm-crypt reads what ublkcrypt wrote"

    step "ublkcrypt format --type $type --header: ublkcrypt -> dm-crypt -> ublkcrypt"
    fresh
    ublkcrypt format -q --type $type $kdf --header $hdr --key-file /tmp/pass $img
    cryptsetup luksDump $hdr | grep -Eq '^(	offset: 0 \[bytes\]|Payload offset:	0)$'
    head -c $size /dev/urandom >/tmp/c
    dev=$(ublkcrypt open --header $hdr --key-file /tmp/pass $img hop)
    test "$(blockdev --getsz "$dev")" = $sectors
    dd if=/tmp/c of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
    ublkcrypt close hop
    only_data /tmp/c
    cryptsetup open --header $hdr --key-file /tmp/pass $img dm
    test "$(blockdev --getsz /dev/mapper/dm)" = $sectors
    cmp -n $size /tmp/c /dev/mapper/dm
    echo "dm-crypt reads what ublkcrypt wrote"
    head -c $size /dev/urandom >/tmp/d
    dd if=/tmp/d of=/dev/mapper/dm bs=1M oflag=direct conv=fsync 2>/dev/null
    cryptsetup close dm
    dev=$(ublkcrypt open --readonly --header $hdr --key-file /tmp/pass $img hop)
    cmp -n $size /tmp/d "$dev"
    ublkcrypt close hop
    echo "ublkcrypt reads what dm-crypt wrote"
done

step "recovery: the header is let go after open; open --recover needs none and keeps naming it"
head -c $size /dev/urandom >/tmp/e
dev=$(ublkcrypt open --header $hdr --key-file /tmp/pass $img hop)
dd if=/tmp/e of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
grep -q "\"header\": \"$hdr\"" /run/ublkcrypt/hop.json
ublkcrypt status hop | grep -q "^  header: *$hdr$"
old=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/hop.json)
# The server holds no descriptor of the header (a stick holding it can be unmounted).
if ls -l /proc/"$old"/fd | grep -q "$hdr"; then echo "the server still holds $hdr"; exit 1; fi
# The header taken away, as a detached header often is once the volume is open.
mv $hdr $hdr.away
ublkcrypt open --recover hop
new=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/hop.json)
test "$old" != "$new"
grep -q "\"header\": \"$hdr\"" /run/ublkcrypt/hop.json
grep -q "\"header_path\": \"$hdr\"" /run/ublkcrypt/hop.json
cmp -n $size /tmp/e "$dev"
# The state goes on naming the header through a second recovery.
ublkcrypt open --recover hop
grep -q "\"header_path\": \"$hdr\"" /run/ublkcrypt/hop.json
cmp -n $size /tmp/e "$dev"
ublkcrypt close hop
mv $hdr.away $hdr
cryptsetup open --header $hdr --key-file /tmp/pass $img dm
cmp -n $size /tmp/e /dev/mapper/dm
cryptsetup close dm
echo "recovered servers served the same plaintext without the header; dm-crypt agrees"

step "crypttab: a header= line opens the volume through attach-all"
printf 'hct %s /tmp/pass luks,header=%s\n' $img $hdr >/tmp/crypttab
ublkcrypt attach-all --crypttab /tmp/crypttab
cmp -n $size /tmp/e /dev/ublkcrypt/hct
ublkcrypt detach-all --crypttab /tmp/crypttab
test ! -e /run/ublkcrypt/hct.json

# refused WHAT RC MESSAGE ARGS...: ublkcrypt open ARGS fails with exit RC and the one line
# MESSAGE, cryptsetup open ARGS with the same exit code, and nothing is left open.
refused() {
    what=$1 want=$2 message=$3
    shift 3
    step "negative control: $what"
    rc=0
    ublkcrypt open --key-file /tmp/pass "$@" hop 2>/tmp/err || rc=$?
    cat /tmp/err
    test "$rc" = "$want"
    test "$(wc -l </tmp/err)" = 1
    test "$(cat /tmp/err)" = "ublkcrypt: $message"
    rc=0
    cryptsetup open --key-file /tmp/pass "$@" dm 2>/dev/null || rc=$?
    test "$rc" = "$want"
    test ! -e /run/ublkcrypt/hop.json
    test ! -e /dev/mapper/dm
}
head -c 1048576 /dev/zero >/tmp/zeros.hdr
truncate -s 16M /tmp/other.img
printf 'another passphrase' >/tmp/other.pass
cryptsetup luksFormat -q $kdf --header /tmp/other.hdr --key-file /tmp/other.pass /tmp/other.img
refused "the data device without --header" 1 \
    "device $img: not a LUKS device (no valid LUKS header found)" $img
refused "a header file that is not LUKS" 1 \
    "header /tmp/zeros.hdr: not a LUKS header (no valid LUKS header found)" --header /tmp/zeros.hdr $img
refused "another volume's header" 2 \
    "wrong passphrase for $img (no key slot matches)" --header /tmp/other.hdr $img
step "all good"
