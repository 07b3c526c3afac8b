#include "driver/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ULL

typedef struct pconn pconn;

typedef struct preq {
    struct preq *next;
    drv_pg_cb cb;
    void *ud;
    uint64_t t_start;
    drv_kind forced; /* outcome decided by the pool (timeout, close, no connection) */
} preq;

/* A poll handle lives as long as its socket, which may change while connecting;
 * it is allocated per socket (not per query) and freed in its close callback. */
typedef struct pgpoll {
    uv_poll_t h;
    pconn *k;
} pgpoll;

typedef enum { PC_IDLE, PC_CONNECTING, PC_PREPARING, PC_UP, PC_BACKOFF } pc_state;

typedef struct stmt {
    char *sql;
    int nparams;
    char name[16];
} stmt;

struct pconn {
    drv_pg *pool;
    PGconn *pg;
    pgpoll *poll;
    int fd;
    int armed;
    pc_state state;
    uv_timer_t timer; /* connect timeout, backoff, or deadline of the oldest query */
    preq *head, *tail;
    int npending;
    int unsynced;   /* pipeline: queries since the last PQpipelineSync */
    int nsync;      /* pipeline: syncs whose PGRES_PIPELINE_SYNC is still due */
    int prep_next;  /* statement being prepared */
    PGresult *held; /* the head query's result, completed when its NULL arrives */
    drv_kind held_kind;
    int busy; /* inside result processing: a drop waits until it returns */
    int drop_req;
    int in_flush;
    pconn *flush_next;
    uint64_t backoff_ns;
};

typedef enum { P_NEW, P_CONNECTING, P_RUNNING, P_FAILED, P_CLOSING } pool_state;

struct drv_pg {
    uv_loop_t *loop;
    drv_pg_opts o;
    char *conninfo;
    char hostport[160];
    pool_state state;
    pconn *conns;
    int n, nup, nready;
    unsigned rr;
    int pipe; /* pipeline mode */
    stmt *stmts;
    int nstmts, capstmts;
    preq *reqs, *free;
    preq *fail_head, *fail_tail;
    uv_timer_t fail_timer;
    uv_prepare_t flush; /* sends the open pipeline batches once per loop turn */
    pconn *flush_head;
    int open; /* handles not yet closed */
    drv_pg_connect_cb connect_cb;
    void *connect_ud;
    drv_pg_closed_cb closed_cb;
    void *closed_ud;
    drv_pg_stats st;
    char lasterr[256];
};

static void conn_start(pconn *k);
static void conn_drop(pconn *k);
static void on_poll(uv_poll_t *h, int status, int events);

static uint64_t ms_ceil(uint64_t ns)
{
    return (ns + NS_PER_MS - 1) / NS_PER_MS;
}

static void req_release(drv_pg *c, preq *r)
{
    r->next = c->free;
    c->free = r;
}

static void req_complete(drv_pg *c, preq *r, drv_kind kind, const PGresult *res, const char *msg)
{
    drv_pg_resp resp = {
        .kind = kind,
        .t_start_ns = r->t_start,
        .t_done_ns = uv_hrtime(),
        .res = res,
        .errmsg = msg ? msg : "",
    };
    drv_pg_cb cb = r->cb;
    void *ud = r->ud;

    if (res && kind == DRV_OK) resp.ntuples = PQntuples(res);
    if (res && kind == DRV_ESQL) {
        const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (s) snprintf(resp.sqlstate, sizeof resp.sqlstate, "%s", s);
        if (m) resp.errmsg = m;
    }
    req_release(c, r);
    c->st.completed++;
    cb(c, &resp, ud);
}

