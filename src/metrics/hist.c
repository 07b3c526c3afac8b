/* hist.c - recording and queries. HdrHistogram's layout: 2^k sub-buckets per bucket
 * (k = ceil(log2(2 * 10^sigfigs))); bucket 0 covers [0, 2^k << unit), each further
 * bucket doubles the range and the width, and stores only its upper half (the lower
 * half is the previous bucket). Counts index i therefore maps to a fixed value range,
 * which is what makes merging and the V2 encoding bucket-exact. */
#include "metrics/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hist {
    int64_t lowest; /* configured range: values outside are clamped into it */
    int64_t highest;
    int sigfigs;
    int unit_mag;       /* floor(log2(lowest)): width of bucket 0's sub-buckets */
    int half_mag;       /* log2(sub-buckets per bucket) - 1 */
    int32_t half_count; /* sub-buckets per bucket / 2 */
    uint64_t sub_mask;  /* values up to it live in bucket 0 */
    int32_t counts_len;
    int64_t total;
    int64_t clamped;
    int64_t min; /* INT64_MAX / INT64_MIN while empty */
    int64_t max;
    int64_t counts[]; /* counts_len entries, allocated with the struct */
};

static inline int32_t idx_of(const hist *h, int64_t v)
{
    /* v >= 0 here; or-ing the mask keeps small values in bucket 0. */
    int pow2ceil = 64 - __builtin_clzll((uint64_t)v | h->sub_mask);
    int bucket = pow2ceil - h->unit_mag - (h->half_mag + 1);
    int32_t sub = (int32_t)(v >> (bucket + h->unit_mag));
    return ((int32_t)(bucket + 1) << h->half_mag) + (sub - h->half_count);
}

static inline int idx_shift(const hist *h, int32_t i)
{
    int bucket = (i >> h->half_mag) - 1;
    return h->unit_mag + (bucket < 0 ? 0 : bucket);
}

static inline int64_t idx_lowest(const hist *h, int32_t i)
{
    int bucket = (i >> h->half_mag) - 1;
    int64_t sub = (i & (h->half_count - 1)) + h->half_count;
    if (bucket < 0) {
        sub -= h->half_count;
        bucket = 0;
    }
    return sub << (bucket + h->unit_mag);
}

static inline int64_t idx_highest(const hist *h, int32_t i)
{
    return idx_lowest(h, i) + ((INT64_C(1) << idx_shift(h, i)) - 1);
}

static inline int64_t idx_middle(const hist *h, int32_t i)
{
    return idx_lowest(h, i) + ((INT64_C(1) << idx_shift(h, i)) >> 1);
}

