#!/usr/bin/env bash
# cutover parity against the reference gateway: with known drift injected into v2, exactly the
# injected fields are reported, each with its path, kind and count; the volatile generated_at is
# learned as noise by the second base call and not reported; v2's added metadata passes with
# `additions: allow` and is one `extra` field without it. Resets the drift.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
: "${CUTOVER_BIN:?}"
FX=$CUTOVER_SOURCE_DIR/tests/integration/fixtures/verify
OUT=$T_DIR/parity.json
parity() { "$CUTOVER_BIN" parity "$@" --quiet --out "$OUT" >/dev/null 2>"$T_DIR/stderr" && echo 0 || echo $?; }
q() { jq -c "$1" "$OUT"; }

# No drift: v1 and v2 agree apart from noise (ignore rule on /metadata).
assert_eq "clean run exits 0" 0 "$(parity "$FX/parity_drift.json")"
assert_eq "clean: 24 requests, none mismatched" '[24,24,0,0,0]' \
    "$(q '.parity | [.requests, .compared, .mismatched, .errors, .status_mismatches]')"
assert_eq "clean: no field reported" '[]' "$(q '.parity.fields')"
assert_eq "clean: generated_at learned as noise" '["/info/generated_at"]' "$(q '.parity.noise_fields')"

# Four kinds of drift, each on a known subset of the 3 x 8 requests.
http_post "$CUTOVER_V2_URL/admin/drift" '{"rules": [
  {"op": "value", "path": "/data/*/amount", "value": 999.5, "agencies": ["100103"], "reports": ["sales_summary"]},
  {"op": "type", "path": "/data/0/quantity", "reports": ["customer_master"]},
  {"op": "drop", "path": "/info/agency_name", "agencies": ["100104"]},
  {"op": "reorder", "path": "/data", "reports": ["inventory"], "agencies": ["100105"]}]}' >/dev/null
assert_eq "drift accepted" 200 "$(last_status)"
assert_eq "drift exits 1" 1 "$(parity "$FX/parity_drift.json")"
assert_eq "exactly the injected fields" \
    '[["/data/*/quantity","type",8],["/info/agency_name","missing",3],["/data","order",1],["/data/*/amount","value",1]]' \
    "$(q '[.parity.fields[] | [.path, .kind, .count]]')"
# customer_master x 8 agencies, plus 100104 in the other two reports, plus one each.
assert_eq "mismatched requests" 12 "$(q '.parity.mismatched')"
assert_eq "mismatch rate" 0.5 "$(q '.parity.mismatch_rate')"
assert_eq "noise is still only generated_at" '["/info/generated_at"]' "$(q '.parity.noise_fields')"
assert_eq "generated_at not reported" 0 "$(q '[.parity.fields[] | select(.path == "/info/generated_at")] | length')"
assert_eq "amount example" '["GET /api/v3/report/sales_summary/agency/100103?page=1&per_page=10","999.5"]' \
    "$(q '.parity.fields[] | select(.path == "/data/*/amount") | .examples[0] | [.request, .candidate]')"
assert_eq "type examples: number in v1, its text in v2" '[["number"],["string"]]' \
    "$(q '.parity.fields[] | select(.path == "/data/*/quantity") | [([.examples[].base | fromjson | type] | unique), ([.examples[].candidate | fromjson | type] | unique)]')"
assert_eq "examples bounded by max_examples" 3 "$(q '.parity.fields[] | select(.path == "/data/*/quantity") | .examples | length')"
assert_eq "per endpoint totals" '[24,12,0]' "$(q '.parity.endpoints[0] | [.requests, .mismatched, .errors]')"

# Without the second base call, generated_at differs in every request and is reported.
jq '.parity.noise = {"second_base_call": false}' "$FX/parity_drift.json" >"$T_DIR/nonoise.json"
http_post "$CUTOVER_V2_URL/admin/reset" '' >/dev/null
assert_eq "no noise call: exits 1" 1 "$(parity "$T_DIR/nonoise.json")"
assert_eq "no noise call: generated_at reported everywhere" '[["/info/generated_at","value",24]]' \
    "$(q '[.parity.fields[] | [.path, .kind, .count]]')"

# v2 only adds metadata: passes with additions allow (two routes, 10 agencies each).
assert_eq "additions allow exits 0" 0 "$(parity "$FX/parity_additions.json")"
assert_eq "additions allow: 20 requests, 0 mismatched" '[20,0,[]]' "$(q '.parity | [.requests, .mismatched, .fields]')"
assert_eq "two routes" '["sales","inventory"]' "$(q '[.parity.endpoints[].name]')"
jq 'del(.parity.additions)' "$FX/parity_additions.json" >"$T_DIR/report.json"
assert_eq "additions reported exits 1" 1 "$(parity "$T_DIR/report.json")"
assert_eq "metadata is one extra field" '[["/metadata","extra",20]]' "$(q '[.parity.fields[] | [.path, .kind, .count]]')"

# Unreachable deployment: exit 3; a bad section: exit 2 with every problem listed.
jq --arg u "http://127.0.0.1:1" '.endpoints.v2.base_url = $u' "$FX/parity_additions.json" >"$T_DIR/down.json"
assert_eq "unreachable candidate exits 3" 3 "$(parity "$T_DIR/down.json")"
jq '.parity.candidate = "nope" | .parity.noise.rel = 120 | .parity.request = {"url": "x"}' \
    "$FX/parity_additions.json" >"$T_DIR/bad.json"
assert_eq "bad section exits 2" 2 "$(parity "$T_DIR/bad.json")"
assert_eq "every problem listed" 3 "$(grep -c '/parity' "$T_DIR/stderr")"
t_finish