/* libpq messages span lines ("...failed: FATAL:  password ...\n"): one line. */
static void set_lasterr(drv_pg *c, const char *what, const char *why)
{
    char *p;
    size_t n;
    snprintf(c->lasterr, sizeof c->lasterr, "%s%s%s", what ? what : "", what ? ": " : "",
             why && *why ? why : "unknown error");
    for (p = c->lasterr; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
    n = strlen(c->lasterr);
    while (n && c->lasterr[n - 1] == ' ')
        c->lasterr[--n] = '\0';
}

static void pool_unref(drv_pg *c)
{
    if (--c->open > 0) return;
    if (c->closed_cb) c->closed_cb(c, c->closed_ud);
    for (int i = 0; i < c->nstmts; i++)
        free(c->stmts[i].sql);
    free(c->stmts);
    free(c->reqs);
    free(c->conns);
    free(c->conninfo);
    free(c);
}

static void on_poll_closed(uv_handle_t *h)
{
    pgpoll *pp = h->data;
    pool_unref(pp->k->pool);
    free(pp);
}

static void poll_close(pconn *k)
{
    if (!k->poll) return;
    uv_close((uv_handle_t *)&k->poll->h, on_poll_closed);
    k->poll = NULL;
    k->fd = -1;
    k->armed = 0;
}

/* Watches the current socket of k, replacing the handle when libpq switched
 * sockets (it does while trying other addresses). */
static int poll_watch(pconn *k)
{
    int fd = PQsocket(k->pg);
    pgpoll *pp;

    if (fd < 0) return -1;
    if (k->poll && fd == k->fd) return 0;
    poll_close(k);
    pp = calloc(1, sizeof *pp);
    if (!pp) return -1;
    if (uv_poll_init(k->pool->loop, &pp->h, fd) != 0) {
        free(pp);
        return -1;
    }
    pp->h.data = pp;
    pp->k = k;
    k->pool->open++;
    k->poll = pp;
    k->fd = fd;
    return 0;
}

/* Re-arm only on a change: uv_poll_start is an epoll_ctl DEL + ADD in libuv 1.44. */
static void arm(pconn *k, int events)
{
    if (!k->poll || k->armed == events) return;
    if (uv_poll_start(&k->poll->h, events, on_poll) == 0) k->armed = events;
}

/* READABLE always, WRITABLE while libpq holds unsent output. Returns -1 on error. */
static int flush_arm(pconn *k)
{
    int r = PQflush(k->pg);
    if (r < 0) return -1;
    arm(k, r ? UV_READABLE | UV_WRITABLE : UV_READABLE);
    return 0;
}

static void on_backoff(uv_timer_t *t)
{
    conn_start(t->data);
}

static void conn_backoff(pconn *k)
{
    drv_pg *c = k->pool;
    uint64_t d = k->backoff_ns;
    k->state = PC_BACKOFF;
    k->backoff_ns = d * 2 > c->o.backoff_max_ns ? c->o.backoff_max_ns : d * 2;
    uv_timer_start(&k->timer, on_backoff, ms_ceil(d), 0);
}

/* Closes the socket side of k now (poll handle first: it must leave epoll before
 * PQfinish closes the fd) and completes its queries. */
static void conn_teardown(pconn *k, const char *why)
{
    drv_pg *c = k->pool;
    preq *r = k->head;
    char reason[256];

    /* why may point into the PGconn freed below. */
    snprintf(reason, sizeof reason, "%s", why);
    if (k->state == PC_UP) c->nup--;
    k->state = PC_IDLE;
    k->drop_req = 0;
    poll_close(k);
    if (k->held) PQclear(k->held);
    k->held = NULL;
    if (k->pg) PQfinish(k->pg);
    k->pg = NULL;
    k->head = k->tail = NULL;
    k->npending = k->unsynced = k->nsync = 0;
    if (c->state != P_CLOSING) uv_timer_stop(&k->timer);
    if (c->state == P_RUNNING) {
        if (r) k->backoff_ns = c->o.backoff_min_ns; /* it was working: retry soon */
        conn_backoff(k);
    }
    while (r) {
        preq *next = r->next;
        drv_kind kind = r->forced ? r->forced : DRV_ERESET;
        req_complete(c, r, kind, NULL,
                     kind == DRV_ETIMEOUT   ? "timeout"
                     : kind == DRV_EABORTED ? "aborted: connection dropped"
                                            : reason);
        r = next;
    }
}

static void pool_fail_all(drv_pg *c)
{
    cut_err e;
    c->state = P_FAILED;
    for (int i = 0; i < c->n; i++) {
        pconn *k = &c->conns[i];
        uv_timer_stop(&k->timer);
        if (k->busy)
            k->drop_req = 1;
        else
            conn_teardown(k, "connection closed");
    }
    cut_err_set(&e, CUT_ECONNECT, "pg %s: %s", c->hostport, c->lasterr);
    if (c->connect_cb) c->connect_cb(c, CUT_ECONNECT, &e, c->connect_ud);
}

/* Connecting or preparing failed; c->lasterr says why. */
static void conn_failed(pconn *k)
{
    drv_pg *c = k->pool;
    if (k->state != PC_CONNECTING && k->state != PC_PREPARING) return;
    uv_timer_stop(&k->timer);
    conn_teardown(k, c->lasterr);
    if (c->state == P_CONNECTING) {
        pool_fail_all(c);
    } else if (c->state == P_RUNNING) {
        c->st.reconnect_failures++;
        /* conn_teardown scheduled the backoff already */
    }
}

/* Drops an up connection (lost, timed out, closed); deferred while its results
 * are being processed so libpq's state is never freed under our feet. */
static void conn_drop(pconn *k)
{
    if (k->busy) {
        k->drop_req = 1;
        return;
    }
    if (k->state == PC_UP && k->pool->state == P_CONNECTING) {
        set_lasterr(k->pool, NULL, "connection lost during preflight");
        conn_teardown(k, "connection lost");
        pool_fail_all(k->pool);
        return;
    }
    conn_teardown(k, k->pool->lasterr[0] ? k->pool->lasterr : "connection lost");
}

static void conn_lost(pconn *k, const char *why)
{
    set_lasterr(k->pool, NULL, why);
    if (k->state == PC_CONNECTING || k->state == PC_PREPARING)
        conn_failed(k);
    else
        conn_drop(k);
}

static void conn_up(pconn *k)
{
    drv_pg *c = k->pool;
    if (c->pipe && PQenterPipelineMode(k->pg) != 1) {
        set_lasterr(c, "pipeline mode", PQerrorMessage(k->pg));
        conn_failed(k);
        return;
    }
    uv_timer_stop(&k->timer);
    k->state = PC_UP;
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

static void prepare_next(pconn *k)
{
    drv_pg *c = k->pool;
    if (k->prep_next >= c->nstmts) {
        conn_up(k);
        return;
    }
    stmt *s = &c->stmts[k->prep_next];
    if (!PQsendPrepare(k->pg, s->name, s->sql, s->nparams, NULL) || flush_arm(k) < 0) {
        set_lasterr(c, "prepare", PQerrorMessage(k->pg));
        conn_failed(k);
    }
}

static void process_prepare(pconn *k)
{
    drv_pg *c = k->pool;
    while (k->state == PC_PREPARING && !PQisBusy(k->pg)) {
        PGresult *r = PQgetResult(k->pg);
        if (!r) {
            k->prep_next++;
            prepare_next(k);
            return;
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char what[64];
            snprintf(what, sizeof what, "prepare statement %d", k->prep_next);
            set_lasterr(c, what, PQresultErrorMessage(r));
            PQclear(r);
            conn_failed(k);
            return;
        }
        PQclear(r);
    }
}

static void step_connect(pconn *k)
{
    drv_pg *c = k->pool;
    PostgresPollingStatusType st = PQconnectPoll(k->pg);

    if (st == PGRES_POLLING_FAILED) {
        set_lasterr(c, NULL, PQerrorMessage(k->pg));
        conn_failed(k);
        return;
    }
    if (poll_watch(k) != 0) {
        set_lasterr(c, NULL, "cannot watch the socket");
        conn_failed(k);
        return;
    }
    if (st == PGRES_POLLING_READING) {
        arm(k, UV_READABLE);
    } else if (st == PGRES_POLLING_WRITING) {
        arm(k, UV_WRITABLE);
    } else if (st == PGRES_POLLING_OK) {
        if (PQsetnonblocking(k->pg, 1) != 0) {
            set_lasterr(c, NULL, PQerrorMessage(k->pg));
            conn_failed(k);
            return;
        }
        k->state = PC_PREPARING;
        k->prep_next = 0;
        arm(k, UV_READABLE);
        prepare_next(k);
    }
}

/* Completes the head query with the result held for it. */
static void complete_head(pconn *k)
{
    drv_pg *c = k->pool;
    preq *r = k->head;
    PGresult *res = k->held;
    drv_kind kind = k->held_kind;

    k->held = NULL;
    k->head = r->next;
    if (!k->head) k->tail = NULL;
    k->npending--;
    req_complete(c, r, kind, res,
                 kind == DRV_EABORTED ? "aborted: earlier error in the pipeline batch"
                 : kind == DRV_EPROTO ? "unexpected result status"
                                      : NULL);
    PQclear(res);
}

static void hold(pconn *k, PGresult *r, drv_kind kind)
{
    /* A statement yields one result; if more come, the last (an error) wins. */
    if (k->held) PQclear(k->held);
    k->held = r;
    k->held_kind = kind;
}

static void process_results(pconn *k)
{
    int nulls = 0;

    k->busy++;
    while (k->state == PC_UP && !k->drop_req && !PQisBusy(k->pg)) {
        PGresult *r = PQgetResult(k->pg);
        if (!r) {
            if (k->held && k->head) {
                complete_head(k);
                nulls = 0;
                continue;
            }
            /* Between pipeline items one NULL is normal; two mean "nothing more". */
            if (++nulls >= 2 || (!k->head && !k->nsync)) break;
            continue;
        }
        nulls = 0;
        switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            k->nsync--;
            PQclear(r);
            break;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_SINGLE_TUPLE:
            hold(k, r, DRV_OK);
            break;
        case PGRES_PIPELINE_ABORTED:
            hold(k, r, DRV_EABORTED);
            break;
        case PGRES_FATAL_ERROR:
            if (PQstatus(k->pg) == CONNECTION_BAD) {
                set_lasterr(k->pool, NULL, PQresultErrorMessage(r));
                PQclear(r);
                k->drop_req = 1;
                break;
            }
            hold(k, r, DRV_ESQL);
            break;
        default:
            hold(k, r, DRV_EPROTO);
            break;
        }
        if (k->held && !k->head) { /* a result nobody asked for */
            set_lasterr(k->pool, NULL, "unexpected result from the server");
            PQclear(k->held);
            k->held = NULL;
            k->drop_req = 1;
        }
    }
    k->busy--;
    if (k->drop_req && !k->busy) conn_drop(k);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    pgpoll *pp = h->data;
    pconn *k = pp->k;

    if (k->poll != pp) return;    /* a replaced socket's last event */
    if (status < 0) k->armed = 0; /* libuv stopped the handle */
    if (k->state == PC_CONNECTING) {
        step_connect(k); /* PQconnectPoll reports the socket error itself */
        return;
    }
    if (status < 0 || ((events & UV_READABLE) && !PQconsumeInput(k->pg))) {
        char why[256];
        snprintf(why, sizeof why, "%s", status < 0 ? uv_strerror(status) : PQerrorMessage(k->pg));
        conn_lost(k, why);
        return;
    }
    if ((events & UV_WRITABLE) && flush_arm(k) < 0) {
        conn_lost(k, PQerrorMessage(k->pg));
        return;
    }
    if (k->state == PC_PREPARING)
        process_prepare(k);
    else if (k->state == PC_UP)
        process_results(k);
}

static void on_connect_timeout(uv_timer_t *t)
{
    pconn *k = t->data;
    char why[96];
    snprintf(why, sizeof why, "connect timed out after %llu ms",
             (unsigned long long)ms_ceil(k->pool->o.connect_timeout_ns));
    set_lasterr(k->pool, NULL, why);
    conn_failed(k);
}

/* Runs from a timer callback only, so failures never surface inside a call. */
static void conn_start(pconn *k)
{
    drv_pg *c = k->pool;

    k->state = PC_CONNECTING;
    k->pg = PQconnectStart(c->conninfo);
    if (!k->pg || PQstatus(k->pg) == CONNECTION_BAD) {
        set_lasterr(c, NULL, k->pg ? PQerrorMessage(k->pg) : "out of memory");
        conn_failed(k);
        return;
    }
    uv_timer_start(&k->timer, on_connect_timeout, ms_ceil(c->o.connect_timeout_ns), 0);
    /* Per libpq: start as if PQconnectPoll had said PGRES_POLLING_WRITING. */
    if (poll_watch(k) != 0) {
        set_lasterr(c, NULL, "cannot watch the socket");
        conn_failed(k);
        return;
    }
    arm(k, UV_WRITABLE);
}

static void on_cmd_timer(uv_timer_t *t)
{
    pconn *k = t->data;
    drv_pg *c = k->pool;
    preq *h = k->head;
    uint64_t now, deadline;

    if (!h || k->state != PC_UP) return;
    now = uv_hrtime();
    deadline = h->t_start + c->o.timeout_ns;
    if (deadline > now) {
        uv_timer_start(t, on_cmd_timer, ms_ceil(deadline - now), 0);
        return;
    }
    for (preq *r = h; r; r = r->next)
        r->forced = r == h ? DRV_ETIMEOUT : DRV_EABORTED;
    conn_drop(k);
}

static void on_fail_timer(uv_timer_t *t);

/* A send found the connection broken: drop it on the next loop turn, so that no
 * callback fires from inside drv_pg_send. */
static void conn_drop_later(pconn *k)
{
    drv_pg *c = k->pool;
    set_lasterr(c, NULL, PQerrorMessage(k->pg));
    k->drop_req = 1;
    if (!uv_is_active((uv_handle_t *)&c->fail_timer))
        uv_timer_start(&c->fail_timer, on_fail_timer, 0, 0);
}

static void do_sync(pconn *k)
{
    k->unsynced = 0;
    if (PQpipelineSync(k->pg) != 1 || flush_arm(k) < 0) {
        conn_drop_later(k);
        return;
    }
    k->nsync++;
}

static void on_flush(uv_prepare_t *h)
{
    drv_pg *c = h->data;
    pconn *k = c->flush_head;
    c->flush_head = NULL;
    uv_prepare_stop(h);
    while (k) {
        pconn *next = k->flush_next;
        k->in_flush = 0;
        if (k->state == PC_UP && k->unsynced) do_sync(k);
        k = next;
    }
}

static void on_fail_timer(uv_timer_t *t)
{
    drv_pg *c = t->data;
    preq *r = c->fail_head; /* detach: callbacks may queue new failures */
    c->fail_head = c->fail_tail = NULL;
    for (int i = 0; i < c->n && c->state != P_CLOSING; i++)
        if (c->conns[i].drop_req && !c->conns[i].busy) conn_drop(&c->conns[i]);
    while (r) {
        preq *next = r->next;
        req_complete(c, r, r->forced, NULL,
                     r->forced == DRV_ECONNECT ? "no postgres connection is up"
                                               : "connection broken");
        r = next;
    }
}

static void queue_fail(drv_pg *c, preq *r, drv_kind kind)
{
    r->forced = kind;
    r->next = NULL;
    if (c->fail_tail)
        c->fail_tail->next = r;
    else
        c->fail_head = r;
    c->fail_tail = r;
    if (!uv_is_active((uv_handle_t *)&c->fail_timer))
        uv_timer_start(&c->fail_timer, on_fail_timer, 0, 0);
}

int drv_pg_send(drv_pg *c, int stmt_id, int nparams, const char *const *values, const int *lengths,
                drv_pg_cb cb, void *ud)
{
    pconn *best = NULL;
    preq *r;

    (void)lengths; /* text parameters: libpq uses strlen */
    if (!c || !cb || stmt_id < 0 || stmt_id >= c->nstmts || nparams != c->stmts[stmt_id].nparams ||
        (nparams > 0 && !values))
        return CUT_EINVAL;
    if (c->state != P_RUNNING) return CUT_ESTATE;
    for (int i = 0, j = (int)(c->rr++ % (unsigned)c->n); i < c->n; i++) {
        pconn *k = &c->conns[j];
        if (k->state == PC_UP && !k->drop_req && k->npending < c->o.max_pending &&
            (!best || k->npending < best->npending)) {
            best = k;
            if (!k->npending) break;
        }
        if (++j == c->n) j = 0;
    }
    if (!best && c->nup > 0) return CUT_ERANGE;
    r = c->free;
    if (!r) return CUT_ERANGE;
    c->free = r->next;
    r->cb = cb;
    r->ud = ud;
    r->t_start = uv_hrtime();
    r->forced = DRV_OK;
    if (!best) {
        queue_fail(c, r, DRV_ECONNECT);
        return 0;
    }
    if (!PQsendQueryPrepared(best->pg, c->stmts[stmt_id].name, nparams, values, NULL, NULL, 0)) {
        /* Broken connection: this request and the connection's others end with
         * DRV_ERESET on the next loop turn. */
        conn_drop_later(best);
        queue_fail(c, r, DRV_ERESET);
        return 0;
    }
    r->next = NULL;
    if (best->tail)
        best->tail->next = r;
    else
        best->head = r;
    best->tail = r;
    best->npending++;
    c->st.sent++;
    if (c->pipe) {
        if (++best->unsynced >= c->o.pipeline) {
            do_sync(best);
        } else if (!best->in_flush) {
            best->in_flush = 1;
            best->flush_next = c->flush_head;
            c->flush_head = best;
            if (!uv_is_active((uv_handle_t *)&c->flush)) uv_prepare_start(&c->flush, on_flush);
        }
    } else if (flush_arm(best) < 0) {
        conn_drop_later(best);
    }
    if (c->o.timeout_ns && !uv_is_active((uv_handle_t *)&best->timer))
        uv_timer_start(&best->timer, on_cmd_timer, ms_ceil(c->o.timeout_ns), 0);
    return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    pool_unref(h->data);
}

/* "host:port" for messages, from the parsed conninfo (never the password). */
static void describe(drv_pg *c, PQconninfoOption *opts)
{
    const char *host = NULL, *addr = NULL, *port = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !*o->val) continue;
        if (!strcmp(o->keyword, "host")) host = o->val;
        if (!strcmp(o->keyword, "hostaddr")) addr = o->val;
        if (!strcmp(o->keyword, "port")) port = o->val;
    }
    snprintf(c->hostport, sizeof c->hostport, "%s:%s",
             host   ? host
             : addr ? addr
                    : "localhost",
             port ? port : "5432");
}

