/* test_hist.c - the latency histogram: recording, percentiles against a sorted-array
 * oracle, clamping, merge, reset, and the HdrHistogram V2 encoding (round trip,
 * strings written by other HdrHistogram implementations, hostile input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "metrics/hist.h"

/* ---- helpers ---- */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
    rng_state = s;
}

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static double rng_normal(double mean, double sd)
{
    double u1 = rng_unit(), u2 = rng_unit();
    return mean + sd * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static hist *new_hist(int64_t lo, int64_t hi, int sig)
{
    hist *h = NULL;
    cut_err e = {0};
    int rc = hist_init(&h, lo, hi, sig, &e);
    if (rc != 0)
        fail_msg("hist_init(%lld, %lld, %d): %s", (long long)lo, (long long)hi, sig, e.msg);
    return h;
}

/* Asserts a and b hold exactly the same non-empty buckets. */
static void assert_same_buckets(const hist *a, const hist *b)
{
    hist_iter ia, ib;
    hist_iter_init(&ia, a);
    hist_iter_init(&ib, b);
    size_t n = 0;
    for (;;) {
        bool na = hist_iter_next(&ia), nb = hist_iter_next(&ib);
        assert_int_equal(na, nb);
        if (!na) break;
        assert_int_equal(ia.lo, ib.lo);
        assert_int_equal(ia.hi, ib.hi);
        assert_int_equal(ia.count, ib.count);
        n++;
    }
    assert_int_equal(hist_count(a), hist_count(b));
    if (hist_count(a) > 0) assert_true(n > 0);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *t_b64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    assert_non_null(out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16;
        if (i + 1 < n) w |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) w |= in[i + 2];
        *o++ = B64[w >> 18];
        *o++ = B64[(w >> 12) & 63];
        *o++ = i + 1 < n ? B64[(w >> 6) & 63] : '=';
        *o++ = i + 2 < n ? B64[w & 63] : '=';
    }
    *o = '\0';
    return out;
}

