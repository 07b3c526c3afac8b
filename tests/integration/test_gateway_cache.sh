#!/usr/bin/env bash
# nginx in front of v2 (seed 000): MISS then HIT, MISS again after purge; zones by location;
# errors (500, 503) never cached; uncached routes say BYPASS; the access log tells the same story.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
GW=$CUTOVER_GATEWAY_URL
uri="/api/v3/report/customer_master/agency/100105?page=2&per_page=7"
cache_files() { find "$CUTOVER_NGINX_CACHE_DIR" -type f | wc -l; }

assert_eq "cache files after reset" 0 "$(cache_files)"
first=$(http_get "$GW$uri" -H 'X-Request-ID: cache-test-1')
assert_eq "first status" 200 "$(last_status)"
assert_eq "first X-Cache-Status" MISS "$(last_header X-Cache-Status)"
assert_eq "first X-Cache-Zone" dailycache "$(last_header X-Cache-Zone)"
second=$(http_get "$GW$uri" -H 'X-Request-ID: cache-test-2')
assert_eq "second X-Cache-Status" HIT "$(last_header X-Cache-Status)"
assert_eq "X-Request-ID echoed on a HIT" cache-test-2 "$(last_header X-Request-ID)"
assert_eq "HIT body is the MISS body" "$first" "$second"
assert_eq "page 2 of 7 rows" 7 "$(echo "$second" | jq '.data | length')"

inv="/api/v3/report/inventory/agency/100105"
http_get "$GW$inv" >/dev/null
assert_eq "inventory X-Cache-Status" MISS "$(last_header X-Cache-Status)"
assert_eq "inventory X-Cache-Zone" shortcache "$(last_header X-Cache-Zone)"
http_get "$GW$inv" >/dev/null
assert_eq "inventory second" HIT "$(last_header X-Cache-Status)"

files=$(cache_files)
assert_eq "cache files before purge" 2 "$files"
purge=$(http_post "$GW/admin/cache/purge" '{}')
assert_eq "purge status" 200 "$(last_status)"
assert_eq "purge not cached" BYPASS "$(last_header X-Cache-Status)"
assert_eq "purge removed_files" "$files" "$(echo "$purge" | jq .data.removed_files)"
assert_eq "cache files after purge" 0 "$(cache_files)"
http_get "$GW$uri" >/dev/null
assert_eq "after purge" MISS "$(last_header X-Cache-Status)"
http_get "$GW$uri" >/dev/null
assert_eq "after purge, again" HIT "$(last_header X-Cache-Status)"

for path in /ping /delay/1 /admin/status /api/enrollments /circuit-breakers/status; do
    http_get "$GW$path" >/dev/null
    assert_eq "$path not cached" BYPASS "$(last_header X-Cache-Status)"
done

# A 500 on a report route is not cached: the next request goes to v2 again.
err_uri="/api/v3/report/sales_summary/agency/100106?per_page=3"
http_post "$CUTOVER_V2_URL/admin/faults" '{"http_500_every": 1, "route": "/api/v3/report/*"}' >/dev/null
http_get "$GW$err_uri" >/dev/null
assert_eq "injected 500" 500 "$(last_status)"
assert_eq "500 cache status" MISS "$(last_header X-Cache-Status)"
http_post "$CUTOVER_V2_URL/admin/faults" '{}' >/dev/null
http_get "$GW$err_uri" >/dev/null
assert_eq "after 500: status code" 200 "$(last_status)"
assert_eq "after 500: status" MISS "$(last_header X-Cache-Status)"

# A 503 (breaker open) is not cached either.
open_uri="/api/v3/report/sales_summary/agency/100107?per_page=3"
http_post "$CUTOVER_V2_URL/admin/breaker" '{"failure_threshold": 1, "open_timeout_s": 60}' >/dev/null
http_post "$CUTOVER_V2_URL/admin/faults" '{"db_error_rate": 1}' >/dev/null
assert_eq "db error" 500 "$(status_of "$GW$open_uri")"
body=$(http_get "$GW$open_uri")
assert_eq "breaker open" 503 "$(last_status)"
assert_eq "503 error_code" CIRCUIT_OPEN "$(echo "$body" | jq -r .metadata.error_code)"
http_post "$CUTOVER_V2_URL/admin/reset" '' >/dev/null
http_get "$GW$open_uri" >/dev/null
assert_eq "after 503: status" 200 "$(last_status)"
assert_eq "after 503: fetched again" MISS "$(last_header X-Cache-Status)"

# The access log is the truth: the same sequence for the first URI.
log=$(jq -r --arg u "$uri" 'select(.uri == $u) | .cache' "$CUTOVER_GATEWAY_ACCESS_LOG" | tail -n4 | tr '\n' ' ')
assert_eq "access log cache statuses" "MISS HIT MISS HIT " "$log"
log=$(jq -r --arg u "$err_uri" 'select(.uri == $u) | "\(.status):\(.cache)"' "$CUTOVER_GATEWAY_ACCESS_LOG" | tail -n2 | tr '\n' ' ')
assert_eq "access log for the 500" "500:MISS 200:MISS " "$log"
t_finish
