#!/usr/bin/env bash
# `http_500_every: 20` on an uncached route is reported as exactly 5 % errors, all of kind status.
# Changes the gateway's faults: takes the testbed lock and resets them.
. "$(dirname "$0")/drvlib.sh"
v1=$CUTOVER_V1_URL
reset() { curl -s -o /dev/null -X POST "$v1/admin/reset"; }
cleanup_hooks+=(reset)
reset
cat >"$WORK/s.json" <<'JSON'
{"name": "errors",
 "endpoints": {"v1": {"type": "http", "base_url": "${CUTOVER_V1_URL}"}},
 "steps": {"enroll": {"http": {"endpoint": "v1", "url": "/api/enrollments", "expect_status": [200]}}},
 "phases": [
   {"name": "fault", "action": {"http": {"endpoint": "v1", "method": "POST", "url": "/admin/faults",
                                          "body": {"http_500_every": 20, "route": "/api/enrollments"}}}},
   {"name": "load", "executor": "constant-arrival-rate", "rate": 100, "duration": "4s", "steps": ["enroll"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
t=$(jqr "$WORK/r.json" '.phases[] | select(.name == "load") | .totals')
check_eq "completed" "$(jq -r .completed <<<"$t")" 400
check_eq "errors" "$(jq -r .errors.count <<<"$t")" 20
check_eq "error rate" "$(jq -r .errors.rate <<<"$t")" 0.05
check_eq "kind status" "$(jq -r .errors.by_kind.status <<<"$t")" 20
check_eq "only kind" "$(jq -r '.errors.by_kind | keys | join(",")' <<<"$t")" status
check_eq "500s" "$(jq -r '.status["500"]' <<<"$t")" 20
