#include "backend.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_WAIT_MS 5000

PGconn *gw_pg_connect(const char *dsn, const char *app, char *err, size_t errlen)
{
    /* NOTICEs ("already exists, skipping") would only clutter the logs. */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {dsn, "3", app, "-c client_min_messages=warning", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK) return c;
    snprintf(err, errlen, "postgres: %s", c ? PQerrorMessage(c) : "out of memory");
    err[strcspn(err, "\n")] = '\0';
    PQfinish(c);
    return NULL;
}

int gw_redis_url_parse(const char *url, struct gw_redis_target *t)
{
    memset(t, 0, sizeof(*t));
    t->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) return -1;
    const char *p = url + 8;
    const char *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        if ((size_t)(at - pw) >= sizeof(t->password)) return -1;
        memcpy(t->password, pw, (size_t)(at - pw));
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof(t->host)) return -1;
    memcpy(t->host, p, hl);
    p += hl;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (port <= 0 || port > 65535) return -1;
        t->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        t->db = (int)strtol(p + 1, &end, 10);
        if (*end) return -1;
    }
    return 0;
}

redisContext *gw_redis_connect(const struct gw_redis_target *t, char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = 2};
    redisContext *c = redisConnectWithTimeout(t->host, t->port, tv);
    redisReply *rep = NULL;
    if (!c || c->err) {
        snprintf(err, errlen, "redis: %s", c ? c->errstr : "out of memory");
        goto fail;
    }
    struct timeval cmd_tv = {.tv_sec = 5};
    redisSetTimeout(c, cmd_tv);
    if (t->password[0]) {
        rep = redisCommand(c, "AUTH %s", t->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) goto cmd_fail;
        freeReplyObject(rep);
    }
    if (t->db) {
        rep = redisCommand(c, "SELECT %d", t->db);
        if (!rep || rep->type == REDIS_REPLY_ERROR) goto cmd_fail;
        freeReplyObject(rep);
    }
    return c;
cmd_fail:
    snprintf(err, errlen, "redis: %s", rep ? rep->str : c->errstr);
    freeReplyObject(rep);
fail:
    if (c) redisFree(c);
    return NULL;
}

static const struct {
    const char *name, *sql;
} statements[] = {{GW_STMT_REPORT, gw_sql_report}, {GW_STMT_ENROLLMENTS, gw_sql_enrollments}};

static void *pg_open(void *arg, char *err, size_t errlen)
{
    struct gw *gw = arg;
    char app[64];
    snprintf(app, sizeof(app), "cutover-gateway-%s", gw->cfg.deployment);
    PGconn *c = gw_pg_connect(gw->cfg.pg_dsn, app, err, errlen);
    for (size_t i = 0; c && i < sizeof(statements) / sizeof(statements[0]); i++) {
        PGresult *res = PQprepare(c, statements[i].name, statements[i].sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "postgres: preparing %s: %s", statements[i].name,
                     PQerrorMessage(c));
            err[strcspn(err, "\n")] = '\0';
            PQfinish(c);
            c = NULL;
        }
        PQclear(res);
    }
    return c;
}

static void pg_close(void *c)
{
    PQfinish(c);
}

static void *redis_open(void *arg, char *err, size_t errlen)
{
    struct gw *gw = arg;
    return gw_redis_connect(&gw->redis_target, err, errlen);
}

static void redis_close(void *c)
{
    redisFree(c);
}

int gw_backend_open(struct gw *gw)
{
    if (gw_redis_url_parse(gw->cfg.redis_url, &gw->redis_target) < 0) {
        fprintf(stderr, "cutover-gateway: bad Redis URL (want redis://host:port/db)\n");
        return -1;
    }
    if (gw_pool_new(&gw->pg, gw->cfg.pg_pool, pg_open, pg_close, gw) < 0 ||
        gw_pool_new(&gw->redis, gw->cfg.redis_pool, redis_open, redis_close, gw) < 0) {
        fprintf(stderr, "cutover-gateway: out of memory\n");
        return -1;
    }
    return 0;
}

void gw_backend_close(struct gw *gw)
{
    gw_pool_free(gw->pg);
    gw_pool_free(gw->redis);
    gw->pg = gw->redis = NULL;
}

enum gw_db_status gw_db_query(struct gw *gw, const char *stmt, int nparams,
                              const char *const *params, PGresult **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!gw_breaker_allow(gw->breaker)) {
        snprintf(err, errlen, "circuit breaker 'postgres' is open");
        return GW_DB_CIRCUIT_OPEN;
    }
    if (gw_faults_db_fail(gw->faults)) {
        snprintf(err, errlen, "injected database error (db_error_rate)");
        gw_breaker_record(gw->breaker, 0);
        return GW_DB_FAILED;
    }
    int busy;
    PGconn *c = gw_pool_get(gw->pg, POOL_WAIT_MS, &busy, err, errlen);
    if (!c) {
        /* A connect failure is the backend failing; a pool timeout is our own congestion. */
        if (busy) {
            gw_breaker_cancel(gw->breaker);
            return GW_DB_BUSY;
        }
        gw_breaker_record(gw->breaker, 0);
        return GW_DB_FAILED;
    }
    PGresult *res = PQexecPrepared(c, stmt, nparams, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
        PQclear(res);
        gw_pool_put(gw->pg, c, PQstatus(c) != CONNECTION_OK);
        gw_breaker_record(gw->breaker, 0);
        return GW_DB_FAILED;
    }
    gw_pool_put(gw->pg, c, 0);
    gw_breaker_record(gw->breaker, 1);
    *out = res;
    return GW_DB_OK;
}

void gw_db_reply_error(struct gw_reply *r, const struct gw_req *q, enum gw_db_status st,
                       const char *err)
{
    switch (st) {
    case GW_DB_CIRCUIT_OPEN:
        gw_reply_error(r, q, 503, "CIRCUIT_OPEN", "%s", err);
        break;
    case GW_DB_BUSY:
        gw_reply_error(r, q, 503, "POOL_EXHAUSTED", "%s", err);
        break;
    default:
        gw_reply_error(r, q, 500, "DATABASE_ERROR", "%s", err);
        break;
    }
}

int gw_db_ping(struct gw *gw, double *ms, char *err, size_t errlen)
{
    int64_t t0 = gw_mono_us();
    PGconn *c = gw_pool_get(gw->pg, POOL_WAIT_MS, NULL, err, errlen);
    if (!c) return -1;
    PGresult *res = PQexec(c, "SELECT 1");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(res);
    gw_pool_put(gw->pg, c, !ok);
    *ms = (double)(gw_mono_us() - t0) / 1000.0;
    return ok ? 0 : -1;
}

redisReply *gw_redis_cmd(struct gw *gw, int argc, const char **argv, const size_t *lens, char *err,
                         size_t errlen)
{
    redisContext *c = gw_pool_get(gw->redis, POOL_WAIT_MS, NULL, err, errlen);
    if (!c) return NULL;
    redisReply *rep = redisCommandArgv(c, argc, argv, lens);
    if (!rep) {
        snprintf(err, errlen, "redis: %s", c->errstr);
        gw_pool_put(gw->redis, c, 1);
        return NULL;
    }
    gw_pool_put(gw->redis, c, 0);
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: %s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}
