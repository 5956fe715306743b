# bench_ublk_vs_dmcrypt.sh (guest, sh -e): issue 3's datapath benchmark — ublkcrypt versus
# dm-crypt over the same tmpfs-backed backing, in one boot, with fio. A benchmark, not a
# test: it asserts only that every run completes. Needs --bin ublkcrypt.
#
# Backing: one tmpfs file (filled, so reads hit real pages), attached to one loop device
# per target that wants one: ublkcrypt claims its backing exclusively for the server's
# life, so it cannot share dm-crypt's loop device while both are open.
#   dm        dm-crypt (cryptsetup --type plain) on its loop device
#   ublk-loop ublkcrypt (--type plain) on its own loop device over the same file: the
#             like-for-like pair (same file, same loop setup, one loop device each)
#   ublk-file ublkcrypt on the tmpfs file itself (its usual setup; no loop layer below)
#   dm-nowq   dm-crypt with --perf-no_read_workqueue/--perf-no_write_workqueue (optional)
#   alt-loop  another ublkcrypt build on a third loop device over the same file (optional,
#             A/B in one boot: pass it with --bin as e.g. ublkcrypt-base and
#             UBLKCRYPT_BENCH_ALT_BIN=ublkcrypt-base)
#   alt-file  the alt build on a second tmpfs file of the same size (optional, A/B of the
#             file setup: UBLKCRYPT_BENCH_TARGETS="dm ublk-file alt-file")
#   dm-vd, dm-nowq-vd, ublk-vd, alt-vd
#             the same on virtio-blk disks (QEMU emulating a disk over a host file, as a
#             cloud VM's disk): dm-crypt on /dev/vda, ublkcrypt on /dev/vdb, alt on
#             /dev/vdc (run-vm.sh --virtio-disk, which bench-datapath.sh passes). Their
#             ratios are to dm-vd or dm-nowq-vd.
#   dm-nv, dm-nowq-nv, ublk-nv
#             the same on NVMe disks (QEMU's emulated NVMe controller over a host file):
#             dm-crypt on /dev/nvme0n1, ublkcrypt on /dev/nvme1n1 (run-vm.sh --nvme-disk,
#             which bench-datapath.sh passes). Their ratios are to dm-nv or dm-nowq-nv.
# All are open at once and idle while another is measured; each workload runs on every
# target in turn (in reverse on even rounds), so load drifting on the shared host hits
# all of them alike.
# Ciphers: cipher_null-ecb (the datapath alone: TCG emulates AES, slowly), then
# aes-xts-plain64 (shorter). Output: a table with IOPS and MB/s per target and the ratio
# ublkcrypt / dm-crypt; also in /host/out/bench_ublk_vs_dmcrypt.txt.
#
# Environment (run-vm.sh --env):
#   UBLKCRYPT_BENCH_RUNTIME      seconds per null-cipher run (default 6, plus 1 s ramp)
#   UBLKCRYPT_BENCH_AES_RUNTIME  seconds per aes-xts run (default 3; 0 skips aes-xts)
#   UBLKCRYPT_BENCH_AES_ROUNDS   rounds of the aes-xts matrix (default 1: TCG's AES is slow)
#   UBLKCRYPT_BENCH_ROUNDS       rounds of the whole null matrix; the best of each is kept
#                                (noise on a loaded host only ever slows a run down)
#   UBLKCRYPT_BENCH_SIZE_MB      backing size (default 256)
#   UBLKCRYPT_BENCH_TARGETS      default "dm-nowq-vd ublk-vd dm-nowq-nv ublk-nv dm-nowq ublk-loop
#                                ublk-file" (block devices first; dm-crypt tuned for speed is
#                                the anchor)
#   UBLKCRYPT_BENCH_UBLK_ARGS    extra `ublkcrypt open` options (e.g. "--queues 1")
#   UBLKCRYPT_BENCH_WORKLOADS    default "randread randwrite read write"
#   UBLKCRYPT_BENCH_ALT_BIN      the alt-* binary; adds alt-vd and alt-loop to the default
#                                targets
#                                (ublkcrypt itself: A/B of options with ALT_ARGS)
#   UBLKCRYPT_BENCH_ALT_ARGS     extra `open` options for alt-* only (e.g. "--queues 1")
#   UBLKCRYPT_BENCH_STATS=1      per run also whole-guest CPU microseconds, context switches
#                                and IPIs per I/O, fio's own CPU per I/O, and the five
#                                busiest threads with their share of a CPU (where a datapath
#                                spends, and which thread is the limit)
#   UBLKCRYPT_BENCH_PROFILE=1    per run also a perf profile of the whole guest (perf from the
#                                host, which bench-datapath.sh passes in; software clock
#                                samples, TCG has no PMU): each command's share of the CPUs
#                                (swapper is idle time) and the hottest functions
step() { echo "== bench: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

RT=${UBLKCRYPT_BENCH_RUNTIME:-6}
AES_RT=${UBLKCRYPT_BENCH_AES_RUNTIME:-3}
ROUNDS=${UBLKCRYPT_BENCH_ROUNDS:-1}
AES_ROUNDS=${UBLKCRYPT_BENCH_AES_ROUNDS:-1}
SIZE_MB=${UBLKCRYPT_BENCH_SIZE_MB:-256}
ALT_BIN=${UBLKCRYPT_BENCH_ALT_BIN:-}
TARGETS=${UBLKCRYPT_BENCH_TARGETS:-dm-nowq-vd ublk-vd${ALT_BIN:+ alt-vd} dm-nowq-nv ublk-nv dm-nowq ublk-loop${ALT_BIN:+ alt-loop} ublk-file}
UBLK_ARGS=${UBLKCRYPT_BENCH_UBLK_ARGS:-}
WORKLOADS=${UBLKCRYPT_BENCH_WORKLOADS:-randread randwrite read write}
RESULTS=/tmp/bench.results
: >"$RESULTS"

echo "guest: $(nproc) CPUs, $(uname -r); host load seen by the guest is invisible: compare" \
     "ratios, not absolute figures"
# Page-table isolation makes every system call switch address spaces, which TCG pays for
# with a flush of its software TLB: it weighs on a datapath in user space.
echo "guest meltdown mitigation: $(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>/dev/null)"

step "backing: ${SIZE_MB} MiB tmpfs file + a loop device per target"
# make_backing FILE: SIZE_MB of tmpfs. fallocate gives it real (zeroed) pages without
# copying 256 MiB through TCG's memcpy.
make_backing() {
    fallocate -l "${SIZE_MB}M" "$1" 2>/dev/null ||
        dd if=/dev/zero of="$1" bs=1M count="$SIZE_MB" status=none
}
make_backing /tmp/backing.img
# dm-crypt's cipher_null-ecb: crypto_null is in the initramfs (build-initramfs.sh).
grep -q '^name *: ecb(cipher_null)' /proc/crypto || modprobe crypto_null || true
# attach_loop TARGET...: a loop device of its own over the backing file when one of the
# TARGETs is measured, else nothing. dm and dm-nowq share one: the kernel lets device-mapper
# devices share a claimed device, as it lets no other holder.
attach_loop() {
    for t in "$@"; do
        case " $TARGETS " in *" $t "*)
            l=$(losetup -f --show /tmp/backing.img)
            echo "loop: $l -> /tmp/backing.img ($*)" >&2
            echo "$l"
            return ;;
        esac
    done
}
loop_dm=$(attach_loop dm dm-nowq)
loop_ublk=$(attach_loop ublk-loop)
loop_alt=$(attach_loop alt-loop)
# disk_of NAME TARGET...: /dev/NAME when one of the TARGETs is measured, else nothing.
disk_of() {
    d=$1
    shift
    for t in "$@"; do
        case " $TARGETS " in *" $t "*)
            [ -b "/dev/$d" ] || { echo "bench: target $t needs /dev/$d (run-vm.sh --virtio-disk or --nvme-disk)" >&2; exit 2; }
            echo "disk: /dev/$d ($*)" >&2
            echo "/dev/$d"
            return ;;
        esac
    done
}
vd_dm=$(disk_of vda dm-vd dm-nowq-vd)
vd_ublk=$(disk_of vdb ublk-vd)
vd_alt=$(disk_of vdc alt-vd)
nv_dm=$(disk_of nvme0n1 dm-nv dm-nowq-nv)
nv_ublk=$(disk_of nvme1n1 ublk-nv)
case " $TARGETS " in *" alt-file "*) make_backing /tmp/backing-alt.img ;; esac
head -c 64 /dev/urandom >/tmp/aes.key

