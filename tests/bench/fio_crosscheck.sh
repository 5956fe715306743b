#!/bin/sh
# ublkcrypt bench storage beside fio on the same file, same workload, in the same run:
# the two must agree within 10% on throughput (both measure io_uring with O_DIRECT).
# Alternates the tools (A B A B) so drift on a shared machine hits both alike.
#   tests/bench/fio_crosscheck.sh BUILD/tools/ublkcrypt [DIR] [fio-style args...]
# Defaults: 4k randread, iodepth 16, 1 job, 3 s, on a 512 MiB file in /var/tmp.
set -eu
ublkcrypt=${1:?usage: fio_crosscheck.sh UBLKCRYPT [DIR]}
dir=${2:-/var/tmp}
rw=${RW:-randread}
bs=${BS:-4k}
depth=${IODEPTH:-16}
runtime=${RUNTIME:-3}
command -v fio >/dev/null || { echo "fio_crosscheck: fio not installed"; exit 77; }
command -v python3 >/dev/null || { echo "fio_crosscheck: python3 not installed"; exit 77; }

file=$(mktemp "$dir/ublkcrypt-fio-XXXXXX")
trap 'rm -f "$file"' EXIT
# Real data, not a sparse file: reads of holes would measure the filesystem, not the disk.
dd if=/dev/urandom of="$file" bs=1M count=512 status=none

ours() {
  "$ublkcrypt" bench storage "$file" --rw "$rw" --bs "$bs" --iodepth "$depth" \
    --runtime "$runtime" --force --json |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; l=r["latency_ns"]
print(r["mbs"], r["iops"], l["p50"]/1e3, l["p99"]/1e3)'
}
theirs() {
  fio --name=crosscheck --filename="$file" --rw="$rw" --bs="$bs" --iodepth="$depth" \
    --ioengine=io_uring --direct=1 --time_based --runtime="$runtime" --numjobs=1 \
    --output-format=json |
    python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]
t=[j[d] for d in ("read","write") if j[d]["io_bytes"]>0]
bw=sum(x["bw_bytes"] for x in t)/1e6; iops=sum(x["iops"] for x in t)
p=t[0]["clat_ns"]["percentile"]
print(bw, iops, p["50.000000"]/1e3, p["99.000000"]/1e3)'
}

a1=$(ours); f1=$(theirs); a2=$(ours); f2=$(theirs)
python3 - "$a1" "$a2" "$f1" "$f2" "$rw $bs iodepth $depth ${runtime}s" <<'PY'
import sys
a = [list(map(float, s.split())) for s in sys.argv[1:3]]
f = [list(map(float, s.split())) for s in sys.argv[3:5]]
mean = lambda rows, i: sum(r[i] for r in rows) / len(rows)
print(f"# fio cross-check: {sys.argv[5]} (mean of 2 alternating runs each)")
print(f"{'tool':<16}{'MB/s':>10}{'IOPS':>10}{'p50 us':>10}{'p99 us':>10}")
for name, rows in (("ublkcrypt bench", a), ("fio", f)):
    print(f"{name:<16}{mean(rows,0):>10.1f}{mean(rows,1):>10.0f}{mean(rows,2):>10.1f}{mean(rows,3):>10.1f}")
ratio = mean(a, 0) / mean(f, 0)
print(f"ublkcrypt / fio throughput: {ratio:.3f} (must be within 0.90 .. 1.10)")
sys.exit(0 if 0.9 <= ratio <= 1.1 else 1)
PY
