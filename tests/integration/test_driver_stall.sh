#!/usr/bin/env bash
# A target that stalls for 1 s in the middle of a run (nginx's worker stopped with SIGSTOP):
# - open model: the corrected p99 shows the stall, the raw service-time p99 does not (requests
#   waited for the one connection in cutover's queue, not on the wire);
# - closed model: fewer requests complete during the stall (coordinated omission, made visible).
# Takes the testbed lock: nginx is shared.
. "$(dirname "$0")/drvlib.sh"
master=$(cat "$CUTOVER_TESTBED_DIR/nginx/nginx.pid")
workers=$(pgrep -P "$master" | tr '\n' ' ')
[ -n "$workers" ] || fail "no nginx worker found"
resume() { kill -CONT $workers 2>/dev/null || true; }
cleanup_hooks+=(resume)
stall_after() { # stall_after SECONDS: stop nginx's workers for 1 s
    sleep "$1"
    kill -STOP $workers
    sleep 1
    kill -CONT $workers
}

cat >"$WORK/open.json" <<'JSON'
{"name": "stall-open",
 "endpoints": {"web": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}", "max_connections": 1}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k?stall-open"}}},
 "phases": [{"name": "open", "executor": "constant-arrival-rate", "rate": 100, "duration": "4s",
             "max_lag": "10s", "steps": ["get"]}]}
JSON
stall_after 1.5 &
"$BIN" run "$WORK/open.json" --threads 1 --quiet --out "$WORK/open.out.json"
wait
r=$WORK/open.out.json
check_eq "open: completed" "$(jqr "$r" '.phases[0].totals.completed')" 400
check_eq "open: dropped" "$(jqr "$r" '.phases[0].totals.dropped')" 0
cor=$(jqr "$r" '.phases[0].steps[0].latency.all.corrected.p99')
raw=$(jqr "$r" '.phases[0].steps[0].latency.all.raw.p99')
check_range "open: corrected p99 (us) shows the stall" "$cor" 500000 1500000
check_range "open: raw p99 (us) does not" "$raw" 0 100000

cat >"$WORK/closed.json" <<'JSON'
{"name": "stall-closed",
 "endpoints": {"web": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}", "max_connections": 2}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k?stall-closed"}}},
 "phases": [{"name": "closed", "executor": "constant-vus", "vus": 2, "duration": "4s", "steps": ["get"]}]}
JSON
stall_after 1.5 &
"$BIN" run "$WORK/closed.json" --threads 1 --quiet --out "$WORK/closed.out.json"
wait
r=$WORK/closed.out.json
# Seconds 1 and 2 hold the stall (1.5-2.5 s); seconds 0 and 3 do not.
stalled=$(jqr "$r" '.phases[0].series[1].completed + .phases[0].series[2].completed')
normal=$(jqr "$r" '.phases[0].series[0].completed + .phases[0].series[3].completed')
echo "closed: completed in stalled seconds $stalled, in normal seconds $normal"
awk -v s="$stalled" -v n="$normal" 'BEGIN { exit !(n > 0 && s < 0.8 * n) }' ||
    fail "closed: the stall should cut completions ($stalled vs $normal)"
echo "ok: closed model completed fewer requests during the stall"
