/* parity_acc.c - per-field raw and noise counts, examples, and the result object (parity.h).
 *
 * Fields are interned in a hash table keyed by their canonical path. Each request remembers
 * the ids of the fields it differed in, so "mismatched" can be decided at the end, once it is
 * known which fields are noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verify/parity_int.h"
#include "verify/vfy_util.h"

typedef struct field {
    char *path;
    size_t len;
    uint64_t raw, noise;
    uint64_t kinds[JDIFF_NKINDS];
    uint64_t raw_req, noise_req; /* serial+1 of the last request counted (once per request) */
    json_t *examples;
} field;

typedef struct reqrec {
    uint32_t route;
    uint32_t nfields;
    size_t first; /* index into fids */
} reqrec;

typedef struct route {
    uint64_t requests, mismatched, errors;
} route;

struct par_acc {
    uint32_t max_examples;
    field *f;
    size_t nf, capf;
    uint32_t *tab; /* field index + 1; 0 = empty */
    size_t tabcap;
    reqrec *r;
    size_t nr, capr;
    uint32_t *fids;
    size_t nfids, capfids;
    const char *const *route_names;
    route *routes;
    size_t nroutes;
    /* the request being accumulated */
    bool open;
    uint64_t serial;
    const char *label;
    size_t cur_route;
    size_t cur_first;
    uint64_t errors, status_mismatches, cached;
    json_t *error_examples;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q) return CUT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

int par__acc_new(par_acc **out, uint32_t max_examples, const char *const *routes, size_t nroutes)
{
    par_acc *a = calloc(1, sizeof(*a));
    if (!a) return CUT_ENOMEM;
    a->max_examples = max_examples;
    a->route_names = routes;
    a->nroutes = nroutes;
    a->routes = calloc(nroutes ? nroutes : 1, sizeof(*a->routes));
    a->error_examples = json_array();
    if (!a->routes || !a->error_examples) {
        par__acc_free(a);
        return CUT_ENOMEM;
    }
    *out = a;
    return 0;
}

void par__acc_free(par_acc *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->nf; i++) {
        free(a->f[i].path);
        json_decref(a->f[i].examples);
    }
    free(a->f);
    free(a->tab);
    free(a->r);
    free(a->fids);
    free(a->routes);
    json_decref(a->error_examples);
    free(a);
}

static size_t bucket(const char *p, size_t n, size_t cap)
{
    return (size_t)vfy_hash64(p, n, 0) & (cap - 1);
}

static int rehash(par_acc *a)
{
    size_t cap = a->tabcap ? a->tabcap * 2 : 256;
    uint32_t *t = calloc(cap, sizeof(*t));
    if (!t) return CUT_ENOMEM;
    for (size_t i = 0; i < a->nf; i++) {
        size_t j = bucket(a->f[i].path, a->f[i].len, cap);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = (uint32_t)i + 1;
    }
    free(a->tab);
    a->tab = t;
    a->tabcap = cap;
    return 0;
}

/* The field for path (created when new), or NULL on allocation failure. */
static field *intern(par_acc *a, const char *p, size_t n)
{
    if ((a->nf + 1) * 2 > a->tabcap && rehash(a) < 0) return NULL;
    size_t j = bucket(p, n, a->tabcap);
    while (a->tab[j]) {
        field *f = &a->f[a->tab[j] - 1];
        if (f->len == n && memcmp(f->path, p, n) == 0) return f;
        j = (j + 1) & (a->tabcap - 1);
    }
    if (grow((void **)&a->f, &a->capf, a->nf + 1, sizeof(*a->f)) < 0) return NULL;
    field *f = &a->f[a->nf];
    memset(f, 0, sizeof(*f));
    f->path = malloc(n + 1);
    f->examples = json_array();
    if (!f->path || !f->examples) {
        free(f->path);
        json_decref(f->examples);
        return NULL;
    }
    memcpy(f->path, p, n);
    f->path[n] = '\0';
    f->len = n;
    a->tab[j] = (uint32_t)++a->nf;
    return f;
}

