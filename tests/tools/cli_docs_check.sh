#!/bin/bash
# cli_docs_check.sh BUILD: the man page and the bash completion describe the CLI that is
# built. `cmake --install` into a scratch root must put ublkcrypt(8) and the completion in
# place; then, for every command path `ublkcrypt --help` lists (verbs, and the actions of
# opal and bench, recursively), the installed copies are compared with `ublkcrypt PATH
# --help`, both ways:
#   man page    a .SS heading per command path and an "Alias:" line per alias; the .TP
#               tags under a heading are exactly the command's options (but -h/--help)
#   completion  completing "ublkcrypt " offers exactly the verbs and aliases, completing
#               "ublkcrypt PATH -" exactly the command's options
# A verb or option the CLI grows, or loses, fails here until both documents follow.
# Negative controls: a CLI that grows an option (a wrapper adding one to `open --help`), a
# man page that loses a tag, a completion that loses an option must each fail.
set -u
export LC_ALL=C
build=$1
. "$(dirname "$0")/check_lib.sh"
need_file /usr/share/bash-completion/bash_completion "scripts/install-deps.sh installs bash-completion"

install_scratch "$build"
bin=$(find "$tmp/root" -path '*/sbin/ublkcrypt' | head -n 1)
man_page=$(find "$tmp/root" -path '*/share/man/man8/ublkcrypt.8' | head -n 1)
completion=$(find "$tmp/root" -path '*/share/bash-completion/completions/ublkcrypt' | head -n 1)
[ -n "$bin" ] || fail "no sbin/ublkcrypt installed"
[ -n "$man_page" ] || fail "no share/man/man8/ublkcrypt.8 installed"
[ -n "$completion" ] || fail "no share/bash-completion/completions/ublkcrypt installed"
[ "$fails" = 0 ] || exit 1
# bash-completion's loader finds it there: it searches XDG_DATA_DIRS/bash-completion/completions.
share=${completion%/bash-completion/completions/ublkcrypt}
found=$(XDG_DATA_DIRS=$share bash -c '. /usr/share/bash-completion/bash_completion
    __load_completion ublkcrypt && complete -p ublkcrypt' 2>&1)
[ "$found" = "complete -F _ublkcrypt ublkcrypt" ] ||
    fail "bash-completion does not load the installed completion from $share: $found"
# man finds the page by its section under the installed man tree.
man -M "${man_page%/man8/ublkcrypt.8}" -w 8 ublkcrypt >/dev/null 2>&1 ||
    fail "man -M ${man_page%/man8/ublkcrypt.8} does not find ublkcrypt(8)"

# help_lines BIN PATH...: "sub NAME ALIAS..." and "opt NAME..." lines from CLI11's help of
# PATH. Entries sit two spaces in, under "Subcommands:" and "Options:"; wrapped
# descriptions sit deeper and are skipped.
help_lines() {
    local bin=$1
    shift
    "$bin" "$@" --help | awk '
        /^[A-Za-z][A-Za-z ]*:$/ { section = $0; next }
        /^  [^ ]/ {
            if (section == "Subcommands:") {
                line = $0; sub(/^  /, "", line); sub(/   .*/, "", line); gsub(/,/, "", line)
                print "sub " line
            } else if (section == "Options:") {
                names = $1; gsub(/,/, " ", names)
                print "opt " names
            }
        }'
}

# cli_model BIN: "path P", "alias P A" and "opt P NAME" lines for every command path.
cli_model() {
    local bin=$1 queue=("") path kind name rest sub alias
    while [ ${#queue[@]} -gt 0 ]; do
        path=${queue[0]}
        queue=("${queue[@]:1}")
        # shellcheck disable=SC2086 # the path's words are its arguments
        while read -r kind name rest; do
            if [ "$kind" = sub ]; then
                sub=${path:+$path }$name
                echo "path $sub"
                for alias in $rest; do echo "alias $sub $alias"; done
                queue+=("$sub")
            elif [ -n "$path" ]; then
                for alias in $name $rest; do
                    [ "$alias" = -h ] || [ "$alias" = --help ] || echo "opt $path $alias"
                done
            fi
        done < <(help_lines "$bin" $path)
    done
}

# man_model PAGE: the same lines from the man page's source. Consecutive .SS headings
# (with .PD between them) share the body that follows; a heading's command path is its
# leading lower-case words ("open", "bench storage"); a .TP tag's words that start with
# '-' are options; "Alias:" is followed by the alias in bold.
man_model() {
    sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$1" | awk '
        function path_of(text,   n, w, i, p) {
            gsub(/"/, "", text); n = split(text, w, " "); p = ""
            for (i = 1; i <= n && w[i] ~ /^[a-z][a-z-]*$/; i++) p = p (p == "" ? "" : " ") w[i]
            return p
        }
        /^\.SH/ { ngroup = 0; heading = 0; next }
        /^\.SS/ {
            if (!heading) ngroup = 0
            heading = 1
            p = path_of(substr($0, 5)); group[++ngroup] = p; print "path " p
            next
        }
        /^\.PD/ { next }
        { heading = 0 }
        tag { tag = 0; line = $0; sub(/^\.[A-Z]+ /, "", line); gsub(/[",]/, " ", line)
              n = split(line, w, " ")
              for (i = 1; i <= n; i++) if (w[i] ~ /^--?[A-Za-z0-9]/)
                  for (g = 1; g <= ngroup; g++) print "opt " group[g] " " w[i]
              next }
        /^\.TP/ { if (ngroup) tag = 1; next }
        alias { alias = 0; split($0, w, " ")
                for (g = 1; g <= ngroup; g++) print "alias " group[g] " " w[2]
                next }
        /^Alias:$/ { alias = 1; next }'
}

# completion_model COMPLETION PATHS: "verb W" for what "ublkcrypt " offers, "opt P W" for
# what "ublkcrypt P -" offers, completed by bash as readline would.
completion_model() {
    local completion=$1 paths=$2
    bash -c '
        . /usr/share/bash-completion/bash_completion 2>/dev/null
        . "$1"
        offer() {  # offer WORD...: complete the last word
            COMP_WORDS=(ublkcrypt "$@"); COMP_CWORD=$#
            COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
            _ublkcrypt ublkcrypt "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf "%s\n" "${COMPREPLY[@]}"
        }
        for w in $(offer ""); do
            case $w in -h | --help) ;; *) echo "verb $w" ;; esac
        done
        while read -r path; do
            for w in $(offer $path -); do
                case $w in -h | --help) ;; *) echo "opt $path $w" ;; esac
            done
        done <<<"$2"' completion "$completion" "$paths"
}

# compare BIN PAGE COMPLETION: every difference between the CLI and the two documents, one
# line each; nothing when they agree.
compare() {
    local cli=$tmp/cli man=$tmp/man comp=$tmp/comp leaves
    cli_model "$1" | sort -u >"$cli"
    man_model "$2" | sort -u >"$man"
    # Command paths with subcommands (opal, bench) need no options of their own.
    leaves=$(awk '$1 == "path" { sub(/^path /, ""); print }' "$cli" |
        awk '{ p[NR] = $0 } END { for (i in p) { inner = 0
                 for (j in p) if (index(p[j], p[i] " ") == 1) inner = 1
                 if (!inner) print p[i] } }' | sort)
    completion_model "$3" "$leaves" | sort -u >"$comp"

    # The man page: every path, alias and option, and nothing the CLI lacks. A path the
    # man page gives as a group (opal, bench) may appear in headings only through its
    # actions.
    comm -23 <(grep -v '^path ' "$cli") <(grep -v '^path ' "$man") | sed 's/^/man page lacks: /'
    comm -13 <(grep -v '^path ' "$cli") <(grep -v '^path ' "$man") | sed 's/^/man page has, CLI lacks: /'
    comm -23 <(echo "$leaves" | sed 's/^/path /') <(grep '^path ' "$man") | sed 's/^/man page lacks: /'
    comm -13 <(grep '^path ' "$cli") <(grep '^path ' "$man") | sed 's/^/man page has, CLI lacks: /'
    # The completion.
    local cli_words
    cli_words=$( (awk '$1 == "path" && NF == 2 { print "verb " $2 }' "$cli"
                  awk '$1 == "alias" && NF == 3 { print "verb " $3 }' "$cli") | sort -u)
    comm -23 <(echo "$cli_words") <(grep '^verb ' "$comp") | sed 's/^/completion lacks: /'
    comm -13 <(echo "$cli_words") <(grep '^verb ' "$comp") | sed 's/^/completion has, CLI lacks: /'
    comm -23 <(grep '^opt ' "$cli") <(grep '^opt ' "$comp") | sed 's/^/completion lacks: /'
    comm -13 <(grep '^opt ' "$cli") <(grep '^opt ' "$comp") | sed 's/^/completion has, CLI lacks: /'
}

compare "$bin" "$man_page" "$completion" >"$tmp/differences"
if [ -s "$tmp/differences" ]; then
    cat "$tmp/differences"
    fail "the man page or the completion does not match the CLI"
fi
paths=$(cli_model "$bin" | grep -c '^path ')
options=$(cli_model "$bin" | grep -c '^opt ')
if [ "$paths" -lt 20 ] || [ "$options" -lt 100 ]; then
    fail "read only $paths command paths and $options options from --help: is the parser blind?"
fi

# Negative controls.
cat >"$tmp/grown" <<EOF
#!/bin/sh
# ublkcrypt with one more option on open.
if [ "\$1 \$2" = "open --help" ]; then
    "$bin" "\$@" | sed 's/^Options:\$/Options:\n  --grown-option TEXT         not documented/'
else
    exec "$bin" "\$@"
fi
EOF
chmod +x "$tmp/grown"
compare "$tmp/grown" "$man_page" "$completion" >"$tmp/grown.out"
grep -q 'man page lacks: opt open --grown-option' "$tmp/grown.out" ||
    fail "negative control: an option the CLI grew went unnoticed in the man page"
grep -q 'completion lacks: opt open --grown-option' "$tmp/grown.out" ||
    fail "negative control: an option the CLI grew went unnoticed in the completion"

sed '/^\.BI \\-\\-recovery\\-timeout " SECONDS"$/d' "$man_page" >"$tmp/shrunk.8"
compare "$bin" "$tmp/shrunk.8" "$completion" >"$tmp/shrunk.out"
grep -q 'man page lacks: opt open --recovery-timeout' "$tmp/shrunk.out" ||
    fail "negative control: a man page without open's --recovery-timeout passed"

sed 's/ --crypto-depth / /' "$completion" >"$tmp/shrunk.bash"
compare "$bin" "$man_page" "$tmp/shrunk.bash" >"$tmp/shrunk-completion.out"
grep -q 'completion lacks: opt bench contention --crypto-depth' "$tmp/shrunk-completion.out" ||
    fail "negative control: a completion without --crypto-depth passed"

[ "$fails" = 0 ] && echo "cli_docs_check: ok ($paths command paths, $options options: man page and completion agree)"
exit "$fails"
