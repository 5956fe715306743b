#!/bin/sh
# fetch-kernel.sh: download (once) Debian's newest 6.12 amd64 kernel and prepare its modules.
#
# Why this kernel: the host has no ublk driver; Debian's bookworm-security 6.12 "amd64"
# flavour has ublk_drv, dm-crypt, algif_skcipher AND virtio_crypto (cloud lacks the last).
#
# Cache: ${UBLKCRYPT_VM_CACHE:-/var/cache/ublkcrypt-vm}/kernel/<version>/ (outside the repo).
# Output (stdout, shell-sourceable lines):
#   KVER=<uname -r of the guest>
#   KERNEL_DIR=<extracted tree>
#   BZIMAGE=<path of vmlinuz>
#   MODULES=<path of lib/modules/KVER>
# Set UBLKCRYPT_VM_KPKG to pin a package name instead of taking the newest.
set -eu

die() { echo "fetch-kernel: $*" >&2; exit 1; }

CACHE=${UBLKCRYPT_VM_CACHE:-/var/cache/ublkcrypt-vm}
mkdir -p "$CACHE/kernel" || die "cannot create cache dir $CACHE/kernel"

for tool in apt-cache apt-get dpkg-deb depmod; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool (run tests/vm/deps.sh)"
done

newest_pkg() {
    apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null \
        | awk '{print $1}' | sort -V | tail -n 1
}

# apt-cache search takes seconds on a busy machine: remember its answer for as long as the
# apt lists are unchanged (their directory's mtime changes on apt-get update).
lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo none)
PKG=${UBLKCRYPT_VM_KPKG:-}
if [ -z "$PKG" ] && [ -f "$CACHE/kernel/newest" ]; then
    read -r stamp pkg <"$CACHE/kernel/newest" || true
    [ "${stamp:-}" != "$lists_stamp" ] || PKG=${pkg:-}
fi
if [ -z "$PKG" ]; then
    PKG=$(newest_pkg)
    if [ -z "$PKG" ]; then
        # Lists may be missing on a fresh machine: refresh once, then give up clearly.
        apt-get update -qq >/dev/null 2>&1 || true
        lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo none)
        PKG=$(newest_pkg)
    fi
    [ -z "$PKG" ] || echo "$lists_stamp $PKG" >"$CACHE/kernel/newest"
fi
[ -n "$PKG" ] || die "no linux-image-6.12.*+deb12-amd64-unsigned package in apt lists (run apt-get update; is bookworm-security enabled?)"

# linux-image-6.12.117+deb12-amd64-unsigned -> 6.12.117+deb12-amd64
KVER=${PKG#linux-image-}
KVER=${KVER%-unsigned}
DIR=$CACHE/kernel/$KVER

if [ ! -f "$DIR/.ready" ]; then
    exec 9>"$CACHE/kernel/.lock"
    flock 9  # two runs at once: one downloads, the other waits and reuses
fi
if [ ! -f "$DIR/.ready" ]; then
    tmp=$(mktemp -d "$CACHE/kernel/.fetch.XXXXXX")
    chmod 755 "$tmp"  # apt-get download drops privileges to _apt when it can
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch-kernel: downloading $PKG (~110 MB, once)" >&2
    (cd "$tmp" && apt-get download -q "$PKG" >&2) || die "apt-get download $PKG failed"
    deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || die "apt-get download $PKG produced no .deb"
    mkdir -p "$tmp/root"
    dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
    [ -f "$tmp/root/boot/vmlinuz-$KVER" ] || die "package $PKG has no boot/vmlinuz-$KVER"
    # The package ships no modules.dep; build it for this tree.
    depmod -b "$tmp/root" "$KVER" || die "depmod -b $tmp/root $KVER failed"
    rm -f "$deb"
    rm -rf "$DIR"
    mv "$tmp/root" "$DIR"
    touch "$DIR/.ready"
    rm -rf "$tmp"
    trap - EXIT
fi

echo "KVER=$KVER"
echo "KERNEL_DIR=$DIR"
echo "BZIMAGE=$DIR/boot/vmlinuz-$KVER"
echo "MODULES=$DIR/lib/modules/$KVER"