# open_target TARGET CIPHER: prints the device path.
open_target() {
    if [ "$2" = null ]; then
        ucipher="--cipher cipher_null-ecb --allow-null-cipher"
        dcipher="--cipher cipher_null-ecb"
    else
        ucipher="--cipher aes-xts-plain64 --key-size 512 --key-file /tmp/aes.key"
        dcipher="--cipher aes-xts-plain64 --key-size 512 --key-file /tmp/aes.key"
    fi
    name=b$(echo "$1" | tr -d -)
    case $1 in
        dm|dm-nowq|dm-vd|dm-nowq-vd|dm-nv|dm-nowq-nv)
            perf=""
            case $1 in dm-nowq*) perf="--perf-no_read_workqueue --perf-no_write_workqueue" ;; esac
            lower=$loop_dm
            case $1 in *-vd) lower=$vd_dm ;; *-nv) lower=$nv_dm ;; esac
            # cryptsetup wants a key even for cipher_null (it passes an empty one to the
            # kernel); give it one from a file so nothing prompts.
            # shellcheck disable=SC2086
            if [ "$2" = null ]; then
                cryptsetup open --type plain $dcipher --key-size 256 --key-file /tmp/aes.key \
                    $perf "$lower" "$name" >&2 || {
                    # Fallback: the dm table by hand (cipher_null takes the key "-").
                    sectors=$(blockdev --getsz "$lower")
                    opts=""
                    [ -z "$perf" ] || opts=" 2 no_read_workqueue no_write_workqueue"
                    dmsetup create "$name" --table "0 $sectors crypt cipher_null-ecb - 0 $lower 0$opts" >&2
                }
            else
                cryptsetup open --type plain $dcipher $perf "$lower" "$name" >&2
            fi
            echo "/dev/mapper/$name" ;;
        ublk-loop)
            # shellcheck disable=SC2086
            ublkcrypt open --type plain $ucipher $UBLK_ARGS "$loop_ublk" "$name" ;;
        ublk-file)
            # shellcheck disable=SC2086
            ublkcrypt open --type plain $ucipher $UBLK_ARGS /tmp/backing.img "$name" ;;
        ublk-vd)
            # shellcheck disable=SC2086
            ublkcrypt open --type plain $ucipher $UBLK_ARGS "$vd_ublk" "$name" ;;
        ublk-nv)
            # shellcheck disable=SC2086
            ublkcrypt open --type plain $ucipher $UBLK_ARGS "$nv_ublk" "$name" ;;
        alt-vd)
            # shellcheck disable=SC2086
            "$ALT_BIN" open --type plain $ucipher $UBLK_ARGS ${UBLKCRYPT_BENCH_ALT_ARGS:-} \
                "$vd_alt" "$name" ;;
        alt-loop)
            # shellcheck disable=SC2086
            "$ALT_BIN" open --type plain $ucipher $UBLK_ARGS ${UBLKCRYPT_BENCH_ALT_ARGS:-} \
                "$loop_alt" "$name" ;;
        alt-file)
            # shellcheck disable=SC2086
            "$ALT_BIN" open --type plain $ucipher $UBLK_ARGS ${UBLKCRYPT_BENCH_ALT_ARGS:-} \
                /tmp/backing-alt.img "$name" ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

