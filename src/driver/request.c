/* request.c - one iteration on one worker: choose data rows, expand the step's templates
 * into the request record's buffers, hand the request to the endpoint's client, and turn
 * the outcome into measurements (kind, status, checks, cache class, both latencies).
 *
 * Buffers belong to the request record and only grow; the clients copy what they send, so
 * a record is reusable as soon as its callback has run. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/worker.h"
#include "metrics/keyset.h"
#include "metrics/breaker.h"

#define REQ_INITIAL_BUF 2048
#define REQ_INITIAL_PTRS 16

static void step_start(wk_req *q);
static void kick_waiters(wk_thread *w, uint32_t endpoint);

int req_alloc(wk_req *q, wk_thread *w, cut_err *err)
{
    const scn_scenario *s = w->run->s;
    memset(q, 0, sizeof *q);
    q->w = w;
    q->binding = calloc(s->nvars ? s->nvars : 1, sizeof *q->binding);
    q->scratch = calloc(s->nvars ? s->nvars : 1, sizeof *q->scratch);
    q->rows = malloc((s->ndata ? s->ndata : 1) * sizeof *q->rows);
    q->buf = malloc(REQ_INITIAL_BUF);
    q->ptrs = malloc(REQ_INITIAL_PTRS * sizeof *q->ptrs);
    q->lens = malloc(REQ_INITIAL_PTRS * sizeof *q->lens);
    if (!q->binding || !q->scratch || !q->rows || !q->buf || !q->ptrs || !q->lens) {
        req_free(q);
        return cut_err_set(err, CUT_ENOMEM, "out of memory for request records");
    }
    q->cap = REQ_INITIAL_BUF;
    q->nptrs_cap = REQ_INITIAL_PTRS;
    return 0;
}

void req_free(wk_req *q)
{
    free(q->binding);
    free(q->scratch);
    free(q->rows);
    free(q->buf);
    free(q->ptrs);
    free(q->lens);
    q->binding = NULL;
    q->scratch = NULL;
    q->rows = NULL;
    q->buf = NULL;
    q->ptrs = NULL;
    q->lens = NULL;
}

/* Buffer growth happens only when an expansion is longer than any before it. */
static int ensure_buf(wk_req *q, size_t need)
{
    if (need <= q->cap) return 0;
    size_t cap = q->cap * 2;
    while (cap < need)
        cap *= 2;
    char *n = realloc(q->buf, cap);
    if (!n) return CUT_ENOMEM;
    q->buf = n;
    q->cap = cap;
    return 0;
}

static int ensure_ptrs(wk_req *q, size_t need)
{
    if (need <= q->nptrs_cap) return 0;
    size_t cap = q->nptrs_cap * 2;
    while (cap < need)
        cap *= 2;
    const char **p = realloc(q->ptrs, cap * sizeof *p);
    if (!p) return CUT_ENOMEM;
    q->ptrs = p;
    size_t *l = realloc(q->lens, cap * sizeof *l);
    if (!l) return CUT_ENOMEM;
    q->lens = l;
    q->nptrs_cap = cap;
    return 0;
}

static const scn_phase *cur_phase(wk_thread *w)
{
    return w->phase.ph;
}

/* The step at position pos of the current phase (the action for action phases). */
static const scn_step *phase_step(wk_thread *w, uint32_t pos, uint32_t *slot)
{
    const scn_phase *ph = cur_phase(w);
    const scn_scenario *s = w->run->s;
    if (ph->executor == SCN_EXEC_ACTION) {
        *slot = (uint32_t)(s->nsteps + ph->index);
        return ph->action;
    }
    const scn_step *st = &s->steps[ph->steps[pos].step];
    *slot = st->index;
    return st;
}

static uint32_t res_slot(const wk_thread *w, uint32_t slot)
{
    size_t n = w->run->s->nsteps;
    return slot < n ? slot : (uint32_t)n;
}

uint32_t req_first_pos(wk_thread *w)
{
    const scn_phase *ph = cur_phase(w);
    if (ph->executor != SCN_EXEC_ACTION && ph->mix)
        return (uint32_t)sched_pick_next(ph->pick, &w->rng);
    return 0;
}

