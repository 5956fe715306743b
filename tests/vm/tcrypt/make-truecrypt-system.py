#!/usr/bin/env python3
"""make-truecrypt-system.py IMAGE PASSPHRASE: a 6 MiB disk image whose one partition is under
TrueCrypt system encryption (AES-256-XTS, PBKDF2-RIPEMD160 at the 1000 iterations TrueCrypt
uses for system headers), for vm_tcrypt.

tcplay maps system volumes but does not make them, so this writes the disk itself, as
TrueCrypt's documentation lays it out: an MBR with one partition from 1 MiB to 5 MiB, the
volume header in sector 62 (the first track, where the boot loader reads it), and the
partition's sectors encrypted with their IVs counted from the disk's start. The header is a
64-byte salt, then 448 bytes encrypted with AES-256-XTS (data unit 0) under the key PBKDF2
derives from the passphrase: the magic "TRUE", versions, CRC32s of the master keys and of
the header fields, the volume's size, the encrypted area's start and length, the system
encryption flag, the sector size and the master keys. The partition's content is random
bytes: the scenario writes its own plaintext through dm-crypt. cryptsetup is the oracle that
this layout is right.
"""
import hashlib
import os
import struct
import sys
import zlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECTOR = 512
DISK_BYTES = 6 * 1024 * 1024
PART_START = 1024 * 1024
PART_BYTES = 4 * 1024 * 1024
HEADER_OFFSET = 62 * SECTOR
SYSTEM_ENCRYPTION = 1


def header(passphrase: bytes, master_keys: bytes) -> bytes:
    fields = bytearray(448)
    fields[0:4] = b"TRUE"
    struct.pack_into(">HH", fields, 4, 5, 0x0700)  # header version 5, needs TrueCrypt 7.0
    struct.pack_into(">I", fields, 8, zlib.crc32(master_keys))
    # hidden volume size, volume size, encrypted area start, encrypted area length
    struct.pack_into(">QQQQ", fields, 28, 0, PART_BYTES, PART_START, PART_BYTES)
    struct.pack_into(">II", fields, 60, SYSTEM_ENCRYPTION, SECTOR)  # flags, sector size
    struct.pack_into(">I", fields, 188, zlib.crc32(bytes(fields[0:188])))
    fields[192:448] = master_keys
    salt = os.urandom(64)
    key = hashlib.pbkdf2_hmac("ripemd160", passphrase, salt, 1000, 64)
    encryptor = Cipher(algorithms.AES(key), modes.XTS(bytes(16))).encryptor()
    return salt + encryptor.update(bytes(fields)) + encryptor.finalize()


def mbr() -> bytes:
    sector = bytearray(SECTOR)
    # One primary partition: not bootable here, CHS unused (0xfe...), type 0x07 as TrueCrypt
    # leaves an encrypted NTFS partition, LBA start and length.
    entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x07, b"\xfe\xff\xff",
                        PART_START // SECTOR, PART_BYTES // SECTOR)
    sector[446:446 + 16] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def main() -> None:
    image, passphrase = sys.argv[1], sys.argv[2].encode()
    master_keys = os.urandom(64) + bytes(192)  # AES-XTS: two 256-bit keys; the rest unused
    disk = bytearray(DISK_BYTES)
    disk[0:SECTOR] = mbr()
    disk[HEADER_OFFSET:HEADER_OFFSET + SECTOR] = header(passphrase, master_keys)
    disk[PART_START:PART_START + PART_BYTES] = os.urandom(PART_BYTES)
    with open(image, "wb") as out:
        out.write(disk)


if __name__ == "__main__":
    main()
