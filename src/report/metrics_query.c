#include "report/metrics_query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------------------------ */

static const char *const sel_names[MQ_NSEL] = {"phase", "step", "tag",  "endpoint",
                                               "check", "path", "from", "to"};

const char *mq_sel_name(mq_sel s)
{
    return (unsigned)s < MQ_NSEL ? sel_names[s] : "?";
}

int mq_sel_parse(const char *name)
{
    for (int i = 0; i < MQ_NSEL; i++)
        if (strcmp(name, sel_names[i]) == 0) return i;
    return -1;
}

#define SEL(x) (1u << (x))
#define ROW_SELS (SEL(MQ_SEL_PHASE) | SEL(MQ_SEL_STEP) | SEL(MQ_SEL_TAG) | SEL(MQ_SEL_ENDPOINT))

typedef struct fixed_name {
    const char *name;
    mq_family family;
    mq_dim dim;
    unsigned sels, required, single;
} fixed_name;

static const fixed_name fixed[] = {
    {"requests", MQ_REQUESTS, MQ_DIM_COUNT, ROW_SELS, 0, 0},
    {"rps", MQ_RPS, MQ_DIM_RATE, ROW_SELS, 0, 0},
    {"dropped", MQ_DROPPED, MQ_DIM_COUNT, ROW_SELS, 0, 0},
    {"errors.rate", MQ_ERRORS_RATE, MQ_DIM_RATIO, ROW_SELS, 0, 0},
    {"errors.count", MQ_ERRORS_COUNT, MQ_DIM_COUNT, ROW_SELS, 0, 0},
    {"cache.hit_rate", MQ_CACHE_HIT_RATE, MQ_DIM_RATIO, ROW_SELS, 0, 0},
    {"cache.miss_rate", MQ_CACHE_MISS_RATE, MQ_DIM_RATIO, ROW_SELS, 0, 0},
    {"redis.server_hit_rate", MQ_REDIS_SERVER_HIT_RATE, MQ_DIM_RATIO, SEL(MQ_SEL_PHASE), 0, 0},
    {"db.query_reduction", MQ_DB_QUERY_REDUCTION, MQ_DIM_RATIO, SEL(MQ_SEL_FROM) | SEL(MQ_SEL_TO),
     SEL(MQ_SEL_FROM) | SEL(MQ_SEL_TO), SEL(MQ_SEL_FROM) | SEL(MQ_SEL_TO)},
    {"breaker.trips", MQ_BREAKER_TRIPS, MQ_DIM_COUNT, 0, 0, 0},
    {"breaker.open_seconds", MQ_BREAKER_OPEN_SECONDS, MQ_DIM_SECONDS, 0, 0, 0},
    {"breaker.rejections", MQ_BREAKER_REJECTIONS, MQ_DIM_COUNT, ROW_SELS, 0, 0},
    {"ratelimited.rate", MQ_RATELIMITED_RATE, MQ_DIM_RATIO, ROW_SELS, 0, 0},
    {"ratelimited.count", MQ_RATELIMITED_COUNT, MQ_DIM_COUNT, ROW_SELS, 0, 0},
    {"parity.mismatch_rate", MQ_PARITY_MISMATCH_RATE, MQ_DIM_RATIO, 0, 0, 0},
    {"parity.mismatches", MQ_PARITY_MISMATCHES, MQ_DIM_COUNT, 0, 0, 0},
    {"parity.field_rate", MQ_PARITY_FIELD_RATE, MQ_DIM_RATIO, SEL(MQ_SEL_PATH), SEL(MQ_SEL_PATH),
     SEL(MQ_SEL_PATH)},
    {"data.count_diff", MQ_DATA_COUNT_DIFF, MQ_DIM_COUNT, SEL(MQ_SEL_CHECK), 0, 0},
    {"data.missing_in_pg", MQ_DATA_MISSING_IN_PG, MQ_DIM_COUNT, SEL(MQ_SEL_CHECK), 0, 0},
    {"data.missing_in_redis", MQ_DATA_MISSING_IN_REDIS, MQ_DIM_COUNT, SEL(MQ_SEL_CHECK), 0, 0},
    {"data.field_mismatches", MQ_DATA_FIELD_MISMATCHES, MQ_DIM_COUNT, SEL(MQ_SEL_CHECK), 0, 0},
};