static stats_step *slot_stats(wk_thread *w, uint32_t slot)
{
    return &w->phase.res.steps[res_slot(w, slot)];
}

/* Binds the variables of every data set the phase uses to the chosen rows. */
static bool bind_rows(wk_req *q, const uint64_t *over_rows)
{
    wk_thread *w = q->w;
    const scn_scenario *s = w->run->s;
    const scn_phase *ph = cur_phase(w);
    const uint32_t *sets = ph->executor == SCN_EXEC_ACTION ? ph->action->sets : ph->sets;
    size_t nsets = ph->executor == SCN_EXEC_ACTION ? ph->action->nsets : ph->nsets;
    for (size_t i = 0; i < nsets; i++) {
        uint32_t d = sets[i];
        uint64_t row = UINT64_MAX;
        for (size_t o = 0; over_rows && o < ph->nover; o++)
            if (ph->over[o] == d) row = over_rows[o];
        if (row == UINT64_MAX && !scn_cursor_next(&w->cursors[d], &row))
            return false; /* a unique data set is used up on this thread */
        q->rows[d] = row;
    }
    for (size_t v = 0; v < s->nvars; v++) {
        const scn_var *var = &s->vars[v];
        q->binding[v].ptr = NULL;
        q->binding[v].len = 0;
        bool bound = false;
        for (size_t i = 0; i < nsets; i++)
            bound |= sets[i] == var->set;
        if (bound)
            scn_data_value(&s->data[var->set], q->rows[var->set], var->column, q->scratch[v],
                           &q->binding[v]);
    }
    return true;
}

bool req_begin(wk_req *q, uint64_t intended, const uint64_t *over_rows, uint32_t first_pos)
{
    wk_thread *w = q->w;
    if (!bind_rows(q, over_rows)) return false;
    w->phase.in_flight++;
    w->phase.iter_started++;
    q->flow_pos = first_pos;
    q->intended = intended;
    step_start(q);
    return true;
}

/* ---- measuring -------------------------------------------------------------------------- */

static void note_series(wk_thread *w, uint64_t now, drv_kind kind, stats_cache cache)
{
    wk_phase *p = &w->phase;
    res_second *sec = res_phase_second(&p->res, now - p->t0);
    if (!sec) return;
    sec->completed++;
    if (kind != DRV_OK) sec->errors++;
    if (cache == STATS_CACHE_HIT) sec->hits++;
    if (cache == STATS_CACHE_MISS) sec->misses++;
}

/* A failed action stops the run (exit 3): keep why, for the message and the report. */
static void note_action_failure(wk_req *q, drv_kind kind, int status)
{
    wk_thread *w = q->w;
    if (cur_phase(w)->executor != SCN_EXEC_ACTION || w->fail_code < 0) return;
    w->fail_code = CUT_ECONNECT;
    if (status)
        snprintf(w->fail_msg, sizeof w->fail_msg, "action '%s' failed: %s (HTTP %d)",
                 cur_phase(w)->name, drv_kind_name(kind), status);
    else
        snprintf(w->fail_msg, sizeof w->fail_msg, "action '%s' failed: %s", cur_phase(w)->name,
                 drv_kind_name(kind));
}

/* Hands the finished second's histogram to the run's ring (exact per-second percentiles over
 * all threads) and samples what is in flight. */
void req_second_over(wk_thread *w)
{
    wk_phase *p = &w->phase;
    atomic_store_explicit(&w->p_p95_us, (uint64_t)hist_percentile(p->sec_hist, 95),
                          memory_order_relaxed);
    sring_add(w->run->seconds, p->sec_index, p->sec_hist);
    hist_reset(p->sec_hist);
    res_second *sec = res_phase_row(&p->res, p->sec_index);
    if (sec) sec->in_flight = p->in_flight;
}

