#!/usr/bin/env bash
# Reports end to end with the real binary:
#  1. `cutover run` a small scenario against the testbed nginx (/1k) and Redis (read-only: no lock),
#     judge targets with `cutover report --scenario`, and validate the JSON report against
#     reports/schema/report.schema.json (python3-jsonschema); JUnit parses, one case per target.
#  2. A real run's results (fixture) with hostile names and sections: the HTML is inert (file
#     text), and Chromium renders it (DOM via --dump-dom, screenshot under the build dir).
#  3. Bad input: exit 2 with a message naming the file.
set -euo pipefail
: "${CUTOVER_BIN:?run under ctest}" "${CUTOVER_SOURCE_DIR:?run under ctest}"
: "${CUTOVER_TESTBED_DIR:?run under ctest}"
# shellcheck source=/dev/null
. "$CUTOVER_TESTBED_DIR/env"

NAME=test_report_render
FIX="$CUTOVER_SOURCE_DIR/tests/integration/fixtures/report"
SCHEMA="$CUTOVER_SOURCE_DIR/reports/schema/report.schema.json"
OUT="${CUTOVER_BUILD_DIR:-$(mktemp -d)}/report-test"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT"
FAILS=0
log() { echo "$NAME: $*"; }
ok() { log "ok   $*"; }
bad() {
    log "FAIL $*"
    FAILS=$((FAILS + 1))
}
check() { # check WHAT COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
eq() { if [ "$2" == "$3" ]; then ok "$1 == $2"; else bad "$1: expected [$2] got [$3]"; fi; }

# ---- 1. a real run, judged, validated --------------------------------------------------------
cat >"$T/scenario.json" <<'EOF'
{
  "name": "report-it",
  "endpoints": {"ng": {"type": "http", "base_url": "${CUTOVER_NGINX_URL}"},
                "cache": {"type": "redis", "url": "${CUTOVER_REDIS_URL}"}},
  "steps": {"one_k": {"http": {"endpoint": "ng", "url": "/1k"}, "tags": ["static"]},
            "ping": {"redis": {"endpoint": "cache", "command": ["PING"]}}},
  "phases": [
    {"name": "warmup", "record": false, "executor": "iterations", "iterations": 20, "steps": ["one_k"]},
    {"name": "load", "executor": "constant-arrival-rate", "rate": 200, "duration": "2s",
     "steps": [{"step": "one_k", "weight": 3}, {"step": "ping", "weight": 1}]}
  ]
}
EOF
"$CUTOVER_BIN" run "$T/scenario.json" --out "$T/results.json" --quiet
check "run wrote results" test -s "$T/results.json"
jq '. + {targets: {
      "http.all.p95{step:one_k}": "< 2s",
      "errors.rate": "< 1%",
      "requests{phase:load}": ">= 300",
      "redis.all.p99": {"expr": "redis.all.p99 < 2s", "min_samples": 10},
      "status.5xx.rate": "== 0",
      "impossible": {"expr": "http.all.max{tag:static} < 1us"},
      "only a warning": {"expr": "rps < 1", "severity": "warn"},
      "no data here": {"expr": "sql.all.p95 < 1s", "severity": "warn"}
    }}' "$T/scenario.json" >"$T/targets.json"
rc=0
"$CUTOVER_BIN" report "$T/results.json" --scenario "$T/targets.json" --json "$T/report.json" \
    --html "$T/report.html" --junit "$T/report.xml" || rc=$?
eq "exit code with a missed target" 1 "$rc"
eq "verdict" fail "$(jq -r .verdict "$T/report.json")"
eq "verdicts" 8 "$(jq '.targets | length' "$T/report.json")"
eq "passing targets" "pass pass pass pass pass" \
    "$(jq -r '[.targets[] | select(.name | test("^(http.all|errors|requests|redis|status)")) | .status] | join(" ")' "$T/report.json")"
eq "impossible target" fail "$(jq -r '.targets[] | select(.name == "impossible") | .status' "$T/report.json")"
check "impossible target shows its measurement" \
    grep -q '"reason": "measured [0-9.]* us, target < 1 us"' "$T/report.json"
