/* step.c - /steps/<name> and phase actions: http, redis and sql steps, checks. */
#include "scenario/internal.h"
#include "scenario/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STEP_KINDS[] = {"http", "redis", "sql"};
static const char *const EP_TYPE_NAMES[] = {"http", "redis", "postgres"};

static bool compile(scn__loader *L, const char *ptr, const char *text, size_t len, scn_enc enc,
                    scn_tpl *out)
{
    scn_tpl_vars tv = {L->var_names, L->nvars, L->open_sets, L->nopen};
    cut_err e;
    cut_err_clear(&e);
    if (scn_tpl_compile(L->c.arena, text, len, &tv, enc, out, &e) == 0) return true;
    scn__err(&L->c, ptr, "%s", e.msg);
    return false;
}

/* A template from a string, or a literal from a number / boolean / null (JSON text). */
static bool compile_value(scn__loader *L, const char *ptr, json_t *v, scn_tpl *out)
{
    if (json_is_string(v))
        return compile(L, ptr, json_string_value(v), json_string_length(v), SCN_ENC_RAW, out);
    if (json_is_number(v) || json_is_boolean(v) || json_is_null(v)) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!text) return false;
        int rc = scn_tpl_literal(L->c.arena, text, strlen(text), out);
        free(text);
        return rc == 0;
    }
    scn__err(&L->c, ptr, "must be a string or a number, not %s", scn__type_name(v));
    return false;
}

/* Resolves "endpoint" (optional when exactly one endpoint has the wanted type). */
static bool resolve_endpoint(scn__loader *L, json_t *spec, const char *ptr, scn_endpoint_type want,
                             uint32_t *out)
{
    const char *name = NULL;
    int rc = scn__get_str(&L->c, spec, ptr, "endpoint", &name);
    if (rc < 0) return false;
    if (rc == 0) {
        size_t found = 0;
        for (size_t i = 0; i < L->nendpoints; i++) {
            if (L->ep_type[i] == (int)want) {
                *out = (uint32_t)i;
                found++;
            }
        }
        if (found == 1) return true;
        scn__err(&L->c, ptr, "missing \"endpoint\" (%s %s endpoints)",
                 found ? "there are several" : "there are no", EP_TYPE_NAMES[want]);
        return false;
    }
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "endpoint");
    const char *names[L->nendpoints + 1];
    for (size_t i = 0; i < L->nendpoints; i++)
        names[i] = L->endpoints[i].name;
    long i = scn__resolve(L, p, "endpoint", name, names, L->nendpoints, true);
    if (i < 0) return false;
    int have = L->ep_type[i];
    if (have < 0) return true; /* the endpoint itself is broken: already reported */
    if (have != (int)want) {
        scn__err(&L->c, p, "endpoint \"%s\" has type %s; a %s step needs a %s endpoint", name,
                 EP_TYPE_NAMES[have], want == SCN_EP_POSTGRES ? "sql" : EP_TYPE_NAMES[want],
                 EP_TYPE_NAMES[want]);
        return false;
    }
    *out = (uint32_t)i;
    return true;
}

static bool parse_status_item(json_t *v, scn_status_range *r)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 100 || x > 599) return false;
        r->lo = r->hi = (uint16_t)x;
        return true;
    }
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        r->lo = (uint16_t)((s[0] - '0') * 100);
        r->hi = (uint16_t)(r->lo + 99);
        return true;
    }
    unsigned lo, hi;
    int used = 0;
    if (sscanf(s, "%3u-%3u%n", &lo, &hi, &used) == 2 && (size_t)used == strlen(s) && lo >= 100 &&
        hi <= 599 && lo <= hi) {
        r->lo = (uint16_t)lo;
        r->hi = (uint16_t)hi;
        return true;
    }
    return false;
}