static const char *const kinds[] = {"http", "redis", "sql"};
static const char *const classes[] = {"all", "cold", "warm"};
static const char *const stats[] = {"p50", "p90", "p95", "p99", "p999", "max", "mean"};
static const char *const error_kinds[] = {"timeout", "connect", "reset",  "status",
                                          "check",   "redis",   "sql",    "tls",
                                          "dns",     "proto",   "aborted"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int find(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0) return (int)i;
    return -1;
}

/* Edit distance, bounded to short names (metric names are). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void suggest(const char *name, char *out, size_t cap)
{
    static const char *const extra[] = {"http.warm.p95",     "http.cold.p95",  "http.all.p99",
                                        "http.raw.warm.p95", "errors.timeout", "status.5xx.rate"};
    const char *best = NULL;
    size_t bd = 99;
    for (size_t i = 0; i < NELEM(fixed) + NELEM(extra); i++) {
        const char *c = i < NELEM(fixed) ? fixed[i].name : extra[i - NELEM(fixed)];
        size_t d = distance(name, c);
        if (d < bd) bd = d, best = c;
    }
    size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
    if (best && bd <= limit)
        snprintf(out, cap, " (did you mean \"%s\"?)", best);
    else
        out[0] = '\0';
}

static int parse_latency(const char *name, mq_metric *m)
{
    const char *part[5];
    size_t len[5];
    size_t n = 0;
    const char *p = name;
    while (n < 5) {
        const char *dot = strchr(p, '.');
        part[n] = p;
        len[n] = dot ? (size_t)(dot - p) : strlen(p);
        n++;
        if (!dot) break;
        p = dot + 1;
    }
    if (n < 3 || n > 4 || strchr(p, '.')) return -1;
    int k = find(part[0], len[0], kinds, NELEM(kinds));
    if (k < 0) return -1;
    size_t i = 1;
    if (n == 4) {
        if (len[1] != 3 || memcmp(part[1], "raw", 3) != 0) return -1;
        m->raw = true;
        i = 2;
    }
    int c = find(part[i], len[i], classes, NELEM(classes));
    int st = find(part[i + 1], len[i + 1], stats, NELEM(stats));
    if (c < 0 || st < 0) return -1;
    m->family = MQ_LATENCY;
    m->dim = MQ_DIM_LATENCY;
    m->kind = kinds[k];
    m->cls = classes[c];
    m->stat = (mq_stat)st;
    m->sels = ROW_SELS;
    return 0;
}

/* status.5xx.rate, status.503.count */
static int parse_status(const char *name, mq_metric *m)
{
    if (strncmp(name, "status.", 7) != 0) return -1;
    const char *code = name + 7;
    const char *dot = strchr(code, '.');
    if (!dot || dot - code != 3) return -1;
    if (code[0] < '1' || code[0] > '5') return -1;
    bool xx = code[1] == 'x' && code[2] == 'x';
    bool digits = code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9';
    if (!xx && !digits) return -1;
    if (strcmp(dot + 1, "rate") == 0) {
        m->family = MQ_STATUS_RATE;
        m->dim = MQ_DIM_RATIO;
    } else if (strcmp(dot + 1, "count") == 0) {
        m->family = MQ_STATUS_COUNT;
        m->dim = MQ_DIM_COUNT;
    } else {
        return -1;
    }
    memcpy(m->detail, code, 3);
    m->detail[3] = '\0';
    m->sels = ROW_SELS;
    return 0;
}

int mq_parse(const char *name, mq_metric *out, cut_err *err)
{
    mq_metric m;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < NELEM(fixed); i++) {
        if (strcmp(name, fixed[i].name) != 0) continue;
        m.family = fixed[i].family;
        m.dim = fixed[i].dim;
        m.sels = fixed[i].sels;
        m.required = fixed[i].required;
        m.single = fixed[i].single;
        *out = m;
        return 0;
    }
    if (strncmp(name, "errors.", 7) == 0 &&
        find(name + 7, strlen(name + 7), error_kinds, NELEM(error_kinds)) >= 0) {
        m.family = MQ_ERRORS_KIND;
        m.dim = MQ_DIM_COUNT;
        m.sels = ROW_SELS;
        snprintf(m.detail, sizeof m.detail, "%s", name + 7);
        *out = m;
        return 0;
    }
    if (parse_latency(name, &m) == 0 || (memset(&m, 0, sizeof m), parse_status(name, &m) == 0)) {
        *out = m;
        return 0;
    }
    char hint[96];
    suggest(name, hint, sizeof hint);
    return cut_err_set(err, CUT_EINVAL, "unknown metric \"%.80s\"%s", name, hint);
}

