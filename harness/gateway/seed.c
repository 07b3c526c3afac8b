/* `cutover-gateway seed`: idempotent (tables are emptied and refilled, old keys deleted).
 * PostgreSQL: agencies, reports, report_rows (15..55 rows per report and agency, so pagination
 * and total_records are real), enrollments; plus the empty migration target tables.
 * Redis (seed 002): document:<id> and analysis:<id> JSON strings, session:<id> hashes. */
#include "backend.h"
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000

const char gw_ddl_migration[] =
    "CREATE TABLE IF NOT EXISTS documents (id text PRIMARY KEY, original_filename text,"
    " file_path text, file_size bigint, upload_timestamp timestamp,"
    " metadata jsonb NOT NULL DEFAULT '{}');"
    "CREATE TABLE IF NOT EXISTS analysis_results (id text PRIMARY KEY, document_id text,"
    " analysis_data jsonb, model_used text, processing_time_ms integer,"
    " metadata jsonb NOT NULL DEFAULT '{}');";

static const char ddl[] =
    "CREATE TABLE IF NOT EXISTS agencies (agency_code text PRIMARY KEY,"
    " agency_name text NOT NULL, region text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reports (report_name text PRIMARY KEY, title text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS report_rows (report_name text NOT NULL REFERENCES reports,"
    " agency_code text NOT NULL REFERENCES agencies, row_no integer NOT NULL,"
    " item text NOT NULL, quantity integer NOT NULL, amount numeric(12,2) NOT NULL,"
    " region text NOT NULL, tags text[] NOT NULL,"
    " PRIMARY KEY (report_name, agency_code, row_no));"
    "CREATE TABLE IF NOT EXISTS enrollments (id integer PRIMARY KEY, student_name text NOT NULL,"
    " email text NOT NULL, course text NOT NULL, status text NOT NULL,"
    " progress integer NOT NULL, enrolled_at timestamp NOT NULL);";

/* %d: agencies - 1, then enrollments. Row counts: 15 + (7*agency_index + 11*report_index) % 41,
 * report_index 1..3 in name order (customer_master, inventory, sales_summary). */
static const char fill_fmt[] =
    "TRUNCATE report_rows, reports, agencies, enrollments;"
    "INSERT INTO agencies SELECT (100100 + i)::text, 'Agency ' || (100100 + i),"
    " (ARRAY['north','south','east','west'])[1 + i %% 4] FROM generate_series(0, %d) i;"
    "INSERT INTO reports VALUES ('customer_master', 'Customer Master'),"
    " ('inventory', 'Inventory'), ('sales_summary', 'Sales Summary');"
    "INSERT INTO report_rows SELECT r.report_name, a.agency_code, n,"
    " r.report_name || '-' || a.agency_code || '-' || lpad(n::text, 3, '0'),"
    " (a.ai * 31 + n * 17 + r.ri * 7) %% 500,"
    " round(((a.ai * 7919 + n * 104729 + r.ri * 1299709) %% 100000) / 100.0, 2), a.region,"
    " ARRAY['q' || (1 + n %% 4), a.region, CASE WHEN n %% 2 = 0 THEN 'even' ELSE 'odd' END]"
    " FROM (SELECT report_name, row_number() OVER (ORDER BY report_name) AS ri FROM reports) r,"
    " (SELECT agency_code, region, agency_code::int - 100100 AS ai FROM agencies) a,"
    " LATERAL generate_series(1, (15 + (a.ai * 7 + r.ri * 11) %% 41)::int) n;"
    "INSERT INTO enrollments SELECT i, 'Student ' || i, 'student' || i || '@example.edu',"
    " (ARRAY['Intro to Data', 'Web Basics', 'Cloud 101', 'Security Essentials'])[1 + i %% 4],"
    " (ARRAY['enrolled', 'in_progress', 'completed'])[1 + i %% 3], (i * 37) %% 101,"
    " timestamp '2024-01-01 00:00:00' + i * interval '1 hour' FROM generate_series(1, %d) i;";

