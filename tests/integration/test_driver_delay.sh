#!/usr/bin/env bash
# Against a fixed 50 ms delay the reported p50 is within [50, 53] ms, corrected and raw.
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/s.json" <<'JSON'
{"name": "delay",
 "endpoints": {"v1": {"type": "http", "base_url": "${CUTOVER_V1_URL}"}},
 "steps": {"slow": {"http": {"endpoint": "v1", "url": "/delay/50", "expect_status": [200]}}},
 "phases": [{"name": "d", "executor": "constant-arrival-rate", "rate": 20, "duration": "3s",
             "steps": ["slow"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 1 --quiet --out "$WORK/r.json"
lat='.phases[0].steps[0].latency.all'
check_eq "completed" "$(jqr "$WORK/r.json" '.phases[0].totals.completed')" 60
check_range "corrected p50 (us)" "$(jqr "$WORK/r.json" "$lat.corrected.p50")" 50000 53000
check_range "raw p50 (us)" "$(jqr "$WORK/r.json" "$lat.raw.p50")" 50000 53000
check_range "min (us)" "$(jqr "$WORK/r.json" "$lat.raw.min")" 50000 53000