static size_t t_b64_decode(const char *s, uint8_t *out)
{
    size_t n = 0, len = strlen(s);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        const char *p = strchr(B64, s[i]);
        assert_non_null(p);
        acc = acc << 6 | (uint32_t)(p - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

/* Inflates the zlib part of a compressed-V2 base64 string: out gets header + payload. */
static size_t t_inflate_b64(const char *s, uint8_t *out, size_t cap)
{
    uint8_t bin[4096];
    assert_true(strlen(s) / 4 * 3 <= sizeof bin);
    size_t n = t_b64_decode(s, bin);
    assert_true(n >= 8);
    uLongf outlen = cap;
    assert_int_equal(uncompress(out, &outlen, bin + 8, n - 8), Z_OK);
    return outlen;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Builds V2 bytes by hand from the format description (see hist_log.c): a 40-byte
 * header, then `plen` payload bytes; payload_decl is what the header claims. */
static size_t build_v2(uint8_t *raw, uint32_t cookie, int32_t payload_decl, int32_t sig, int64_t lo,
                       int64_t hi, const uint8_t *payload, size_t plen)
{
    put32(raw, cookie);
    put32(raw + 4, (uint32_t)payload_decl);
    put32(raw + 8, 0);
    put32(raw + 12, (uint32_t)sig);
    put64(raw + 16, (uint64_t)lo);
    put64(raw + 24, (uint64_t)hi);
    put64(raw + 32, 0x3ff0000000000000ull); /* 1.0 */
    memcpy(raw + 40, payload, plen);
    return 40 + plen;
}

/* Deflates raw and wraps it: compressed cookie, length (zlen_delta added to the true
 * length when lying), then base64. */
static char *wrap_v2(const uint8_t *raw, size_t n, uint32_t cookie, int32_t zlen_delta)
{
    uLongf zlen = compressBound(n);
    uint8_t *buf = malloc(8 + zlen);
    assert_non_null(buf);
    assert_int_equal(compress(buf + 8, &zlen, raw, n), Z_OK);
    put32(buf, cookie);
    put32(buf + 4, (uint32_t)((int32_t)zlen + zlen_delta));
    char *s = t_b64_encode(buf, 8 + zlen);
    free(buf);
    return s;
}

static int decode_str(const char *s, hist **out, cut_err *e)
{
    cut_err_clear(e);
    return hist_decode(s, strlen(s), out, e);
}

/* Decoding must fail with a message and leave *out alone. */
static void expect_reject(const char *s, const char *why)
{
    hist *h = (hist *)0x1; /* sentinel: must stay untouched */
    cut_err e = {0};
    int rc = decode_str(s, &h, &e);
    if (rc == 0) fail_msg("decode accepted bad input (%s)", why);
    assert_true(rc == CUT_EINVAL || rc == CUT_ERANGE);
    assert_int_equal(e.code, rc);
    assert_true(strlen(e.msg) > 0);
    assert_ptr_equal(h, (hist *)0x1);
}

/* ---- recording and queries ---- */

static void test_record_basic(void **state)
{
    (void)state;
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    assert_int_equal(hist_lowest(h), 1);
    assert_int_equal(hist_highest(h), INT64_C(3600000000));
    assert_int_equal(hist_sigfigs(h), 3);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_int_equal(hist_percentile(h, 50), 0);
    assert_true(hist_mean(h) == 0.0);

    const int64_t vals[] = {7, 1, 2048, 99999, 1234567, 500};
    double sum = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        hist_record(h, vals[i]);
        sum += (double)vals[i];
    }
    hist_record_n(h, 300, 4);
    sum += 1200;
    hist_record_n(h, 300, 0);  /* nothing */
    hist_record_n(h, 300, -3); /* nothing */
    assert_int_equal(hist_count(h), 10);
    assert_int_equal(hist_clamped(h), 0);
    assert_int_equal(hist_min(h), 1);
    assert_int_equal(hist_max(h), 1234567);
    assert_true(fabs(hist_mean(h) - sum / 10) <= sum / 10 * 0.001);
    /* Values below 2048 are exact at 3 digits. */
    assert_int_equal(hist_percentile(h, 40), 300);
    assert_int_equal(hist_percentile(h, 0), 1);
    assert_int_equal(hist_percentile(h, 100), 1234567);
    assert_int_equal(hist_percentile(h, NAN), 1);
    assert_int_equal(hist_percentile(h, 250), 1234567);
    hist_free(h);
    hist_free(NULL);
}

/* Every value lands in a bucket that contains it and is at most 0.1 % wide, across the
 * whole default range; and the counts fit the ~190 KB budget. */
static void test_resolution(void **state)
{
    (void)state;
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    int32_t used, len;
    hist__counts(h, &used, &len);
    assert_int_equal(used, 0);
    assert_true((size_t)len * sizeof(int64_t) <= 200 * 1024);
    rng_seed(11);
    for (int k = 0; k < 20000; k++) {
        int64_t v = (int64_t)exp(rng_unit() * log(3.6e9));
        if (k < 64) v = (INT64_C(1) << (k % 32)) + (k / 32) - 1; /* powers of two, +-1 */
        if (v < 1) v = 1;
        hist_reset(h);
        hist_record(h, v);
        hist_iter it;
        hist_iter_init(&it, h);
        assert_true(hist_iter_next(&it));
        assert_true(it.lo <= v && v <= it.hi);
        assert_true((double)(it.hi - it.lo) <= (double)v * 0.001);
        assert_int_equal(it.count, 1);
        assert_false(hist_iter_next(&it));
        assert_int_equal(hist_min(h), v);
        assert_int_equal(hist_max(h), v);
    }
    hist_free(h);
}

static void test_init_errors(void **state)
{
    (void)state;
    hist *h = NULL;
    cut_err e = {0};
    assert_int_equal(hist_init(&h, 0, 1000, 3, &e), CUT_ERANGE);
    assert_non_null(strstr(e.msg, "lowest"));
    assert_int_equal(hist_init(&h, -5, 1000, 3, NULL), CUT_ERANGE);
    assert_int_equal(hist_init(&h, 10, 19, 3, &e), CUT_ERANGE);
    assert_int_equal(hist_init(&h, 1, 1000, 0, &e), CUT_ERANGE);
    assert_int_equal(hist_init(&h, 1, 1000, 6, &e), CUT_ERANGE);
    assert_int_equal(hist_init(&h, 1, INT64_MAX, 5, &e), CUT_ERANGE); /* too many counts */
    assert_non_null(strstr(e.msg, "counts"));
    assert_int_equal(hist_init(&h, INT64_C(1) << 60, INT64_MAX, 3, &e), CUT_ERANGE);
    assert_int_equal(hist_init(NULL, 1, 1000, 3, &e), CUT_EINVAL);
    assert_null(h);

    /* The widest range still works at its edges. */
    assert_int_equal(hist_init(&h, 1, INT64_MAX, 3, &e), 0);
    hist_record(h, INT64_MAX);
    hist_record(h, 1);
    assert_int_equal(hist_max(h), INT64_MAX);
    assert_int_equal(hist_percentile(h, 100), INT64_MAX);
    assert_int_equal(hist_percentile(h, 99), INT64_MAX);
    assert_int_equal(hist_percentile(h, 10), 1);
    assert_int_equal(hist_clamped(h), 0);
    hist_free(h);
}

static void test_clamping(void **state)
{
    (void)state;
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    hist_record(h, 0);
    hist_record(h, -5);
    hist_record(h, INT64_MIN);
    hist_record(h, INT64_C(3600000001));
    hist_record(h, INT64_MAX);
    assert_int_equal(hist_clamped(h), 5);
    assert_int_equal(hist_count(h), 5);
    assert_int_equal(hist_min(h), 1);
    assert_int_equal(hist_max(h), INT64_C(3600000000));
    hist_record(h, 1);
    hist_record(h, INT64_C(3600000000)); /* the bounds themselves are in range */
    assert_int_equal(hist_clamped(h), 5);
    hist_record_n(h, -1, 10);
    assert_int_equal(hist_clamped(h), 15);
    assert_int_equal(hist_count(h), 17);
    /* 14 at the bottom (value 1), 3 at the top. */
    assert_int_equal(hist_percentile(h, 14.0 / 17 * 100), 1);
    assert_int_equal(hist_percentile(h, 15.0 / 17 * 100), INT64_C(3600000000));

    hist *small = new_hist(100, 10000, 2);
    hist_record(small, 5);
    hist_record(small, 20000);
    assert_int_equal(hist_min(small), 100);
    assert_int_equal(hist_max(small), 10000);
    assert_int_equal(hist_clamped(small), 2);
    hist_free(small);
    hist_free(h);
}

/* ---- percentiles against a sorted-array oracle ---- */

enum dist { UNIFORM, EXPONENTIAL, BIMODAL, LOG_UNIFORM, DIST_COUNT };

static int64_t draw(enum dist d)
{
    double x = 0;
    switch (d) {
    case UNIFORM:
        x = 1 + rng_unit() * 1e6;
        break;
    case EXPONENTIAL:
        x = -5000.0 * log(1.0 - rng_unit());
        break;
    case BIMODAL:
        x = rng_unit() < 0.9 ? rng_normal(300, 50) : rng_normal(80000, 20000);
        break;
    default:
        x = exp(rng_unit() * log(3.6e9));
        break;
    }
    int64_t v = (int64_t)x;
    return v < 1 ? 1 : (v > INT64_C(3600000000) ? INT64_C(3600000000) : v);
}

static void check_against_oracle(enum dist d, uint64_t seed)
{
    const size_t n = 100000;
    int64_t *vals = malloc(n * sizeof *vals);
    assert_non_null(vals);
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    rng_seed(seed);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = draw(d);
        sum += (double)vals[i];
        hist_record(h, vals[i]);
    }
    qsort(vals, n, sizeof *vals, cmp_i64);
    double mean = sum / (double)n, sq = 0;
    for (size_t i = 0; i < n; i++)
        sq += ((double)vals[i] - mean) * ((double)vals[i] - mean);
    double sd = sqrt(sq / (double)n);

    assert_int_equal(hist_count(h), n);
    assert_int_equal(hist_min(h), vals[0]);
    assert_int_equal(hist_max(h), vals[n - 1]);
    assert_int_equal(hist_clamped(h), 0);
    /* Bucket midpoints are within 0.05 % of each value: the mean within 0.1 %, the
     * standard deviation within 0.1 % of the largest value. */
    assert_true(fabs(hist_mean(h) - mean) <= mean * 0.001);
    assert_true(fabs(hist_stddev(h) - sd) <= (double)vals[n - 1] * 0.001);

    double ps[40] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100};
    size_t np = 14;
    while (np < 40)
        ps[np++] = rng_unit() * 100;
    int64_t curve[40];
    for (size_t k = 0; k < np; k++) {
        double p = ps[k];
        size_t rank = p <= 0 ? 1 : (size_t)(p / 100 * (double)n + 0.5);
        if (rank < 1) rank = 1;
        if (rank > n) rank = n;
        int64_t want = vals[rank - 1], got = hist_percentile(h, p);
        /* Reported as the bucket's highest equivalent value: never below the oracle,
         * at most 0.1 % above it. */
        if (!(got >= want && (double)(got - want) <= (double)want * 0.001))
            fail_msg("dist %d p%g: got %lld, oracle %lld", d, p, (long long)got, (long long)want);
    }
    /* The curve answers the same in one pass (it needs sorted percentiles). */
    for (size_t i = 1; i < np; i++)
        for (size_t j = i; j > 0 && ps[j] < ps[j - 1]; j--) {
            double t = ps[j];
            ps[j] = ps[j - 1];
            ps[j - 1] = t;
        }
    assert_int_equal(hist_percentile_curve(h, ps, np, curve, NULL), 0);
    for (size_t k = 0; k < np; k++) {
        assert_int_equal(curve[k], hist_percentile(h, ps[k]));
        if (k > 0) assert_true(curve[k] >= curve[k - 1]);
    }
    hist_free(h);
    free(vals);
}

