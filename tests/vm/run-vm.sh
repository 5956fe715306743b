#!/bin/bash
# run-vm.sh: boot Debian's 6.12 kernel under QEMU/TCG with a busybox initramfs, run one guest
# scenario script, return its exit status. See tests/vm/README.md.
#
#   run-vm.sh SCENARIO.sh [--bin FILE]... [--file SRC[:GUESTPATH]]... [--env NAME=VALUE]...
#             [--qemu-arg ARG]... [--nvme-disk SIZE]... [--virtio-disk SIZE]...
#             [--crypto-card ID]... [--host-hook SCRIPT] [--timeout SECONDS]
#             [--mem SIZE] [--smp N] [--share DIR] [--log FILE] [--verbose]
#
# Exit: the scenario's status; 124 timeout; 125 harness/boot failure (no exit marker);
# 126 host hook failed (the scenario itself passed or was stopped because of it).
#
# A guest that never reached the end of its scenario boots again, up to three boots in all
# (UBLKCRYPT_VM_MAX_BOOTS): no exit marker (boot panic, guest died), no boot before the
# timeout, or a kernel oops/panic on the console before a scenario that did not pass ended.
# TCG under load has shown rare boot panics, and a virtio-crypto card pulled while AF_ALG
# requests are in flight can oops the 6.12 guest kernel itself (its hot-unplug race,
# backends/kernel/card_watch.h), often enough that two boots in a row have hit it. A
# scenario's own failure is reported as it is, after one boot: a scenario that caught wrong
# data once must not get another chance to pass. Nor does a guest that died after saying it
# saw wrong data: a UBLKCRYPT-VM-WRONG-DATA line (vm-lib.sh's wrong_data) or fio's verify
# complaint anywhere on its console rules out another boot.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "run-vm: $*" >&2; exit 125; }
now() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }

# Which boot this is (1, then 2 and 3 after guests that never reached the end).
ATTEMPT=${UBLKCRYPT_VM_ATTEMPT:-1}
MAX_BOOTS=${UBLKCRYPT_VM_MAX_BOOTS:-3}
ARGS=("$@")
SCENARIO="" TIMEOUT=${UBLKCRYPT_VM_TIMEOUT:-300} HOOK="" MEM=3G SMP=2 SHARE="" LOGOUT=""
VERBOSE=${UBLKCRYPT_VM_VERBOSE:-}
IRFS_ARGS=() QEMU_EXTRA=() NVME=() VIRTIO=() CARDS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin|--file|--env) [ $# -ge 2 ] || die "$1 needs a value"; IRFS_ARGS+=("$1" "$2"); shift 2 ;;
        --qemu-arg) [ $# -ge 2 ] || die "$1 needs a value"; QEMU_EXTRA+=("$2"); shift 2 ;;
        --nvme-disk) NVME+=("$2"); shift 2 ;;
        --virtio-disk) VIRTIO+=("$2"); shift 2 ;;
        --crypto-card) CARDS+=("$2"); shift 2 ;;
        --host-hook) HOOK=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --smp) SMP=$2; shift 2 ;;
        --share) SHARE=$2; shift 2 ;;
        --log) LOGOUT=$2; shift 2 ;;
        --verbose|-v) VERBOSE=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$SCENARIO" ] || die "two scenarios given: '$SCENARIO' and '$1'"; SCENARIO=$1; shift ;;
    esac
done
[ -n "$SCENARIO" ] || die "usage: run-vm.sh SCENARIO.sh [options] (see --help)"
[ -f "$SCENARIO" ] || die "scenario '$SCENARIO' not found"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout '$TIMEOUT' is not a number of seconds"
[ -z "$HOOK" ] || [ -x "$HOOK" ] || die "host hook '$HOOK' is missing or not executable"
# The scenario can tell a second boot from the first (the harness check does).
IRFS_ARGS+=(--env "UBLKCRYPT_VM_BOOT=$ATTEMPT")

if ! "$HERE/deps.sh" --check 2>/dev/null; then
    [ "$(id -u)" = 0 ] && [ -z "${UBLKCRYPT_VM_NO_INSTALL:-}" ] || "$HERE/deps.sh" --check || exit 125
    "$HERE/deps.sh" || exit 125
fi

