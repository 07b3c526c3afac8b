/* sched.c - see sched.h. Everything here is arithmetic; the driver owns the clocks. */
#include "driver/sched.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 128-bit products keep rate x time and count x duration exact (GCC and Clang). */
typedef unsigned __int128 sched_u128;

#define NS_PER_S 1e9
/* Counts stay exact in a double up to 2^53. */
#define COUNT_MAX 9007199254740992.0

uint64_t sched_share(uint64_t total, uint32_t n, uint32_t i)
{
    if (n == 0 || i >= n) return 0;
    return total / n + (i < total % n ? 1 : 0);
}

/* ---- Durations ---------------------------------------------------------------------- */

static int dur_fail(cut_err *err, const char *text, const char *why)
{
    return cut_err_set(err, CUT_EINVAL, "duration \"%.64s\": %s", text, why);
}

/* The unit named by p[0..len), in ns, or 0 for none. */
static int64_t dur_unit(const char *p, size_t len)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* µs, MICRO SIGN */
        {"\xce\xbcs", 1000}, /* μs, GREEK SMALL LETTER MU */
        {"ms", 1000000},
        {"s", INT64_C(1000000000)},
        {"m", INT64_C(60000000000)},
        {"h", INT64_C(3600000000000)},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == len && memcmp(p, units[i].name, len) == 0) return units[i].ns;
    return 0;
}

int sched_parse_duration(const char *text, int64_t *ns, cut_err *err)
{
    if (!text || !ns) return cut_err_set(err, CUT_EINVAL, "duration: no text given");
    if (!*text) return dur_fail(err, text, "empty (write e.g. \"250ms\", \"1.5s\", \"2m\")");
    if (*text == '-') return dur_fail(err, text, "must not be negative");
    if (strcmp(text, "0") == 0) {
        *ns = 0;
        return 0;
    }
    const char *p = text;
    int64_t total = 0;
    while (*p) {
        uint64_t whole = 0, frac = 0, frac_den = 1;
        bool digits = false, too_big = false;
        for (; *p >= '0' && *p <= '9'; p++) {
            digits = true;
            if (whole > (UINT64_MAX - 9) / 10)
                too_big = true;
            else
                whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
            /* Digits past 1e-15 of the largest unit are below one nanosecond. */
            for (p++; *p >= '0' && *p <= '9'; p++) {
                digits = true;
                if (frac_den < UINT64_C(1000000000000000)) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    frac_den *= 10;
                }
            }
        }
        if (!digits) return dur_fail(err, text, "expected a number");
        /* The unit is everything up to the next number, so "5sec" is not "5s" + "ec". */
        size_t ulen = strcspn(p, "0123456789.");
        int64_t unit = dur_unit(p, ulen);
        if (unit == 0) {
            if (!*p) return dur_fail(err, text, "missing unit (use ns, us, ms, s, m or h)");
            if (ulen == 0)
                return cut_err_set(err, CUT_EINVAL, "duration \"%.64s\": unexpected \"%.16s\"",
                                   text, p);
            return cut_err_set(err, CUT_EINVAL,
                               "duration \"%.64s\": unknown unit \"%.*s\" (use ns, us, ms, s, m "
                               "or h)",
                               text, (int)(ulen > 16 ? 16 : ulen), p);
        }
        p += ulen;
        if (too_big || whole > (uint64_t)(INT64_MAX / unit))
            return cut_err_set(err, CUT_ERANGE, "duration \"%.64s\": too large", text);
        uint64_t part = whole * (uint64_t)unit;
        part += (uint64_t)((sched_u128)frac * (uint64_t)unit / frac_den);
        if (part > (uint64_t)(INT64_MAX - total))
            return cut_err_set(err, CUT_ERANGE, "duration \"%.64s\": too large", text);
        total += (int64_t)part;
    }
    *ns = total;
    return 0;
}

/* ---- Open-model arrivals ------------------------------------------------------------ */

