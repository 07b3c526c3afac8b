/* datacheck_cfg.c - checks the scenario's `data_checks` section and compiles each check,
 * including its SQL (datacheck.h has the format). Every problem is reported. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/datacheck_int.h"

typedef struct ctx {
    const scn_scenario *s;
    scn_diags *d;
    int bad;
    size_t idx;
    scn_arena *a;
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
    if (c->d) scn_diags_add(c->d, "%s: /data_checks/%zu%s: %s", c->s->file, c->idx, ptr, msg);
}

static void keys_ok(ctx *c, const char *ptr, const json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i]) diag(c, ptr, "unknown key \"%.64s\"", k);
    }
}

static bool ident_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return n <= 63;
}

/* "schema.table" or "table", quoted part by part into out. */
static bool table_quoted(const char *t, char *out, size_t cap)
{
    char buf[140];
    if (!t || strlen(t) >= sizeof(buf)) return false;
    snprintf(buf, sizeof(buf), "%s", t);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        if (!ident_ok(buf) || !ident_ok(dot + 1)) return false;
        snprintf(out, cap, "\"%s\".\"%s\"", buf, dot + 1);
    } else {
        if (!ident_ok(buf)) return false;
        snprintf(out, cap, "\"%s\"", buf);
    }
    return true;
}

static const char *str_key(ctx *c, const json_t *o, const char *key, const char *ptr, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) diag(c, ptr, "missing \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v) || !json_string_length(v)) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", ptr, key);
        diag(c, p, "must be a non-empty string");
        return NULL;
    }
    return json_string_value(v);
}

static uint64_t uint_key(ctx *c, const json_t *o, const char *key, uint64_t lo, uint64_t hi,
                         uint64_t dflt)
{
    json_t *v = json_object_get(o, key);
    if (!v) return dflt;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < lo ||
        (uint64_t)json_integer_value(v) > hi) {
        char p[64];
        snprintf(p, sizeof(p), "/%s", key);
        diag(c, p, "must be an integer %llu..%llu", (unsigned long long)lo, (unsigned long long)hi);
        return dflt;
    }
    return (uint64_t)json_integer_value(v);
}

static const scn_endpoint *endpoint(ctx *c, const json_t *o, const char *ptr,
                                    scn_endpoint_type type)
{
    const char *name = str_key(c, o, "endpoint", ptr, true);
    if (!name) return NULL;
    char p[64];
    snprintf(p, sizeof(p), "%s/endpoint", ptr);
    const scn_endpoint *e = scn_find_endpoint(c->s, name);
    if (!e)
        diag(c, p, "unknown endpoint \"%.64s\"", name);
    else if (e->type != type)
        diag(c, p, "endpoint \"%.64s\" is not a %s endpoint", name,
             type == SCN_EP_REDIS ? "redis" : "postgres");
    return e && e->type == type ? e : NULL;
}

/* Glob-escapes s[0..n) into out (SCAN MATCH treats *?[]\ specially). */
static size_t glob_escape(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr("*?[]\\", s[i])) out[o++] = '\\';
        out[o++] = s[i];
    }
    return o;
}

