/* parity_cfg.c - checks the scenario's `parity` section and compiles it (parity.h has the
 * format). Every problem is reported, not just the first. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verify/parity_int.h"

#define MAX_REQUESTS_FILE (64u << 20)

typedef struct ctx {
    const scn_scenario *s;
    scn_diags *d;
    int bad;
    scn_tpl_vars vars;
} ctx;

__attribute__((format(printf, 3, 4))) static void diag(ctx *c, const char *ptr, const char *fmt,
                                                       ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->bad = 1;
    if (c->d) scn_diags_add(c->d, "%s: /parity%s: %s", c->s->file, ptr, msg);
}

static bool keys_ok(ctx *c, const char *ptr, const json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i]) {
            diag(c, ptr, "unknown key \"%.64s\"", k);
            ok = false;
        }
    }
    return ok;
}

static const scn_endpoint *http_ep(ctx *c, const json_t *sec, const char *key, bool required)
{
    json_t *v = json_object_get(sec, key);
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", key);
    if (!v) {
        if (required) diag(c, "", "missing \"%s\" (an http endpoint name)", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        diag(c, ptr, "must be an endpoint name");
        return NULL;
    }
    const scn_endpoint *e = scn_find_endpoint(c->s, json_string_value(v));
    if (!e) {
        diag(c, ptr, "unknown endpoint \"%.64s\"", json_string_value(v));
        return NULL;
    }
    if (e->type != SCN_EP_HTTP) {
        diag(c, ptr, "endpoint \"%.64s\" is not an http endpoint", e->name);
        return NULL;
    }
    return e;
}

/* Lower-cased copies of a list of header names. */
static const char **name_list(ctx *c, par_cfg *cfg, const json_t *v, const char *ptr, size_t *n)
{
    *n = 0;
    if (!v) return NULL;
    if (!json_is_array(v)) {
        diag(c, ptr, "must be an array of header names");
        return NULL;
    }
    const char **out = scn_arena_calloc(&cfg->arena, json_array_size(v) + 1, sizeof(*out));
    if (!out) return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *t = json_string_value(e);
        if (!t || !*t || strlen(t) > 256 || strpbrk(t, ": \t\r\n")) {
            diag(c, ptr, "/%zu: must be a header name", i);
            continue;
        }
        char *l = scn_arena_strdup(&cfg->arena, t);
        if (!l) return NULL;
        for (char *p = l; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        out[(*n)++] = l;
    }
    return out;
}

static bool in_over(const par_cfg *cfg, uint32_t set)
{
    for (size_t i = 0; i < cfg->nover; i++)
        if (cfg->over[i] == set) return true;
    return false;
}

/* Compiles one template; reports variables outside `over`. */
static void tpl(ctx *c, par_cfg *cfg, const char *ptr, const char *text, size_t len, scn_enc enc,
                scn_tpl *out)
{
    cut_err e = {0};
    if (scn_tpl_compile(&cfg->arena, text, len, &c->vars, enc, out, &e) < 0) {
        diag(c, ptr, "%s", e.msg);
        memset(out, 0, sizeof(*out));
        return;
    }
    for (size_t v = 0; v < c->s->nvars; v++) {
        if (!scn_tpl_uses(out, (uint32_t)v) || in_over(cfg, c->s->vars[v].set)) continue;
        diag(c, ptr, "uses {{%s}} but data set \"%s\" is not in /parity/over", c->s->vars[v].name,
             c->s->data[c->s->vars[v].set].name);
    }
}

static bool method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 16) return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return false;
    return true;
}