typedef struct rate_stage {
    int64_t t0;    /* start, ns */
    int64_t d;     /* duration, ns */
    double r0, r1; /* rate at start and end, per second */
    double c0;     /* arrivals due before t0 (integral of the rate over [0, t0)) */
} rate_stage;

struct sched_arrivals {
    uint32_t n_threads, thread;
    uint64_t total; /* global */
    uint64_t count; /* this thread's */
    int64_t end;
    double c_end;
    size_t n;
    rate_stage st[]; /* stages with d > 0 or not, in order */
};

/* Largest index with st[i].c0 <= x; st[0].c0 == 0 <= x. */
static size_t stage_by_count(const sched_arrivals *s, double x)
{
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->st[mid].c0 <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Intended start of global arrival j < s->total: the time at which the integral of the
 * rate reaches j. Computed from j directly (never by adding gaps), so nothing drifts. */
static int64_t global_time(const sched_arrivals *s, uint64_t j)
{
    double x = (double)j;
    /* j < c_end, so the last stage with c0 <= j has a positive integral past j. */
    const rate_stage *g = &s->st[stage_by_count(s, x)];
    double xl = x - g->c0;
    if (g->d <= 0 || xl <= 0) return g->t0;
    double tl_ns;
    if (g->r1 == g->r0) {
        tl_ns = xl * NS_PER_S / g->r0; /* r0 > 0: the stage's integral is positive */
    } else {
        /* Solve r0 t + a t^2 / 2 = xl in the cancellation-free form
         * t = 2 xl / (r0 + sqrt(r0^2 + 2 a xl)); the denominator is 0 only for xl == 0. */
        double a = (g->r1 - g->r0) / ((double)g->d / NS_PER_S);
        double disc = g->r0 * g->r0 + 2.0 * a * xl;
        double den = g->r0 + sqrt(disc > 0 ? disc : 0);
        tl_ns = den > 0 ? 2.0 * xl / den * NS_PER_S : 0;
    }
    if (!(tl_ns > 0)) return g->t0;
    if (tl_ns >= (double)g->d) return g->t0 + g->d;
    return g->t0 + llround(tl_ns);
}

/* Integral of the rate over [0, t): the (fractional) number of arrivals due by t. */
static double integral_at(const sched_arrivals *s, int64_t t)
{
    if (t <= 0 || s->n == 0) return 0;
    if (t >= s->end) return s->c_end;
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->st[mid].t0 <= t)
            lo = mid;
        else
            hi = mid;
    }
    const rate_stage *g = &s->st[lo];
    double tl = (double)(t - g->t0) / NS_PER_S;
    double a = g->d > 0 ? (g->r1 - g->r0) / ((double)g->d / NS_PER_S) : 0;
    return g->c0 + g->r0 * tl + 0.5 * a * tl * tl;
}

static int arrivals_fail(cut_err *err, int code, const char *what, size_t i, double v)
{
    return cut_err_set(err, code, "arrival rate: stage %zu: %s (got %g)", i, what, v);
}