int drv_pg_new(uv_loop_t *loop, const drv_pg_opts *opts, drv_pg **out, cut_err *err)
{
    drv_pg *c = NULL;
    PQconninfoOption *ci = NULL;
    char *perr = NULL;
    size_t nreq;
    int rc;

    if (!loop || !opts || !out || !opts->conninfo)
        return cut_err_set(err, CUT_EINVAL, "pg: missing argument");
    *out = NULL;
    ci = PQconninfoParse(opts->conninfo, &perr);
    if (!ci) {
        /* libpq's parse messages quote keywords, not values; still keep it short. */
        rc = cut_err_set(err, CUT_EINVAL, "pg: invalid connection string");
        PQfreemem(perr);
        return rc;
    }
    rc = CUT_ENOMEM;
    c = calloc(1, sizeof *c);
    if (!c) goto fail;
    describe(c, ci);
    c->loop = loop;
    c->o = *opts;
    if (!c->o.pool) c->o.pool = 4;
    if (!c->o.connect_timeout_ns) c->o.connect_timeout_ns = 5000 * NS_PER_MS;
    if (!c->o.backoff_min_ns) c->o.backoff_min_ns = 100 * NS_PER_MS;
    if (!c->o.backoff_max_ns) c->o.backoff_max_ns = 5000 * NS_PER_MS;
    c->pipe = c->o.pipeline >= 2;
    if (!c->pipe)
        c->o.max_pending = 1;
    else if (!c->o.max_pending)
        c->o.max_pending = 4 * c->o.pipeline;
    if (c->o.pool < 1 || c->o.pool > 4096 || c->o.max_pending < 1 || c->o.pipeline < 0 ||
        c->o.backoff_max_ns < c->o.backoff_min_ns) {
        rc = cut_err_set(err, CUT_EINVAL, "pg: option out of range");
        goto fail_set;
    }
    c->conninfo = strdup(opts->conninfo);
    if (!c->conninfo) goto fail;
    c->o.conninfo = c->conninfo;
    c->n = c->o.pool;
    c->conns = calloc((size_t)c->n, sizeof *c->conns);
    nreq = (size_t)c->n * (size_t)c->o.max_pending;
    c->reqs = calloc(nreq, sizeof *c->reqs);
    if (!c->conns || !c->reqs) goto fail;
    for (size_t i = nreq; i-- > 0;)
        req_release(c, &c->reqs[i]);
    for (int i = 0; i < c->n; i++) {
        pconn *k = &c->conns[i];
        k->pool = c;
        k->fd = -1;
        k->backoff_ns = c->o.backoff_min_ns;
        uv_timer_init(loop, &k->timer);
        k->timer.data = k;
    }
    uv_timer_init(loop, &c->fail_timer);
    c->fail_timer.data = c;
    uv_prepare_init(loop, &c->flush);
    c->flush.data = c;
    c->open = c->n + 2;
    PQconninfoFree(ci);
    *out = c;
    return 0;

fail:
    rc = cut_err_set(err, CUT_ENOMEM, "pg: out of memory");
fail_set:
    PQconninfoFree(ci);
    if (c) {
        free(c->reqs);
        free(c->conns);
        free(c->conninfo);
        free(c);
    }
    return rc;
}

