#include "report/targets.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics_query.h"
#include "util/jptr.h"

#define TGT_TEXT_MAX 1024 /* longest expression accepted */
#define TGT_VALS_MAX 64   /* values per selector */

typedef enum tgt_op { TGT_LT = 0, TGT_LE, TGT_GT, TGT_GE, TGT_EQ, TGT_NE } tgt_op;

static const char *const op_text[] = {"<", "<=", ">", ">=", "==", "!="};

typedef struct tgt_target {
    char *name;
    char *expr;
    char *metric_name;
    char *description; /* NULL when absent */
    mq_metric metric;
    char **vals[MQ_NSEL];
    size_t nvals[MQ_NSEL];
    char **tag_phases;
    size_t ntag_phases;
    tgt_op op;
    double threshold; /* as written, in unit */
    char unit[4];     /* "", "us", "ms", "s", "%" */
    double base;      /* threshold in the metric's base unit */
    bool warn;        /* severity "warn" */
    bool abort_on_fail;
    long long min_samples;
} tgt_target;

struct tgt_set {
    tgt_target *t;
    size_t n;
};

/* ---- helpers ---------------------------------------------------------------------------- */

typedef struct compile_ctx {
    const scn_scenario *s;
    const char *file;
    scn_diags *d;
    size_t errors;
    bool oom;
    char ptr[512]; /* /targets/<escaped key> */
} compile_ctx;

