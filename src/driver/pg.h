/* pg.h - a pool of non-blocking libpq connections on one uv_loop_t.
 *
 * Lifecycle: drv_pg_new -> drv_pg_prepare (each statement, before connecting) ->
 * drv_pg_connect (preflight: every connection up and every statement prepared on
 * it) -> drv_pg_send ... -> drv_pg_close. A connection that is re-established
 * during the run prepares every statement again before it takes queries.
 *
 * I/O: one uv_poll_t per socket, READABLE always and WRITABLE only while PQflush
 * reports unsent data; on readable PQconsumeInput then PQgetResult while !PQisBusy.
 * Nothing blocks on the loop thread except the name lookup libpq does while
 * connecting (use an IP address as host). PQcancel is never called: it blocks.
 *
 * Pipeline mode (opts.pipeline >= 2, libpq 14+): queries go out without waiting,
 * and one PQpipelineSync closes a batch when it reaches opts.pipeline queries or at
 * the end of the loop turn, whichever comes first. An error in a batch aborts the
 * rest of that batch (DRV_EABORTED); later batches run normally. Without pipeline
 * mode a connection runs one query at a time.
 *
 * Memory: the pool copies conninfo and the statements. Every request record is
 * allocated by drv_pg_new (pool * max_pending of them); drv_pg_send does not
 * allocate in cutover (libpq allocates its results). Parameter values are copied by
 * libpq before drv_pg_send returns. The pool is freed by drv_pg_close, right after
 * the closed callback returns.
 *
 * Callbacks: none fires from inside the call that started its request, and a call
 * that returns an error never fires its callback. Request callbacks may call
 * drv_pg_send and drv_pg_close. drv_pg_close completes pending requests
 * (DRV_EABORTED) and a pending connect (CUT_ESTATE) from inside the close call, or
 * right after the current callback when called from one.
 *
 * Failures during a run: a lost connection completes its pending queries with
 * DRV_ERESET and reconnects with exponential backoff. While no connection is up,
 * drv_pg_send returns 0 and the request completes on a later loop turn with
 * DRV_ECONNECT. When the oldest query of a connection passes timeout_ns it completes
 * with DRV_ETIMEOUT, the others on that connection with DRV_EABORTED, and the
 * connection is closed (the server notices at its next write) and reconnected.
 *
 * Messages name host:port and carry libpq's reason; they never contain the
 * password or the conninfo. */
#ifndef CUTOVER_DRIVER_PG_H
#define CUTOVER_DRIVER_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "driver/drv.h"
#include "util/err.h"

typedef struct drv_pg drv_pg;

typedef struct drv_pg_opts {
    const char *conninfo;        /* URI or key=value; required */
    int pool;                    /* connections; 0 = 4 */
    uint64_t timeout_ns;         /* per query; 0 = no timeout */
    uint64_t connect_timeout_ns; /* connect + prepare per connection; 0 = 5 s */
    int pipeline;                /* max queries per batch; 0 or 1 = no pipeline mode */
    int max_pending;             /* pipeline mode: queries in flight per connection;
                                    0 = 4 * pipeline. Always 1 without pipeline mode. */
    uint64_t backoff_min_ns;     /* first reconnect delay; 0 = 100 ms */
    uint64_t backoff_max_ns;     /* 0 = 5 s */
} drv_pg_opts;

/* The outcome of one query, valid only during the callback. */
typedef struct drv_pg_resp {
    drv_kind kind;       /* DRV_OK, DRV_ESQL, DRV_ECONNECT, DRV_ERESET, DRV_ETIMEOUT,
                            DRV_EABORTED, DRV_EPROTO (unexpected result kind) */
    uint64_t t_start_ns; /* uv_hrtime() when drv_pg_send was called */
    uint64_t t_done_ns;  /* uv_hrtime() when the outcome was known */
    int ntuples;         /* rows returned (0 unless DRV_OK) */
    const PGresult *res; /* the result (DRV_OK, DRV_ESQL, DRV_EABORTED); else NULL */
    char sqlstate[6];    /* PG_DIAG_SQLSTATE for DRV_ESQL, else "" */
    const char *errmsg;  /* "" on DRV_OK; the primary message or a short reason */
} drv_pg_resp;

typedef void (*drv_pg_cb)(drv_pg *c, const drv_pg_resp *resp, void *ud);
/* status is 0, CUT_ECONNECT (err names host:port and libpq's reason) or CUT_ESTATE
 * (closed before the preflight ended). err is valid during the call only. */
typedef void (*drv_pg_connect_cb)(drv_pg *c, int status, const cut_err *err, void *ud);
/* Runs once every handle is closed; c is freed right after it returns. */
typedef void (*drv_pg_closed_cb)(drv_pg *c, void *ud);

typedef struct drv_pg_stats {
    uint64_t sent, completed;
    uint64_t reconnects;         /* connections re-established during the run */
    uint64_t reconnect_failures; /* reconnect attempts that failed */
    int up;                      /* connections up now */
} drv_pg_stats;

/* Creates a pool on loop; conninfo is parsed here. Returns 0, CUT_EINVAL (bad
 * option or conninfo; the message never echoes it) or CUT_ENOMEM. */
int drv_pg_new(uv_loop_t *loop, const drv_pg_opts *opts, drv_pg **out, cut_err *err);

/* Registers a statement with nparams text parameters ($1..$n); *stmt_id is what
 * drv_pg_send takes. Only before drv_pg_connect. Returns 0, CUT_EINVAL, CUT_ESTATE or
 * CUT_ENOMEM. */
int drv_pg_prepare(drv_pg *c, const char *sql, int nparams, int *stmt_id, cut_err *err);

/* Starts the preflight; cb fires once, from the loop. Returns 0 or CUT_ESTATE. A
 * failed preflight leaves the pool unusable: close it. */
int drv_pg_connect(drv_pg *c, drv_pg_connect_cb cb, void *ud, cut_err *err);

/* Runs statement stmt_id with nparams NUL-terminated text values (lengths is
 * accepted for a later binary mode and ignored now; may be NULL) on the connection
 * with the fewest pending queries. Returns 0 (cb will fire), CUT_EINVAL (unknown
 * statement, wrong nparams), CUT_ESTATE (not connected, failed or closing) or
 * CUT_ERANGE (every connection that is up is full). */
int drv_pg_send(drv_pg *c, int stmt_id, int nparams, const char *const *values, const int *lengths,
                drv_pg_cb cb, void *ud);

/* Closes the pool. Returns 0 or CUT_ESTATE when already closing. */
int drv_pg_close(drv_pg *c, drv_pg_closed_cb cb, void *ud);

void drv_pg_stats_get(const drv_pg *c, drv_pg_stats *out);

#endif
