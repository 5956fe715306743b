# bench_contention.sh (guest, sh -e): `ublkcrypt bench` where every placement can exist —
# the software provider (host-cpu), the kernel provider on a virtio-crypto card
# (lookaside-card), the 'opal' provider (inline-device: the drive encrypts, the host runs
# cipher_null), an NVMe disk, and an open ublkcrypt device. Needs --crypto-card card0
# --nvme-disk 512M and --bin ublkcrypt.
# Prints the tables (the measurements are the point: TCG emulates AES, so absolute figures
# mean little; the ratios in one run are what to read). Asserts only that each run
# completes and reports what it should.
step() { echo "== bench: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
# The card offers cbc(aes) only: ESSIV is the cipher both providers can run.
cipher="--cipher aes-cbc-essiv:sha256 --key-size 256"
secs=${UBLKCRYPT_BENCH_SECONDS:-1}
# The contention run's model rows compare phases measured seconds apart, and TCG's speed
# follows the host's load (shared with other work) from one second to the next, so one
# round of long phases compares different machines. Many short interleaved rounds, each
# phase's median taken, put every input and the measurement in the same stretch of time
# (bench/contention.h).
contention_secs=${UBLKCRYPT_CONTENTION_SECONDS:-3}
contention_rounds=${UBLKCRYPT_CONTENTION_ROUNDS:-6}
# The JSON of each run goes to /host/out when the host shares a directory: charts are drawn
# from it there (docs/placement-model.md).
out() { if mkdir -p /host/out 2>/dev/null; then cp "$@" /host/out/ || true; fi; }

step "providers alone: request-size sweep (OCF Tables 1-2)"
ublkcrypt bench crypto $cipher --sizes 512,4k,64k,1m --depths 1,16 --runtime 0.5 \
    | tee /tmp/crypto.txt
grep -q '^software' /tmp/crypto.txt
if grep -q '^driver *: virtio_crypto_aes_cbc' /proc/crypto; then
    grep -q '^kernel' /tmp/crypto.txt
fi

card=no
grep -q '^driver *: virtio_crypto_aes_cbc' /proc/crypto && card=yes
opal=no
ublkcrypt backends | grep -q '^ *opal ' && opal=yes
echo "virtio-crypto card: $card; opal provider: $opal"

step "contention: tmpfs file and the NVMe disk, every provider (table)"
truncate -s 256M /tmp/tmpfs.img
ublkcrypt bench contention --target /tmp/tmpfs.img --target /dev/nvme0n1 $cipher \
    --rw write --bs 128k --iodepth 16 --size 128M --runtime "$contention_secs" \
    --rounds "$contention_rounds" | tee /tmp/contention.txt
grep -q '^/dev/nvme0n1 *software *host-cpu' /tmp/contention.txt
if [ $card = yes ]; then grep -q '^/dev/nvme0n1 *kernel *lookaside-card' /tmp/contention.txt; fi
if [ $opal = yes ]; then grep -q '^/dev/nvme0n1 *opal *inline-device' /tmp/contention.txt; fi

step "contention as JSON (tmpfs only, short)"
ublkcrypt bench contention --target /tmp/tmpfs.img $cipher --rw write --bs 128k \
    --size 128M --runtime 0.5 --rounds 1 --json >/tmp/contention.json
grep -q '"storage_ratio"' /tmp/contention.json
grep -q '"datapath_mbs"' /tmp/contention.json
grep -q '"placement": "host-cpu"' /tmp/contention.json
grep -q '"every_placement"' /tmp/contention.json
out /tmp/contention.json

step "the model beside the measurement, with a PCIe-like bus for the card"
ublkcrypt bench model --target /tmp/tmpfs.img --provider software $cipher --size 128M \
    --runtime "$secs" --rounds 1 --bus-mbs 15750 --bus-share 0.5

step "raw NVMe vs an open ublkcrypt device over it (randread, encrypted/raw ratio)"
printf 'bench-scenario-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /dev/nvme0n1
dev=$(ublkcrypt open --key-file /tmp/pass /dev/nvme0n1 bench)
ublkcrypt bench storage /dev/nvme0n1 --compare "$dev" --rw randread --bs 4k --iodepth 32 \
    --runtime "$secs" | tee /tmp/storage.txt
grep -q "of the throughput" /tmp/storage.txt
# A write benchmark on the LUKS disk is refused without --force.
if ublkcrypt bench storage /dev/nvme0n1 --rw write --runtime 1 2>/tmp/refused; then
    echo "write benchmark over a LUKS header was not refused"; exit 1
fi
grep -q 'LUKS' /tmp/refused
ublkcrypt close bench

if [ $opal = yes ]; then
    step "inline device (Opal) alone: the host passes cipher_null runs through"
    ublkcrypt bench crypto --provider opal --cipher cipher_null-ecb --sizes 4k,128k \
        --depths 1,16 --runtime 0.2
else
    step "no opal provider in this build: inline placement shown from the model only"
fi
step "done"
