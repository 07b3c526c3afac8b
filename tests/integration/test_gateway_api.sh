#!/usr/bin/env bash
# The read side of both deployments: /ping, /health and /api/health (seed 003), report shape and
# database-level pagination against PostgreSQL (seed 000), X-Request-ID, 404/400/405 error bodies.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
sql() { psql "$CUTOVER_PG_DSN" -XAtc "$1"; }

for base in "$CUTOVER_V1_URL" "$CUTOVER_V2_URL" "$CUTOVER_GATEWAY_URL"; do
    assert_eq "$base /ping" '{"status":"ok"}' "$(http_get "$base/ping")"
    for h in /health /api/health; do
        body=$(http_get "$base$h")
        assert_eq "$base$h" "200 healthy healthy healthy" \
            "$(last_status) $(echo "$body" | jq -r '"\(.status) \(.services.database.status) \(.services.cache.status)"')"
    done
done
assert_eq "deployment names" "v1 v2 v2" "$(for b in "$CUTOVER_V1_URL" "$CUTOVER_V2_URL" "$CUTOVER_GATEWAY_URL"; do
    curl -s "$b/health" | jq -r .deployment; done | tr '\n' ' ' | sed 's/ $//')"

# Pagination is the database's: total_records, pages, the last partial page, past the end.
total=$(sql "SELECT count(*) FROM report_rows WHERE report_name = 'inventory' AND agency_code = '100107'")
assert_eq "rows per report/agency follow the seed formula" $((15 + (7 * 7 + 2 * 11) % 41)) "$total"
for base in "$CUTOVER_V1_URL" "$CUTOVER_V2_URL"; do
    u="$base/api/v3/report/inventory/agency/100107"
    body=$(http_get "$u?page=1&per_page=10")
    assert_eq "$base total_records" "$total" "$(echo "$body" | jq .pagination.total_records)"
    assert_eq "$base info" "inventory 100107 Agency 100107" "$(echo "$body" | jq -r '"\(.info.report_name) \(.info.agency_code) \(.info.agency_name)"')"
    pages=$(((total + 9) / 10))
    assert_eq "$base total_pages" "$pages" "$(echo "$body" | jq .pagination.total_pages)"
    body=$(http_get "$u?page=$pages&per_page=10")
    assert_eq "$base last page" "$((total - (pages - 1) * 10)) false true" \
        "$(echo "$body" | jq -r '"\(.data | length) \(.pagination.has_next) \(.pagination.has_prev)"')"
    assert_eq "$base last page rows" "$(sql "SELECT string_agg(row_no::text, ',' ORDER BY row_no) FROM (SELECT row_no FROM report_rows WHERE report_name = 'inventory' AND agency_code = '100107' ORDER BY row_no OFFSET $(((pages - 1) * 10))) x")" \
        "$(echo "$body" | jq -r '[.data[].row_id] | map(tostring) | join(",")')"
    assert_eq "$base past the end" "[] $total" "$(http_get "$u?page=$((pages + 1))&per_page=10" | jq -c '.data, .pagination.total_records' | tr '\n' ' ' | sed 's/ $//')"
    assert_eq "$base defaults page=1 per_page=10" "1 10" "$(http_get "$u" | jq -r '"\(.pagination.page) \(.pagination.per_page)"')"
    assert_eq "$base X-Cache-Zone" shortcache "$(last_header X-Cache-Zone)"
    for bad in "per_page=0" "per_page=1001" "page=abc" "page=-1"; do
        body=$(http_get "$u?$bad")
        assert_eq "$base 400 for $bad" "400 VALIDATION_ERROR" "$(last_status) $(echo "$body" | jq -r .metadata.error_code)"
    done
    body=$(http_get "$base/api/v3/report/no_such_report/agency/100100")
    assert_eq "$base unknown report" "404 NOT_FOUND" "$(last_status) $(echo "$body" | jq -r .metadata.error_code)"
    assert_eq "$base unknown agency" 404 "$(status_of "$base/api/v3/report/inventory/agency/999999")"
    assert_eq "$base bad path" 404 "$(status_of "$base/api/v3/report/inventory/nope/100100")"
    assert_eq "$base wrong method" 405 "$(status_of -X POST "$base/api/enrollments")"
    http_get "$base/ping" -H 'X-Request-ID: api-test-7' >/dev/null
    assert_eq "$base X-Request-ID echoed" api-test-7 "$(last_header X-Request-ID)"
    http_get "$base/ping" >/dev/null
    assert_eq "$base X-Request-ID generated" true "$(last_header X-Request-ID | grep -Eq '^[0-9a-f-]{36}$' && echo true || echo false)"
done
body=$(http_get "$CUTOVER_V2_URL/api/v3/report/inventory/agency/100107" -H 'X-Request-ID: api-test-8')
assert_eq "v2 metadata.request_id" api-test-8 "$(echo "$body" | jq -r .metadata.request_id)"
body=$(http_get "$CUTOVER_V2_URL/api/v3/report/sales_summary/agency/100119?per_page=1000")
assert_eq "agency 100119 complete" "$(sql "SELECT count(*) FROM report_rows WHERE report_name = 'sales_summary' AND agency_code = '100119'")" \
    "$(echo "$body" | jq '.data | length')"
assert_eq "agencies seeded" 20 "$(sql 'SELECT count(*) FROM agencies')"
t_finish
