#!/usr/bin/env bash
# v2 drift injected at run time: each kind (value for chosen agencies, type, dropped field,
# reordered array) shows in the raw v2 responses against v1, and disappears after reset. Also:
# v1 and v2 agree apart from the volatile generated_at and v2's added metadata.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
V1=$CUTOVER_V1_URL
V2=$CUTOVER_V2_URL
path() { echo "/api/v3/report/sales_summary/agency/$1?page=1&per_page=5"; }
norm() { jq -cS 'del(.info.generated_at, .metadata)'; }
v1() { curl -s --max-time 10 "$V1$(path "$1")"; }
v2() { curl -s --max-time 10 "$V2$(path "$1")"; }

assert_eq "baseline parity (100103)" "$(v1 100103 | norm)" "$(v2 100103 | norm)"
assert_eq "v2 adds metadata" '["request_id","timestamp"]' "$(v2 100103 | jq -c '.metadata | keys')"
assert_eq "v1 has no metadata" null "$(v1 100103 | jq -c .metadata)"
a=$(v1 100103 | jq -r .info.generated_at)
sleep 0.01
b=$(v1 100103 | jq -r .info.generated_at)
assert_eq "generated_at is volatile" true "$([ "$a" != "$b" ] && echo true || echo false)"

# value, only for the chosen agency
http_post "$V2/admin/drift" '{"rules": [{"op": "value", "path": "/data/*/amount", "value": 999.5, "agencies": ["100103"]}]}' >/dev/null
assert_eq "drift accepted" 200 "$(last_status)"
assert_eq "value drift on 100103" "[999.5,999.5,999.5,999.5,999.5]" "$(v2 100103 | jq -c '[.data[].amount]')"
assert_eq "v1 unchanged" false "$(v1 100103 | jq '[.data[].amount] | any(. == 999.5)')"
assert_eq "other agency untouched" "$(v1 100104 | norm)" "$(v2 100104 | norm)"
assert_eq "only amount differs" '["/data/0/amount","/data/1/amount","/data/2/amount","/data/3/amount","/data/4/amount"]' \
    "$(jq -cn --argjson a "$(v1 100103 | norm)" --argjson b "$(v2 100103 | norm)" \
        '[$a | paths(scalars) as $p | select(($a | getpath($p)) != ($b | getpath($p))) | "/" + ($p | map(tostring) | join("/"))]')"

# type: numbers become strings
http_post "$V2/admin/drift" '{"rules": [{"op": "type", "path": "/data/0/quantity"}]}' >/dev/null
assert_eq "type drift" "string number" "$(v2 100103 | jq -r '"\(.data[0].quantity | type) \(.data[1].quantity | type)"')"
assert_eq "same value as text" "$(v1 100103 | jq -r .data[0].quantity)" "$(v2 100103 | jq -r .data[0].quantity)"
assert_eq "v1 keeps the number" number "$(v1 100103 | jq -r '.data[0].quantity | type')"

# drop a field
http_post "$V2/admin/drift" '{"rules": [{"op": "drop", "path": "/info/agency_name"}]}' >/dev/null
assert_eq "drop drift" false "$(v2 100103 | jq '.info | has("agency_name")')"
assert_eq "v1 keeps it" true "$(v1 100103 | jq '.info | has("agency_name")')"

# reorder an array (also for one report only)
http_post "$V2/admin/drift" '{"rules": [{"op": "reorder", "path": "/data", "reports": ["sales_summary"]}]}' >/dev/null
assert_eq "reorder drift" "$(v1 100103 | jq -c '[.data[].row_id] | reverse')" "$(v2 100103 | jq -c '[.data[].row_id]')"
assert_eq "same rows" "$(v1 100103 | jq -cS '.data | sort_by(.row_id)')" "$(v2 100103 | jq -cS '.data | sort_by(.row_id)')"
assert_eq "other report untouched" "[1,2,3,4,5,6,7,8,9,10]" \
    "$(curl -s "$V2/api/v3/report/inventory/agency/100103" | jq -c '[.data[].row_id]')"

# Bad rules are refused and the active ones stay.
for bad in '{"rules": [{"op": "value", "path": "/data/0/amount"}]}' '{"rules": [{"op": "drop", "path": "data"}]}' \
    '{"rules": [{"op": "shuffle", "path": "/data"}]}' '{"rules": [{"op": "drop", "path": "/x", "agencies": "100103"}]}' \
    '{"rules": {}}' '{"rules": [], "extra": 1}' '{"rules": [{"op": "drop", "path": "/x", "colour": 1}]}' '{"rules": [' ; do
    body=$(http_post "$V2/admin/drift" "$bad")
    assert_eq "400 for $bad" "400 VALIDATION_ERROR" "$(last_status) $(echo "$body" | jq -r .metadata.error_code)"
done
assert_eq "rules unchanged" reorder "$(curl -s "$V2/admin/drift" | jq -r '.data.rules[0].op')"

# All four at once, then reset: parity is back.
http_post "$V2/admin/drift" '{"rules": [{"op": "value", "path": "/pagination/total_records", "value": 1},
    {"op": "type", "path": "/data/*/amount"}, {"op": "drop", "path": "/data/*/tags"}, {"op": "reorder", "path": "/data/0/tags"}]}' >/dev/null
assert_eq "four rules active" 4 "$(curl -s "$V2/admin/drift" | jq '.data.rules | length')"
assert_eq "combined drift differs" false "$([ "$(v1 100103 | norm)" == "$(v2 100103 | norm)" ] && echo true || echo false)"
http_post "$V2/admin/reset" '' >/dev/null
for ag in 100103 100104 100119; do
    assert_eq "parity after reset ($ag)" "$(v1 $ag | norm)" "$(v2 $ag | norm)"
done
t_finish