int sched_arrivals_new(const sched_rate_spec *spec, uint32_t n_threads, uint32_t thread,
                       sched_arrivals **out, cut_err *err)
{
    if (!out || !spec || (spec->n_stages > 0 && !spec->stages))
        return cut_err_set(err, CUT_EINVAL, "arrival rate: missing specification");
    *out = NULL;
    if (n_threads == 0 || thread >= n_threads)
        return cut_err_set(err, CUT_EINVAL, "arrival rate: thread %u of %u does not exist", thread,
                           n_threads);
    if (!isfinite(spec->start_rate) || spec->start_rate < 0)
        return cut_err_set(err, CUT_EINVAL, "arrival rate: start rate must be >= 0 (got %g)",
                           spec->start_rate);
    if (spec->start_rate > SCHED_RATE_MAX)
        return cut_err_set(err, CUT_ERANGE, "arrival rate: start rate above %g/s (got %g)",
                           SCHED_RATE_MAX, spec->start_rate);
    size_t n = spec->n_stages;
    if (n > (SIZE_MAX - sizeof(sched_arrivals)) / sizeof(rate_stage))
        return cut_err_set(err, CUT_ERANGE, "arrival rate: too many stages");
    sched_arrivals *s = calloc(1, sizeof *s + n * sizeof(rate_stage));
    if (!s) return cut_err_set(err, CUT_ENOMEM, "arrival rate: out of memory");
    s->n_threads = n_threads;
    s->thread = thread;
    s->n = n;
    int64_t t = 0;
    double c = 0, r = spec->start_rate;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const sched_rate_stage *in = &spec->stages[i];
        if (!isfinite(in->target) || in->target < 0)
            rc = arrivals_fail(err, CUT_EINVAL, "rate must be >= 0", i, in->target);
        else if (in->target > SCHED_RATE_MAX)
            rc = arrivals_fail(err, CUT_ERANGE, "rate above 1e9/s", i, in->target);
        else if (in->duration_ns < 0)
            rc = arrivals_fail(err, CUT_EINVAL, "duration must be >= 0", i,
                               (double)in->duration_ns / NS_PER_S);
        else if (in->duration_ns > INT64_MAX - t)
            rc = cut_err_set(err, CUT_ERANGE, "arrival rate: total duration too long");
        if (rc) goto fail;
        rate_stage *g = &s->st[i];
        g->t0 = t;
        g->d = in->duration_ns;
        g->r0 = r;
        g->r1 = in->target;
        g->c0 = c;
        c += (g->r0 + g->r1) / 2.0 * ((double)g->d / NS_PER_S);
        t += g->d;
        r = in->target;
    }
    if (c > COUNT_MAX) {
        rc = cut_err_set(err, CUT_ERANGE, "arrival rate: more than 2^53 arrivals (%g)", c);
        goto fail;
    }
    s->end = t;
    s->c_end = c;
    s->total = (uint64_t)llround(c);
    if (spec->max_requests && spec->max_requests < s->total) s->total = spec->max_requests;
    s->count = sched_share(s->total, n_threads, thread);
    *out = s;
    return 0;
fail:
    free(s);
    return rc;
}

int sched_arrivals_new_constant(double rate, int64_t duration_ns, uint64_t max_requests,
                                uint32_t n_threads, uint32_t thread, sched_arrivals **out,
                                cut_err *err)
{
    sched_rate_stage stage = {.target = rate, .duration_ns = duration_ns};
    sched_rate_spec spec = {
        .start_rate = rate, .stages = &stage, .n_stages = 1, .max_requests = max_requests};
    return sched_arrivals_new(&spec, n_threads, thread, out, err);
}

void sched_arrivals_free(sched_arrivals *s)
{
    free(s);
}

int64_t sched_arrival_time(const sched_arrivals *s, uint64_t k)
{
    if (k >= s->count) return SCHED_NEVER;
    return global_time(s, s->thread + k * s->n_threads);
}

uint64_t sched_arrivals_before(const sched_arrivals *s, int64_t t)
{
    if (t < 0 || s->count == 0) return 0;
    /* Estimate from the integral, then settle on the exact answer with the same times
     * sched_arrival_time gives, so the two never disagree by a rounding. */
    double due = integral_at(s, t);
    uint64_t g = due >= (double)s->total ? s->total : (uint64_t)floor(due) + 1;
    if (g > s->total) g = s->total;
    uint64_t k = sched_share(g, s->n_threads, s->thread);
    while (k > 0 && sched_arrival_time(s, k - 1) > t)
        k--;
    while (k < s->count && sched_arrival_time(s, k) <= t)
        k++;
    return k;
}

uint64_t sched_arrivals_count(const sched_arrivals *s)
{
    return s->count;
}

uint64_t sched_arrivals_total(const sched_arrivals *s)
{
    return s->total;
}

