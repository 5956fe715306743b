#!/usr/bin/env bash
# Installs the Debian 12 packages ublkcrypt builds, tests and benchmarks with.
# Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  liburing-dev libnvme-dev libssl-dev libfmt-dev doctest-dev libcryptsetup-dev
  libcli11-dev nlohmann-json3-dev libdpdk-dev systemd
  openssl cryptsetup-bin e2fsprogs fio nvme-cli gnuplot-nox
  qemu-system-x86 busybox-static kmod cpio xz-utils
  groff-base man-db bash-completion tcplay python3-cryptography
  ceph-mon ceph-osd ceph-common librbd-dev qemu-utils qemu-block-extra
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
