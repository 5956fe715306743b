#!/usr/bin/env python3
"""make-veracrypt.py IMAGE PASSPHRASE PIM: a 2 MiB VeraCrypt volume, AES-256-XTS with
PBKDF2-SHA512 at the iterations PIM gives (15000 + 1000 * PIM), for vm_tcrypt.

No Debian 12 package makes VeraCrypt volumes (tcplay writes TrueCrypt headers, cryptsetup
formats neither), so this writes the header itself, as VeraCrypt's documentation lays it
out: a 64-byte salt, then 448 bytes encrypted with AES-256-XTS (data unit 0) under the key
PBKDF2 derives from the passphrase. The decrypted part holds the magic "VERA", versions,
CRC32s of the master keys and of the header fields, the volume's size and data offset, the
sector size and the master keys. The data starts after the 128 KiB header area; the backup
header sits in the last 128 KiB. cryptsetup is the oracle that this header is right.
"""
import hashlib
import os
import struct
import sys
import zlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IMAGE_BYTES = 2 * 1024 * 1024
HEADER_AREA = 128 * 1024  # the primary header and the hidden volume's, before the data
SECTOR = 512


def header(passphrase: bytes, pim: int, master_keys: bytes) -> bytes:
    volume_size = IMAGE_BYTES - 2 * HEADER_AREA
    fields = bytearray(448)
    fields[0:4] = b"VERA"
    struct.pack_into(">HH", fields, 4, 5, 0x010B)  # header version 5, needs VeraCrypt 1.11
    struct.pack_into(">I", fields, 8, zlib.crc32(master_keys))
    # 16 reserved bytes; hidden volume size, volume size, data offset, encrypted size
    struct.pack_into(">QQQQ", fields, 28, 0, volume_size, HEADER_AREA, volume_size)
    struct.pack_into(">II", fields, 60, 0, SECTOR)  # flags, sector size
    struct.pack_into(">I", fields, 188, zlib.crc32(bytes(fields[0:188])))
    fields[192:448] = master_keys
    salt = os.urandom(64)
    key = hashlib.pbkdf2_hmac("sha512", passphrase, salt, 15000 + 1000 * pim, 64)
    encryptor = Cipher(algorithms.AES(key), modes.XTS(bytes(16))).encryptor()
    return salt + encryptor.update(bytes(fields)) + encryptor.finalize()


def main() -> None:
    image, passphrase, pim = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    master_keys = os.urandom(64) + bytes(192)  # AES-XTS: two 256-bit keys; the rest unused
    with open(image, "wb") as out:
        out.write(header(passphrase, pim, master_keys).ljust(HEADER_AREA, b"\0"))
        out.write(os.urandom(IMAGE_BYTES - 2 * HEADER_AREA))
        out.write(header(passphrase, pim, master_keys).ljust(HEADER_AREA, b"\0"))


if __name__ == "__main__":
    main()
