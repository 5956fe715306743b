#!/bin/sh
# demo-volume.sh: a complete ublkcrypt session on a real ublk device, as a user would run
# it: format a LUKS2 volume, open it as /dev/ublkbN, mkfs, mount, write files, read them
# back, close; then open again and check every file and the filesystem. Runs on any
# kernel with ublk_drv (inside the VM harness on machines without one).
# POSIX sh: it also runs under the VM guest's dash.
set -eu
work=${DEMO_DIR:-/tmp/ublkcrypt-demo}
size_mib=${DEMO_SIZE_MIB:-96}
files=${DEMO_FILES:-8}
say() { echo "demo: $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
# rate BYTES START END -> MB/s with one decimal
rate() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { d = e - s; if (d <= 0) d = 0.01; printf "%.1f", b / d / 1e6 }'; }

mkdir -p "$work" /mnt/ublkcrypt-demo
backing=$work/volume.img
keyfile=$work/passphrase  # a file, never argv: ublkcrypt reads secrets only from files/ttys
rm -f "$backing"
truncate -s "${size_mib}M" "$backing"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$keyfile"
chmod 600 "$keyfile"

say "format a ${size_mib} MiB LUKS2 volume (aes-xts-plain64, 512-bit key)"
ublkcrypt format --batch-mode --key-file "$keyfile" --pbkdf pbkdf2 --iter-time 100 "$backing"
ublkcrypt dump "$backing" | grep -E '^(Version|Cipher|Sector|UUID)' || true

say "open"
dev=$(ublkcrypt open --key-file "$keyfile" "$backing" demo)
say "opened $dev (also /dev/ublkcrypt/demo)"

say "mkfs.ext4 and mount"
mkfs.ext4 -q -F "$dev"
mount -t ext4 "$dev" /mnt/ublkcrypt-demo

say "write $files files of 4 MiB"
head -c 4194304 /dev/urandom >"$work/chunk"
t0=$(now)
i=0
while [ "$i" -lt "$files" ]; do
  cp "$work/chunk" "/mnt/ublkcrypt-demo/file$i"
  echo "$i" >>"/mnt/ublkcrypt-demo/file$i"
  i=$((i + 1))
done
# A text file too, so the check below has a known plaintext to look for.
marker="ublkcrypt-demo-known-plaintext-$$"
i=0
while [ "$i" -lt 4096 ]; do echo "$marker"; i=$((i + 1)); done >/mnt/ublkcrypt-demo/known.txt
sync
t1=$(now)
(cd /mnt/ublkcrypt-demo && sha256sum file* known.txt >"$work/sums")
say "wrote $((files * 4)) MiB in $(awk -v s="$t0" -v e="$t1" 'BEGIN{printf "%.2f", e-s}') s: $(rate $((files * 4194304)) "$t0" "$t1") MB/s"
umount /mnt/ublkcrypt-demo

say "status"
ublkcrypt status demo
say "close"
ublkcrypt close demo

say "the backing holds ciphertext: the marker text written above appears 0 times in it"
found=$(grep -a -c "$marker" "$backing" || true)
say "marker lines in the backing: $found"
[ "$found" -eq 0 ] || { say "FAIL: plaintext found in the backing"; exit 1; }

say "open again, e2fsck, read back and verify"
dev=$(ublkcrypt open --key-file "$keyfile" "$backing" demo)
e2fsck -fn "$dev"
mount -t ext4 -o ro "$dev" /mnt/ublkcrypt-demo
# Drop the page cache so the read really goes through the device.
echo 3 >/proc/sys/vm/drop_caches
t0=$(now)
(cd /mnt/ublkcrypt-demo && sha256sum -c "$work/sums" >/dev/null)
t1=$(now)
say "read back $((files * 4)) MiB and verified in $(awk -v s="$t0" -v e="$t1" 'BEGIN{printf "%.2f", e-s}') s: $(rate $((files * 4194304)) "$t0" "$t1") MB/s"
umount /mnt/ublkcrypt-demo
ublkcrypt close demo
rm -f "$keyfile"
say "OK: every file intact after close and reopen; filesystem clean"