static void record(wk_req *q, uint64_t start, uint64_t done, drv_kind kind, int status,
                   stats_cache cache, stats_class cls, uint64_t bytes)
{
    wk_thread *w = q->w;
    stats_step *st = slot_stats(w, q->slot);
    uint64_t intended = q->intended < start ? q->intended : start;
    int64_t corrected = (int64_t)(done - intended) / 1000;
    int64_t raw = (int64_t)(done - start) / 1000;
    stats_step_record(st, kind, status, cls, corrected, raw);
    st->cache[cache]++;
    st->bytes_in += bytes;
    note_series(w, done, kind, cache);
    uint64_t sec = res_row_of(&w->phase.res, done - w->phase.t0);
    if (sec != w->phase.sec_index) {
        req_second_over(w);
        w->phase.sec_index = sec;
    }
    hist_record(w->phase.sec_hist, corrected);
    atomic_fetch_add_explicit(&w->p_completed, 1, memory_order_relaxed);
    if (kind != DRV_OK) atomic_fetch_add_explicit(&w->p_errors, 1, memory_order_relaxed);
    if (kind != DRV_OK) note_action_failure(q, kind, status);
}

/* A request that could not even be handed to its client: an error without a latency. */
static void record_unsent(wk_req *q, drv_kind kind)
{
    wk_thread *w = q->w;
    stats_step *st = slot_stats(w, q->slot);
    st->completed++;
    st->errors++;
    st->by_kind[kind]++;
    st->status[0]++;
    note_series(w, uv_hrtime(), kind, STATS_CACHE_NONE);
    atomic_fetch_add_explicit(&w->p_completed, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->p_errors, 1, memory_order_relaxed);
    note_action_failure(q, kind, 0);
}

