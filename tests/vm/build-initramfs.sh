#!/bin/sh
# build-initramfs.sh: the guest's initramfs = cached base cpio + per-run overlay cpio.
#
#   build-initramfs.sh --scenario FILE --out FILE [--bin FILE]... [--file SRC[:GUESTPATH]]...
#                      [--env NAME=VALUE]...
#
# Base (cached per kernel version and harness content, in $CACHE/initramfs/): busybox in
# /busybox, kernel modules (decompressed, insmod order in /etc/vm-modules), host tools with
# their shared libraries (cryptsetup, e2fsprogs, fio, dd, kmod ...), guest/init and helpers.
# Overlay (rebuilt every run, cheap): --bin files in /usr/local/bin (+ libraries the base
# lacks), the scenario as /scenario.sh, --file data (default guest path /data/NAME),
# --env lines in /etc/vm-env (sourced by /init before the scenario).
# The kernel unpacks concatenated cpio archives in order, so the overlay wins on conflicts.
# Extra modules: UBLKCRYPT_VM_EXTRA_MODULES="mod1 mod2" (part of the cache key).
set -eu

die() { echo "build-initramfs: $*" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${UBLKCRYPT_VM_CACHE:-/var/cache/ublkcrypt-vm}

SCENARIO="" OUT="" BINS="" FILES="" ENVS=""
nl='
'
while [ $# -gt 0 ]; do
    case "$1" in
        --scenario) SCENARIO=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --bin) BINS="$BINS$2$nl"; shift 2 ;;
        --file) FILES="$FILES$2$nl"; shift 2 ;;
        --env) ENVS="$ENVS$2$nl"; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[ -n "$SCENARIO" ] && [ -n "$OUT" ] || die "usage: build-initramfs.sh --scenario FILE --out FILE [--bin FILE]... [--file SRC[:DEST]]... [--env N=V]..."
[ -f "$SCENARIO" ] || die "scenario $SCENARIO not found"

# run-vm.sh passes the kernel it fetched; standalone use fetches it here.
if [ -z "${KVER:-}" ] || [ -z "${KERNEL_DIR:-}" ] || [ -z "${MODULES:-}" ]; then
    eval "$("$HERE/fetch-kernel.sh")"
fi

# crypto_null: dm-crypt's cipher_null-ecb, the reference side of datapath benchmarks.
# dm_log_writes: records every write, flush and FUA under a backing (crash_consistency.sh).
# serpent, twofish, camellia, lrw: the cipher matrix against dm-crypt (cipher_matrix.sh);
# crc32_generic: dm-crypt's tcw IV mode asks the crypto API for "crc32".
# rbd: krbd, the kernel's Ceph client, maps an image for dm-crypt (rbd_volume.sh).
# uio_pci_generic: a PCI device for a user-space driver (dpdk_virtio_probe.sh).
MODULE_LIST="ublk_drv dm_crypt loop ext4 af_alg algif_skcipher algif_hash algif_aead xts essiv
aesni_intel sha256_ssse3 crc32c_intel crc32c_generic virtio_crypto nvme virtio_blk virtio_rng
9pnet_virtio 9p crypto_null dm_log_writes serpent_generic twofish_generic camellia_generic lrw
crc32_generic rbd uio_pci_generic
${UBLKCRYPT_VM_EXTRA_MODULES:-}"
# Host tools: required ones fail the build when missing, optional ones are skipped.
# dash runs the scenario: busybox ash is built "standalone" and runs its own applets
# (losetup, mke2fs ...) before searching PATH; dash honours PATH, where real tools come
# first. Tools that exec others (timeout, env, xargs) come from the host for the same reason.
REQUIRED_TOOLS="dash cryptsetup mke2fs mkfs.ext4 e2fsck fsck.ext4 resize2fs fio dd kmod losetup"
OPTIONAL_TOOLS="bash timeout env xargs nice setsid blockdev blkdiscard dumpe2fs debugfs tune2fs
nvme dmsetup strace"