int64_t sched_arrivals_end(const sched_arrivals *s)
{
    return s->end;
}

sched_verdict sched_open_decide(int64_t intended, int64_t now, int64_t max_lag_ns,
                                uint64_t in_flight, uint64_t max_in_flight)
{
    if (now < intended) return SCHED_WAIT;
    if (max_in_flight && in_flight >= max_in_flight) return SCHED_DROP_FULL;
    if (max_lag_ns < 0) max_lag_ns = SCHED_MAX_LAG_DEFAULT_NS;
    /* now >= intended, so the difference is >= 0; compare without overflowing. */
    if ((uint64_t)now - (uint64_t)intended > (uint64_t)max_lag_ns) return SCHED_DROP_LAG;
    return SCHED_SEND;
}

/* ---- Closed-model VUs --------------------------------------------------------------- */

typedef struct vu_stage {
    int64_t t0, d;
    uint32_t v0, v1;
} vu_stage;

struct sched_vus {
    uint32_t n_threads, thread;
    uint32_t start, last, max; /* global */
    int64_t end;
    size_t n;
    vu_stage st[];
};

/* Global target at t. */
static uint32_t vus_global(const sched_vus *v, int64_t t)
{
    if (v->n == 0) return v->start;
    if (t < 0) t = 0;
    if (t >= v->end) return v->last;
    size_t lo = 0, hi = v->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->st[mid].t0 <= t)
            lo = mid;
        else
            hi = mid;
    }
    /* t < end, so the last stage starting at or before t has d > t - t0 > 0. */
    const vu_stage *g = &v->st[lo];
    uint64_t el = (uint64_t)(t - g->t0);
    if (g->v1 >= g->v0)
        return g->v0 + (uint32_t)((sched_u128)(g->v1 - g->v0) * el / (uint64_t)g->d);
    return g->v0 - (uint32_t)((sched_u128)(g->v0 - g->v1) * el / (uint64_t)g->d);
}

int sched_vus_new(uint32_t start, const sched_vu_stage *stages, size_t n_stages, uint32_t n_threads,
                  uint32_t thread, sched_vus **out, cut_err *err)
{
    if (!out || (n_stages > 0 && !stages))
        return cut_err_set(err, CUT_EINVAL, "VU stages: missing specification");
    *out = NULL;
    if (n_threads == 0 || thread >= n_threads)
        return cut_err_set(err, CUT_EINVAL, "VU stages: thread %u of %u does not exist", thread,
                           n_threads);
    if (n_stages > (SIZE_MAX - sizeof(sched_vus)) / sizeof(vu_stage))
        return cut_err_set(err, CUT_ERANGE, "VU stages: too many stages");
    sched_vus *v = calloc(1, sizeof *v + n_stages * sizeof(vu_stage));
    if (!v) return cut_err_set(err, CUT_ENOMEM, "VU stages: out of memory");
    v->n_threads = n_threads;
    v->thread = thread;
    v->start = v->last = v->max = start;
    v->n = n_stages;
    int64_t t = 0;
    for (size_t i = 0; i < n_stages; i++) {
        int rc = 0;
        if (stages[i].duration_ns < 0)
            rc = cut_err_set(err, CUT_EINVAL, "VU stages: stage %zu: duration must be >= 0", i);
        else if (stages[i].duration_ns > INT64_MAX - t)
            rc = cut_err_set(err, CUT_ERANGE, "VU stages: total duration too long");
        if (rc) {
            free(v);
            return rc;
        }
        v->st[i] =
            (vu_stage){.t0 = t, .d = stages[i].duration_ns, .v0 = v->last, .v1 = stages[i].to};
        t += stages[i].duration_ns;
        v->last = stages[i].to;
        if (v->last > v->max) v->max = v->last;
    }
    v->end = t;
    *out = v;
    return 0;
}

void sched_vus_free(sched_vus *v)
{
    free(v);
}

