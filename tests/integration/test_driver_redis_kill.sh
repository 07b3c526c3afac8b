#!/usr/bin/env bash
# Redis killed mid-phase: the errors are counted (reset/connect), the pool reconnects after the
# restart, later requests succeed, and the run finishes on time (no hang). Uses its own
# redis-server, stopped by PID.
. "$(dirname "$0")/drvlib.sh"
port=$(free_port)
start_redis() {
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
        --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" >/dev/null
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    fail "redis did not start"
}
stop_redis() { [ -f "$WORK/redis.pid" ] && kill -9 "$(cat "$WORK/redis.pid")" 2>/dev/null; rm -f "$WORK/redis.pid"; }
cleanup_hooks+=(stop_redis)
start_redis
redis-cli -p "$port" SET k v >/dev/null
cat >"$WORK/s.json" <<JSON
{"name": "redis-kill",
 "endpoints": {"cache": {"type": "redis", "url": "redis://127.0.0.1:$port/0", "pool": 2, "timeout": "1s"}},
 "steps": {"get": {"redis": {"endpoint": "cache", "command": ["GET", "k"]}}},
 "phases": [{"name": "p", "executor": "constant-arrival-rate", "rate": 200, "duration": "6s", "steps": ["get"]}]}
JSON
(
    sleep 2
    stop_redis
    sleep 1.5
    start_redis
    redis-cli -p "$port" SET k v >/dev/null
) &
start=$(date +%s%N)
timeout 30 "$BIN" run "$WORK/s.json" --threads 1 --quiet --out "$WORK/r.json" || fail "run failed or hung (exit $?)"
wait
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check_range "run wall time (ms)" "$elapsed_ms" 5500 12000
r=$WORK/r.json
errs=$(jqr "$r" '.phases[0].totals.errors.count')
check_range "errors while Redis was down" "$errs" 1 1200
kinds=$(jqr "$r" '[.phases[0].totals.errors.by_kind | keys[]] | sort | join(",")')
case $kinds in
    connect | reset | connect,reset | connect,reset,timeout | reset,timeout | connect,timeout | aborted,* | *,aborted*) ;;
    *) fail "unexpected error kinds: $kinds" ;;
esac
echo "ok: error kinds $kinds"
check_eq "every arrival accounted for" \
    "$(jqr "$r" '.phases[0].totals.completed + .phases[0].totals.dropped')" 1200
# After the restart (about 3.5 s, reconnect backoff at most 0.5 s) everything succeeds again.
check_eq "errors in seconds 4-5" "$(jqr "$r" '.phases[0].series[4].errors + .phases[0].series[5].errors')" 0
check_range "completed in seconds 4-5" \
    "$(jqr "$r" '.phases[0].series[4].completed + .phases[0].series[5].completed')" 300 420
