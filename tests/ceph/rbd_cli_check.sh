#!/usr/bin/env bash
# rbd_cli_check.sh UBLKCRYPT: the verbs that take rbd:POOL/IMAGE, on the test cluster
# (CEPH_CONF): format makes a header librbd's own LUKS2 opens (4096-byte sectors, data at
# the 16 MiB object boundary), add-key's new passphrase opens it too (the change reached
# the image), dump, uuid, is-luks and header-backup read it back, change-key, remove-key,
# kill-slot, erase and header-restore change what cryptsetup finds on the image, reencrypt
# is refused, bench storage runs on an image,
# bench contention and bench rbd run on images, another cephx user reaches one through
# --ceph-conf/--ceph-id or CEPH_ARGS, and bad names,
# a missing image or pool, refused auth and an unreadable conf fail in one line with
# cryptsetup's exit codes.
set -euo pipefail
bin=$1
work=$(mktemp -d /var/tmp/ublkcrypt-rbd-cli-XXXXXX)
img=cli-$$
bench_img=cli-bench-$$
luks_img=cli-luks-$$
user=ublkcli-$$  # a cephx user of its own
trap 'rbd rm --no-progress rbd/$img >/dev/null 2>&1 || true
      "$CEPH_MON_COMMAND" "{\"prefix\": \"auth rm\", \"entity\": \"client.$user\"}" >/dev/null 2>&1 || true
      rbd rm --no-progress rbd/$bench_img >/dev/null 2>&1 || true
      rbd rm --no-progress rbd/$luks_img >/dev/null 2>&1 || true
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
# bench contention and bench rbd on images: every row ran and moved bytes; the LUKS row went
# through librbd's encryption (a wrong passphrase is refused first, in one line).
"$bin" bench contention --target "rbd:rbd/$bench_img" --provider software --runtime 0.3 --rounds 1 \
  --rw randwrite --bs 4k --iodepth 8 --size 8m --json >"$work/contention.json"
python3 -c 'import json,sys; c=json.load(sys.stdin)["cells"][0]
assert c["target"].startswith("rbd:") and c["encrypted"]["write_bytes"] > 0, c' <"$work/contention.json" ||
  fail "bench contention on an image: no encrypted phase"
rbd create -s 64M "rbd/$luks_img"
rbd encryption format "rbd/$luks_img" luks2 "$work/pass1"
"$bin" bench rbd --image "rbd:rbd/$bench_img" --luks-image "rbd:rbd/$luks_img" --key-file "$work/pass1" \
  --runtime 0.5 --rounds 1 --size 8m --bs 16k --iodepth 8 --json >"$work/rbd.json"
python3 -c 'import json,sys; r=json.load(sys.stdin)
names=[x["name"] for x in r["rows"]]
assert names==["librbd","librbd, msgr2 secure","ublkcrypt cipher_null","ublkcrypt aes-xts-plain64","librbd LUKS"], names
assert all(x["write_bytes"] > 0 and x["mbs"] > 0 for x in r["rows"]), r["rows"]
assert r["replicas"] == 1 and len(r["placements"]) == 3, r
assert all(x["wire_bytes_per_user_byte"] >= 0.99 for x in r["rows"]), r["rows"]' <"$work/rbd.json" ||
  fail "bench rbd: $(cat "$work/rbd.json")"

# The other key verbs on an image; what the image holds afterwards is read by another
# client (rbd export) and judged by cryptsetup.
# opens_with PASSFILE: cryptsetup accepts the passphrase on the image's header as exported.
opens_with() {
  rbd export --no-progress "rbd/$img" "$work/export" >/dev/null
  local rc=0
  cryptsetup open --test-passphrase --key-file "$work/$1" "$work/export" 2>/dev/null || rc=$?
  rm -f "$work/export"
  return $rc
}
printf 'third passphrase' >"$work/pass3"
[ "$("$bin" uuid "rbd:rbd/$img")" = "$(sed -n 's/^UUID:[[:space:]]*//p' "$work/dump")" ] || fail "uuid differs from dump's"
"$bin" header-backup "rbd:rbd/$img" --header-backup-file "$work/backup"
cryptsetup open --test-passphrase --key-file "$work/pass1" "$work/backup" || fail "header backup refuses pass1"
"$bin" change-key "${kdf[@]}" --key-file "$work/pass2" "rbd:rbd/$img" "$work/pass3"
opens_with pass3 || fail "change-key: the image's header refuses the new passphrase"
! opens_with pass2 || fail "change-key: the image's header still takes the old passphrase"
"$bin" remove-key -q "rbd:rbd/$img" "$work/pass3"
! opens_with pass3 || fail "remove-key: the image's header still takes the removed passphrase"
"$bin" add-key "${kdf[@]}" --key-file "$work/pass1" --key-slot 5 "rbd:rbd/$img" "$work/pass2"
opens_with pass2 || fail "add-key to slot 5: refused"
"$bin" kill-slot -q --key-file "$work/pass1" "rbd:rbd/$img" 5
! opens_with pass2 || fail "kill-slot 5: the image's header still takes its passphrase"
opens_with pass1 || fail "kill-slot 5 took pass1 along"