static void report(compile_ctx *c, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(compile_ctx *c, const char *sub, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    if (c->d) scn_diags_add(c->d, "%s: %s%s: %s", c->file, c->ptr, sub ? sub : "", msg);
}

static char *dupn(compile_ctx *c, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        c->oom = true;
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static void free_target(tgt_target *t)
{
    free(t->name);
    free(t->expr);
    free(t->metric_name);
    free(t->description);
    for (int i = 0; i < MQ_NSEL; i++) {
        for (size_t k = 0; k < t->nvals[i]; k++)
            free(t->vals[i][k]);
        free(t->vals[i]);
    }
    for (size_t k = 0; k < t->ntag_phases; k++)
        free(t->tag_phases[k]);
    free(t->tag_phases);
}

static bool push(compile_ctx *c, char ***list, size_t *n, const char *s, size_t len)
{
    char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown) {
        c->oom = true;
        return false;
    }
    *list = grown;
    char *v = dupn(c, s, len);
    if (!v) return false;
    grown[(*n)++] = v;
    return true;
}

/* ---- the left side: metric{selectors} --------------------------------------------------- */

static void parse_selectors(compile_ctx *c, const char *sub, tgt_target *t, const char *s, size_t n)
{
    int cur = -1;
    for (;;) {
        const char *comma = memchr(s, ',', n);
        size_t len = comma ? (size_t)(comma - s) : n;
        const char *item = s;
        size_t ilen = len;
        trim(&item, &ilen);
        const char *colon = memchr(item, ':', ilen);
        if (ilen == 0) {
            report(c, sub, "empty selector in \"{...}\"");
            return;
        }
        const char *val = item;
        size_t vlen = ilen;
        if (colon) {
            const char *key = item;
            size_t klen = (size_t)(colon - item);
            trim(&key, &klen);
            char kb[32];
            snprintf(kb, sizeof kb, "%.*s", (int)(klen < 31 ? klen : 31), key);
            cur = klen < 31 ? mq_sel_parse(kb) : -1;
            if (cur < 0) {
                report(c, sub,
                       "unknown selector \"%.*s\" (selectors: phase, step, tag, endpoint, check, "
                       "path, from, to)",
                       (int)(klen < 60 ? klen : 60), key);
                return;
            }
            if (t->nvals[cur]) {
                report(c, sub, "selector \"%s\" given twice (list its values: {%s:a,b})", kb, kb);
                return;
            }
            val = colon + 1;
            vlen = ilen - (size_t)(val - item);
            trim(&val, &vlen);
        } else if (cur < 0) {
            report(c, sub, "selector \"%.*s\" needs a name: write {phase:%.*s}",
                   (int)(ilen < 60 ? ilen : 60), item, (int)(ilen < 60 ? ilen : 60), item);
            return;
        }
        if (vlen == 0) {
            report(c, sub, "selector \"%s\" has an empty value", mq_sel_name((mq_sel)cur));
            return;
        }
        if (t->nvals[cur] >= TGT_VALS_MAX) {
            report(c, sub, "selector \"%s\" has more than %d values", mq_sel_name((mq_sel)cur),
                   TGT_VALS_MAX);
            return;
        }
        if (!push(c, &t->vals[cur], &t->nvals[cur], val, vlen)) return;
        if (!comma) break;
        s = comma + 1;
        n -= len + 1;
    }
}

static bool parse_lhs(compile_ctx *c, const char *sub, tgt_target *t, const char *s, size_t n)
{
    trim(&s, &n);
    const char *brace = memchr(s, '{', n);
    size_t mlen = brace ? (size_t)(brace - s) : n;
    const char *m = s;
    trim(&m, &mlen);
    if (mlen == 0) {
        report(c, sub, "missing the metric name (e.g. \"http.warm.p95{step:report}\")");
        return false;
    }
    t->metric_name = dupn(c, m, mlen);
    if (!t->metric_name) return false;
    cut_err e;
    cut_err_clear(&e);
    if (mq_parse(t->metric_name, &t->metric, &e) < 0) {
        report(c, sub, "%s", e.msg);
        return false;
    }
    if (brace) {
        if (s[n - 1] != '}') {
            report(c, sub, "selectors must end with '}' (e.g. \"{phase:warm}\")");
            return false;
        }
        size_t before = c->errors;
        parse_selectors(c, sub, t, brace + 1, (size_t)(s + n - 1 - (brace + 1)));
        if (c->errors != before || c->oom) return false;
    }
    return true;
}

/* ---- the right side: op number [unit] --------------------------------------------------- */

static bool parse_rhs(compile_ctx *c, const char *sub, tgt_target *t, const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    int op = -1;
    for (int i = 0; i < 6; i++) {
        size_t l = strlen(op_text[i]);
        if (strncmp(s, op_text[i], l) == 0 && (op < 0 || l > strlen(op_text[op]))) op = i;
    }
    if (op < 0) {
        report(c, sub, "expected an operator (< <= > >= == !=) before \"%.40s\"", s);
        return false;
    }
    t->op = (tgt_op)op;
    s += strlen(op_text[op]);
    while (isspace((unsigned char)*s))
        s++;
    /* strtod also takes "inf", "nan" and hex; a threshold is a plain decimal number. */
    if (!(isdigit((unsigned char)*s) || ((*s == '-' || *s == '+' || *s == '.') &&
                                         (isdigit((unsigned char)s[1]) || s[1] == '.')))) {
        report(c, sub, "expected a number after \"%s\"", op_text[op]);
        return false;
    }
    char *end;
    double v = strtod(s, &end);
    for (const char *p = s; p < end; p++)
        if (*p == 'x' || *p == 'X') end = (char *)p; /* no hex */
    if (!isfinite(v)) {
        report(c, sub, "the number is out of range");
        return false;
    }
    t->threshold = v;
    s = end;
    while (isspace((unsigned char)*s))
        s++;
    static const char *const units[] = {"us", "ms", "s", "%"};
    size_t ul = strlen(s);
    while (ul && isspace((unsigned char)s[ul - 1]))
        ul--;
    if (ul) {
        int u = -1;
        for (int i = 0; i < 4; i++)
            if (strlen(units[i]) == ul && strncmp(s, units[i], ul) == 0) u = i;
        if (u < 0) {
            report(c, sub, "unknown unit \"%.*s\" (units: us, ms, s, %%)", (int)(ul < 20 ? ul : 20),
                   s);
            return false;
        }
        snprintf(t->unit, sizeof t->unit, "%s", units[u]);
    }
    return true;
}

/* Checks the unit against what the metric measures and converts the threshold. */
static bool check_unit(compile_ctx *c, const char *sub, tgt_target *t)
{
    const char *u = t->unit;
    double v = t->threshold;
    bool time = !strcmp(u, "us") || !strcmp(u, "ms") || !strcmp(u, "s");
    double us = !strcmp(u, "s") ? 1e6 : !strcmp(u, "ms") ? 1e3 : 1;
    switch (t->metric.dim) {
    case MQ_DIM_LATENCY:
        if (!time) {
            report(c, sub, "%s is a latency: give a unit (us, ms or s), e.g. \"< 300ms\"",
                   t->metric_name);
            return false;
        }
        t->base = v * us;
        return true;
    case MQ_DIM_SECONDS:
        if (*u && !time) {
            report(c, sub, "%s is a duration: use us, ms or s", t->metric_name);
            return false;
        }
        t->base = *u ? v * us / 1e6 : v;
        return true;
    case MQ_DIM_RATIO:
        if (!strcmp(u, "%")) {
            t->base = v / 100;
        } else if (*u) {
            report(c, sub, "%s is a rate: use %% or a fraction", t->metric_name);
            return false;
        } else if (v < 0 || v > 1) {
            report(c, sub, "%s is a rate: a fraction from 0 to 1, or a percentage such as %g%%",
                   t->metric_name, v);
            return false;
        } else {
            t->base = v;
        }
        return true;
    case MQ_DIM_COUNT:
    case MQ_DIM_RATE:
        if (*u) {
            report(c, sub, "%s is a %s: it takes no unit", t->metric_name,
                   t->metric.dim == MQ_DIM_COUNT ? "count" : "rate per second");
            return false;
        }
        t->base = v;
        return true;
    }
    return false;
}

/* ---- checks against the scenario -------------------------------------------------------- */

static const char *kind_name(scn_step_kind k)
{
    return k == SCN_STEP_HTTP ? "http" : k == SCN_STEP_REDIS ? "redis" : "sql";
}

static bool scenario_has_tag(const scn_scenario *s, const char *tag)
{
    for (size_t i = 0; i < s->nsteps; i++)
        for (size_t k = 0; k < s->steps[i].ntags; k++)
            if (strcmp(s->steps[i].tags[k], tag) == 0) return true;
    for (size_t i = 0; i < s->nphases; i++)
        for (size_t k = 0; k < s->phases[i].ntags; k++)
            if (strcmp(s->phases[i].tags[k], tag) == 0) return true;
    return false;
}

static bool has_check(const scn_scenario *s, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(s->data_checks, i, c)
    {
        json_t *n = json_object_get(c, "name");
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0) return true;
    }
    return false;
}