static void load_request(ctx *c, par_cfg *cfg, const json_t *r, const char *ptr, par_req *out)
{
    static const char *const keys[] = {"method", "url", "headers", "body", "name", NULL};
    char p[300];
    if (!json_is_object(r)) {
        diag(c, ptr, "must be an object {method, url, headers, body, name}");
        return;
    }
    keys_ok(c, ptr, r, keys);
    json_t *m = json_object_get(r, "method");
    out->method = "GET";
    if (m) {
        snprintf(p, sizeof(p), "%s/method", ptr);
        if (!json_is_string(m) || !method_ok(json_string_value(m)))
            diag(c, p, "must be an upper-case HTTP method");
        else
            out->method = scn_arena_strdup(&cfg->arena, json_string_value(m));
    }
    json_t *u = json_object_get(r, "url");
    snprintf(p, sizeof(p), "%s/url", ptr);
    if (!json_is_string(u)) {
        diag(c, u ? p : ptr, u ? "must be a string" : "missing \"url\"");
    } else if (json_string_value(u)[0] != '/') {
        /* One path sent to both deployments: their base_url decides where it goes. */
        diag(c, p, "must be a path starting with '/' (joined to each endpoint's base_url)");
    } else {
        tpl(c, cfg, p, json_string_value(u), json_string_length(u), SCN_ENC_RAW, &out->url);
    }
    json_t *h = json_object_get(r, "headers");
    if (h) {
        snprintf(p, sizeof(p), "%s/headers", ptr);
        if (!json_is_object(h)) {
            diag(c, p, "must be an object of header names to values");
        } else {
            size_t n = json_object_size(h), i = 0;
            out->hnames = scn_arena_calloc(&cfg->arena, n + 1, sizeof(*out->hnames));
            out->hvals = scn_arena_calloc(&cfg->arena, n + 1, sizeof(*out->hvals));
            const char *k;
            json_t *v;
            json_object_foreach(h, k, v)
            {
                char hp[400];
                snprintf(hp, sizeof(hp), "%s/%.64s", p, k);
                if (!*k || strpbrk(k, ": \t\r\n") || !json_is_string(v)) {
                    diag(c, hp, "must be a header name with a string value");
                    continue;
                }
                if (!out->hnames || !out->hvals) return;
                out->hnames[i] = scn_arena_strdup(&cfg->arena, k);
                tpl(c, cfg, hp, json_string_value(v), json_string_length(v), SCN_ENC_RAW,
                    &out->hvals[i]);
                i++;
            }
            out->nh = i;
        }
    }
    json_t *b = json_object_get(r, "body");
    if (b) {
        snprintf(p, sizeof(p), "%s/body", ptr);
        out->has_body = true;
        if (json_is_string(b)) {
            tpl(c, cfg, p, json_string_value(b), json_string_length(b), SCN_ENC_RAW, &out->body);
        } else {
            char *t = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            if (t) tpl(c, cfg, p, t, strlen(t), SCN_ENC_JSON, &out->body);
            free(t);
            out->json_body = true;
        }
    }
    json_t *nm = json_object_get(r, "name");
    if (nm && !json_is_string(nm)) {
        snprintf(p, sizeof(p), "%s/name", ptr);
        diag(c, p, "must be a string");
    }
    if (json_is_string(nm)) {
        out->name = scn_arena_strdup(&cfg->arena, json_string_value(nm));
    } else if (json_is_string(u)) {
        size_t n = strlen(out->method) + 1 + json_string_length(u) + 1;
        char *l = scn_arena_alloc(&cfg->arena, n);
        if (l) snprintf(l, n, "%s %s", out->method, json_string_value(u));
        out->name = l;
    }
}

/* requests_file: a JSON array, or one JSON object per line. A new reference or NULL. */
static json_t *read_requests_file(ctx *c, const char *name)
{
    char path[4096];
    if (name[0] == '/')
        snprintf(path, sizeof(path), "%s", name);
    else
        snprintf(path, sizeof(path), "%s/%s", c->s->dir ? c->s->dir : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag(c, "/requests_file", "%.200s: %s", name, strerror(errno));
        return NULL;
    }
    json_error_t je;
    json_t *all = json_loadf(f, JSON_DISABLE_EOF_CHECK, &je);
    int ch = ' ';
    if (all) {
        while ((ch = fgetc(f)) != EOF && isspace(ch)) {
        }
    }
    if (all && json_is_array(all) && ch == EOF) {
        fclose(f);
        return all;
    }
    json_decref(all);
    /* JSON Lines: one request object per non-blank line. */
    rewind(f);
    all = json_array();
    char *line = NULL;
    size_t cap = 0, lineno = 0, total = 0;
    ssize_t n;
    while (all && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        total += (size_t)n;
        if (total > MAX_REQUESTS_FILE) {
            diag(c, "/requests_file", "%.200s: larger than 64 MiB", name);
            break;
        }
        size_t k = 0;
        while (k < (size_t)n && isspace((unsigned char)line[k]))
            k++;
        if (k == (size_t)n) continue;
        json_t *r = json_loadb(line, (size_t)n, 0, &je);
        if (!r) {
            diag(c, "/requests_file", "%.200s:%zu:%d: %s", name, lineno, je.column, je.text);
            break;
        }
        json_array_append_new(all, r);
    }
    free(line);
    fclose(f);
    if (c->bad) {
        json_decref(all);
        return NULL;
    }
    return all;
}

