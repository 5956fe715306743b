# suspend_resume.sh (guest, sh -e): `ublkcrypt suspend` and `resume` (cryptsetup luksSuspend
# and luksResume, issue 18), with dm-crypt as the oracle.
#  - Suspended, I/O to the device waits (a read and a write started then are still running
#    seconds later) and the server holds no 16-byte piece of the volume key anywhere in its
#    memory, nor the keyring its recovery copy (`ublkcrypt-test key-scan`; before the
#    suspend, the same scan finds the key: it can see it).
#  - A wrong passphrase is refused with exit 2 and the volume stays suspended; close is
#    refused while suspended (exit 5); a second suspend, and resume of an active volume,
#    exit 1.
#  - resume with the passphrase lets the held read and write finish: the read returns what
#    was written before the suspend, and dm-crypt reads the volume back with the write in it.
# Needs --bin ublkcrypt and --bin ublkcrypt-test.
. vm-lib.sh
step() { echo "== suspend_resume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
kdf="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
printf 'suspend-passphrase' >/tmp/pass
printf 'not-the-passphrase' >/tmp/wrong

# pieces: how many 16-byte pieces of the volume key the server holds in its memory.
pieces() { ublkcrypt-test key-scan "$pid" --key-hex-file /tmp/key.hex; }
parked() { grep -c 'ublkcrypt:vol' /proc/keys || true; }
running() { kill -0 "$1" 2>/dev/null; }

step "a LUKS2 volume made by cryptsetup, opened by ublkcrypt, 4 MiB written"
truncate -s 32M /tmp/vol.img
cryptsetup luksFormat -q --type luks2 $kdf --key-file /tmp/pass /tmp/vol.img
cryptsetup luksDump --dump-volume-key -q --key-file /tmp/pass /tmp/vol.img |
    awk '/^MK dump:/ { keep = 1; sub(/^MK dump:/, "") } keep' | tr -cd '0-9a-f' >/tmp/key.hex
[ "$(wc -c </tmp/key.hex)" = 128 ] || { echo "no 512-bit volume key in luksDump: $(cat /tmp/key.hex)"; exit 1; }
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/vol.img vol)
head -c 4194304 /dev/urandom >/tmp/a
dd if=/tmp/a of="$dev" bs=1M oflag=direct conv=fsync 2>/dev/null
pid=$(ublkcrypt status vol --json | sed -n 's/^ *"pid": *\([0-9]*\),*$/\1/p')
[ -n "$pid" ] || { echo "no server pid in status --json"; exit 1; }
before=$(pieces)
echo "key pieces in the serving server: $before; parked for recovery: $(parked)"
[ "$before" -gt 0 ] || { echo "the scan finds no key in a serving server: it proves nothing"; exit 1; }
[ "$(parked)" = 1 ]

step "suspend: I/O waits, the key is gone from the server and the keyring"
ublkcrypt suspend vol
ublkcrypt status vol | grep -q 'mode: .*(suspended)'
dd if="$dev" of=/tmp/read bs=1M count=4 iflag=direct 2>/dev/null &
reader=$!
head -c 1048576 /dev/urandom >/tmp/b
dd if=/tmp/b of="$dev" bs=1M seek=8 oflag=direct conv=fsync 2>/dev/null &
writer=$!
sleep 3
running $reader || { echo "a read finished on a suspended volume"; exit 1; }
running $writer || { echo "a write finished on a suspended volume"; exit 1; }
after=$(pieces)
echo "key pieces in the suspended server: $after; parked: $(parked)"
[ "$after" = 0 ] || { echo "the suspended server still holds $after pieces of its key"; exit 1; }
[ "$(parked)" = 0 ] || { echo "the recovery copy of the key is still in the keyring"; exit 1; }

step "refusals while suspended: wrong passphrase, close, a second suspend"
expect_exit 2 ublkcrypt resume --key-file /tmp/wrong vol
expect_exit 5 ublkcrypt close vol
expect_exit 1 ublkcrypt suspend vol
running $reader || { echo "the held read finished without a resume"; exit 1; }
ublkcrypt status vol | grep -q '(suspended)'

step "resume: the held read and write finish"
ublkcrypt resume --key-file /tmp/pass vol
wait $reader
wait $writer
cmp /tmp/a /tmp/read
echo "the read held across the suspend returned what was written before it"
[ "$(pieces)" -gt 0 ]
[ "$(parked)" = 1 ]
expect_exit 1 ublkcrypt resume --key-file /tmp/pass vol
if ublkcrypt status vol | grep -q '(suspended)'; then echo "still suspended after resume"; exit 1; fi
ublkcrypt close vol

step "dm-crypt reads the volume back, with the write made while suspended"
cryptsetup open --readonly --key-file /tmp/pass /tmp/vol.img dm
cmp -n 4194304 /tmp/a /dev/mapper/dm
dd if=/dev/mapper/dm bs=1M skip=8 count=1 2>/dev/null | cmp - /tmp/b
cryptsetup close dm
echo "suspend_resume: all good"
