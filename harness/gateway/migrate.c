/* `cutover-gateway migrate`: seed 002's Redis -> PostgreSQL migration, with known defects.
 *   documents:        filename -> original_filename, file_path, file_size, upload_timestamp,
 *                     metadata (+ migrated_from_redis, redis_key, redis_document_id,
 *                     migration_timestamp)
 *   analysis_results: document_id, analysis -> analysis_data, model_used, processing_time_ms
 * --skip K leaves K documents out, --corrupt M changes one mapped field in M other documents,
 * --extra P adds P documents that exist only in PostgreSQL. Which ones is a pure function of
 * --seed, and stdout gets one JSON object naming each, so tests know the expected differences. */
#include "backend.h"
#include "clock.h"
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000

struct item {
    char *key; /* "document:<id>" */
    json_t *val;
};

struct items {
    struct item *v;
    size_t n, cap;
    unsigned long invalid;
};

static void items_free(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].key);
        json_decref(it->v[i].val);
    }
    free(it->v);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

/* Fetches the GETs queued for keys[from..n) and parses them; bad JSON is counted, not kept. */
static int fetch(redisContext *c, struct items *it, char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        redisAppendCommand(c, "GET %s", keys[i]);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK) return -1;
        json_t *v =
            rep->type == REDIS_REPLY_STRING ? json_loadb(rep->str, rep->len, 0, NULL) : NULL;
        freeReplyObject(rep);
        if (!json_is_object(v)) {
            json_decref(v);
            it->invalid++;
            free(keys[i]);
            continue;
        }
        if (it->n == it->cap) {
            size_t cap = it->cap ? it->cap * 2 : 1024;
            struct item *nv = realloc(it->v, cap * sizeof(*nv));
            if (!nv) return -1;
            it->v = nv;
            it->cap = cap;
        }
        it->v[it->n++] = (struct item){keys[i], v};
    }
    return 0;
}

/* All string values of keys matching pattern, sorted by key. sessions only counts keys. */
static int load(redisContext *c, const char *pattern, struct items *it, unsigned long *count)
{
    char cursor[32] = "0";
    *count = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            freeReplyObject(rep);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        redisReply *page = rep->element[1];
        char *keys[BATCH + 64];
        size_t n = 0;
        for (size_t i = 0; i < page->elements && n < sizeof(keys) / sizeof(keys[0]); i++)
            keys[n++] = strdup(page->element[i]->str);
        *count += page->elements;
        freeReplyObject(rep);
        if (it && fetch(c, it, keys, n) < 0) return -1;
        if (!it)
            for (size_t i = 0; i < n; i++)
                free(keys[i]);
        if (strcmp(cursor, "0") == 0) break;
    }
    if (it) qsort(it->v, it->n, sizeof(it->v[0]), by_key);
    return 0;
}

static const char *const redis_fields[] = {"filename", "file_path", "file_size",
                                           "upload_timestamp"};
static const char *const pg_columns[] = {"original_filename", "file_path", "file_size",
                                         "upload_timestamp"};

/* The corrupted value of field f; a new reference. */
static json_t *corrupted(int f, json_t *orig)
{
    char buf[512];
    switch (f) {
    case 0:
        snprintf(buf, sizeof(buf), "%s.corrupted",
                 json_string_value(orig) ? json_string_value(orig) : "");
        return json_string(buf);
    case 1:
        snprintf(buf, sizeof(buf), "/corrupted%s",
                 json_string_value(orig) ? json_string_value(orig) : "");
        return json_string(buf);
    case 2:
        return json_integer(json_integer_value(orig) + 1);
    default:
        return json_string("1999-12-31 23:59:59");
    }
}

/* Text form of a JSON scalar for a text parameter; NULL for null/absent. Points into buf or v. */
static const char *param(json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, n, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

static int exec_ok(PGconn *pg, PGresult *res)
{
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "cutover-gateway migrate: %s", PQerrorMessage(pg));
    PQclear(res);
    return ok ? 0 : -1;
}

static int insert_document(PGconn *pg, const char *id, json_t *doc, json_t *meta)
{
    char b[3][64];
    char *metatext = json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *p[6] = {id,
                        param(json_object_get(doc, "filename"), b[0], 64),
                        param(json_object_get(doc, "file_path"), b[1], 64),
                        param(json_object_get(doc, "file_size"), b[2], 64),
                        json_string_value(json_object_get(doc, "upload_timestamp")),
                        metatext};
    int rc = exec_ok(pg, PQexecPrepared(pg, "doc", 6, p, NULL, NULL, 0));
    free(metatext);
    return rc;
}