# copy_lib_deps STAGE FILE [MANIFEST]: copy FILE's shared libraries (and the dynamic loader)
# into STAGE at their host paths with directories resolved (/lib -> usr/lib on merged /usr);
# skip files listed in MANIFEST (already in the base).
copy_lib_deps() {
    stage=$1 file=$2 manifest=${3:-/dev/null}
    ldd "$file" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}' | while read -r lib; do
        dir=$(cd "$(dirname "$lib")" && pwd -P)
        dest=${dir#/}/$(basename "$lib")
        grep -qxF "./$dest" "$manifest" 2>/dev/null && continue
        [ -e "$stage/$dest" ] && continue
        mkdir -p "$stage/${dir#/}"
        cp -L "$lib" "$stage/$dest"
    done
}

# copy_tool STAGE NAME: host tool NAME at its real directory (e.g. usr/sbin) with its libs.
copy_tool() {
    path=$(PATH=$PATH:/usr/sbin:/sbin command -v "$2" 2>/dev/null) || return 1
    dir=$(cd "$(dirname "$path")" && pwd -P)
    mkdir -p "$1/${dir#/}"
    cp -L "$path" "$1/${dir#/}/$2"
    copy_lib_deps "$1" "$path"
}

make_cpio() { (cd "$1" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) >"$2"; }