static void check_phase(compile_ctx *c, const char *sub, const char *sel, const char *name)
{
    const scn_phase *p = scn_find_phase(c->s, name);
    if (!p)
        report(c, sub, "%s: the scenario has no phase \"%.80s\"", sel, name);
    else if (!p->record)
        report(c, sub, "%s: phase \"%.80s\" has \"record\": false, so no target sees it", sel,
               name);
}

static void check_scenario(compile_ctx *c, const char *sub, tgt_target *t)
{
    const scn_scenario *s = c->s;
    mq_family f = t->metric.family;
    if ((f == MQ_PARITY_MISMATCH_RATE || f == MQ_PARITY_MISMATCHES || f == MQ_PARITY_FIELD_RATE) &&
        !s->parity)
        report(c, sub, "%s needs a \"parity\" section, and the scenario has none", t->metric_name);
    if ((f == MQ_DATA_COUNT_DIFF || f == MQ_DATA_MISSING_IN_PG || f == MQ_DATA_MISSING_IN_REDIS ||
         f == MQ_DATA_FIELD_MISMATCHES) &&
        !s->data_checks)
        report(c, sub, "%s needs a \"data_checks\" section, and the scenario has none",
               t->metric_name);
    if ((f == MQ_BREAKER_TRIPS || f == MQ_BREAKER_OPEN_SECONDS || f == MQ_BREAKER_REJECTIONS) &&
        !s->breakers)
        report(c, sub, "%s needs a \"breakers\" section, and the scenario has none",
               t->metric_name);
    for (size_t i = 0; i < t->nvals[MQ_SEL_PHASE]; i++)
        check_phase(c, sub, "phase", t->vals[MQ_SEL_PHASE][i]);
    for (size_t i = 0; i < t->nvals[MQ_SEL_FROM]; i++)
        check_phase(c, sub, "from", t->vals[MQ_SEL_FROM][i]);
    for (size_t i = 0; i < t->nvals[MQ_SEL_TO]; i++)
        check_phase(c, sub, "to", t->vals[MQ_SEL_TO][i]);
    for (size_t i = 0; i < t->nvals[MQ_SEL_STEP]; i++) {
        const char *v = t->vals[MQ_SEL_STEP][i];
        const scn_step *st = scn_find_step(s, v);
        if (!st)
            report(c, sub, "step: the scenario has no step \"%.80s\"", v);
        else if (f == MQ_LATENCY && strcmp(kind_name(st->kind), t->metric.kind) != 0)
            report(c, sub, "step \"%.80s\" is a %s step; %s covers %s steps only", v,
                   kind_name(st->kind), t->metric_name, t->metric.kind);
    }
    for (size_t i = 0; i < t->nvals[MQ_SEL_ENDPOINT]; i++)
        if (!scn_find_endpoint(s, t->vals[MQ_SEL_ENDPOINT][i]))
            report(c, sub, "endpoint: the scenario has no endpoint \"%.80s\"",
                   t->vals[MQ_SEL_ENDPOINT][i]);
    for (size_t i = 0; i < t->nvals[MQ_SEL_TAG]; i++)
        if (!scenario_has_tag(s, t->vals[MQ_SEL_TAG][i]))
            report(c, sub, "tag: no step or phase of the scenario has tag \"%.80s\"",
                   t->vals[MQ_SEL_TAG][i]);
    for (size_t i = 0; i < t->nvals[MQ_SEL_CHECK]; i++)
        if (s->data_checks && !has_check(s, t->vals[MQ_SEL_CHECK][i]))
            report(c, sub, "check: the scenario has no data check \"%.80s\"",
                   t->vals[MQ_SEL_CHECK][i]);
    /* Phases carrying a selected tag: the results list tags per step only. */
    for (size_t i = 0; i < s->nphases && t->nvals[MQ_SEL_TAG]; i++) {
        const scn_phase *p = &s->phases[i];
        bool hit = false;
        for (size_t k = 0; k < p->ntags; k++)
            for (size_t j = 0; j < t->nvals[MQ_SEL_TAG]; j++)
                if (strcmp(p->tags[k], t->vals[MQ_SEL_TAG][j]) == 0) hit = true;
        if (hit && !push(c, &t->tag_phases, &t->ntag_phases, p->name, strlen(p->name))) return;
    }
}

