# cipher_matrix.sh (guest, sh -e): every cipher string cryptsetup can make here, ublkcrypt
# opens to the same plaintext, both ways (issue 18). For each block cipher (aes, serpent,
# twofish, camellia), chain mode (xts, cbc, lrw, ecb), IV mode (plain, plain64, plain64be,
# essiv:sha256, benbi, null, eboiv; lmk and tcw on cbc, the chain loop-AES and TrueCrypt
# use them with) and key size: cryptsetup makes a volume and dm-crypt writes random data to
# it; ublkcrypt reads it back byte for byte and writes other data over half of it, and
# dm-crypt reads that back. A combination cryptsetup refuses is counted as "not offered by
# this kernel"; any wrong byte fails the scenario.
# Each volume's dm-crypt mapping, made by cryptsetup, stays open while ublkcrypt serves the
# same image file (dm-crypt idle meanwhile, its reads O_DIRECT, so no page cache of its own
# answers them): under TCG a cryptsetup open and close are most of a combination's time,
# and they came twice.
#
# The volumes are LUKS2 for a subset that names every IV mode once (on aes-cbc) and every
# cipher with every chain mode, and plain dm-crypt volumes (cryptsetup open --type plain,
# the same dm-crypt target without a header) for the rest: a LUKS2 format and its opens cost
# seconds under TCG, and the header adds nothing to what the cipher and IV computations are
# checked against. ublkcrypt opens each batch of volumes with one attach-all (one process
# start for the batch) and closes them with one detach-all.
# MATRIX=full (the default, and CI's): every cipher, chain and IV mode with every key size;
# MATRIX=quick: one key size each (minutes less under TCG: docs/measurements.md);
# MATRIX=ci: the LUKS2 subset alone.
. vm-lib.sh
step() { echo "== cipher_matrix: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
small="--luks2-metadata-size 16k --luks2-keyslots-size 256k"
bytes=65536  # 128 sectors of 512 bytes, 16 of 4096: every IV step; more only costs TCG time
half=$((bytes / 2))
printf 'matrix-passphrase' >/tmp/pass
img=/tmp/m.img
matrix=${MATRIX:-full}
batch=${MATRIX_BATCH:-16}
ok=0 offered_not=0 wrong=0
: >/tmp/matrix
mkdir -p /tmp/m

# prepare I SPEC KEYBITS FORM: cryptsetup makes volume I (/tmp/m/I.img), LUKS2 or plain
# (FORM), and maps it (mdmI, left open); dm-crypt writes random data to it; its crypttab
# line joins /tmp/m/crypttab.
# A combination cryptsetup refuses is counted as "not offered by this kernel" and goes no
# further.
# tcw volumes are plain ones: libcryptsetup 2.6.1's cipher check refuses to format a LUKS2
# header with tcw ("Failed to setup dm-crypt key mapping"), for cryptsetup and ublkcrypt
# alike, while dm-crypt opens tcw as a plain volume.
not_offered() {
    echo "$spec $bits $form not-offered ($(head -c 80 /tmp/err | tr '\n' ' '))" >>/tmp/matrix
    offered_not=$((offered_not + 1))
    rm -f $vol /tmp/m/$i.key
}
prepare() {
    i=$1 spec=$2 bits=$3 form=$4 vol=/tmp/m/$1.img
    case $spec in *-tcw) form=plain ;; esac
    truncate -s 4M $vol
    case $form in
        plain)
            head -c $((bits / 8)) /dev/urandom >/tmp/m/$i.key
            open_args="--type plain --cipher $spec --key-size $bits --key-file /tmp/m/$i.key"
            line="m$i $vol /tmp/m/$i.key plain,cipher=$spec,size=$bits" ;;
        *)
            open_args="--key-file /tmp/pass"
            line="m$i $vol /tmp/pass luks"
            # lmk cannot encrypt a keyslot (its IV needs a whole 512-byte sector of data): the
            # keyslots get a cipher of their own, as cryptsetup asks, and the sectors stay
            # 512 bytes, which cryptsetup does not pick by itself.
            keyslot=""
            case $spec in
                *-lmk) keyslot="--sector-size 512 --keyslot-cipher aes-xts-plain64 --keyslot-key-size 512" ;;
            esac
            if ! cryptsetup luksFormat -q --type luks2 $kdf $small --cipher "$spec" --key-size "$bits" \
                    $keyslot --key-file /tmp/pass $vol 2>/tmp/err; then
                not_offered
                return 0
            fi ;;
    esac
    if ! cryptsetup open -q $open_args $vol mdm$i 2>/tmp/err; then
        not_offered
        return 0
    fi
    echo "$spec $bits $form" >/tmp/m/$i.spec
    head -c $bytes /dev/urandom >/tmp/m/$i.a
    head -c $half /dev/urandom >/tmp/m/$i.b
    dd if=/tmp/m/$i.a of=/dev/mapper/mdm$i bs=16k oflag=direct conv=fsync 2>/dev/null
    echo "$line" >>/tmp/m/crypttab
}

