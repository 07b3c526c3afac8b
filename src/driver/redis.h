/* redis.h - a pool of hiredis async connections on one uv_loop_t.
 *
 * Lifecycle: drv_redis_new -> drv_redis_connect (preflight: every connection
 * connects, AUTHs when a password is set, SELECTs db, PINGs) -> drv_redis_send ... ->
 * drv_redis_close. Everything runs on the loop thread; nothing blocks except the
 * name lookup hiredis does in connect(), so give an IP address as host.
 *
 * Memory: the pool copies the options it keeps (host, password). Every request
 * record is allocated by drv_redis_new (pool * max_pending of them); sending does
 * not allocate in cutover (hiredis allocates its own callback entry and output
 * buffer). The caller owns the RESP buffer passed to drv_redis_send: it is copied
 * before the call returns. The pool is freed by drv_redis_close, right after the
 * closed callback returns.
 *
 * Callbacks: none fires from inside the call that started its request, and a call
 * that returns an error never fires its callback. Request callbacks may call
 * drv_redis_send and drv_redis_close. drv_redis_close completes the requests still
 * pending (DRV_EABORTED, or DRV_ECONNECT for sends queued while no connection was
 * up) and a pending connect (status CUT_ESTATE) from inside the close call.
 *
 * Connection loss during a run: the pending requests of that connection complete
 * with DRV_ERESET, the connection reconnects with exponential backoff (min..max,
 * reset after a successful preflight). While no connection is up, drv_redis_send
 * still returns 0 and the request completes on a later loop turn with DRV_ECONNECT
 * (so the caller counts it like any other failed request).
 *
 * Timeouts: when the oldest pending command of a connection is older than
 * timeout_ns it completes with DRV_ETIMEOUT, the later ones on that connection with
 * DRV_EABORTED, and the connection is dropped and reconnected. The check runs on a
 * millisecond timer, so a timeout fires 0-2 ms late. */
#ifndef CUTOVER_DRIVER_REDIS_H
#define CUTOVER_DRIVER_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "driver/drv.h"
#include "util/err.h"

typedef struct drv_redis drv_redis;

typedef struct drv_redis_opts {
    const char *host;            /* IP address; NULL = "127.0.0.1" */
    int port;                    /* 0 = 6379 */
    int db;                      /* SELECT when > 0 */
    const char *password;        /* AUTH when non-NULL and non-empty; never in messages */
    int pool;                    /* connections; 0 = 4 */
    uint64_t timeout_ns;         /* per command; 0 = no timeout */
    uint64_t connect_timeout_ns; /* connect + preflight per connection; 0 = 5 s */
    uint64_t backoff_min_ns;     /* first reconnect delay; 0 = 100 ms */
    uint64_t backoff_max_ns;     /* 0 = 5 s */
    int max_pending;             /* commands in flight per connection; 0 = 1024 */
} drv_redis_opts;

/* The outcome of one command, valid only during the callback. */
typedef struct drv_redis_resp {
    drv_kind kind; /* DRV_OK, DRV_EREDIS, DRV_ECONNECT, DRV_ERESET, DRV_ETIMEOUT, DRV_EABORTED */
    uint64_t t_start_ns;     /* uv_hrtime() when drv_redis_send was called */
    uint64_t t_done_ns;      /* uv_hrtime() when the outcome was known */
    const redisReply *reply; /* the reply (also for DRV_EREDIS); NULL on other failures */
    const char *errmsg;      /* "" on DRV_OK; the error reply or a short reason otherwise */
} drv_redis_resp;

typedef void (*drv_redis_cb)(drv_redis *c, const drv_redis_resp *resp, void *ud);
/* status is 0, CUT_ECONNECT (err says which host:port and why) or CUT_ESTATE (closed
 * before the preflight ended). err is valid during the call only. */
typedef void (*drv_redis_connect_cb)(drv_redis *c, int status, const cut_err *err, void *ud);
/* Runs once every handle is closed; c is freed right after it returns. */
typedef void (*drv_redis_closed_cb)(drv_redis *c, void *ud);

typedef struct drv_redis_stats {
    uint64_t sent;               /* commands handed to a connection */
    uint64_t completed;          /* callbacks fired, any kind */
    uint64_t reconnects;         /* connections re-established during the run */
    uint64_t reconnect_failures; /* reconnect attempts that failed */
    int up;                      /* connections up now */
} drv_redis_stats;

/* Creates a pool on loop. Returns 0, CUT_EINVAL (bad option) or CUT_ENOMEM. */
int drv_redis_new(uv_loop_t *loop, const drv_redis_opts *opts, drv_redis **out, cut_err *err);

/* Starts the preflight; cb fires once, from the loop. Returns 0 or CUT_ESTATE
 * (already connecting, connected or closing). A failed preflight leaves the pool
 * unusable: close it. */
int drv_redis_connect(drv_redis *c, drv_redis_connect_cb cb, void *ud, cut_err *err);

/* Sends one already formatted RESP command (see drv_redis_format) on the connected
 * connection with the fewest pending commands. resp[len] must be readable: hiredis
 * 0.14 peeks one byte past a single-argument command (drv_redis_format writes a NUL
 * there when cap allows). Returns 0 (cb will fire), CUT_EINVAL,
 * CUT_ESTATE (not connected yet, preflight failed, or closing) or CUT_ERANGE (every
 * connection that is up has max_pending commands in flight). */
int drv_redis_send(drv_redis *c, const char *resp, size_t len, drv_redis_cb cb, void *ud);

/* Writes the RESP form of argv into buf when it fits in cap; returns the length
 * needed, without a terminator. When cap is larger than that, a NUL follows. argvlen may be NULL
 * (then strlen is used). Returns 0 when argc < 1. Nothing is written when the result is larger than
 * cap. */
size_t drv_redis_format(char *buf, size_t cap, int argc, const char *const *argv,
                        const size_t *argvlen);

/* Closes the pool (see above for what completes inside this call). Returns 0 or
 * CUT_ESTATE when already closing. */
int drv_redis_close(drv_redis *c, drv_redis_closed_cb cb, void *ud);

void drv_redis_stats_get(const drv_redis *c, drv_redis_stats *out);

#endif