static void check_selectors(compile_ctx *c, const char *sub, tgt_target *t)
{
    const mq_metric *m = &t->metric;
    for (int i = 0; i < MQ_NSEL; i++) {
        unsigned bit = 1u << i;
        if (t->nvals[i] && !(m->sels & bit)) {
            char allowed[128] = "";
            for (int k = 0; k < MQ_NSEL; k++)
                if (m->sels & (1u << k)) {
                    size_t l = strlen(allowed);
                    snprintf(allowed + l, sizeof allowed - l, "%s%s", l ? ", " : "",
                             mq_sel_name((mq_sel)k));
                }
            report(c, sub, "selector \"%s\" does not apply to %s (%s%s)", mq_sel_name((mq_sel)i),
                   t->metric_name, *allowed ? "it takes: " : "it takes no selectors", allowed);
        }
        if ((m->required & bit) && !t->nvals[i])
            report(c, sub, "%s needs the selector \"%s\"", t->metric_name, mq_sel_name((mq_sel)i));
        if ((m->single & bit) && t->nvals[i] > 1)
            report(c, sub, "selector \"%s\" of %s takes one value", mq_sel_name((mq_sel)i),
                   t->metric_name);
    }
    for (size_t i = 0; i < t->nvals[MQ_SEL_PATH]; i++)
        if (t->vals[MQ_SEL_PATH][i][0] != '/')
            report(c, sub, "path: \"%.80s\" is not a JSON pointer (it starts with '/')",
                   t->vals[MQ_SEL_PATH][i]);
}

/* ---- one target --------------------------------------------------------------------------- */

/* Splits "lhs op rhs" at the first operator character outside the braces. */
static const char *find_op(const char *s)
{
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '{') depth++;
        if (*p == '}' && depth > 0) depth--;
        if (!depth && (*p == '<' || *p == '>' || *p == '=' || *p == '!')) return p;
    }
    return NULL;
}