# Another cephx user (rbd profile, pool rbd only) in another conf: --ceph-conf and --ceph-id,
# before or after the verb, or CEPH_ARGS' --id as Ceph's tools take it, reach the image as
# that user.
"$CEPH_MON_COMMAND" "{\"prefix\": \"auth get-or-create\", \"entity\": \"client.$user\",
  \"caps\": [\"mon\", \"profile rbd\", \"osd\", \"profile rbd pool=rbd\"]}" >"$work/user.keyring"
sed "s|^keyring = .*|keyring = $work/user.keyring|" "$CEPH_CONF" >"$work/user.conf"
uuid=$("$bin" uuid "rbd:rbd/$img")
[ "$(env -u CEPH_CONF "$bin" --ceph-conf "$work/user.conf" --ceph-id "$user" uuid "rbd:rbd/$img")" = "$uuid" ] ||
  fail "--ceph-conf/--ceph-id before the verb did not reach the image"
[ "$(env -u CEPH_CONF "$bin" uuid --ceph-id "$user" --ceph-conf "$work/user.conf" "rbd:rbd/$img")" = "$uuid" ] ||
  fail "--ceph-conf/--ceph-id after the verb did not reach the image"
[ "$(CEPH_CONF=$work/user.conf CEPH_ARGS="--id $user" "$bin" uuid "rbd:rbd/$img")" = "$uuid" ] ||
  fail "CEPH_ARGS' --id did not reach the image"

# expect_error RC TEXT ARGS...: one line on stderr containing TEXT, exit RC.
expect_error() {
  local want=$1 text=$2 rc=0
  shift 2
  "$bin" "$@" >/dev/null 2>"$work/err" </dev/null || rc=$?
  [ "$rc" = "$want" ] || fail "$*: exit $rc, wanted $want ($(cat "$work/err"))"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "$*: not one line: $(cat "$work/err")"
  grep -qF -e "$text" "$work/err" || fail "$*: message lacks '$text': $(cat "$work/err")"
}
expect_error 4 "rbd:rbd/no-such-image: no image no-such-image in pool rbd" dump rbd:rbd/no-such-image
expect_error 4 "rbd:no-such-pool/x: no pool no-such-pool" dump rbd:no-such-pool/x
expect_error 1 "rbd:rbd: not an rbd image name" dump rbd:rbd
expect_error 2 "bench: rbd:rbd/$luks_img: cannot load librbd's LUKS encryption: Operation not permitted" \
  bench rbd --image "rbd:rbd/$bench_img" --luks-image "rbd:rbd/$luks_img" --key-file "$work/pass2"
expect_error 1 "bench rbd: --image and --luks-image name the same image" \
  bench rbd --image "rbd:rbd/$bench_img" --luks-image "rbd:rbd/$bench_img" --key-file "$work/pass1"
expect_error 4 "rbd:rbd/no-such-image" format -q --key-file "$work/pass1" rbd:rbd/no-such-image
# Auth refused: a user the cluster does not know, a user with no key here. A conf that
# cannot be read is named.
expect_error 2 "rbd:rbd/$img: cannot connect to the Ceph cluster: Permission denied" \
  --ceph-conf "$work/user.conf" --ceph-id nobody-$$ uuid "rbd:rbd/$img"
expect_error 2 "rbd:rbd/$img: cannot connect to the Ceph cluster: Permission denied" \
  --ceph-conf "$work/user.conf" uuid "rbd:rbd/$img"
expect_error 4 "rbd:rbd/$img: cannot read Ceph configuration $work/none.conf: No such file or directory" \
  --ceph-conf "$work/none.conf" uuid "rbd:rbd/$img"
# open refuses before it needs the ublk driver (which this host lacks; the VM scenario
# vm_rbd_volume serves images): no image, a detached header, a wrong passphrase.
printf 'not the passphrase' >"$work/wrong"
export UBLKCRYPT_RUN_DIR=$work/run UBLKCRYPT_DEV_DIR=$work/dev
expect_error 4 "rbd:rbd/no-such-image: no image no-such-image in pool rbd" \
  open --key-file "$work/pass1" rbd:rbd/no-such-image cli
expect_error 1 "--header $work/pass1: rbd:rbd/$img is an rbd image, whose LUKS header stays on the image" \
  open --header "$work/pass1" --key-file "$work/pass1" "rbd:rbd/$img" cli
expect_error 2 "wrong passphrase for rbd:rbd/$img (no key slot matches)" open --key-file "$work/wrong" "rbd:rbd/$img" cli

# erase: every keyslot gone from the image; header-restore brings back the backup taken
# above (pass1 opens again), is-luks answers for the image and for one without a header.
"$bin" erase -q "rbd:rbd/$img"
! opens_with pass1 || fail "erase: the image's header still takes pass1"
"$bin" header-restore -q "rbd:rbd/$img" --header-backup-file "$work/backup"
opens_with pass1 || fail "header-restore: the image's header refuses pass1"
"$bin" is-luks "rbd:rbd/$img" || fail "is-luks: the image is no LUKS device"
rc=0
"$bin" is-luks "rbd:rbd/$bench_img" || rc=$?
[ "$rc" = 1 ] || fail "is-luks on an image without a header: exit $rc, wanted 1"
expect_error 4 "rbd:rbd/no-such-image: no image no-such-image in pool rbd" is-luks rbd:rbd/no-such-image
expect_error 1 "reencrypt rbd:rbd/$img: rbd images are not supported" \
  reencrypt --key-file "$work/pass1" "rbd:rbd/$img"
echo "rbd_cli_check: ok"