int scn__load_expect(scn__loader *L, const json_t *obj, const char *ptr, const char *key,
                     const scn_status_range **out, size_t *n)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (json_is_integer(v) || json_is_string(v)) { /* a single status is accepted as is */
        scn_status_range *r = scn_arena_alloc(L->c.arena, sizeof *r);
        if (!r) return -1;
        if (!parse_status_item(v, r)) {
            scn__err(&L->c, p, "must be a status 100-599, \"2xx\" or \"200-299\", or a list");
            return -1;
        }
        *out = r;
        *n = 1;
        return 1;
    }
    if (!scn__want_array(&L->c, p, v)) return -1;
    size_t count = json_array_size(v);
    if (count == 0) {
        scn__err(&L->c, p, "must list at least one status");
        return -1;
    }
    scn_status_range *r = scn_arena_calloc(L->c.arena, count, sizeof *r);
    if (!r) return -1;
    int rc = 1;
    for (size_t i = 0; i < count; i++) {
        if (!parse_status_item(json_array_get(v, i), &r[i])) {
            char ip[SCN__PTR_MAX];
            scn__ptr_idx(ip, p, i);
            scn__err(&L->c, ip, "must be a status 100-599, \"2xx\" or \"200-299\"");
            rc = -1;
        }
    }
    if (rc > 0) {
        *out = r;
        *n = count;
    }
    return rc;
}

static bool token_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s)) return false;
    return true;
}

static bool load_check(scn__loader *L, json_t *chk, const char *ptr, scn_check *out)
{
    static const char *const keys[] = {"status",     "header",   "json",   "equals",
                                       "not_equals", "contains", "exists", "matches"};
    static const char *const subjects[] = {"status", "header", "json"};
    static const char *const ops[] = {"equals", "not_equals", "contains", "exists", "matches"};
    scn__ctx *c = &L->c;
    if (!scn__want_object(c, ptr, chk)) return false;
    bool ok = scn__check_keys(c, ptr, chk, keys, sizeof keys / sizeof *keys);
    int nsub = 0, nop = 0;
    for (int i = 0; i < 3; i++) {
        if (!json_object_get(chk, subjects[i])) continue;
        out->subject = (scn_check_subject)i;
        nsub++;
    }
    for (int i = 0; i < 5; i++) {
        if (!json_object_get(chk, ops[i])) continue;
        out->op = (scn_check_op)i;
        nop++;
    }
    if (nsub != 1) {
        scn__err(c, ptr,
                 "needs exactly one of \"status\": true, \"header\": name or \"json\": "
                 "pointer");
        return false;
    }
    if (nop != 1) {
        scn__err(c, ptr, "needs exactly one of equals, not_equals, contains, exists, matches");
        return false;
    }
    char p[SCN__PTR_MAX];
    const char *s;
    if (out->subject == SCN_CHECK_STATUS) {
        bool t = false;
        if (scn__get_bool(c, chk, ptr, "status", &t) < 0) return false;
        if (!t) {
            scn__ptr_key(p, ptr, "status");
            scn__err(c, p, "must be true (the check reads the status code)");
            return false;
        }
    } else {
        const char *key = subjects[out->subject];
        if (scn__get_str(c, chk, ptr, key, &s) < 0) return false;
        scn__ptr_key(p, ptr, key);
        if (out->subject == SCN_CHECK_HEADER && !token_ok(s)) {
            scn__err(c, p, "must be a header name");
            return false;
        }
        if (out->subject == SCN_CHECK_JSON && *s && *s != '/') {
            scn__err(c, p, "must be a JSON pointer: \"\" or starting with \"/\"");
            return false;
        }
        out->target = scn_arena_strdup(c->arena, s);
    }
    const char *opk = ops[out->op];
    scn__ptr_key(p, ptr, opk);
    json_t *v = json_object_get(chk, opk);
    switch (out->op) {
    case SCN_OP_EXISTS:
        if (scn__get_bool(c, chk, ptr, opk, &out->exists) < 0) return false;
        break;
    case SCN_OP_MATCHES: {
        if (scn__get_str(c, chk, ptr, opk, &s) < 0) return false;
        if (strstr(s, "{{")) {
            scn__err(c, p, "a regular expression cannot use variables (it is compiled once)");
            return false;
        }
        int rc = regcomp(&out->regex, s, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[200];
            regerror(rc, &out->regex, msg, sizeof msg);
            scn__err(c, p, "bad regular expression: %s", msg);
            return false;
        }
        out->pattern = scn_arena_strdup(c->arena, s);
        if (!scn__own_regex(L, out)) {
            regfree(&out->regex);
            return false;
        }
        break;
    }
    default:
        if (!compile_value(L, p, v, &out->value)) return false;
        break;
    }
    return ok;
}