static void test_percentiles_oracle(void **state)
{
    (void)state;
    for (int d = 0; d < DIST_COUNT; d++) {
        check_against_oracle((enum dist)d, 1000 + (uint64_t)d);
        check_against_oracle((enum dist)d, 77 * (uint64_t)d + 5);
    }
}

static void test_percentile_curve_errors(void **state)
{
    (void)state;
    hist *h = NULL;
    cut_err e = {0};
    assert_int_equal(hist_new_default(&h, NULL), 0);
    int64_t out[3] = {-1, -1, -1};
    const double unsorted[] = {50, 10};
    const double outside[] = {10, 101};
    const double nan[] = {NAN};
    const double ok[] = {0, 50, 100};
    assert_int_equal(hist_percentile_curve(h, unsorted, 2, out, &e), CUT_EINVAL);
    assert_non_null(strstr(e.msg, "decrease"));
    assert_int_equal(hist_percentile_curve(h, outside, 2, out, &e), CUT_EINVAL);
    assert_int_equal(hist_percentile_curve(h, nan, 1, out, &e), CUT_EINVAL);
    assert_int_equal(out[0], -1); /* untouched on error */
    assert_int_equal(hist_percentile_curve(h, ok, 3, out, &e), 0);
    assert_int_equal(out[0], 0); /* empty: zeros */
    assert_int_equal(out[2], 0);
    hist_record(h, 40);
    hist_record(h, 60);
    assert_int_equal(hist_percentile_curve(h, ok, 3, out, &e), 0);
    assert_int_equal(out[0], 40);
    assert_int_equal(out[1], 40);
    assert_int_equal(out[2], 60);
    assert_int_equal(hist_percentile_curve(h, NULL, 0, NULL, &e), 0);
    hist_free(h);
}

static void test_iterator(void **state)
{
    (void)state;
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    hist_iter it;
    hist_iter_init(&it, h);
    assert_false(hist_iter_next(&it));
    rng_seed(3);
    for (int i = 0; i < 5000; i++)
        hist_record(h, draw(BIMODAL));
    hist_iter_init(&it, h);
    int64_t prev_hi = -1, cum = 0;
    size_t buckets = 0;
    while (hist_iter_next(&it)) {
        assert_true(it.lo > prev_hi);
        assert_true(it.hi >= it.lo);
        assert_true(it.count > 0);
        cum += it.count;
        assert_int_equal(it.cumulative, cum);
        prev_hi = it.hi;
        buckets++;
    }
    assert_int_equal(cum, 5000);
    assert_true(buckets > 10);
    assert_int_equal(prev_hi >= hist_max(h), 1);
    hist_free(h);
}

/* ---- merge and reset ---- */

