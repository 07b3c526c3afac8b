/* PostgreSQL and Redis access for the handlers: pooled blocking connections; every PostgreSQL
 * call goes through the circuit breaker and the injected db faults. */
#ifndef GW_BACKEND_H
#define GW_BACKEND_H

#include "http.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

enum gw_db_status {
    GW_DB_OK,
    GW_DB_CIRCUIT_OPEN, /* rejected by the breaker; nothing was sent */
    GW_DB_FAILED,       /* connection or query error, or an injected one (counts as a failure) */
    GW_DB_BUSY,         /* no pooled connection in time (not a backend failure) */
};

/* Opens the pools. Returns 0, or -1 with a message on stderr. */
int gw_backend_open(struct gw *gw);
void gw_backend_close(struct gw *gw);
/* Parses redis://[:password@]host:port[/db]. Returns 0, or -1. */
int gw_redis_url_parse(const char *url, struct gw_redis_target *t);

/* The statements every pooled connection prepares once (planning cost more than executing). */
extern const char gw_sql_report[];      /* routes_report.c */
extern const char gw_sql_enrollments[]; /* routes_enroll.c */
#define GW_STMT_REPORT "report"
#define GW_STMT_ENROLLMENTS "enrollments"

/* Runs one prepared statement (GW_STMT_*) with text parameters. On GW_DB_OK *out holds a
 * tuples result (PQclear it). */
enum gw_db_status gw_db_query(struct gw *gw, const char *stmt, int nparams,
                              const char *const *params, PGresult **out, char *err, size_t errlen);
/* Replies for a failed gw_db_query: 503 CIRCUIT_OPEN / 503 POOL_EXHAUSTED / 500 DATABASE_ERROR. */
void gw_db_reply_error(struct gw_reply *r, const struct gw_req *q, enum gw_db_status st,
                       const char *err);
/* Health probe (SELECT 1) outside the breaker. Returns 0 if healthy, with latency in ms. */
int gw_db_ping(struct gw *gw, double *ms, char *err, size_t errlen);

/* Runs one Redis command (argv form; lens NULL means C strings). NULL on error with err filled;
 * else the caller frees the reply with freeReplyObject. */
redisReply *gw_redis_cmd(struct gw *gw, int argc, const char **argv, const size_t *lens, char *err,
                         size_t errlen);

/* Blocking connections for the seed and migrate subcommands. */
PGconn *gw_pg_connect(const char *dsn, const char *app, char *err, size_t errlen);
redisContext *gw_redis_connect(const struct gw_redis_target *t, char *err, size_t errlen);

#endif