static void load_requests(ctx *c, par_cfg *cfg, const json_t *sec)
{
    json_t *one = json_object_get(sec, "request"), *list = json_object_get(sec, "requests"),
           *file = json_object_get(sec, "requests_file");
    int given = !!one + !!list + !!file;
    if (given != 1) {
        diag(c, "",
             given ? "give only one of \"request\", \"requests\", \"requests_file\""
                   : "missing \"request\" (or \"requests\", \"requests_file\")");
        return;
    }
    json_t *owned = NULL;
    const char *base = "/requests";
    if (one) {
        owned = json_array();
        if (owned) json_array_append(owned, one);
        list = owned;
        base = "/request";
    } else if (file) {
        if (!json_is_string(file)) {
            diag(c, "/requests_file", "must be a file name");
            return;
        }
        list = owned = read_requests_file(c, json_string_value(file));
        base = "/requests_file";
        if (!list) return;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        diag(c, base, "must be a non-empty array of requests");
        json_decref(owned);
        return;
    }
    cfg->nreqs = json_array_size(list);
    cfg->reqs = scn_arena_calloc(&cfg->arena, cfg->nreqs, sizeof(*cfg->reqs));
    if (!cfg->reqs) {
        cfg->nreqs = 0;
        json_decref(owned);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char p[64];
        if (one)
            snprintf(p, sizeof(p), "/request");
        else
            snprintf(p, sizeof(p), "%s/%zu", base, i);
        load_request(c, cfg, r, p, &cfg->reqs[i]);
    }
    json_decref(owned);
}

static void load_over(ctx *c, par_cfg *cfg, const json_t *sec)
{
    json_t *over = json_object_get(sec, "over");
    cfg->combos = 1;
    if (!over) return;
    if (!json_is_array(over)) {
        diag(c, "/over", "must be an array of data set names");
        return;
    }
    uint32_t *ids = scn_arena_calloc(&cfg->arena, json_array_size(over) + 1, sizeof(*ids));
    if (!ids) return;
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(over, i, v)
    {
        const scn_data *ds = json_is_string(v) ? scn_find_data(c->s, json_string_value(v)) : NULL;
        char p[64];
        snprintf(p, sizeof(p), "/over/%zu", i);
        if (!ds) {
            diag(c, p, "unknown data set %s%.64s%s", json_is_string(v) ? "\"" : "",
                 json_is_string(v) ? json_string_value(v) : "(not a string)",
                 json_is_string(v) ? "\"" : "");
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= ids[k] == ds->index;
        if (dup) {
            diag(c, p, "data set \"%s\" listed twice", ds->name);
            continue;
        }
        ids[n++] = ds->index;
        if (cfg->combos > PAR_MAX_REQUESTS / (ds->rows ? ds->rows : 1) + 1)
            cfg->combos = PAR_MAX_REQUESTS + 1;
        else
            cfg->combos *= ds->rows;
    }
    cfg->over = ids;
    cfg->nover = n;
}

static double pct(ctx *c, const json_t *obj, const char *key, const char *ptr, double dflt)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return dflt;
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 100) {
        diag(c, ptr, "must be a percentage (a number 0..100)");
        return dflt;
    }
    return json_number_value(v);
}

static uint32_t uint_key(ctx *c, const json_t *sec, const char *key, uint32_t lo, uint32_t hi,
                         uint32_t dflt)
{
    json_t *v = json_object_get(sec, key);
    char p[64];
    snprintf(p, sizeof(p), "/%s", key);
    if (!v) return dflt;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        diag(c, p, "must be an integer %u..%u", lo, hi);
        return dflt;
    }
    return (uint32_t)json_integer_value(v);
}

static void load_compare(ctx *c, par_cfg *cfg, const json_t *sec)
{
    static const char *const keys[] = {"status", "headers", "ignore_header_values", NULL};
    json_t *cmp = json_object_get(sec, "compare");
    cfg->cmp_status = true;
    if (!cmp) return;
    if (!json_is_object(cmp)) {
        diag(c, "/compare", "must be an object {status, headers, ignore_header_values}");
        return;
    }
    keys_ok(c, "/compare", cmp, keys);
    json_t *st = json_object_get(cmp, "status");
    if (st && !json_is_boolean(st)) diag(c, "/compare/status", "must be true or false");
    if (st) cfg->cmp_status = json_is_true(st);
    cfg->cmp_headers =
        name_list(c, cfg, json_object_get(cmp, "headers"), "/compare/headers", &cfg->ncmp_headers);
    cfg->ignore_hvals = name_list(c, cfg, json_object_get(cmp, "ignore_header_values"),
                                  "/compare/ignore_header_values", &cfg->nignore_hvals);
}

