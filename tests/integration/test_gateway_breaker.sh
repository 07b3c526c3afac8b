#!/usr/bin/env bash
# The PostgreSQL circuit breaker (seed 001): opens after N injected failures, rejects with the
# seed-001 error body and CIRCUIT_OPEN while open, goes HALF_OPEN after its timeout, reopens on a
# failed trial and closes on a good one; /circuit-breakers/status lists each transition and time.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
V2=$CUTOVER_V2_URL
state() { curl -s --max-time 10 "$V2/circuit-breakers/status" | jq -r .breakers.postgres.state; }

st=$(curl -s "$V2/circuit-breakers/status")
assert_eq "default threshold (seed 001)" 5 "$(echo "$st" | jq .breakers.postgres.failure_threshold)"
assert_eq "default open timeout (seed 001)" 60 "$(echo "$st" | jq .breakers.postgres.open_timeout_s)"
assert_eq "initial state" CLOSED "$(echo "$st" | jq -r .breakers.postgres.state)"

http_post "$V2/admin/breaker" '{"failure_threshold": 3, "open_timeout_s": 1.5}' >/dev/null
assert_eq "breaker settings accepted" 200 "$(last_status)"
http_post "$V2/admin/breaker" '{"failure_threshold": 0}' >/dev/null
assert_eq "threshold 0 refused" 400 "$(last_status)"
http_post "$V2/admin/faults" '{"db_error_rate": 1}' >/dev/null

codes=""
for i in 1 2 3; do
    body=$(http_get "$V2/api/enrollments")
    codes="$codes$(last_status):$(echo "$body" | jq -r .metadata.error_code) "
    [ "$i" -lt 3 ] && assert_eq "still closed after $i failures" CLOSED "$(state)"
done
assert_eq "three injected failures" "500:DATABASE_ERROR 500:DATABASE_ERROR 500:DATABASE_ERROR " "$codes"
assert_eq "open after 3" OPEN "$(state)"

body=$(http_get "$V2/api/enrollments" -H 'X-Request-ID: breaker-test-42')
assert_eq "rejected while open" 503 "$(last_status)"
assert_eq "error body" '{"status":"error","data":null,"error_code":"CIRCUIT_OPEN","request_id":"breaker-test-42"}' \
    "$(echo "$body" | jq -c '{status, data, error_code: .metadata.error_code, request_id: .metadata.request_id}')"
assert_eq "error body has a message" true "$(echo "$body" | jq '.message | length > 0')"
assert_eq "error body has a timestamp" true "$(echo "$body" | jq '.metadata.timestamp | test("^[0-9-]+T[0-9:.]+Z$")')"
assert_eq "report route rejected too" 503 "$(status_of "$V2/api/v3/report/inventory/agency/100100")"

sleep 1.7
assert_eq "half open after the timeout" HALF_OPEN "$(state)"
assert_eq "failed trial" 500 "$(status_of "$V2/api/enrollments")"
assert_eq "reopened by the failed trial" OPEN "$(state)"
sleep 1.7
assert_eq "half open again" HALF_OPEN "$(state)"
http_post "$V2/admin/faults" '{"db_error_rate": 0}' >/dev/null
assert_eq "good trial" 200 "$(status_of "$V2/api/enrollments")"
assert_eq "closed by the good trial" CLOSED "$(state)"

st=$(curl -s "$V2/circuit-breakers/status")
assert_eq "timeline" "CLOSED>OPEN:failure_threshold OPEN>HALF_OPEN:open_timeout HALF_OPEN>OPEN:trial_failure OPEN>HALF_OPEN:open_timeout HALF_OPEN>CLOSED:trial_success" \
    "$(echo "$st" | jq -r '[.breakers.postgres.transitions[] | "\(.from)>\(.to):\(.reason)"] | join(" ")')"
# OPEN -> HALF_OPEN is stamped when the timeout ended: exactly open_timeout_s after opening.
assert_eq "open lasted exactly 1500 ms" 1500 \
    "$(echo "$st" | jq '.breakers.postgres.transitions | .[1].at_ms - .[0].at_ms')"
assert_eq "trips" 2 "$(echo "$st" | jq .breakers.postgres.trips)"
assert_eq "rejections" 2 "$(echo "$st" | jq .breakers.postgres.rejections)"

# Manual reset (seed 001) and the admin reset back to start-up settings.
http_post "$V2/admin/breaker" '{"failure_threshold": 1}' >/dev/null
http_post "$V2/admin/faults" '{"db_error_rate": 1}' >/dev/null
status_of "$V2/api/enrollments" >/dev/null
assert_eq "open again at threshold 1" OPEN "$(state)"
http_post "$V2/circuit-breakers/postgres/reset" '' >/dev/null
assert_eq "manual reset" CLOSED "$(state)"
http_post "$V2/admin/reset" '' >/dev/null
st=$(curl -s "$V2/circuit-breakers/status")
assert_eq "reset: settings and history" "5 60 0 CLOSED" \
    "$(echo "$st" | jq -r '.breakers.postgres | "\(.failure_threshold) \(.open_timeout_s) \(.transitions | length) \(.state)"')"
assert_eq "reset: no faults" 200 "$(status_of "$V2/api/enrollments")"
t_finish
