# crash_consistency.sh (guest, sh -e): what ublkcrypt acknowledges survives a power cut.
#
# dm-log-writes sits under the volume's backing and records every write, flush and FUA the
# server sends, in the order the data became durable. A workload on ext4 on the volume
# makes one change per step (a new file, an append to a log file, an in-place overwrite),
# fsyncs it and its directory, and when fsync has returned drops a mark into the log and
# notes the file's checksum. Then log-writes-replay rebuilds the backing as it stood at each
# mark (what a power cut right there would leave) and the check below opens it: the journal
# recovers on mount, every file whose fsync returned before the mark has exactly its
# content, and e2fsck -fn is clean after.
#
# The check opens every mark through dm-crypt (the format oracle) and every
# $UBLK_EVERY-th through ublkcrypt itself: an ublkcrypt open costs a server start and a ublk
# device under TCG, and both read the same LUKS2 image, so the ublkcrypt sample shows the
# device under test reads what dm-crypt reads.
#
# Negative control first: the test build with UBLKCRYPT_TEST_EARLY_FLUSH=1 serves its
# backing through a write-back cache whose flushes do not wait for it (fixtures/test_build/
# early_flush_storage.h). The same check must fail on its marks, or it proves nothing.
. vm-lib.sh
step() { echo "== crash_consistency: $* (t=$(uptime_s))"; }

OPS=${CRASH_OPS:-204}            # steps of the real run: one mark each (>= 200)
BROKEN_OPS=${CRASH_BROKEN_OPS:-24}
UBLK_EVERY=${CRASH_UBLK_EVERY:-17}
DATA_MB=32

dmesg -n 1  # hundreds of mounts: keep ext4's messages off the slow console
printf 'crash-consistency-passphrase' >/tmp/pass
mkdir -p /mnt/vol

# record BINARY OPS QUEUES [VAR=VALUE]: a fresh zeroed data device under dm-log-writes, a
# LUKS2 volume on it served by BINARY with QUEUES ublk queues, ext4 and the workload; leaves
# /tmp/data.img (the device as it ended), /tmp/log.img (the log) and /tmp/manifest
# ("STEP SHA256 PATH" per step).
record() {
    bin=$1 ops=$2 queues=$3
    shift 3
    rm -f /tmp/data.img /tmp/log.img /tmp/manifest
    truncate -s ${DATA_MB}M /tmp/data.img
    truncate -s 256M /tmp/log.img
    data=$(losetup -f --show /tmp/data.img)
    logdev=$(losetup -f --show /tmp/log.img)
    dmsetup create lw --table "0 $((DATA_MB * 2048)) log-writes $data $logdev"
    dmsetup mknodes lw  # no udev in the guest
    # A small LUKS2 metadata area keeps each replayed image, copied once per mark, small.
    cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --sector-size 4096 --luks2-metadata-size 16k --luks2-keyslots-size 256k \
        --key-file /tmp/pass /dev/mapper/lw
    dmsetup message lw 0 mark formatted
    dev=$(env "$@" "$bin" open --queues "$queues" --key-file /tmp/pass /dev/mapper/lw vol)
    # Few inodes: small inode tables keep each mark's e2fsck and copy short under TCG.
    mkfs.ext4 -q -F -b 4096 -N 512 -E lazy_itable_init=0,lazy_journal_init=0 "$dev"
    mount -t ext4 "$dev" /mnt/vol
    mkdir /mnt/vol/d
    sync /mnt/vol/d /mnt/vol
    dmsetup message lw 0 mark mounted
    i=1
    while [ $i -le "$ops" ]; do
        case $((i % 4)) in
            0) path=d/wal; head -c $((512 + i * 37 % 6000)) /dev/urandom >>/mnt/vol/$path ;;
            2) path=d/ow
               dd if=/dev/urandom of=/mnt/vol/$path bs=8192 count=1 conv=notrunc 2>/dev/null ;;
            *) path=d/f$i; head -c $((1 + i * 2711 % 40000)) /dev/urandom >/mnt/vol/$path ;;
        esac
        sync /mnt/vol/$path /mnt/vol/d
        dmsetup message lw 0 mark "op-$i"
        echo "$i $(sha256sum /mnt/vol/$path | cut -d' ' -f1) $path" >>/tmp/manifest
        i=$((i + 1))
    done
    umount /mnt/vol
    "$bin" close vol
    # Removing the target logs the writes no flush covered and the final entry count.
    dmsetup remove lw
    losetup -d "$logdev"
    losetup -d "$data"
}

