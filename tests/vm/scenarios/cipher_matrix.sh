# cipher_matrix.sh (guest, sh -e): every cipher string cryptsetup can make here, ublkcrypt
# opens to the same plaintext, both ways (issue 18). For each block cipher (aes, serpent,
# twofish, camellia), chain mode (xts, cbc, lrw, ecb), IV mode (plain, plain64, plain64be,
# essiv:sha256, benbi, null, eboiv; lmk and tcw on cbc, the chain loop-AES and TrueCrypt
# use them with) and key size: cryptsetup makes a LUKS2 volume; dm-crypt
# writes random data, ublkcrypt reads it back byte for byte and writes other data over half
# of it, and dm-crypt reads that back. A combination cryptsetup refuses is counted as "not
# offered by this kernel"; any wrong byte fails the scenario.
#
# Each combination costs seconds under TCG (a format, three opens), so the default
# (MATRIX=ci) runs every IV mode once, on aes-cbc, and every cipher with every chain mode,
# one IV mode and one key size each (the IV generators do not depend on the chain);
# MATRIX=quick every cipher, chain and IV mode, one key size; MATRIX=full every key size
# as well.
. vm-lib.sh
step() { echo "== cipher_matrix: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
small="--luks2-metadata-size 16k --luks2-keyslots-size 256k"
bytes=262144
half=$((bytes / 2))
printf 'matrix-passphrase' >/tmp/pass
img=/tmp/m.img
matrix=${MATRIX:-ci}
ok=0 offered_not=0 wrong=0
: >/tmp/matrix

# case CIPHER KEYBITS: one combination, one line in /tmp/matrix.
# tcw volumes are plain ones: libcryptsetup 2.6.1's cipher check refuses to format a LUKS2
# header with tcw ("Failed to setup dm-crypt key mapping"), for cryptsetup and ublkcrypt
# alike, while dm-crypt opens tcw as a plain volume.
case_of() {
    spec=$1 bits=$2
    rm -f $img; truncate -s 4M $img
    case $spec in
        *-tcw)
            head -c $((bits / 8)) /dev/urandom >/tmp/plain.key
            open_args="--type plain --cipher $spec --key-size $bits --key-file /tmp/plain.key" ;;
        *)
            open_args="--key-file /tmp/pass"
            # lmk cannot encrypt a keyslot (its IV needs a whole 512-byte sector of data): the
            # keyslots get a cipher of their own, as cryptsetup asks, and the sectors stay
            # 512 bytes, which cryptsetup does not pick by itself.
            keyslot=""
            case $spec in
                *-lmk) keyslot="--sector-size 512 --keyslot-cipher aes-xts-plain64 --keyslot-key-size 512" ;;
            esac
            if ! cryptsetup luksFormat -q --type luks2 $kdf $small --cipher "$spec" --key-size "$bits" \
                    $keyslot --key-file /tmp/pass $img 2>/tmp/err; then
                echo "$spec $bits not-offered ($(head -c 80 /tmp/err | tr '\n' ' '))" >>/tmp/matrix
                offered_not=$((offered_not + 1))
                return 0
            fi ;;
    esac
    head -c $bytes /dev/urandom >/tmp/a
    head -c $half /dev/urandom >/tmp/b
    cryptsetup open -q $open_args $img mdm
    dd if=/tmp/a of=/dev/mapper/mdm bs=16k oflag=direct conv=fsync 2>/dev/null
    cryptsetup close mdm

    verdict=""
    dev=$(ublkcrypt open $open_args $img mub)
    cmp -n $bytes /tmp/a "$dev" || verdict="$verdict WRONG-READ"
    dd if=/tmp/b of="$dev" bs=16k seek=$((half / 16384)) oflag=direct conv=fsync 2>/dev/null
    provider=$(ublkcrypt status mub | sed -n 's/^  provider: *//p')
    ublkcrypt close mub

    cryptsetup open -q $open_args $img mdm
    head -c $half /tmp/a | cmp -n $half - /dev/mapper/mdm || verdict="$verdict WRONG-KEPT"
    cmp -n $half /tmp/b /dev/mapper/mdm 0 $half || verdict="$verdict WRONG-WRITE"
    cryptsetup close mdm
    echo "$spec $bits ${verdict:- ok} ($provider)" >>/tmp/matrix
    if [ -z "$verdict" ]; then ok=$((ok + 1)); else wrong=$((wrong + 1)); wrong_data "$spec $bits$verdict"; fi
}

