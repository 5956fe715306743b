#!/bin/bash
# completion_check.sh COMPLETION: the bash completion as bash runs it. Loaded after
# bash-completion, `complete -p ublkcrypt` names its function; then command lines are
# completed as readline would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT) and the
# answers checked: verbs, a verb's options, option values, the names of open devices for
# close/status (from the state files in a scratch UBLKCRYPT_RUN_DIR), files for a backing.
set -u
export LC_ALL=C
completion=$1
. "$(dirname "$0")/check_lib.sh"
need_file /usr/share/bash-completion/bash_completion "scripts/install-deps.sh installs bash-completion"

# shellcheck source=/dev/null # bash-completion's helpers, then the script under test
. /usr/share/bash-completion/bash_completion
# shellcheck source=/dev/null
. "$completion"
spec=$(complete -p ublkcrypt 2>&1)
[ "$spec" = "complete -F _ublkcrypt ublkcrypt" ] || fail "complete -p ublkcrypt: '$spec'"

# complete LINE: the words bash would offer for LINE (the cursor at its end), sorted, one
# line, space-separated; after a ':' only what follows it, as readline inserts it there.
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    local w words
    read -r -a words <<<"$COMP_LINE"
    [[ $COMP_LINE == *" " ]] && words+=("")
    # bash splits words at ':' and '=' too (COMP_WORDBREAKS): "kernel:" is "kernel" ":" "".
    COMP_WORDS=()
    for w in "${words[@]}"; do
        while [[ $w =~ ^([^:=]*)([:=])(.*)$ ]]; do
            COMP_WORDS+=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
            w=${BASH_REMATCH[3]}
        done
        COMP_WORDS+=("$w")
    done
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _ublkcrypt ublkcrypt "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# expect LINE WORDS: bash offers exactly WORDS (sorted) for LINE.
expect() {
    local got
    got=$(complete_line "$1")
    [ "$got" = "$2" ] || fail "'$1' completes to '$got', expected '$2'"
}
# expect_has LINE WORD...: bash offers at least these.
expect_has() {
    local line=$1 got w
    shift
    got=" $(complete_line "$line") "
    for w in "$@"; do [[ $got == *" $w "* ]] || fail "'$line' does not offer '$w' (got:$got)"; done
}
# expect_lacks LINE WORD...: bash offers none of these.
expect_lacks() {
    local line=$1 got w
    shift
    got=" $(complete_line "$line") "
    for w in "$@"; do [[ $got == *" $w "* ]] && fail "'$line' offers '$w'"; done
}

# Verbs and cryptsetup's aliases.
expect "ublkcrypt cl" "close"
expect "ublkcrypt luksF" "luksFormat"
expect_has "ublkcrypt " open close status format bench opal luksDump
expect_lacks "ublkcrypt " watchdog
# A verb's options, and only its own.
expect "ublkcrypt status -" "--help --json -h"
expect "ublkcrypt open --rec" "--recover --recovery-timeout"
expect "ublkcrypt luksDump --" "--dump-json-metadata --header --help --json"
expect_lacks "ublkcrypt close -" --json
# Actions of opal and bench, and their options.
expect "ublkcrypt opal " "--help -h discover erase-range lock psid-revert revert setup status unlock"
expect "ublkcrypt opal lock --" "--help --key-file --range --user"
expect_has "ublkcrypt bench model --" --cores --placement --target --json
# Option values.
expect "ublkcrypt open --type " "luks luks1 luks2 plain tcrypt"
expect "ublkcrypt format --type " "luks1 luks2"
expect "ublkcrypt format --pbkdf arg" "argon2i argon2id"
expect "ublkcrypt bench crypto --provider k" "kernel"
expect "ublkcrypt open --type plain --cipher aes-cbc-essiv:" "sha256"
# Kernel drivers for --backend, from /proc/crypto as `ublkcrypt backends --all` reads it.
driver=$(awk '/^driver / { d = $3 } /^internal / { i = $3 } /^type / { t = $3 }
              /^$/ { if (t == "skcipher" && i != "yes") { print d; exit } d = i = t = "" }' /proc/crypto)
if [ -n "$driver" ]; then
    expect_has "ublkcrypt migrate vol --backend kernel:" "$driver"
    expect_has "ublkcrypt migrate vol --backend k" kernel "kernel:$driver"
else
    echo "completion_check: no skcipher driver in /proc/crypto; --backend kernel:DRIVER not checked"
fi
# A value is not a positional: after `--depth 64` the next word is still DEVICE.
: >"$tmp/vol.img"
(cd "$tmp" && expect "ublkcrypt open --depth 64 vo" "vol.img")
(cd "$tmp" && expect "ublkcrypt open --depth=64 vo" "vol.img")
# A detached header is a file.
(cd "$tmp" && expect "ublkcrypt open --header vo" "vol.img")
expect "ublkcrypt open --type=" "luks luks1 luks2 plain tcrypt"
expect "ublkcrypt open --hash sha2" "sha256"
# A flag takes no value: the next word is DEVICE.
(cd "$tmp" && expect "ublkcrypt open --foreground vo" "vol.img")
(cd "$tmp" && expect "ublkcrypt format --hw-opal-only -q vo" "vol.img")

# Names of open devices, from the state files.
mkdir "$tmp/run"
: >"$tmp/run/secret.json"
: >"$tmp/run/scratch.json"
: >"$tmp/run/other.lock"
export UBLKCRYPT_RUN_DIR=$tmp/run
expect "ublkcrypt close " "scratch secret"
expect "ublkcrypt status s" "scratch secret"
expect "ublkcrypt status --json sec" "secret"
expect "ublkcrypt migrate sc" "scratch"
expect "ublkcrypt close secret " ""
(cd "$tmp" && expect_has "ublkcrypt open --recover s" secret scratch)
rm "$tmp/run/"*.json
expect "ublkcrypt close " ""

# Files and devices for a backing, key files for their options.
mkdir "$tmp/files"
: >"$tmp/files/disk.img"
: >"$tmp/files/key.bin"
cd "$tmp/files" || exit 1
expect "ublkcrypt open d" "disk.img"
expect "ublkcrypt format " "disk.img key.bin"
expect "ublkcrypt open --key-file k" "key.bin"
expect "ublkcrypt open disk.img " ""   # NAME is new: nothing to offer
expect_has "ublkcrypt dump /dev/nul" /dev/null

[ "$fails" = 0 ] && echo "completion_check: ok"
exit "$fails"