static void load_key(ctx *c, const json_t *chk, dck_check *k)
{
    static const char *const keys[] = {"redis", "column", NULL};
    json_t *key = json_object_get(chk, "key");
    if (!json_is_object(key)) {
        diag(c, key ? "/key" : "", key ? "must be an object {redis, column}" : "missing \"key\"");
        return;
    }
    keys_ok(c, "/key", key, keys);
    const char *pat = str_key(c, key, "redis", "/key", true);
    k->keycol = str_key(c, key, "column", "/key", true);
    if (k->keycol && !ident_ok(k->keycol)) {
        diag(c, "/key/column", "must be a column name [A-Za-z_][A-Za-z0-9_]*");
        k->keycol = NULL;
    }
    if (!pat) return;
    /* One placeholder: {name} or {{name}}. */
    const char *open = strchr(pat, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (!open || !close) {
        diag(c, "/key/redis", "must hold one {name} placeholder for the key column's value");
        return;
    }
    bool dbl = open[1] == '{';
    const char *after = close + 1;
    if (dbl) {
        if (*after != '}') {
            diag(c, "/key/redis", "unbalanced {{...}}");
            return;
        }
        after++;
    }
    if (close == open + 1 + dbl || strchr(after, '{') || strchr(after, '}')) {
        diag(c, "/key/redis", "must hold exactly one non-empty {name} placeholder");
        return;
    }
    k->prefix = scn_arena_strndup(c->a, pat, (size_t)(open - pat));
    k->plen = (size_t)(open - pat);
    k->suffix = scn_arena_strdup(c->a, after);
    k->slen = strlen(after);
    char *m = scn_arena_alloc(c->a, 2 * (k->plen + k->slen) + 2);
    if (m) {
        size_t o = glob_escape(m, pat, k->plen);
        m[o++] = '*';
        o += glob_escape(m + o, after, k->slen);
        m[o] = '\0';
    }
    if (!k->match) k->match = m;
}

static jptr *pointer(ctx *c, const char *text, const char *ptr)
{
    jptr *p = NULL;
    cut_err e = {0};
    if (jptr_compile(text, &p, &e) < 0) {
        diag(c, ptr, "%s", e.msg);
        return NULL;
    }
    if (jptr_is_wild(p) || jptr_depth(p) == 0) {
        diag(c, ptr, "must be a pointer without `*` segments below the root");
        jptr_free(p);
        return NULL;
    }
    return p;
}

static void load_fields(ctx *c, const json_t *chk, dck_check *k)
{
    json_t *f = json_object_get(chk, "fields");
    if (!f) return;
    if (!json_is_object(f)) {
        diag(c, "/fields", "must be an object of Redis field -> column");
        return;
    }
    k->fields = scn_arena_calloc(c->a, json_object_size(f) + 1, sizeof(*k->fields));
    if (!k->fields) return;
    const char *name;
    json_t *v;
    json_object_foreach(f, name, v)
    {
        char p[200];
        snprintf(p, sizeof(p), "/fields/%.64s", name);
        dck_field *fd = &k->fields[k->nfields];
        if (!*name) {
            diag(c, p, "empty field name");
            continue;
        }
        fd->name = scn_arena_strdup(c->a, name);
        if (name[0] == '/' && !(fd->rptr = pointer(c, name, p))) continue;
        const char *col = json_string_value(v);
        if (json_is_object(v)) {
            static const char *const keys[] = {"column", "pointer", NULL};
            keys_ok(c, p, v, keys);
            col = json_string_value(json_object_get(v, "column"));
            const char *cp = json_string_value(json_object_get(v, "pointer"));
            if (json_object_get(v, "pointer") && !cp) diag(c, p, "pointer must be a string");
            if (cp && !(fd->cptr = pointer(c, cp, p))) {
                jptr_free(fd->rptr);
                memset(fd, 0, sizeof(*fd));
                continue;
            }
        }
        if (!ident_ok(col)) {
            diag(c, p, "must be a column name, or {\"column\": name, \"pointer\": \"/in/json\"}");
            jptr_free(fd->rptr);
            jptr_free(fd->cptr);
            memset(fd, 0, sizeof(*fd));
            continue;
        }
        fd->column = scn_arena_strdup(c->a, col);
        k->nfields++;
    }
}

static void load_ignore(ctx *c, const json_t *chk, dck_check *k, json_t *spec)
{
    json_t *ig = json_object_get(chk, "ignore");
    if (!ig) return;
    if (!json_is_array(ig)) {
        diag(c, "/ignore", "must be an array of field names or pointers");
        return;
    }
    json_t *ptrs = json_array();
    k->ignore_top = scn_arena_calloc(c->a, json_array_size(ig) + 1, sizeof(char *));
    size_t i;
    json_t *v;
    json_array_foreach(ig, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !*s) {
            char p[64];
            snprintf(p, sizeof(p), "/ignore/%zu", i);
            diag(c, p, "must be a field name or a JSON pointer");
            continue;
        }
        if (s[0] != '/') {
            /* A plain name is a top-level field: never compared at all. */
            if (k->ignore_top) k->ignore_top[k->nignore_top++] = scn_arena_strdup(c->a, s);
            char *esc = malloc(2 * strlen(s) + 2);
            if (!esc) continue;
            size_t o = 0;
            esc[o++] = '/';
            for (const char *q = s; *q; q++) {
                if (*q == '~' || *q == '/') {
                    esc[o++] = '~';
                    esc[o++] = *q == '~' ? '0' : '1';
                } else {
                    esc[o++] = *q;
                }
            }
            esc[o] = '\0';
            json_array_append_new(ptrs, json_string(esc));
            free(esc);
        } else {
            json_array_append(ptrs, v);
        }
    }
    json_object_set_new(spec, "ignore", ptrs);
}