eq "warning target" warn "$(jq -r '.targets[] | select(.name == "only a warning") | .status' "$T/report.json")"
eq "no-data target" "warn no data" \
    "$(jq -r '.targets[] | select(.name == "no data here") | "\(.status) \(.reason[0:7])"' "$T/report.json")"
eq "requests measured" "$(jq '[.phases[] | select(.name == "load") | .totals.requests] | add' "$T/results.json")" \
    "$(jq '.targets[] | select(.name == "requests{phase:load}") | .measured' "$T/report.json")"

# Only a passing set: exit 0.
jq '. + {targets: {"errors.rate": "< 50%"}}' "$T/scenario.json" >"$T/pass.json"
rc=0
"$CUTOVER_BIN" report "$T/results.json" --scenario "$T/pass.json" --json "$T/pass-report.json" || rc=$?
eq "exit code when every target is met" 0 "$rc"
eq "pass verdict" pass "$(jq -r .verdict "$T/pass-report.json")"

# A scenario error in the targets: exit 2, pointer to the key.
jq '. + {targets: {"http.all.p95{step:nope}": "< 1s"}}' "$T/scenario.json" >"$T/badt.json"
rc=0
"$CUTOVER_BIN" report "$T/results.json" --scenario "$T/badt.json" 2>"$T/err" || rc=$?
eq "exit code for an unknown step" 2 "$rc"
check "diagnostic names the target" grep -q '/targets/http.all.p95{step:nope}: step: the scenario has no step "nope"' "$T/err"

validate() { # validate FILE...: against the report schema (Draft 2020-12)
    python3 - "$SCHEMA" "$@" <<'EOF'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(f))):
        print(f"{f}: /{'/'.join(map(str, e.absolute_path))}: {e.message}")
        bad += 1
sys.exit(1 if bad else 0)
EOF
}
check "JSON report validates against the schema" validate "$T/report.json" "$T/results.json" "$T/pass-report.json"
# The validator is not vacuous: a broken report fails it.
jq '.targets[0].status = "maybe" | .phases[0].recorded = "yes"' "$T/report.json" >"$T/broken.json"
if validate "$T/broken.json" >"$T/verr"; then bad "a broken report validated"; else ok "a broken report is rejected"; fi
check "validator names the bad status" grep -q "targets/0/status" "$T/verr"

python3 - "$T/report.xml" "$T/report.json" <<'EOF' && ok "JUnit: one testcase per target, failures match" || bad "JUnit"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
report = json.load(open(sys.argv[2]))
cases = root.findall("./testsuite/testcase")
assert len(cases) == len(report["targets"]), (len(cases), len(report["targets"]))
failed = [c.get("name") for c in cases if c.find("failure") is not None]
assert failed == [t["name"] for t in report["targets"] if t["status"] == "fail"], failed
assert root.get("failures") == str(len(failed))
msg = cases[[c.get("name") for c in cases].index("impossible")].find("failure").get("message")
assert msg.startswith("measured ") and "target < 1 us" in msg, msg
EOF

# ---- 2. hostile content, rendered by Chromium -------------------------------------------------
jq -s '.[0] * .[1]
       | .phases[2].steps[0].name = "<script>alert(\"step\")</script>"
       | .phases[1].name = "\"><img src=x onerror=alert(1)>"' \
    "$FIX/results.json" "$FIX/hostile.json" >"$T/hostile-results.json"
# scenario_full.json: the fixture run's scenario with breakers, parity, data checks and targets
# (SCENARIO.md section 1). The hostile sections make breaker, parity and data targets miss.
rc=0
"$CUTOVER_BIN" report "$T/hostile-results.json" --scenario "$FIX/scenario_full.json" \
    --json "$T/hostile.json" 2>"$T/herr" || rc=$?
if [ "$rc" -ne 1 ]; then
    cat "$T/herr"
    bad "judging the hostile report: exit $rc"
