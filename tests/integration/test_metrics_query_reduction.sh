#!/usr/bin/env bash
# Query reduction (seed 004: "> 80 %") between a phase on /api/enrollments (straight from
# PostgreSQL) and one on /api/enrollments/cached (Redis in front) equals what this test computes
# itself from pg_stat_statements calls around separate runs of each phase. Also checks the
# Redis view (keyspace hits) of the cached phase.
. "$(dirname "$0")/drvlib.sh"
pgss_calls() {
    psql "$CUTOVER_PG_SUPER_DSN" -XAtc "/* cutover:server-stats */ SELECT coalesce(sum(calls), 0)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'cutover')
        AND query NOT LIKE '%cutover:server-stats%'"
}
scenario() { # scenario FILE PHASES_JSON
    cat >"$1" <<JSON
{"name": "query-reduction",
 "endpoints": {"v2": {"type": "http", "base_url": "\${CUTOVER_V2_URL}"},
               "cache": {"type": "redis", "url": "\${CUTOVER_REDIS_URL}"},
               "db": {"type": "postgres", "dsn": "\${CUTOVER_PG_DSN}"}},
 "steps": {"direct": {"http": {"endpoint": "v2", "url": "/api/enrollments"}},
           "cached": {"http": {"endpoint": "v2", "url": "/api/enrollments/cached"}},
           "invalidate": {"http": {"endpoint": "v2", "method": "POST", "url": "/api/webhooks/enrollment",
                                   "body": {"event": "enrollment.created"}}}},
 "phases": $2}
JSON
}
DIRECT='{"name": "direct", "executor": "iterations", "iterations": 200, "concurrency": 4, "steps": ["direct"]}'
INVAL='{"name": "invalidate", "action": {"http": {"endpoint": "v2", "method": "POST", "url": "/api/webhooks/enrollment", "body": {"event": "enrollment.created"}}}}'
CACHED='{"name": "cached", "executor": "iterations", "iterations": 200, "concurrency": 1, "steps": ["cached"]}'

scenario "$WORK/a.json" "[$DIRECT]"
scenario "$WORK/b.json" "[$INVAL, $CACHED]"
scenario "$WORK/c.json" "[$DIRECT, $INVAL, $CACHED]"
scenario "$WORK/w.json" "[$INVAL]"

c0=$(pgss_calls)
"$BIN" run "$WORK/a.json" --threads 1 --quiet --out "$WORK/a.out"
c1=$(pgss_calls)
"$BIN" run "$WORK/b.json" --threads 1 --quiet --out "$WORK/b.out"
c2=$(pgss_calls)
# Run b holds the webhook action too: what the webhook alone costs is measured on its own and
# taken out, so the figure is the cached phase's.
"$BIN" run "$WORK/w.json" --threads 1 --quiet --out "$WORK/w.out"
c3=$(pgss_calls)
webhook=$((c3 - c2))
direct_qpr=$(awk -v d="$((c1 - c0))" 'BEGIN { printf "%.6f", d / 200 }')
cached_qpr=$(awk -v d="$((c2 - c1 - webhook))" 'BEGIN { printf "%.6f", d / 200 }')
want=$(awk -v a="$direct_qpr" -v b="$cached_qpr" 'BEGIN { printf "%.6f", 1 - b / a }')
echo "test's own figures: direct $direct_qpr, cached $cached_qpr queries/request, reduction $want"

"$BIN" run "$WORK/c.json" --threads 1 --quiet --out "$WORK/c.out"
r=$WORK/c.out
got_direct=$(jqr "$r" '.phases[] | select(.name == "direct") | .server.db.queries_per_request')
got_cached=$(jqr "$r" '.phases[] | select(.name == "cached") | .server.db.queries_per_request')
got=$(awk -v a="$got_direct" -v b="$got_cached" 'BEGIN { printf "%.6f", 1 - b / a }')
check_range "direct queries/request" "$got_direct" "$direct_qpr" "$direct_qpr"
check_range "cached queries/request" "$got_cached" "$cached_qpr" "$cached_qpr"
check_range "query reduction" "$got" "$want" "$want"
check_range "query reduction is large" "$got" 0.8 1
# Redis saw the cached phase: one miss (after the webhook), hits for the rest.
check_eq "redis keyspace misses (cached)" \
    "$(jqr "$r" '.phases[] | select(.name == "cached") | .server.redis.keyspace_misses')" 1
check_eq "redis keyspace hits (cached)" \
    "$(jqr "$r" '.phases[] | select(.name == "cached") | .server.redis.keyspace_hits')" 199
check_eq "X-Cache hits seen by cutover" \
    "$(jqr "$r" '.phases[] | select(.name == "cached") | .totals.cache.hits')" 199
