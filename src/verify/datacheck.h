/* datacheck.h - Redis keys against PostgreSQL rows: counts, a seeded sample, or a full
 * streaming check with bounded memory (prefix dck_).
 *
 * ---- Scenario section `data_checks` (reference) -------------------------------------------
 *   "data_checks": [{
 *     "name": "documents",                                  unique, [A-Za-z0-9_.-]+
 *     "redis": {"endpoint": "cache", "match": "document:*",  match defaults to the key
 *               "type": "json" | "hash",                     pattern with {id} as `*`
 *               "scan_count": 1000},                         SCAN ... COUNT (1..100000)
 *     "postgres": {"endpoint": "db", "table": "documents", "where": "deleted_at IS NULL"}
 *              or {"endpoint": "db", "query": "SELECT id, to_jsonb(tags) AS tags FROM ..."},
 *     "key": {"redis": "document:{id}", "column": "id"},     one {name} (or {{name}}) part
 *     "fields": {"filename": "original_filename",            Redis field -> column
 *                "/metadata/pages": {"column": "metadata", "pointer": "/pages"}},
 *     "compare": "all" | "mapped",   all (default): every top-level field of the Redis value,
 *                                    by its mapped column or the column of the same name;
 *                                    mapped: only the `fields` entries
 *     "ignore": ["content_type", "/metadata/uploaded_by"],   names or pointers
 *     "additions": "allow" | "report",   default allow: keys only PostgreSQL's JSON has
 *     "tolerance": {...}, "arrays": {...},                   as in jdiff.h
 *     "coerce": true,                  "123" equals 123 and "true" equals true; default true
 *                                      for hash (Redis hash values are strings), false for json
 *     "mode": "count" | "sample" | "full",    default sample
 *     "sample": 1000, "reverse_sample": 1000, "seed": 7,   seed default: defaults.seed
 *     "batch": 250,                    keys per Redis pipeline and per `= ANY($1)` query
 *     "dedup": true,                   deduplicate SCAN keys (8-16 bytes per key)
 *     "max_examples": 5, "max_keys": 100, "recheck_max": 10000
 *   }]
 * Names (table, schema.table, columns) are [A-Za-z_][A-Za-z0-9_]* and are quoted, so they
 * match case-sensitively. PostgreSQL values become JSON by type: json/jsonb parsed, numbers,
 * booleans, NULL as null, everything else (timestamps, arrays, uuid) as its text output
 * (timestamp: "2024-03-05 10:20:30"); cast in a `query` to compare otherwise.
 *
 * Modes. count: Redis by SCAN MATCH COUNT (never KEYS), PostgreSQL by count(*). sample: the
 * same counts, plus the `sample` keys with the smallest seeded hash of their name (the same
 * keys for the same seed and data, whatever the SCAN order), fetched with pipelined GET or
 * HGETALL and looked up in PostgreSQL in batches; and a reverse sample of `reverse_sample`
 * rows (ORDER BY md5(seed || key)) checked with EXISTS. full: every scanned key is fetched and
 * looked up batch by batch, then every PostgreSQL key (keyset pages) is checked with EXISTS;
 * memory stays O(batch + scan_count) (+ the dedup set). In sample and full modes a key found
 * missing or different is fetched again once at the end; only what is still wrong is
 * reported (`recovered` counts the others, up to recheck_max suspects; beyond that they are
 * reported without a second look).
 *
 * ---- Output (dck_run: an array, one object per check) --------------------------------------
 *   {"name", "mode", "redis": "redis://127.0.0.1:6379/0" (redacted), "postgres": "...",
 *    "redis_count": a, "pg_count": b, "count_diff": a-b, "count_exact": true (dedup on),
 *    "scan_duplicates": d, "checked": n, "reverse_checked": r,
 *    "missing_in_pg": x, "missing_in_redis": y, "field_mismatches": z (key x field pairs),
 *    "mismatched_keys": k, "invalid_values": v (unparsable or wrong type), "unmapped_keys": u,
 *    "vanished": keys gone before they could be read, "rechecked": s, "recovered": t,
 *    "fields": [{"field": "filename", "column": "original_filename", "count": c,
 *                "kinds": {"value": c},
 *                "examples": [{"key": "document:...", "path": "/filename", "kind": "value",
 *                              "redis": "\"a.pdf\"", "postgres": "\"b.pdf\"",
 *                              "truncated": false}]}],
 *    "missing_in_pg_keys": [... up to max_keys], "missing_in_redis_keys": [...],
 *    "invalid_keys": [...], "errors": e, "error": "first error" | null, "seconds": t}
 * A check passes when count_diff is 0 and missing_in_pg, missing_in_redis, field_mismatches,
 * invalid_values and errors are 0 (dck_passed).
 *
 * Errors: dck_validate returns 0 or CUT_EINVAL ("file: /data_checks/i/...: message" for every
 * problem; CUT_ENOMEM). dck_run returns 0 (differences and failed queries during a check are
 * data: "errors"), CUT_EINVAL, CUT_ECONNECT (an endpoint could not be reached or refused the
 * statements: err names it by its redacted display string), CUT_ENOMEM. *out is a new
 * reference (NULL when there is no section). Runs on its own loop in the calling thread. */
#ifndef CUTOVER_VERIFY_DATACHECK_H
#define CUTOVER_VERIFY_DATACHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario/diag.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct dck_opts {
    int progress_fd; /* progress lines (about one a second); -1 = none */
    bool quiet;
    const char *only; /* run only the check of this name (NULL = all) */
} dck_opts;

int dck_validate(const scn_scenario *s, scn_diags *d);

int dck_run(const scn_scenario *s, const dck_opts *o, json_t **out, cut_err *err);

/* True when one result object shows no difference at all (see above). */
bool dck_passed(const json_t *check);

#endif
