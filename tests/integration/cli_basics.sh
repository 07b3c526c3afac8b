#!/usr/bin/env bash
# The command line's contract: help, version, unknown commands, commands not built yet.
set -uo pipefail
bin=${CUTOVER_BIN:?CUTOVER_BIN not set (run through ctest)}
fails=0
check() { # check WANT_RC DESCRIPTION -- COMMAND...
    local want=$1 what=$2
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: $what: exit $rc, want $want; output: $out"
        fails=$((fails + 1))
    fi
    LAST_OUT=$out
}
expect_text() { # expect_text DESCRIPTION REGEX
    if ! grep -qE -- "$2" <<<"$LAST_OUT"; then
        echo "FAIL: $1: output lacks /$2/: $LAST_OUT"
        fails=$((fails + 1))
    fi
}

check 0 "--help" -- "$bin" --help
for c in run validate parity data report merge; do expect_text "--help lists $c" "^  $c "; done
check 0 "--version" -- "$bin" --version
expect_text "--version" '^cutover [0-9]+\.[0-9]+\.[0-9]+$'
check 0 "run --help" -- "$bin" run --help
expect_text "run --help" 'usage: cutover run SCENARIO.json'
check 0 "help run" -- "$bin" help run
expect_text "help run" 'usage: cutover run'
check 2 "unknown command" -- "$bin" frobnicate
expect_text "unknown command" "unknown command 'frobnicate'"
check 2 "no command" -- "$bin"
for c in run validate parity data report merge; do
    check 0 "$c --help" -- "$bin" $c --help
    expect_text "$c --help" "usage: cutover $c"
done
echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