static void test_merge_same_config(void **state)
{
    (void)state;
    hist *a = NULL, *b = NULL, *all = NULL;
    assert_int_equal(hist_new_default(&a, NULL), 0);
    assert_int_equal(hist_new_default(&b, NULL), 0);
    assert_int_equal(hist_new_default(&all, NULL), 0);
    rng_seed(42);
    for (int i = 0; i < 50000; i++) {
        int64_t v = draw((enum dist)(i % DIST_COUNT));
        if (i % 1000 == 0) v = -1; /* clamped */
        hist_record(i % 3 ? a : b, v);
        hist_record(all, v);
    }
    int64_t ca = hist_clamped(a), cb = hist_clamped(b), nb = hist_count(b);
    assert_true(ca > 0 && cb > 0);
    assert_int_equal(hist_merge(a, b, NULL), 0);
    assert_same_buckets(a, all);
    assert_int_equal(hist_clamped(a), ca + cb);
    assert_int_equal(hist_clamped(a), hist_clamped(all));
    assert_int_equal(hist_min(a), hist_min(all));
    assert_int_equal(hist_max(a), hist_max(all));
    assert_true(hist_mean(a) == hist_mean(all));
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(hist_percentile(a, p), hist_percentile(all, p));
    /* src unchanged; merging an empty histogram changes nothing. */
    assert_int_equal(hist_count(b), nb);
    hist_reset(b);
    assert_int_equal(hist_merge(a, b, NULL), 0);
    assert_same_buckets(a, all);
    /* Self-merge doubles. */
    assert_int_equal(hist_merge(all, all, NULL), 0);
    assert_int_equal(hist_count(all), 2 * hist_count(a));
    assert_int_equal(hist_merge(NULL, a, NULL), CUT_EINVAL);
    hist_free(a);
    hist_free(b);
    hist_free(all);
}

static void test_merge_different_config(void **state)
{
    (void)state;
    /* Coarser src (2 digits: another bucket layout) into the default: values move to
     * src's bucket middles, within src's 1 % resolution plus dst's 0.1 %. */
    hist *src = new_hist(1, INT64_C(10000000), 2);
    hist *dst = NULL, *all = NULL;
    assert_int_equal(hist_new_default(&dst, NULL), 0);
    assert_int_equal(hist_new_default(&all, NULL), 0);
    rng_seed(9);
    for (int i = 0; i < 20000; i++) {
        int64_t v = 10 + draw(EXPONENTIAL);
        hist_record(i % 2 ? src : dst, v);
        hist_record(all, v);
    }
    hist_record(src, 0); /* clamped in src to 1 */
    hist_record(all, 1);
    assert_int_equal(hist_merge(dst, src, NULL), 0);
    assert_int_equal(hist_count(dst), hist_count(all));
    assert_int_equal(hist_clamped(dst), 1);
    assert_int_equal(hist_min(dst), hist_min(all));
    assert_int_equal(hist_max(dst), hist_max(all));
    for (double p = 1; p < 100; p += 1) {
        double want = (double)hist_percentile(all, p), got = (double)hist_percentile(dst, p);
        if (fabs(got - want) > want * 0.011 + 1)
            fail_msg("p%g: merged %g, direct %g", p, got, want);
    }
    assert_true(fabs(hist_mean(dst) - hist_mean(all)) <= hist_mean(all) * 0.011);

    /* Wider src into narrower dst: what falls outside is clamped and counted. */
    hist *wide = NULL, *narrow = new_hist(1, 1000000, 3);
    assert_int_equal(hist_new_default(&wide, NULL), 0);
    hist_record_n(wide, 500, 10);
    hist_record_n(wide, INT64_C(2000000000), 3);
    hist_record(wide, 0); /* clamped already in wide */
    assert_int_equal(hist_merge(narrow, wide, NULL), 0);
    assert_int_equal(hist_count(narrow), 14);
    assert_int_equal(hist_clamped(narrow), 4);
    assert_int_equal(hist_max(narrow), 1000000);
    assert_int_equal(hist_min(narrow), 1);
    assert_int_equal(hist_percentile(narrow, 50), 500);
    /* Same layout, but src holds values beyond dst's highest: clamped, not copied. */
    hist *lowcap = new_hist(1, 3000000, 3);
    hist *big = new_hist(1, 3500000, 3);
    hist_record(big, 3400000);
    hist_record(big, 7);
    assert_int_equal(hist_merge(lowcap, big, NULL), 0);
    assert_int_equal(hist_max(lowcap), 3000000);
    assert_int_equal(hist_clamped(lowcap), 1);
    assert_int_equal(hist_count(lowcap), 2);
    hist_free(lowcap);
    hist_free(big);
    hist_free(wide);
    hist_free(narrow);
    hist_free(src);
    hist_free(dst);
    hist_free(all);
}

static void test_reset(void **state)
{
    (void)state;
    hist *h = NULL, *fresh = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    assert_int_equal(hist_new_default(&fresh, NULL), 0);
    hist_reset(h); /* empty: fine */
    rng_seed(5);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10000; i++)
            hist_record(h, draw(LOG_UNIFORM));
        hist_record(h, -1);
        hist_record(h, INT64_MAX);
        hist_reset(h);
        assert_int_equal(hist_count(h), 0);
        assert_int_equal(hist_clamped(h), 0);
        assert_int_equal(hist_min(h), 0);
        assert_int_equal(hist_max(h), 0);
        int32_t used, len;
        const int64_t *c = hist__counts(h, &used, &len);
        for (int32_t i = 0; i < len; i++)
            if (c[i] != 0) fail_msg("count %d left after reset", i);
        hist_iter it;
        hist_iter_init(&it, h);
        assert_false(hist_iter_next(&it));
    }
    hist_record(h, 1234);
    hist_record(fresh, 1234);
    assert_same_buckets(h, fresh);
    assert_int_equal(hist_percentile(h, 50), 1234);
    hist_free(h);
    hist_free(fresh);
}

/* ---- encoding ---- */

