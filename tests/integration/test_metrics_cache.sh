#!/usr/bin/env bash
# Seed 000's check, automated: after a purge, a cold pass over 60 distinct report URLs and 1140
# warm requests through nginx's proxy cache. cutover's hit rate is exactly the one nginx's own
# access log shows, and the cold/warm histograms hold exactly the logged MISS and HIT counts.
# Purges the shared cache: takes the testbed lock.
. "$(dirname "$0")/drvlib.sh"
tag="cache$$r$RANDOM"
cat >"$WORK/s.json" <<JSON
{"name": "cache",
 "endpoints": {"gw": {"type": "http", "base_url": "\${CUTOVER_GATEWAY_URL}",
                      "cache_header": ["X-Cache-Status"]}},
 "data": {"agency": {"range": [100100, 100119]},
          "report": {"values": ["sales_summary", "inventory", "customer_master"]}},
 "steps": {"report": {"http": {"endpoint": "gw",
            "url": "/api/v3/report/{{report}}/agency/{{agency}}?page=1&per_page=10&t=$tag"}}},
 "phases": [
   {"name": "purge", "action": {"http": {"endpoint": "gw", "method": "POST", "url": "/admin/cache/purge"}}},
   {"name": "cold", "executor": "iterations", "over": ["report", "agency"], "concurrency": 4, "steps": ["report"]},
   {"name": "warm", "executor": "iterations", "over": ["report", "agency"], "iterations": 19,
    "concurrency": 8, "steps": ["report"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
r=$WORK/r.json
log_hits=$(grep -F "t=$tag" "$CUTOVER_GATEWAY_ACCESS_LOG" | jq -r 'select(.cache == "HIT") | .uri' | wc -l)
log_misses=$(grep -F "t=$tag" "$CUTOVER_GATEWAY_ACCESS_LOG" | jq -r 'select(.cache == "MISS") | .uri' | wc -l)
log_all=$(grep -cF "t=$tag" "$CUTOVER_GATEWAY_ACCESS_LOG")
echo "nginx log: $log_all requests, $log_hits HIT, $log_misses MISS"
check_eq "requests logged" "$log_all" 1200
hits=$(jqr "$r" '[.phases[] | select(.name != "purge") | .totals.cache.hits] | add')
misses=$(jqr "$r" '[.phases[] | select(.name != "purge") | .totals.cache.misses] | add')
check_eq "hits = nginx HIT lines" "$hits" "$log_hits"
check_eq "misses = nginx MISS lines" "$misses" "$log_misses"
check_eq "cold pass: 60 misses" "$(jqr "$r" '.phases[] | select(.name == "cold") | .totals.cache.misses')" 60
warm_rate=$(jqr "$r" '.phases[] | select(.name == "warm") | .totals.cache.hit_rate')
log_rate=$(awk -v h="$log_hits" -v m="$log_misses" 'BEGIN { printf "%.6f", (h - 0) / (h + m - 60) }')
check_range "warm hit rate = nginx's" "$warm_rate" "$log_rate" "$log_rate"
warm_n=$(jqr "$r" '[.phases[].steps[]? | .latency.warm.corrected.count // 0] | add')
cold_n=$(jqr "$r" '[.phases[].steps[]? | .latency.cold.corrected.count // 0] | add')
check_eq "warm histogram count = HIT lines" "$warm_n" "$log_hits"
check_eq "cold histogram count = MISS lines" "$cold_n" "$log_misses"
check_eq "errors" "$(jqr "$r" '[.phases[].totals.errors.count] | add')" 0
