# card_fault_volume.sh (guest, sh -e; --bin ublkcrypt --bin ublkcrypt-test): a provider
# that errors on requests never surfaces as an I/O error on the ublk device. With
# UBLKCRYPT_FAULT_EVERY=N the test build's daemon (ublkcrypt-test open) gets the test-only
# provider "fault" (a software provider that fails
# every Nth request with an I/O error, highest priority, so the volume starts on it).
# fio verify=crc32c runs while `ublkcrypt migrate --backend fault` keeps putting the session
# back on the failing provider: every time, its next failed request fails over to software
# and is retried there. fio sees zero errors; status counts every failover; the device
# counts no error; the fault provider counts the requests it failed.
step() { echo "== card_fault_volume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

. vm-lib.sh

truncate -s 64M /tmp/backing.img
printf 'fault-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
# Only the daemon gets the variable (open forks it and it inherits the environment). The
# shipped binary drives it from here on, over the control socket.
dev=$(UBLKCRYPT_FAULT_EVERY=7 ublkcrypt-test open --key-file /tmp/pass --queues 2 /tmp/backing.img faulty)
echo "opened $dev"
ublkcrypt status faulty
ublkcrypt status faulty | grep -q "provider: *fault\$"
test "$(failovers faulty)" = 0

step "fio verify passes while the session is put back on the failing provider, 4 times"
# Passes repeat until the moves are done, so fio never ends before the last failover.
rm -f /tmp/stop /tmp/fio.verdict
(
    n=0
    while [ ! -e /tmp/stop ]; do
        n=$((n + 1))
        # Two jobs, each on its own 16 MiB, so verification never races another writer.
        if ! fio --name=fault --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
            --rw=randwrite --bs=4k --size=16M --numjobs=2 --offset_increment=16M \
            --verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=0 --group_reporting \
            --output-format=terse --terse-version=3 >/tmp/fio.$n.out 2>&1; then
            wrong_data "fio pass $n FAILED"; cat /tmp/fio.$n.out; echo fail >/tmp/fio.verdict; exit 0
        fi
        errs=$(grep -v '^fio:' /tmp/fio.$n.out | cut -d';' -f5)
        echo "fio pass $n: errors=$errs"
        [ "$errs" = 0 ] || { wrong_data "fio pass $n: $errs errors"; echo fail >/tmp/fio.verdict; exit 0; }
    done
    echo "fio passes: $n"
    echo ok >/tmp/fio.verdict
) &
fio_loop=$!
# Ends the scenario, failed, if the fio loop stopped first.
failed_over_more_than() {
    [ ! -e /tmp/fio.verdict ] || { echo "fio loop ended early"; exit 1; }
    [ "$(failovers faulty)" -gt "$1" ]
}
moves=0
while [ $moves -lt 4 ]; do
    wait_until -i 2 120 "no failover $((moves + 1)) within 120 s" failed_over_more_than $moves
    ublkcrypt status faulty | grep failovers
    ublkcrypt migrate faulty --backend fault
    moves=$((moves + 1))
done
touch /tmp/stop
wait $fio_loop
test "$(cat /tmp/fio.verdict)" = ok

step "status: failovers counted, no device error, the fault provider's failures counted"
ublkcrypt status faulty
n=$(failovers faulty)
echo "failovers: $n"
test "$n" -ge 4
ublkcrypt status faulty | grep "failovers:" | grep -q "last: fault -> software: "
ublkcrypt status faulty | grep -q "errors: 0\$"
test "$(provider_counter faulty fault errors)" -ge 4
test "$(provider_counter faulty software payload)" -gt 0
ublkcrypt close faulty
step "all good"