static hist *round_trip(const hist *h)
{
    char *s = NULL;
    cut_err e = {0};
    if (hist_encode(h, &s, &e) != 0) fail_msg("encode: %s", e.msg);
    assert_true(strncmp(s, "HISTF", 5) == 0); /* 0x1c849314 in base64 */
    hist *d = NULL;
    if (decode_str(s, &d, &e) != 0) fail_msg("decode: %s", e.msg);
    /* Encoding the decoded histogram gives the same text. */
    char *s2 = NULL;
    assert_int_equal(hist_encode(d, &s2, NULL), 0);
    assert_string_equal(s, s2);
    free(s);
    free(s2);
    return d;
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);

    hist *d = round_trip(h); /* empty */
    assert_int_equal(hist_count(d), 0);
    assert_int_equal(hist_highest(d), hist_highest(h));
    hist_free(d);

    rng_seed(2024);
    for (int i = 0; i < 100000; i++)
        hist_record(h, draw((enum dist)(i % DIST_COUNT)));
    hist_record_n(h, 12345, 1000);
    hist_record(h, 0); /* clamped: not carried by the format */
    d = round_trip(h);
    assert_int_equal(hist_lowest(d), 1);
    assert_int_equal(hist_highest(d), INT64_C(3600000000));
    assert_int_equal(hist_sigfigs(d), 3);
    assert_same_buckets(h, d);
    assert_int_equal(hist_clamped(d), 0);
    /* min/max become bucket bounds, which still contain the exact ones. */
    assert_true(hist_min(d) <= hist_min(h));
    assert_true(hist_max(d) >= hist_max(h));
    assert_true(hist_mean(d) == hist_mean(h));
    /* Percentiles agree, except that a rank in the top bucket reports each one's max. */
    for (double p = 0.1; p < 100; p += 0.1) {
        int64_t a = hist_percentile(h, p), b = hist_percentile(d, p);
        if (a != b) {
            assert_int_equal(a, hist_max(h));
            assert_int_equal(b, hist_max(d));
        }
    }
    hist_free(d);

    /* Another configuration, with counts needing all nine LEB128 bytes. */
    hist *o = new_hist(1000, INT64_C(1) << 36, 5);
    hist_record_n(o, INT64_C(1) << 35, INT64_MAX / 4);
    hist_record_n(o, 77777, INT64_C(1) << 40);
    hist_record(o, 1000);
    d = round_trip(o);
    assert_int_equal(hist_lowest(d), 1000);
    assert_int_equal(hist_sigfigs(d), 5);
    assert_same_buckets(o, d);
    hist_free(d);
    hist_free(o);
    hist_free(h);
}