/* ---- reading the results document ------------------------------------------------------- */

bool mq_num(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!json_is_number(v)) return false;
    double d = json_number_value(v);
    if (!isfinite(d)) return false;
    *out = d;
    return true;
}

static const char *str_of(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool in_list(const char *s, const char *const *vals, size_t n)
{
    if (!s) return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, vals[i]) == 0) return true;
    return false;
}

static size_t nsel(const mq_filter *f, mq_sel s)
{
    return f ? f->nvals[s] : 0;
}

/* Whether a phase is in scope: recorded, named by a phase selector if there is one, and
 * not a one-shot action unless a selector names it. */
static bool phase_in_scope(const json_t *ph, const mq_filter *f)
{
    if (!json_is_object(ph) || !json_is_true(json_object_get(ph, "recorded"))) return false;
    const char *name = str_of(ph, "name");
    if (nsel(f, MQ_SEL_PHASE)) return in_list(name, f->vals[MQ_SEL_PHASE], f->nvals[MQ_SEL_PHASE]);
    const char *ex = str_of(ph, "executor");
    return !(ex && strcmp(ex, "action") == 0);
}

static bool phase_tagged(const json_t *ph, const mq_filter *f)
{
    return nsel(f, MQ_SEL_TAG) && in_list(str_of(ph, "name"), f->tag_phases, f->ntag_phases);
}

static bool step_in_scope(const json_t *st, const mq_filter *f, bool ptag, const char *kind)
{
    if (!json_is_object(st)) return false;
    if (kind && !(str_of(st, "kind") && strcmp(str_of(st, "kind"), kind) == 0)) return false;
    if (nsel(f, MQ_SEL_STEP) &&
        !in_list(str_of(st, "name"), f->vals[MQ_SEL_STEP], f->nvals[MQ_SEL_STEP]))
        return false;
    if (nsel(f, MQ_SEL_ENDPOINT) &&
        !in_list(str_of(st, "endpoint"), f->vals[MQ_SEL_ENDPOINT], f->nvals[MQ_SEL_ENDPOINT]))
        return false;
    if (nsel(f, MQ_SEL_TAG) && !ptag) {
        json_t *tags = json_object_get(st, "tags");
        size_t i;
        json_t *t;
        bool hit = false;
        json_array_foreach(tags, i, t)
        {
            if (json_is_string(t) &&
                in_list(json_string_value(t), f->vals[MQ_SEL_TAG], f->nvals[MQ_SEL_TAG]))
                hit = true;
        }
        if (!hit) return false;
    }
    return true;
}

/* A counter of a step (or phase totals) object; detail qualifies it. */
typedef bool (*getter)(const json_t *o, const char *detail, double *out);

static bool get_top(const json_t *o, const char *detail, double *out)
{
    return mq_num(o, detail, out);
}

static bool get_errors(const json_t *o, const char *detail, double *out)
{
    (void)detail;
    return mq_num(json_object_get(o, "errors"), "count", out);
}

static bool get_error_kind(const json_t *o, const char *detail, double *out)
{
    json_t *errs = json_object_get(o, "errors");
    if (!json_is_object(errs)) return false;
    json_t *by = json_object_get(errs, "by_kind");
    if (!json_is_object(by)) return false;
    if (!mq_num(by, detail, out)) *out = 0; /* absent kinds are zero */
    return true;
}

static bool get_status(const json_t *o, const char *detail, double *out)
{
    json_t *status = json_object_get(o, "status");
    if (!json_is_object(status)) return false;
    const char *key;
    json_t *v;
    double sum = 0;
    json_object_foreach(status, key, v)
    {
        if (strlen(key) != 3 || !json_is_number(v)) continue;
        bool xx = detail[1] == 'x';
        if (key[0] == detail[0] && (xx || strcmp(key, detail) == 0)) sum += json_number_value(v);
    }
    *out = sum;
    return true;
}

