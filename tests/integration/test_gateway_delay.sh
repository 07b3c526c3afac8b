#!/usr/bin/env bash
# Concurrent slow requests do not queue: ten parallel /delay/200 all finish in 200-260 ms.
# Read-only: no testbed lock.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
trap - EXIT # nothing to reset
# One curl process with ten parallel connections: ten separate curl processes starting at once
# on two cores measure their own start-up (tens of ms), not the server.
for base in "$CUTOVER_V2_URL" "$CUTOVER_GATEWAY_URL"; do
    args=()
    for i in $(seq 1 10); do args+=("$base/delay/200" -o /dev/null); done
    curl -s -Z --parallel-immediate --parallel-max 10 --max-time 5 \
        -w '%{http_code} %{time_total}\n' "${args[@]}" 2>/dev/null >"$T_DIR/times" || true
    assert_eq "$base: ten answers" 10 "$(wc -l <"$T_DIR/times")"
    i=0
    while read -r code t; do
        i=$((i + 1))
        assert_eq "$base request $i status" 200 "$code"
        assert_range "$base request $i seconds" 0.200 0.260 "$t"
    done <"$T_DIR/times"
done
assert_eq "/delay/abc refused" 400 "$(status_of "$CUTOVER_V1_URL/delay/abc")"
assert_eq "/delay/60001 refused" 400 "$(status_of "$CUTOVER_V1_URL/delay/60001")"
t=$(curl -s -o /dev/null -w '%{time_total}' "$CUTOVER_V1_URL/delay/0")
assert_range "/delay/0 seconds" 0 0.050 "$t"
rm -rf "$T_DIR"
t_finish