/* Moves the iteration on: the next step of a flow, or the end of the iteration. */
static void step_next(wk_req *q)
{
    wk_thread *w = q->w;
    const scn_phase *ph = cur_phase(w);
    bool more = ph->executor != SCN_EXEC_ACTION && !ph->mix && q->flow_pos + 1 < ph->nsteps &&
                !w->phase.stop_requested;
    if (more) {
        q->flow_pos++;
        q->intended = uv_hrtime(); /* later steps of a flow start when the previous ends */
        step_start(q);
        return;
    }
    exec_iteration_done(q);
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static bool token_is(const char *v, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(v, word, n) == 0;
}

/* nginx $upstream_cache_status, X-Cache: HIT|MISS, and CDN lists ("HIT, MISS": the first hop
 * counts). BYPASS (and anything unknown) is "other": the cache was not asked, so it is neither
 * a hit nor a miss of the hit rate. */
static bool in_values(const char *v, size_t n, const char *const *list, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (token_is(v, n, list[k])) return true;
    return false;
}

/* The endpoint's cache headers in order (the first present wins) and its value map: nginx's
 * $upstream_cache_status and X-Cache by default. In CDN lists ("HIT, MISS") the first hop
 * counts unless cache_hop is "last". BYPASS and unknown values are "other": the cache was not
 * asked, so they are neither hits nor misses of the hit rate. */
static stats_cache classify_cache(const scn_http_endpoint *ep, const drv_http_resp *r)
{
    for (size_t i = 0; i < ep->ncache_headers; i++) {
        size_t len;
        const char *v = drv_http_resp_header(r, ep->cache_headers[i], &len);
        if (!v) continue;
        if (ep->cache_last_hop) {
            const char *comma = memrchr(v, ',', len);
            if (comma) {
                len -= (size_t)(comma + 1 - v);
                v = comma + 1;
            }
            while (len && (*v == ' ' || *v == '\t')) {
                v++;
                len--;
            }
        }
        size_t n = 0;
        while (n < len && v[n] != ',' && v[n] != ' ' && v[n] != '\t')
            n++;
        if (in_values(v, n, ep->cache_hit_values, ep->ncache_hit_values)) return STATS_CACHE_HIT;
        if (in_values(v, n, ep->cache_miss_values, ep->ncache_miss_values)) return STATS_CACHE_MISS;
        return STATS_CACHE_OTHER;
    }
    return STATS_CACHE_NONE;
}

/* Cold or warm: by the cache header when there is one; without any, cold is the first request
 * for its cache key (the step's cache_key, else its URL) since the last purge action. */
static stats_class classify_class(wk_req *q, const scn_http_step *h, stats_cache cache)
{
    if (cache == STATS_CACHE_HIT) return STATS_WARM;
    if (cache == STATS_CACHE_MISS) return STATS_COLD;
    kset *keys = q->w->run->cold_keys;
    if (cache != STATS_CACHE_NONE || !keys) return STATS_ALL;
    uint64_t hash;
    if (h->has_cache_key) {
        char key[512];
        size_t len = 0;
        if (scn_tpl_expand(&h->cache_key, q->binding, key, sizeof key, &len) < 0) len = 0;
        hash = kset_hash(key, len);
    } else {
        hash = kset_hash(q->buf, strlen(q->buf)); /* the URL expanded for this request */
    }
    return kset_first(keys, hash) ? STATS_COLD : STATS_WARM;
}

/* The value a check looks at, as text in out (NUL-terminated, bounded); false if absent. */
static bool check_subject(wk_req *q, const scn_check *ck, jptr *ptr, const drv_http_resp *r,
                          json_t **doc, bool *parsed, char *out, size_t cap)
{
    switch (ck->subject) {
    case SCN_CHECK_STATUS:
        snprintf(out, cap, "%d", r->status);
        return true;
    case SCN_CHECK_HEADER: {
        size_t len;
        const char *v = drv_http_resp_header(r, ck->target, &len);
        if (!v) return false;
        if (len >= cap) len = cap - 1;
        memcpy(out, v, len);
        out[len] = '\0';
        return true;
    }
    case SCN_CHECK_JSON: {
        if (!*parsed) {
            *parsed = true;
            *doc =
                r->body_truncated ? NULL : json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
        }
        if (!*doc || !ptr) return false;
        json_t *v = jptr_get(ptr, *doc);
        if (!v) return false;
        if (json_is_string(v)) {
            size_t len = json_string_length(v);
            if (len >= cap) len = cap - 1;
            memcpy(out, json_string_value(v), len);
            out[len] = '\0';
        } else {
            /* Compact JSON text ("42", "true", "{...}"), bounded by the buffer. */
            size_t n = json_dumpb(v, out, cap - 1, JSON_COMPACT | JSON_ENCODE_ANY);
            out[n < cap ? n : cap - 1] = '\0';
        }
        (void)q;
        return true;
    }
    }
    return false;
}

static bool run_checks(wk_req *q, const scn_http_step *h, const drv_http_resp *r)
{
    jptr **ptrs = q->w->run->check_ptrs[q->slot];
    json_t *doc = NULL;
    bool parsed = false, ok = true;
    char got[1024], want[1024];
    for (size_t i = 0; ok && i < h->nchecks; i++) {
        const scn_check *ck = &h->checks[i];
        bool present =
            check_subject(q, ck, ptrs ? ptrs[i] : NULL, r, &doc, &parsed, got, sizeof got);
        switch (ck->op) {
        case SCN_OP_EXISTS:
            ok = present == ck->exists;
            break;
        case SCN_OP_MATCHES:
            ok = present && regexec(&ck->regex, got, 0, NULL, 0) == 0;
            break;
        default: {
            size_t wl = 0;
            if (scn_tpl_expand(&ck->value, q->binding, want, sizeof want, &wl) < 0) wl = 0;
            if (ck->op == SCN_OP_EQUALS)
                ok = present && strcmp(got, want) == 0;
            else if (ck->op == SCN_OP_NOT_EQUALS)
                ok = !present || strcmp(got, want) != 0;
            else
                ok = present && strstr(got, want) != NULL;
        }
        }
    }
    json_decref(doc);
    return ok;
}

static void on_http_done(drv_http_req *r, const drv_http_resp *resp, void *ud)
{
    wk_req *q = ud;
    wk_thread *w = q->w;
    const scn_step *st = q->step;
    const scn_http_step *h = &st->u.http;
    const scn_http_endpoint *ep = &w->run->s->endpoints[st->endpoint].u.http;
    drv_kind kind = resp->kind;
    stats_cache cache = STATS_CACHE_NONE;
    stats_class cls = STATS_ALL;
    stats_step *ss = slot_stats(w, q->slot);
    if (kind == DRV_OK) {
        cache = classify_cache(ep, resp);
        cls = classify_class(q, h, cache);
        const brk_config *brk = w->run->opts.breakers;
        if (resp->status == 429 && !scn_status_expected(h, 429)) {
            ss->ratelimited++; /* throttled by design: counted apart, not an error */
        } else if (brk && brk->has_rejection &&
                   brk_is_rejection(brk, resp->status, resp->body, resp->body_len)) {
            ss->breaker_rejections++; /* an open breaker answering: counted apart */
        } else if (!scn_status_expected(h, resp->status)) {
            kind = DRV_ESTATUS;
        } else if (h->nchecks && !run_checks(q, h, resp)) {
            kind = DRV_ECHECK;
        }
    }
    if (resp->body_truncated) ss->body_truncated++;
    if (kind != DRV_OK && ss->nexamples[kind] < STATS_EXAMPLES) {
        char req[STATS_EXAMPLE_TEXT];
        int n = snprintf(req, sizeof req, "%s %s", h->method, drv_http_req_url(r));
        if (n >= (int)sizeof req) n = (int)sizeof req - 1;
        const char *detail = resp->kind == DRV_OK ? resp->body : resp->error;
        size_t dlen =
            resp->kind == DRV_OK ? resp->body_len : strlen(resp->error ? resp->error : "");
        stats_step_example(ss, kind, resp->status, req, n > 0 ? (size_t)n : 0, detail, dlen);
    }
    record(q, resp->t_start_ns, resp->t_done_ns, kind, resp->status, cache, cls, resp->bytes_rx);
    step_next(q);
    kick_waiters(w, st->endpoint);
}

static int expand(wk_req *q, const scn_tpl *t, size_t *off)
{
    size_t need = scn_tpl_length(t, q->binding) + 1;
    if (ensure_buf(q, *off + need) < 0) return CUT_ENOMEM;
    size_t len = 0;
    int rc = scn_tpl_expand(t, q->binding, q->buf + *off, need, &len);
    if (rc < 0) return rc;
    *off += len + 1;
    return 0;
}

static bool header_overridden(const scn_http_step *h, const char *name)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (strcasecmp(h->headers[i].name, name) == 0) return true;
    return false;
}