static void load_noise(ctx *c, par_cfg *cfg, const json_t *sec)
{
    static const char *const keys[] = {"second_base_call", "rel", "abs", NULL};
    json_t *n = json_object_get(sec, "noise");
    cfg->rel = 20.0;
    cfg->abs = 0.03;
    if (!n) return;
    if (!json_is_object(n)) {
        diag(c, "/noise", "must be an object {second_base_call, rel, abs}");
        return;
    }
    keys_ok(c, "/noise", n, keys);
    json_t *sb = json_object_get(n, "second_base_call");
    if (sb && !json_is_boolean(sb)) diag(c, "/noise/second_base_call", "must be true or false");
    if (json_is_true(sb)) {
        if (cfg->base2 && cfg->base2 != cfg->base)
            diag(c, "/noise/second_base_call", "give either base2 or second_base_call");
        else
            cfg->base2 = cfg->base;
    }
    cfg->rel = pct(c, n, "rel", "/noise/rel", 20.0);
    cfg->abs = pct(c, n, "abs", "/noise/abs", 0.03);
}

/* The jdiff keys, checked by jdiff itself; a diagnostic carries its pointer. */
static void load_jdiff(ctx *c, par_cfg *cfg, const json_t *sec)
{
    static const char *const keys[] = {"ignore", "additions",   "tolerance",
                                       "arrays", "max_details", "excerpt_bytes"};
    cfg->jdiff_spec = json_object();
    if (!cfg->jdiff_spec) return;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(sec, keys[i]);
        if (v) json_object_set(cfg->jdiff_spec, keys[i], v);
    }
    /* Whole responses can differ in many places: keep enough details to see every field. */
    if (!json_object_get(cfg->jdiff_spec, "max_details"))
        json_object_set_new(cfg->jdiff_spec, "max_details", json_integer(4096));
    jdiff_opts *o = NULL;
    cut_err e = {0};
    if (jdiff_opts_from_json(cfg->jdiff_spec, &o, &e) < 0) {
        c->bad = 1;
        if (c->d) scn_diags_add(c->d, "%s: /parity%s", c->s->file, e.msg);
    }
    jdiff_opts_free(o);
}

int par__cfg_build(const scn_scenario *s, par_cfg *cfg, scn_diags *d)
{
    static const char *const keys[] = {"base",
                                       "candidate",
                                       "base2",
                                       "over",
                                       "request",
                                       "requests",
                                       "requests_file",
                                       "compare",
                                       "ignore",
                                       "additions",
                                       "tolerance",
                                       "arrays",
                                       "max_details",
                                       "excerpt_bytes",
                                       "noise",
                                       "concurrency",
                                       "max_examples",
                                       "through_cache",
                                       NULL};
    ctx c = {.s = s, .d = d};
    const json_t *sec = s->parity;
    const char **names = NULL;
    if (!sec) return 0;
    names = calloc(s->nvars + 1, sizeof(*names));
    if (!names) return CUT_ENOMEM;
    for (size_t i = 0; i < s->nvars; i++)
        names[i] = s->vars[i].name;
    c.vars.names = names;
    c.vars.count = s->nvars;

    keys_ok(&c, "", sec, keys);
    cfg->base = http_ep(&c, sec, "base", true);
    cfg->cand = http_ep(&c, sec, "candidate", true);
    cfg->base2 = http_ep(&c, sec, "base2", false);
    load_over(&c, cfg, sec);
    load_requests(&c, cfg, sec);
    load_compare(&c, cfg, sec);
    load_noise(&c, cfg, sec);
    load_jdiff(&c, cfg, sec);
    cfg->concurrency = uint_key(&c, sec, "concurrency", 1, PAR_MAX_CONCURRENCY, 8);
    cfg->max_examples = uint_key(&c, sec, "max_examples", 0, 100, 5);
    json_t *tc = json_object_get(sec, "through_cache");
    if (tc && !json_is_boolean(tc)) diag(&c, "/through_cache", "must be true or false");
    cfg->through_cache = json_is_true(tc);
    if (cfg->nreqs && cfg->combos > PAR_MAX_REQUESTS / cfg->nreqs)
        diag(&c, "", "more than %d requests (over x requests); sample the data sets",
             PAR_MAX_REQUESTS);
    else
        cfg->total = cfg->combos * cfg->nreqs;
    free(names);
    if (scn_arena_failed(&cfg->arena) || (d && d->oom) || !cfg->jdiff_spec) return CUT_ENOMEM;
    return c.bad ? CUT_EINVAL : 0;
}

void par__cfg_free(par_cfg *cfg)
{
    json_decref(cfg->jdiff_spec);
    scn_arena_free(&cfg->arena);
    memset(cfg, 0, sizeof(*cfg));
}

int par_validate(const scn_scenario *s, scn_diags *d)
{
    par_cfg cfg = {0};
    int rc = par__cfg_build(s, &cfg, d);
    par__cfg_free(&cfg);
    return rc;
}
