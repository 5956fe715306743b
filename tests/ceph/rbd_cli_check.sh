#!/usr/bin/env bash
# rbd_cli_check.sh UBLKCRYPT: the verbs that take rbd:POOL/IMAGE, on the test cluster
# (CEPH_CONF): format makes a header librbd's own LUKS2 opens (4096-byte sectors, data at
# the 16 MiB object boundary), add-key's new passphrase opens it too (the change reached
# the image), dump reads it back, bench storage runs on an image, and bad names, a missing
# image and a missing pool fail in one line with cryptsetup's exit codes.
set -euo pipefail
bin=$1
work=$(mktemp -d /var/tmp/ublkcrypt-rbd-cli-XXXXXX)
img=cli-$$
bench_img=cli-bench-$$
trap 'rbd rm --no-progress rbd/$img >/dev/null 2>&1 || true
      rbd rm --no-progress rbd/$bench_img >/dev/null 2>&1 || true
      rm -rf "$work"' EXIT
fail() { echo "rbd_cli_check: $*" >&2; exit 1; }
kdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
printf 'first passphrase' >"$work/pass1"
printf 'second passphrase' >"$work/pass2"
chmod 600 "$work"/pass*

rbd create -s 64M "rbd/$img"
"$bin" format -q "${kdf[@]}" "rbd:rbd/$img" "$work/pass1"
"$bin" dump "rbd:rbd/$img" >"$work/dump"
grep -q '^Version:[[:space:]]*2' "$work/dump" || fail "dump shows no LUKS2 header"
grep -q 'sector: 4096' "$work/dump" || fail "format did not default to 4096-byte sectors"
grep -q 'offset: 16777216' "$work/dump" || fail "data offset is not 16 MiB"
"$bin" add-key "${kdf[@]}" --key-file "$work/pass1" "rbd:rbd/$img" "$work/pass2"

# librbd's LUKS2 opens the image with either passphrase; the decrypted size is the
# image's less the header.
for pass in pass1 pass2; do
  qemu-img convert --object "secret,id=sec0,file=$work/$pass" --image-opts \
    "driver=rbd,pool=rbd,image=$img,encrypt.format=luks2,encrypt.key-secret=sec0" \
    -O raw "$work/out-$pass" || fail "librbd's LUKS2 refused $pass"
  [ "$(stat -c %s "$work/out-$pass")" = $((48 << 20)) ] || fail "wrong decrypted size"
done

# bench storage on an image: refuses to write over the LUKS header without --force.
if "$bin" bench storage "rbd:rbd/$img" --rw randwrite --bs 4k --size 4m >/dev/null 2>"$work/err"; then
  fail "bench wrote over a LUKS header"
fi
grep -q 'LUKS header' "$work/err" || fail "bench refusal does not say why: $(cat "$work/err")"
rbd create -s 64M "rbd/$bench_img"
"$bin" bench storage "rbd:rbd/$bench_img" --rw randwrite --bs 4k --iodepth 16 --size 8m \
  --json >"$work/bench.json"
grep -q '"write_bytes"' "$work/bench.json" || fail "bench printed no write figures"

# expect_error RC TEXT ARGS...: one line on stderr containing TEXT, exit RC.
expect_error() {
  local want=$1 text=$2 rc=0
  shift 2
  "$bin" "$@" >/dev/null 2>"$work/err" </dev/null || rc=$?
  [ "$rc" = "$want" ] || fail "$*: exit $rc, wanted $want ($(cat "$work/err"))"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "$*: not one line: $(cat "$work/err")"
  grep -qF "$text" "$work/err" || fail "$*: message lacks '$text': $(cat "$work/err")"
}
expect_error 4 "rbd:rbd/no-such-image: no image no-such-image in pool rbd" dump rbd:rbd/no-such-image
expect_error 4 "rbd:no-such-pool/x: no pool no-such-pool" dump rbd:no-such-pool/x
expect_error 1 "rbd:rbd: not an rbd image name" dump rbd:rbd
expect_error 4 "rbd:rbd/no-such-image" format -q --key-file "$work/pass1" rbd:rbd/no-such-image
echo "rbd_cli_check: ok"
