#!/usr/bin/env bash
# A constant-arrival-rate of 200/s for 10 s over two threads issues 2000 requests: counted by
# nginx's own access log, and reported by cutover with none dropped.
. "$(dirname "$0")/drvlib.sh"
tag="rate-$$-$RANDOM"
cat >"$WORK/s.json" <<JSON
{"name": "rate",
 "endpoints": {"web": {"type": "http", "base_url": "\${CUTOVER_NGINX_URL}"}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k?tag=$tag", "expect_status": [200]}}},
 "phases": [{"name": "steady", "executor": "constant-arrival-rate", "rate": 200, "duration": "10s",
             "steps": ["get"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
served=$(grep -c -- "tag=$tag" "$CUTOVER_NGINX_ACCESS_LOG" || true)
check_range "requests nginx served" "$served" 1980 2020
check_eq "requests cutover completed" "$(jqr "$WORK/r.json" '.phases[0].totals.completed')" "$served"
check_eq "dropped" "$(jqr "$WORK/r.json" '.phases[0].totals.dropped')" 0
check_eq "errors" "$(jqr "$WORK/r.json" '.phases[0].totals.errors.count')" 0
check_eq "threads" "$(jqr "$WORK/r.json" '.run.threads')" 2
