#!/usr/bin/env bash
# One phase mixes HTTP, Redis SET/GET and a PostgreSQL SELECT concurrently, by weight, and
# reports each step separately; every step did what it says.
. "$(dirname "$0")/drvlib.sh"
pfx="drvmix$$"
cat >"$WORK/s.json" <<JSON
{"name": "mix",
 "endpoints": {
   "web":   {"type": "http", "base_url": "\${CUTOVER_NGINX_URL}"},
   "cache": {"type": "redis", "url": "\${CUTOVER_REDIS_URL}", "pool": 2},
   "db":    {"type": "postgres", "dsn": "\${CUTOVER_PG_DSN}", "pool": 2}},
 "data": {"n": {"range": [1, 100]}},
 "steps": {
   "page": {"http": {"endpoint": "web", "url": "/1k", "checks": [{"status": true, "equals": "200"}]}},
   "set":  {"redis": {"endpoint": "cache", "command": ["SET", "$pfx:{{n}}", "v{{n}}"]}},
   "get":  {"redis": {"endpoint": "cache", "command": ["GET", "$pfx:{{n}}"]}},
   "row":  {"sql": {"endpoint": "db", "query": "SELECT \$1::int * 2", "params": ["{{n}}"]}}},
 "phases": [
   {"name": "mixed", "executor": "constant-arrival-rate", "rate": 300, "duration": "3s",
    "steps": [{"step": "page", "weight": 4}, {"step": "set", "weight": 2},
              {"step": "get", "weight": 2}, {"step": "row", "weight": 2}]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
r=$WORK/r.json
check_eq "arrivals" "$(jqr "$r" '[.phases[0].steps[].completed] | add')" 900
for s in page set get row; do
    c=$(jqr "$r" ".phases[0].steps[] | select(.name == \"$s\") | .completed")
    check_range "$s completed" "$c" 90 450
    check_eq "$s errors" "$(jqr "$r" ".phases[0].steps[] | select(.name == \"$s\") | .errors.count")" 0
    check_eq "$s latency samples" \
        "$(jqr "$r" ".phases[0].steps[] | select(.name == \"$s\") | .latency.all.corrected.count")" "$c"
done
check_eq "page kind" "$(jqr "$r" '.phases[0].steps[] | select(.name == "page") | .kind')" http
check_eq "row kind" "$(jqr "$r" '.phases[0].steps[] | select(.name == "row") | .kind')" sql
# The SETs really happened.
keys=$(redis-cli -u "$CUTOVER_REDIS_URL" --scan --pattern "$pfx:*" | wc -l)
check_range "keys written" "$keys" 1 100
k=$(redis-cli -u "$CUTOVER_REDIS_URL" --scan --pattern "$pfx:*" | head -n1)
check_eq "value of $k" "$(redis-cli -u "$CUTOVER_REDIS_URL" GET "$k")" "v${k#"$pfx":}"
redis-cli -u "$CUTOVER_REDIS_URL" --scan --pattern "$pfx:*" | xargs -r redis-cli -u "$CUTOVER_REDIS_URL" DEL >/dev/null