static bool get_cache(const json_t *o, const char *detail, double *out)
{
    return mq_num(json_object_get(o, "cache"), detail, out);
}

typedef struct sums {
    double v;
    bool any;    /* at least one object had the counter */
    double secs; /* durations of the phases that contributed */
} sums;

/* Sums a counter over the steps in scope. A phase taken whole uses its totals when they
 * carry the counter (some counters live only there). */
static void sum_rows(const json_t *results, const mq_filter *f, const char *kind, getter get,
                     const char *detail, sums *s)
{
    memset(s, 0, sizeof *s);
    json_t *phases = json_object_get(results, "phases");
    size_t i;
    json_t *ph;
    json_array_foreach(phases, i, ph)
    {
        if (!phase_in_scope(ph, f)) continue;
        bool ptag = phase_tagged(ph, f);
        bool whole = !kind && !nsel(f, MQ_SEL_STEP) && !nsel(f, MQ_SEL_ENDPOINT) &&
                     (!nsel(f, MQ_SEL_TAG) || ptag);
        double x, secs = 0;
        bool used = false;
        mq_num(ph, "duration_s", &secs);
        if (whole && get(json_object_get(ph, "totals"), detail, &x)) {
            s->v += x;
            used = true;
        } else {
            size_t j;
            json_t *st;
            json_array_foreach(json_object_get(ph, "steps"), j, st)
            {
                if (step_in_scope(st, f, ptag, kind) && get(st, detail, &x)) {
                    s->v += x;
                    used = true;
                }
            }
        }
        if (used) {
            s->any = true;
            s->secs += secs;
        }
    }
}

/* Records "no data" with its reason; returns 0 so callers can `return no_data(...)`. */
static int no_data(mq_value *out, const char *fmt, const char *arg)
{
    out->has = false;
    snprintf(out->note, sizeof out->note, fmt, arg ? arg : "");
    return 0;
}

static int ratio_of(mq_value *out, double num, double den, const char *what)
{
    if (den <= 0) return no_data(out, "no data (no %s)", what);
    out->has = true;
    out->value = num / den;
    out->samples = (uint64_t)den;
    return 0;
}

/* ---- latency ---------------------------------------------------------------------------- */

typedef struct lat_acc {
    hist *h;
    double max;      /* exact, from the steps' "max" */
    double mean_sum; /* sum of mean * count */
    double count;    /* sum of the steps' counts */
    bool exact;      /* every step had max and mean */
    size_t bad;      /* histograms that did not decode */
} lat_acc;

static int merge_latency(const json_t *results, const mq_filter *f, const char *kind,
                         const char *cls, bool raw, lat_acc *a, cut_err *err)
{
    memset(a, 0, sizeof *a);
    a->exact = true;
    json_t *phases = json_object_get(results, "phases");
    size_t i;
    json_t *ph;
    json_array_foreach(phases, i, ph)
    {
        if (!phase_in_scope(ph, f)) continue;
        bool ptag = phase_tagged(ph, f);
        size_t j;
        json_t *st;
        json_array_foreach(json_object_get(ph, "steps"), j, st)
        {
            if (!step_in_scope(st, f, ptag, kind)) continue;
            json_t *c = json_object_get(json_object_get(st, "latency"), cls);
            json_t *h = json_object_get(c, raw ? "raw" : "corrected");
            const char *enc = str_of(h, "hdr");
            double n;
            if (!enc || !mq_num(h, "count", &n) || n <= 0) continue;
            hist *d = NULL;
            if (hist_decode(enc, strlen(enc), &d, NULL) < 0) {
                a->bad++;
                continue;
            }
            int rc = a->h ? hist_merge(a->h, d, err) : 0;
            if (!a->h) {
                a->h = d;
            } else {
                hist_free(d);
                if (rc < 0) {
                    a->bad++;
                    continue;
                }
            }
            double mx, mean;
            if (mq_num(h, "max", &mx) && mq_num(h, "mean", &mean)) {
                if (mx > a->max) a->max = mx;
                a->mean_sum += mean * n;
                a->count += n;
            } else {
                a->exact = false;
            }
        }
    }
    return 0;
}

