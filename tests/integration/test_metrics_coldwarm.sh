#!/usr/bin/env bash
# Without a cache header, a request is cold the first time its cache key (the URL by default,
# or the step's cache_key) is seen since the last purge action, warm afterwards. Also: error
# examples name the request and carry a bounded excerpt of the body; the per-second series has
# percentiles.
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/s.json" <<'JSON'
{"name": "coldwarm",
 "endpoints": {"web": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}"}},
 "data": {"n": {"range": [1, 10]}, "m": {"range": [1, 4]}},
 "steps": {
   "by_url": {"http": {"endpoint": "web", "url": "/1k?cw={{n}}"}},
   "by_key": {"http": {"endpoint": "web", "url": "/1k?cw={{n}}&m={{m}}", "cache_key": "{{n}}"}},
   "boom":   {"http": {"endpoint": "web", "url": "/status/500?n={{n}}"}}},
 "phases": [
   {"name": "first", "executor": "iterations", "over": ["n"], "iterations": 3, "concurrency": 1, "steps": ["by_url"]},
   {"name": "purge", "action": {"http": {"endpoint": "web", "url": "/"}}},
   {"name": "again", "executor": "iterations", "over": ["n"], "iterations": 2, "concurrency": 2, "steps": ["by_url"]},
   {"name": "keyed", "executor": "iterations", "over": ["m", "n"], "concurrency": 1, "steps": ["by_key"]},
   {"name": "errors", "executor": "iterations", "over": ["n"], "concurrency": 1, "steps": ["boom"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
r=$WORK/r.json
ph() { jqr "$r" ".phases[] | select(.name == \"$1\") | .steps[0].latency.$2.corrected.count // 0"; }
check_eq "first pass: cold" "$(ph first cold)" 10
check_eq "first pass: warm" "$(ph first warm)" 20
check_eq "after the purge action: cold again" "$(ph again cold)" 10
check_eq "after the purge action: warm" "$(ph again warm)" 10
# by_key asks for 40 distinct URLs, but its cache_key is n alone: 10 cold, 30 warm.
check_eq "cache_key: cold" "$(ph keyed cold)" 10
check_eq "cache_key: warm" "$(ph keyed warm)" 30
e='.phases[] | select(.name == "errors") | .steps[0].errors'
check_eq "errors" "$(jqr "$r" "$e.count")" 10
check_eq "examples kept" "$(jqr "$r" "$e.examples.status | length")" 3
check_eq "example status" "$(jqr "$r" "$e.examples.status[0].status")" 500
jqr "$r" "$e.examples.status[0].request" | grep -qE '^GET http://127\.0\.0\.1:[0-9]+/status/500\?n=[0-9]+$' ||
    fail "example request: $(jqr "$r" "$e.examples.status[0].request")"
check_eq "example detail (body excerpt)" "$(jqr "$r" "$e.examples.status[0].detail")" "boom."
s='.phases[] | select(.name == "first") | .series[0]'
check_range "series p50 (us)" "$(jqr "$r" "$s.p50")" 1 100000
check_eq "series p99 >= p50" "$(jqr "$r" "$s | .p99 >= .p50")" true
