#!/usr/bin/env bash
# Seed 004: /api/enrollments straight from PostgreSQL, /api/enrollments/cached through Redis with
# a TTL and X-Cache HIT|MISS, and the webhook that invalidates the cache.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
V2=$CUTOVER_V2_URL
rcli() { redis-cli -u "$CUTOVER_REDIS_URL" "$@"; }

body=$(http_post "$V2/api/webhooks/enrollment" '{"event": "enrollment.created", "data": {"id": 7}}')
assert_eq "webhook status" 200 "$(last_status)"
assert_eq "cache key gone" 0 "$(rcli EXISTS cache:v2:enrollments)"

direct=$(http_get "$V2/api/enrollments")
assert_eq "direct status" 200 "$(last_status)"
assert_eq "direct has no X-Cache" "" "$(last_header X-Cache)"
pg_count=$(psql "$CUTOVER_PG_DSN" -XAtc 'SELECT count(*) FROM enrollments')
assert_eq "count is PostgreSQL's" "$pg_count" "$(echo "$direct" | jq .count)"
assert_eq "rows" "$pg_count" "$(echo "$direct" | jq '.data | length')"

miss=$(http_get "$V2/api/enrollments/cached")
assert_eq "first cached call" MISS "$(last_header X-Cache)"
hit=$(http_get "$V2/api/enrollments/cached")
assert_eq "second cached call" HIT "$(last_header X-Cache)"
assert_eq "MISS body == direct body" "$direct" "$miss"
assert_eq "HIT body == direct body" "$direct" "$hit"
assert_range "TTL (CACHE_TTL_ENROLLMENTS default 300)" 290 300 "$(rcli TTL cache:v2:enrollments)"
assert_eq "v1 has its own cache" MISS "$(http_get "$CUTOVER_V1_URL/api/enrollments/cached" >/dev/null; last_header X-Cache)"

body=$(http_post "$V2/api/webhooks/enrollment" '{"event": "enrollment.completed"}')
assert_eq "webhook invalidated one key" 1 "$(echo "$body" | jq .data.invalidated)"
http_get "$V2/api/enrollments/cached" >/dev/null
assert_eq "after the webhook" MISS "$(last_header X-Cache)"
http_get "$V2/api/enrollments/cached" >/dev/null
assert_eq "then" HIT "$(last_header X-Cache)"

# Through nginx the cached route is not cached by nginx itself.
http_get "$CUTOVER_GATEWAY_URL/api/enrollments/cached" >/dev/null
assert_eq "through nginx: X-Cache" HIT "$(last_header X-Cache)"
assert_eq "through nginx: X-Cache-Status" BYPASS "$(last_header X-Cache-Status)"

for bad in '' '{oops' '{"event": "enrollment.deleted"}' '{"data": {}}' '[]'; do
    body=$(http_post "$V2/api/webhooks/enrollment" "$bad")
    assert_eq "webhook 400 for [$bad]" "400 VALIDATION_ERROR" "$(last_status) $(echo "$body" | jq -r .metadata.error_code)"
done
assert_eq "bad webhooks leave the cache" HIT "$(http_get "$V2/api/enrollments/cached" >/dev/null; last_header X-Cache)"
t_finish