close_target() {
    name=b$(echo "$1" | tr -d -)
    case $1 in
        dm*) cryptsetup close "$name" 2>/dev/null || dmsetup remove "$name" ;;
        alt-*) "$ALT_BIN" close "$name" ;;
        *) ublkcrypt close "$name" ;;
    esac
}

# Whole-guest counters: busy CPU ticks (user+nice+system+irq+softirq), context switches,
# rescheduling and function-call IPIs. Their difference over a run, per I/O, shows where a
# datapath spends (no perf in the guest).
counters() {
    awk '/^cpu /{b = $2 + $3 + $4 + $7 + $8} /^ctxt/{c = $2} END {printf "%d %d", b, c}' /proc/stat
    awk '/^ *RES:|^ *CAL:/{for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i} END {printf " %d\n", n}' \
        /proc/interrupts
}

# thread_times: "tid ns comm" for every thread (time on a CPU, from schedstat), in one awk
# so the snapshot forks nothing per thread.
thread_times() {
    awk 'FILENAME ~ /schedstat$/ { split(FILENAME, p, "/"); ns[p[5]] = $1 }
         FILENAME ~ /comm$/ { split(FILENAME, p, "/"); comm[p[5]] = $1 }
         END { for (t in ns) print t, ns[t], comm[t] }' \
        /proc/[0-9]*/task/[0-9]*/schedstat /proc/[0-9]*/task/[0-9]*/comm 2>/dev/null
}

