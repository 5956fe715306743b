# ublk_fio.sh (guest, sh -e): fio with crc32c verification through ublkcrypt — random
# writes then verifying reads, bs 4k and 128k, iodepth 32, two jobs over two queues.
step() { echo "== ublk_fio: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

truncate -s 96M /tmp/backing.img
printf 'fio-scenario-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass --queues 2 --depth 64 /tmp/backing.img fio)
echo "opened $dev"

for bs in 4k 128k; do
    step "randwrite + verify, bs=$bs, iodepth 32, 2 jobs"
    # Each job owns its own 32 MiB region, so verification never races another writer.
    fio --name=verify-$bs --filename="$dev" --direct=1 --ioengine=libaio --iodepth=32 \
        --rw=randwrite --bs=$bs --size=32M --numjobs=2 --offset_increment=32M \
        --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_backlog=0 \
        --randrepeat=0 --group_reporting --output-format=terse --terse-version=3 >/tmp/fio.out
    # terse v3: field 5 = total errors of the group; non-zero exit above already failed us
    errs=$(grep -v '^fio:' /tmp/fio.out | cut -d';' -f5)
    echo "fio bs=$bs errors=$errs"
    test "$errs" = 0
done
ublkcrypt status fio | grep -E 'queues|reads|writes|errors'
ublkcrypt status --json fio | grep -q '"errors": 0'
ublkcrypt close fio
step "all good"