# run_batch: ublkcrypt opens every prepared volume at once (attach-all: one process start
# for all of them), reads each back byte for byte and writes other data over half of it,
# closes them all; then dm-crypt reads each back through its mapping, which it then closes.
# One line per combination in /tmp/matrix.
run_batch() {
    [ -s /tmp/m/crypttab ] || return 0
    step "batch of $(wc -l </tmp/m/crypttab) prepared by cryptsetup"
    ublkcrypt attach-all --crypttab /tmp/m/crypttab >/dev/null
    step "batch opened by ublkcrypt"
    ublkcrypt status >/tmp/m/status
    # Shell built-ins where a loop turn would otherwise start a process: each start costs
    # tens of milliseconds under TCG.
    while read -r name dev _ _ provider _; do
        i=${name#m}
        [ -f /tmp/m/$i.spec ] || continue
        verdict=""
        cmp -n $bytes /tmp/m/$i.a "$dev" || verdict="$verdict WRONG-READ"
        dd if=/tmp/m/$i.b of="$dev" bs=16k seek=$((half / 16384)) oflag=direct conv=fsync 2>/dev/null
        echo "$provider$verdict" >/tmp/m/$i.served
    done </tmp/m/status
    step "batch read and written by ublkcrypt"
    ublkcrypt detach-all --crypttab /tmp/m/crypttab >/dev/null
    step "batch closed by ublkcrypt"
    maps=""
    for spec_file in /tmp/m/*.spec; do
        i=$(basename $spec_file .spec)
        read -r provider verdict </tmp/m/$i.served || { provider="?"; verdict=" NOT-SERVED"; }
        dd if=/dev/mapper/mdm$i of=/tmp/m/$i.dm bs=16k count=$((bytes / 16384)) iflag=direct 2>/dev/null
        maps="$maps mdm$i"
        cmp -n $half /tmp/m/$i.a /tmp/m/$i.dm || verdict="$verdict WRONG-KEPT"
        cmp -n $half /tmp/m/$i.b /tmp/m/$i.dm 0 $half || verdict="$verdict WRONG-WRITE"
        read -r spec_line <$spec_file
        echo "$spec_line ${verdict:- ok} ($provider)" >>/tmp/matrix
        if [ -z "$verdict" ]; then ok=$((ok + 1)); else wrong=$((wrong + 1)); wrong_data "$spec_line $verdict"; fi
    done
    # One removal for the batch's mappings (their loop devices go with them, as after
    # cryptsetup close).
    dmsetup remove $maps
    rm -rf /tmp/m
    mkdir -p /tmp/m
}
# sizes CHAIN IV: the key sizes to try (bits); the first alone in quick mode.
sizes() {
    case $1-$2 in
        xts-*) all="512 256 384" ;;   # two keys of the cipher's 256, 128 or 192 bits
        lrw-*) all="384 256 320" ;;   # cipher key + 128-bit tweak key
        *-tcw) all="512 384 448" ;;   # cipher key + 128-bit IV seed + 128-bit whitening
        *) all="256 128 192" ;;
    esac
    if [ "$matrix" = full ]; then echo $all; else echo ${all%% *}; fi
}

n=0
for cipher in aes serpent twofish camellia; do
    step "$cipher"
    for chain in xts cbc lrw ecb; do
        if [ $chain = ecb ]; then ivs="-"; else ivs="plain plain64 plain64be essiv:sha256 benbi null eboiv lmk tcw"; fi
        # The LUKS2 subset: every IV mode once, on aes-cbc, and every cipher with every
        # chain mode, one IV mode and one key size each.
        luks_ivs=$ivs
        case $cipher-$chain in
            aes-cbc) ;;                   # every IV mode, on the chain that takes them all
            aes-xts) luks_ivs="plain64 plain" ;;  # the software fast path, and the kernel's
            *-xts) luks_ivs=plain64 ;;
            *-cbc) luks_ivs=essiv:sha256 ;;
            *-lrw) luks_ivs=benbi ;;
        esac
        [ "$matrix" = ci ] && ivs=$luks_ivs
        for iv in $ivs; do
            [ $iv = eboiv ] && [ $chain != cbc ] && continue  # dm-crypt's eboiv is cbc-only
            case $iv in lmk|tcw) [ $chain = cbc ] || continue ;; esac
            spec=$cipher-$chain; [ "$iv" = - ] || spec=$spec-$iv
            first=yes
            for bits in $(sizes $chain $iv); do
                form=plain
                case " $luks_ivs " in *" $iv "*) [ $first = no ] || form=luks ;; esac
                prepare $n $spec $bits $form
                first=no
                n=$((n + 1))
                [ $((n % batch)) -ne 0 ] || run_batch
            done
        done
    done
done
run_batch

cat /tmp/matrix
echo "matrix ($matrix): $ok ok ($(grep -c ' luks  *ok ' /tmp/matrix || true) LUKS2, $(grep -c ' plain  *ok ' /tmp/matrix || true) plain), $wrong wrong, $offered_not not offered by this kernel"
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