# busiest_threads BEFORE AFTER IOS SECONDS: the threads that ran most over a run, each with
# its share of the wall time (100% = one CPU all along: that thread is the limit) and its
# microseconds per I/O.
busiest_threads() {
    awk 'NR == FNR { before[$1] = $2; next }
        { d = $2 - before[$1]; if (d > 0) print d, $3 }' "$1" "$2" |
        sort -rn | head -n 5 | awk -v ios="$3" -v secs="$4" \
        '{ printf "      %-16s %5.1f%% %7.1f us/io\n", $2, $1 / 1e7 / secs, $1 / 1e3 / ios }'
}

# run_fio DEV WORKLOAD RUNTIME: prints "IOPS MB/s".
run_fio() {
    case $2 in
        randread|randwrite) bs=4k qd=32 ;;
        *) bs=1M qd=8 ;;
    esac
    fio --name=bench --filename="$1" --direct=1 --ioengine=libaio --rw="$2" --bs=$bs \
        --iodepth=$qd --size="${SIZE_MB}M" --runtime="$3" --ramp_time=1 --time_based \
        --norandommap --randrepeat=0 --output-format=terse --terse-version=3 >/tmp/fio.out
    # terse v3: read KB/s and IOPS are fields 7 and 8, write's 48 and 49
    case $2 in
        *read) grep -v '^fio:' /tmp/fio.out | awk -F';' '{printf "%d %.1f", $8, $7 / 1024}' ;;
        *) grep -v '^fio:' /tmp/fio.out | awk -F';' '{printf "%d %.1f", $49, $48 / 1024}' ;;
    esac
    echo
    # fio's own user and system CPU, percent of its run (fields 88 and 89): fio has exited
    # by the second thread snapshot, so STATS takes its share from here.
    grep -v '^fio:' /tmp/fio.out | awk -F';' '{print $88 + 0, $89 + 0}' >/tmp/fio.cpu
}

# run_fio_stats DEV WORKLOAD RUNTIME: run_fio, plus per-I/O costs when
# UBLKCRYPT_BENCH_STATS=1: the whole guest's CPU microseconds, context switches and IPIs,
# and below, the five threads that ran most.
run_fio_stats() {
    if [ "${UBLKCRYPT_BENCH_PROFILE:-0}" = 1 ]; then
        run_fio_profiled "$@"
        return
    fi
    [ "${UBLKCRYPT_BENCH_STATS:-0}" = 1 ] || { run_fio "$@"; return; }
    thread_times >/tmp/threads.0
    c0=$(counters)
    res=$(run_fio "$@")
    c1=$(counters)
    thread_times >/tmp/threads.1
    # Ticks are USER_HZ (100/s); I/Os over runtime + ramp at the measured rate.
    echo "$res $c0 $c1 $(cat /tmp/fio.cpu)" | awk -v t="$3" '{ ios = $1 * (t + 1); if (ios < 1) ios = 1
        printf "%s %s cpu-us/io=%.1f ctxsw/io=%.2f ipi/io=%.2f fio-us/io=%.1f\n", $1, $2,
            ($6 - $3) * 10000 / ios, ($7 - $4) / ios, ($8 - $5) / ios,
            ($9 + $10) / 100 * (t + 1) * 1e6 / ios }'
    busiest_threads /tmp/threads.0 /tmp/threads.1 \
        "$(echo "$res" | awk -v t="$3" '{ print $1 * (t + 1) }')" "$(($3 + 1))"
}