/* "Name: value" lines: the endpoint's (unless the step sets the same name), the step's, and
 * Content-Type for JSON bodies. Offsets are collected first because buf may move. */
static int build_headers(wk_req *q, const scn_http_endpoint *ep, const scn_http_step *h,
                         size_t *off, size_t *nh, size_t *offs)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        const scn_header *hs = pass ? h->headers : ep->headers;
        size_t count = pass ? h->nheaders : ep->nheaders;
        for (size_t i = 0; i < count; i++) {
            if (!pass && header_overridden(h, hs[i].name)) continue;
            size_t nl = strlen(hs[i].name);
            size_t vl = scn_tpl_length(&hs[i].value, q->binding);
            if (ensure_buf(q, *off + nl + 2 + vl + 1) < 0) return CUT_ENOMEM;
            offs[n++] = *off;
            memcpy(q->buf + *off, hs[i].name, nl);
            memcpy(q->buf + *off + nl, ": ", 2);
            size_t got = 0;
            int rc = scn_tpl_expand(&hs[i].value, q->binding, q->buf + *off + nl + 2, vl + 1, &got);
            if (rc < 0) return rc;
            *off += nl + 2 + got + 1;
        }
    }
    if (h->json_body && !header_overridden(h, "Content-Type")) {
        static const char ct[] = "Content-Type: application/json";
        if (ensure_buf(q, *off + sizeof ct) < 0) return CUT_ENOMEM;
        offs[n++] = *off;
        memcpy(q->buf + *off, ct, sizeof ct);
        *off += sizeof ct;
    }
    *nh = n;
    return 0;
}

/* Accounting at the moment a request is handed to its client. */
static void note_sent(wk_req *q)
{
    wk_thread *w = q->w;
    uint64_t now = uv_hrtime();
    q->sent = now;
    stats_step *st = slot_stats(w, q->slot);
    st->started++;
    res_second *sec = res_phase_second(&w->phase.res, now - w->phase.t0);
    if (sec) sec->started++;
    atomic_fetch_add_explicit(&w->p_started, 1, memory_order_relaxed);
    if (now > q->intended) {
        uint64_t late = (now - q->intended) / 1000;
        if (w->phase.arr) hist_record(w->phase.res.lateness, (int64_t)late);
        if (late > st->scheduled_late_us_max) st->scheduled_late_us_max = late;
    }
}

