/* Seed 004: GET /api/enrollments (straight from PostgreSQL), GET /api/enrollments/cached (the same
 * body through a Redis cache with a TTL, X-Cache: HIT|MISS) and POST /api/webhooks/enrollment,
 * which invalidates the cache. */
#include "backend.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* string_agg rather than json_agg: the same rows without json_agg's newlines between them. */
const char gw_sql_enrollments[] =
    "SELECT count(*), '[' || coalesce(string_agg(row_to_json(e)::text, ',' ORDER BY e.id), '')"
    " || ']' FROM (SELECT id, student_name, email, course, status, progress,"
    "  to_char(enrolled_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS enrolled_at FROM enrollments) e";

/* Per deployment, so v1 and v2 each have their own cache as two separate apps would. */
static void cache_key(const struct gw *gw, char *out, size_t n)
{
    snprintf(out, n, "cache:%s:enrollments", gw->cfg.deployment);
}

/* Builds the body from PostgreSQL; returns 0 or replies with the error and returns -1. */
static int load(struct gw_req *q, struct gw_reply *r, char **text, size_t *len)
{
    char err[512];
    PGresult *res;
    enum gw_db_status st = gw_db_query(q->gw, GW_STMT_ENROLLMENTS, 0, NULL, &res, err, sizeof(err));
    if (st != GW_DB_OK) {
        gw_db_reply_error(r, q, st, err);
        return -1;
    }
    int n = asprintf(text, "{\"status\":\"success\",\"count\":%s,\"data\":%s}",
                     PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    PQclear(res);
    if (n < 0) {
        gw_reply_error(r, q, 500, "INTERNAL_ERROR", "out of memory");
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

void gw_route_enrollments(struct gw_req *q, struct gw_reply *r)
{
    char *text;
    size_t len;
    if (load(q, r, &text, &len) == 0) gw_reply_raw(r, 200, text, len);
}

void gw_route_enrollments_cached(struct gw_req *q, struct gw_reply *r)
{
    char key[64], err[512], ttl[16];
    cache_key(q->gw, key, sizeof(key));
    const char *get[] = {"GET", key};
    redisReply *rep = gw_redis_cmd(q->gw, 2, get, NULL, err, sizeof(err));
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char *text = malloc(rep->len + 1);
        if (text) {
            memcpy(text, rep->str, rep->len);
            text[rep->len] = '\0';
        }
        gw_reply_raw(r, 200, text, rep->len);
        gw_reply_header(r, "X-Cache", "HIT");
        freeReplyObject(rep);
        return;
    }
    /* Redis down: serve from PostgreSQL and say the cache was bypassed. */
    int rep_ok = rep != NULL;
    const char *state = rep_ok ? "MISS" : "BYPASS";
    if (!rep) fprintf(stderr, "cutover-gateway: enrollments cache: %s\n", err);
    freeReplyObject(rep);
    char *text;
    size_t len;
    if (load(q, r, &text, &len) < 0) return;
    snprintf(ttl, sizeof(ttl), "%d", q->gw->cfg.cache_ttl_s);
    const char *set[] = {"SET", key, text, "EX", ttl};
    size_t lens[] = {3, strlen(key), len, 2, strlen(ttl)};
    if (rep_ok) {
        redisReply *sr = gw_redis_cmd(q->gw, 5, set, lens, err, sizeof(err));
        if (!sr) fprintf(stderr, "cutover-gateway: enrollments cache fill: %s\n", err);
        freeReplyObject(sr);
    }
    gw_reply_raw(r, 200, text, len);
    gw_reply_header(r, "X-Cache", "%s", state);
}

void gw_route_webhook(struct gw_req *q, struct gw_reply *r)
{
    static const char *const events[] = {"enrollment.created", "enrollment.progress",
                                         "enrollment.completed", NULL};
    char key[64], err[512];
    json_t *body = gw_req_json(q, r, 0);
    if (!body) return;
    const char *event = json_string_value(json_object_get(body, "event"));
    int known = 0;
    for (int i = 0; event && events[i]; i++)
        known |= strcmp(event, events[i]) == 0;
    if (!known) {
        json_decref(body);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR",
                       "\"event\" must be enrollment.created, enrollment.progress or "
                       "enrollment.completed");
        return;
    }
    cache_key(q->gw, key, sizeof(key));
    const char *del[] = {"DEL", key};
    redisReply *rep = gw_redis_cmd(q->gw, 2, del, NULL, err, sizeof(err));
    if (!rep) {
        json_decref(body);
        gw_reply_error(r, q, 503, "CACHE_UNAVAILABLE", "%s", err);
        return;
    }
    long long removed = rep->integer;
    freeReplyObject(rep);
    gw_reply_json(r, 200,
                  json_pack("{s:s, s:{s:s, s:s, s:I}}", "status", "success", "data", "event", event,
                            "key", key, "invalidated", (json_int_t)removed));
    json_decref(body);
}