static void build_sql(ctx *c, dck_check *k, const json_t *pg)
{
    const char *table = json_string_value(json_object_get(pg, "table"));
    const char *query = json_string_value(json_object_get(pg, "query"));
    const char *where = json_string_value(json_object_get(pg, "where"));
    char src[300], kc[80];
    char *sqls[5] = {0};
    if (!k->keycol) return;
    snprintf(kc, sizeof(kc), "t.\"%s\"", k->keycol);
    if (table) {
        if (!table_quoted(table, src, sizeof(src))) {
            diag(c, "/postgres/table", "must be a table name, optionally schema.table");
            return;
        }
    }
    const char *from_tbl = table ? src : NULL;
    /* FROM part and an optional filter: "FROM x t WHERE (w)" / "FROM (q) t". */
    char *from = NULL;
    int ok = table ? asprintf(&from, "FROM %s t", from_tbl) : asprintf(&from, "FROM (%s) t", query);
    if (ok < 0) return;
    const char *w = where ? where : "true";
    ok = asprintf(&sqls[0], "SELECT count(*) %s WHERE (%s)", from, w) >= 0 &&
         asprintf(&sqls[1], "SELECT %s::text, t.* %s WHERE (%s) AND %s = ANY($1)", kc, from, w,
                  kc) >= 0 &&
         asprintf(&sqls[2],
                  "SELECT %s::text %s WHERE (%s) ORDER BY md5($1::text || %s::text) LIMIT "
                  "$2::bigint",
                  kc, from, w, kc) >= 0 &&
         asprintf(&sqls[3], "SELECT %s::text, %s %s WHERE (%s) ORDER BY %s LIMIT $1::bigint", kc,
                  kc, from, w, kc) >= 0 &&
         asprintf(&sqls[4],
                  "SELECT %s::text, %s %s WHERE (%s) AND %s > $1 ORDER BY %s LIMIT $2::bigint", kc,
                  kc, from, w, kc, kc) >= 0;
    if (ok) {
        k->sql_count = scn_arena_strdup(c->a, sqls[0]);
        k->sql_rows = scn_arena_strdup(c->a, sqls[1]);
        k->sql_sample = scn_arena_strdup(c->a, sqls[2]);
        k->sql_first = scn_arena_strdup(c->a, sqls[3]);
        k->sql_next = scn_arena_strdup(c->a, sqls[4]);
    }
    free(from);
    for (size_t i = 0; i < 5; i++)
        free(sqls[i]);
}

