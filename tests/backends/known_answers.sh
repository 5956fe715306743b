#!/bin/sh
# Regenerates the known answers hard-coded in known_answers.h, from tools that share
# no code with ublkcrypt's IV handling: the openssl command line (ESSIV: SHA-256 salt,
# AES-256-ECB of the little-endian sector number, then AES-CBC without padding) and
# python3-cryptography for XTS (openssl enc refuses XTS). Each line prints the SHA-256 of one
# encrypted sector; the test compares its own output's SHA-256 with it.
#   plaintext byte i = (i*31 + 7) mod 256;  key byte i = (i*3 + 1) mod 256
set -eu
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

pattern() { python3 -c "import sys; sys.stdout.buffer.write(bytes((i*31+7)%256 for i in range($1)))"; }
keyhex() { python3 -c "print(bytes((i*3+1)%256 for i in range($1)).hex())"; }
le64iv() { python3 -c "print(($1).to_bytes(8,'little').hex() + '00'*8)"; }

# essiv <key bytes> <sector size> <iv = sector*(size/512)+iv_offset>
essiv() {
  key=$(keyhex "$1")
  salt=$(printf %s "$key" | xxd -r -p | openssl dgst -sha256 -binary | xxd -p -c 64)
  iv=$(le64iv "$3" | xxd -r -p | openssl enc -aes-256-ecb -K "$salt" -nopad | xxd -p -c 64)
  pattern "$2" | openssl enc "-aes-$(( $1 * 8 ))-cbc" -K "$key" -iv "$iv" -nopad |
    openssl dgst -sha256 | sed 's/.*= //'
}

# xts <key bytes> <sector size> <iv>
xts() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
kb, size, iv = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
key = bytes((i*3+1) % 256 for i in range(kb))
pt = bytes((i*31+7) % 256 for i in range(size))
enc = Cipher(algorithms.AES(key), modes.XTS(iv.to_bytes(16, 'little'))).encryptor()
print(hashlib.sha256(enc.update(pt) + enc.finalize()).hexdigest())
PY
}

echo "essiv 128-bit, 512-byte sector 5:                $(essiv 16 512 5)"
echo "essiv 256-bit, 512-byte sector 5:                $(essiv 32 512 5)"
echo "essiv 256-bit, 512-byte sector 5, iv_offset 100: $(essiv 32 512 105)"
echo "essiv 192-bit, 4096-byte sector 3 (IV 24):       $(essiv 24 4096 24)"
echo "xts 512-bit, 4096-byte sector 7 (IV 56):         $(xts 64 4096 56)"
echo "xts 256-bit, 4096-byte sector 7, iv_offset 3 (IV 59): $(xts 32 4096 59)"
echo "xts 512-bit, 1024-byte sector 9 (IV 18):         $(xts 64 1024 18)"