static void compile_one(compile_ctx *c, const char *key, json_t *val, tgt_target *t)
{
    const char *sub = NULL;
    t->name = dupn(c, key, strlen(key));
    if (!t->name) return;
    if (strlen(key) > TGT_TEXT_MAX) {
        report(c, NULL, "the target is longer than %d characters", TGT_TEXT_MAX);
        return;
    }
    if (json_is_string(val)) {
        const char *rhs = json_string_value(val);
        if (strlen(rhs) > TGT_TEXT_MAX) {
            report(c, NULL, "the target is longer than %d characters", TGT_TEXT_MAX);
            return;
        }
        size_t n = strlen(key) + strlen(rhs) + 2;
        t->expr = malloc(n);
        if (!t->expr) {
            c->oom = true;
            return;
        }
        snprintf(t->expr, n, "%s %s", key, rhs);
        bool ok = parse_lhs(c, sub, t, key, strlen(key));
        if (parse_rhs(c, sub, t, rhs) && ok) check_unit(c, sub, t);
    } else if (json_is_object(val)) {
        const char *k;
        json_t *v;
        json_object_foreach(val, k, v)
        {
            if (strcmp(k, "expr") && strcmp(k, "severity") && strcmp(k, "abort_on_fail") &&
                strcmp(k, "min_samples") && strcmp(k, "description")) {
                char p[300];
                jptr_escape(p, sizeof p, k, strlen(k));
                report(c, p,
                       "unknown key (keys: expr, severity, abort_on_fail, min_samples, "
                       "description)");
            }
        }
        json_t *sev = json_object_get(val, "severity");
        if (sev) {
            const char *sv = json_is_string(sev) ? json_string_value(sev) : "";
            if (!strcmp(sv, "warn"))
                t->warn = true;
            else if (strcmp(sv, "fail") != 0)
                report(c, "/severity", "must be \"fail\" or \"warn\"");
        }
        json_t *ab = json_object_get(val, "abort_on_fail");
        if (ab && !json_is_boolean(ab)) report(c, "/abort_on_fail", "must be true or false");
        t->abort_on_fail = json_is_true(ab);
        json_t *ms = json_object_get(val, "min_samples");
        if (ms && (!json_is_integer(ms) || json_integer_value(ms) < 0))
            report(c, "/min_samples", "must be an integer >= 0");
        else if (ms)
            t->min_samples = json_integer_value(ms);
        json_t *ds = json_object_get(val, "description");
        if (ds && !json_is_string(ds)) report(c, "/description", "must be a string");
        if (json_is_string(ds)) {
            t->description = dupn(c, json_string_value(ds), strlen(json_string_value(ds)));
            if (!t->description) return;
        }
        json_t *ex = json_object_get(val, "expr");
        sub = "/expr";
        if (!json_is_string(ex)) {
            report(c, ex ? sub : NULL,
                   ex ? "must be a string such as \"errors.rate < 1%%\""
                      : "missing \"expr\" (e.g. \"errors.rate < 1%%\")");
            return;
        }
        const char *e = json_string_value(ex);
        if (strlen(e) > TGT_TEXT_MAX) {
            report(c, sub, "longer than %d characters", TGT_TEXT_MAX);
            return;
        }
        t->expr = dupn(c, e, strlen(e));
        if (!t->expr) return;
        const char *op = find_op(e);
        if (!op) {
            report(c, sub, "expected \"metric{selectors} operator value\", e.g. \"%s\"",
                   "errors.rate < 1%");
            return;
        }
        bool ok = parse_lhs(c, sub, t, e, (size_t)(op - e));
        if (parse_rhs(c, sub, t, op) && ok) check_unit(c, sub, t);
    } else {
        report(c, NULL, "must be a string such as \"< 300ms\" or an object with \"expr\"");
        return;
    }
    if (!t->metric_name || c->oom) return;
    check_selectors(c, sub, t);
    if (c->s) check_scenario(c, sub, t);
}