static void load_http(scn__loader *L, json_t *spec, const char *ptr, scn_step *st, bool *ok)
{
    static const char *const keys[] = {"endpoint", "method",        "url",    "headers",
                                       "body",     "expect_status", "checks", "cache_key"};
    scn__ctx *c = &L->c;
    scn_http_step *h = &st->u.http;
    char p[SCN__PTR_MAX];
    if (!scn__check_keys(c, ptr, spec, keys, sizeof keys / sizeof *keys)) *ok = false;
    if (!resolve_endpoint(L, spec, ptr, SCN_EP_HTTP, &st->endpoint)) *ok = false;

    const char *s = "GET";
    int rc = scn__get_str(c, spec, ptr, "method", &s);
    if (rc < 0) *ok = false;
    char *m = scn_arena_strdup(c->arena, s);
    if (m) {
        for (char *q = m; *q; q++)
            if (*q >= 'a' && *q <= 'z') *q = (char)(*q - 32);
        if (!token_ok(m)) {
            scn__ptr_key(p, ptr, "method");
            scn__err(c, p, "must be an HTTP method such as GET or POST");
            *ok = false;
        }
    }
    h->method = m;

    scn__ptr_key(p, ptr, "url");
    rc = scn__get_str(c, spec, ptr, "url", &s);
    if (rc == 0) {
        scn__err(c, ptr, "missing \"url\"");
        *ok = false;
    } else if (rc > 0) {
        h->absolute = strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
        if (!h->absolute && *s != '/' && strncmp(s, "{{", 2) != 0) {
            scn__err(c, p, "must be a path starting with \"/\" or an http(s):// URL");
            *ok = false;
        } else if (!compile(L, p, s, strlen(s), SCN_ENC_RAW, &h->url)) {
            *ok = false;
        }
    } else {
        *ok = false;
    }

    json_t *hv = json_object_get(spec, "headers");
    if (hv) {
        scn__ptr_key(p, ptr, "headers");
        if (scn__want_object(c, p, hv)) {
            scn_header *hs = scn_arena_calloc(c->arena, json_object_size(hv) + 1, sizeof *hs);
            const char *key;
            json_t *val;
            size_t n = 0;
            json_object_foreach(hv, key, val)
            {
                char hp[SCN__PTR_MAX];
                scn__ptr_key(hp, p, key);
                if (!token_ok(key)) {
                    scn__err(c, hp, "bad header name");
                    *ok = false;
                    continue;
                }
                if (scn__get_str(c, hv, p, key, &s) < 0) {
                    *ok = false;
                    continue;
                }
                if (strpbrk(s, "\r\n")) {
                    scn__err(c, hp, "must not contain CR or LF");
                    *ok = false;
                    continue;
                }
                if (!hs) continue;
                hs[n].name = scn_arena_strdup(c->arena, key);
                if (!compile(L, hp, s, strlen(s), SCN_ENC_RAW, &hs[n].value)) {
                    *ok = false;
                    continue;
                }
                n++;
            }
            h->headers = hs;
            h->nheaders = n;
        } else {
            *ok = false;
        }
    }

    json_t *body = json_object_get(spec, "body");
    if (body) {
        scn__ptr_key(p, ptr, "body");
        h->has_body = true;
        if (json_is_string(body)) {
            if (!compile(L, p, json_string_value(body), json_string_length(body), SCN_ENC_RAW,
                         &h->body))
                *ok = false;
        } else {
            h->json_body = true;
            char *text = json_dumps(body, JSON_ENCODE_ANY | JSON_COMPACT);
            if (!text || !compile(L, p, text, strlen(text), SCN_ENC_JSON, &h->body)) *ok = false;
            free(text);
        }
    }

    json_t *ck = json_object_get(spec, "cache_key");
    if (ck) {
        scn__ptr_key(p, ptr, "cache_key");
        if (!json_is_string(ck)) {
            scn__err(c, p, "must be a string (a template)");
            *ok = false;
        } else if (compile(L, p, json_string_value(ck), json_string_length(ck), SCN_ENC_RAW,
                           &h->cache_key)) {
            h->has_cache_key = true;
        } else {
            *ok = false;
        }
    }

    rc = scn__load_expect(L, spec, ptr, "expect_status", &h->expect, &h->nexpect);
    if (rc < 0) *ok = false;
    if (rc == 0) {
        h->expect = L->s->defaults.expect;
        h->nexpect = L->s->defaults.nexpect;
    }

    json_t *checks = json_object_get(spec, "checks");
    if (checks) {
        scn__ptr_key(p, ptr, "checks");
        if (scn__want_array(c, p, checks)) {
            size_t n = json_array_size(checks);
            scn_check *cs = scn_arena_calloc(c->arena, n + 1, sizeof *cs);
            for (size_t i = 0; cs && i < n; i++) {
                char cp[SCN__PTR_MAX];
                scn__ptr_idx(cp, p, i);
                if (!load_check(L, json_array_get(checks, i), cp, &cs[i])) *ok = false;
                if (cs[i].subject == SCN_CHECK_JSON) h->needs_body = true;
            }
            h->checks = cs;
            h->nchecks = n;
        } else {
            *ok = false;
        }
    }
}