# sizes CHAIN IV: the key sizes to try (bits); the first alone in quick mode.
sizes() {
    case $1-$2 in
        xts-*) all="512 256" ;;
        lrw-*) all="384 256 320" ;;   # cipher key + 128-bit tweak key
        *-tcw) all="512 384 448" ;;   # cipher key + 128-bit IV seed + 128-bit whitening
        *) all="256 128 192" ;;
    esac
    if [ "$matrix" = full ]; then echo $all; else echo ${all%% *}; fi
}

for cipher in aes serpent twofish camellia; do
    step "$cipher"
    for chain in xts cbc lrw ecb; do
        if [ $chain = ecb ]; then ivs="-"; else ivs="plain plain64 plain64be essiv:sha256 benbi null eboiv lmk tcw"; fi
        if [ "$matrix" = ci ]; then
            case $cipher-$chain in
                aes-cbc) ;;                   # every IV mode, on the chain that takes them all
                aes-xts) ivs="plain64 plain" ;;  # the software fast path, and the kernel's
                *-xts) ivs=plain64 ;;
                *-cbc) ivs=essiv:sha256 ;;
                *-lrw) ivs=benbi ;;
            esac
        fi
        for iv in $ivs; do
            [ $iv = eboiv ] && [ $chain != cbc ] && continue  # dm-crypt's eboiv is cbc-only
            case $iv in lmk|tcw) [ $chain = cbc ] || continue ;; esac
            spec=$cipher-$chain; [ "$iv" = - ] || spec=$spec-$iv
            for bits in $(sizes $chain $iv); do case_of $spec $bits; done
        done
    done
done

cat /tmp/matrix
echo "matrix ($matrix): $ok ok, $wrong wrong, $offered_not not offered by this kernel"
for cipher in aes serpent twofish camellia; do
    n=$(grep -c "^$cipher-.* ok " /tmp/matrix || true)
    echo "  $cipher: $n ok"
    # A cipher that ran nowhere proves nothing: the kernel has all four.
    [ "$n" -gt 0 ]
done
[ $wrong -eq 0 ]

# The other way round for lmk, which cannot encrypt a keyslot: ublkcrypt formats (keyslots
# under aes-xts-plain64, as cryptsetup needs --keyslot-cipher for it; 512-byte sectors) and
# writes; cryptsetup opens the header and dm-crypt reads the same bytes.
for case in aes-cbc-lmk:256; do
    spec=${case%:*} bits=${case#*:}
    step "ublkcrypt format $spec $bits, dm-crypt reads"
    rm -f $img; truncate -s 24M $img
    ublkcrypt format -q $kdf --cipher $spec --key-size $bits --key-file /tmp/pass $img
    cryptsetup luksDump $img >/tmp/dump
    grep -q "cipher: $spec" /tmp/dump
    grep -q 'Cipher: *aes-xts-plain64' /tmp/dump
    head -c $bytes /dev/urandom >/tmp/a
    dev=$(ublkcrypt open --key-file /tmp/pass $img mub)
    dd if=/tmp/a of="$dev" bs=16k oflag=direct conv=fsync 2>/dev/null
    ublkcrypt close mub
    cryptsetup open -q --key-file /tmp/pass $img mdm
    cmp -n $bytes /tmp/a /dev/mapper/mdm
    cryptsetup close mdm
done
echo "cipher_matrix: all good"