# The check log-writes-replay runs at each mark op-K, with IMAGE (/tmp/checkS.img, one of
# SLOTS snapshots, each bound to a loop device and the dm-crypt mapping checkvolS) holding
# the backing as it stood there. Checks of different slots run at once, each on its slot's
# own paths. Prints one line saying what failed.
cat >/tmp/check-mark.sh <<'EOF'
mark=$1 image=$2 k=${1#op-}
slot=${image#/tmp/check}; slot=${slot%.img}
read -r started _ </proc/uptime
awk -v k="$k" '$1 <= k { sum[$3] = $2 } END { for (p in sum) print sum[p] "  " p }' \
    /tmp/manifest >/tmp/expected$slot
if [ $((k % UBLK_EVERY)) = 0 ]; then
    via=ublkcrypt
    cp "$image" /tmp/ublk-check$slot.img
    dev=$(ublkcrypt open --key-file /tmp/pass /tmp/ublk-check$slot.img chk$slot) || { echo "$mark: ublkcrypt open failed"; exit 1; }
else
    via=dm-crypt
    dev=/dev/mapper/checkvol$slot
fi
rc=0
dir=/mnt/check$slot
if ! mount -t ext4 "$dev" $dir 2>/tmp/mount$slot.err; then
    echo "$mark ($via): mount failed: $(tail -n 1 /tmp/mount$slot.err)"
    rc=1
else
    # busybox sha256sum: "PATH: OK" per good file, anything else is a failure.
    (cd $dir && sha256sum -c /tmp/expected$slot) >/tmp/sums$slot.out 2>&1 || true
    if grep -v ': OK$' /tmp/sums$slot.out >/tmp/sums$slot.bad; then
        echo "$mark ($via): $(grep -c ': FAILED' /tmp/sums$slot.bad) of $(wc -l </tmp/expected$slot) files wrong: $(head -n 2 /tmp/sums$slot.bad | tr '\n' ' ')"
        rc=1
    fi
    umount $dir
    e2fsck -fn "$dev" >/tmp/fsck$slot.out 2>&1 || {
        echo "$mark ($via): e2fsck -fn: $(grep -v '^Pass\|^e2fsck\|^/dev' /tmp/fsck$slot.out | head -n 2 | tr '\n' ' ')"
        rc=1
    }
fi
[ "$via" = dm-crypt ] || ublkcrypt close chk$slot
read -r ended _ </proc/uptime
[ $rc = 0 ] && echo "$k $via $started $ended" >>/tmp/checked
exit $rc
EOF

# replay_and_check [--stop-at-first-failure]: every op- mark of /tmp/log.img, checked on
# SLOTS snapshots at once (the guest has a CPU for each); the replay's exit status.
SLOTS=${CRASH_CHECK_SLOTS:-2}
replay_and_check() {
    rm -f /tmp/replay.img /tmp/checked
    truncate -s ${DATA_MB}M /tmp/replay.img
    snapshots="" loops=""
    slot=0
    while [ $slot -lt "$SLOTS" ]; do
        mkdir -p /mnt/check$slot
        cp /tmp/data.img /tmp/check$slot.img  # any LUKS2 image of the volume opens the mapping
        loop=$(losetup -f --show /tmp/check$slot.img)
        cryptsetup open --key-file /tmp/pass "$loop" checkvol$slot
        snapshots="$snapshots${snapshots:+,}/tmp/check$slot.img" loops="$loops $loop"
        slot=$((slot + 1))
    done
    rc=0
    UBLK_EVERY=$UBLK_EVERY log-writes-replay /tmp/log.img /tmp/replay.img \
        --check 'sh /tmp/check-mark.sh' --check-marks op- --snapshots "$snapshots" "$@" || rc=$?
    slot=0
    while [ $slot -lt "$SLOTS" ]; do cryptsetup close checkvol$slot; slot=$((slot + 1)); done
    for loop in $loops; do losetup -d "$loop"; done
    return $rc
}

step "negative control: $BROKEN_OPS steps through ublkcrypt-test with UBLKCRYPT_TEST_EARLY_FLUSH=1"
# One queue: the cache is per queue, and a read on another queue would miss its writes.
record ublkcrypt-test "$BROKEN_OPS" 1 UBLKCRYPT_TEST_EARLY_FLUSH=1
rc=0
replay_and_check >/tmp/broken.out || rc=$?
cat /tmp/broken.out
broken_failed=$(grep -c 'check failed' /tmp/broken.out || true)
if [ "$rc" != 1 ] || [ "$broken_failed" -eq 0 ]; then
    echo "the check passed a server whose flushes do not wait for its writes (exit $rc): it proves nothing"
    exit 1
fi

step "ublkcrypt: $OPS steps, one mark after each fsync"
t0=$(uptime_s)
record ublkcrypt "$OPS" 2
t1=$(uptime_s)
marks=$(grep -c . /tmp/manifest)
[ "$marks" -ge 200 ] || { echo "only $marks marks"; exit 1; }

step "replay to each of the $marks marks and check"
replay_and_check
t2=$(uptime_s)
# After the last entry the replay must be the device itself: the replayer reproduced every
# write the kernel logged, at the right place.
cmp /tmp/replay.img /tmp/data.img || { echo "full replay differs from the recorded device"; exit 1; }
checked=$(grep -c . /tmp/checked)
via_ublk=$(grep -c ' ublkcrypt ' /tmp/checked || true)
per_mark=$(awk '{ s[$2] += $4 - $3; n[$2]++ } END { for (v in s) printf "%s %.2f s, ", v, s[v] / n[v] }' /tmp/checked)
[ "$checked" = "$marks" ] || { echo "$checked of $marks marks checked"; exit 1; }
[ "$via_ublk" -gt 0 ] || { echo "no mark was opened through ublkcrypt"; exit 1; }
echo "crash_consistency: figures: $marks marks all clean ($via_ublk opened through ublkcrypt," \
    "$((checked - via_ublk)) through dm-crypt); negative control failed $broken_failed of" \
    "$BROKEN_OPS marks; one mark's check: ${per_mark}record ${t0}..${t1} s, replay+check" \
    "${t1}..${t2} s of guest uptime"
step "all good"