int mq_merge_latency(const json_t *results, const mq_filter *f, const char *kind, const char *cls,
                     bool raw, hist **out, cut_err *err)
{
    lat_acc a;
    int rc = merge_latency(results, f, kind, cls, raw, &a, err);
    *out = a.h;
    return rc;
}

static int eval_latency(const mq_metric *m, const mq_filter *f, const json_t *results,
                        mq_value *out, cut_err *err)
{
    static const double pct[] = {50, 90, 95, 99, 99.9};
    lat_acc a;
    int rc = merge_latency(results, f, m->kind, m->cls, m->raw, &a, err);
    if (rc < 0) return rc;
    if (!a.h || hist_count(a.h) == 0) {
        no_data(out, a.bad ? "no data (latency histograms did not decode)" : "no data%s", "");
        hist_free(a.h);
        return 0;
    }
    out->has = true;
    out->samples = (uint64_t)hist_count(a.h);
    if (m->stat <= MQ_P999)
        out->value = (double)hist_percentile(a.h, pct[m->stat]);
    else if (m->stat == MQ_MAX)
        out->value = a.exact ? a.max : (double)hist_max(a.h);
    else
        out->value = a.exact && a.count > 0 ? a.mean_sum / a.count : hist_mean(a.h);
    if (a.bad)
        snprintf(out->note, sizeof out->note, "%zu histogram(s) did not decode and were left out",
                 a.bad);
    hist_free(a.h);
    return 0;
}

/* ---- run-level sections ----------------------------------------------------------------- */

static int eval_server_hit_rate(const mq_filter *f, const json_t *results, mq_value *out)
{
    double hits = 0, misses = 0;
    bool any = false;
    size_t i;
    json_t *ph;
    json_array_foreach(json_object_get(results, "phases"), i, ph)
    {
        if (!phase_in_scope(ph, f)) continue;
        json_t *r = json_object_get(json_object_get(ph, "server"), "redis");
        double h, mi;
        if (mq_num(r, "keyspace_hits", &h) && mq_num(r, "keyspace_misses", &mi)) {
            hits += h;
            misses += mi;
            any = true;
        }
    }
    if (!any) return no_data(out, "no data (no Redis server statistics in the results)", NULL);
    return ratio_of(out, hits, hits + misses, "Redis keyspace hits or misses");
}

static const json_t *phase_named(const json_t *results, const char *name)
{
    size_t i;
    json_t *ph;
    json_array_foreach(json_object_get(results, "phases"), i, ph)
    {
        const char *n = str_of(ph, "name");
        if (n && strcmp(n, name) == 0 && json_is_true(json_object_get(ph, "recorded"))) return ph;
    }
    return NULL;
}

/* Database queries per request of a phase: given, or calls / completed requests. */
static bool phase_qpr(const json_t *ph, double *qpr, double *requests)
{
    json_t *db = json_object_get(json_object_get(ph, "server"), "db");
    double calls;
    *requests = 0;
    mq_num(json_object_get(ph, "totals"), "completed", requests);
    if (mq_num(db, "queries_per_request", qpr)) return true;
    if (mq_num(db, "calls", &calls) && *requests > 0) {
        *qpr = calls / *requests;
        return true;
    }
    return false;
}

static int eval_query_reduction(const mq_filter *f, const json_t *results, mq_value *out)
{
    if (!f || !f->nvals[MQ_SEL_FROM] || !f->nvals[MQ_SEL_TO])
        return no_data(out, "no data (needs from: and to: phases)", NULL);
    const char *from = f->vals[MQ_SEL_FROM][0], *to = f->vals[MQ_SEL_TO][0];
    const json_t *pf = phase_named(results, from), *pt = phase_named(results, to);
    if (!pf) return no_data(out, "no data (phase \"%.60s\" did not run)", from);
    if (!pt) return no_data(out, "no data (phase \"%.60s\" did not run)", to);
    double qf, qt, nf, nt;
    if (!phase_qpr(pf, &qf, &nf))
        return no_data(out, "no data (no database statistics for phase \"%.60s\")", from);
    if (!phase_qpr(pt, &qt, &nt))
        return no_data(out, "no data (no database statistics for phase \"%.60s\")", to);
    if (qf <= 0) return no_data(out, "no data (no queries in phase \"%.60s\")", from);
    out->has = true;
    out->value = 1.0 - qt / qf;
    out->samples = (uint64_t)nt;
    return 0;
}