uint64_t gw_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void gw_uuid(uint64_t n, char out[GW_UUID_LEN])
{
    uint64_t a = gw_mix64(n), b = gw_mix64(a);
    snprintf(out, GW_UUID_LEN, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static int pg_exec(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "cutover-gateway seed: %s", PQerrorMessage(c));
    PQclear(res);
    return ok ? 0 : -1;
}

static int seed_pg(const struct gw_config *cfg)
{
    int rc = -1;
    char err[512];
    char *fill = NULL;
    PGconn *c = gw_pg_connect(cfg->pg_dsn, "cutover-gateway-seed", err, sizeof(err));
    if (!c) {
        fprintf(stderr, "cutover-gateway seed: %s\n", err);
        goto fail;
    }
    if (asprintf(&fill, fill_fmt, cfg->agencies - 1, cfg->enrollments) < 0) goto fail;
    /* One transaction: a concurrent reader sees the old data or the new, never half. */
    if (pg_exec(c, "BEGIN") < 0 || pg_exec(c, ddl) < 0 || pg_exec(c, gw_ddl_migration) < 0 ||
        pg_exec(c, fill) < 0 || pg_exec(c, "COMMIT") < 0 ||
        pg_exec(c, "ANALYZE agencies, reports, report_rows, enrollments") < 0)
        goto fail;
    rc = 0;
fail:
    free(fill);
    PQfinish(c);
    return rc;
}

/* Reads the replies of n pipelined commands; -1 on the first error. */
static int drain(redisContext *c, int n)
{
    for (int i = 0; i < n; i++) {
        redisReply *rep;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
            fprintf(stderr, "cutover-gateway seed: redis: %s\n", c->errstr);
            return -1;
        }
        int bad = rep->type == REDIS_REPLY_ERROR;
        if (bad) fprintf(stderr, "cutover-gateway seed: redis: %s\n", rep->str);
        freeReplyObject(rep);
        if (bad) return -1;
    }
    return 0;
}

/* Deletes every key matching pattern (SCAN with COUNT 1000, a DEL per page). */
static int delete_matching(redisContext *c, const char *pattern)
{
    char cursor[32] = "0";
    for (int guard = 0; guard < 10000000; guard++) {
        redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            fprintf(stderr, "cutover-gateway seed: SCAN failed\n");
            freeReplyObject(rep);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        redisReply *keys = rep->element[1];
        int queued = 0;
        for (size_t i = 0; i < keys->elements; i++, queued++)
            redisAppendCommand(c, "DEL %b", keys->element[i]->str, keys->element[i]->len);
        freeReplyObject(rep);
        if (drain(c, queued) < 0) return -1;
        if (strcmp(cursor, "0") == 0) return 0;
    }
    return -1;
}