# ---- base (cached) ----
key=$( { echo "$KVER"; echo "$MODULE_LIST $REQUIRED_TOOLS $OPTIONAL_TOOLS";
         cat "$0" "$HERE"/guest/*;
         for t in busybox $REQUIRED_TOOLS $OPTIONAL_TOOLS; do
             p=$(PATH=$PATH:/usr/sbin:/sbin command -v "$t" 2>/dev/null) && ls -lL "$p"; done
       } | sha256sum | cut -c1-16)
BASE=$CACHE/initramfs/base-$KVER-$key.cpio
mkdir -p "$CACHE/initramfs"

build_base() {
    t0=$(date +%s)
    stage=$(mktemp -d "$CACHE/initramfs/.stage.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    cd "$stage"
    mkdir -p usr/bin usr/sbin usr/lib usr/lib64 usr/local/bin busybox proc sys dev tmp run \
             mnt host data root etc var/tmp
    ln -s usr/bin bin; ln -s usr/sbin sbin; ln -s usr/lib lib; ln -s usr/lib64 lib64
    mknod dev/console c 5 1 2>/dev/null || true

    bb=$(command -v busybox) || die "busybox not installed (apt-get install busybox-static)"
    cp -L "$bb" busybox/busybox
    copy_lib_deps "$stage" "$bb"
    for applet in $(busybox/busybox --list); do
        [ "$applet" = busybox ] || ln -s busybox "busybox/$applet"
    done

    for t in $REQUIRED_TOOLS; do
        copy_tool "$stage" "$t" || die "host tool $t not found (run tests/vm/deps.sh)"
    done
    for t in $OPTIONAL_TOOLS; do copy_tool "$stage" "$t" || true; done
    for t in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf ../bin/kmod "usr/sbin/$t"; done
    ln -sf dash usr/bin/sh
    [ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf etc/

    # Modules in dependency order (modprobe -D prints insmod lines, deps first).
    mdir=lib/modules/$KVER
    mkdir -p "$mdir"
    : >etc/vm-modules
    for m in $MODULE_LIST; do
        modprobe -D -d "$KERNEL_DIR" -S "$KVER" "$m" >"$stage/.dep" 2>&1 \
            || die "module $m not found in $KVER ($(head -n 1 "$stage/.dep"))"
        awk '$1=="insmod"{print $2}' "$stage/.dep" | while read -r ko; do
            rel=${ko#*/lib/modules/"$KVER"/}
            rel=${rel%.xz}
            grep -qxF "$rel" etc/vm-modules && continue
            mkdir -p "$mdir/$(dirname "$rel")"
            case "$ko" in
                *.xz) xz -dc "$ko" >"$mdir/$rel" ;;
                *) cp "$ko" "$mdir/$rel" ;;
            esac
            echo "$rel" >>etc/vm-modules
        done
    done
    rm -f "$stage/.dep"
    cp "$MODULES"/modules.builtin* "$MODULES"/modules.order "$mdir/" 2>/dev/null || true
    depmod -b "$stage" "$KVER" || die "depmod on the initramfs modules failed"

    cp "$HERE/guest/init" init
    cp "$HERE/guest/vm-signal" "$HERE/guest/vm-wait-host" "$HERE/guest/vm-lib.sh" \
        "$HERE/guest/dpdk-card.sh" "$HERE/guest/fio-verify.sh" usr/local/bin/
    chmod 755 init usr/local/bin/*
    printf 'root:x:0:0:root:/root:/busybox/sh\n' >etc/passwd
    printf 'root:x:0:\n' >etc/group

    cd /
    make_cpio "$stage" "$BASE.tmp"
    (cd "$stage" && find . -mindepth 1 | sort) >"$BASE.manifest"
    mv "$BASE.tmp" "$BASE"
    rm -rf "$stage"
    trap - EXIT
    echo "build-initramfs: base $(basename "$BASE") built in $(( $(date +%s) - t0 ))s ($(du -m "$BASE" | cut -f1) MB)" >&2
}

if [ ! -f "$BASE" ]; then
    exec 9>"$CACHE/initramfs/.lock"
    flock 9
    [ -f "$BASE" ] || ( build_base ) || exit 1  # subshell: build_base changes directory
    flock -u 9
    # Old bases (other keys) are stale: keep only the newest few.
    ls -t "$CACHE"/initramfs/base-*.cpio 2>/dev/null | tail -n +4 | while read -r old; do
        rm -f "$old" "$old.manifest"; done
fi

# ---- overlay (every run) ----
ov=$(mktemp -d)
trap 'rm -rf "$ov"' EXIT
mkdir -p "$ov/usr/local/bin" "$ov/etc" "$ov/data"
cp "$SCENARIO" "$ov/scenario.sh"
printf '%s' "$BINS" | while read -r b; do
    [ -n "$b" ] || continue
    [ -f "$b" ] || die "--bin $b not found"
    # Debug info stays on the host (addr2line there): the guest unpacks every byte of the
    # initramfs under TCG at each boot, and a RelWithDebInfo binary is mostly DWARF.
    strip --strip-debug -o "$ov/usr/local/bin/$(basename "$b")" "$b" 2>/dev/null ||
        cp -L "$b" "$ov/usr/local/bin/$(basename "$b")"
    chmod 755 "$ov/usr/local/bin/$(basename "$b")"
    copy_lib_deps "$ov" "$b" "$BASE.manifest"
done
printf '%s' "$FILES" | while read -r f; do
    [ -n "$f" ] || continue
    src=${f%%:*}
    case "$f" in *:*) dest=${f#*:} ;; *) dest=/data/$(basename "$src") ;; esac
    [ -e "$src" ] || die "--file $src not found"
    mkdir -p "$ov$(dirname "$dest")"
    cp -rL "$src" "$ov$dest"
done
printf '%s' "$ENVS" | while read -r e; do
    [ -n "$e" ] || continue
    case "$e" in *=*) ;; *) die "--env '$e' is not NAME=VALUE" ;; esac
    name=${e%%=*} value=${e#*=}
    printf "export %s='%s'\n" "$name" "$(printf '%s' "$value" | sed "s/'/'\\\\''/g")" >>"$ov/etc/vm-env"
done
make_cpio "$ov" "$ov.cpio"
cat "$BASE" "$ov.cpio" >"$OUT"
rm -f "$ov.cpio"
echo "$OUT"
