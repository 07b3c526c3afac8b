#!/usr/bin/env bash
# Seed 002's Redis -> PostgreSQL migration with known defects: after --skip K the counts differ by
# exactly K and the skipped keys are the missing rows; each --corrupt field differs exactly as
# reported; --extra rows exist only in PostgreSQL; --dry-run writes nothing. Restores a clean copy.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
: "${CUTOVER_GATEWAY_BIN:?}"
rcli() { redis-cli -u "$CUTOVER_REDIS_URL" "$@"; }
sql() { psql "$CUTOVER_PG_DSN" -XAtc "$1"; }
migrate() { "$CUTOVER_GATEWAY_BIN" migrate "$@"; }
t_cleanup() { migrate >/dev/null; }

redis_docs=$(rcli --scan --pattern 'document:*' | wc -l)
redis_ans=$(rcli --scan --pattern 'analysis:*' | wc -l)
assert_eq "seeded documents" 200 "$redis_docs"
assert_eq "seeded sessions (hashes)" hash "$(rcli TYPE "$(rcli --scan --pattern 'session:*' | sed -n 1p)")"

out=$(migrate)
assert_eq "clean: counts match" "$redis_docs $redis_docs" "$(echo "$out" | jq -r '"\(.redis.documents) \(.postgres.documents)"')"
assert_eq "clean: in PostgreSQL" "$redis_docs" "$(sql 'SELECT count(*) FROM documents')"
assert_eq "clean: analyses" "$redis_ans" "$(sql 'SELECT count(*) FROM analysis_results')"
assert_eq "clean: migrated_from_redis" "$redis_docs" \
    "$(sql "SELECT count(*) FROM documents WHERE metadata->>'migrated_from_redis' = 'true'")"
# Field mapping on one document: filename -> original_filename, the rest by name.
key=$(rcli --scan --pattern 'document:*' | sed -n 1p)
doc=$(rcli GET "$key")
row=$(sql "SELECT json_build_object('filename', original_filename, 'file_path', file_path, 'file_size', file_size, 'upload_timestamp', to_char(upload_timestamp, 'YYYY-MM-DD HH24:MI:SS'), 'redis_key', metadata->>'redis_key', 'pages', (metadata->>'pages')::int) FROM documents WHERE id = '${key#document:}'")
assert_eq "mapped fields" "$(echo "$doc" | jq -c --arg k "$key" '{filename, file_path, file_size, upload_timestamp, redis_key: $k, pages: .metadata.pages}')" "$(echo "$row" | jq -c .)"

before=$(sql 'SELECT count(*) FROM documents')
out=$(migrate --skip 5 --dry-run)
assert_eq "dry run lists 5" 5 "$(echo "$out" | jq '.skipped | length')"
assert_eq "dry run writes nothing" "$before" "$(sql 'SELECT count(*) FROM documents')"

out=$(migrate --skip 7 --corrupt 6 --extra 3 --seed 11)
pg_docs=$(sql 'SELECT count(*) FROM documents')
assert_eq "reported PostgreSQL count" "$pg_docs" "$(echo "$out" | jq .postgres.documents)"
assert_eq "Redis - PostgreSQL = K - P" 4 "$((redis_docs - pg_docs))"
assert_eq "rows from Redis = N - K" $((redis_docs - 7)) \
    "$(sql "SELECT count(*) FROM documents WHERE metadata->>'migrated_from_redis' = 'true'")"
assert_eq "PostgreSQL-only rows = P" 3 \
    "$(sql "SELECT count(*) FROM documents WHERE metadata->>'migrated_from_redis' = 'false'")"
ids=$(echo "$out" | jq -r '.skipped[] | sub("^document:"; "")' | sed "s/.*/'&'/" | paste -sd,)
assert_eq "skipped keys are absent" 0 "$(sql "SELECT count(*) FROM documents WHERE id IN ($ids)")"
missing=0
for k in $(echo "$out" | jq -r '.skipped[]'); do [ "$(rcli EXISTS "$k")" = 1 ] || missing=$((missing + 1)); done
assert_eq "skipped keys are in Redis" 0 "$missing"
ids=$(echo "$out" | jq -r '.extra[]' | sed "s/.*/'&'/" | paste -sd,)
assert_eq "extra ids are in PostgreSQL" 3 "$(sql "SELECT count(*) FROM documents WHERE id IN ($ids)")"
assert_eq "same seed, same choice" "$(echo "$out" | jq -c .skipped)" "$(migrate --skip 7 --corrupt 6 --extra 3 --seed 11 --dry-run | jq -c .skipped)"

assert_eq "corrupted entries" 6 "$(echo "$out" | jq '.corrupted | length')"
assert_eq "every mapped field corrupted" "file_path file_size original_filename upload_timestamp" \
    "$(echo "$out" | jq -r '[.corrupted[].column] | unique | join(" ")')"
good=0
while read -r c; do
    k=$(echo "$c" | jq -r .key)
    col=$(echo "$c" | jq -r .column)
    field=$(echo "$c" | jq -r .redis_field)
    expect_pg=$(echo "$c" | jq -r .pg_value)
    expect_redis=$(echo "$c" | jq -r .redis_value)
    if [ "$col" = upload_timestamp ]; then expr="to_char($col, 'YYYY-MM-DD HH24:MI:SS')"; else expr=$col; fi
    got_pg=$(sql "SELECT $expr FROM documents WHERE id = '${k#document:}'")
    got_redis=$(rcli GET "$k" | jq -r ".$field")
    if [ "$got_pg" = "$expect_pg" ] && [ "$got_redis" = "$expect_redis" ] && [ "$got_pg" != "$got_redis" ]; then
        good=$((good + 1))
    else
        t_log "corrupted $k.$col: pg [$got_pg] vs [$expect_pg], redis [$got_redis] vs [$expect_redis]"
    fi
done < <(echo "$out" | jq -c '.corrupted[]')
assert_eq "corrupted fields differ exactly as reported" 6 "$good"
# All other migrated documents still match on original_filename.
assert_eq "uncorrupted rows keep their filename" "$((redis_docs - 7 - 2))" \
    "$(sql "SELECT count(*) FROM documents WHERE metadata->>'migrated_from_redis' = 'true' AND original_filename LIKE 'contract-______.pdf'")"

out=$("$CUTOVER_GATEWAY_BIN" migrate --skip 100000 2>&1 || true)
assert_eq "impossible skip refused" true "$(echo "$out" | grep -q exceeds && echo true || echo false)"
out=$(migrate)
assert_eq "restored" "$redis_docs" "$(sql 'SELECT count(*) FROM documents')"
t_finish
