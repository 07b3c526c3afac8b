#!/usr/bin/env bash
# README's demo, twice against the shared testbed: healthy (exit 0, every target passes), then
# with `--break` (v2 drift and a database fault: exit 1, and exactly the expected targets miss).
# Changes the gateway: takes the testbed lock; the demo resets what it injected.
. "$(dirname "$0")/drvlib.sh"
root=${CUTOVER_SOURCE_DIR:?}
export CUTOVER_DEMO_REUSE=1
CUTOVER_DEMO_OUT=$WORK/ok bash "$root/ci/demo" >"$WORK/ok.log" 2>&1
rc=$?
tail -n 12 "$WORK/ok.log"
check_eq "healthy demo exit" "$rc" 0
check_eq "healthy verdict" "$(jqr "$WORK/ok/report.json" .verdict)" pass
check_eq "healthy: targets passed" "$(jqr "$WORK/ok/report.json" '[.targets[] | select(.status == "pass")] | length')" \
    "$(jqr "$WORK/ok/report.json" '.targets | length')"
for f in report.html junit.xml; do [ -s "$WORK/ok/$f" ] || fail "healthy: no $f"; done

set +e
CUTOVER_DEMO_OUT=$WORK/bad bash "$root/ci/demo" --break >"$WORK/bad.log" 2>&1
rc=$?
set -e
tail -n 12 "$WORK/bad.log"
check_eq "broken demo exit" "$rc" 1
check_eq "broken verdict" "$(jqr "$WORK/bad/report.json" .verdict)" fail
check_eq "the targets that miss" \
    "$(jqr "$WORK/bad/report.json" '[.targets[] | select(.status != "pass") | .name] | sort | join(" ")')" \
    "errors.rate{phase:api} parity.mismatch_rate"
grep -q 'failures="2"' "$WORK/bad/junit.xml" || fail "JUnit does not carry the 2 failures"
# The demo put the gateway back: v2 answers like v1 again.
check_eq "drift reset" "$(curl -s "$CUTOVER_V2_URL/admin/drift" | jq -r '.data.rules | length')" 0
