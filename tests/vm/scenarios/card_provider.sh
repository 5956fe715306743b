# card_provider.sh (guest scenario): the kernel provider on a real virtio-crypto card, no
# ublk involved. Needs --crypto-card card0 and --bin kernel_provider_vmtest.
#  1. the card registers cbc(aes) as virtio_crypto_aes_cbc;
#  2. ciphertext through the card (user-space ESSIV over its cbc(aes)), through the kernel's
#     essiv template, through aesni and the generic xts is bit-identical to software;
#  3. the benchmark table (printed, not asserted) when UBLKCRYPT_CARD_BENCH=1.
step() { echo "== card: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

step "the card's driver in /proc/crypto"
grep -q '^driver *: virtio_crypto_aes_cbc' /proc/crypto
awk '/^name/{n=$3} /^driver/{d=$3} /^module/{m=$3} /^priority/{p=$3} /^type/{t=$3}
     /^$/{ if (t=="skcipher" && (n ~ /aes/)) print "  " n, d, m, p; t="" }' /proc/crypto

if command -v ublkcrypt >/dev/null; then
    step "ublkcrypt backends"
    ublkcrypt backends
    ublkcrypt backends --json | grep -q '"driver": "virtio_crypto_aes_cbc"'
fi

step "bit-identity with software"
kernel_provider_vmtest check

step "after the check: instantiated drivers"
grep -A1 '^name *: essiv(cbc(aes),sha256)\|^name *: xts(aes)' /proc/crypto | grep driver

if [ "${UBLKCRYPT_CARD_BENCH:-0}" = 1 ]; then
    step "benchmark"
    kernel_provider_vmtest bench kernel:virtio_crypto_aes_cbc --seconds "${UBLKCRYPT_CARD_BENCH_SECONDS:-2}"
    kernel_provider_vmtest bench kernel:cbc-aes-aesni --seconds "${UBLKCRYPT_CARD_BENCH_SECONDS:-2}"
fi
step "done"
