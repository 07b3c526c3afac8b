#include "driver/redis.h"

#include <ctype.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/redis_uv.h"

#define NS_PER_MS 1000000ULL

typedef struct rconn rconn;

/* One request; preallocated, on the free list, a connection's FIFO or the fail queue. */
typedef struct rreq {
    struct rreq *next;
    rconn *conn;
    drv_redis_cb cb;
    void *ud;
    uint64_t t_start;
    drv_kind forced; /* outcome decided by the pool (timeout, close, no connection) */
} rreq;

typedef enum { RC_IDLE, RC_CONNECTING, RC_UP, RC_BACKOFF } rc_state;

enum { PF_AUTH, PF_SELECT, PF_PING };

struct rconn {
    drv_redis *pool;
    redisAsyncContext *ac; /* NULL when none, or once hiredis/we started freeing it */
    rc_state state;
    uv_timer_t timer; /* connect timeout, backoff, or deadline of the oldest command */
    rreq *head, *tail;
    int npending;
    int pf_steps[3]; /* preflight commands in order */
    int pf_n, pf_done;
    uint64_t backoff_ns;
};

typedef enum { P_NEW, P_CONNECTING, P_RUNNING, P_FAILED, P_CLOSING } pool_state;

struct drv_redis {
    uv_loop_t *loop;
    drv_redis_opts o;
    char *host, *password;
    pool_state state;
    rconn *conns;
    int n, nup, nready;
    unsigned rr;
    rreq *reqs, *free;
    rreq *fail_head, *fail_tail; /* completed on the next loop turn */
    uv_timer_t fail_timer;
    int open; /* pool timers plus attached adapters not yet closed */
    drv_redis_connect_cb connect_cb;
    void *connect_ud;
    drv_redis_closed_cb closed_cb;
    void *closed_ud;
    drv_redis_stats st;
    char lasterr[192]; /* why the last connection attempt failed (no secrets) */
};

static void conn_start(rconn *k);

static uint64_t ms_ceil(uint64_t ns)
{
    return (ns + NS_PER_MS - 1) / NS_PER_MS;
}

static void fifo_push(rreq **head, rreq **tail, rreq *r)
{
    r->next = NULL;
    if (*tail)
        (*tail)->next = r;
    else
        *head = r;
    *tail = r;
}

static void req_release(drv_redis *c, rreq *r)
{
    r->next = c->free;
    c->free = r;
}

/* Returns the record to the free list before the callback, so the callback can
 * send again with the capacity it just released. */
static void req_complete(drv_redis *c, rreq *r, drv_kind kind, const redisReply *reply,
                         const char *msg)
{
    drv_redis_resp resp = {
        .kind = kind,
        .t_start_ns = r->t_start,
        .t_done_ns = uv_hrtime(),
        .reply = reply,
        .errmsg = msg ? msg : "",
    };
    drv_redis_cb cb = r->cb;
    void *ud = r->ud;
    req_release(c, r);
    c->st.completed++;
    cb(c, &resp, ud);
}

static void set_lasterr(drv_redis *c, const char *what, const char *why)
{
    char w[160];
    snprintf(w, sizeof w, "%s", why && *why ? why : "unknown error");
    /* hiredis says "Connection refused"; messages here are lower-case fragments. */
    if (!what && isupper((unsigned char)w[0]) && islower((unsigned char)w[1]))
        w[0] = (char)tolower((unsigned char)w[0]);
    if (what)
        snprintf(c->lasterr, sizeof c->lasterr, "%s failed: %s", what, w);
    else
        snprintf(c->lasterr, sizeof c->lasterr, "%s", w);
}

/* Takes the context away from the connection and frees it. Pending requests
 * complete with their forced kind (or DRV_ERESET) from hiredis's NULL replies; when
 * called from inside a reply callback hiredis defers that until it returns. */
static void conn_free_ac(rconn *k)
{
    redisAsyncContext *ac = k->ac;
    k->ac = NULL;
    if (ac) redisAsyncFree(ac);
}

static void mark_pending(rconn *k, drv_kind first, drv_kind rest)
{
    for (rreq *r = k->head; r; r = r->next)
        r->forced = r == k->head ? first : rest;
}