/* Redis and PostgreSQL sends: CUT_ERANGE means every connection is full (the caller queues);
 * any other failure is counted as an error of the step. */
static int sent_or_failed(wk_req *q, int rc)
{
    if (rc == CUT_ERANGE) return CUT_ERANGE;
    note_sent(q);
    if (rc < 0) {
        record_unsent(q, rc == CUT_ESTATE ? DRV_ECONNECT : DRV_EPROTO);
        step_next(q);
    }
    return 0;
}

/* Returns CUT_ERANGE when every connection slot is busy (nothing done: the caller queues
 * the request), else 0: sent, or failed and counted. */
static int start_http(wk_req *q)
{
    wk_thread *w = q->w;
    const scn_step *st = q->step;
    const scn_http_step *h = &st->u.http;
    const scn_http_endpoint *ep = &w->run->s->endpoints[st->endpoint].u.http;
    drv_http_req *r = drv_http_acquire(w->clients[st->endpoint].http);
    if (!r) return CUT_ERANGE;
    note_sent(q);
    size_t nmax = ep->nheaders + h->nheaders + 1;
    size_t off = 0, url_off = 0, body_off = 0, nh = 0;
    size_t offs_local[64];
    size_t *offs = nmax <= 64 ? offs_local : NULL;
    int rc = offs ? 0 : CUT_EINVAL;
    if (rc == 0) rc = ensure_ptrs(q, nmax);
    if (rc == 0) rc = expand(q, &h->url, &off);
    if (rc == 0) rc = build_headers(q, ep, h, &off, &nh, offs);
    body_off = off;
    if (rc == 0 && h->has_body) rc = expand(q, &h->body, &off);
    if (rc == 0) {
        for (size_t i = 0; i < nh; i++)
            q->ptrs[i] = q->buf + offs[i];
        size_t url_len = strlen(q->buf + url_off);
        size_t body_len = h->has_body ? off - body_off - 1 : 0;
        rc = drv_http_req_set(r, h->method, q->buf + url_off, url_len, q->ptrs, nh,
                              h->has_body ? q->buf + body_off : NULL, body_len, NULL);
    }
    if (rc == 0) {
        drv_http_req_timeout(r, (uint64_t)st->timeout_ns);
        rc = drv_http_start(r, on_http_done, q);
    }
    if (rc < 0) {
        /* A URL or header the client refuses (control bytes from data, say). */
        drv_http_release(r);
        record_unsent(q, DRV_EPROTO);
        step_next(q);
    }
    return 0;
}

/* ---- Redis ------------------------------------------------------------------------------ */

static void on_redis_done(drv_redis *c, const drv_redis_resp *resp, void *ud)
{
    (void)c;
    wk_req *q = ud;
    uint64_t bytes = 0;
    if (resp->reply && resp->reply->type == REDIS_REPLY_STRING) bytes = resp->reply->len;
    if (resp->kind != DRV_OK) {
        const scn_redis_step *rs = &q->step->u.redis;
        char req[STATS_EXAMPLE_TEXT];
        /* The command and its first argument (the key): enough to find it, no values. */
        int n = snprintf(req, sizeof req, "%s %s", q->ptrs[0], rs->argc > 1 ? q->ptrs[1] : "");
        if (n >= (int)sizeof req) n = (int)sizeof req - 1;
        stats_step_example(slot_stats(q->w, q->slot), resp->kind, 0, req, n > 0 ? (size_t)n : 0,
                           resp->errmsg, strlen(resp->errmsg ? resp->errmsg : ""));
    }
    record(q, resp->t_start_ns, resp->t_done_ns, resp->kind, 0, STATS_CACHE_NONE, STATS_ALL, bytes);
    wk_thread *w = q->w;
    uint32_t ep = q->step->endpoint;
    step_next(q);
    kick_waiters(w, ep);
}

