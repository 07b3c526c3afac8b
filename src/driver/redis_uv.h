/* redis_uv.h - our libuv adapter for hiredis 0.14 async contexts (the stock
 * adapters/libuv.h is not used: it re-arms the poll handle on every command and
 * ignores poll errors, see PERF_NOTES.md "hiredis async + libuv").
 *
 * What it does differently:
 *  - one uv_poll_t per connection, uv_poll_start only when the wanted event mask
 *    changes (a redundant start costs two epoll_ctl in libuv 1.44);
 *  - output produced by redisAsync*Command is not written from inside the command
 *    call but flushed once per loop turn from a uv_prepare_t (one write for all
 *    commands queued during the turn); only when the socket buffer is full does the
 *    adapter wait for UV_WRITABLE;
 *  - a poll error (status < 0) is handed to hiredis (it reads the socket and sees
 *    the error or EOF); if hiredis still considers the link healthy the adapter
 *    frees the context itself, so a dead connection always fires the connect
 *    (REDIS_ERR) or disconnect callback and pending replies complete with NULL.
 *
 * Command timeouts are not here: the adapter does not know the commands. The pool in
 * redis.c keeps the send times and drops the context when the oldest one is late.
 *
 * Memory: rduv_attach allocates one small record per context, owned by the adapter.
 * hiredis calls the adapter's cleanup hook when the context is freed (by
 * redisAsyncFree or after an error); the adapter then closes its handles and frees
 * its record in the last uv close callback, after which the optional closed
 * callback runs. The loop must keep running until then. */
#ifndef CUTOVER_DRIVER_REDIS_UV_H
#define CUTOVER_DRIVER_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Called from the adapter's last uv close callback, once its memory is freed. */
typedef void (*rduv_closed_cb)(void *ud);

/* Attaches ac (freshly created, not yet attached to any event library) to loop.
 * Call it before redisAsyncSetConnectCallback, which needs the hooks.
 * Returns 0, CUT_EINVAL when ac is already attached, CUT_ENOMEM, or CUT_EIO when
 * libuv refuses the socket. On failure nothing is attached and the caller still
 * owns ac (redisAsyncFree it). */
int rduv_attach(redisAsyncContext *ac, uv_loop_t *loop);

/* Sets the callback run after the adapter of ac has released everything. ac must
 * be attached. Used by the pool to know when all handles are gone. */
void rduv_set_closed_cb(redisAsyncContext *ac, rduv_closed_cb cb, void *ud);

#endif
