#!/usr/bin/env bash
# Injected faults: http_500_every N gives exactly 1/N errors on the chosen (uncached) route only;
# latency_ms delays the route; duration_s ends the faults by themselves; bad bodies get a 400.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
V2=$CUTOVER_V2_URL

http_post "$V2/admin/faults" '{"http_500_every": 20, "route": "/api/enrollments"}' >/dev/null
assert_eq "faults accepted" 200 "$(last_status)"
# Keep-alive in one curl: 200 requests, write each status on a line.
urls=()
for i in $(seq 1 200); do urls+=("$V2/api/enrollments" -o /dev/null); done
codes=$(curl -s --max-time 60 -w '%{http_code}\n' "${urls[@]}")
assert_eq "requests sent" 200 "$(echo "$codes" | wc -l)"
assert_eq "500s (exactly 5 %)" 10 "$(echo "$codes" | grep -c '^500$')"
assert_eq "200s" 190 "$(echo "$codes" | grep -c '^200$')"
assert_eq "every 20th" "20 40 60 80 100 120 140 160 180 200" \
    "$(echo "$codes" | grep -n '^500$' | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//')"
body=$(http_get "$V2/admin/faults")
assert_eq "fault counters" "200 10" "$(echo "$body" | jq -r '"\(.data.matched_requests) \(.data.injected_500)"')"

# The exact route only: the cached variant and v1 are untouched.
codes=$(for i in $(seq 1 40); do status_of "$V2/api/enrollments/cached"; echo; done | sort | uniq -c | tr -s ' ')
assert_eq "other route untouched" " 40 200" "$codes"
assert_eq "v1 untouched" 200 "$(status_of "$CUTOVER_V1_URL/api/enrollments")"

body=$(curl -s "$V2/api/enrollments" -o /dev/null; for i in $(seq 1 18); do curl -s -o /dev/null "$V2/api/enrollments"; done; curl -s "$V2/api/enrollments")
assert_eq "500 body error_code" INJECTED_FAULT "$(echo "$body" | jq -r .metadata.error_code)"

# Latency on one route (prefix form).
http_post "$V2/admin/faults" '{"latency_ms": 150, "route": "/api/enrollments*"}' >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' "$V2/api/enrollments/cached")
assert_range "latency on the route (s)" 0.150 0.300 "$t"
t=$(curl -s -o /dev/null -w '%{time_total}' "$V2/api/v3/report/inventory/agency/100100")
assert_range "no latency elsewhere (s)" 0 0.100 "$t"

# duration_s: the fault ends by itself.
http_post "$V2/admin/faults" '{"http_500_every": 1, "duration_s": 1, "route": "/api/enrollments"}' >/dev/null
assert_eq "during the window" 500 "$(status_of "$V2/api/enrollments")"
sleep 1.2
assert_eq "after the window" 200 "$(status_of "$V2/api/enrollments")"
assert_eq "faults inactive" false "$(curl -s "$V2/admin/faults" | jq .data.active)"

# Validation: each bad body is refused with a reason, and the active faults stay as they were.
http_post "$V2/admin/faults" '{"http_500_every": 7, "route": "/api/limited/*"}' >/dev/null
for bad in '{bad json' '[1,2]' '{"db_error_rate": 2}' '{"latency_ms": "10"}' '{"http_500_every": 1.5}' \
    '{"route": "api"}' '{"route": "/admin/*"}' '{"surprise": 1}'; do
    body=$(http_post "$V2/admin/faults" "$bad")
    assert_eq "400 for $bad" "400 VALIDATION_ERROR" "$(last_status) $(echo "$body" | jq -r .metadata.error_code)"
    assert_eq "message for $bad" true "$(echo "$body" | jq '.message | length > 10')"
done
assert_eq "faults unchanged" "7 /api/limited/*" "$(curl -s "$V2/admin/faults" | jq -r '"\(.data.http_500_every) \(.data.route)"')"
http_post "$V2/admin/reset" '' >/dev/null
assert_eq "reset clears" false "$(curl -s "$V2/admin/faults" | jq .data.active)"
t_finish