static void on_backoff(uv_timer_t *t)
{
    conn_start(t->data);
}

static void conn_backoff(rconn *k)
{
    drv_redis *c = k->pool;
    uint64_t d = k->backoff_ns;
    k->state = RC_BACKOFF;
    k->backoff_ns = d * 2 > c->o.backoff_max_ns ? c->o.backoff_max_ns : d * 2;
    uv_timer_start(&k->timer, on_backoff, ms_ceil(d), 0);
}

/* The preflight (or a reconnect) failed; c->lasterr says why. */
static void pool_fail_all(drv_redis *c)
{
    cut_err e;
    c->state = P_FAILED;
    for (int i = 0; i < c->n; i++) {
        rconn *k = &c->conns[i];
        uv_timer_stop(&k->timer);
        if (k->state == RC_UP) c->nup--;
        k->state = RC_IDLE;
        conn_free_ac(k);
    }
    cut_err_set(&e, CUT_ECONNECT, "redis %s:%d: %s", c->host, c->o.port, c->lasterr);
    if (c->connect_cb) c->connect_cb(c, CUT_ECONNECT, &e, c->connect_ud);
}

static void conn_failed(rconn *k)
{
    drv_redis *c = k->pool;
    if (k->state != RC_CONNECTING) return;
    uv_timer_stop(&k->timer);
    k->state = RC_IDLE;
    conn_free_ac(k);
    if (c->state == P_CONNECTING) {
        pool_fail_all(c);
    } else if (c->state == P_RUNNING) {
        c->st.reconnect_failures++;
        conn_backoff(k);
    }
}

/* An up connection died (reset, poll error, or we dropped it on a timeout). */
static void conn_lost(rconn *k)
{
    drv_redis *c = k->pool;
    if (k->state != RC_UP) return;
    c->nup--;
    k->state = RC_IDLE;
    k->ac = NULL;
    uv_timer_stop(&k->timer);
    if (c->state == P_CONNECTING) {
        if (!c->lasterr[0]) set_lasterr(c, NULL, "connection lost during preflight");
        pool_fail_all(c);
    } else if (c->state == P_RUNNING) {
        k->backoff_ns = c->o.backoff_min_ns;
        conn_backoff(k);
    }
}

