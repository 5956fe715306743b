# server_hardening.sh (guest, sh -e; --bin ublkcrypt ublkcrypt-test control_request_replay):
# the volume server against a hostile control socket and a crash (issue 15).
#  1. While fio verifies every block it writes (pass after pass, from before the first
#     request to after the last), 10,000 malformed control requests (the control_request
#     fuzz target's replay corpus, round-robin; never a close) plus slow, silent and
#     oversized clients: each gets one JSON line, the server's pid never changes, fio sees
#     no error.
#  2. Key hygiene: the server's VmLck covers its memory; with core dumps switched on and
#     core_pattern pointing to a file, a SIGSEGV of the server leaves no core, where the
#     same SIGSEGV of a shell does (the negative control).
#  3. A header with a keyslot stored in the clear (cipher_null, made by cryptsetup here:
#     LUKS1 cipher_null converted to LUKS2): cryptsetup 2.6.1 takes any passphrase for it,
#     ublkcrypt refuses a non-empty one (exit 2).
step() { echo "== server_hardening: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

. vm-lib.sh

truncate -s 64M /tmp/backing.img
printf 'hardening-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass --queues 1 /tmp/backing.img vol)
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json)
echo "opened $dev, server pid $pid"
# Alive and not a zombie (the daemon is not this shell's child: nobody may have reaped it).
served() { [ -e /proc/"$pid" ] && ! grep -q '^State:[[:space:]]*Z' /proc/"$pid"/status; }
gone() { ! served; }

step "fio verify while malformed control requests arrive"
control_request_replay --write-inputs /tmp/corpus
rm -f /tmp/fio.verdict /tmp/replay.done
# fio passes back to back from before the first request until after the last one, so the
# volume verifies its data for the whole of the replay.
(
    passes=0
    while :; do
        if ! fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 \
            --rw=randwrite --bs=4k --size=24M --verify=crc32c --do_verify=1 --verify_fatal=1 \
            --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 ||
            [ "$(grep -v '^fio:' /tmp/fio.out | cut -d';' -f5)" != 0 ]; then
            echo fail >/tmp/fio.verdict
            exit 0
        fi
        passes=$((passes + 1))
        [ ! -e /tmp/replay.done ] || break
    done
    echo "ok $passes" >/tmp/fio.verdict
) &
fio_job=$!
ublkcrypt-test control-replay vol --corpus /tmp/corpus --count 10000 --slow 4
touch /tmp/replay.done
served || { echo "FAIL: the server (pid $pid) died"; exit 1; }
wait $fio_job
cat /tmp/fio.out
echo "fio verify: $(cat /tmp/fio.verdict) passes during the replay"
case $(cat /tmp/fio.verdict) in "ok "*) ;; *) exit 1 ;; esac
test "$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json)" = "$pid"
ublkcrypt status vol
ublkcrypt status vol | grep -q "errors: 0\$"
grep -c "control request" /run/ublkcrypt/vol.log || true

step "key hygiene: locked memory, not dumpable, no core on SIGSEGV"
grep -E '^(VmLck|VmRSS)' /proc/"$pid"/status
lck=$(awk '/^VmLck:/ {print $2}' /proc/"$pid"/status)
test "$lck" -gt 0
mkdir -p /tmp/cores
echo '/tmp/cores/core.%p' >/proc/sys/kernel/core_pattern
# The negative control: a shell with core dumps on leaves its core there.
sh -c 'ulimit -c unlimited; kill -SEGV $$' || true
ls -l /tmp/cores
test "$(ls /tmp/cores | wc -l)" = 1
rm -f /tmp/cores/*
kill -SEGV "$pid"
wait_until 30 "the server survived SIGSEGV" gone
sleep 1
ls -l /tmp/cores
test "$(ls /tmp/cores | wc -l)" = 0
# Its disk went with it: the next open of the name cleans up.
ublkcrypt close vol 2>&1 || true

step "a keyslot stored in the clear takes no passphrase"
truncate -s 32M /tmp/null.img
: >/tmp/empty
printf 'any passphrase' >/tmp/wrong
cryptsetup luksFormat -q --type luks1 --cipher cipher_null-ecb --key-size 256 \
    --pbkdf-force-iterations 1000 --key-file /tmp/empty /tmp/null.img
cryptsetup convert -q --type luks2 /tmp/null.img
cryptsetup luksDump /tmp/null.img | grep -E 'Cipher:|cipher:'
rc=0
cryptsetup open --test-passphrase --key-file /tmp/wrong /tmp/null.img || rc=$?
echo "cryptsetup $(cryptsetup --version | cut -d' ' -f2) with a wrong passphrase: exit $rc"
rc=0
ublkcrypt open --allow-null-cipher --key-file /tmp/wrong /tmp/null.img nul 2>/tmp/null.err || rc=$?
cat /tmp/null.err
test "$rc" = 2
test "$(wc -l </tmp/null.err)" = 1
grep -q 'stored unencrypted\|no key slot matches' /tmp/null.err
step "all good"