uint32_t sched_vus_target(const sched_vus *v, int64_t t)
{
    return (uint32_t)sched_share(vus_global(v, t), v->n_threads, v->thread);
}

/* Smallest el in (0, d] with floor(dv * el / d) >= need (need <= dv, both > 0). */
static int64_t vus_reach(uint64_t need, uint64_t dv, int64_t d)
{
    sched_u128 num = (sched_u128)need * (uint64_t)d;
    return (int64_t)((num + dv - 1) / dv);
}

int64_t sched_vus_next_change(const sched_vus *v, int64_t t)
{
    if (t < 0) t = 0; /* the target before 0 is the target at 0 */
    if (t >= v->end) return SCHED_NEVER;
    uint32_t cur = sched_vus_target(v, t);
    uint64_t n = v->n_threads, i = v->thread;
    for (size_t s = 0; s < v->n; s++) {
        const vu_stage *g = &v->st[s];
        if (g->t0 + g->d <= t) continue;
        /* A stage boundary can jump (zero-duration stages); otherwise the target moves
         * monotonically inside the stage, so the first crossing is found in closed form. */
        if (g->t0 > t && sched_vus_target(v, g->t0) != cur) return g->t0;
        if (g->d == 0 || g->v0 == g->v1) continue;
        /* share(V) >= cur + 1 iff V >= i + cur n + 1; share(V) <= cur - 1 iff V <= i + (cur-1) n */
        int64_t el;
        if (g->v1 > g->v0) {
            uint64_t need = i + (uint64_t)cur * n + 1;
            if (need > g->v1) continue;
            el = vus_reach(need - g->v0, g->v1 - g->v0, g->d);
        } else {
            if (cur == 0) continue;
            uint64_t need = i + (uint64_t)(cur - 1) * n;
            if (need < g->v1) continue;
            el = vus_reach(g->v0 - need, g->v0 - g->v1, g->d);
        }
        if (el < g->d) return g->t0 + el;
    }
    if (sched_vus_target(v, v->end) != cur) return v->end;
    return SCHED_NEVER;
}

uint32_t sched_vus_max(const sched_vus *v)
{
    /* share() is monotonic in the total, so the largest share is the share of the largest. */
    return (uint32_t)sched_share(v->max, v->n_threads, v->thread);
}

int64_t sched_vus_end(const sched_vus *v)
{
    return v->end;
}

/* ---- Work items and data rows ------------------------------------------------------- */

uint64_t sched_part_index(const sched_part *p, uint64_t k)
{
    return p->first + k * p->stride;
}

sched_part sched_part_rows(uint64_t rows, uint32_t n_threads, uint32_t thread)
{
    return (sched_part){.first = thread,
                        .count = sched_share(rows, n_threads, thread),
                        .stride = n_threads ? n_threads : 1};
}

sched_part sched_part_items(uint64_t items, uint32_t concurrency, uint32_t n_threads,
                            uint32_t thread, uint32_t *thread_concurrency)
{
    if (concurrency == 0) concurrency = 1;
    uint64_t active = n_threads;
    if (items < active) active = items;
    if (concurrency < active) active = concurrency;
    sched_part p = {.first = 0, .count = 0, .stride = 1};
    uint32_t conc = 0;
    if (thread < active) {
        uint32_t a = (uint32_t)active;
        /* Threads before this one hold min(thread, extra) one-larger shares. */
        uint64_t base = items / a, extra = items % a;
        p.first = thread * base + (thread < extra ? thread : extra);
        p.count = sched_share(items, a, thread);
        conc = (uint32_t)sched_share(concurrency, a, thread);
    }
    if (thread_concurrency) *thread_concurrency = conc;
    return p;
}

/* ---- Random numbers ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t sched_seed_for(uint64_t seed, uint64_t stream)
{
    /* seed + (stream + 1) * golden is one-to-one in stream and the mix is a bijection,
     * so two streams of one seed can never get the same value. */
    uint64_t state = seed + stream * UINT64_C(0x9E3779B97F4A7C15);
    return splitmix64(&state);
}

