#!/bin/bash
# repeat.sh COUNT [--show REGEX] RUN-VM-ARGS...: runs one scenario COUNT times in a row
# through run-vm.sh (one VM at a time), every run even after a failure, and ends with
# "repeat: COUNT runs, P passed, F failed" (exit 0 only if all passed). Each run's console
# log is kept as DIR/runN.console.log (DIR: $UBLKCRYPT_VM_REPEAT_DIR, default a new temp
# dir, printed); --show prints each run's console lines matching REGEX (grep -E).
# The closing evidence for a scenario that must never fail, e.g.
#   tests/vm/repeat.sh 5 --show 'figures:' tests/vm/scenarios/card_pull_verify.sh \
#       --bin build/tools/ublkcrypt --crypto-card card0 \
#       --host-hook tests/vm/scenarios/card_pull_verify.hook --timeout 600
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] && [[ $1 =~ ^[0-9]+$ ]] || { sed -n '2,10p' "$0" >&2; exit 2; }
count=$1; shift
show=""
if [ "$1" = --show ]; then show=$2; shift 2; fi
dir=${UBLKCRYPT_VM_REPEAT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ublkcrypt-vm-repeat.XXXXXX")}
mkdir -p "$dir"
echo "repeat: $count runs of $*; console logs in $dir"
passed=0
for i in $(seq "$count"); do
    t0=$(date +%s)
    "$HERE/run-vm.sh" "$@" --log "$dir/run$i.console.log" >"$dir/run$i.out" 2>&1
    rc=$?
    [ $rc = 0 ] && passed=$((passed + 1))
    echo "repeat: run $i/$count: exit $rc, $(( $(date +%s) - t0 )) s wall"
    grep -E '^run-vm: .*\(boot [12]\): kernel|^run-vm: guest never reached' "$dir/run$i.out" |
        awk '!seen[$0]++' | sed 's/^/    /'
    [ -z "$show" ] || tr -d '\r' <"$dir/run$i.console.log" | grep -E "$show" | sed 's/^/    /'
done
echo "repeat: $count runs, $passed passed, $((count - passed)) failed"
[ "$passed" = "$count" ]