int tgt_compile_json(const json_t *targets, const scn_scenario *s, const char *file, tgt_set **out,
                     scn_diags *d)
{
    *out = NULL;
    compile_ctx c = {.s = s, .file = file ? file : "scenario", .d = d};
    tgt_set *set = calloc(1, sizeof *set);
    if (!set) return CUT_ENOMEM;
    if (targets && !json_is_object(targets)) {
        snprintf(c.ptr, sizeof c.ptr, "/targets");
        report(&c, NULL, "must be an object of \"metric{selectors}\": \"op value\" pairs");
        goto fail;
    }
    size_t n = targets ? json_object_size(targets) : 0;
    if (n) {
        set->t = calloc(n, sizeof *set->t);
        if (!set->t) {
            c.oom = true;
            goto fail;
        }
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)targets, key, val)
    {
        char esc[480];
        jptr_escape(esc, sizeof esc, key, strlen(key));
        snprintf(c.ptr, sizeof c.ptr, "/targets%s", esc);
        compile_one(&c, key, val, &set->t[set->n++]);
        if (c.oom) goto fail;
    }
    if (c.errors) goto fail;
    *out = set;
    return 0;
fail:
    tgt_free(set);
    return c.oom ? CUT_ENOMEM : CUT_EINVAL;
}

int tgt_compile(const scn_scenario *s, tgt_set **out, scn_diags *d)
{
    return tgt_compile_json(s->targets, s, s->file, out, d);
}

size_t tgt_count(const tgt_set *t)
{
    return t ? t->n : 0;
}

void tgt_free(tgt_set *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++)
        free_target(&t->t[i]);
    free(t->t);
    free(t);
}

/* ---- judging ---------------------------------------------------------------------------- */

static bool holds(tgt_op op, double a, double b)
{
    double tol = 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
    bool eq = fabs(a - b) <= tol;
    switch (op) {
    case TGT_LT:
        return a < b && !eq;
    case TGT_LE:
        return a < b || eq;
    case TGT_GT:
        return a > b && !eq;
    case TGT_GE:
        return a > b || eq;
    case TGT_EQ:
        return eq;
    case TGT_NE:
        return !eq;
    }
    return false;
}

static void fmt_num(char *buf, size_t cap, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(buf, cap, "%.1f", v);
    else if (fabs(v) >= 1)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.3g", v);
}

/* The measured value in the target's unit, and as text. */
static double in_unit(const tgt_target *t, double base, char *text, size_t cap)
{
    char num[40];
    const char *u = t->unit;
    double v = base;
    switch (t->metric.dim) {
    case MQ_DIM_LATENCY:
        v = !strcmp(u, "s") ? base / 1e6 : !strcmp(u, "ms") ? base / 1e3 : base;
        break;
    case MQ_DIM_SECONDS:
        v = !strcmp(u, "us") ? base * 1e6 : !strcmp(u, "ms") ? base * 1e3 : base;
        if (!*u) u = "s";
        break;
    case MQ_DIM_RATIO:
        if (!strcmp(u, "%")) v = base * 100;
        /* A bare fraction reads better as a percentage. */
        fmt_num(num, sizeof num, base * 100);
        snprintf(text, cap, "%s%%", num);
        return v;
    case MQ_DIM_COUNT:
    case MQ_DIM_RATE:
        break;
    }
    fmt_num(num, sizeof num, v);
    snprintf(text, cap, "%s%s%s", num, *u && strcmp(u, "%") ? " " : "", u);
    return v;
}

static json_t *selectors_json(const tgt_target *t)
{
    json_t *o = json_object();
    for (int i = 0; i < MQ_NSEL && o; i++) {
        if (!t->nvals[i]) continue;
        json_t *a = json_array();
        for (size_t k = 0; k < t->nvals[i]; k++)
            json_array_append_new(a, json_string(t->vals[i][k]));
        json_object_set_new(o, mq_sel_name((mq_sel)i), a);
    }
    return o;
}