static void load_check(ctx *c, const json_t *chk, dck_check *k)
{
    static const char *const keys[] = {
        "name",     "redis",          "postgres",      "key",    "fields", "compare",
        "ignore",   "additions",      "tolerance",     "arrays", "coerce", "mode",
        "sample",   "reverse_sample", "seed",          "batch",  "dedup",  "max_examples",
        "max_keys", "recheck_max",    "excerpt_bytes", NULL};
    static const char *const rkeys[] = {"endpoint", "match", "type", "scan_count", NULL};
    static const char *const pkeys[] = {"endpoint", "table", "where", "query", NULL};
    if (!json_is_object(chk)) {
        diag(c, "", "must be an object {name, redis, postgres, key, ...}");
        return;
    }
    keys_ok(c, "", chk, keys);
    k->name = str_key(c, chk, "name", "", true);
    if (k->name) {
        for (const char *p = k->name; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p)) {
                diag(c, "/name", "must be [A-Za-z0-9_.-]+ (it names the check in targets)");
                break;
            }
        k->name = scn_arena_strdup(c->a, k->name);
    }

    json_t *r = json_object_get(chk, "redis");
    if (!json_is_object(r)) {
        diag(c, r ? "/redis" : "", r ? "must be an object" : "missing \"redis\"");
    } else {
        keys_ok(c, "/redis", r, rkeys);
        k->redis = endpoint(c, r, "/redis", SCN_EP_REDIS);
        const char *m = str_key(c, r, "match", "/redis", false);
        if (m) k->match = scn_arena_strdup(c->a, m);
        const char *t = str_key(c, r, "type", "/redis", false);
        if (t && strcmp(t, "json") != 0 && strcmp(t, "hash") != 0)
            diag(c, "/redis/type", "must be \"json\" or \"hash\"");
        k->hash = t && strcmp(t, "hash") == 0;
        json_t *sc = json_object_get(r, "scan_count");
        k->scan_count = 1000;
        if (sc &&
            (!json_is_integer(sc) || json_integer_value(sc) < 1 || json_integer_value(sc) > 100000))
            diag(c, "/redis/scan_count", "must be an integer 1..100000");
        else if (sc)
            k->scan_count = (uint32_t)json_integer_value(sc);
    }

    json_t *p = json_object_get(chk, "postgres");
    if (!json_is_object(p)) {
        diag(c, p ? "/postgres" : "", p ? "must be an object" : "missing \"postgres\"");
    } else {
        keys_ok(c, "/postgres", p, pkeys);
        k->pg = endpoint(c, p, "/postgres", SCN_EP_POSTGRES);
        bool t = json_object_get(p, "table"), q = json_object_get(p, "query");
        if (t == q) diag(c, "/postgres", "give one of \"table\" or \"query\"");
        if (q && json_object_get(p, "where"))
            diag(c, "/postgres/where", "only with \"table\" (put the filter in the query)");
        if (t) str_key(c, p, "table", "/postgres", true);
        if (q) str_key(c, p, "query", "/postgres", true);
        if (json_object_get(p, "where")) str_key(c, p, "where", "/postgres", true);
    }
    load_key(c, chk, k);
    if (json_is_object(p) && k->keycol) build_sql(c, k, p);
    load_fields(c, chk, k);

    const char *cmp = str_key(c, chk, "compare", "", false);
    if (cmp && strcmp(cmp, "all") != 0 && strcmp(cmp, "mapped") != 0)
        diag(c, "/compare", "must be \"all\" or \"mapped\"");
    k->compare_all = !cmp || strcmp(cmp, "all") == 0;
    json_t *co = json_object_get(chk, "coerce");
    if (co && !json_is_boolean(co)) diag(c, "/coerce", "must be true or false");
    k->coerce = co ? json_is_true(co) : k->hash;
    json_t *dd = json_object_get(chk, "dedup");
    if (dd && !json_is_boolean(dd)) diag(c, "/dedup", "must be true or false");
    k->dedup = dd ? json_is_true(dd) : true;

    const char *mode = str_key(c, chk, "mode", "", false);
    k->mode = DCK_SAMPLE;
    if (mode && strcmp(mode, "count") == 0)
        k->mode = DCK_COUNT;
    else if (mode && strcmp(mode, "full") == 0)
        k->mode = DCK_FULL;
    else if (mode && strcmp(mode, "sample") != 0)
        diag(c, "/mode", "must be \"count\", \"sample\" or \"full\"");
    k->sample = uint_key(c, chk, "sample", 1, 10000000, 1000);
    k->reverse_sample = uint_key(c, chk, "reverse_sample", 0, 10000000, k->sample);
    k->seed = uint_key(c, chk, "seed", 0, INT64_MAX, c->s->defaults.seed);
    k->batch = (uint32_t)uint_key(c, chk, "batch", 1, 10000, 250);
    k->max_examples = (uint32_t)uint_key(c, chk, "max_examples", 0, 100, 5);
    k->max_keys = (uint32_t)uint_key(c, chk, "max_keys", 0, 100000, 100);
    k->recheck_max = (uint32_t)uint_key(c, chk, "recheck_max", 0, 10000000, 10000);

    /* The value comparison: jdiff options, additions allowed unless told otherwise. */
    static const char *const jkeys[] = {"additions", "tolerance", "arrays", "excerpt_bytes"};
    k->jdiff_spec = json_object();
    if (!k->jdiff_spec) return;
    json_object_set_new(k->jdiff_spec, "additions", json_string("allow"));
    for (size_t i = 0; i < sizeof(jkeys) / sizeof(jkeys[0]); i++)
        if (json_object_get(chk, jkeys[i]))
            json_object_set(k->jdiff_spec, jkeys[i], json_object_get(chk, jkeys[i]));
    json_object_set_new(k->jdiff_spec, "max_details", json_integer(1000));
    load_ignore(c, chk, k, k->jdiff_spec);
    jdiff_opts *o = NULL;
    cut_err e = {0};
    if (jdiff_opts_from_json(k->jdiff_spec, &o, &e) < 0) diag(c, "", "%s", e.msg);
    jdiff_opts_free(o);
}