/* A command without variables is formatted once per thread and step, then sent as is
 * (PERF_NOTES: formatting is most of the client's CPU at depth 16). NULL if not literal. */
static const char *preformatted(wk_req *q, const scn_redis_step *rs, size_t *len)
{
    wk_thread *w = q->w;
    for (size_t i = 0; i < rs->argc; i++)
        if (!rs->argv[i].literal) return NULL;
    if (ensure_ptrs(q, rs->argc) < 0) return NULL;
    for (size_t i = 0; i < rs->argc; i++) {
        q->ptrs[i] = rs->argv[i].text;
        q->lens[i] = rs->argv[i].len;
    }
    if (!w->redis_pre[q->slot]) {
        size_t need = drv_redis_format(NULL, 0, (int)rs->argc, q->ptrs, q->lens);
        char *buf = malloc(need + 1);
        if (!buf) return NULL;
        drv_redis_format(buf, need + 1, (int)rs->argc, q->ptrs, q->lens);
        w->redis_pre[q->slot] = buf;
        w->redis_pre_len[q->slot] = need;
    }
    *len = w->redis_pre_len[q->slot];
    return w->redis_pre[q->slot];
}

static int start_redis(wk_req *q)
{
    wk_thread *w = q->w;
    const scn_redis_step *rs = &q->step->u.redis;
    size_t pre_len;
    const char *pre = preformatted(q, rs, &pre_len);
    if (pre)
        return sent_or_failed(
            q, drv_redis_send(w->clients[q->step->endpoint].redis, pre, pre_len, on_redis_done, q));
    size_t off = 0;
    size_t offs_local[64];
    int rc = rs->argc <= 64 ? ensure_ptrs(q, rs->argc) : CUT_EINVAL;
    for (size_t i = 0; rc == 0 && i < rs->argc; i++) {
        offs_local[i] = off;
        rc = expand(q, &rs->argv[i], &off);
        if (rc == 0) q->lens[i] = off - offs_local[i] - 1;
    }
    if (rc == 0) {
        for (size_t i = 0; i < rs->argc; i++)
            q->ptrs[i] = q->buf + offs_local[i];
        size_t need = drv_redis_format(NULL, 0, (int)rs->argc, q->ptrs, q->lens);
        if (ensure_buf(q, off + need + 1) < 0)
            rc = CUT_ENOMEM;
        else {
            for (size_t i = 0; i < rs->argc; i++)
                q->ptrs[i] = q->buf + offs_local[i];
            /* +1: hiredis 0.14 reads the byte after a command; the formatter puts a NUL there. */
            drv_redis_format(q->buf + off, need + 1, (int)rs->argc, q->ptrs, q->lens);
            rc = drv_redis_send(w->clients[q->step->endpoint].redis, q->buf + off, need,
                                on_redis_done, q);
        }
    }
    return sent_or_failed(q, rc);
}

/* ---- PostgreSQL ------------------------------------------------------------------------- */

static void on_pg_done(drv_pg *c, const drv_pg_resp *resp, void *ud)
{
    (void)c;
    wk_req *q = ud;
    if (resp->kind != DRV_OK) {
        char detail[STATS_EXAMPLE_TEXT];
        const char *msg = resp->errmsg ? resp->errmsg : "";
        int n = resp->sqlstate[0]
                    ? snprintf(detail, sizeof detail, "SQLSTATE %s: %s", resp->sqlstate, msg)
                    : snprintf(detail, sizeof detail, "%s", msg);
        if (n >= (int)sizeof detail) n = (int)sizeof detail - 1;
        stats_step_example(slot_stats(q->w, q->slot), resp->kind, 0, q->step->name,
                           strlen(q->step->name), detail, n > 0 ? (size_t)n : 0);
    }
    record(q, resp->t_start_ns, resp->t_done_ns, resp->kind, 0, STATS_CACHE_NONE, STATS_ALL, 0);
    wk_thread *w = q->w;
    uint32_t ep = q->step->endpoint;
    step_next(q);
    kick_waiters(w, ep);
}

