# fio-verify.sh: one sequential fio pass whose every block carries a crc32c verify header,
# and the readings of its results, for the scenarios that check a whole device block by
# block. A scenario sources it with `. fio-verify.sh` (found on PATH); it runs under dash -e.
# The same job (name, size, block size) writes (--do_verify=0) and later checks
# (--verify_only), on the same device or on another view of the same data (dm-crypt over
# the same ciphertext): the header names each block's offset, so a block read from the
# wrong place, or one never written, shows up too.

# seq_fio DEVICE MIB OUT [FIO-OPTION...]: one sequential pass of 1 MiB direct requests at
# QD16 over the first MIB MiB of DEVICE. continue_on_error=verify lets a check report every
# bad block, not only the first. Writes OUT (terse), OUT.err (fio's messages: one line per
# bad block) and OUT.rc.
seq_fio() {
    _dev=$1 _mib=$2 _out=$3; shift 3
    _rc=0
    fio --name=seq --filename="$_dev" --rw=write --bs=1M --iodepth=16 --direct=1 \
        --ioengine=libaio --size=${_mib}M --verify=crc32c --continue_on_error=verify \
        --output-format=terse --terse-version=3 "$@" >"$_out" 2>"$_out.err" || _rc=$?
    echo $_rc >"$_out.rc"
}
# fio_field OUT N: field N of the terse line (5 error, 6 KiB read, 47 KiB written).
fio_field() { grep '^3;' "$1" | cut -d';' -f"$2"; }
# bad_blocks OUT: how many blocks fio's verify found wrong (one message line each).
bad_blocks() { grep -c 'at file .* offset [0-9]*, length' "$1.err" || true; }
# first_bad OUT: the offset of the first bad block, or "none".
first_bad() { sed -n 's/.* at file .* offset \([0-9]*\), length.*/\1/p' "$1.err" | head -n 1 | grep . || echo none; }

# fio_report OUT WHAT: prints fio's exit status, error, KiB moved, bad blocks and the first
# of fio's own lines about them. Bad blocks are wrong data (vm-lib.sh's wrong_data): the
# scenario goes on to count the rest, and no retry follows.
fio_report() {
    echo "$2: fio exit $(cat "$1.rc"), error $(fio_field "$1" 5)," \
         "read $(fio_field "$1" 6) KiB, written $(fio_field "$1" 47) KiB, bad blocks $(bad_blocks "$1")"
    if [ -s "$1.err" ]; then
        echo "$2: fio said (first 12 lines):"
        head -n 12 "$1.err" | sed 's/^/    /'
    fi
    [ "$(bad_blocks "$1")" = 0 ] || wrong_data "$2: $(bad_blocks "$1") bad blocks, the first at offset $(first_bad "$1")"
}