int dck__cfg_build(const scn_scenario *s, dck_cfg *cfg, scn_diags *d)
{
    ctx c = {.s = s, .d = d, .a = &cfg->arena};
    const json_t *sec = s->data_checks;
    if (!sec) return 0;
    cfg->n = json_array_size(sec);
    cfg->checks = scn_arena_calloc(&cfg->arena, cfg->n + 1, sizeof(*cfg->checks));
    if (!cfg->checks) {
        cfg->n = 0;
        return CUT_ENOMEM;
    }
    for (size_t i = 0; i < cfg->n; i++) {
        c.idx = i;
        load_check(&c, json_array_get(sec, i), &cfg->checks[i]);
        for (size_t j = 0; j < i; j++)
            if (cfg->checks[i].name && cfg->checks[j].name &&
                strcmp(cfg->checks[i].name, cfg->checks[j].name) == 0)
                diag(&c, "/name", "\"%s\" is already the name of /data_checks/%zu",
                     cfg->checks[i].name, j);
    }
    if (scn_arena_failed(&cfg->arena) || (d && d->oom)) return CUT_ENOMEM;
    return c.bad ? CUT_EINVAL : 0;
}

void dck__cfg_free(dck_cfg *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        dck_check *k = &cfg->checks[i];
        for (size_t f = 0; f < k->nfields; f++) {
            jptr_free(k->fields[f].rptr);
            jptr_free(k->fields[f].cptr);
        }
        json_decref(k->jdiff_spec);
    }
    scn_arena_free(&cfg->arena);
    memset(cfg, 0, sizeof(*cfg));
}

int dck_validate(const scn_scenario *s, scn_diags *d)
{
    dck_cfg cfg = {0};
    int rc = dck__cfg_build(s, &cfg, d);
    dck__cfg_free(&cfg);
    return rc;
}