static void append_document(redisContext *c, int i)
{
    static const char *const kinds[] = {"nda", "msa", "sow", "lease"};
    char id[GW_UUID_LEN], key[64], ts[32];
    uint64_t h = gw_mix64((uint64_t)i * 3 + 17);
    gw_uuid(0xd0c0000000ULL + (uint64_t)i, id);
    snprintf(key, sizeof(key), "document:%s", id);
    snprintf(ts, sizeof(ts), "2024-%02d-%02d %02d:%02d:%02d", 1 + (int)(h % 12),
             1 + (int)((h >> 8) % 28), (int)((h >> 16) % 24), (int)((h >> 24) % 60),
             (int)((h >> 32) % 60));
    /* The filename carries the document number, so humans can read the data. */
    char fname[64], path[128], user[16];
    snprintf(user, sizeof(user), "user-%02d", (int)((h >> 5) % 13));
    snprintf(fname, sizeof(fname), "contract-%06d.pdf", i + 1);
    snprintf(path, sizeof(path), "/uploads/%s/contract-%06d.pdf", kinds[h % 4], i + 1);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:{s:i, s:s, s:[s, s]}}", "id", id, "filename",
                  fname, "file_path", path, "file_size", (json_int_t)(10000 + h % 5000000),
                  "upload_timestamp", ts, "content_type", "application/pdf", "metadata", "pages",
                  1 + (int)(h % 60), "uploaded_by", user, "tags", "contract", kinds[h % 4]);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    redisAppendCommand(c, "SET %s %s", key, text);
    free(text);
    json_decref(doc);

    static const char *const models[] = {"gpt-4o", "claude-3-sonnet", "llama-3-70b"};
    char aid[GW_UUID_LEN];
    gw_uuid(0xa7a0000000ULL + (uint64_t)i, aid);
    snprintf(key, sizeof(key), "analysis:%s", aid);
    json_t *an = json_pack("{s:s, s:s, s:{s:s, s:[s, s], s:[s], s:[s, s, s]}, s:s, s:i, s:s}", "id",
                           aid, "document_id", id, "analysis", "summary", fname, "risks",
                           "auto-renewal clause", "unlimited liability", "recommendations",
                           "cap liability at contract value", "key_points", "term 24 months",
                           "net 30 payment", "governing law: DE", "model_used", models[h % 3],
                           "processing_time_ms", 500 + (int)(h % 5000), "created_at", ts);
    text = json_dumps(an, JSON_COMPACT | JSON_PRESERVE_ORDER);
    redisAppendCommand(c, "SET %s %s", key, text);
    free(text);
    json_decref(an);
}

static void append_session(redisContext *c, int i)
{
    char id[GW_UUID_LEN], user[32], count[16];
    gw_uuid(0x5e50000000ULL + (uint64_t)i, id);
    snprintf(user, sizeof(user), "user-%02d", i % 13);
    snprintf(count, sizeof(count), "%d", i % 7);
    redisAppendCommand(c, "HSET session:%s user_id %s created_at %s last_seen %s document_count %s",
                       id, user, "2024-06-01 08:00:00", "2024-06-01 09:30:00", count);
}

static int seed_redis(const struct gw_config *cfg)
{
    struct gw_redis_target t;
    char err[512];
    int rc = -1;
    if (gw_redis_url_parse(cfg->redis_url, &t) < 0) {
        fprintf(stderr, "cutover-gateway seed: bad Redis URL\n");
        return -1;
    }
    redisContext *c = gw_redis_connect(&t, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "cutover-gateway seed: %s\n", err);
        return -1;
    }
    if (delete_matching(c, "document:*") < 0 || delete_matching(c, "analysis:*") < 0 ||
        delete_matching(c, "session:*") < 0 || delete_matching(c, "cache:*:enrollments") < 0)
        goto fail;
    for (int i = 0; i < cfg->documents; i += BATCH) {
        int n = cfg->documents - i < BATCH ? cfg->documents - i : BATCH;
        for (int j = 0; j < n; j++)
            append_document(c, i + j);
        if (drain(c, 2 * n) < 0) goto fail;
    }
    for (int i = 0; i < cfg->sessions; i += BATCH) {
        int n = cfg->sessions - i < BATCH ? cfg->sessions - i : BATCH;
        for (int j = 0; j < n; j++)
            append_session(c, i + j);
        if (drain(c, n) < 0) goto fail;
    }
    rc = 0;
fail:
    redisFree(c);
    return rc;
}

int gw_seed(const struct gw_config *cfg)
{
    if (seed_pg(cfg) < 0 || seed_redis(cfg) < 0) return -1;
    printf("{\"status\":\"success\",\"agencies\":%d,\"reports\":3,\"enrollments\":%d,"
           "\"documents\":%d,\"analyses\":%d,\"sessions\":%d}\n",
           cfg->agencies, cfg->enrollments, cfg->documents, cfg->documents, cfg->sessions);
    return 0;
}
