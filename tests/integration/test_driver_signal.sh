#!/usr/bin/env bash
# SIGINT or SIGTERM mid-run: scheduling stops, in-flight requests drain, the results are
# written and marked interrupted, and the exit code is 130 / 143.
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/s.json" <<'JSON'
{"name": "sig",
 "endpoints": {"web": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}"}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k?sig"}}},
 "phases": [{"name": "long", "executor": "constant-arrival-rate", "rate": 100, "duration": "30s", "steps": ["get"]},
            {"name": "never", "executor": "iterations", "steps": ["get"]}]}
JSON
for sig in INT TERM; do
    start=$(date +%s%N)
    "$BIN" run "$WORK/s.json" --quiet --out "$WORK/$sig.json" &
    pid=$!
    sleep 1.5
    kill -"$sig" "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    ms=$((($(date +%s%N) - start) / 1000000))
    want=130
    [ $sig = TERM ] && want=143
    check_eq "SIG$sig exit" "$rc" "$want"
    check_range "SIG$sig stopped within (ms)" "$ms" 1400 5000
    r=$WORK/$sig.json
    check_eq "SIG$sig interrupted" "$(jqr "$r" '.run.interrupted')" true
    check_eq "SIG$sig signal" "$(jqr "$r" '.run.signal')" "SIG$sig"
    check_eq "SIG$sig phases written" "$(jqr "$r" '.phases | length')" 1
    check_eq "SIG$sig phase marked" "$(jqr "$r" '.phases[0].interrupted')" true
    check_range "SIG$sig requests measured" "$(jqr "$r" '.phases[0].totals.completed')" 100 200
done
