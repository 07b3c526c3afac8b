#!/usr/bin/env bash
# An endpoint that cannot be reached at start: exit 3 and a message naming it; credentials
# never printed.
. "$(dirname "$0")/drvlib.sh"
closed=$(free_port)
run_expect_3() { # run_expect_3 NAME SCENARIO_JSON -> stderr in $WORK/NAME.err
    printf '%s' "$2" >"$WORK/$1.json"
    set +e
    "$BIN" run "$WORK/$1.json" --quiet --out "$WORK/$1.out" 2>"$WORK/$1.err"
    rc=$?
    set -e
    [ "$rc" = 3 ] || fail "$1: exit $rc, want 3 ($(cat "$WORK/$1.err"))"
    echo "ok: $1 exits 3: $(head -c 300 "$WORK/$1.err")"
}
run_expect_3 http "{\"name\": \"pf\", \"endpoints\": {\"web\": {\"type\": \"http\", \"base_url\": \"http://127.0.0.1:$closed\"}},
 \"steps\": {\"g\": {\"http\": {\"endpoint\": \"web\", \"url\": \"/\"}}},
 \"phases\": [{\"name\": \"p\", \"executor\": \"iterations\", \"steps\": [\"g\"]}]}"
grep -q "endpoint 'web'" "$WORK/http.err" || fail "http: message does not name the endpoint"
grep -q "127.0.0.1:$closed" "$WORK/http.err" || fail "http: message does not name the address"

run_expect_3 redis "{\"name\": \"pf\", \"endpoints\": {\"cache\": {\"type\": \"redis\", \"url\": \"redis://127.0.0.1:$closed/0\"}},
 \"steps\": {\"g\": {\"redis\": {\"endpoint\": \"cache\", \"command\": [\"PING\"]}}},
 \"phases\": [{\"name\": \"p\", \"executor\": \"iterations\", \"steps\": [\"g\"]}]}"
grep -q "endpoint 'cache'" "$WORK/redis.err" || fail "redis: message does not name the endpoint"

bad_dsn=$(printf '%s' "$CUTOVER_PG_DSN" | sed 's#://cutover:[^@]*@#://cutover:Sekr1t-wrong@#')
run_expect_3 pg "{\"name\": \"pf\", \"endpoints\": {\"db\": {\"type\": \"postgres\", \"dsn\": \"$bad_dsn\"}},
 \"steps\": {\"q\": {\"sql\": {\"endpoint\": \"db\", \"query\": \"SELECT 1\"}}},
 \"phases\": [{\"name\": \"p\", \"executor\": \"iterations\", \"steps\": [\"q\"]}]}"
grep -q "endpoint 'db'" "$WORK/pg.err" || fail "pg: message does not name the endpoint"
if grep -q "Sekr1t-wrong" "$WORK/pg.err"; then fail "pg: the password leaked into the message"; fi
echo "ok: the password is not in the message"
# Even a run that could not start leaves a report saying why (for the pipeline's dashboard).
check_eq "report marked" "$(jqr "$WORK/pg.out" '.run.interrupted')" true
jqr "$WORK/pg.out" '.run.stop_reason' | grep -q "could not start: endpoint 'db'" || fail "no stop reason in the report"
if grep -q "Sekr1t-wrong" "$WORK/pg.out"; then fail "the password leaked into the report"; fi
echo "ok: report written, marked, without the password"