int par__acc_begin(par_acc *a, const char *label, size_t route)
{
    if (a->open || route >= a->nroutes) return CUT_ESTATE;
    a->open = true;
    a->serial++;
    a->label = label;
    a->cur_route = route;
    a->cur_first = a->nfids;
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

int par__acc_raw(par_acc *a, jdiff_kind kind, const char *fld, size_t flen, const char *path,
                 size_t plen, const char *base, const char *cand, bool truncated)
{
    if (!a->open || (unsigned)kind >= JDIFF_NKINDS) return CUT_ESTATE;
    field *f = intern(a, fld, flen);
    if (!f) return CUT_ENOMEM;
    f->kinds[kind]++;
    if (f->raw_req == a->serial) return 0;
    f->raw_req = a->serial;
    f->raw++;
    if (grow((void **)&a->fids, &a->capfids, a->nfids + 1, sizeof(*a->fids)) < 0) return CUT_ENOMEM;
    a->fids[a->nfids++] = (uint32_t)(f - a->f);
    if (json_array_size(f->examples) >= a->max_examples) return 0;
    json_t *ex =
        json_pack("{s:s, s:s%, s:s, s:o, s:o, s:b}", "request", a->label ? a->label : "", "path",
                  path, plen, "kind", jdiff_kind_name(kind), "base", str_or_null(base), "candidate",
                  str_or_null(cand), "truncated", truncated);
    if (!ex || json_array_append_new(f->examples, ex) < 0) return CUT_ENOMEM;
    return 0;
}

int par__acc_noise(par_acc *a, const char *fld, size_t flen)
{
    if (!a->open) return CUT_ESTATE;
    field *f = intern(a, fld, flen);
    if (!f) return CUT_ENOMEM;
    if (f->noise_req == a->serial) return 0;
    f->noise_req = a->serial;
    f->noise++;
    return 0;
}

int par__acc_end(par_acc *a, bool status_mismatch)
{
    if (!a->open) return CUT_ESTATE;
    a->open = false;
    if (grow((void **)&a->r, &a->capr, a->nr + 1, sizeof(*a->r)) < 0) return CUT_ENOMEM;
    a->r[a->nr++] =
        (reqrec){(uint32_t)a->cur_route, (uint32_t)(a->nfids - a->cur_first), a->cur_first};
    a->routes[a->cur_route].requests++;
    if (status_mismatch) a->status_mismatches++;
    return 0;
}

int par__acc_error(par_acc *a, const char *label, size_t route, const char *side, const char *msg)
{
    if (a->open || route >= a->nroutes) return CUT_ESTATE;
    a->errors++;
    a->routes[route].requests++;
    a->routes[route].errors++;
    if (json_array_size(a->error_examples) >= 10) return 0;
    json_t *ex = json_pack("{s:s, s:s, s:s}", "request", label ? label : "", "side", side, "error",
                           msg ? msg : "");
    if (!ex || json_array_append_new(a->error_examples, ex) < 0) return CUT_ENOMEM;
    return 0;
}

void par__acc_cached(par_acc *a)
{
    a->cached++;
}

bool par__reported(uint64_t raw, uint64_t noise, uint64_t total, double rel, double abs)
{
    if (raw <= noise || total == 0) return false;
    double d = (double)(raw - noise);
    double relative = d / (double)(raw + noise) * 100.0;
    double absolute = d / (double)total * 100.0;
    return relative > rel && absolute > abs;
}

static int by_count(const void *x, const void *y)
{
    const field *a = *(field *const *)x, *b = *(field *const *)y;
    if (a->raw != b->raw) return a->raw > b->raw ? -1 : 1;
    return strcmp(a->path, b->path);
}

static int by_path(const void *x, const void *y)
{
    return strcmp((*(field *const *)x)->path, (*(field *const *)y)->path);
}

static double rate(uint64_t n, uint64_t total)
{
    return total ? (double)n / (double)total : 0.0;
}

static json_t *field_json(const field *f, uint64_t total)
{
    json_t *kinds = json_object();
    size_t best = 0;
    for (size_t k = 0; k < JDIFF_NKINDS; k++) {
        if (!f->kinds[k]) continue;
        json_object_set_new(kinds, jdiff_kind_name((jdiff_kind)k),
                            json_integer((json_int_t)f->kinds[k]));
        if (f->kinds[k] > f->kinds[best] || !f->kinds[best]) best = k;
    }
    return json_pack("{s:s%, s:s, s:o, s:I, s:f, s:I, s:O}", "path", f->path, f->len, "kind",
                     jdiff_kind_name((jdiff_kind)best), "kinds", kinds, "count", (json_int_t)f->raw,
                     "rate", rate(f->raw, total), "noise", (json_int_t)f->noise, "examples",
                     f->examples);
}

int par__acc_result(par_acc *a, double rel, double abs, json_t **out, cut_err *err)
{
    uint64_t total = a->nr + a->errors, mismatched = 0;
    field **sorted = calloc(a->nf + 1, sizeof(*sorted));
    bool *rep = calloc(a->nf + 1, sizeof(*rep));
    json_t *o = json_object(), *fields = json_array(), *noise = json_array(), *supp = json_array(),
           *eps = json_array();
    int rc = CUT_ENOMEM;
    *out = NULL;
    if (!sorted || !rep || !o || !fields || !noise || !supp || !eps) goto fail;
    for (size_t i = 0; i < a->nf; i++) {
        rep[i] = par__reported(a->f[i].raw, a->f[i].noise, total, rel, abs);
        sorted[i] = &a->f[i];
    }
    for (size_t i = 0; i < a->nr; i++) {
        bool m = false;
        for (uint32_t k = 0; k < a->r[i].nfields && !m; k++)
            m = rep[a->fids[a->r[i].first + k]];
        if (!m) continue;
        mismatched++;
        a->routes[a->r[i].route].mismatched++;
    }
    qsort(sorted, a->nf, sizeof(*sorted), by_count);
    for (size_t i = 0; i < a->nf; i++) {
        const field *f = sorted[i];
        if (rep[f - a->f]) {
            if (json_array_append_new(fields, field_json(f, total)) < 0) goto fail;
        } else if (f->raw) {
            if (json_array_append_new(supp, json_pack("{s:s%, s:I, s:I}", "path", f->path, f->len,
                                                      "count", (json_int_t)f->raw, "noise",
                                                      (json_int_t)f->noise)) < 0)
                goto fail;
        }
    }
    qsort(sorted, a->nf, sizeof(*sorted), by_path);
    for (size_t i = 0; i < a->nf; i++)
        if (sorted[i]->noise &&
            json_array_append_new(noise, json_stringn(sorted[i]->path, sorted[i]->len)) < 0)
            goto fail;
    for (size_t i = 0; i < a->nroutes; i++) {
        const route *r = &a->routes[i];
        if (json_array_append_new(
                eps, json_pack("{s:s, s:I, s:I, s:I, s:f}", "name", a->route_names[i], "requests",
                               (json_int_t)r->requests, "mismatched", (json_int_t)r->mismatched,
                               "errors", (json_int_t)r->errors, "mismatch_rate",
                               rate(r->mismatched, r->requests))) < 0)
            goto fail;
    }
    if (json_object_set_new(o, "requests", json_integer((json_int_t)total)) < 0 ||
        json_object_set_new(o, "compared", json_integer((json_int_t)a->nr)) < 0 ||
        json_object_set_new(o, "mismatched", json_integer((json_int_t)mismatched)) < 0 ||
        json_object_set_new(o, "mismatch_rate", json_real(rate(mismatched, total))) < 0 ||
        json_object_set_new(o, "status_mismatches",
                            json_integer((json_int_t)a->status_mismatches)) < 0 ||
        json_object_set_new(o, "errors", json_integer((json_int_t)a->errors)) < 0 ||
        json_object_set_new(o, "cached_responses", json_integer((json_int_t)a->cached)) < 0 ||
        json_object_set(o, "fields", fields) < 0 || json_object_set(o, "noise_fields", noise) < 0 ||
        json_object_set(o, "suppressed", supp) < 0 || json_object_set(o, "endpoints", eps) < 0 ||
        json_object_set(o, "error_examples", a->error_examples) < 0 ||
        json_object_set_new(o, "thresholds", json_pack("{s:f, s:f}", "rel", rel, "abs", abs)) < 0)
        goto fail;
    *out = o;
    o = NULL;
    rc = 0;
fail:
    if (rc < 0) cut_err_set(err, rc, "parity: out of memory building the results");
    free(sorted);
    free(rep);
    json_decref(o);
    json_decref(fields);
    json_decref(noise);
    json_decref(supp);
    json_decref(eps);
    return rc;
}

/* ---- body comparison ------------------------------------------------------------------------ */

static int byte_diff(par_acc *a, bool noise, jdiff_kind kind, const char *b1, size_t n1,
                     const char *b2, size_t n2, size_t excerpt)
{
    if (noise) return par__acc_noise(a, "body", 4);
    /* Show the bytes from just before the first difference on. */
    size_t i = 0;
    while (i < n1 && i < n2 && b1[i] == b2[i])
        i++;
    size_t from = i > 32 ? i - 32 : 0;
    bool t1 = false, t2 = false;
    json_t *e1 = vfy_text_json(b1 + from, n1 - from, excerpt, &t1);
    json_t *e2 = vfy_text_json(b2 + from, n2 - from, excerpt, &t2);
    int rc = CUT_ENOMEM;
    if (e1 && e2)
        rc = par__acc_raw(a, kind, "body", 4, "body", 4, json_string_value(e1),
                          json_string_value(e2), t1 || t2 || from > 0);
    json_decref(e1);
    json_decref(e2);
    return rc;
}

int par__cmp_bodies(par_acc *a, jdiff *jd, bool noise, const char *b1, size_t n1, const char *b2,
                    size_t n2, size_t excerpt, cut_err *err)
{
    json_error_t je;
    json_t *j1 = n1 ? json_loadb(b1, n1, JSON_DECODE_ANY, &je) : NULL;
    json_t *j2 = n2 ? json_loadb(b2, n2, JSON_DECODE_ANY, &je) : NULL;
    int rc = 0;
    if (!j1 && !j2) {
        if (n1 != n2 || (n1 && memcmp(b1, b2, n1) != 0))
            rc = byte_diff(a, noise, JDIFF_VALUE, b1, n1, b2, n2, excerpt);
    } else if (!j1 || !j2) {
        rc = byte_diff(a, noise, JDIFF_TYPE, b1, n1, b2, n2, excerpt);
    } else {
        rc = jdiff_compare(jd, j1, j2, err);
        jdiff_item it;
        for (size_t i = 0; rc == 0 && jdiff_get(jd, i, &it); i++) {
            if (noise)
                rc = par__acc_noise(a, it.field, it.field_len);
            else
                rc = par__acc_raw(a, it.kind, it.field, it.field_len, it.path, it.path_len, it.base,
                                  it.cand, it.base_truncated || it.cand_truncated);
        }
    }
    if (rc == CUT_ENOMEM) cut_err_set(err, rc, "parity: out of memory comparing bodies");
    json_decref(j1);
    json_decref(j2);
    return rc;
}