int hist_init(hist **out, int64_t lowest, int64_t highest, int sigfigs, cut_err *err)
{
    if (!out) return cut_err_set(err, CUT_EINVAL, "hist_init: out is NULL");
    if (sigfigs < 1 || sigfigs > 5)
        return cut_err_set(err, CUT_ERANGE, "histogram: significant digits %d not in 1..5",
                           sigfigs);
    if (lowest < 1)
        return cut_err_set(err, CUT_ERANGE, "histogram: lowest value %lld must be >= 1",
                           (long long)lowest);
    if (lowest > INT64_MAX / 2 || highest < 2 * lowest)
        return cut_err_set(err, CUT_ERANGE,
                           "histogram: highest value %lld must be >= 2 * lowest (%lld)",
                           (long long)highest, (long long)lowest);

    int64_t largest_exact = 2;
    for (int i = 0; i < sigfigs; i++)
        largest_exact *= 10;
    int sub_mag = 0;
    while ((INT64_C(1) << sub_mag) < largest_exact)
        sub_mag++;
    int half_mag = sub_mag - 1;
    int unit_mag = 63 - __builtin_clzll((uint64_t)lowest);
    /* Keeps sub_mask and every shift below 63 bits (HdrHistogram's own limit). */
    if (unit_mag + half_mag > 61)
        return cut_err_set(err, CUT_ERANGE,
                           "histogram: lowest %lld too large for %d significant digits",
                           (long long)lowest, sigfigs);

    int64_t untrackable = INT64_C(1) << (sub_mag + unit_mag);
    int buckets = 1;
    while (untrackable <= highest) {
        if (untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        untrackable <<= 1;
        buckets++;
    }
    int64_t counts_len = (int64_t)(buckets + 1) << half_mag;
    if (counts_len > HIST_MAX_COUNTS)
        return cut_err_set(
            err, CUT_ERANGE, "histogram: %lld..%lld at %d digits needs %lld counts (limit %d)",
            (long long)lowest, (long long)highest, sigfigs, (long long)counts_len, HIST_MAX_COUNTS);

    hist *h = calloc(1, sizeof *h + (size_t)counts_len * sizeof h->counts[0]);
    if (!h)
        return cut_err_set(err, CUT_ENOMEM, "histogram: cannot allocate %lld counts",
                           (long long)counts_len);
    h->lowest = lowest;
    h->highest = highest;
    h->sigfigs = sigfigs;
    h->unit_mag = unit_mag;
    h->half_mag = half_mag;
    h->half_count = (int32_t)1 << half_mag;
    h->sub_mask = (((uint64_t)1 << sub_mag) - 1) << unit_mag;
    h->counts_len = (int32_t)counts_len;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
    *out = h;
    return 0;
}

int hist_new_default(hist **out, cut_err *err)
{
    return hist_init(out, HIST_DEFAULT_LOWEST, HIST_DEFAULT_HIGHEST, HIST_DEFAULT_SIGFIGS, err);
}

void hist_free(hist *h)
{
    free(h);
}

void hist_reset(hist *h)
{
    if (!h) return;
    if (h->total > 0) {
        /* Only buckets between min and max can be non-zero. */
        int32_t lo = idx_of(h, h->min), hi = idx_of(h, h->max);
        memset(&h->counts[lo], 0, (size_t)(hi - lo + 1) * sizeof h->counts[0]);
    }
    h->total = 0;
    h->clamped = 0;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
}

void hist_record_n(hist *h, int64_t value, int64_t count)
{
    if (count <= 0) return;
    if (value < h->lowest) {
        value = h->lowest;
        h->clamped += count;
    } else if (value > h->highest) {
        value = h->highest;
        h->clamped += count;
    }
    h->counts[idx_of(h, value)] += count;
    h->total += count;
    if (value < h->min) h->min = value;
    if (value > h->max) h->max = value;
}

void hist_record(hist *h, int64_t value)
{
    hist_record_n(h, value, 1);
}

int64_t hist_lowest(const hist *h)
{
    return h->lowest;
}

int64_t hist_highest(const hist *h)
{
    return h->highest;
}

int hist_sigfigs(const hist *h)
{
    return h->sigfigs;
}

int64_t hist_count(const hist *h)
{
    return h->total;
}

int64_t hist_clamped(const hist *h)
{
    return h->clamped;
}

int64_t hist_min(const hist *h)
{
    return h->total > 0 ? h->min : 0;
}

int64_t hist_max(const hist *h)
{
    return h->total > 0 ? h->max : 0;
}

double hist_mean(const hist *h)
{
    if (h->total == 0) return 0.0;
    double sum = 0.0;
    for (int32_t i = idx_of(h, h->min), end = idx_of(h, h->max); i <= end; i++)
        if (h->counts[i]) sum += (double)h->counts[i] * (double)idx_middle(h, i);
    return sum / (double)h->total;
}

double hist_stddev(const hist *h)
{
    if (h->total == 0) return 0.0;
    double mean = hist_mean(h), sq = 0.0;
    for (int32_t i = idx_of(h, h->min), end = idx_of(h, h->max); i <= end; i++) {
        if (!h->counts[i]) continue;
        double d = (double)idx_middle(h, i) - mean;
        sq += d * d * (double)h->counts[i];
    }
    return sqrt(sq / (double)h->total);
}

/* The rank HdrHistogram looks for: round(p% of total), at least 1, at most total. */
static int64_t rank_of(const hist *h, double p)
{
    int64_t r = (int64_t)(p / 100.0 * (double)h->total + 0.5);
    if (r < 1) r = 1;
    if (r > h->total) r = h->total;
    return r;
}

/* Walks from bucket *i (cumulative *cum before it) to the first bucket reaching rank. */
static int64_t value_at_rank(const hist *h, int64_t rank, int32_t *i, int64_t *cum)
{
    int32_t end = idx_of(h, h->max);
    while (*i < end && *cum + h->counts[*i] < rank) {
        *cum += h->counts[*i];
        (*i)++;
    }
    int64_t v = idx_highest(h, *i);
    return v > h->max ? h->max : v;
}

int64_t hist_percentile(const hist *h, double p)
{
    if (h->total == 0) return 0;
    if (!(p > 0.0)) return h->min; /* NaN too */
    if (p >= 100.0) return h->max;
    int32_t i = idx_of(h, h->min);
    int64_t cum = 0;
    return value_at_rank(h, rank_of(h, p), &i, &cum);
}

int hist_percentile_curve(const hist *h, const double *ps, size_t n, int64_t *out, cut_err *err)
{
    if (!h || (n > 0 && (!ps || !out)))
        return cut_err_set(err, CUT_EINVAL, "hist_percentile_curve: NULL argument");
    for (size_t k = 0; k < n; k++) {
        if (!(ps[k] >= 0.0 && ps[k] <= 100.0))
            return cut_err_set(err, CUT_EINVAL, "percentile %g (#%zu) not in [0, 100]", ps[k], k);
        if (k > 0 && ps[k] < ps[k - 1])
            return cut_err_set(err, CUT_EINVAL, "percentiles must not decrease (#%zu: %g < %g)", k,
                               ps[k], ps[k - 1]);
    }
    if (h->total == 0) {
        memset(out, 0, n * sizeof *out);
        return 0;
    }
    int32_t i = idx_of(h, h->min);
    int64_t cum = 0;
    for (size_t k = 0; k < n; k++) {
        if (ps[k] <= 0.0)
            out[k] = h->min;
        else if (ps[k] >= 100.0)
            out[k] = h->max;
        else
            out[k] = value_at_rank(h, rank_of(h, ps[k]), &i, &cum);
    }
    return 0;
}

void hist_iter_init(hist_iter *it, const hist *h)
{
    memset(it, 0, sizeof *it);
    it->h = h;
    if (h->total > 0) {
        it->next = idx_of(h, h->min);
        it->end = idx_of(h, h->max) + 1;
    }
}

bool hist_iter_next(hist_iter *it)
{
    const hist *h = it->h;
    while (it->next < it->end) {
        int32_t i = it->next++;
        if (h->counts[i] == 0) continue;
        it->lo = idx_lowest(h, i);
        it->hi = idx_highest(h, i);
        it->count = h->counts[i];
        it->cumulative += h->counts[i];
        return true;
    }
    return false;
}

int hist_merge(hist *dst, const hist *src, cut_err *err)
{
    if (!dst || !src) return cut_err_set(err, CUT_EINVAL, "hist_merge: NULL argument");
    int64_t sum;
    if (__builtin_add_overflow(dst->total, src->total, &sum) ||
        __builtin_add_overflow(dst->clamped, src->clamped, &sum))
        return cut_err_set(err, CUT_EINVAL, "hist_merge: total count would overflow");
    if (src->total == 0) {
        dst->clamped += src->clamped;
        return 0;
    }

    /* Same layout and every src value inside dst's range: buckets coincide. */
    bool same = dst->unit_mag == src->unit_mag && dst->half_mag == src->half_mag;
    if (dst == src || (same && src->min >= dst->lowest && src->max <= dst->highest &&
                       idx_of(src, src->max) < dst->counts_len)) {
        int32_t lo = idx_of(src, src->min), hi = idx_of(src, src->max);
        for (int32_t i = lo; i <= hi; i++)
            dst->counts[i] += src->counts[i];
        if (src->min < dst->min) dst->min = src->min;
        if (src->max > dst->max) dst->max = src->max;
        dst->total += src->total;
        dst->clamped += src->clamped;
        return 0;
    }

    /* Different layout: re-record each bucket at its middle, but src's exact min and
     * max once each at their own buckets so they survive the move. */
    int32_t lo = idx_of(src, src->min), hi = idx_of(src, src->max);
    for (int32_t i = lo; i <= hi; i++) {
        int64_t c = src->counts[i];
        if (c == 0) continue;
        if (i == lo) {
            hist_record_n(dst, src->min, 1);
            c--;
        }
        if (i == hi && c > 0) {
            hist_record_n(dst, src->max, 1);
            c--;
        }
        int64_t v = idx_middle(src, i);
        if (v < src->min) v = src->min;
        if (v > src->max) v = src->max;
        hist_record_n(dst, v, c);
    }
    dst->clamped += src->clamped;
    return 0;
}

const int64_t *hist__counts(const hist *h, int32_t *used, int32_t *len)
{
    *used = h->total > 0 ? idx_of(h, h->max) + 1 : 0;
    *len = h->counts_len;
    return h->counts;
}

int64_t *hist__counts_mut(hist *h, int32_t *used, int32_t *len)
{
    *used = h->total > 0 ? idx_of(h, h->max) + 1 : 0;
    *len = h->counts_len;
    return h->counts;
}

int hist__recount(hist *h, cut_err *err)
{
    int64_t total = 0;
    int32_t first = -1, last = -1;
    for (int32_t i = 0; i < h->counts_len; i++) {
        int64_t c = h->counts[i];
        if (c < 0) return cut_err_set(err, CUT_EINVAL, "histogram: negative count at index %d", i);
        if (c == 0) continue;
        if (__builtin_add_overflow(total, c, &total))
            return cut_err_set(err, CUT_EINVAL, "histogram: total count overflows");
        if (first < 0) first = i;
        last = i;
    }
    h->total = total;
    h->clamped = 0;
    h->min = first < 0 ? INT64_MAX : idx_lowest(h, first);
    h->max = last < 0 ? INT64_MIN : idx_highest(h, last);
    return 0;
}