static void load_redis(scn__loader *L, json_t *spec, const char *ptr, scn_step *st, bool *ok)
{
    static const char *const keys[] = {"endpoint", "command"};
    scn__ctx *c = &L->c;
    if (!scn__check_keys(c, ptr, spec, keys, sizeof keys / sizeof *keys)) *ok = false;
    if (!resolve_endpoint(L, spec, ptr, SCN_EP_REDIS, &st->endpoint)) *ok = false;
    json_t *cmd = json_object_get(spec, "command");
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "command");
    if (!cmd) {
        scn__err(c, ptr, "missing \"command\" (a list such as [\"GET\", \"key:{{id}}\"])");
        *ok = false;
        return;
    }
    if (!scn__want_array(c, p, cmd)) {
        *ok = false;
        return;
    }
    size_t n = json_array_size(cmd);
    if (n == 0) {
        scn__err(c, p, "must not be empty");
        *ok = false;
        return;
    }
    scn_tpl *argv = scn_arena_calloc(c->arena, n, sizeof *argv);
    if (!argv) return;
    for (size_t i = 0; i < n; i++) {
        char ap[SCN__PTR_MAX];
        scn__ptr_idx(ap, p, i);
        json_t *v = json_array_get(cmd, i);
        if (json_is_boolean(v) || json_is_null(v)) {
            scn__err(c, ap, "must be a string or a number, not %s", scn__type_name(v));
            *ok = false;
        } else if (!compile_value(L, ap, v, &argv[i])) {
            *ok = false;
        } else if (i == 0 && (!argv[0].literal || argv[0].len == 0)) {
            scn__err(c, ap, "the command name must be a non-empty literal");
            *ok = false;
        }
    }
    st->u.redis.argv = argv;
    st->u.redis.argc = n;
}

static bool ident_char(char ch)
{
    return ch == '_' || ch == '$' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9');
}

/* Highest $n in query (outside quotes and comments); marks used[1..] (size 65536).
 * Returns -1 for $0 or a number above 65535. */