static int eval_breakers(const mq_metric *m, const mq_filter *f, const json_t *results,
                         mq_value *out)
{
    json_t *b = json_object_get(results, "breakers");
    const char *key = m->family == MQ_BREAKER_TRIPS          ? "trips"
                      : m->family == MQ_BREAKER_OPEN_SECONDS ? "open_seconds"
                                                             : "rejections";
    bool selected = f && (f->nvals[MQ_SEL_PHASE] || f->nvals[MQ_SEL_STEP] || f->nvals[MQ_SEL_TAG] ||
                          f->nvals[MQ_SEL_ENDPOINT]);
    double v, polls;
    if (!selected && mq_num(b, key, &v)) {
        out->has = true;
        out->value = v;
        out->samples = mq_num(b, "polls", &polls) && polls > 0 ? (uint64_t)polls : 1;
        return 0;
    }
    if (m->family == MQ_BREAKER_REJECTIONS) {
        sums s;
        sum_rows(results, f, NULL, get_top, "breaker_rejections", &s);
        if (s.any) {
            out->has = true;
            out->value = s.v;
            sums r;
            sum_rows(results, f, NULL, get_top, "completed", &r);
            out->samples = (uint64_t)r.v;
            return 0;
        }
    }
    return no_data(out, "no data (no circuit-breaker results)", NULL);
}

static int eval_parity(const mq_metric *m, const mq_filter *f, const json_t *results, mq_value *out)
{
    json_t *p = json_object_get(results, "parity");
    double requests = 0, v;
    if (!json_is_object(p) || !mq_num(p, "requests", &requests) || requests <= 0)
        return no_data(out, "no data (no parity comparisons in the results)", NULL);
    out->samples = (uint64_t)requests;
    if (m->family == MQ_PARITY_MISMATCHES) {
        if (!mq_num(p, "mismatched", &v)) return no_data(out, "no data (no mismatch count)", NULL);
        out->has = true;
        out->value = v;
        return 0;
    }
    if (m->family == MQ_PARITY_MISMATCH_RATE) {
        double mism;
        if (mq_num(p, "mismatch_rate", &v)) {
            out->value = v;
        } else if (mq_num(p, "mismatched", &mism)) {
            out->value = mism / requests;
        } else {
            return no_data(out, "no data (no mismatch count)", NULL);
        }
        out->has = true;
        return 0;
    }
    /* parity.field_rate: a path the comparison never saw differ has rate 0. */
    const char *path = f && f->nvals[MQ_SEL_PATH] ? f->vals[MQ_SEL_PATH][0] : "";
    out->has = true;
    out->value = 0;
    size_t i;
    json_t *fl;
    json_array_foreach(json_object_get(p, "fields"), i, fl)
    {
        const char *fp = str_of(fl, "path");
        if (!fp || strcmp(fp, path) != 0) continue;
        double c;
        if (mq_num(fl, "rate", &v))
            out->value += v;
        else if (mq_num(fl, "count", &c))
            out->value += c / requests;
    }
    return 0;
}

static int eval_data(const mq_metric *m, const mq_filter *f, const json_t *results, mq_value *out)
{
    const char *key = m->family == MQ_DATA_COUNT_DIFF         ? "count_diff"
                      : m->family == MQ_DATA_MISSING_IN_PG    ? "missing_in_pg"
                      : m->family == MQ_DATA_MISSING_IN_REDIS ? "missing_in_redis"
                                                              : "field_mismatches";
    double sum = 0, samples = 0, v;
    bool any = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(results, "data_checks"), i, c)
    {
        if (nsel(f, MQ_SEL_CHECK) &&
            !in_list(str_of(c, "name"), f->vals[MQ_SEL_CHECK], f->nvals[MQ_SEL_CHECK]))
            continue;
        if (!mq_num(c, key, &v)) continue;
        /* Differences of opposite sign in two checks must not cancel out. */
        sum += fabs(v);
        any = true;
        double n;
        if (mq_num(c, "compared", &n) || mq_num(c, "sampled", &n) || mq_num(c, "redis_count", &n))
            samples += n;
    }
    if (!any) return no_data(out, "no data (no data check results with %s)", key);
    out->has = true;
    out->value = sum;
    out->samples = (uint64_t)samples;
    return 0;
}