fi
HTML="$OUT/report.html"
rc=0
"$CUTOVER_BIN" report "$T/hostile.json" --html "$HTML" --junit "$OUT/report.xml" || rc=$?
eq "re-render exit code" 0 "$rc"
eq "script elements in the file" 2 "$(grep -o '<script' "$HTML" | wc -l)"
check "no img element in the file" bash -c "! grep -q '<img' '$HTML'"
check "hostile step name shown as text" grep -qF '&lt;script&gt;alert(&quot;step&quot;)&lt;/script&gt;' "$HTML"
check "hostile phase name shown as text" grep -qF '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;' "$HTML"
check "no raw </script> inside the embedded JSON" \
    bash -c "sed -n 's/.*id=\"cutover-report\">\\([^<]*\\)<\\/script>.*/\\1/p' '$HTML' | grep -q 'u003c/script'"
python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$OUT/report.xml" &&
    ok "hostile JUnit is well-formed XML" || bad "hostile JUnit is not well-formed"

chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
    bad "chromium is not installed (ci/deps.txt lists it)"
else
    prof=$(mktemp -d)
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --user-data-dir="$prof" --window-size=1280,2600)
    timeout 90 "$chrome" "${flags[@]}" --dump-dom "file://$HTML" >"$T/dom.html" 2>"$T/chrome.log" || true
    timeout 90 "$chrome" "${flags[@]}" --screenshot="$OUT/report.png" "file://$HTML" \
        >>"$T/chrome.log" 2>&1 || true
    rm -rf "$prof"
    python3 - "$T/dom.html" <<'EOF' && ok "Chromium DOM: rendered, script ran, nothing injected" || { bad "Chromium DOM"; tail -5 "$T/chrome.log"; }
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []
        self.html_attrs = {}
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(a for a, _ in attrs)
        if tag == "html":
            self.html_attrs = dict(attrs)
    def handle_data(self, d):
        self.text.append(d)
dom = open(sys.argv[1]).read()
p = P()
p.feed(dom)
text = "".join(p.text)
assert p.html_attrs.get("data-js") == "ready", "the page's own script did not run"
assert "img" not in p.tags, "an img element was injected"
assert p.tags.count("script") == 2, p.tags.count("script")
assert not any(a.startswith("on") for a in p.attrs), "an event handler attribute exists"
assert '<script>alert("step")</script>' in text, "step name not shown as text"
assert '"><img src=x onerror=alert(1)>' in text, "phase name not shown as text"
assert "FAIL" in text and p.tags.count("svg") >= 5, (p.tags.count("svg"))
assert p.tags.count("tr") >= 10
EOF
    if [ -s "$OUT/report.png" ] && [ "$(head -c 4 "$OUT/report.png" | od -An -c | tr -d ' ')" == "211PNG" ]; then
        ok "screenshot saved: $OUT/report.png"
    else
        bad "no screenshot"
    fi
fi

# ---- 3. bad input ------------------------------------------------------------------------------
rc=0
"$CUTOVER_BIN" report "$T/missing.json" --html "$T/x.html" 2>"$T/err" || rc=$?
eq "missing file: exit" 2 "$rc"
check "missing file: message names it" grep -q "missing.json: cannot read" "$T/err"
echo '{"schema": 1, "phases": [' >"$T/truncated.json"
rc=0
"$CUTOVER_BIN" report "$T/truncated.json" --html "$T/x.html" 2>"$T/err" || rc=$?
eq "not JSON: exit" 2 "$rc"
check "not JSON: file:line:col" grep -q "truncated.json:[0-9]*:[0-9]*: " "$T/err"
echo '{"hello": "world"}' >"$T/other.json"
rc=0
"$CUTOVER_BIN" report "$T/other.json" 2>"$T/err" || rc=$?
eq "not a report: exit" 2 "$rc"
check "not a report: says so" grep -q "other.json: not a cutover JSON report" "$T/err"
check "no output file was left behind" test ! -e "$T/x.html"
rc=0
"$CUTOVER_BIN" report 2>/dev/null || rc=$?
eq "no argument: exit" 2 "$rc"

if [ "$FAILS" -ne 0 ]; then
    log "$FAILS failure(s)"
    exit 1
fi
log "all passed"
