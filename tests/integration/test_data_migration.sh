#!/usr/bin/env bash
# cutover data against seed 002's migration with known defects: after `migrate --skip K
# --corrupt M --extra P`, the counts differ by exactly K-P, the full check lists exactly the K
# skipped keys, the M corrupted fields (with their columns) and the P PostgreSQL-only rows; the
# sample is reproducible for a seed; a hash check and a count check agree. Restores a clean
# migration.
. "${CUTOVER_SOURCE_DIR:-$(dirname "$0")/../..}/harness/gateway/testlib.sh"
gw_reset
: "${CUTOVER_BIN:?}" "${CUTOVER_GATEWAY_BIN:?}"
FX=$CUTOVER_SOURCE_DIR/tests/integration/fixtures/verify
OUT=$T_DIR/data.json
migrate() { "$CUTOVER_GATEWAY_BIN" migrate "$@"; }
t_cleanup() { migrate >/dev/null; }
data() { "$CUTOVER_BIN" data "$@" --quiet --out "$OUT" >/dev/null 2>"$T_DIR/stderr" && echo 0 || echo $?; }
chk() { jq -c --arg n "$1" ".data_checks[] | select(.name == \$n) | $2" "$OUT"; }

migrate >/dev/null
assert_eq "clean migration passes" 0 "$(data "$FX/data_documents.json")"
assert_eq "clean: full counts" '[200,200,0,true,200,200]' \
    "$(chk documents_full '[.redis_count, .pg_count, .count_diff, .count_exact, .checked, .reverse_checked]')"
assert_eq "clean: nothing missing or different" '[0,0,0,0,0]' \
    "$(chk documents_full '[.missing_in_pg, .missing_in_redis, .field_mismatches, .invalid_values, .errors]')"
assert_eq "clean: sample size" '[60,60]' "$(chk documents_sample '[.checked, .reverse_checked]')"

K=7 M=6 P=3
mig=$(migrate --skip $K --corrupt $M --extra $P --seed 11)
assert_eq "data exits 1 after a defective migration" 1 "$(data "$FX/data_documents.json")"
assert_eq "count diff is K-P" $((K - P)) "$(chk documents_full .count_diff)"
assert_eq "counts" "[200,$((200 - K + P))]" "$(chk documents_full '[.redis_count, .pg_count]')"
assert_eq "missing in PostgreSQL: exactly the skipped keys" "$(echo "$mig" | jq -c '.skipped | sort')" \
    "$(chk documents_full '.missing_in_pg_keys | sort')"
assert_eq "missing in Redis: exactly the extra rows" "$(echo "$mig" | jq -c '[.extra[] | "document:" + .] | sort')" \
    "$(chk documents_full '.missing_in_redis_keys | sort')"
assert_eq "M field mismatches" "$M" "$(chk documents_full .field_mismatches)"
assert_eq "one field per corrupted key" "$M" "$(chk documents_full .mismatched_keys)"
expected=$(echo "$mig" | jq -c '[.corrupted[] | {key, field: .redis_field, column}] | sort_by(.key)')
got=$(chk documents_full '[.fields[] | .field as $f | .column as $c | .examples[] | {key, field: $f, column: $c}] | sort_by(.key)')
assert_eq "exactly the corrupted keys, fields and columns" "$expected" "$got"
expected=$(echo "$mig" | jq -c '[.corrupted[] | {key, v: (.redis_value | tojson)}] | sort_by(.key)')
got=$(chk documents_full '[.fields[].examples[] | {key, v: .redis}] | sort_by(.key)')
assert_eq "examples carry the Redis values" "$expected" "$got"
assert_eq "suspects rechecked, none recovered" "[$((K + M + P)),0]" "$(chk documents_full '[.rechecked, .recovered]')"
assert_eq "count check: only migrated rows" "[200,$((200 - K)),$K]" "$(chk documents_count '[.redis_count, .pg_count, .count_diff]')"

