#!/usr/bin/env bash
# Breakers as seed 001 has them: with DB faults injected in two separate windows, cutover's
# poller reports exactly 2 trips, each within one poll interval of the gateway's own OPEN
# transition; the 503 CIRCUIT_OPEN answers are counted as breaker rejections (exactly as many
# as the gateway rejected), apart from errors; 429s on the limited route count as rate-limited.
# Changes the gateway's settings: takes the testbed lock and resets them.
. "$(dirname "$0")/drvlib.sh"
v2=$CUTOVER_V2_URL
reset() { curl -s -o /dev/null -X POST "$v2/admin/reset"; }
cleanup_hooks+=(reset)
reset
cat >"$WORK/s.json" <<'JSON'
{"name": "breakers",
 "endpoints": {"v2": {"type": "http", "base_url": "${CUTOVER_V2_URL}"}},
 "steps": {
   "enroll": {"http": {"endpoint": "v2", "url": "/api/enrollments"}},
   "limited": {"http": {"endpoint": "v2", "url": "/api/limited/report"}}},
 "phases": [
   {"name": "setup", "action": {"http": {"endpoint": "v2", "method": "POST", "url": "/admin/breaker",
                                          "body": {"failure_threshold": 3, "open_timeout_s": 1}}}},
   {"name": "limits", "action": {"http": {"endpoint": "v2", "method": "POST", "url": "/admin/ratelimit",
                                           "body": {"requests_per_minute": 60, "burst": 5}}}},
   {"name": "load", "executor": "constant-arrival-rate", "rate": 50, "duration": "7s", "steps": ["enroll"]},
   {"name": "throttled", "executor": "iterations", "iterations": 20, "concurrency": 1, "steps": ["limited"]}],
 "breakers": {"endpoint": "v2", "url": "/circuit-breakers/status", "interval": "200ms",
              "state": "/breakers/*/state", "open": ["OPEN"], "half_open": ["HALF_OPEN"], "closed": ["CLOSED"],
              "rejection": {"status": 503, "json": "/metadata/error_code", "equals": "CIRCUIT_OPEN"}}}
JSON
fault() { curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"db_error_rate": 1, "duration_s": 0.8, "route": "/api/enrollments"}' "$v2/admin/faults"; }
(sleep 1.5; fault; sleep 3; fault) &
"$BIN" run "$WORK/s.json" --threads 1 --quiet --out "$WORK/r.json"
wait
curl -s "$v2/circuit-breakers/status" >"$WORK/gw.json"
r=$WORK/r.json
check_eq "trips" "$(jqr "$r" '.breakers.trips')" 2
check_eq "gateway trips" "$(jqr "$WORK/gw.json" '.breakers.postgres.trips')" 2
# Each OPEN seen by cutover lies within one poll interval (200 ms, plus 100 ms of slack for the
# poll's own round trip) after the gateway's transition.
for i in 0 1; do
    gw=$(jqr "$WORK/gw.json" "[.breakers.postgres.transitions[] | select(.to == \"OPEN\")][$i].at_ms")
    cu=$(jqr "$r" "[.breakers.transitions[] | select(.to == \"OPEN\")][$i].at_ms")
    check_range "OPEN #$i seen after the gateway's (ms)" "$((cu - gw))" 0 300
done
check_eq "breaker named by its pointer" "$(jqr "$r" '.breakers.transitions[0].breaker')" /breakers/postgres/state
rej=$(jqr "$r" '.phases[] | select(.name == "load") | .totals.breaker_rejections')
check_eq "rejections counted = gateway's" "$rej" "$(jqr "$WORK/gw.json" '.breakers.postgres.rejections')"
check_range "rejections" "$rej" 10 200
check_eq "rejections at run level" "$(jqr "$r" '.breakers.rejections')" "$rej"
# Before each opening, exactly threshold (3) requests failed with the database error.
check_eq "status errors" "$(jqr "$r" '.phases[] | select(.name == "load") | .totals.errors.by_kind.status')" 6
t=$(jqr "$r" '.phases[] | select(.name == "throttled") | .totals')
check_eq "throttled: errors" "$(jq -r '.errors.count' <<<"$t")" 0
rl=$(jq -r '.ratelimited' <<<"$t")
ok=$(jq -r '.status["200"] // 0' <<<"$t")
check_eq "throttled: 200s + 429s" "$((rl + ok))" 20
check_range "throttled: rate-limited" "$rl" 13 15
# The per-second series carries the breaker state: open in some second of the load, closed at first.
load='.phases[] | select(.name == "load") | .series'
check_eq "series: breakers open at the start" "$(jqr "$r" "$load | .[0].breakers_open")" 0
check_eq "series: a second with the breaker open" "$(jqr "$r" "[$load | .[].breakers_open] | max")" 1
