#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): install what ublkcrypt needs,
# build it, then run a real encrypted volume doing real I/O (scripts/demo-volume.sh:
# format, open as /dev/ublkbN, mkfs, mount, write, read back, close, reopen, verify).
#
# The device needs the kernel's ublk driver. Where the running kernel has none (as on the
# machines this project is built on), the same demo runs inside the VM harness, which boots
# Debian's 6.12 kernel under QEMU: this is said plainly, not hidden.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/install-deps.sh
build=$(bash scripts/build.sh release | tail -1)
echo "main-job: built $build/tools/ublkcrypt"

echo "main-job: software crypto provider, 4 KiB requests, against openssl speed (same run)"
"$build/tools/ublkcrypt" benchmark --cipher aes-xts-plain64 --key-size 512 || true

if [ -e /dev/ublk-control ] || modprobe ublk_drv 2>/dev/null; then
  echo "main-job: this kernel has ublk: running the demo here"
  PATH=$build/tools:$PATH exec sh scripts/demo-volume.sh
fi

echo "main-job: this kernel ($(uname -r)) has no ublk driver (CONFIG_BLK_DEV_UBLK unset):"
echo "main-job: running the same demo inside a QEMU VM with Debian's 6.12 kernel (tests/vm)"
exec tests/vm/run-vm.sh scripts/demo-volume.sh --bin "$build/tools/ublkcrypt" \
  --timeout "${UBLKCRYPT_DEMO_TIMEOUT:-900}" -v