# The sample is the same keys for the same seed: two runs, identical results.
first=$(chk documents_sample '[.missing_in_pg_keys, .field_mismatches, .missing_in_redis_keys]')
data "$FX/data_documents.json" >/dev/null
assert_eq "same seed, same sample" "$first" "$(chk documents_sample '[.missing_in_pg_keys, .field_mismatches, .missing_in_redis_keys]')"
sampled_missing=$(chk documents_sample '.missing_in_pg_keys[]' | tr -d '"')
bad=0
for k in $sampled_missing; do echo "$mig" | jq -e --arg k "$k" '.skipped | index($k)' >/dev/null || bad=$((bad + 1)); done
assert_eq "sampled missing keys are skipped keys" 0 "$bad"

# Sessions are hashes; a hash check against a table made from them (values are text there,
# document_count an integer: coerced).
PGOPTIONS=--client-min-messages=warning psql "$CUTOVER_PG_DSN" -Xqc "DROP TABLE IF EXISTS cutover_it_sessions; CREATE TABLE cutover_it_sessions (id text PRIMARY KEY, user_id text, document_count integer, created_at timestamp, last_seen text)" >/dev/null
rcli() { redis-cli -u "$CUTOVER_REDIS_URL" "$@"; }
for key in $(rcli --scan --pattern 'session:*'); do
    rcli HGETALL "$key" | paste - - | jq -R --arg id "${key#session:}" 'split("\t") | {(.[0]): .[1]}' | jq -s --arg id "${key#session:}" 'add + {id: $id}'
done | jq -s . >"$T_DIR/sessions.json"
psql "$CUTOVER_PG_DSN" -Xqc "INSERT INTO cutover_it_sessions SELECT id, user_id, document_count::int, created_at::timestamp, last_seen FROM json_to_recordset('$(cat "$T_DIR/sessions.json")') AS x(id text, user_id text, document_count text, created_at text, last_seen text)" >/dev/null
one=$(rcli --scan --pattern 'session:*' | sort | head -n1)
psql "$CUTOVER_PG_DSN" -Xqc "UPDATE cutover_it_sessions SET document_count = document_count + 1 WHERE id = '${one#session:}'" >/dev/null
jq '.data_checks = [{"name": "sessions", "mode": "full", "redis": {"endpoint": "cache", "type": "hash"},
    "postgres": {"endpoint": "db", "table": "cutover_it_sessions"}, "key": {"redis": "session:{id}", "column": "id"}}]' \
    "$FX/data_documents.json" >"$T_DIR/sessions_check.json"
assert_eq "hash check exits 1" 1 "$(data "$T_DIR/sessions_check.json")"
assert_eq "hash: only the changed count differs" "[20,20,0,1,[\"$one\"],\"document_count\",\"\\\"$(rcli HGET "$one" document_count)\\\"\"]" \
    "$(chk sessions '[.redis_count, .pg_count, .missing_in_pg, .field_mismatches, [.fields[].examples[].key], .fields[0].column, .fields[0].examples[0].redis]')"
psql "$CUTOVER_PG_DSN" -Xqc "DROP TABLE cutover_it_sessions" >/dev/null

# Unreachable PostgreSQL: exit 3 without the password in the message; bad section: exit 2.
jq '.endpoints.db.dsn = "postgresql://cutover:s3cret-pw@127.0.0.1:1/cutover"' "$FX/data_documents.json" >"$T_DIR/down.json"
assert_eq "unreachable exits 3" 3 "$(data "$T_DIR/down.json")"
assert_eq "no password in the message" 0 "$(grep -c s3cret-pw "$T_DIR/stderr" || true)"
jq '.data_checks[0].mode = "fast" | .data_checks[1].key = {"redis": "document:", "column": "id"} | .data_checks[2].postgres.table = "a;b"' \
    "$FX/data_documents.json" >"$T_DIR/bad.json"
assert_eq "bad section exits 2" 2 "$(data "$T_DIR/bad.json")"
assert_eq "every problem listed" 3 "$(grep -c '/data_checks/' "$T_DIR/stderr")"

migrate >/dev/null
assert_eq "restored: passes again" 0 "$(data "$FX/data_documents.json")"
t_finish
