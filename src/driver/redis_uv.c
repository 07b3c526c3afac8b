#include "driver/redis_uv.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/err.h"

typedef struct rduv {
    redisAsyncContext *ac; /* NULL once hiredis ran the cleanup hook */
    uv_poll_t poll;
    uv_prepare_t flush;
    int armed;    /* events the poll handle runs with; 0 when stopped */
    int want;     /* events hiredis asked for */
    int flushing; /* inside the deferred write: a new addWrite means "socket full" */
    int nopen;    /* handles whose close callback is still due */
    rduv_closed_cb closed_cb;
    void *closed_ud;
} rduv;

static void rduv_on_poll(uv_poll_t *h, int status, int events);
static void rduv_on_flush(uv_prepare_t *h);

/* Re-arm only on a real change: uv_poll_start costs epoll_ctl DEL + ADD. */
static void rduv_apply(rduv *a)
{
    if (a->want == a->armed || !a->ac) return;
    if (a->want == 0) {
        uv_poll_stop(&a->poll);
        a->armed = 0;
        return;
    }
    if (uv_poll_start(&a->poll, a->want, rduv_on_poll) == 0) a->armed = a->want;
    /* A failed start leaves armed unchanged: the next hook retries, and a broken
     * socket shows up as an error from the next read or write. */
}

static void rduv_add_read(void *p)
{
    rduv *a = p;
    a->want |= UV_READABLE;
    rduv_apply(a);
}

static void rduv_del_read(void *p)
{
    rduv *a = p;
    a->want &= ~UV_READABLE;
    rduv_apply(a);
}

static void rduv_add_write(void *p)
{
    rduv *a = p;
    /* Connected and not already waiting for the socket: write once at the end of
     * this loop turn. Connecting (connect completion shows as writability) or
     * socket full (hiredis asks again from inside the flush): wait for WRITABLE. */
    if ((a->ac->c.flags & REDIS_CONNECTED) && !a->flushing) {
        if (!(a->armed & UV_WRITABLE) && !uv_is_active((uv_handle_t *)&a->flush))
            uv_prepare_start(&a->flush, rduv_on_flush);
        return;
    }
    a->want |= UV_WRITABLE;
    rduv_apply(a);
}

static void rduv_del_write(void *p)
{
    rduv *a = p;
    a->want &= ~UV_WRITABLE;
    rduv_apply(a);
}

static void rduv_on_close(uv_handle_t *h)
{
    rduv *a = h->data;
    if (--a->nopen > 0) return;
    rduv_closed_cb cb = a->closed_cb;
    void *ud = a->closed_ud;
    free(a);
    if (cb) cb(ud);
}

/* hiredis is freeing the context: stop touching it, close the handles (closing a
 * poll handle removes the fd from epoll now, before hiredis closes the fd). */
static void rduv_cleanup(void *p)
{
    rduv *a = p;
    redisAsyncContext *ac = a->ac;
    if (!ac) return;
    ac->ev.data = NULL;
    ac->ev.addRead = ac->ev.delRead = ac->ev.addWrite = ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;
    a->ac = NULL;
    uv_close((uv_handle_t *)&a->poll, rduv_on_close);
    uv_close((uv_handle_t *)&a->flush, rduv_on_close);
}

static void rduv_on_flush(uv_prepare_t *h)
{
    rduv *a = h->data;
    uv_prepare_stop(h);
    if (!a->ac) return;
    a->flushing = 1;
    redisAsyncHandleWrite(a->ac); /* may free the context on a write error */
    a->flushing = 0;
}

/* Poll error: libuv already stopped the handle. Let hiredis look at the socket; if
 * it still sees nothing wrong, end the context ourselves so nothing hangs. */
static void rduv_poll_error(rduv *a, int status)
{
    redisAsyncContext *ac = a->ac;
    int connected = ac->c.flags & REDIS_CONNECTED;

    a->armed = 0;
    if (connected)
        redisAsyncHandleRead(ac);
    else
        redisAsyncHandleWrite(ac); /* connect check: reports SO_ERROR */
    if (!a->ac) return;
    if (ac->c.flags & (REDIS_IN_CALLBACK | REDIS_FREEING)) return;
    ac->c.err = REDIS_ERR_IO;
    snprintf(ac->c.errstr, sizeof ac->c.errstr, "poll error: %s", uv_strerror(status));
    if (!(ac->c.flags & REDIS_CONNECTED) && ac->onConnect) ac->onConnect(ac, REDIS_ERR);
    if (a->ac) redisAsyncFree(ac);
}

static void rduv_on_poll(uv_poll_t *h, int status, int events)
{
    rduv *a = h->data;
    if (!a->ac) return;
    if (status < 0) {
        rduv_poll_error(a, status);
        return;
    }
    if (events & UV_READABLE) redisAsyncHandleRead(a->ac);
    if ((events & UV_WRITABLE) && a->ac) {
        a->flushing = 1;
        redisAsyncHandleWrite(a->ac);
        a->flushing = 0;
    }
}

int rduv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    rduv *a;

    if (!ac || !loop || ac->ev.data) return CUT_EINVAL;
    a = calloc(1, sizeof *a);
    if (!a) return CUT_ENOMEM;
    if (uv_poll_init(loop, &a->poll, ac->c.fd) != 0) {
        free(a); /* the handle was not registered with the loop */
        return CUT_EIO;
    }
    uv_prepare_init(loop, &a->flush);
    a->poll.data = a;
    a->flush.data = a;
    a->ac = ac;
    a->nopen = 2;
    ac->ev.data = a;
    ac->ev.addRead = rduv_add_read;
    ac->ev.delRead = rduv_del_read;
    ac->ev.addWrite = rduv_add_write;
    ac->ev.delWrite = rduv_del_write;
    ac->ev.cleanup = rduv_cleanup;
    return 0;
}

void rduv_set_closed_cb(redisAsyncContext *ac, rduv_closed_cb cb, void *ud)
{
    rduv *a = ac->ev.data;
    if (!a) return;
    a->closed_cb = cb;
    a->closed_ud = ud;
}