static long scan_params(const char *q, bool *used)
{
    long max = 0;
    for (size_t i = 0; q[i];) {
        char ch = q[i];
        if (ch == '\'' || ch == '"') {
            i++;
            while (q[i] && q[i] != ch)
                i++;
            if (q[i]) i++;
        } else if (ch == '-' && q[i + 1] == '-') {
            while (q[i] && q[i] != '\n')
                i++;
        } else if (ch == '/' && q[i + 1] == '*') {
            i += 2;
            while (q[i] && !(q[i] == '*' && q[i + 1] == '/'))
                i++;
            if (q[i]) i += 2;
        } else if (ch == '$' && q[i + 1] >= '0' && q[i + 1] <= '9' &&
                   (i == 0 || !ident_char(q[i - 1]))) {
            long n = 0;
            i++;
            while (q[i] >= '0' && q[i] <= '9') {
                n = n * 10 + (q[i] - '0');
                if (n > 65535) return -1;
                i++;
            }
            if (n == 0) return -1;
            used[n] = true;
            if (n > max) max = n;
        } else {
            i++;
        }
    }
    return max;
}

static void load_sql(scn__loader *L, json_t *spec, const char *ptr, scn_step *st, bool *ok)
{
    static const char *const keys[] = {"endpoint", "query", "params"};
    scn__ctx *c = &L->c;
    if (!scn__check_keys(c, ptr, spec, keys, sizeof keys / sizeof *keys)) *ok = false;
    if (!resolve_endpoint(L, spec, ptr, SCN_EP_POSTGRES, &st->endpoint)) *ok = false;
    char p[SCN__PTR_MAX];
    const char *q;
    int rc = scn__get_str(c, spec, ptr, "query", &q);
    long max = -2;
    bool *used = NULL;
    scn__ptr_key(p, ptr, "query");
    if (rc == 0) {
        scn__err(c, ptr, "missing \"query\"");
        *ok = false;
    } else if (rc > 0) {
        used = calloc(65536, sizeof *used);
        if (!used) return;
        if (!*q) {
            scn__err(c, p, "must not be empty");
            *ok = false;
        } else if (strstr(q, "{{")) {
            scn__err(c, p,
                     "the query text cannot use {{variables}}: write $1, $2, ... and "
                     "list the values in \"params\"");
            *ok = false;
        } else if ((max = scan_params(q, used)) < 0) {
            scn__err(c, p, "parameters are numbered $1 to $65535");
            *ok = false;
            max = -2;
        }
        st->u.sql.query = scn_arena_strdup(c->arena, q);
    } else {
        *ok = false;
    }
    json_t *params = json_object_get(spec, "params");
    size_t n = 0;
    scn__ptr_key(p, ptr, "params");
    if (params && scn__want_array(c, p, params)) {
        n = json_array_size(params);
        scn_tpl *tp = scn_arena_calloc(c->arena, n + 1, sizeof *tp);
        for (size_t i = 0; tp && i < n; i++) {
            char ip[SCN__PTR_MAX];
            scn__ptr_idx(ip, p, i);
            json_t *v = json_array_get(params, i);
            if (json_is_null(v) || json_is_boolean(v) || json_is_object(v) || json_is_array(v)) {
                scn__err(c, ip, "must be a string or a number, not %s", scn__type_name(v));
                *ok = false;
            } else if (!compile_value(L, ip, v, &tp[i])) {
                *ok = false;
            }
        }
        st->u.sql.params = tp;
        st->u.sql.nparams = n;
    } else if (params) {
        *ok = false;
        max = -2;
    }
    if (max >= 0) {
        scn__ptr_key(p, ptr, params ? "params" : "query");
        if ((size_t)max != n) {
            scn__err(c, p,
                     "the query uses %ld parameter%s ($1..$%ld) but \"params\" "
                     "lists %zu",
                     max, max == 1 ? "" : "s", max, n);
            *ok = false;
        } else {
            for (long k = 1; k <= max; k++) {
                if (!used[k]) {
                    scn__ptr_key(p, ptr, "query");
                    scn__err(c, p, "$%ld is never used (PostgreSQL cannot infer its type)", k);
                    *ok = false;
                    break;
                }
            }
        }
    }
    free(used);
}

/* Adds the data sets used by t to mark[]. */
static void mark_sets(scn__loader *L, const scn_tpl *t, bool *mark)
{
    for (uint32_t i = 0; i < t->nsegs; i++)
        if (t->segs[i].kind == SCN_SEG_VAR && t->segs[i].var < L->nvars)
            mark[L->vars[t->segs[i].var].set] = true;
}

