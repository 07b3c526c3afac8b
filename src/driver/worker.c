/* worker.c - one worker thread: its loop, its clients (one per endpoint the scenario
 * uses), the preflight, and the commands the coordinator sends (wk_cmd). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/worker.h"

static void wk_on_wake(uv_async_t *h);

/* Endpoints used by some phase (steps of load phases, and actions). */
static void mark_used(wk_thread *w)
{
    const scn_scenario *s = w->run->s;
    for (size_t k = 0; k < s->nphases; k++) {
        const scn_phase *ph = &s->phases[k];
        if (ph->executor == SCN_EXEC_ACTION) {
            w->clients[ph->action->endpoint].used = true;
            continue;
        }
        for (size_t i = 0; i < ph->nsteps; i++)
            w->clients[s->steps[ph->steps[i].step].endpoint].used = true;
    }
}

static void free_preformatted(wk_thread *w)
{
    if (w->redis_pre)
        for (size_t i = 0; i < w->run->s->nsteps + w->run->s->nphases + 1; i++)
            free(w->redis_pre[i]);
    free(w->redis_pre);
    free(w->redis_pre_len);
    w->redis_pre = NULL;
    w->redis_pre_len = NULL;
}

int wk_init(wk_thread *w, drv_run *run, uint32_t index, cut_err *err)
{
    const scn_scenario *s = run->s;
    memset(w, 0, sizeof *w);
    w->run = run;
    w->index = index;
    w->clients = calloc(s->nendpoints ? s->nendpoints : 1, sizeof *w->clients);
    w->pg_stmt = malloc((s->nsteps + s->nphases + 1) * sizeof *w->pg_stmt);
    w->cursors = calloc(s->ndata ? s->ndata : 1, sizeof *w->cursors);
    w->redis_pre = calloc(s->nsteps + s->nphases + 1, sizeof *w->redis_pre);
    w->redis_pre_len = calloc(s->nsteps + s->nphases + 1, sizeof *w->redis_pre_len);
    if (!w->clients || !w->pg_stmt || !w->cursors || !w->redis_pre || !w->redis_pre_len) goto nomem;
    for (size_t i = 0; i < s->nsteps + s->nphases + 1; i++)
        w->pg_stmt[i] = -1;
    for (size_t e = 0; e < s->nendpoints; e++) {
        w->clients[e].owner = w;
        w->clients[e].index = (uint32_t)e;
        w->clients[e].type = s->endpoints[e].type;
    }
    for (size_t d = 0; d < s->ndata; d++)
        scn_cursor_init(&w->cursors[d], &s->data[d], index, run->nthreads);
    /* Mixes pick steps from a per-thread stream of the scenario seed. */
    sched_rng_seed(&w->rng, sched_seed_for(s->defaults.seed, 0x6d69780000000000ull | index));
    mark_used(w);
    if (uv_loop_init(&w->loop) != 0) {
        cut_err_set(err, CUT_EIO, "cannot create an event loop for worker %u", index);
        goto fail;
    }
    uv_async_init(&w->loop, &w->wake, wk_on_wake);
    w->wake.data = w;
    req_serve_init(w);
    return 0;
nomem:
    cut_err_set(err, CUT_ENOMEM, "out of memory for worker %u", index);
fail:
    free_preformatted(w);
    free(w->clients);
    free(w->pg_stmt);
    free(w->cursors);
    w->clients = NULL;
    w->pg_stmt = NULL;
    w->cursors = NULL;
    return err ? err->code : CUT_ENOMEM;
}

void wk_destroy(wk_thread *w)
{
    free_preformatted(w);
    uv_loop_close(&w->loop);
    free(w->clients);
    free(w->pg_stmt);
    free(w->cursors);
    w->clients = NULL;
    w->pg_stmt = NULL;
    w->cursors = NULL;
}

void wk_command(wk_thread *w, wk_cmd cmd)
{
    pthread_mutex_lock(&w->run->mu);
    w->cmd = cmd;
    pthread_mutex_unlock(&w->run->mu);
    uv_async_send(&w->wake);
}

void wk_ack(wk_thread *w)
{
    drv_run *r = w->run;
    pthread_mutex_lock(&r->mu);
    r->acks++;
    pthread_mutex_unlock(&r->mu);
    uv_async_send(&r->notify);
}

/* Keeps the first failure of this worker: it explains best. */
static void fail(wk_thread *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(wk_thread *w, int code, const char *fmt, ...)
{
    if (w->fail_code < 0) return;
    w->fail_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fail_msg, sizeof w->fail_msg, fmt, ap);
    va_end(ap);
}

static const char *ep_display(const scn_endpoint *ep)
{
    switch (ep->type) {
    case SCN_EP_HTTP:
        return ep->u.http.base_url_display;
    case SCN_EP_REDIS:
        return ep->u.redis.display;
    case SCN_EP_POSTGRES:
        return ep->u.pg.display;
    }
    return "";
}

/* ---- preflight -------------------------------------------------------------------------- */