void sched_rng_seed(sched_rng *r, uint64_t seed)
{
    /* Four outputs of one splitmix64 sequence are never all zero. */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sched_rng_next(sched_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sched_rng_below(sched_rng *r, uint64_t n)
{
    if (n == 0) return 0;
    /* Lemire's multiply-shift; rejecting the low products below 2^64 mod n removes bias. */
    sched_u128 m = (sched_u128)sched_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (sched_u128)sched_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double sched_rng_double(sched_rng *r)
{
    return (double)(sched_rng_next(r) >> 11) * 0x1p-53;
}

struct sched_pick {
    size_t n;
    uint32_t *alias;
    double prob[]; /* then alias[n] */
};

int sched_pick_new(const double *weights, size_t n, sched_pick **out, cut_err *err)
{
    if (!out) return cut_err_set(err, CUT_EINVAL, "weights: no output");
    *out = NULL;
    if (!weights || n == 0) return cut_err_set(err, CUT_EINVAL, "weights: empty list");
    if (n > UINT32_MAX) return cut_err_set(err, CUT_ERANGE, "weights: too many items (%zu)", n);
    double sum = 0;
    size_t heaviest = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(weights[i]) || weights[i] < 0)
            return cut_err_set(err, CUT_EINVAL, "weights: item %zu: must be >= 0 (got %g)", i,
                               weights[i]);
        sum += weights[i];
        if (weights[i] > weights[heaviest]) heaviest = i;
    }
    if (!(sum > 0) || !isfinite(sum))
        return cut_err_set(err, CUT_EINVAL, "weights: the sum must be positive and finite");

    sched_pick *p = malloc(sizeof *p + n * (sizeof(double) + sizeof(uint32_t)));
    uint32_t *work = malloc(n * sizeof *work); /* small items from the front, large from back */
    if (!p || !work) {
        free(p);
        free(work);
        return cut_err_set(err, CUT_ENOMEM, "weights: out of memory");
    }
    p->n = n;
    p->alias = (uint32_t *)(p->prob + n);
    /* Vose's alias method: scale to mean 1, pair each short column with a tall one. */
    size_t n_small = 0, n_large = 0;
    for (size_t i = 0; i < n; i++) {
        p->prob[i] = weights[i] * (double)n / sum;
        if (p->prob[i] < 1.0)
            work[n_small++] = (uint32_t)i;
        else
            work[n - 1 - n_large++] = (uint32_t)i;
    }
    while (n_small > 0 && n_large > 0) {
        uint32_t s = work[--n_small];
        uint32_t l = work[n - n_large]; /* top of the large stack */
        p->alias[s] = l;
        /* (l + s) - 1 loses less than l - (1 - s). */
        p->prob[l] = (p->prob[l] + p->prob[s]) - 1.0;
        if (p->prob[l] < 1.0) {
            n_large--;
            work[n_small++] = l;
        }
    }
    while (n_large > 0) {
        uint32_t l = work[n - n_large--];
        p->prob[l] = 1.0;
        p->alias[l] = l;
    }
    /* Leftover short columns exist only through rounding: they are full, except that a
     * zero weight must stay unpickable. */
    while (n_small > 0) {
        uint32_t s = work[--n_small];
        if (weights[s] > 0) {
            p->prob[s] = 1.0;
            p->alias[s] = s;
        } else {
            p->prob[s] = 0.0;
            p->alias[s] = (uint32_t)heaviest;
        }
    }
    free(work);
    *out = p;
    return 0;
}

void sched_pick_free(sched_pick *p)
{
    free(p);
}

size_t sched_pick_next(const sched_pick *p, sched_rng *r)
{
    size_t col = (size_t)sched_rng_below(r, p->n);
    return sched_rng_double(r) < p->prob[col] ? col : p->alias[col];
}
