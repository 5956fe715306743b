#!/bin/sh
# deps.sh: make sure the host has what the VM harness needs (Debian 12, run as root).
#   deps.sh          install missing packages with apt-get
#   deps.sh --check  only report; exit 1 naming the first missing package
set -eu

# command:package pairs. busybox must be busybox-static (the guest has no libc of its own
# for it; a dynamic busybox would also work since libs are copied, but static is simpler).
NEEDED="qemu-system-x86_64:qemu-system-x86 busybox:busybox-static kmod:kmod cpio:cpio
xz:xz-utils dpkg-deb:dpkg cryptsetup:cryptsetup-bin mke2fs:e2fsprogs e2fsck:e2fsprogs
fio:fio losetup:mount blockdev:util-linux python3:python3-minimal flock:util-linux
tcplay:tcplay script:bsdutils"

missing=""
for pair in $NEEDED; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || {
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    }
done
missing=${missing# }
[ -z "$missing" ] && exit 0

if [ "${1:-}" = "--check" ]; then
    echo "vm-deps: missing packages: $missing (run tests/vm/deps.sh as root)" >&2
    exit 1
fi
[ "$(id -u)" = 0 ] || { echo "vm-deps: missing packages: $missing; need root to apt-get install them" >&2; exit 1; }
echo "vm-deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2 \
    || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $missing >&2; } \
    || { echo "vm-deps: apt-get install $missing failed" >&2; exit 1; }
