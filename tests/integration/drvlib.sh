# drvlib.sh - shared by the driver's integration tests (sourced, not a test itself).
# Gives: $BIN, $WORK (a temp dir removed at exit), fail, check_eq, check_range, jqr.
set -euo pipefail
BIN=${CUTOVER_BIN:?CUTOVER_BIN not set (run through ctest)}
# shellcheck source=/dev/null
. "${CUTOVER_TESTBED_DIR:?CUTOVER_TESTBED_DIR not set}/env"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutover-it.XXXXXX")
cleanup_hooks=()
on_exit() {
    local h
    for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
    rm -rf "$WORK"
}
trap on_exit EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# jqr FILE FILTER: one raw value.
jqr() { jq -r "$2" "$1"; }
check_eq() { # check_eq WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got $2, want $3"
    echo "ok: $1 = $2"
}
check_range() { # check_range WHAT GOT LO HI (integers or decimals)
    awk -v g="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(g >= lo && g <= hi) }' ||
        fail "$1: got $2, want within [$3, $4]"
    echo "ok: $1 = $2 in [$3, $4]"
}
# A free loopback port below the ephemeral range (as harness/testbed picks them).
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    fail "no free port"
}