static int insert_analysis(PGconn *pg, json_t *an, json_t *meta)
{
    char b[64];
    char *data =
        json_dumps(json_object_get(an, "analysis") ? json_object_get(an, "analysis") : json_null(),
                   JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    char *metatext = json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *p[6] = {json_string_value(json_object_get(an, "id")),
                        json_string_value(json_object_get(an, "document_id")),
                        data,
                        json_string_value(json_object_get(an, "model_used")),
                        param(json_object_get(an, "processing_time_ms"), b, sizeof(b)),
                        metatext};
    int rc = exec_ok(pg, PQexecPrepared(pg, "an", 6, p, NULL, NULL, 0));
    free(data);
    free(metatext);
    return rc;
}

static json_t *migration_meta(json_t *base, const char *key, const char *id, const char *ts)
{
    json_t *m = json_is_object(base) ? json_deep_copy(base) : json_object();
    json_object_set_new(m, "migrated_from_redis", json_true());
    json_object_set_new(m, "redis_key", json_string(key));
    json_object_set_new(m, "redis_document_id", json_string(id));
    json_object_set_new(m, "migration_timestamp", json_string(ts));
    return m;
}

static long count_rows(PGconn *pg, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    PGresult *res = PQexec(pg, sql);
    long n = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

int gw_migrate(const struct gw_config *cfg)
{
    int rc = -1;
    char err[512], ts[GW_ISO_LEN];
    struct items docs = {0}, ans = {0};
    unsigned long ndocs_keys, nans_keys, nsessions;
    size_t *order = NULL;
    char *role = NULL; /* per document: 0 copy, 's' skip, 'c' corrupt */
    json_t *out = json_object(), *skipped = json_array(), *corr = json_array(),
           *extra = json_array();
    struct gw_redis_target t;
    redisContext *rc_ = NULL;
    PGconn *pg = NULL;

    if (gw_redis_url_parse(cfg->redis_url, &t) < 0) {
        fprintf(stderr, "cutover-gateway migrate: bad Redis URL\n");
        goto fail;
    }
    if (!(rc_ = gw_redis_connect(&t, err, sizeof(err))) ||
        !(pg = gw_pg_connect(cfg->pg_dsn, "cutover-gateway-migrate", err, sizeof(err)))) {
        fprintf(stderr, "cutover-gateway migrate: %s\n", err);
        goto fail;
    }
    if (load(rc_, "document:*", &docs, &ndocs_keys) < 0 ||
        load(rc_, "analysis:*", &ans, &nans_keys) < 0 ||
        load(rc_, "session:*", NULL, &nsessions) < 0) {
        fprintf(stderr, "cutover-gateway migrate: reading Redis failed\n");
        goto fail;
    }
    if ((size_t)cfg->skip + (size_t)cfg->corrupt > docs.n) {
        fprintf(stderr,
                "cutover-gateway migrate: --skip + --corrupt (%d) exceeds the %zu documents\n",
                cfg->skip + cfg->corrupt, docs.n);
        goto fail;
    }
    /* A seeded shuffle picks which documents are skipped (first K) and corrupted (next M). */
    order = malloc((docs.n + 1) * sizeof(*order));
    role = calloc(docs.n + 1, 1);
    if (!order || !role) goto fail;
    for (size_t i = 0; i < docs.n; i++)
        order[i] = i;
    uint64_t state = cfg->rng_seed;
    for (size_t i = docs.n; i > 1; i--) {
        state = gw_mix64(state);
        size_t j = (size_t)(state % i);
        size_t tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    for (int i = 0; i < cfg->skip; i++)
        role[order[i]] = 's';
    for (int i = 0; i < cfg->corrupt; i++)
        role[order[cfg->skip + i]] = 'c';

    gw_iso8601(gw_wall_us(), ts);
    if (!cfg->dry_run) {
        if (exec_ok(pg, PQexec(pg, "BEGIN")) < 0 || exec_ok(pg, PQexec(pg, gw_ddl_migration)) < 0 ||
            exec_ok(pg, PQexec(pg, "TRUNCATE documents, analysis_results")) < 0 ||
            exec_ok(pg, PQprepare(pg, "doc",
                                  "INSERT INTO documents (id, original_filename, file_path,"
                                  " file_size, upload_timestamp, metadata)"
                                  " VALUES ($1, $2, $3, $4, $5, $6)",
                                  6, NULL)) < 0 ||
            exec_ok(pg, PQprepare(pg, "an",
                                  "INSERT INTO analysis_results (id, document_id, analysis_data,"
                                  " model_used, processing_time_ms, metadata)"
                                  " VALUES ($1, $2, $3, $4, $5, $6)",
                                  6, NULL)) < 0)
            goto fail;
    }
    int ncorrupt = 0;
    for (size_t i = 0; i < docs.n; i++) {
        const char *key = docs.v[i].key, *id = key + strlen("document:");
        json_t *doc = docs.v[i].val;
        if (role[i] == 's') {
            json_array_append_new(skipped, json_string(key));
            continue;
        }
        json_t *row = json_deep_copy(doc);
        if (role[i] == 'c') {
            int f = ncorrupt++ % 4;
            json_t *orig = json_object_get(doc, redis_fields[f]);
            json_t *bad = corrupted(f, orig);
            json_array_append_new(corr, json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "key", key,
                                                  "id", id, "redis_field", redis_fields[f],
                                                  "column", pg_columns[f], "redis_value",
                                                  orig ? orig : json_null(), "pg_value", bad));
            json_object_set_new(row, redis_fields[f], bad);
        }
        json_t *meta = migration_meta(json_object_get(doc, "metadata"), key, id, ts);
        int bad = !cfg->dry_run && insert_document(pg, id, row, meta) < 0;
        json_decref(meta);
        json_decref(row);
        if (bad) goto fail;
    }
    for (size_t i = 0; i < ans.n; i++) {
        json_t *an = ans.v[i].val;
        const char *doc_id = json_string_value(json_object_get(an, "document_id"));
        json_t *meta =
            migration_meta(json_object_get(an, "metadata"), ans.v[i].key, doc_id ? doc_id : "", ts);
        int bad = !cfg->dry_run && insert_analysis(pg, an, meta) < 0;
        json_decref(meta);
        if (bad) goto fail;
    }
    for (int i = 0; i < cfg->extra; i++) {
        char id[GW_UUID_LEN], fname[64];
        gw_uuid(0xe7a0000000ULL + (uint64_t)i, id);
        snprintf(fname, sizeof(fname), "pg-only-%04d.pdf", i + 1);
        json_t *row =
            json_pack("{s:s, s:s, s:i, s:s}", "filename", fname, "file_path", "/uploads/pg-only",
                      "file_size", 1000 + i, "upload_timestamp", "2024-07-01 00:00:00");
        json_t *meta = json_pack("{s:b, s:s}", "migrated_from_redis", 0, "source", "pg_only");
        int bad = !cfg->dry_run && insert_document(pg, id, row, meta) < 0;
        json_decref(row);
        json_decref(meta);
        json_array_append_new(extra, json_string(id));
        if (bad) goto fail;
    }
    if (!cfg->dry_run && exec_ok(pg, PQexec(pg, "COMMIT")) < 0) goto fail;

    json_object_set_new(out, "status", json_string("success"));
    json_object_set_new(out, "dry_run", json_boolean(cfg->dry_run));
    json_object_set_new(out, "redis",
                        json_pack("{s:I, s:I, s:I, s:I}", "documents", (json_int_t)ndocs_keys,
                                  "analyses", (json_int_t)nans_keys, "sessions",
                                  (json_int_t)nsessions, "invalid_json",
                                  (json_int_t)(docs.invalid + ans.invalid)));
    json_object_set_new(
        out, "postgres",
        json_pack("{s:I, s:I}", "documents",
                  (json_int_t)(cfg->dry_run ? -1 : count_rows(pg, "documents")), "analyses",
                  (json_int_t)(cfg->dry_run ? -1 : count_rows(pg, "analysis_results"))));
    json_object_set_new(out, "skipped", json_incref(skipped));
    json_object_set_new(out, "corrupted", json_incref(corr));
    json_object_set_new(out, "extra", json_incref(extra));
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) puts(text);
    free(text);
    rc = 0;
fail:
    if (rc < 0 && pg && !cfg->dry_run) PQclear(PQexec(pg, "ROLLBACK"));
    json_decref(out);
    json_decref(skipped);
    json_decref(corr);
    json_decref(extra);
    free(order);
    free(role);
    items_free(&docs);
    items_free(&ans);
    PQfinish(pg);
    if (rc_) redisFree(rc_);
    return rc;
}