static int start_sql(wk_req *q)
{
    wk_thread *w = q->w;
    const scn_sql_step *ss = &q->step->u.sql;
    size_t off = 0;
    size_t offs_local[64];
    int rc = ss->nparams <= 64 ? ensure_ptrs(q, ss->nparams ? ss->nparams : 1) : CUT_EINVAL;
    for (size_t i = 0; rc == 0 && i < ss->nparams; i++) {
        offs_local[i] = off;
        rc = expand(q, &ss->params[i], &off);
    }
    if (rc == 0) {
        for (size_t i = 0; i < ss->nparams; i++)
            q->ptrs[i] = q->buf + offs_local[i];
        rc = drv_pg_send(w->clients[q->step->endpoint].pg, w->pg_stmt[q->slot], (int)ss->nparams,
                         q->ptrs, NULL, on_pg_done, q);
    }
    return sent_or_failed(q, rc);
}

static int start_any(wk_req *q)
{
    switch (q->step->kind) {
    case SCN_STEP_HTTP:
        return start_http(q);
    case SCN_STEP_REDIS:
        return start_redis(q);
    case SCN_STEP_SQL:
        return start_sql(q);
    }
    return 0;
}

/* Open model: a request that waited for a connection longer than max_lag past its intended
 * start is dropped, not sent (SCENARIO.md section 2). */
static bool too_late(wk_req *q, uint64_t now)
{
    const wk_phase *p = &q->w->phase;
    if (!p->arr) return false;
    uint64_t lag = p->ph->max_lag_ns > 0 ? (uint64_t)p->ph->max_lag_ns : SCHED_MAX_LAG_DEFAULT_NS;
    return now > q->intended && now - q->intended > lag;
}

static void wait_push(wk_client *cl, wk_req *q, bool front)
{
    q->next_wait = NULL;
    if (!cl->wait_head) {
        cl->wait_head = cl->wait_tail = q;
    } else if (front) {
        q->next_wait = cl->wait_head;
        cl->wait_head = q;
    } else {
        cl->wait_tail->next_wait = q;
        cl->wait_tail = q;
    }
}

static wk_req *wait_pop(wk_client *cl)
{
    wk_req *q = cl->wait_head;
    if (q) {
        cl->wait_head = q->next_wait;
        if (!cl->wait_head) cl->wait_tail = NULL;
        q->next_wait = NULL;
    }
    return q;
}

static void step_start(wk_req *q)
{
    wk_thread *w = q->w;
    q->step = phase_step(w, q->flow_pos, &q->slot);
    wk_client *cl = &w->clients[q->step->endpoint];
    /* Keep order: nobody overtakes requests already waiting for this endpoint. */
    if (cl->wait_head || start_any(q) == CUT_ERANGE) wait_push(cl, q, false);
}

/* Runs one loop turn after a completion freed capacity: starts waiting requests in order. */
static void on_serve(uv_idle_t *h)
{
    wk_thread *w = h->data;
    uv_idle_stop(h);
    const scn_scenario *s = w->run->s;
    uint64_t now = uv_hrtime();
    for (size_t e = 0; e < s->nendpoints; e++) {
        wk_client *cl = &w->clients[e];
        wk_req *q;
        while ((q = wait_pop(cl)) != NULL) {
            if (too_late(q, now)) {
                exec_drop(w, q->slot, true);
                exec_iteration_done(q);
                continue;
            }
            if (start_any(q) == CUT_ERANGE) {
                wait_push(cl, q, true);
                break;
            }
        }
    }
}

static void kick_waiters(wk_thread *w, uint32_t endpoint)
{
    if (w->clients[endpoint].wait_head && !uv_is_active((uv_handle_t *)&w->serve))
        uv_idle_start(&w->serve, on_serve);
}

void req_drop_waiting(wk_thread *w)
{
    const scn_scenario *s = w->run->s;
    for (size_t e = 0; e < s->nendpoints; e++) {
        wk_req *q;
        while ((q = wait_pop(&w->clients[e])) != NULL) {
            exec_drop(w, q->slot, false);
            exec_iteration_done(q);
        }
    }
}

void req_serve_init(wk_thread *w)
{
    uv_idle_init(&w->loop, &w->serve);
    w->serve.data = w;
}
