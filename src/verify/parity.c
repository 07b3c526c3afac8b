/* parity.c - runs the parity section: every request to base, candidate (and base2) at once,
 * `concurrency` requests in flight, responses compared as they complete (parity.h).
 *
 * One loop in the calling thread. Callbacks only copy what arrived into the item; the
 * comparison and the start of the next item happen between loop turns, so a completing slot
 * is always back in its pool before a new request needs one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/http.h"
#include "verify/parity_int.h"
#include "verify/vfy_util.h"

#define NSIDES 3
#define LABEL_MAX 512
static const char *const side_name[NSIDES] = {"base", "candidate", "base2"};

typedef struct item item;
typedef struct prun prun;

typedef struct pf_ud {
    prun *r;
    size_t w;
} pf_ud;

typedef struct side {
    item *it;
    bool used, done;
    drv_kind kind;
    char err[200];
    int status;
    char *body;
    size_t len, cap;
    bool truncated, cached;
    char **hv; /* compared header values (NUL-terminated copies), NULL when absent */
} side;

struct item {
    prun *run;
    bool busy;
    uint64_t k;
    size_t req;
    size_t pending;
    char label[LABEL_MAX];
    side s[NSIDES];
};

struct prun {
    const scn_scenario *s;
    par_cfg cfg;
    uv_loop_t loop;
    bool loop_ok;
    drv_http *c[NSIDES]; /* c[2] may equal c[0] (second_base_call) */
    const scn_endpoint *ep[NSIDES];
    size_t nsides;
    item *items;
    size_t nitems;
    uint64_t next, finished;
    size_t inflight, closing;
    par_acc *acc;
    jdiff_opts *jo;
    jdiff *jd;
    size_t excerpt;
    bool allow_additions;
    scn_value *binding;
    char (*scratch)[SCN_SCRATCH];
    /* preflight: ud lives here, callbacks may fire during teardown */
    pf_ud pf[NSIDES];
    size_t pf_pending;
    int pf_failed;
    char pf_msg[CUT_ERR_MSG_MAX];
};

/* ---- helpers ----------------------------------------------------------------------------------
 */

static int copy_bytes(char **dst, size_t *cap, const char *src, size_t n)
{
    if (n + 1 > *cap) {
        char *p = realloc(*dst, n + 1);
        if (!p) return CUT_ENOMEM;
        *dst = p;
        *cap = n + 1;
    }
    if (n) memcpy(*dst, src, n);
    (*dst)[n] = '\0';
    return 0;
}

