#include "metrics/server_stats.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_sampler {
    const scn_endpoint *redis_ep, *pg_ep;
    redisContext *redis;
    PGconn *pg;
    bool has_statements;
};

#define SRV_TAG "/* cutover:server-stats */ "

static const scn_endpoint *first_of(const scn_scenario *s, scn_endpoint_type t)
{
    for (size_t i = 0; i < s->nendpoints; i++)
        if (s->endpoints[i].type == t) return &s->endpoints[i];
    return NULL;
}

static int open_redis(srv_sampler *sm, cut_err *err)
{
    const scn_redis_endpoint *r = &sm->redis_ep->u.redis;
    struct timeval tv = {2, 0};
    sm->redis = redisConnectWithTimeout(r->host, r->port, tv);
    if (!sm->redis || sm->redis->err)
        return cut_err_set(err, CUT_ECONNECT, "server stats: %s: %s", r->display,
                           sm->redis ? sm->redis->errstr : "out of memory");
    redisSetTimeout(sm->redis, tv);
    if (r->password) {
        redisReply *rep = r->username
                              ? redisCommand(sm->redis, "AUTH %s %s", r->username, r->password)
                              : redisCommand(sm->redis, "AUTH %s", r->password);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        freeReplyObject(rep);
        if (!ok) return cut_err_set(err, CUT_ECONNECT, "server stats: %s: AUTH failed", r->display);
    }
    return 0;
}

static int open_pg(srv_sampler *sm, cut_err *err)
{
    const scn_pg_endpoint *p = &sm->pg_ep->u.pg;
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {p->dsn, "3", NULL};
    sm->pg = PQconnectdbParams(keys, vals, 1);
    if (!sm->pg || PQstatus(sm->pg) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", sm->pg ? PQerrorMessage(sm->pg) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        return cut_err_set(err, CUT_ECONNECT, "server stats: %s: %s", p->display, msg);
    }
    PGresult *res =
        PQexec(sm->pg, SRV_TAG "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    sm->has_statements = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    return 0;
}

int srv_open(const scn_scenario *s, srv_sampler **out, cut_err *err)
{
    *out = NULL;
    const scn_endpoint *r = first_of(s, SCN_EP_REDIS), *p = first_of(s, SCN_EP_POSTGRES);
    if (!r && !p) return 0;
    srv_sampler *sm = calloc(1, sizeof *sm);
    if (!sm) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    sm->redis_ep = r;
    sm->pg_ep = p;
    int rc = 0;
    if (r && (rc = open_redis(sm, err)) < 0) goto fail;
    if (p && (rc = open_pg(sm, err)) < 0) goto fail;
    *out = sm;
    return 0;
fail:
    srv_close(sm);
    return rc;
}

void srv_close(srv_sampler *sm)
{
    if (!sm) return;
    if (sm->redis) redisFree(sm->redis);
    if (sm->pg) PQfinish(sm->pg);
    free(sm);
}

/* "name:value" from an INFO reply. */
static uint64_t info_field(const char *info, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = info; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ':') return strtoull(p + n + 1, NULL, 10);
    return 0;
}

static uint64_t field_u64(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? 0 : strtoull(PQgetvalue(res, 0, col), NULL, 10);
}

void srv_take(srv_sampler *sm, srv_sample *out)
{
    memset(out, 0, sizeof *out);
    if (!sm) return;
    if (sm->redis) {
        redisReply *rep = redisCommand(sm->redis, "INFO stats");
        if (rep && rep->type == REDIS_REPLY_STRING) {
            out->redis_ok = true;
            out->keyspace_hits = info_field(rep->str, "keyspace_hits");
            out->keyspace_misses = info_field(rep->str, "keyspace_misses");
            out->commands = info_field(rep->str, "total_commands_processed");
        }
        freeReplyObject(rep);
    }
    if (sm->pg) {
        /* Push this session's pending counters out first (PostgreSQL 15+; harmless to skip). */
        PGresult *res = PQexec(sm->pg, SRV_TAG "SELECT pg_stat_force_next_flush()");
        PQclear(res);
        res = PQexec(sm->pg,
                     SRV_TAG "SELECT xact_commit, tup_returned, tup_fetched FROM pg_stat_database "
                             "WHERE datname = current_database()");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            out->pg_ok = true;
            out->xact_commit = field_u64(res, 0);
            out->tup_returned = field_u64(res, 1);
            out->tup_fetched = field_u64(res, 2);
        }
        PQclear(res);
        if (sm->has_statements) {
            res = PQexec(sm->pg,
                         SRV_TAG "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                                 "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = "
                                 "current_database()) AND query NOT LIKE '%cutover:server-stats%'");
            if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
                out->has_statements = true;
                out->calls = field_u64(res, 0);
            }
            PQclear(res);
        }
    }
}

static uint64_t delta(uint64_t a, uint64_t b)
{
    return b >= a ? b - a : 0; /* a server restart resets counters */
}

json_t *srv_phase_json(const srv_sampler *sm, const srv_sample *a, const srv_sample *b,
                       uint64_t requests)
{
    json_t *o = json_object();
    if (!sm) return o;
    if (a->redis_ok && b->redis_ok) {
        uint64_t h = delta(a->keyspace_hits, b->keyspace_hits),
                 m = delta(a->keyspace_misses, b->keyspace_misses);
        json_t *r = json_object();
        json_object_set_new(r, "endpoint", json_string(sm->redis_ep->name));
        json_object_set_new(r, "keyspace_hits", json_integer((json_int_t)h));
        json_object_set_new(r, "keyspace_misses", json_integer((json_int_t)m));
        json_object_set_new(r, "commands",
                            json_integer((json_int_t)delta(a->commands, b->commands)));
        json_object_set_new(r, "hit_rate",
                            h + m ? json_real((double)h / (double)(h + m)) : json_null());
        json_object_set_new(o, "redis", r);
    }
    if (a->pg_ok && b->pg_ok) {
        json_t *d = json_object();
        json_object_set_new(d, "endpoint", json_string(sm->pg_ep->name));
        json_object_set_new(d, "statements", json_boolean(a->has_statements && b->has_statements));
        if (a->has_statements && b->has_statements) {
            uint64_t calls = delta(a->calls, b->calls);
            json_object_set_new(d, "calls", json_integer((json_int_t)calls));
            json_object_set_new(d, "queries_per_request",
                                requests ? json_real((double)calls / (double)requests)
                                         : json_null());
        }
        json_object_set_new(d, "xact_commit",
                            json_integer((json_int_t)delta(a->xact_commit, b->xact_commit)));
        json_object_set_new(d, "tup_returned",
                            json_integer((json_int_t)delta(a->tup_returned, b->tup_returned)));
        json_object_set_new(d, "tup_fetched",
                            json_integer((json_int_t)delta(a->tup_fetched, b->tup_fetched)));
        json_object_set_new(o, "db", d);
    }
    return o;
}
