#!/usr/bin/env bash
# `cutover validate` lists every semantic mistake with its JSON pointer and exits 2; a syntax
# error is reported as file:line:col; `run` validates first.
. "$(dirname "$0")/drvlib.sh"
cat >"$WORK/three.json" <<'JSON'
{"name": "three",
 "endpoints": {"web": {"type": "http", "base_url": "http://127.0.0.1:1"}},
 "steps": {"g": {"http": {"endpoint": "web", "url": "/x/{{nope}}"}}},
 "phases": [{"name": "p", "executor": "constant-arrival-rate", "rate": 0, "duration": "10s", "steps": ["g"]},
            {"name": "q", "executor": "iterations", "steps": ["missing_step"]}]}
JSON
set +e
"$BIN" validate "$WORK/three.json" 2>"$WORK/three.err"
rc=$?
set -e
cat "$WORK/three.err"
check_eq "validate exit" "$rc" 2
check_eq "errors listed" "$(grep -c "^$WORK/three.json: /" "$WORK/three.err")" 3
grep -q "/steps/g/http/url" "$WORK/three.err" || fail "no pointer to the url template"
grep -q "/phases/0/rate" "$WORK/three.err" || fail "no pointer to the rate"
grep -q "/phases/1/steps/0" "$WORK/three.err" || fail "no pointer to the unknown step"

printf '{"name": "x",\n  "endpoints": {\n    "web": {"type": "http",, }\n}\n' >"$WORK/syntax.json"
set +e
"$BIN" validate "$WORK/syntax.json" 2>"$WORK/syntax.err"
rc=$?
"$BIN" run "$WORK/syntax.json" --quiet 2>"$WORK/run.err" >/dev/null
rc_run=$?
set -e
cat "$WORK/syntax.err"
check_eq "syntax exit" "$rc" 2
grep -qE "^$WORK/syntax.json:3:[0-9]+: " "$WORK/syntax.err" || fail "no file:line:col"
check_eq "run on a bad file exits" "$rc_run" 2