static void pf_done(wk_thread *w)
{
    if (--w->pending == 0) wk_ack(w);
}

static void on_http_pf(drv_http_req *r, const drv_http_resp *resp, void *ud)
{
    (void)r;
    wk_client *c = ud;
    const scn_endpoint *ep = &c->owner->run->s->endpoints[c->index];
    if (resp->kind != DRV_OK)
        fail(c->owner, CUT_ECONNECT, "endpoint '%s' (%s): cannot connect: %s", ep->name,
             ep_display(ep), resp->error && *resp->error ? resp->error : drv_kind_name(resp->kind));
    pf_done(c->owner);
}

static void on_redis_pf(drv_redis *rc, int status, const cut_err *err, void *ud)
{
    (void)rc;
    wk_client *c = ud;
    const scn_endpoint *ep = &c->owner->run->s->endpoints[c->index];
    if (status < 0)
        fail(c->owner, CUT_ECONNECT, "endpoint '%s' (%s): %s", ep->name, ep_display(ep),
             err ? err->msg : "");
    pf_done(c->owner);
}

static void on_pg_pf(drv_pg *pc, int status, const cut_err *err, void *ud)
{
    (void)pc;
    wk_client *c = ud;
    const scn_endpoint *ep = &c->owner->run->s->endpoints[c->index];
    if (status < 0)
        fail(c->owner, CUT_ECONNECT, "endpoint '%s' (%s): %s", ep->name, ep_display(ep),
             err ? err->msg : "");
    pf_done(c->owner);
}

/* Requests one thread may have in flight at once on endpoint e, over all phases. */
static unsigned max_in_flight_on(const wk_thread *w, uint32_t e)
{
    const scn_scenario *s = w->run->s;
    unsigned n = w->run->nthreads, most = 1;
    for (size_t k = 0; k < s->nphases; k++) {
        const scn_phase *ph = &s->phases[k];
        bool uses = false;
        if (ph->executor == SCN_EXEC_ACTION) continue;
        for (size_t i = 0; i < ph->nsteps; i++)
            uses |= s->steps[ph->steps[i].step].endpoint == e;
        if (!uses) continue;
        uint64_t m = 1;
        switch (ph->executor) {
        case SCN_EXEC_ITERATIONS:
            m = (ph->concurrency + n - 1) / n;
            break;
        case SCN_EXEC_CONSTANT_ARRIVAL_RATE:
        case SCN_EXEC_RAMPING_ARRIVAL_RATE:
            m = (ph->max_in_flight + n - 1) / n;
            break;
        case SCN_EXEC_CONSTANT_VUS:
            m = (ph->vus + n - 1) / n;
            break;
        case SCN_EXEC_RAMPING_VUS: {
            uint64_t top = ph->start_vus;
            for (size_t i = 0; i < ph->nvu_stages; i++)
                if (ph->vu_stages[i].to > top) top = ph->vu_stages[i].to;
            m = (top + n - 1) / n;
            break;
        }
        default:
            break;
        }
        if (m > most) most = (unsigned)(m < 100000 ? m : 100000);
    }
    return most;
}

static int prepare_statements(wk_thread *w, uint32_t e, cut_err *err)
{
    const scn_scenario *s = w->run->s;
    drv_pg *pg = w->clients[e].pg;
    for (size_t i = 0; i < s->nsteps; i++) {
        const scn_step *st = &s->steps[i];
        if (st->kind != SCN_STEP_SQL || st->endpoint != e) continue;
        int rc = drv_pg_prepare(pg, st->u.sql.query, (int)st->u.sql.nparams, &w->pg_stmt[i], err);
        if (rc < 0) return rc;
    }
    for (size_t k = 0; k < s->nphases; k++) {
        const scn_step *st = s->phases[k].action;
        if (!st || st->kind != SCN_STEP_SQL || st->endpoint != e) continue;
        int rc = drv_pg_prepare(pg, st->u.sql.query, (int)st->u.sql.nparams,
                                &w->pg_stmt[s->nsteps + k], err);
        if (rc < 0) return rc;
    }
    return 0;
}

