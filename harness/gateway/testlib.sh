# harness/gateway/testlib.sh - sourced by tests/integration/test_gateway_*.sh.
# Loads the testbed env, and gives bounded curl helpers and assertions that print both sides.
set -euo pipefail

: "${CUTOVER_TESTBED_DIR:?run under ctest, or export CUTOVER_TESTBED_DIR}"
# shellcheck source=/dev/null
. "$CUTOVER_TESTBED_DIR/env"
: "${CUTOVER_V1_URL:?the testbed has no gateway (build target cutover-gateway)}"

T_FAILS=0
T_NAME=$(basename "${0%.sh}")

t_log() { echo "$T_NAME: $*"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
    if [ "$2" == "$3" ]; then
        local shown=$2
        [ ${#shown} -gt 100 ] && shown="${shown:0:100}... (${#2} bytes)"
        t_log "ok   $1 == $shown"
    else
        t_log "FAIL $1: expected [$2] got [$3]"
        T_FAILS=$((T_FAILS + 1))
    fi
}

# assert_range WHAT LOW HIGH ACTUAL (numbers, inclusive; decimals allowed)
assert_range() {
    if awk -v lo="$2" -v hi="$3" -v x="$4" 'BEGIN { exit !(x >= lo && x <= hi) }'; then
        t_log "ok   $1 = $4 in [$2, $3]"
    else
        t_log "FAIL $1: $4 not in [$2, $3]"
        T_FAILS=$((T_FAILS + 1))
    fi
}

# http_get URL [curl args...]: body on stdout; status in $T_DIR/status, headers in $T_DIR/headers.
T_DIR=$(mktemp -d)
http_get() {
    local url=$1
    shift
    curl -s --max-time 10 -D "$T_DIR/headers" -o "$T_DIR/body" -w '%{http_code}' "$@" "$url" \
        >"$T_DIR/status" || echo 000 >"$T_DIR/status"
    cat "$T_DIR/body"
}
last_status() { cat "$T_DIR/status"; }
# last_header NAME: value of a header of the last http_get/http_post ("" if absent).
last_header() {
    grep -i "^$1:" "$T_DIR/headers" | head -n1 | cut -d: -f2- | tr -d ' \r' || true
}
# http_post URL JSON
http_post() {
    http_get "$1" -X POST -H 'Content-Type: application/json' --data-binary "$2"
}
# status_of URL [curl args...]: just the status code.
status_of() {
    curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@" || echo 000
}

# Reset both deployments (drift, faults, breaker, rate limit, nginx cache).
gw_reset() {
    local u
    for u in "$CUTOVER_V1_URL" "$CUTOVER_V2_URL"; do
        curl -s --max-time 10 -o /dev/null -X POST "$u/admin/reset" || true
    done
}

# On any exit (a failed command under set -e included): the test's own t_cleanup if it defines
# one, then reset both deployments and remove the temp dir.
_t_exit() {
    local rc=$?
    [ -n "${T_DONE:-}" ] || t_log "FAIL aborted with status $rc (a command failed under set -e)"
    if declare -F t_cleanup >/dev/null; then t_cleanup || true; fi
    gw_reset
    rm -rf "$T_DIR"
    exit "$rc"
}
trap _t_exit EXIT

# Ends the test: exit 1 if any assertion failed.
t_finish() {
    T_DONE=1
    if [ "$T_FAILS" -ne 0 ]; then
        t_log "$T_FAILS assertion(s) failed"
        exit 1
    fi
    t_log "all assertions passed"
    exit 0
}