T_START=$(now)
RUN=$(mktemp -d "${TMPDIR:-/tmp}/ublkcrypt-vm.XXXXXX")
LOG=$RUN/console.log QMP=$RUN/qmp.sock
SHARE=${SHARE:-$RUN/share}
mkdir -p "$SHARE/out" "$SHARE/signals"
rm -f "$SHARE"/signals/* 2>/dev/null || true
QEMU_PID="" HOOK_PID=""
cleanup() {
    [ -z "$HOOK_PID" ] || kill -- "-$HOOK_PID" 2>/dev/null || true
    [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
    if [ -n "$LOGOUT" ] && [ -f "$LOG" ]; then cp "$LOG" "$LOGOUT" 2>/dev/null || true; fi
    if [ -n "${UBLKCRYPT_VM_KEEP:-}" ]; then echo "run-vm: kept $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- kernel and initramfs ----
KOUT=$("$HERE/fetch-kernel.sh") || exit 125
eval "$KOUT"
export KVER KERNEL_DIR MODULES  # build-initramfs.sh reuses them
T_KERNEL=$(now)
"$HERE/build-initramfs.sh" --scenario "$SCENARIO" --out "$RUN/initrd.cpio" "${IRFS_ARGS[@]}" >/dev/null \
    || exit 125
T_INITRD=$(now)

# ---- QEMU command line ----
# no_timer_check: on a loaded host TCG is so slow that the kernel's IO-APIC timer check
# fails and it panics ("try booting with the 'noapic' option"); seen here at load 15.
# cryptomgr.notests, initcall_blacklist=crypto_kdf108_init: the kernel's boot-time crypto
# self-tests are the longest initcalls under TCG (seconds per boot). They check the
# kernel's own implementations; the scenarios check every cipher they use against data.
# ipv6.disable=1, initcall_blacklist=init_encrypted: the next longest (initcall_debug: IPv6
# about 1.7 s, the "encrypted" key type 0.8 s), and nothing here uses either: servers
# listen on 127.0.0.1, and ublkcrypt parks keys as "user" keys.
QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m "$MEM" -smp "$SMP"
      -nographic -nodefaults -serial stdio -no-reboot
      -kernel "$BZIMAGE" -initrd "$RUN/initrd.cpio"
      -append "console=ttyS0 loglevel=4 panic=-1 random.trust_cpu=on no_timer_check cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_encrypted ipv6.disable=1 ${UBLKCRYPT_VM_CMDLINE:-}"
      -qmp "unix:$QMP,server=on,wait=off"
      -virtfs "local,path=$SHARE,mount_tag=host,security_model=none,id=host")
n=0
for size in "${NVME[@]}"; do
    truncate -s "$size" "$RUN/nvme$n.img" || die "--nvme-disk '$size': cannot create the disk file"
    QEMU+=(-drive "file=$RUN/nvme$n.img,if=none,id=nvme$n-drive,format=raw,cache=unsafe"
           -device "nvme,id=nvme$n,serial=ublkc-nvme$n,drive=nvme$n-drive")
    n=$((n + 1))
done
n=0
for size in "${VIRTIO[@]}"; do
    truncate -s "$size" "$RUN/vd$n.img" || die "--virtio-disk '$size': cannot create the disk file"
    QEMU+=(-drive "file=$RUN/vd$n.img,if=none,id=vd$n-drive,format=raw,cache=unsafe"
           -device "virtio-blk-pci,id=vd$n,drive=vd$n-drive")
    n=$((n + 1))
done
for id in "${CARDS[@]}"; do
    QEMU+=(-object "cryptodev-backend-builtin,id=$id-backend"
           -device "virtio-crypto-pci,id=$id,cryptodev=$id-backend")
done
for a in "${QEMU_EXTRA[@]}"; do QEMU+=("${a//@RUN@/$RUN}"); done  # @RUN@ = this run's temp dir

# ---- boot ----
T_BOOT=$(now)
# If run-vm itself is killed (ctest timeout sends SIGKILL), QEMU must not live on.
PDEATH=()
setpriv --help 2>/dev/null | grep -q -- --pdeathsig && PDEATH=(setpriv --pdeathsig KILL)
"${PDEATH[@]}" "${QEMU[@]}" </dev/null >"$LOG" 2>"$RUN/qemu.err" &
QEMU_PID=$!
[ -z "$VERBOSE" ] || tail -n +1 -F --pid="$QEMU_PID" "$LOG" 2>/dev/null | tr -d '\r' >&2 &

if [ -n "$HOOK" ]; then
    for _ in $(seq 50); do [ -S "$QMP" ] || ! kill -0 "$QEMU_PID" 2>/dev/null && break; sleep 0.1; done
    UBLKCRYPT_VM_QMP=$QMP UBLKCRYPT_VM_LOG=$LOG UBLKCRYPT_VM_SHARE=$SHARE UBLKCRYPT_VM_RUN=$RUN \
        PATH="$HERE/host:$PATH" setsid "$HOOK" >"$RUN/hook.log" 2>&1 &
    HOOK_PID=$!
fi

marker() { tr -d '\r' <"$LOG" | grep -ao "$1[^ ]*" | tail -n 1 | cut -d= -f2 || true; }
T_BOOTED="" STATUS="" HOOK_RC=""
deadline=$(( $(date +%s) + TIMEOUT ))
while kill -0 "$QEMU_PID" 2>/dev/null; do
    if [ -z "$T_BOOTED" ] && grep -aq 'UBLKCRYPT-VM-BOOTED' "$LOG"; then T_BOOTED=$(now); fi
    if [ -n "$HOOK_PID" ] && [ -z "$HOOK_RC" ] && ! kill -0 "$HOOK_PID" 2>/dev/null; then
        wait "$HOOK_PID" && HOOK_RC=0 || HOOK_RC=$?
        if [ "$HOOK_RC" != 0 ]; then
            echo "run-vm: host hook $(basename "$HOOK") failed (exit $HOOK_RC); stopping the VM" >&2
            STATUS=hook; break
        fi
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        # sysrq-8 first: the guest boots with loglevel=4, and sysrq-w prints its stacks at
        # KERN_INFO, which the console would otherwise drop.
        echo "run-vm: timeout after ${TIMEOUT}s; dumping blocked guest tasks (sysrq-8, sysrq-w)" >&2
        for key in 8 w; do
            UBLKCRYPT_VM_QMP=$QMP "$HERE/host/vm-qmp" human-monitor-command \
                "{\"command-line\": \"sendkey alt-sysrq-$key\"}" >/dev/null 2>&1 || true
            sleep 1
        done
        sleep 5
        STATUS=timeout; break
    fi
    sleep 0.2
done
T_END=$(now)
kill "$QEMU_PID" 2>/dev/null || true
wait "$QEMU_PID" 2>/dev/null || true
QEMU_PID=""
if [ -n "$HOOK_PID" ] && [ -z "$HOOK_RC" ]; then
    # The VM is gone; a hook still running has nothing left to talk to.
    kill -0 "$HOOK_PID" 2>/dev/null && sleep 1
    if kill -0 "$HOOK_PID" 2>/dev/null; then
        kill -- "-$HOOK_PID" 2>/dev/null || true
        wait "$HOOK_PID" 2>/dev/null || true
        echo "run-vm: host hook $(basename "$HOOK") was still running when the VM stopped; killed it" >&2
        HOOK_RC=killed
    else
        wait "$HOOK_PID" && HOOK_RC=0 || HOOK_RC=$?
    fi
fi
HOOK_PID=""

# ---- verdict ----
RC=$(marker UBLKCRYPT-VM-EXIT=)
GUEST_BOOT=$(marker 'UBLKCRYPT-VM-BOOTED uptime=')
SCEN=$(marker UBLKCRYPT-VM-SCENARIO-SECONDS=)
if [ -z "$T_BOOTED" ] && [ -n "$GUEST_BOOT" ] && [ -n "$SCEN" ]; then
    # Booted and finished between two polls: boot ended about SCEN seconds before the end.
    T_BOOTED=$(awk "BEGIN{printf \"%.3f\", $T_END - $SCEN}")
fi
if [ -n "$RC" ] && [ -z "$STATUS" ]; then
    STATUS="done"
elif [ -z "$STATUS" ]; then
    STATUS=nomarker
fi
BOOT_TXT=n/a SCEN_TXT=n/a
[ -z "$T_BOOTED" ] || BOOT_TXT="$(secs "$T_BOOT" "$T_BOOTED")s (guest uptime ${GUEST_BOOT}s)"
[ -z "$SCEN" ] || SCEN_TXT="${SCEN}s"
SUMMARY="run-vm: $(basename "$SCENARIO") (boot $ATTEMPT): kernel $KVER; prep $(secs "$T_START" "$T_BOOT")s"
SUMMARY+=" (kernel $(secs "$T_START" "$T_KERNEL")s, initramfs $(secs "$T_KERNEL" "$T_INITRD")s);"
SUMMARY+=" boot $BOOT_TXT; scenario $SCEN_TXT; VM wall $(secs "$T_BOOT" "$T_END")s"
echo "$SUMMARY" >&2
echo "$SUMMARY" >>"$LOG"  # the --log copy carries the timing too

case "$STATUS" in
    done) EXIT=$RC ;;
    timeout) EXIT=124 ;;
    hook) EXIT=126 ;;
    *) EXIT=125
       echo "run-vm: guest stopped without UBLKCRYPT-VM-EXIT marker (boot failure or panic?)" >&2
       [ -s "$RUN/qemu.err" ] && echo "run-vm: qemu: $(head -n 3 "$RUN/qemu.err")" >&2 ;;
esac
if [ "$EXIT" = 0 ] && [ -n "$HOOK_RC" ] && [ "$HOOK_RC" != 0 ]; then
    echo "run-vm: host hook $(basename "$HOOK") failed ($HOOK_RC)" >&2; EXIT=126
fi

# Did the guest reach the end of the scenario? A kernel line (with its printk timestamp) that
# says oops, BUG or panic before the exit marker means the guest broke under the scenario.
# awk reads the log itself: fed through a pipe, it would stop reading at the first oops, and
# the writer's SIGPIPE (a console of more than a pipe's 64 KiB, which 25 oops traces make)
# would end this script under pipefail before it could say so, let alone boot again.
OOPS=$(awk '{ sub(/\r$/, "") } /^UBLKCRYPT-VM-EXIT=/ { exit }
    /^\[ *[0-9]+\.[0-9]+\] (Kernel panic - not syncing|Oops|BUG: |general protection fault|watchdog: BUG: soft lockup)/ { print; exit }' "$LOG")
# Wrong data the guest reported before it died or ended, by marker (on stdout, or in the
# kernel's log with its timestamp) or by fio's verify.
WRONG_DATA=$(awk '{ sub(/\r$/, "") } /^(\[ *[0-9]+\.[0-9]+\] )?UBLKCRYPT-VM-WRONG-DATA|verify: bad / { print; exit }' "$LOG")
NOT_AT_END=""
if [ "$STATUS" = nomarker ]; then
    NOT_AT_END="no UBLKCRYPT-VM-EXIT marker${OOPS:+; $OOPS}"
elif [ "$STATUS" = timeout ] && [ -z "$T_BOOTED" ]; then
    NOT_AT_END="not booted within ${TIMEOUT}s"
elif [ "$EXIT" = 3 ] && [ -n "$OOPS" ]; then
    # Exit 3 is vm-lib.sh's no_oops: the scenario's own checks passed, the kernel broke.
    # A scenario that failed any other way (wrong data above all) is never booted again,
    # oops or not.
    NOT_AT_END="guest kernel: $OOPS"
elif [ "$EXIT" -gt 128 ] && [ "$EXIT" -lt 160 ] && [ -n "$OOPS" ]; then
    # Killed by a signal, and the kernel oopsed before the marker: the oops killed the
    # scenario in its system call (virtio_crypto's hot-unplug race does so); it never
    # reached its own checks. Wrong data seen first still ends it below.
    NOT_AT_END="scenario killed (exit $EXIT) by the guest kernel: $OOPS"
fi

if [ "$EXIT" != 0 ] && [ -z "$VERBOSE" ]; then
    lines=$(wc -l <"$LOG")
    if [ "$lines" -le 400 ]; then
        echo "run-vm: ---- guest console ($lines lines) ----" >&2; tr -d '\r' <"$LOG" >&2
    else
        echo "run-vm: ---- guest console, last 250 of $lines lines ----" >&2; tail -n 250 "$LOG" | tr -d '\r' >&2
    fi
    echo "run-vm: ---- end of guest console ----" >&2
fi
if [ "$EXIT" != 0 ] && [ -s "$RUN/hook.log" ]; then
    echo "run-vm: ---- host hook output ----" >&2; tail -n 100 "$RUN/hook.log" >&2
fi
if [ -n "$NOT_AT_END" ] && [ -n "$WRONG_DATA" ]; then
    echo "run-vm: guest never reached the end ($NOT_AT_END), but saw wrong data first: no other boot ($WRONG_DATA)" >&2
    NOT_AT_END=""
    EXIT=1
fi
if [ -n "$NOT_AT_END" ] && [ "$ATTEMPT" -lt "$MAX_BOOTS" ]; then
    ordinals=(zeroth first second third fourth fifth sixth)
    echo "run-vm: result of boot $ATTEMPT: $STATUS, exit $EXIT" >&2
    echo "run-vm: guest never reached the end ($NOT_AT_END); ${ordinals[ATTEMPT + 1]:-next} boot" >&2
    # Each earlier boot's console stays beside the last one's.
    if [ -n "$LOGOUT" ] && [ -f "$LOG" ]; then cp "$LOG" "$LOGOUT.boot$ATTEMPT" 2>/dev/null || true; fi
    cleanup
    trap - EXIT
    UBLKCRYPT_VM_ATTEMPT=$((ATTEMPT + 1)) exec "$BASH" "$0" "${ARGS[@]}"
fi
[ -z "$NOT_AT_END" ] || echo "run-vm: guest never reached the end on boot $ATTEMPT of $MAX_BOOTS either ($NOT_AT_END)" >&2
echo "run-vm: result: $STATUS, exit $EXIT" >&2
exit "$EXIT"