static void preflight(wk_thread *w)
{
    const scn_scenario *s = w->run->s;
    w->pending = 1; /* held until every connect has started */
    for (uint32_t e = 0; e < s->nendpoints; e++) {
        wk_client *cl = &w->clients[e];
        const scn_endpoint *ep = &s->endpoints[e];
        cut_err err;
        cut_err_clear(&err);
        int rc = 0;
        if (!cl->used) continue;
        switch (ep->type) {
        case SCN_EP_HTTP: {
            const scn_http_endpoint *h = &ep->u.http;
            drv_http_opts o = {0};
            o.base_url = h->base_url;
            o.max_connections = h->max_connections;
            /* One slot per connection: requests beyond that wait in cutover's queue, so the
             * raw latency (from the actual send) never includes waiting for a connection. */
            o.slots = h->max_connections;
            o.timeout_ns = (uint64_t)h->timeout_ns;
            o.connect_timeout_ns = (uint64_t)h->connect_timeout_ns;
            o.max_body = h->max_body;
            rc = drv_http_new(&cl->http, &w->loop, &o, &err);
            if (rc == 0) rc = drv_http_preflight(cl->http, NULL, on_http_pf, cl);
            break;
        }
        case SCN_EP_REDIS: {
            const scn_redis_endpoint *r = &ep->u.redis;
            drv_redis_opts o = {0};
            o.host = r->host;
            o.port = r->port;
            o.db = (int)r->db;
            o.password = r->password;
            o.pool = (int)r->pool;
            o.timeout_ns = (uint64_t)r->timeout_ns;
            /* A load test wants a restarted server back within half a second, not 5 s. */
            o.backoff_max_ns = 500000000u;
            /* Request records are preallocated per connection: size them for what this
             * scenario can have in flight (twice its share, at least 16), not a fixed 1024,
             * so 1,000 connections stay small. Beyond that, requests wait in our queue. */
            unsigned per_conn =
                (max_in_flight_on(w, e) + o.pool - 1) / (unsigned)(o.pool ? o.pool : 4);
            o.max_pending = (int)(per_conn * 2 < 16     ? 16
                                  : per_conn * 2 > 1024 ? 1024
                                                        : per_conn * 2);
            rc = drv_redis_new(&w->loop, &o, &cl->redis, &err);
            if (rc == 0) rc = drv_redis_connect(cl->redis, on_redis_pf, cl, &err);
            break;
        }
        case SCN_EP_POSTGRES: {
            const scn_pg_endpoint *p = &ep->u.pg;
            drv_pg_opts o = {0};
            o.conninfo = p->dsn;
            o.pool = (int)p->pool;
            o.timeout_ns = (uint64_t)p->timeout_ns;
            o.pipeline = p->pipeline > 1 ? (int)p->pipeline : 0;
            o.backoff_max_ns = 500000000u;
            rc = drv_pg_new(&w->loop, &o, &cl->pg, &err);
            if (rc == 0) rc = prepare_statements(w, e, &err);
            if (rc == 0) rc = drv_pg_connect(cl->pg, on_pg_pf, cl, &err);
            break;
        }
        }
        if (rc < 0) {
            fail(w, rc, "endpoint '%s' (%s): %s", ep->name, ep_display(ep), err.msg);
            continue;
        }
        w->pending++;
    }
    pf_done(w);
}

/* ---- closing ------------------------------------------------------------------------------ */

static void after_client_closed(wk_thread *w)
{
    if (--w->pending == 0 && w->cmd_exit) {
        uv_close((uv_handle_t *)&w->serve, NULL);
        uv_close((uv_handle_t *)&w->wake, NULL);
    }
}

static void on_http_closed(void *ud)
{
    after_client_closed(ud);
}

static void on_redis_closed(drv_redis *c, void *ud)
{
    (void)c;
    after_client_closed(ud);
}

static void on_pg_closed(drv_pg *c, void *ud)
{
    (void)c;
    after_client_closed(ud);
}

void wk_close_clients(wk_thread *w)
{
    const scn_scenario *s = w->run->s;
    w->pending++; /* held while closing starts */
    for (size_t e = 0; e < s->nendpoints; e++) {
        wk_client *cl = &w->clients[e];
        if (cl->http) {
            w->pending++;
            drv_http_close(cl->http, on_http_closed, w);
            cl->http = NULL;
        }
        if (cl->redis) {
            w->pending++;
            drv_redis *r = cl->redis;
            cl->redis = NULL;
            if (drv_redis_close(r, on_redis_closed, w) < 0) w->pending--;
        }
        if (cl->pg) {
            w->pending++;
            drv_pg *p = cl->pg;
            cl->pg = NULL;
            if (drv_pg_close(p, on_pg_closed, w) < 0) w->pending--;
        }
    }
    after_client_closed(w);
}

/* ---- commands ------------------------------------------------------------------------------ */

static void wk_on_wake(uv_async_t *h)
{
    wk_thread *w = h->data;
    pthread_mutex_lock(&w->run->mu);
    wk_cmd cmd = w->cmd;
    w->cmd = WK_IDLE;
    pthread_mutex_unlock(&w->run->mu);

    if (atomic_load(&w->run->stop_signal) != 0 && w->in_phase && !w->phase.finished) exec_stop(w);

    switch (cmd) {
    case WK_IDLE:
        break;
    case WK_PREFLIGHT:
        preflight(w);
        break;
    case WK_PHASE: {
        const scn_phase *ph = &w->run->s->phases[w->run->phase_idx];
        cut_err err;
        cut_err_clear(&err);
        if (exec_phase_start(w, ph, &err) < 0) {
            fail(w, err.code ? err.code : CUT_ENOMEM, "%s", err.msg);
            wk_ack(w);
        }
        break;
    }
    case WK_EXIT:
        w->cmd_exit = true;
        wk_close_clients(w);
        break;
    }
}