# run_fio_profiled DEV WORKLOAD RUNTIME: run_fio, with perf recording the whole guest from
# the end of fio's ramp to a second before its end; below the figures, the commands' shares
# of all CPUs and the ten hottest (command, function) pairs.
run_fio_profiled() {
    (sleep 1; perf record -a -g -F 499 -q -o /tmp/perf.data -- sleep $(($3 - 1)) \
        >/dev/null 2>&1) &
    run_fio "$@"
    wait
    perf report -i /tmp/perf.data --no-children --sort comm --stdio -g none 2>/dev/null |
        awk '/^ *[0-9.]+%/ { printf "      %-18s %s\n", $2, $1; if (++n == 6) exit }'
    perf report -i /tmp/perf.data --no-children --sort comm,sym --stdio -g none 2>/dev/null |
        awk '/^ *[0-9.]+%/ { $3 = ""; printf "      %s\n", $0; if (++n == 10) exit }'
}

if [ "${UBLKCRYPT_BENCH_PROFILE:-0}" = 1 ]; then
    command -v perf >/dev/null || { echo "bench: UBLKCRYPT_BENCH_PROFILE=1 needs perf (--bin)" >&2; exit 2; }
    echo 0 >/proc/sys/kernel/kptr_restrict
    echo -1 >/proc/sys/kernel/perf_event_paranoid
fi