/* ---- entry point ------------------------------------------------------------------------ */

int mq_eval(const mq_metric *m, const mq_filter *f, const json_t *results, mq_value *out,
            cut_err *err)
{
    memset(out, 0, sizeof *out);
    sums a, b;
    switch (m->family) {
    case MQ_LATENCY:
        return eval_latency(m, f, results, out, err);
    case MQ_REQUESTS:
    case MQ_DROPPED:
        sum_rows(results, f, NULL, get_top, m->family == MQ_REQUESTS ? "requests" : "dropped", &a);
        if (!a.any) return no_data(out, "no data (no requests in scope)", NULL);
        sum_rows(results, f, NULL, get_top, "requests", &b);
        out->has = true;
        out->value = a.v;
        out->samples = (uint64_t)b.v;
        return 0;
    case MQ_RPS:
        sum_rows(results, f, NULL, get_top, "completed", &a);
        if (!a.any || a.secs <= 0) return no_data(out, "no data (no requests in scope)", NULL);
        out->has = true;
        out->value = a.v / a.secs;
        out->samples = (uint64_t)a.v;
        return 0;
    case MQ_ERRORS_RATE:
    case MQ_ERRORS_COUNT:
    case MQ_ERRORS_KIND:
    case MQ_STATUS_RATE:
    case MQ_STATUS_COUNT:
    case MQ_RATELIMITED_RATE:
    case MQ_RATELIMITED_COUNT: {
        getter g = m->family == MQ_ERRORS_KIND                                   ? get_error_kind
                   : m->family == MQ_STATUS_RATE || m->family == MQ_STATUS_COUNT ? get_status
                   : m->family == MQ_RATELIMITED_RATE || m->family == MQ_RATELIMITED_COUNT
                       ? get_top
                       : get_errors;
        const char *detail = g == get_top ? "ratelimited" : m->detail;
        sum_rows(results, f, NULL, g, detail, &a);
        sum_rows(results, f, NULL, get_top, "completed", &b);
        if (!a.any)
            return no_data(out,
                           g == get_top ? "no data (no rate-limit counts in the results)"
                                        : "no data (no requests in scope)",
                           NULL);
        bool rate = m->dim == MQ_DIM_RATIO;
        if (rate) {
            ratio_of(out, a.v, b.v, "completed requests");
        } else if (b.v <= 0) {
            no_data(out, "no data (no completed requests)", NULL);
        } else {
            out->has = true;
            out->value = a.v;
            out->samples = (uint64_t)b.v;
        }
        return 0;
    }
    case MQ_CACHE_HIT_RATE:
    case MQ_CACHE_MISS_RATE:
        sum_rows(results, f, NULL, get_cache, "hits", &a);
        sum_rows(results, f, NULL, get_cache, "misses", &b);
        return ratio_of(out, m->family == MQ_CACHE_HIT_RATE ? a.v : b.v, a.v + b.v,
                        "responses with a cache hit or miss header");
    case MQ_REDIS_SERVER_HIT_RATE:
        return eval_server_hit_rate(f, results, out);
    case MQ_DB_QUERY_REDUCTION:
        return eval_query_reduction(f, results, out);
    case MQ_BREAKER_TRIPS:
    case MQ_BREAKER_OPEN_SECONDS:
    case MQ_BREAKER_REJECTIONS:
        return eval_breakers(m, f, results, out);
    case MQ_PARITY_MISMATCH_RATE:
    case MQ_PARITY_MISMATCHES:
    case MQ_PARITY_FIELD_RATE:
        return eval_parity(m, f, results, out);
    case MQ_DATA_COUNT_DIFF:
    case MQ_DATA_MISSING_IN_PG:
    case MQ_DATA_MISSING_IN_REDIS:
    case MQ_DATA_FIELD_MISMATCHES:
        return eval_data(m, f, results, out);
    }
    return cut_err_set(err, CUT_EINVAL, "unknown metric family %d", (int)m->family);
}