static void conn_up(rconn *k)
{
    drv_redis *c = k->pool;
    uv_timer_stop(&k->timer);
    k->state = RC_UP;
    k->backoff_ns = c->o.backoff_min_ns;
    c->nup++;
    if (c->state == P_CONNECTING) {
        if (++c->nready == c->n) {
            c->state = P_RUNNING;
            if (c->connect_cb) c->connect_cb(c, 0, NULL, c->connect_ud);
        }
    } else {
        c->st.reconnects++;
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    rconn *k = cac->data;
    if (status == REDIS_OK || k->ac != cac) return;
    /* hiredis frees the context right after this callback. */
    set_lasterr(k->pool, NULL, cac->c.errstr);
    k->ac = NULL;
    conn_failed(k);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    rconn *k = cac->data;
    (void)status;
    if (k->ac != cac) return; /* we started it, or a NULL reply already handled it */
    if (k->state == RC_CONNECTING) {
        set_lasterr(k->pool, NULL, cac->c.errstr);
        k->ac = NULL;
        conn_failed(k);
    } else {
        conn_lost(k);
    }
}

static void on_preflight(redisAsyncContext *ac, void *reply, void *priv)
{
    static const char *const names[] = {"AUTH", "SELECT", "PING"};
    rconn *k = priv;
    redisReply *r = reply;
    int step;

    if (k->ac != ac || k->state != RC_CONNECTING) return;
    step = k->pf_steps[k->pf_done];
    if (!r) {
        set_lasterr(k->pool, names[step], ac->c.err ? ac->c.errstr : "connection closed");
        k->ac = NULL; /* hiredis is freeing it */
        conn_failed(k);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        set_lasterr(k->pool, names[step], r->str);
        conn_failed(k);
        return;
    }
    if (++k->pf_done == k->pf_n) conn_up(k);
}

static void on_adapter_closed(void *ud);
static void on_connect_timeout(uv_timer_t *t);

/* Runs from a timer callback only, so failures here never surface inside a call. */
static void conn_start(rconn *k)
{
    drv_redis *c = k->pool;
    redisAsyncContext *ac;
    int ok = 1;

    k->state = RC_CONNECTING;
    k->pf_n = k->pf_done = 0;
    ac = redisAsyncConnect(c->host, c->o.port);
    if (!ac || ac->err) {
        set_lasterr(c, NULL, ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        conn_failed(k);
        return;
    }
    if (rduv_attach(ac, c->loop) != 0) {
        set_lasterr(c, NULL, "cannot watch the socket");
        redisAsyncFree(ac);
        conn_failed(k);
        return;
    }
    c->open++;
    rduv_set_closed_cb(ac, on_adapter_closed, c);
    ac->data = k;
    k->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Queued now, written once the TCP connect completes. */
    if (c->password) {
        k->pf_steps[k->pf_n++] = PF_AUTH;
        ok &= redisAsyncCommand(ac, on_preflight, k, "AUTH %s", c->password) == REDIS_OK;
    }
    if (c->o.db > 0) {
        k->pf_steps[k->pf_n++] = PF_SELECT;
        ok &= redisAsyncCommand(ac, on_preflight, k, "SELECT %d", c->o.db) == REDIS_OK;
    }
    k->pf_steps[k->pf_n++] = PF_PING;
    ok &= redisAsyncCommand(ac, on_preflight, k, "PING") == REDIS_OK;
    if (!ok) {
        set_lasterr(c, NULL, "cannot queue the preflight commands");
        conn_failed(k);
        return;
    }
    uv_timer_start(&k->timer, on_connect_timeout, ms_ceil(c->o.connect_timeout_ns), 0);
}

static void on_connect_timeout(uv_timer_t *t)
{
    rconn *k = t->data;
    char why[96];
    snprintf(why, sizeof why, "connect timed out after %llu ms",
             (unsigned long long)ms_ceil(k->pool->o.connect_timeout_ns));
    set_lasterr(k->pool, NULL, why);
    conn_failed(k);
}

/* Lazily armed: started for the first command when idle, and on expiry moved to
 * the current oldest command, so sends and replies never touch the timer heap. */
static void on_cmd_timer(uv_timer_t *t)
{
    rconn *k = t->data;
    drv_redis *c = k->pool;
    rreq *h = k->head;
    uint64_t now, deadline;

    if (!h || k->state != RC_UP) return;
    now = uv_hrtime();
    deadline = h->t_start + c->o.timeout_ns;
    if (deadline > now) {
        uv_timer_start(t, on_cmd_timer, ms_ceil(deadline - now), 0);
        return;
    }
    redisAsyncContext *ac = k->ac;
    mark_pending(k, DRV_ETIMEOUT, DRV_EABORTED);
    conn_lost(k); /* state and backoff first, so callbacks do not pick k */
    if (ac) redisAsyncFree(ac);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    rreq *r = priv;
    rconn *k = r->conn;
    drv_redis *c = k->pool;
    redisReply *rep = reply;

    /* Replies come in send order: r is the head. */
    k->head = r->next;
    if (!k->head) k->tail = NULL;
    k->npending--;
    if (!rep) {
        drv_kind kind = r->forced ? r->forced : DRV_ERESET;
        const char *msg = kind == DRV_ETIMEOUT   ? "timeout"
                          : kind == DRV_EABORTED ? "aborted: connection dropped"
                          : ac->c.err            ? ac->c.errstr
                                                 : "connection lost";
        if (k->ac == ac) conn_lost(k);
        req_complete(c, r, kind, NULL, msg);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        req_complete(c, r, DRV_EREDIS, rep, rep->str);
    else
        req_complete(c, r, DRV_OK, rep, NULL);
}

static void on_fail_timer(uv_timer_t *t)
{
    drv_redis *c = t->data;
    rreq *r = c->fail_head; /* detach: callbacks may queue new failures */
    c->fail_head = c->fail_tail = NULL;
    while (r) {
        rreq *next = r->next;
        req_complete(c, r, r->forced, NULL, "no redis connection is up");
        r = next;
    }
}

static void queue_fail(drv_redis *c, rreq *r)
{
    r->forced = DRV_ECONNECT;
    fifo_push(&c->fail_head, &c->fail_tail, r);
    if (!uv_is_active((uv_handle_t *)&c->fail_timer))
        uv_timer_start(&c->fail_timer, on_fail_timer, 0, 0);
}

int drv_redis_send(drv_redis *c, const char *resp, size_t len, drv_redis_cb cb, void *ud)
{
    rconn *best = NULL;
    rreq *r;

    if (!c || !resp || !len || !cb) return CUT_EINVAL;
    if (c->state != P_RUNNING) return CUT_ESTATE;
    /* The less busy of the next two usable connections in rotation ("two choices"): spreads
     * load like a full least-pending scan, in O(1) instead of O(pool) per command. */
    int i = 0, j = (int)(c->rr % (unsigned)c->n), usable = 0;
    for (; i < c->n && usable < 2; i++, j = j + 1 == c->n ? 0 : j + 1) {
        rconn *k = &c->conns[j];
        if (k->state != RC_UP || k->npending >= c->o.max_pending) continue;
        usable++;
        if (!best || k->npending < best->npending) best = k;
        if (best->npending == 0) break;
    }
    c->rr = (unsigned)j;
    if (!best && c->nup > 0) return CUT_ERANGE;
    r = c->free;
    if (!r) return CUT_ERANGE;
    c->free = r->next;
    r->cb = cb;
    r->ud = ud;
    r->t_start = uv_hrtime();
    r->forced = DRV_OK;
    if (!best || redisAsyncFormattedCommand(best->ac, on_reply, r, resp, len) != REDIS_OK) {
        queue_fail(c, r);
        return 0;
    }
    r->conn = best;
    fifo_push(&best->head, &best->tail, r);
    best->npending++;
    c->st.sent++;
    if (c->o.timeout_ns && !uv_is_active((uv_handle_t *)&best->timer))
        uv_timer_start(&best->timer, on_cmd_timer, ms_ceil(c->o.timeout_ns), 0);
    return 0;
}

static void pool_free(drv_redis *c)
{
    free(c->reqs);
    free(c->conns);
    free(c->host);
    free(c->password);
    free(c);
}

static void pool_unref(drv_redis *c)
{
    if (--c->open > 0) return;
    if (c->closed_cb) c->closed_cb(c, c->closed_ud);
    pool_free(c);
}

static void on_adapter_closed(void *ud)
{
    pool_unref(ud);
}

static void on_handle_closed(uv_handle_t *h)
{
    drv_redis *c = h->data;
    pool_unref(c);
}

int drv_redis_new(uv_loop_t *loop, const drv_redis_opts *opts, drv_redis **out, cut_err *err)
{
    drv_redis *c = NULL;
    int rc = CUT_ENOMEM;
    size_t nreq;

    if (!loop || !opts || !out) return cut_err_set(err, CUT_EINVAL, "redis: missing argument");
    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c) goto fail;
    c->loop = loop;
    c->o = *opts;
    if (!c->o.port) c->o.port = 6379;
    if (!c->o.pool) c->o.pool = 4;
    if (!c->o.connect_timeout_ns) c->o.connect_timeout_ns = 5000 * NS_PER_MS;
    if (!c->o.backoff_min_ns) c->o.backoff_min_ns = 100 * NS_PER_MS;
    if (!c->o.backoff_max_ns) c->o.backoff_max_ns = 5000 * NS_PER_MS;
    if (!c->o.max_pending) c->o.max_pending = 1024;
    if (c->o.port < 0 || c->o.port > 65535 || c->o.pool < 0 || c->o.pool > 4096 ||
        c->o.max_pending < 0 || c->o.db < 0 || c->o.backoff_max_ns < c->o.backoff_min_ns) {
        rc = cut_err_set(err, CUT_EINVAL, "redis: option out of range");
        goto fail_set;
    }
    c->host = strdup(c->o.host ? c->o.host : "127.0.0.1");
    if (!c->host) goto fail;
    if (c->o.password && *c->o.password) {
        c->password = strdup(c->o.password);
        if (!c->password) goto fail;
    }
    c->o.host = c->host;
    c->o.password = c->password;
    c->n = c->o.pool;
    c->conns = calloc((size_t)c->n, sizeof *c->conns);
    nreq = (size_t)c->n * (size_t)c->o.max_pending;
    c->reqs = calloc(nreq, sizeof *c->reqs);
    if (!c->conns || !c->reqs) goto fail;
    for (size_t i = nreq; i-- > 0;)
        req_release(c, &c->reqs[i]);
    for (int i = 0; i < c->n; i++) {
        rconn *k = &c->conns[i];
        k->pool = c;
        k->backoff_ns = c->o.backoff_min_ns;
        uv_timer_init(loop, &k->timer);
        k->timer.data = k;
    }
    uv_timer_init(loop, &c->fail_timer);
    c->fail_timer.data = c;
    c->open = c->n + 1;
    *out = c;
    return 0;

fail:
    rc = cut_err_set(err, CUT_ENOMEM, "redis: out of memory");
fail_set:
    if (c) pool_free(c);
    return rc;
}

int drv_redis_connect(drv_redis *c, drv_redis_connect_cb cb, void *ud, cut_err *err)
{
    if (!c) return cut_err_set(err, CUT_EINVAL, "redis: missing pool");
    if (c->state != P_NEW) return cut_err_set(err, CUT_ESTATE, "redis: connect called twice");
    c->state = P_CONNECTING;
    c->connect_cb = cb;
    c->connect_ud = ud;
    /* Start from timers so every outcome reaches cb from the loop. */
    for (int i = 0; i < c->n; i++)
        uv_timer_start(&c->conns[i].timer, on_backoff, 0, 0);
    return 0;
}

int drv_redis_close(drv_redis *c, drv_redis_closed_cb cb, void *ud)
{
    pool_state was;

    if (!c || c->state == P_CLOSING) return CUT_ESTATE;
    was = c->state;
    c->state = P_CLOSING;
    c->closed_cb = cb;
    c->closed_ud = ud;
    for (int i = 0; i < c->n; i++) {
        rconn *k = &c->conns[i];
        uv_timer_stop(&k->timer);
        mark_pending(k, DRV_EABORTED, DRV_EABORTED);
        k->state = RC_IDLE;
        conn_free_ac(k);
    }
    c->nup = 0;
    on_fail_timer(&c->fail_timer);
    if (was == P_CONNECTING && c->connect_cb) {
        cut_err e;
        cut_err_set(&e, CUT_ESTATE, "redis %s:%d: closed before the preflight ended", c->host,
                    c->o.port);
        c->connect_cb(c, CUT_ESTATE, &e, c->connect_ud);
    }
    for (int i = 0; i < c->n; i++) {
        c->conns[i].timer.data = c;
        uv_close((uv_handle_t *)&c->conns[i].timer, on_handle_closed);
    }
    uv_close((uv_handle_t *)&c->fail_timer, on_handle_closed);
    return 0;
}

void drv_redis_stats_get(const drv_redis *c, drv_redis_stats *out)
{
    *out = c->st;
    out->up = c->nup;
}

static size_t dec_len(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static char *put_count(char *p, char type, size_t v)
{
    size_t n = dec_len(v);
    *p++ = type;
    for (size_t i = n; i-- > 0; v /= 10)
        p[i] = (char)('0' + v % 10);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

size_t drv_redis_format(char *buf, size_t cap, int argc, const char *const *argv,
                        const size_t *argvlen)
{
    size_t need;
    char *p;

    if (argc < 1 || !argv) return 0;
    need = 3 + dec_len((size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t l = argvlen ? argvlen[i] : strlen(argv[i]);
        need += 5 + dec_len(l) + l;
    }
    if (need > cap || !buf) return need;
    p = put_count(buf, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t l = argvlen ? argvlen[i] : strlen(argv[i]);
        p = put_count(p, '$', l);
        if (l) memcpy(p, argv[i], l);
        p += l;
        *p++ = '\r';
        *p++ = '\n';
    }
    if (need < cap) *p = '\0'; /* hiredis 0.14 peeks at the byte after a command */
    return need;
}
