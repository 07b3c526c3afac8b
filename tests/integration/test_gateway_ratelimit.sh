#!/usr/bin/env bash
# Token bucket (seed 001) on /api/limited/... only: after the burst, 429 with the error body and
# Retry-After; other routes are never throttled; 429s are not cached by nginx.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
V2=$CUTOVER_V2_URL

st=$(curl -s "$V2/admin/status")
assert_eq "defaults (seed 001)" "100 20" "$(echo "$st" | jq -r '"\(.data.rate_limit.requests_per_minute) \(.data.rate_limit.burst)"')"
# 1 per minute: no refill can happen during the test, so the counts are exact.
http_post "$V2/admin/ratelimit" '{"requests_per_minute": 1, "burst": 20}' >/dev/null
assert_eq "settings accepted" 200 "$(last_status)"

urls=()
for i in $(seq 1 30); do urls+=("$V2/api/limited/orders" -o /dev/null); done
codes=$(curl -s --max-time 30 -w '%{http_code}\n' "${urls[@]}")
assert_eq "200 within the burst" 20 "$(echo "$codes" | grep -c '^200$')"
assert_eq "429 after the burst" 10 "$(echo "$codes" | grep -c '^429$')"
assert_eq "the first 20 pass, then none" "200 429" "$(echo "$codes" | uniq | tr '\n' ' ' | sed 's/ $//')"

body=$(http_get "$V2/api/limited/orders")
assert_eq "still limited" 429 "$(last_status)"
assert_eq "429 error_code" RATE_LIMITED "$(echo "$body" | jq -r .metadata.error_code)"
assert_eq "Retry-After (s)" true "$( [ "$(last_header Retry-After)" -ge 1 ] && echo true || echo false)"

# Only the limited route: 40 quick requests elsewhere all pass.
urls=()
for i in $(seq 1 40); do urls+=("$V2/api/enrollments" -o /dev/null); done
assert_eq "other routes not limited" 40 "$(curl -s --max-time 30 -w '%{http_code}\n' "${urls[@]}" | grep -c '^200$')"
urls=()
for i in $(seq 1 40); do urls+=("$V2/api/v3/report/sales_summary/agency/100101" -o /dev/null); done
assert_eq "report route not limited" 40 "$(curl -s --max-time 30 -w '%{http_code}\n' "${urls[@]}" | grep -c '^200$')"

# Through nginx: the 429 passes through uncached.
http_get "$CUTOVER_GATEWAY_URL/api/limited/orders" >/dev/null
assert_eq "429 through nginx" 429 "$(last_status)"
assert_eq "429 not cached" BYPASS "$(last_header X-Cache-Status)"

for bad in '{"burst": -1}' '{"requests_per_minute": "fast"}' '{"rate": 5}' 'nope'; do
    http_post "$V2/admin/ratelimit" "$bad" >/dev/null
    assert_eq "400 for $bad" 400 "$(last_status)"
done
http_post "$V2/admin/reset" '' >/dev/null
assert_eq "reset refills" 200 "$(status_of "$V2/api/limited/orders")"
t_finish
