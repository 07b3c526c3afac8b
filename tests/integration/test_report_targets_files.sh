#!/usr/bin/env bash
# Where reports go: a file is replaced atomically, but a FIFO or device given as the target is
# written into, never replaced by a plain file (as root, that would turn /dev/null into one).
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/s.json" <<'JSON'
{"name": "outputs",
 "endpoints": {"web": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}"}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k"}}},
 "phases": [{"name": "p", "executor": "iterations", "iterations": 5, "steps": ["get"]}],
 "targets": {"errors.rate": "< 1%"}}
JSON
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from-fifo.json" &
reader=$!
"$BIN" run "$WORK/s.json" --quiet --json "$WORK/fifo" --junit "$WORK/junit.xml"
wait $reader
[ -p "$WORK/fifo" ] || fail "the FIFO was replaced"
check_eq "JSON through the FIFO" "$(jqr "$WORK/from-fifo.json" .verdict)" pass
check_eq "no temporary file left" "$(find "$WORK" -name '*.tmp.*' | wc -l)" 0
grep -q '<testcase' "$WORK/junit.xml" || fail "no JUnit testcase"
"$BIN" run "$WORK/s.json" --quiet --json - >"$WORK/stdout.json"
check_eq "JSON on stdout" "$(jqr "$WORK/stdout.json" '.phases[0].totals.completed')" 5
