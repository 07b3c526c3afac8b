#!/usr/bin/env bash
# Every shipped scenario (one per seed situation) runs against the testbed and meets its targets.
# Purges caches, changes rate limits: takes the testbed lock and resets the gateway.
. "$(dirname "$0")/drvlib.sh"
root=${CUTOVER_SOURCE_DIR:?}
reset() {
    curl -s -o /dev/null -X POST "$CUTOVER_V1_URL/admin/reset"
    curl -s -o /dev/null -X POST "$CUTOVER_V2_URL/admin/reset"
}
cleanup_hooks+=(reset)
n=0
for f in "$root"/scenarios/*.json; do
    name=$(basename "$f" .json)
    case $name in schema | demo) continue ;; esac
    reset
    set +e
    "$BIN" run "$f" --report-dir "$WORK/$name" --quiet
    rc=$?
    set -e
    [ "$rc" = 0 ] || fail "$name: exit $rc: $(jq -c '[.targets[] | select(.status != "pass") | [.name, .measured_text]]' "$WORK/$name/report.json" 2>/dev/null)"
    check_eq "$name verdict" "$(jqr "$WORK/$name/report.json" .verdict)" pass
    check_range "$name targets" "$(jqr "$WORK/$name/report.json" '.targets | length')" 1 100
    n=$((n + 1))
done
check_eq "scenarios run" "$n" 4
