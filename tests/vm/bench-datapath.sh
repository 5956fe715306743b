#!/bin/bash
# bench-datapath.sh: issue 3's benchmark by hand — ublkcrypt versus dm-crypt (cipher_null
# and aes-xts-plain64) in one VM boot, printing the table and the ratios.
#
#   tests/vm/bench-datapath.sh [--bin PATH/TO/ublkcrypt] [--env NAME=VALUE]... [run-vm.sh options]
#
# Default binary: build/tools/ublkcrypt; further --bin files go in too (an A/B build for
# UBLKCRYPT_BENCH_ALT_BIN). Knobs (see scenarios/bench_ublk_vs_dmcrypt.sh):
#   --env UBLKCRYPT_BENCH_RUNTIME=6 --env UBLKCRYPT_BENCH_ROUNDS=2
#   --env UBLKCRYPT_BENCH_AES_RUNTIME=0 --env "UBLKCRYPT_BENCH_UBLK_ARGS=--queues 1"
#   --env "UBLKCRYPT_BENCH_TARGETS=dm-nowq-vd ublk-vd dm dm-nowq ublk-loop ublk-file"
# Three virtio-blk disks go in for the *-vd targets, two NVMe disks for the *-nv ones.
#   --env UBLKCRYPT_BENCH_STATS=1   (per run: guest CPU us, context switches, IPIs, fio's CPU
#                                    per I/O; the busiest threads and their share of a CPU)
#   --env UBLKCRYPT_BENCH_PROFILE=1 (per run: a perf profile of the guest, the host's perf)
# A/B in one boot: --bin OTHER/ublkcrypt-base --env UBLKCRYPT_BENCH_ALT_BIN=ublkcrypt-base,
# or one binary with different options: --env UBLKCRYPT_BENCH_ALT_BIN=ublkcrypt
#   --env "UBLKCRYPT_BENCH_ALT_ARGS=--queues 1". On a loaded host compare rounds, not only
# the best-of table: each round runs every target back to back.
# The table is also written to ./bench_ublk_vs_dmcrypt.txt. Also from ctest (label bench, not
# in the CI run): ctest --test-dir BUILD -L bench -R vm_bench_ublk_vs_dmcrypt -V
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) if [ -z "$bin" ]; then bin=$2; else args+=(--bin "$2"); fi; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
bin=${bin:-$top/build/tools/ublkcrypt}
# A profile wants the host's perf in the guest (Debian's linux-perf).
case " ${args[*]} " in *UBLKCRYPT_BENCH_PROFILE=1*)
    perf=$(command -v perf) || { echo "bench-datapath: UBLKCRYPT_BENCH_PROFILE=1 needs perf (apt install linux-perf)" >&2; exit 2; }
    args+=(--bin "$perf") ;;
esac
[ -x "$bin" ] || { echo "bench-datapath: no ublkcrypt binary at $bin (build it, or --bin PATH)" >&2; exit 2; }
share=$(mktemp -d "${TMPDIR:-/tmp}/ublkcrypt-bench.XXXXXX")
trap 'rm -rf "$share"' EXIT
echo "host load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
# The console streams (-v) without the kernel's own timestamped lines.
set +e
"$here/run-vm.sh" "$top/tests/vm/scenarios/bench_ublk_vs_dmcrypt.sh" --bin "$bin" \
    --share "$share" --timeout 1800 -v --virtio-disk 512M --virtio-disk 512M --virtio-disk 512M \
    --nvme-disk 512M --nvme-disk 512M "${args[@]}" | grep -av '^\[ *[0-9.]*\]'
rc=${PIPESTATUS[0]}
set -e
if [ -f "$share/out/bench_ublk_vs_dmcrypt.txt" ]; then
    echo "---- table ----"
    cat "$share/out/bench_ublk_vs_dmcrypt.txt"
    cp "$share/out/bench_ublk_vs_dmcrypt.txt" ./bench_ublk_vs_dmcrypt.txt
fi
echo "host load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