int drv_pg_prepare(drv_pg *c, const char *sql, int nparams, int *stmt_id, cut_err *err)
{
    stmt *s;
    if (!c || !sql || !stmt_id || nparams < 0 || nparams > 65535)
        return cut_err_set(err, CUT_EINVAL, "pg: bad statement");
    if (c->state != P_NEW)
        return cut_err_set(err, CUT_ESTATE, "pg: statements must be registered before connect");
    if (c->nstmts == c->capstmts) {
        int cap = c->capstmts ? 2 * c->capstmts : 8;
        stmt *ns = realloc(c->stmts, (size_t)cap * sizeof *ns);
        if (!ns) return cut_err_set(err, CUT_ENOMEM, "pg: out of memory");
        c->stmts = ns;
        c->capstmts = cap;
    }
    s = &c->stmts[c->nstmts];
    s->sql = strdup(sql);
    if (!s->sql) return cut_err_set(err, CUT_ENOMEM, "pg: out of memory");
    s->nparams = nparams;
    snprintf(s->name, sizeof s->name, "cut_s%d", c->nstmts);
    *stmt_id = c->nstmts++;
    return 0;
}

int drv_pg_connect(drv_pg *c, drv_pg_connect_cb cb, void *ud, cut_err *err)
{
    if (!c) return cut_err_set(err, CUT_EINVAL, "pg: missing pool");
    if (c->state != P_NEW) return cut_err_set(err, CUT_ESTATE, "pg: connect called twice");
    c->state = P_CONNECTING;
    c->connect_cb = cb;
    c->connect_ud = ud;
    for (int i = 0; i < c->n; i++)
        uv_timer_start(&c->conns[i].timer, on_backoff, 0, 0);
    return 0;
}