/* Strings written by other HdrHistogram implementations. */
static void test_decode_foreign(void **state)
{
    (void)state;
    hist *h = NULL;
    cut_err e = {0};

    /* hdrhistogram-go, hdr_encoding_test.go (TestHistogram_Load), also in HdrHistogramJS
     * src/encoding.spec.ts: one value, 42, in a 1..2 at 3 digits histogram (auto-resized
     * by its writer). */
    const char *go42 = "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=";
    if (decode_str(go42, &h, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(hist_count(h), 1);
    assert_true(hist_mean(h) == 42.0);
    assert_int_equal(hist_percentile(h, 50), 42);
    assert_int_equal(hist_min(h), 42);
    assert_int_equal(hist_max(h), 42);
    assert_int_equal(hist_lowest(h), 1);
    assert_int_equal(hist_highest(h), 2);
    hist_free(h);

    /* Re-encoded, our writer produces the same V2 bytes (before deflate) as that writer
     * did. (Recording 42 afresh into 1..2 would clamp it: we never auto-resize.) */
    assert_int_equal(decode_str(go42, &h, &e), 0);
    char *ours = NULL;
    assert_int_equal(hist_encode(h, &ours, NULL), 0);
    uint8_t a[256], b[256];
    size_t na = t_inflate_b64(ours, a, sizeof a), nb = t_inflate_b64(go42, b, sizeof b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(ours);
    hist_free(h);

    /* HdrHistogramJS src/encoding.spec.ts ("should encode and compress an histogram to a
     * base64 string"): also 42, but JS writes a normalizing offset of 1 and raw bits 1 as
     * the conversion ratio, both ignored for integer histograms. */
    if (decode_str("HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGMUJoJxg9mAgA1TQGm", &h, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(hist_count(h), 1);
    assert_int_equal(hist_percentile(h, 99), 42);
    hist_free(h);

    /* hdrhistogram-go hdr_encoding_test.go: empty histogram, 20..1000 at 3 digits. */
    if (decode_str("HISTFAAAABl4nJNpmSzMgADMUFoEyn1h/wHCAgBDogN4", &h, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_lowest(h), 20);
    assert_int_equal(hist_highest(h), 1000);
    assert_int_equal(hist_sigfigs(h), 3);
    hist_free(h);

    /* hdrhistogram-go hdr_encoding_test.go "bigBuffer" (also HdrHistogramJS): 10000
     * values. Decode, check the total, and survive our own round trip. */
    const char *big =
        "HISTFAAACGB42j1WQY4cuRGks7KzWWwOh1NTGo1GEmzBWCx0EAxjsdiTsdiTD4ZPfoa/4R/4o/7BOiKSrWnNVB"
        "WLzIyMiMzWp//897mUA7/62db1D/n3999//V8umBW74POTPds7+4In2/xq722zv9huj/bRbvZH+2oPdrV3vtu/"
        "/AOeP9if8Ra7H7DlhlcPePyo+w1xrrh+84uZFzd7QkyEL/ZXJPgN295jC5bsii0FN084/BXXDQH+jqPMlhn5"
        "eYf1D/beb9h7BdSfseMJGG5C94h3BRFveibyZ9x9wR1KeaebR0P8J/vVfsCbHevv7DOxPxt2/1MrLOQz3j8B"
        "H2DjhOHpA/ZfEILRWaD9bZHyb7z60X6xRxByMzxsQEJsCPlNoP/BFI849WQP/iy+cHJHqG+4veIAWcf+DQ9Y"
        "51MRBRueHlRqEbOPXqQR74Ec28Dab9pseLpqI7na/bPCPuBz0xskIIAvUqVIpQdTcr7/Afje68RHpPwsBrXn"
        "UYE3UVy0AYubljZTggshU+gdlTHej6iyJEfXuOb+B51wcXdbzD/yaFkQNn+fXnHBY7In5Sgi4wb34IYciy83"
        "hbxSG/pJFipa+VnByeJXFMPD0pQMoUTc+i3BExV+bgKa98WYHqk2GnaH+bPg3Xl8X9AEZpcI4qCsDx/9kpfM"
        "WJyG3Xz3PQGWDI88N2myqfh1c9H10XQT4qoI1E19uC87cKMLtS2byDWs3u6Qnlyet7gqYvHtTnWaKXndXBZ6"
        "oo2IGJTnywxyuT/tstx+p2ZTBQKQql6F67ogJCWXxO4cIrhcJfwui1ouMTInwc1vi8RLtSUuJarJNYtGjgcp"
        "uPuDcHBgMMQqyiwZUF0C4ImHhRehVqurp7w0npbmm2yllFTJXEJv3wNJL/LEQlYxFw9bei3hmY9oWJO70goS"
        "Lxpr3q+22EhF434Sa/i58M+yTSKGdHYJW6aETlouZMIyrSbqCgd6N6DyBJ3q4TUmLlNuUcJZoTasfmAtSLBp"
        "LssdC96+ig9Cu3PKZ0/RNZsyENkDXiZOrusmWXYcjs2yjbDX9ljQfV3ijoMPvEbiJvOeTIGRO0OXO5ll1U6W"
        "2bqhAsDelenq9/Zy+dnVAQv5fudVfUcAG15gGFRGvvrVy3cmNqa+eIlkZbkT7ighNrZEcwmtMaQno241JTed"
        "3URhOuOSE6wsDRapRVnFhpJdkxZfv3GLrJqu5LZLLi+XpOfFaRISd19d6BkMlmBcNOxW0zmF5odgllbO/lCx"
        "PEKDkP9lVjKULpF/WEXdeA1lYo3A3oSYXIa4KLWwQZitlaixpfXYzniV6nPbQDaPKIIu/SuTBk7JuVhWJJcX"
        "eSi80hQMmbTLh7Ws0qsoRIoadRNFZBY5NtoxP3jp6kjiR8BNdTFbLNRllIj8ErLOgcDV7qsXbKu0SFSK4FU8"
        "0l7Yhr2DrHNjIAvh8FUGcxqDYlovqiPVCiXfKhfUcNnAcpHUjNWGjZi5iUiT3bpVYKucA0TM7S5QVWR6PkjC"
        "FBx7OuGRIzFcazgUwraS/sk6inedzENVRZnc0XL0izNrOKxQauPm3tgfqC2p1SqtxgQkpLgaTtR7qIPYghHi"
        "hqe6NAhbLROaYT2/yJxKcJAJag67xn/6b6UgBtNHzcmH9Y7LgFTf86nRYCCqKiOrmODpyFlrpsKjKX3AayLK"
        "6OKarcUnrJckOKk3fW14fgWsdg0NsEySspJnygVIta7h17Nn2cClVc+5Fzp5SW9KQBJZt/Wl4voGoys13gsN"
        "jinMmu8y0lhdfLC1kgA1cLBdOoEnj9Sb2hVrfcIPECO8NfwB791rZ19RZ+yLjmrxjH9QrEPo5r0Ovnd2HQ4O"
        "vBit19oqtanRkL2hyOqNkwgP2BzHydZG5CYhu0yGfYFzzkFSOzB1Grnxq9GzE7ypsfxAFmIYDdfRG9gEUCTD"
        "+8ZJAHlG57CAnEgCCqczdMhvAFVUGRAP49xoqBr4bVLNNg2BmiplOoQFPsZ2nOnYxWZrfQBhVIwG1FZZFT5H"
        "dxWrTgweZm/JiCgV25kMEQfrl68rVUECyhTE3CIdELwJze0u0jgrrHfOCrgaK9hdR0eGMch+JXGpTggNzkKI"
        "ThVqBVCUNBobodN+YAqFkUGUCUt0Dg5ALNNGdjwq5ixpnXVoevAAqGM0mgtniDlG5Zxx6HcGItlI7G1SyANy"
        "AQDVBFZYhFTiyhkMX1XBBY+9I2/OMucIxhYaAh+EmVg2+ik/eGO0Jzgg1Zw++iJBgEpWcGl10sUqFw6hd+vp"
        "+S0xOHIqC5fGrRIRq0IxTUZtloyDI9aP8kagP6fmk/us9HEos4YEzrEOCk1BWBtkYk6OXKObwHgMfN81sVnp"
        "dliHDPKLDnoWGRJGiK4xPzhjKruu9UYpQYh6ASv0lbe0DOdX6ayAmNEkyFoLv7JoQH6o/+CDoS3xt5wqjSpJ"
        "hHjtjZr1OCA+Ys5ZDzYx/DL6iI4eG8dr6bOPA7hnbccc53gbPNJHqzgx5zE6/ImJQKMN3OFYe5mQ9qxv/Ryv"
        "zY854QpIM/AX2/w8xoluoETnnONtvowxZjuPjiLbS61vwydCAu4x2tlfz47U3A75zonNmEHgZbzM3pAIaNuJ"
        "QYbFMY8GaMjjAyv1PNtLf208c87XPlBEsLVeZ5/HGfWIAwyjodoJwmYMR6HH2SfcVnGnsYbTfPiENP316K8D"
        "r8+K4hpIgdlHBUdgox3jBSk6K0YP9qMBzZzRX0CQgwTYPXBw1IHCQDLeI1kDG/0E0nqOA5+O8EA+XhFytKO1"
        "E5MJlZ4dvNY5zzpeHFkhH9K8sS/npFjIZZ8aM4e/NGjUx/BjvCHA0QnkBTHwFqGO2Y+jw24T0rNF/oT3/Zx0"
        "6P8BChhtKw==";
    if (decode_str(big, &h, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(hist_count(h), 10000);
    int64_t cum = 0;
    hist_iter it;
    hist_iter_init(&it, h);
    while (hist_iter_next(&it))
        cum += it.count;
    assert_int_equal(cum, 10000);
    hist *again = round_trip(h);
    assert_same_buckets(h, again);
    hist_free(again);
    /* Zero runs, lone zeros and multi-byte counts come out byte for byte as written. */
    {
        char *mine = NULL;
        assert_int_equal(hist_encode(h, &mine, NULL), 0);
        static uint8_t x[8192], y[8192];
        size_t nx = t_inflate_b64(mine, x, sizeof x), ny = t_inflate_b64(big, y, sizeof y);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        free(mine);
    }
    hist_free(h);
}

/* V2 bytes built by hand from the format description: proves the reader follows the
 * format rather than just our writer. Counts: index 0 -> 5, then 99 zeros (zigzag -99 =
 * 197 = 0xc5 0x01), then 3 at index 100 (value 100), then a lone zero written as 0, then
 * 1 at index 102. */
static void test_decode_hand_built(void **state)
{
    (void)state;
    uint8_t raw[256];
    const uint8_t payload[] = {10, 0xc5, 0x01, 6, 0, 2};
    size_t n = build_v2(raw, 0x1c849313, sizeof payload, 3, 1, 3600000000, payload, sizeof payload);
    char *s = wrap_v2(raw, n, 0x1c849314, 0);
    hist *h = NULL;
    cut_err e = {0};
    if (decode_str(s, &h, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(hist_count(h), 9);
    assert_int_equal(hist_min(h), 0); /* index 0 is value 0 (written by other tools) */
    assert_int_equal(hist_max(h), 102);
    assert_int_equal(hist_percentile(h, 50), 0);
    assert_int_equal(hist_percentile(h, 80), 100);
    hist_free(h);
    free(s);

    /* The cookie's word-size nibble is ignored, as other readers do. */
    n = build_v2(raw, 0x1c849303, sizeof payload, 3, 1, 3600000000, payload, sizeof payload);
    s = wrap_v2(raw, n, 0x1c849304, 0);
    assert_int_equal(decode_str(s, &h, &e), 0);
    assert_int_equal(hist_count(h), 9);
    hist_free(h);
    free(s);
}

static void expect_reject_raw(const uint8_t *raw, size_t n, const char *why)
{
    char *s = wrap_v2(raw, n, 0x1c849314, 0);
    expect_reject(s, why);
    free(s);
}

static void test_decode_hostile(void **state)
{
    (void)state;
    uint8_t raw[4096];
    const uint8_t ok_payload[] = {10, 0xc5, 0x01, 6};
    size_t n;
    char *s;

    expect_reject("", "empty");
    expect_reject("garbage!", "bad characters");
    expect_reject("HISTFAAAAB542pNpmSzMwMDAxAABz CaEUoz2X+AMIKZAEARAtM=", "space");
    expect_reject("SGVsbG8sIHdvcmxkIQ==", "valid base64, not a histogram");
    expect_reject("AAAAAAAAAAAAAAAA", "zeros");
    expect_reject("A", "one character");
    /* V1 log string quoted in hdrhistogram-go hdr_encoding_test.go. */
    expect_reject("HISTIgAAAFd42pNpmazIwMAYxgABTBDKT4GBgdnNYMcCBvsPUBkeBkYGZqA8MwMbAzsDC5DF"
                  "BCTZgJCDQY1BjkGLQZRBlUEPCB8zWDCYMxgDZZkZhgJgHDibAY8JB/A=",
                  "V1");

    /* Every truncation of a valid string fails cleanly. */
    const char *go42 = "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=";
    for (size_t cut = 0; cut < strlen(go42) - 2; cut++) {
        hist *h = NULL;
        cut_err e = {0};
        if (hist_decode(go42, cut, &h, &e) == 0) fail_msg("truncated at %zu accepted", cut);
        assert_null(h);
    }

    /* Wrong cookies. */
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 3, 1, 3600000000, ok_payload,
                 sizeof ok_payload);
    s = wrap_v2(raw, n, 0x1c849302, 0);
    expect_reject(s, "V1 compression cookie");
    free(s);
    s = wrap_v2(raw, n, 0xdeadbeef, 0);
    expect_reject(s, "random compression cookie");
    free(s);
    s = wrap_v2(raw, n, 0x1c849314, 1);
    expect_reject(s, "compressed length beyond the data");
    free(s);
    s = wrap_v2(raw, n, 0x1c849314, -(1 << 30) - 5000);
    expect_reject(s, "negative compressed length");
    free(s);
    s = wrap_v2(raw, n, 0x1c849314, -4);
    expect_reject(s, "zlib stream cut short");
    free(s);
    n = build_v2(raw, 0x1c849301, sizeof ok_payload, 3, 1, 3600000000, ok_payload,
                 sizeof ok_payload);
    expect_reject_raw(raw, n, "V1 encoding cookie");
    n = build_v2(raw, 0x12345678, sizeof ok_payload, 3, 1, 3600000000, ok_payload,
                 sizeof ok_payload);
    expect_reject_raw(raw, n, "random encoding cookie");
    expect_reject_raw(raw, 39, "header cut short");

    /* Declared lengths and ranges. */
    n = build_v2(raw, 0x1c849313, INT32_MAX, 3, 1, 3600000000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "huge declared payload");
    n = build_v2(raw, 0x1c849313, -1, 3, 1, 3600000000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "negative payload");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload + 1, 3, 1, 3600000000, ok_payload,
                 sizeof ok_payload);
    expect_reject_raw(raw, n, "payload shorter than declared");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload - 1, 3, 1, 3600000000, ok_payload,
                 sizeof ok_payload);
    expect_reject_raw(raw, n, "payload longer than declared");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 5, 1, INT64_MAX, ok_payload,
                 sizeof ok_payload);
    expect_reject_raw(raw, n, "range needing too many counts");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 3, 0, 1000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "lowest 0");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 3, -7, 1000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "negative lowest");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 3, 500, 600, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "highest < 2 * lowest");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, 99, 1, 1000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "99 digits");
    n = build_v2(raw, 0x1c849313, sizeof ok_payload, -2, 1, 1000, ok_payload, sizeof ok_payload);
    expect_reject_raw(raw, n, "negative digits");

    /* Payload contents. 1..2 at 3 digits has 2048 counts. */
    const uint8_t run_past[] = {0xff, 0x3f}; /* zigzag -4096: zeros past the end */
    n = build_v2(raw, 0x1c849313, sizeof run_past, 3, 1, 2, run_past, sizeof run_past);
    expect_reject_raw(raw, n, "zero run past the range");
    const uint8_t min_run[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    n = build_v2(raw, 0x1c849313, sizeof min_run, 3, 1, 2, min_run, sizeof min_run);
    expect_reject_raw(raw, n, "zero run of INT64_MIN");
    uint8_t count_past[3] = {0xfd, 0x1f, 2}; /* zigzag -2047 zeros, then 1, then 1 more */
    uint8_t with_extra[4] = {0xfd, 0x1f, 2, 2};
    n = build_v2(raw, 0x1c849313, sizeof count_past, 3, 1, 2, count_past, sizeof count_past);
    {
        char *okstr = wrap_v2(raw, n, 0x1c849314, 0);
        hist *h = NULL;
        assert_int_equal(decode_str(okstr, &h, &(cut_err){0}), 0); /* last count: fine */
        assert_int_equal(hist_count(h), 1);
        assert_int_equal(hist_max(h), 2047);
        hist_free(h);
        free(okstr);
    }
    n = build_v2(raw, 0x1c849313, sizeof with_extra, 3, 1, 2, with_extra, sizeof with_extra);
    expect_reject_raw(raw, n, "count past the range");
    const uint8_t truncated[] = {10, 0x80, 0x80};
    n = build_v2(raw, 0x1c849313, sizeof truncated, 3, 1, 2, truncated, sizeof truncated);
    expect_reject_raw(raw, n, "LEB128 cut short");
    /* Two counts of 2^62 each: the total overflows. 2^62 zigzags to 2^63, nine bytes. */
    const uint8_t huge2[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                             0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    n = build_v2(raw, 0x1c849313, sizeof huge2, 3, 1, 2, huge2, sizeof huge2);
    expect_reject_raw(raw, n, "total overflow");

    /* A zlib bomb: the header declares 8 bytes, the stream inflates to 1 MiB. */
    {
        size_t big = 40 + (1 << 20);
        uint8_t *bomb = calloc(1, big);
        assert_non_null(bomb);
        build_v2(bomb, 0x1c849313, 8, 3, 1, 3600000000, ok_payload, 0);
        s = wrap_v2(bomb, big, 0x1c849314, 0);
        expect_reject(s, "payload much longer than declared");
        free(s);
        free(bomb);
    }

    /* Random corruption of a valid binary: accepted or rejected, never a crash (ASan,
     * valgrind). */
    hist *h = NULL;
    assert_int_equal(hist_new_default(&h, NULL), 0);
    rng_seed(99);
    for (int i = 0; i < 300; i++)
        hist_record(h, draw(EXPONENTIAL));
    char *good = NULL;
    assert_int_equal(hist_encode(h, &good, NULL), 0);
    hist_free(h);
    uint8_t bin[4096];
    size_t bn = t_b64_decode(good, bin);
    size_t accepted = 0;
    for (int k = 0; k < 2000; k++) {
        uint8_t mut[4096];
        memcpy(mut, bin, bn);
        int flips = 1 + (int)(rng_next() % 4);
        for (int f = 0; f < flips; f++)
            mut[rng_next() % bn] ^= (uint8_t)(1u << (rng_next() % 8));
        char *ms = t_b64_encode(mut, bn);
        hist *d = NULL;
        cut_err e = {0};
        if (decode_str(ms, &d, &e) == 0) {
            accepted++;
            hist_free(d);
        } else {
            assert_true(strlen(e.msg) > 0);
        }
        free(ms);
    }
    assert_true(accepted < 2000); /* zlib's checksum catches most flips */
    free(good);

    /* NULL arguments. */
    assert_int_equal(hist_decode(NULL, 3, &h, NULL), CUT_EINVAL);
    assert_int_equal(hist_decode("abc", 3, NULL, NULL), CUT_EINVAL);
    assert_int_equal(hist_encode(NULL, &s, NULL), CUT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_basic),
        cmocka_unit_test(test_resolution),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_percentiles_oracle),
        cmocka_unit_test(test_percentile_curve_errors),
        cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_merge_same_config),
        cmocka_unit_test(test_merge_different_config),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_decode_foreign),
        cmocka_unit_test(test_decode_hand_built),
        cmocka_unit_test(test_decode_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
