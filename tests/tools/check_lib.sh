# check_lib.sh: what the shell checks of installed files share (sourced, POSIX sh).
#   fail MESSAGE          counts a failure and says why (the check exits with $fails)
#   need_file PATH HINT   ends the check at once if PATH is not readable
#   need_command CMD HINT ends the check at once if CMD is missing
#   install_scratch BUILD `cmake --install BUILD` into $tmp/root (a scratch directory that
#                         goes when the check ends)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
need_file() { [ -r "$1" ] || { echo "FAIL: $1 missing ($2)"; exit 1; }; }
need_command() { command -v "$1" >/dev/null || { echo "FAIL: $1 missing ($2)"; exit 1; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
install_scratch() {
    DESTDIR=$tmp/root cmake --install "$1" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
}
