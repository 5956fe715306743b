#!/bin/sh
# man_page_check.sh MANPAGE: ublkcrypt(8) renders without a warning, through groff with
# every warning on (-ww) and through man as a user reads it (--warnings). The negative
# control: a copy with an unknown macro and a broken font escape must draw warnings, or the
# check is blind.
set -u
page=$1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
    echo "FAIL: groff or man missing (scripts/install-deps.sh installs groff-base, man-db)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render PAGE OUT: every complaint groff and man have about PAGE, into OUT.
render() {
    groff -man -ww -z "$1" >"$2" 2>&1
    # man's own check renders for a terminal, as `man ublkcrypt` does.
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>>"$2" >"$tmp/rendered.txt"
}

render "$page" "$tmp/warnings"
if [ -s "$tmp/warnings" ]; then
    cat "$tmp/warnings"
    fail "$page renders with warnings"
fi
# It says something: the sections a man page of a command has.
for section in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
    grep -q "^$section\$" "$tmp/rendered.txt" || fail "no section $section"
done

sed -e 's/^\.SH FILES$/.XY FILES/' -e 's/^\.B cryptsetup luksFormat$/.B \\fQcryptsetup luksFormat/' \
    "$page" >"$tmp/broken.8"
render "$tmp/broken.8" "$tmp/broken.warnings"
grep -q 'XY' "$tmp/broken.warnings" || fail "negative control: an unknown macro drew no warning"
grep -qi 'font' "$tmp/broken.warnings" || fail "negative control: a bad font escape drew no warning"

[ "$fails" = 0 ] && echo "man_page_check: ok ($(wc -l <"$tmp/rendered.txt") lines, no warnings)"
exit "$fails"
