// An excerpt of /proc/crypto from the test VM (Debian 6.12, virtio-crypto card plugged in,
// after essiv(cbc(aes),sha256) and xts(aes) were instantiated), trimmed to what the kernel
// provider reads. Blocks keep the kernel's field order.
#pragma once

inline constexpr const char* kVmProcCrypto = R"(name         : essiv(cbc(aes),sha256)
driver       : essiv(virtio_crypto_aes_cbc,sha256-avx2)
module       : essiv
priority     : 150
refcnt       : 1
selftest     : passed
internal     : no
type         : skcipher
async        : yes
blocksize    : 16
min keysize  : 16
max keysize  : 32
ivsize       : 16
chunksize    : 16
walksize     : 16

name         : cbc(aes)
driver       : virtio_crypto_aes_cbc
module       : virtio_crypto
priority     : 150
refcnt       : 2
selftest     : passed
internal     : no
type         : skcipher
async        : yes
blocksize    : 16
min keysize  : 16
max keysize  : 32
ivsize       : 16

name         : xts(aes)
driver       : xts-aes-vaes-avx512
module       : aesni_intel
priority     : 800
refcnt       : 1
selftest     : passed
internal     : no
type         : skcipher
async        : yes

name         : __xts(aes)
driver       : __xts-aes-vaes-avx512
module       : aesni_intel
priority     : 800
refcnt       : 2
selftest     : passed
internal     : yes
type         : skcipher
async        : no

name         : cbc(aes)
driver       : cbc-aes-aesni
module       : aesni_intel
priority     : 400
refcnt       : 1
selftest     : passed
internal     : no
type         : skcipher
async        : yes

name         : xts(aes)
driver       : xts(ecb(aes-generic))
module       : kernel
priority     : 100
refcnt       : 1
selftest     : passed
internal     : no
type         : skcipher
async        : no

name         : aes
driver       : aes-generic
module       : kernel
priority     : 100
refcnt       : 1
selftest     : passed
internal     : no
type         : cipher
blocksize    : 16
min keysize  : 16
max keysize  : 32
)";