/* Expands t into a new malloc'd string (NULL on failure). */
static char *expand(prun *r, const scn_tpl *t, size_t *len)
{
    size_t n = scn_tpl_length(t, r->binding);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (scn_tpl_expand(t, r->binding, out, n + 1, len) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

static bool uses_header(const par_req *q, const char *name)
{
    for (size_t i = 0; i < q->nh; i++)
        if (strcasecmp(q->hnames[i], name) == 0) return true;
    return false;
}

static void fill_binding(prun *r, uint64_t combo)
{
    const scn_scenario *s = r->s;
    uint64_t rows[64] = {0};
    size_t n = r->cfg.nover < 64 ? r->cfg.nover : 64;
    /* The first set varies slowest, like an iterations phase's `over`. */
    for (size_t i = n; i-- > 0;) {
        uint64_t nr = s->data[r->cfg.over[i]].rows;
        rows[i] = combo % nr;
        combo /= nr;
    }
    for (size_t v = 0; v < s->nvars; v++) {
        r->binding[v] = (scn_value){"", 0};
        for (size_t i = 0; i < n; i++) {
            if (r->cfg.over[i] != s->vars[v].set) continue;
            scn_data_value(&s->data[s->vars[v].set], rows[i], s->vars[v].column, r->scratch[v],
                           &r->binding[v]);
        }
    }
}

/* ---- callbacks --------------------------------------------------------------------------------
 */

static bool cache_hit(const scn_http_endpoint *h, const drv_http_resp *resp)
{
    for (size_t i = 0; i < h->ncache_headers; i++) {
        size_t len = 0;
        const char *v = drv_http_resp_header(resp, h->cache_headers[i], &len);
        if (!v) continue;
        /* nginx: HIT, STALE, UPDATING, REVALIDATED all answered from the cache. */
        if ((len >= 3 && strncasecmp(v, "HIT", 3) == 0) ||
            (len == 5 && strncasecmp(v, "STALE", 5) == 0) ||
            (len == 8 && strncasecmp(v, "UPDATING", 8) == 0) ||
            (len == 11 && strncasecmp(v, "REVALIDATED", 11) == 0))
            return true;
    }
    return false;
}

static void on_resp(drv_http_req *req, const drv_http_resp *resp, void *ud)
{
    side *sd = ud;
    item *it = sd->it;
    prun *r = it->run;
    size_t w = (size_t)(sd - it->s);
    (void)req;
    sd->done = true;
    sd->kind = resp->kind;
    sd->status = resp->status;
    if (resp->kind != DRV_OK) {
        snprintf(sd->err, sizeof(sd->err), "%s: %.160s", drv_kind_name(resp->kind),
                 resp->error ? resp->error : "");
    } else if (resp->body_truncated) {
        snprintf(sd->err, sizeof(sd->err), "body of %llu bytes is over the endpoint's max_body",
                 (unsigned long long)resp->body_total);
        sd->truncated = true;
    } else if (copy_bytes(&sd->body, &sd->cap, resp->body, resp->body_len) < 0) {
        snprintf(sd->err, sizeof(sd->err), "out of memory");
        sd->kind = DRV_EPROTO;
    } else {
        sd->len = resp->body_len;
        sd->cached = cache_hit(&r->ep[w]->u.http, resp);
        for (size_t h = 0; h < r->cfg.ncmp_headers; h++) {
            size_t len = 0;
            const char *v = drv_http_resp_header(resp, r->cfg.cmp_headers[h], &len);
            free(sd->hv[h]);
            sd->hv[h] = v ? strndup(v, len) : NULL;
        }
    }
    it->pending--;
    r->inflight--;
}

static void on_preflight(drv_http_req *req, const drv_http_resp *resp, void *ud)
{
    pf_ud *u = ud;
    prun *r = u->r;
    size_t w = u->w;
    (void)req;
    if (resp->kind != DRV_OK && !r->pf_failed) {
        r->pf_failed = 1;
        snprintf(r->pf_msg, sizeof(r->pf_msg), "parity: endpoint '%s' (%s) cannot be reached: %s",
                 r->ep[w]->name, r->ep[w]->u.http.base_url_display, drv_kind_name(resp->kind));
    }
    r->pf_pending--;
}

static void on_closed(void *ud)
{
    ((prun *)ud)->closing--;
}

/* ---- one item ------------------------------------------------------------------------------- */

/* Sets and starts side w of it. Returns 0 or an error text in sd->err (not started). */
static int start_side(prun *r, item *it, size_t w, const char *url, size_t ulen, const char *body,
                      size_t blen)
{
    const par_req *q = &r->cfg.reqs[it->req];
    const scn_http_endpoint *h = &r->ep[w]->u.http;
    side *sd = &it->s[w];
    size_t nh = 0, cap = h->nheaders + q->nh + 1;
    char **hdr = calloc(cap, sizeof(*hdr));
    int rc = CUT_ENOMEM;
    cut_err e = {0};
    if (!hdr) goto fail;
    /* Each deployment keeps its own endpoint headers; the request's headers win. */
    for (size_t i = 0; i < h->nheaders; i++) {
        if (uses_header(q, h->headers[i].name)) continue;
        size_t vl = 0;
        char *v = expand(r, &h->headers[i].value, &vl);
        if (!v || asprintf(&hdr[nh], "%s: %s", h->headers[i].name, v) < 0) {
            free(v);
            goto fail;
        }
        free(v);
        nh++;
    }
    for (size_t i = 0; i < q->nh; i++) {
        size_t vl = 0;
        char *v = expand(r, &q->hvals[i], &vl);
        if (!v || asprintf(&hdr[nh], "%s: %s", q->hnames[i], v) < 0) {
            free(v);
            goto fail;
        }
        free(v);
        nh++;
    }
    if (q->json_body && !uses_header(q, "Content-Type")) {
        hdr[nh] = strdup("Content-Type: application/json");
        if (!hdr[nh++]) goto fail;
    }
    drv_http_req *slot = drv_http_acquire(r->c[w]);
    if (!slot) {
        rc = CUT_ESTATE;
        snprintf(sd->err, sizeof(sd->err), "no free request slot");
        goto fail;
    }
    rc = drv_http_req_set(slot, q->method, url, ulen, (const char *const *)hdr, nh, body, blen, &e);
    if (rc == 0) rc = drv_http_start(slot, on_resp, sd);
    if (rc < 0) {
        drv_http_release(slot);
        snprintf(sd->err, sizeof(sd->err), "%.190s", e.msg);
        goto fail;
    }
    r->inflight++;
    it->pending++;
fail:
    if (rc == CUT_ENOMEM) snprintf(sd->err, sizeof(sd->err), "out of memory");
    for (size_t i = 0; hdr && i < nh; i++)
        free(hdr[i]);
    free(hdr);
    return rc;
}

static void start_item(prun *r, item *it, uint64_t k)
{
    const par_cfg *cfg = &r->cfg;
    it->busy = true;
    it->k = k;
    it->req = (size_t)(k % cfg->nreqs);
    it->pending = 0;
    for (size_t w = 0; w < NSIDES; w++) {
        side *sd = &it->s[w];
        sd->used = w < r->nsides;
        sd->done = !sd->used;
        sd->kind = DRV_OK;
        sd->err[0] = '\0';
        sd->status = 0;
        sd->len = 0;
        sd->truncated = sd->cached = false;
        for (size_t h = 0; h < cfg->ncmp_headers; h++) {
            free(sd->hv[h]);
            sd->hv[h] = NULL;
        }
    }
    fill_binding(r, k / cfg->nreqs);
    const par_req *q = &cfg->reqs[it->req];
    size_t ulen = 0, blen = 0;
    char *url = expand(r, &q->url, &ulen);
    char *body = q->has_body ? expand(r, &q->body, &blen) : NULL;
    snprintf(it->label, sizeof(it->label), "%s %s", q->method, url ? url : "?");
    for (size_t w = 0; w < r->nsides; w++) {
        if (!url || (q->has_body && !body)) {
            snprintf(it->s[w].err, sizeof(it->s[w].err), "out of memory");
            it->s[w].kind = DRV_EPROTO;
            it->s[w].done = true;
        } else if (start_side(r, it, w, url, ulen, body, blen) < 0) {
            it->s[w].kind = DRV_EPROTO;
            it->s[w].done = true;
        }
    }
    free(url);
    free(body);
}

static bool hval_ignored(const par_cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nignore_hvals; i++)
        if (strcmp(cfg->ignore_hvals[i], name) == 0) return true;
    return false;
}

/* Status and chosen headers of a against b, as raw (noise false) or noise differences. */
static int cmp_meta(prun *r, const side *a, const side *b, bool noise, bool *status_diff)
{
    const par_cfg *cfg = &r->cfg;
    int rc = 0;
    if (cfg->cmp_status && a->status != b->status) {
        char x[16], y[16];
        snprintf(x, sizeof(x), "%d", a->status);
        snprintf(y, sizeof(y), "%d", b->status);
        if (status_diff) *status_diff = true;
        rc = noise ? par__acc_noise(r->acc, "status", 6)
                   : par__acc_raw(r->acc, JDIFF_VALUE, "status", 6, "status", 6, x, y, false);
    }
    for (size_t h = 0; rc == 0 && h < cfg->ncmp_headers; h++) {
        const char *x = a->hv[h], *y = b->hv[h];
        jdiff_kind kind;
        if (x && !y)
            kind = JDIFF_MISSING;
        else if (!x && y && !r->allow_additions)
            kind = JDIFF_EXTRA;
        else if (x && y && strcmp(x, y) != 0 && !hval_ignored(cfg, cfg->cmp_headers[h]))
            kind = JDIFF_VALUE;
        else
            continue;
        char f[300];
        int n = snprintf(f, sizeof(f), "header:%s", cfg->cmp_headers[h]);
        size_t fl = n < (int)sizeof(f) ? (size_t)n : sizeof(f) - 1;
        bool t1 = false, t2 = false;
        json_t *e1 = x ? vfy_text_json(x, strlen(x), r->excerpt, &t1) : NULL;
        json_t *e2 = y ? vfy_text_json(y, strlen(y), r->excerpt, &t2) : NULL;
        rc = noise ? par__acc_noise(r->acc, f, fl)
                   : par__acc_raw(r->acc, kind, f, fl, f, fl, e1 ? json_string_value(e1) : NULL,
                                  e2 ? json_string_value(e2) : NULL, t1 || t2);
        json_decref(e1);
        json_decref(e2);
    }
    return rc;
}

static int finish_item(prun *r, item *it, cut_err *err)
{
    it->busy = false;
    r->finished++;
    size_t route = it->req;
    for (size_t w = 0; w < r->nsides; w++) {
        const side *sd = &it->s[w];
        if (sd->kind != DRV_OK || sd->truncated || sd->err[0])
            return par__acc_error(r->acc, it->label, route, side_name[w], sd->err);
    }
    for (size_t w = 0; w < r->nsides; w++)
        if (it->s[w].cached) par__acc_cached(r->acc);
    const side *b = &it->s[0], *c = &it->s[1], *b2 = r->nsides > 2 ? &it->s[2] : NULL;
    bool sdiff = false;
    int rc = par__acc_begin(r->acc, it->label, route);
    if (rc == 0) rc = cmp_meta(r, b, c, false, &sdiff);
    if (rc == 0 && b2) rc = cmp_meta(r, b, b2, true, NULL);
    if (rc == 0)
        rc = par__cmp_bodies(r->acc, r->jd, false, b->body, b->len, c->body, c->len, r->excerpt,
                             err);
    if (rc == 0 && b2)
        rc = par__cmp_bodies(r->acc, r->jd, true, b->body, b->len, b2->body, b2->len, r->excerpt,
                             err);
    if (rc == 0) rc = par__acc_end(r->acc, sdiff);
    if (rc < 0 && !err->msg[0]) cut_err_set(err, rc, "parity: cannot record a comparison");
    return rc;
}

/* ---- setup and teardown --------------------------------------------------------------------- */

static int open_clients(prun *r, size_t conc, cut_err *err)
{
    for (size_t w = 0; w < r->nsides; w++) {
        if (w == 2 && r->ep[2] == r->ep[0]) {
            r->c[2] = r->c[0]; /* one client, twice the slots */
            continue;
        }
        const scn_http_endpoint *h = &r->ep[w]->u.http;
        drv_http_opts o = {0};
        o.base_url = h->base_url;
        o.max_connections = h->max_connections;
        o.slots = (unsigned)(w == 0 && r->nsides > 2 && r->ep[2] == r->ep[0] ? 2 * conc : conc);
        o.timeout_ns = (uint64_t)h->timeout_ns;
        o.connect_timeout_ns = (uint64_t)h->connect_timeout_ns;
        o.max_body = h->max_body;
        int rc = drv_http_new(&r->c[w], &r->loop, &o, err);
        if (rc < 0) {
            cut_err_prefix(err, "parity: endpoint '%s' (%s): ", r->ep[w]->name,
                           h->base_url_display);
            return rc;
        }
    }
    return 0;
}

static int preflight(prun *r, cut_err *err)
{
    for (size_t w = 0; w < r->nsides; w++) {
        if (w == 2 && r->c[2] == r->c[0]) continue;
        r->pf[w] = (pf_ud){r, w};
        int rc = drv_http_preflight(r->c[w], NULL, on_preflight, &r->pf[w]);
        if (rc < 0) {
            cut_err_set(err, CUT_ECONNECT, "parity: endpoint '%s' (%s): preflight failed",
                        r->ep[w]->name, r->ep[w]->u.http.base_url_display);
            break;
        }
        r->pf_pending++;
    }
    int rc = vfy_run_until(&r->loop, &r->pf_pending, 0);
    if (err->code) return err->code;
    if (rc < 0) return cut_err_set(err, CUT_ECONNECT, "parity: preflight did not complete");
    if (r->pf_failed) return cut_err_set(err, CUT_ECONNECT, "%s", r->pf_msg);
    return 0;
}

static void teardown(prun *r)
{
    for (size_t w = 0; w < NSIDES; w++) {
        if (!r->c[w] || (w == 2 && r->c[2] == r->c[0])) continue;
        r->closing++;
        drv_http_close(r->c[w], on_closed, r);
    }
    if (r->loop_ok) {
        vfy_run_until(&r->loop, &r->closing, 0);
        uv_run(&r->loop, UV_RUN_NOWAIT);
        uv_loop_close(&r->loop);
    }
    for (size_t i = 0; r->items && i < r->nitems; i++) {
        for (size_t w = 0; w < NSIDES; w++) {
            side *sd = &r->items[i].s[w];
            for (size_t h = 0; sd->hv && h < r->cfg.ncmp_headers; h++)
                free(sd->hv[h]);
            free(sd->hv);
            free(sd->body);
        }
    }
    free(r->items);
    free(r->binding);
    free(r->scratch);
    jdiff_free(r->jd);
    jdiff_opts_free(r->jo);
    par__acc_free(r->acc);
    par__cfg_free(&r->cfg);
}

static void progress(prun *r, const par_opts *o, double *last, bool final)
{
    if (!o || o->quiet || o->progress_fd < 0) return;
    double now = vfy_now_s();
    if (!final && now - *last < 1.0) return;
    *last = now;
    dprintf(o->progress_fd, "parity: %llu/%llu requests compared\n",
            (unsigned long long)r->finished, (unsigned long long)r->cfg.total);
}

int par_run(const scn_scenario *s, const par_opts *o, json_t **out, cut_err *err)
{
    prun *r = calloc(1, sizeof(*r));
    const char **routes = NULL;
    cut_err local = {0};
    int rc = CUT_ENOMEM;
    if (!err) err = &local;
    cut_err_clear(err);
    *out = NULL;
    if (!r) return cut_err_set(err, CUT_ENOMEM, "parity: out of memory");
    if (!s->parity) {
        free(r);
        return 0;
    }
    r->s = s;
    scn_diags d;
    scn_diags_init(&d);
    rc = par__cfg_build(s, &r->cfg, &d);
    if (rc < 0) {
        cut_err_set(err, rc, "%s", d.count ? d.lines[0] : "parity: invalid section");
        scn_diags_free(&d);
        goto fail;
    }
    scn_diags_free(&d);
    const par_cfg *cfg = &r->cfg;
    size_t conc = o && o->concurrency ? o->concurrency : cfg->concurrency;
    if (conc > PAR_MAX_CONCURRENCY) conc = PAR_MAX_CONCURRENCY;
    if (conc > cfg->total) conc = (size_t)cfg->total;
    if (conc == 0) conc = 1;
    r->ep[0] = cfg->base;
    r->ep[1] = cfg->cand;
    r->ep[2] = cfg->base2;
    r->nsides = cfg->base2 ? 3 : 2;
    r->nitems = conc;
    rc = CUT_ENOMEM;
    r->items = calloc(conc, sizeof(*r->items));
    r->binding = calloc(s->nvars + 1, sizeof(*r->binding));
    r->scratch = calloc(s->nvars + 1, sizeof(*r->scratch));
    routes = calloc(cfg->nreqs, sizeof(*routes));
    if (!r->items || !r->binding || !r->scratch || !routes) goto fail;
    for (size_t i = 0; i < conc; i++) {
        r->items[i].run = r;
        for (size_t w = 0; w < NSIDES; w++) {
            r->items[i].s[w].it = &r->items[i];
            r->items[i].s[w].hv = calloc(cfg->ncmp_headers + 1, sizeof(char *));
            if (!r->items[i].s[w].hv) goto fail;
        }
    }
    for (size_t i = 0; i < cfg->nreqs; i++)
        routes[i] = cfg->reqs[i].name ? cfg->reqs[i].name : "?";
    if ((rc = par__acc_new(&r->acc, cfg->max_examples, routes, cfg->nreqs)) < 0) goto fail;
    if ((rc = jdiff_opts_from_json(cfg->jdiff_spec, &r->jo, err)) < 0) goto fail;
    if ((rc = jdiff_new(r->jo, &r->jd, err)) < 0) goto fail;
    json_t *ex = json_object_get(cfg->jdiff_spec, "excerpt_bytes");
    r->excerpt = json_is_integer(ex) && json_integer_value(ex) >= 8 ? (size_t)json_integer_value(ex)
                                                                    : JDIFF_DEFAULT_EXCERPT;
    const char *add = json_string_value(json_object_get(cfg->jdiff_spec, "additions"));
    r->allow_additions = add && strcmp(add, "allow") == 0;

    if (uv_loop_init(&r->loop) != 0) {
        rc = cut_err_set(err, CUT_EIO, "parity: cannot create an event loop");
        goto fail;
    }
    r->loop_ok = true;
    if ((rc = open_clients(r, conc, err)) < 0) goto fail;
    if ((rc = preflight(r, err)) < 0) goto fail;

    double t0 = vfy_now_s(), last = t0;
    while (r->finished < cfg->total) {
        for (size_t i = 0; i < r->nitems && r->next < cfg->total; i++)
            if (!r->items[i].busy) start_item(r, &r->items[i], r->next++);
        if (r->inflight > 0) uv_run(&r->loop, UV_RUN_ONCE);
        for (size_t i = 0; i < r->nitems; i++) {
            item *it = &r->items[i];
            if (it->busy && it->pending == 0 && (rc = finish_item(r, it, err)) < 0) goto fail;
        }
        progress(r, o, &last, false);
    }
    progress(r, o, &last, true);
    if ((rc = par__acc_result(r->acc, cfg->rel, cfg->abs, out, err)) < 0) goto fail;
    json_object_set_new(*out, "base", json_string(cfg->base->name));
    json_object_set_new(*out, "candidate", json_string(cfg->cand->name));
    json_object_set_new(*out, "base2", cfg->base2 ? json_string(cfg->base2->name) : json_null());
    json_object_set_new(*out, "seconds", json_real(vfy_now_s() - t0));
    rc = 0;
fail:
    if (rc < 0 && !err->code) cut_err_set(err, rc, "parity: out of memory");
    teardown(r);
    free(routes);
    free(r);
    return rc;
}