# matrix CIPHER RUNTIME ROUNDS
matrix() {
    devs=""
    for t in $TARGETS; do
        d=$(open_target "$t" "$1")
        echo "$t: $d"
        devs="$devs $t=$d"
    done
    # Even rounds run the targets in reverse: the last target of a round can come out
    # ahead whichever build it runs; alternating the order cancels the place's share of
    # that in the median over rounds.
    rdevs=""
    for td in $devs; do rdevs="$td $rdevs"; done
    r=1
    while [ "$r" -le "$3" ]; do
        order=$devs
        [ $((r % 2)) = 1 ] || order=$rdevs
        for w in $WORKLOADS; do
            for td in $order; do
                t=${td%%=*} d=${td#*=}
                res=$(run_fio_stats "$d" "$w" "$2")
                # The first line is the figures; STATS adds the busiest threads below it.
                echo "$1 $w $t $(echo "$res" | head -n 1 | cut -d' ' -f1-2) $r" >>"$RESULTS"
                echo "  round $r $1 $w $t: $(echo "$res" | head -n 1) (IOPS MB/s)"
                echo "$res" | tail -n +2
            done
        done
        r=$((r + 1))
    done
    for t in $TARGETS; do close_target "$t"; done
}

step "cipher_null-ecb, ${RT} s per run, $ROUNDS round(s)"
matrix null "$RT" "$ROUNDS"
if [ "$AES_RT" != 0 ]; then
    step "aes-xts-plain64, ${AES_RT} s per run, $AES_ROUNDS round(s)"
    matrix aes-xts "$AES_RT" "$AES_ROUNDS"
fi
for l in $loop_dm $loop_ublk $loop_alt; do losetup -d "$l"; done

step "results"
# Ratios are against dm-crypt on the same kind of backing: dm (or dm-nowq when dm is not
# among the targets) for the loop and file targets, dm-vd (or dm-nowq-vd) for the -vd ones,
# dm-nv (or dm-nowq-nv) for the -nv ones.
BASE=dm
case " $TARGETS " in *" dm "*) ;; *" dm-nowq "*) BASE=dm-nowq ;; esac
BASE_VD=dm-vd
case " $TARGETS " in *" dm-vd "*) ;; *" dm-nowq-vd "*) BASE_VD=dm-nowq-vd ;; esac
BASE_NV=dm-nv
case " $TARGETS " in *" dm-nv "*) ;; *" dm-nowq-nv "*) BASE_NV=dm-nowq-nv ;; esac
# The awk programs below share these: base_of(t) is the target t is compared with.
RATIO_AWK='function base_of(t) { return t ~ /-vd$/ ? base_vd : t ~ /-nv$/ ? base_nv : base_t }
    function label(t) { return t "/" base_of(t) }'
{
    echo "ublkcrypt vs dm-crypt, fio direct=1 libaio; 4k rand QD32, 1M seq QD8; ${SIZE_MB} MiB"
    echo "*-vd = on a virtio-blk disk each; *-nv = on an NVMe disk each; ublk-loop = ublkcrypt on its own loop device over dm-crypt's tmpfs file; ublk-file = ublkcrypt on the tmpfs file"
    # Best of the rounds per (cipher, workload, target).
    awk -v targets="$TARGETS" -v base_t="$BASE" -v base_vd="$BASE_VD" -v base_nv="$BASE_NV" "$RATIO_AWK"'
        { k = $1 " " $2 " " $3; if (!(k in iops) || $4 > iops[k]) { iops[k] = $4; mbs[k] = $5 }
          if (!($1 " " $2 in seen)) { seen[$1 " " $2] = 1; order[++n] = $1 " " $2 } }
        END {
            nt = split(targets, T, " ")
            printf "%-8s %-10s", "cipher", "workload"
            for (i = 1; i <= nt; i++) printf " %20s", T[i] " IOPS/MB/s"
            for (i = 1; i <= nt; i++) if (T[i] !~ /^dm/) printf " %14s", label(T[i])
            printf "\n"
            for (j = 1; j <= n; j++) {
                split(order[j], cw, " ")
                printf "%-8s %-10s", cw[1], cw[2]
                for (i = 1; i <= nt; i++) printf " %20s", iops[order[j] " " T[i]] "/" mbs[order[j] " " T[i]]
                for (i = 1; i <= nt; i++) if (T[i] !~ /^dm/) {
                    base = iops[order[j] " " base_of(T[i])]
                    printf(" %13.2fx", (base > 0 ? iops[order[j] " " T[i]] / base : 0))
                }
                printf "\n"
            }
        }' "$RESULTS"
    # The best of each target may come from different moments of a noisy host; a round runs
    # every target back to back, so its ratios share the moment. Median over rounds, and the
    # range of the rounds' ratios: a difference inside the range is noise.
    awk -v targets="$TARGETS" -v base_t="$BASE" -v base_vd="$BASE_VD" -v base_nv="$BASE_NV" "$RATIO_AWK"'
        { v[$1 " " $2 " " $3 " " $6] = $4; if ($6 > rounds) rounds = $6
          if (!($1 " " $2 in seen)) { seen[$1 " " $2] = 1; order[++n] = $1 " " $2 } }
        END {
            if (rounds < 2) exit
            nt = split(targets, T, " ")
            printf "median [min-max] over up to %d rounds of the same-round ratio:\n", rounds
            printf "%-8s %-10s", "cipher", "workload"
            for (i = 1; i <= nt; i++) if (T[i] != base_of(T[i])) printf " %22s", label(T[i])
            printf "\n"
            for (j = 1; j <= n; j++) {
                split(order[j], cw, " ")
                printf "%-8s %-10s", cw[1], cw[2]
                for (i = 1; i <= nt; i++) {
                    if (T[i] == base_of(T[i])) continue
                    m = 0
                    for (r = 1; r <= rounds; r++) {
                        b = v[order[j] " " base_of(T[i]) " " r]; x = v[order[j] " " T[i] " " r]
                        if (b > 0 && x != "") { q = x / b
                            for (k = m; k > 0 && R[k] > q; k--) R[k + 1] = R[k]
                            R[k + 1] = q; m++ }
                    }
                    if (m == 0) { printf " %22s", "-"; continue }
                    med = (m % 2) ? R[(m + 1) / 2] : (R[m / 2] + R[m / 2 + 1]) / 2
                    printf " %22s", sprintf("%.2fx [%.2f-%.2f]", med, R[1], R[m])
                }
                printf "\n"
            }
        }' "$RESULTS"
} | tee /tmp/bench.txt
mkdir -p /host/out 2>/dev/null && cp /tmp/bench.txt /host/out/bench_ublk_vs_dmcrypt.txt 2>/dev/null || true
step "done"
