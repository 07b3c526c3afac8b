#!/usr/bin/env bash
# `cutover merge`: two generators' reports of the same scenario become one. Counters add up,
# rates follow, and the merged histograms hold every sample of both (exact percentiles: the
# merged p50 lies between the inputs', the count is the sum); judged again with --scenario.
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/s.json" <<'JSON'
{"name": "merge",
 "endpoints": {"v1": {"type": "http", "base_url": "${CUTOVER_V1_URL}"}},
 "data": {"ms": {"values": [1]}},
 "steps": {"slow": {"http": {"endpoint": "v1", "url": "/delay/{{ms}}"}}},
 "phases": [{"name": "p", "executor": "constant-arrival-rate", "rate": 20, "duration": "2s", "steps": ["slow"]}],
 "targets": {"http.all.p50": "< 100ms", "requests": "== 80"}}
JSON
sed 's|"values": \[1\]|"values": [30]|' "$WORK/s.json" >"$WORK/s30.json"
"$BIN" run "$WORK/s.json" --quiet --json "$WORK/a.json" || true
"$BIN" run "$WORK/s30.json" --quiet --json "$WORK/b.json" || true
set +e
"$BIN" merge "$WORK/a.json" "$WORK/b.json" --scenario "$WORK/s.json" --json "$WORK/m.json" --html "$WORK/m.html"
rc=$?
set -e
check_eq "merge exit (targets met)" "$rc" 0
m=$WORK/m.json
step='.phases[0].steps[0]'
check_eq "requests summed" "$(jqr "$m" "$step.requests")" 80
check_eq "completed summed" "$(jqr "$m" '.phases[0].totals.completed')" 80
check_eq "histogram samples summed" "$(jqr "$m" "$step.latency.all.corrected.count")" 80
check_eq "threads summed" "$(jqr "$m" '.run.threads')" \
    "$(($(jqr "$WORK/a.json" '.run.threads') + $(jqr "$WORK/b.json" '.run.threads')))"
pa=$(jqr "$WORK/a.json" "$step.latency.all.corrected.p50")
pb=$(jqr "$WORK/b.json" "$step.latency.all.corrected.p50")
check_range "merged p50 between the inputs'" "$(jqr "$m" "$step.latency.all.corrected.p50")" "$pa" "$pb"
check_eq "merged max = the larger max" "$(jqr "$m" "$step.latency.all.corrected.max")" \
    "$(jq -n --argjson a "$(jqr "$WORK/a.json" "$step.latency.all.corrected.max")" \
        --argjson b "$(jqr "$WORK/b.json" "$step.latency.all.corrected.max")" '[$a, $b] | max')"
check_eq "merged from" "$(jqr "$m" '.run.merged_from | length')" 2
check_eq "verdict" "$(jqr "$m" '.verdict')" pass
[ -s "$WORK/m.html" ] || fail "no merged HTML"
set +e
"$BIN" merge "$WORK/a.json" 2>/dev/null
check_eq "one report is a usage error" "$?" 2
echo '{"not": "a report"}' >"$WORK/bad.json"
"$BIN" merge "$WORK/a.json" "$WORK/bad.json" 2>"$WORK/bad.err"
check_eq "bad input exits" "$?" 2
set -e
grep -q "bad.json" "$WORK/bad.err" || fail "the message does not name the bad file"
python3 - "$m" "${CUTOVER_SOURCE_DIR:?}/reports/schema/report.schema.json" <<'PY'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
PY
echo "ok: the merged report validates against reports/schema/report.schema.json"