static int judge_one(const tgt_target *t, const json_t *results, tgt_summary *sum, json_t **out,
                     cut_err *err)
{
    mq_filter f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < MQ_NSEL; i++) {
        f.vals[i] = (const char *const *)t->vals[i];
        f.nvals[i] = t->nvals[i];
    }
    f.tag_phases = (const char *const *)t->tag_phases;
    f.ntag_phases = t->ntag_phases;
    mq_value v;
    int rc = mq_eval(&t->metric, &f, results, &v, err);
    if (rc < 0) return rc;

    char target[96], thr[40], measured[64] = "no data", reason[512];
    fmt_num(thr, sizeof thr, t->threshold);
    snprintf(target, sizeof target, "%s %s%s%s", op_text[t->op], thr,
             *t->unit && strcmp(t->unit, "%") ? " " : "", t->unit);
    double shown = 0;
    if (v.has) shown = in_unit(t, v.value, measured, sizeof measured);
    bool low = v.has && t->min_samples > 0 && v.samples < (uint64_t)t->min_samples;
    bool ok = v.has && holds(t->op, v.value, t->base);
    const char *status;
    if (ok && !low) {
        status = "pass";
        snprintf(reason, sizeof reason, "%s %s", measured, target);
    } else if (ok) {
        status = "warn";
        snprintf(reason, sizeof reason, "%s %s, but on %llu samples (min_samples %lld)", measured,
                 target, (unsigned long long)v.samples, t->min_samples);
    } else {
        status = t->warn ? "warn" : "fail";
        if (!v.has)
            snprintf(reason, sizeof reason, "%s", v.note[0] ? v.note : "no data");
        else
            snprintf(reason, sizeof reason, "measured %s, target %s%s", measured, target,
                     low ? " (on fewer samples than min_samples)" : "");
    }
    if (v.has && v.note[0]) {
        size_t l = strlen(reason);
        snprintf(reason + l, sizeof reason - l, "; %s", v.note);
    }

    json_t *o = json_object();
    if (!o) return cut_err_set(err, CUT_ENOMEM, "out of memory judging the targets");
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "expr", json_string(t->expr));
    json_object_set_new(o, "metric", json_string(t->metric_name));
    json_object_set_new(o, "selectors", selectors_json(t));
    json_object_set_new(o, "op", json_string(op_text[t->op]));
    json_object_set_new(o, "threshold", json_real(t->threshold));
    json_object_set_new(o, "unit", json_string(t->unit));
    json_object_set_new(o, "target", json_string(target));
    json_object_set_new(o, "measured", v.has ? json_real(shown) : json_null());
    json_object_set_new(o, "measured_text", json_string(measured));
    json_object_set_new(o, "samples", json_integer((json_int_t)v.samples));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "reason", json_string(reason));
    json_object_set_new(o, "severity", json_string(t->warn ? "warn" : "fail"));
    json_object_set_new(o, "abort_on_fail", json_boolean(t->abort_on_fail));
    json_object_set_new(o, "min_samples", json_integer((json_int_t)t->min_samples));
    json_object_set_new(o, "low_samples", json_boolean(low));
    if (t->description) json_object_set_new(o, "description", json_string(t->description));

    sum->total++;
    if (!strcmp(status, "pass"))
        sum->passed++;
    else if (!strcmp(status, "warn"))
        sum->warned++;
    else
        sum->failed++, sum->failed_severe = true;
    if (!v.has) sum->no_data++;
    if (low) sum->low_samples++;
    if (t->abort_on_fail && v.has && !ok) sum->abort = true;
    *out = o;
    return 0;
}

int tgt_judge(const tgt_set *t, const json_t *results, json_t **verdicts, tgt_summary *sum,
              cut_err *err)
{
    tgt_summary local;
    if (!sum) sum = &local;
    memset(sum, 0, sizeof *sum);
    *verdicts = NULL;
    int rc = CUT_ENOMEM;
    json_t *arr = json_array();
    if (!arr) goto fail;
    for (size_t i = 0; t && i < t->n; i++) {
        json_t *o = NULL;
        rc = judge_one(&t->t[i], results, sum, &o, err);
        if (rc < 0) goto fail;
        if (json_array_append_new(arr, o) < 0) {
            rc = CUT_ENOMEM;
            goto fail;
        }
    }
    *verdicts = arr;
    return 0;
fail:
    json_decref(arr);
    if (rc == CUT_ENOMEM) cut_err_set(err, CUT_ENOMEM, "out of memory judging the targets");
    return rc;
}