int drv_pg_close(drv_pg *c, drv_pg_closed_cb cb, void *ud)
{
    pool_state was;

    if (!c || c->state == P_CLOSING) return CUT_ESTATE;
    was = c->state;
    c->state = P_CLOSING;
    c->closed_cb = cb;
    c->closed_ud = ud;
    for (int i = 0; i < c->n; i++) {
        pconn *k = &c->conns[i];
        uv_timer_stop(&k->timer);
        for (preq *r = k->head; r; r = r->next)
            r->forced = DRV_EABORTED;
        if (k->busy)
            k->drop_req = 1;
        else
            conn_teardown(k, "closed");
    }
    on_fail_timer(&c->fail_timer);
    if (was == P_CONNECTING && c->connect_cb) {
        cut_err e;
        cut_err_set(&e, CUT_ESTATE, "pg %s: closed before the preflight ended", c->hostport);
        c->connect_cb(c, CUT_ESTATE, &e, c->connect_ud);
    }
    for (int i = 0; i < c->n; i++) {
        c->conns[i].timer.data = c;
        uv_close((uv_handle_t *)&c->conns[i].timer, on_handle_closed);
    }
    uv_close((uv_handle_t *)&c->fail_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->flush, on_handle_closed);
    return 0;
}

void drv_pg_stats_get(const drv_pg *c, drv_pg_stats *out)
{
    *out = c->st;
    out->up = c->nup;
}