static void collect_sets(scn__loader *L, scn_step *st)
{
    bool mark[L->ndata + 1];
    memset(mark, 0, sizeof mark);
    if (st->kind == SCN_STEP_HTTP) {
        const scn_http_step *h = &st->u.http;
        mark_sets(L, &h->url, mark);
        for (size_t i = 0; i < h->nheaders; i++)
            mark_sets(L, &h->headers[i].value, mark);
        if (h->has_body) mark_sets(L, &h->body, mark);
        if (h->has_cache_key) mark_sets(L, &h->cache_key, mark);
        for (size_t i = 0; i < h->nchecks; i++)
            mark_sets(L, &h->checks[i].value, mark);
    } else if (st->kind == SCN_STEP_REDIS) {
        for (size_t i = 0; i < st->u.redis.argc; i++)
            mark_sets(L, &st->u.redis.argv[i], mark);
    } else {
        for (size_t i = 0; i < st->u.sql.nparams; i++)
            mark_sets(L, &st->u.sql.params[i], mark);
    }
    size_t n = 0;
    for (size_t i = 0; i < L->ndata; i++)
        n += mark[i];
    uint32_t *sets = scn_arena_calloc(L->c.arena, n + 1, sizeof *sets);
    if (!sets) return;
    n = 0;
    for (size_t i = 0; i < L->ndata; i++)
        if (mark[i]) sets[n++] = (uint32_t)i;
    st->sets = sets;
    st->nsets = n;
}

void scn__load_step(scn__loader *L, json_t *spec, const char *ptr, const char *name, scn_step *st,
                    bool *ok)
{
    static const char *const keys[] = {"http", "redis", "sql", "tags", "timeout"};
    scn__ctx *c = &L->c;
    st->name = scn_arena_strdup(c->arena, name);
    st->endpoint = SCN_NONE;
    if (!scn__want_object(c, ptr, spec)) {
        *ok = false;
        return;
    }
    if (!scn__check_keys(c, ptr, spec, keys, sizeof keys / sizeof *keys)) *ok = false;
    int kinds = 0;
    for (int i = 0; i < 3; i++) {
        if (json_object_get(spec, STEP_KINDS[i])) {
            st->kind = (scn_step_kind)i;
            kinds++;
        }
    }
    if (kinds != 1) {
        scn__err(c, ptr, "needs exactly one of \"http\", \"redis\" or \"sql\"");
        *ok = false;
        return;
    }
    char **tags;
    size_t ntags;
    int rc = scn__get_str_list(c, spec, ptr, "tags", &tags, &ntags);
    if (rc > 0) {
        st->tags = (const char *const *)tags;
        st->ntags = ntags;
    } else if (rc < 0) {
        *ok = false;
    }
    if (scn__get_duration(c, spec, ptr, "timeout", false, &st->timeout_ns) < 0) *ok = false;

    json_t *body = json_object_get(spec, STEP_KINDS[st->kind]);
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, STEP_KINDS[st->kind]);
    if (!scn__want_object(c, p, body)) {
        *ok = false;
        return;
    }
    if (st->kind == SCN_STEP_HTTP)
        load_http(L, body, p, st, ok);
    else if (st->kind == SCN_STEP_REDIS)
        load_redis(L, body, p, st, ok);
    else
        load_sql(L, body, p, st, ok);

    collect_sets(L, st);
    if (st->timeout_ns == 0) st->timeout_ns = L->s->defaults.timeout_ns;
    if (st->timeout_ns == 0 && st->endpoint != SCN_NONE) {
        const scn_endpoint *e = &L->endpoints[st->endpoint];
        st->timeout_ns = e->type == SCN_EP_HTTP    ? e->u.http.timeout_ns
                         : e->type == SCN_EP_REDIS ? e->u.redis.timeout_ns
                                                   : e->u.pg.timeout_ns;
    }
}
