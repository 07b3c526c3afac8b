/* test_sched.c - unit tests for src/driver/sched.c (executor arithmetic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/sched.h"

#define S(x) ((int64_t)((x)*1000000000.0))

static sched_arrivals *mk(const sched_rate_spec *spec, uint32_t n, uint32_t i)
{
    sched_arrivals *s = NULL;
    cut_err err = {0};
    int rc = sched_arrivals_new(spec, n, i, &s, &err);
    if (rc) fail_msg("sched_arrivals_new: %s", err.msg);
    assert_non_null(s);
    return s;
}

static sched_arrivals *mk_const(double rate, int64_t d, uint64_t max, uint32_t n, uint32_t i)
{
    sched_arrivals *s = NULL;
    cut_err err = {0};
    int rc = sched_arrivals_new_constant(rate, d, max, n, i, &s, &err);
    if (rc) fail_msg("sched_arrivals_new_constant: %s", err.msg);
    return s;
}

/* k * 1e9 / rate rounded to nearest, in integers, for an integer rate. */
static int64_t exact_ns(uint64_t k, uint64_t rate)
{
    return (int64_t)((2 * (unsigned __int128)k * 1000000000u + rate) / (2 * rate));
}

static void check_monotonic(const sched_arrivals *s, bool strict)
{
    uint64_t n = sched_arrivals_count(s);
    int64_t prev = -1;
    for (uint64_t k = 0; k < n; k++) {
        int64_t t = sched_arrival_time(s, k);
        if (strict ? t <= prev : t < prev)
            fail_msg("arrival %llu at %lld after %lld", (unsigned long long)k, (long long)t,
                     (long long)prev);
        assert_true(t >= 0);
        assert_true(t < sched_arrivals_end(s));
        prev = t;
    }
}

/* ---- constant rate ------------------------------------------------------------------ */

static void test_constant_counts_and_spacing(void **state)
{
    (void)state;
    static const struct {
        uint64_t rate;
        double secs;
        uint64_t want;
    } cases[] = {{500, 30, 15000}, {3, 10, 30}, {20000, 30, 600000}, {1024, 2, 2048}, {7, 1, 7}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sched_arrivals *s = mk_const((double)cases[c].rate, S(cases[c].secs), 0, 1, 0);
        assert_int_equal(sched_arrivals_count(s), cases[c].want);
        assert_int_equal(sched_arrivals_total(s), cases[c].want);
        assert_int_equal(sched_arrival_time(s, 0), 0);
        for (uint64_t k = 0; k < cases[c].want; k++) {
            int64_t t = sched_arrival_time(s, k);
            if (t != exact_ns(k, cases[c].rate))
                fail_msg("rate %llu: arrival %llu at %lld, want %lld",
                         (unsigned long long)cases[c].rate, (unsigned long long)k, (long long)t,
                         (long long)exact_ns(k, cases[c].rate));
        }
        assert_true(sched_arrival_time(s, cases[c].want) == SCHED_NEVER);
        assert_true(sched_arrival_time(s, cases[c].want + 1000) == SCHED_NEVER);
        sched_arrivals_free(s);
    }
}

static void test_constant_fractional_totals(void **state)
{
    (void)state;
    /* round(R * D): the tail fraction counts only from one half up. */
    static const struct {
        double rate, secs;
        uint64_t want;
    } cases[] = {{0.5, 3, 2}, {0.3, 4, 1}, {0.3, 5, 2}, {2.5, 1, 3}, {1000, 0.0015, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sched_arrivals *s = mk_const(cases[c].rate, S(cases[c].secs), 0, 1, 0);
        assert_int_equal(sched_arrivals_count(s), cases[c].want);
        check_monotonic(s, true);
        sched_arrivals_free(s);
    }
}

static void test_max_requests_bound(void **state)
{
    (void)state;
    sched_arrivals *s = mk_const(100, S(10), 250, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 250);
    assert_int_equal(sched_arrival_time(s, 249), exact_ns(249, 100));
    assert_true(sched_arrival_time(s, 250) == SCHED_NEVER);
    assert_int_equal(sched_arrivals_before(s, S(100)), 250);
    sched_arrivals_free(s);

    /* A bound above the schedule's own count changes nothing. */
    s = mk_const(100, S(10), 5000, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 1000);
    sched_arrivals_free(s);

    /* Split exactly: 250 over 4 threads is 63, 63, 62, 62. */
    const uint64_t want[] = {63, 63, 62, 62};
    uint64_t sum = 0;
    for (uint32_t i = 0; i < 4; i++) {
        s = mk_const(100, S(10), 250, 4, i);
        assert_int_equal(sched_arrivals_count(s), want[i]);
        assert_int_equal(sched_arrivals_total(s), 250);
        sum += sched_arrivals_count(s);
        sched_arrivals_free(s);
    }
    assert_int_equal(sum, 250);
}

/* sched_arrivals_before agrees with a count over sched_arrival_time at every probe. */
static void check_before(const sched_arrivals *s, int64_t step)
{
    uint64_t n = sched_arrivals_count(s);
    uint64_t k = 0;
    assert_int_equal(sched_arrivals_before(s, -1), 0);
    for (int64_t t = 0; t <= sched_arrivals_end(s) + step; t += step) {
        while (k < n && sched_arrival_time(s, k) <= t)
            k++;
        uint64_t got = sched_arrivals_before(s, t);
        if (got != k)
            fail_msg("before(%lld) = %llu, want %llu", (long long)t, (unsigned long long)got,
                     (unsigned long long)k);
    }
    /* And exactly at and just before each arrival, where rounding would show. */
    for (uint64_t j = 0; j < n; j += 1 + n / 500) {
        int64_t t = sched_arrival_time(s, j);
        uint64_t at = sched_arrivals_before(s, t);
        assert_true(at >= j + 1);
        assert_true(sched_arrival_time(s, at - 1) <= t);
        if (at < n) assert_true(sched_arrival_time(s, at) > t);
        if (t > 0) assert_true(sched_arrivals_before(s, t - 1) <= j);
    }
}

static void test_arrivals_before(void **state)
{
    (void)state;
    sched_arrivals *s = mk_const(3, S(10), 0, 1, 0);
    assert_int_equal(sched_arrivals_before(s, 0), 1);
    assert_int_equal(sched_arrivals_before(s, 333333332), 1);
    assert_int_equal(sched_arrivals_before(s, 333333333), 2);
    assert_int_equal(sched_arrivals_before(s, S(10)), 30);
    check_before(s, 1000003);
    sched_arrivals_free(s);

    sched_rate_stage st[] = {{100, S(10)}, {0, S(3)}, {0, S(2)}, {40, S(1)}};
    sched_rate_spec spec = {.start_rate = 0, .stages = st, .n_stages = 4};
    for (uint32_t i = 0; i < 3; i++) {
        s = mk(&spec, 3, i);
        check_before(s, 7000001);
        sched_arrivals_free(s);
    }
}

/* ---- ramps -------------------------------------------------------------------------- */

static void test_ramp_up_from_zero(void **state)
{
    (void)state;
    /* 0 -> 100/s over 10 s: rate 10 t, integral 5 t^2 = 500; arrival j at sqrt(j / 5) s. */
    sched_rate_stage st[] = {{100, S(10)}};
    sched_rate_spec spec = {.start_rate = 0, .stages = st, .n_stages = 1};
    sched_arrivals *s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 500);
    check_monotonic(s, true);
    for (uint64_t j = 0; j < 500; j++) {
        double want = sqrt((double)j / 5.0) * 1e9;
        double got = (double)sched_arrival_time(s, j);
        if (fabs(got - want) > 2.0)
            fail_msg("arrival %llu at %.0f, want %.1f", (unsigned long long)j, got, want);
    }
    /* Due by t: about 5 t^2. */
    for (double t = 0.5; t <= 10; t += 0.5) {
        double due = (double)sched_arrivals_before(s, S(t));
        assert_true(fabs(due - 5 * t * t) <= 1.0);
    }
    sched_arrivals_free(s);
}

static void test_ramp_down_and_steps(void **state)
{
    (void)state;
    /* 100 -> 0 over 10 s: 500 arrivals, gaps widen. */
    sched_rate_stage down[] = {{0, S(10)}};
    sched_rate_spec spec = {.start_rate = 100, .stages = down, .n_stages = 1};
    sched_arrivals *s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 500);
    check_monotonic(s, true);
    int64_t gap0 = sched_arrival_time(s, 1) - sched_arrival_time(s, 0);
    int64_t gap1 = sched_arrival_time(s, 499) - sched_arrival_time(s, 498);
    assert_true(gap0 > 10000000 && gap0 < 10010000); /* A(t) = 100 t - 5 t^2 = 1 */
    assert_true(gap1 > 10 * gap0);
    sched_arrivals_free(s);

    /* Counts equal the integral for an uneven ramp: 2.5 + 37.5 + 105 + 0 + 3.5 = 148.5 -> 149. */
    sched_rate_stage st[] = {{5, S(1)}, {70, S(1)}, {140, S(1)}, {0, 0}, {7, S(1)}};
    spec = (sched_rate_spec){.start_rate = 0, .stages = st, .n_stages = 5};
    s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 149);
    check_monotonic(s, true);
    /* Integral to 1 s is 2.5: arrivals 0, 1, 2 fall in the first second. */
    assert_int_equal(sched_arrivals_before(s, S(1) - 1), 3);
    /* Integral to 2 s is 40: arrivals 0..39 before it, arrival 40 exactly on it. */
    assert_true(sched_arrival_time(s, 39) < S(2));
    assert_int_equal(sched_arrival_time(s, 40), S(2));
    sched_arrivals_free(s);
}

static void test_zero_rate_stages(void **state)
{
    (void)state;
    /* 0 for 5 s, jump to 10/s (50), 10 -> 0 over 2 s (10), 0 for 3 s, 0 -> 20 over 1 s (10). */
    sched_rate_stage st[] = {{0, S(5)}, {10, 0}, {10, S(5)}, {0, S(2)}, {0, S(3)}, {20, S(1)}};
    sched_rate_spec spec = {.start_rate = 0, .stages = st, .n_stages = 6};
    sched_arrivals *s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 70);
    assert_int_equal(sched_arrivals_end(s), S(16));
    check_monotonic(s, true);
    assert_int_equal(sched_arrival_time(s, 0), S(5));    /* when the rate turns on */
    assert_int_equal(sched_arrival_time(s, 49), S(9.9)); /* 10/s steady */
    assert_true(sched_arrival_time(s, 59) < S(12));      /* last of the ramp down */
    assert_int_equal(sched_arrival_time(s, 60), S(15));  /* nothing in the silent stage */
    assert_int_equal(sched_arrivals_before(s, S(5) - 1), 0);
    assert_int_equal(sched_arrivals_before(s, S(14.999)), 60);
    sched_arrivals_free(s);

    /* All silent: no arrivals at all, and no division by zero on the way. */
    sched_rate_stage none[] = {{0, S(5)}, {0, 0}};
    spec = (sched_rate_spec){.start_rate = 0, .stages = none, .n_stages = 2};
    s = mk(&spec, 2, 1);
    assert_int_equal(sched_arrivals_count(s), 0);
    assert_true(sched_arrival_time(s, 0) == SCHED_NEVER);
    assert_int_equal(sched_arrivals_before(s, S(100)), 0);
    sched_arrivals_free(s);

    /* No stages at all. */
    spec = (sched_rate_spec){.start_rate = 50, .stages = NULL, .n_stages = 0};
    s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 0);
    assert_int_equal(sched_arrivals_before(s, 5), 0);
    sched_arrivals_free(s);
}

static void test_long_runs_do_not_drift(void **state)
{
    (void)state;
    /* 30 s at 20k/s in three stages: exactly 600000, stage boundaries land on the ns. */
    sched_rate_stage st[] = {{20000, S(10)}, {20000, S(10)}, {20000, S(10)}};
    sched_rate_spec spec = {.start_rate = 20000, .stages = st, .n_stages = 3};
    sched_arrivals *s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 600000);
    assert_int_equal(sched_arrival_time(s, 200000), S(10));
    assert_int_equal(sched_arrival_time(s, 400000), S(20));
    assert_int_equal(sched_arrival_time(s, 599999), exact_ns(599999, 20000));
    check_monotonic(s, true);
    sched_arrivals_free(s);

    /* 0 -> 20k/s over 30 s then 1 h steady at 20k/s: 300000 + 72e6 arrivals. */
    sched_rate_stage ramp[] = {{20000, S(30)}, {20000, S(3600)}};
    spec = (sched_rate_spec){.start_rate = 0, .stages = ramp, .n_stages = 2};
    s = mk(&spec, 1, 0);
    assert_int_equal(sched_arrivals_count(s), 300000 + 72000000);
    assert_int_equal(sched_arrival_time(s, 300000), S(30));
    /* Deep in the hour the k-th arrival is still exactly on the 50 us grid. */
    for (uint64_t k = 72000000 - 1000; k < 72000000; k++)
        assert_int_equal(sched_arrival_time(s, 300000 + k), S(30) + exact_ns(k, 20000));
    int64_t prev = -1;
    for (uint64_t j = 0; j < 300000; j++) {
        int64_t t = sched_arrival_time(s, j);
        assert_true(t > prev);
        prev = t;
    }
    sched_arrivals_free(s);
}

/* ---- thread split ------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void check_union(const sched_rate_spec *spec)
{
    sched_arrivals *one = mk(spec, 1, 0);
    uint64_t total = sched_arrivals_count(one);
    int64_t *all = malloc((total + 1) * sizeof *all);
    assert_non_null(all);
    for (uint32_t n = 1; n <= 7; n++) {
        uint64_t got = 0, lo = UINT64_MAX, hi = 0;
        for (uint32_t i = 0; i < n; i++) {
            sched_arrivals *s = mk(spec, n, i);
            uint64_t c = sched_arrivals_count(s);
            assert_int_equal(sched_arrivals_total(s), total);
            assert_true(got + c <= total);
            for (uint64_t k = 0; k < c; k++)
                all[got + k] = sched_arrival_time(s, k);
            assert_true(sched_arrival_time(s, c) == SCHED_NEVER);
            check_monotonic(s, false);
            got += c;
            lo = c < lo ? c : lo;
            hi = c > hi ? c : hi;
            sched_arrivals_free(s);
        }
        assert_int_equal(got, total);
        assert_true(hi - lo <= 1);
        qsort(all, got, sizeof *all, cmp_i64);
        for (uint64_t j = 0; j < total; j++)
            if (all[j] != sched_arrival_time(one, j))
                fail_msg("n=%u: merged arrival %llu at %lld, single thread %lld", n,
                         (unsigned long long)j, (long long)all[j],
                         (long long)sched_arrival_time(one, j));
    }
    free(all);
    sched_arrivals_free(one);
}

static void test_thread_union(void **state)
{
    (void)state;
    sched_rate_stage c[] = {{7, S(10)}};
    sched_rate_spec spec = {.start_rate = 7, .stages = c, .n_stages = 1};
    check_union(&spec);
    spec.max_requests = 31;
    check_union(&spec);

    sched_rate_stage r[] = {{0, S(2)}, {300, S(4)}, {300, S(2)}, {50, S(3)}, {0, S(1)}};
    spec = (sched_rate_spec){.start_rate = 0, .stages = r, .n_stages = 5};
    check_union(&spec);

    /* Fewer arrivals than threads: some threads get none. */
    sched_rate_stage few[] = {{1, S(3)}};
    spec = (sched_rate_spec){.start_rate = 1, .stages = few, .n_stages = 1};
    check_union(&spec);
}

static void test_share(void **state)
{
    (void)state;
    assert_int_equal(sched_share(10, 3, 0), 4);
    assert_int_equal(sched_share(10, 3, 1), 3);
    assert_int_equal(sched_share(10, 3, 2), 3);
    assert_int_equal(sched_share(10, 3, 3), 0);
    assert_int_equal(sched_share(10, 0, 0), 0);
    assert_int_equal(sched_share(2, 4, 1), 1);
    assert_int_equal(sched_share(2, 4, 2), 0);
    for (uint64_t total = 0; total < 200; total += 7)
        for (uint32_t n = 1; n <= 9; n++) {
            uint64_t sum = 0;
            for (uint32_t i = 0; i < n; i++) {
                uint64_t a = sched_share(total, n, i);
                assert_true(a == total / n || a == total / n + 1);
                if (i > 0) assert_true(a <= sched_share(total, n, i - 1));
                sum += a;
            }
            assert_int_equal(sum, total);
        }
}

/* ---- VUs ---------------------------------------------------------------------------- */

static sched_vus *mk_vus(uint32_t start, const sched_vu_stage *st, size_t n, uint32_t nt,
                         uint32_t i)
{
    sched_vus *v = NULL;
    cut_err err = {0};
    if (sched_vus_new(start, st, n, nt, i, &v, &err)) fail_msg("sched_vus_new: %s", err.msg);
    return v;
}

static void test_constant_vus_split(void **state)
{
    (void)state;
    sched_vu_stage st[] = {{10, S(30)}};
    const uint32_t want[] = {3, 3, 2, 2};
    for (uint32_t i = 0; i < 4; i++) {
        sched_vus *v = mk_vus(10, st, 1, 4, i);
        assert_int_equal(sched_vus_target(v, 0), want[i]);
        assert_int_equal(sched_vus_target(v, S(29)), want[i]);
        assert_int_equal(sched_vus_max(v), want[i]);
        assert_true(sched_vus_next_change(v, 0) == SCHED_NEVER);
        assert_int_equal(sched_vus_end(v), S(30));
        sched_vus_free(v);
    }
    sched_vu_stage two[] = {{2, S(1)}};
    sched_vus *v = mk_vus(2, two, 1, 4, 3);
    assert_int_equal(sched_vus_target(v, 0), 0);
    sched_vus_free(v);
}

static void test_ramping_vus(void **state)
{
    (void)state;
    sched_vu_stage st[] = {{50, S(30)}, {0, S(10)}};
    sched_vus *g = mk_vus(0, st, 2, 1, 0);
    assert_int_equal(sched_vus_target(g, 0), 0);
    assert_int_equal(sched_vus_target(g, S(0.59)), 0); /* 0.98 of a VU is not one yet */
    assert_int_equal(sched_vus_target(g, S(0.6)), 1);
    assert_int_equal(sched_vus_target(g, S(15)), 25);
    assert_int_equal(sched_vus_target(g, S(30)), 50);
    assert_int_equal(sched_vus_target(g, S(35)), 25);
    assert_int_equal(sched_vus_target(g, S(39.9)), 1); /* down: truncated toward 50 */
    assert_int_equal(sched_vus_target(g, S(40)), 0);
    assert_int_equal(sched_vus_target(g, S(1000)), 0);
    assert_int_equal(sched_vus_max(g), 50);

    /* The threads' targets sum to the global target at every moment. */
    sched_vus *t[3];
    for (uint32_t i = 0; i < 3; i++)
        t[i] = mk_vus(0, st, 2, 3, i);
    assert_int_equal(sched_vus_max(t[0]) + sched_vus_max(t[1]) + sched_vus_max(t[2]), 50);
    for (int64_t ms = 0; ms <= 41000; ms += 37) {
        int64_t at = ms * 1000000;
        uint32_t sum = 0;
        for (uint32_t i = 0; i < 3; i++)
            sum += sched_vus_target(t[i], at);
        assert_int_equal(sum, sched_vus_target(g, at));
    }
    for (uint32_t i = 0; i < 3; i++)
        sched_vus_free(t[i]);
    sched_vus_free(g);
}

static void test_vus_next_change(void **state)
{
    (void)state;
    /* Short stages in ns so every instant can be checked by brute force. */
    sched_vu_stage st[] = {{10, 100}, {10, 50}, {2, 0}, {7, 70}, {7, 0}, {0, 40}, {5, 0}};
    for (uint32_t nt = 1; nt <= 4; nt++)
        for (uint32_t i = 0; i < nt; i++) {
            sched_vus *v = mk_vus(3, st, 7, nt, i);
            int64_t end = sched_vus_end(v);
            assert_int_equal(end, 260);
            for (int64_t t = -2; t <= end + 2; t++) {
                uint32_t cur = sched_vus_target(v, t);
                int64_t want = SCHED_NEVER;
                for (int64_t u = t + 1; u <= end + 1; u++)
                    if (sched_vus_target(v, u) != cur) {
                        want = u;
                        break;
                    }
                int64_t got = sched_vus_next_change(v, t);
                if (got != want)
                    fail_msg("threads %u thread %u: next_change(%lld) = %lld, want %lld", nt, i,
                             (long long)t, (long long)got, (long long)want);
            }
            sched_vus_free(v);
        }
}

/* ---- items, rows -------------------------------------------------------------------- */

static void test_iterations_split(void **state)
{
    (void)state;
    static const struct {
        uint64_t items;
        uint32_t conc, threads;
        uint64_t count[4];
        uint32_t c[4];
    } cases[] = {
        {100, 8, 3, {34, 33, 33, 0}, {3, 3, 2, 0}}, {5, 2, 4, {3, 2, 0, 0}, {1, 1, 0, 0}},
        {2, 8, 4, {1, 1, 0, 0}, {4, 4, 0, 0}},      {0, 8, 4, {0, 0, 0, 0}, {0, 0, 0, 0}},
        {9, 0, 2, {9, 0, 0, 0}, {1, 0, 0, 0}},      {60, 4, 4, {15, 15, 15, 15}, {1, 1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t next = 0;
        uint32_t conc_sum = 0;
        for (uint32_t i = 0; i < cases[c].threads; i++) {
            uint32_t conc = 99;
            sched_part p =
                sched_part_items(cases[c].items, cases[c].conc, cases[c].threads, i, &conc);
            assert_int_equal(p.count, cases[c].count[i]);
            assert_int_equal(conc, cases[c].c[i]);
            if (p.count) {
                assert_true(conc >= 1);
                assert_int_equal(p.first, next); /* contiguous, in order, no gaps */
                assert_int_equal(sched_part_index(&p, p.count - 1), next + p.count - 1);
            }
            next += p.count;
            conc_sum += conc;
        }
        assert_int_equal(next, cases[c].items);
        if (cases[c].items) assert_int_equal(conc_sum, cases[c].conc ? cases[c].conc : 1);
        if (cases[c].items && cases[c].conc > cases[c].items)
            assert_int_equal(conc_sum, cases[c].conc);
    }
}

static void test_unique_rows_partition(void **state)
{
    (void)state;
    const uint64_t rows = 1001;
    for (uint32_t nt = 1; nt <= 6; nt++) {
        unsigned char *seen = calloc(rows, 1);
        assert_non_null(seen);
        for (uint32_t i = 0; i < nt; i++) {
            sched_part p = sched_part_rows(rows, nt, i);
            assert_true(p.count == rows / nt || p.count == rows / nt + 1);
            uint64_t prev = 0;
            for (uint64_t k = 0; k < p.count; k++) {
                uint64_t r = sched_part_index(&p, k);
                assert_true(r < rows);
                if (k) assert_true(r > prev);
                prev = r;
                seen[r]++;
            }
        }
        for (uint64_t r = 0; r < rows; r++)
            if (seen[r] != 1)
                fail_msg("%u threads: row %llu owned %u times", nt, (unsigned long long)r, seen[r]);
        free(seen);
    }
    sched_part p = sched_part_rows(2, 4, 3);
    assert_int_equal(p.count, 0);
}

/* ---- random numbers ----------------------------------------------------------------- */

static void test_seeds(void **state)
{
    (void)state;
    enum { N = 1000 };
    uint64_t *s = malloc(N * sizeof *s);
    assert_non_null(s);
    for (uint64_t i = 0; i < N; i++) {
        s[i] = sched_seed_for(42, i);
        assert_true(s[i] == sched_seed_for(42, i)); /* reproducible */
        assert_true(s[i] != sched_seed_for(43, i)); /* depends on the scenario seed */
    }
    qsort(s, N, sizeof *s, cmp_i64);
    for (int i = 1; i < N; i++)
        assert_true(s[i] != s[i - 1]); /* distinct per thread */
    free(s);

    sched_rng a, b, c;
    sched_rng_seed(&a, sched_seed_for(42, 0));
    sched_rng_seed(&b, sched_seed_for(42, 0));
    sched_rng_seed(&c, sched_seed_for(42, 1));
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sched_rng_next(&a);
        assert_true(x == sched_rng_next(&b));
        same_c += x == sched_rng_next(&c);
    }
    assert_int_equal(same_c, 0);

    /* A zero seed still gives a working generator. */
    sched_rng z;
    sched_rng_seed(&z, 0);
    uint64_t o = 0;
    for (int i = 0; i < 8; i++)
        o |= sched_rng_next(&z);
    assert_true(o != 0);
}

static void test_rng_ranges(void **state)
{
    (void)state;
    sched_rng r;
    sched_rng_seed(&r, 7);
    assert_int_equal(sched_rng_below(&r, 0), 0);
    assert_int_equal(sched_rng_below(&r, 1), 0);
    enum { BINS = 7, DRAWS = 70000 };
    unsigned hist[BINS] = {0};
    double lo = 1, hi = 0, sum = 0;
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = sched_rng_below(&r, BINS);
        assert_true(x < BINS);
        hist[x]++;
        double d = sched_rng_double(&r);
        assert_true(d >= 0 && d < 1);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += d;
    }
    assert_true(lo < 0.001 && hi > 0.999);
    assert_true(fabs(sum / DRAWS - 0.5) < 0.01);
    /* Chi-square with 6 degrees of freedom: 30 is far past p = 1e-4. */
    double chi = 0, e = (double)DRAWS / BINS;
    for (int i = 0; i < BINS; i++)
        chi += (hist[i] - e) * (hist[i] - e) / e;
    assert_true(chi < 30);
    /* Large bounds stay in range (the rejection path). */
    uint64_t big = (UINT64_C(1) << 63) + 12345;
    for (int i = 0; i < 1000; i++)
        assert_true(sched_rng_below(&r, big) < big);
}

static void check_freq(const double *w, size_t n, uint64_t seed)
{
    sched_pick *p = NULL;
    cut_err err = {0};
    assert_int_equal(sched_pick_new(w, n, &p, &err), 0);
    sched_rng r;
    sched_rng_seed(&r, seed);
    enum { DRAWS = 200000 };
    unsigned *hist = calloc(n, sizeof *hist);
    assert_non_null(hist);
    for (int i = 0; i < DRAWS; i++) {
        size_t k = sched_pick_next(p, &r);
        assert_true(k < n);
        hist[k]++;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += w[i];
    for (size_t i = 0; i < n; i++) {
        double pr = w[i] / sum, e = DRAWS * pr, sd = sqrt(DRAWS * pr * (1 - pr));
        if (w[i] == 0)
            assert_int_equal(hist[i], 0);
        else if (fabs(hist[i] - e) > 5 * sd + 1)
            fail_msg("item %zu: %u picks, want %.0f +- %.0f", i, hist[i], e, 5 * sd);
    }
    free(hist);
    sched_pick_free(p);
}

static void test_weighted_pick(void **state)
{
    (void)state;
    const double mix[] = {8, 1, 1};
    check_freq(mix, 3, 1);
    const double halves[] = {0.5, 0.25, 0.125, 0.125};
    check_freq(halves, 4, 2);
    const double zeros[] = {0, 3, 0, 1, 0};
    check_freq(zeros, 5, 3);
    const double one[] = {2.5};
    check_freq(one, 1, 4);
    const double odd[] = {1e-9, 1, 1e6, 3.3, 0.1, 7, 7, 7, 1e-3, 42};
    check_freq(odd, 10, 5);

    sched_pick *p = (sched_pick *)&p;
    cut_err err = {0};
    const double neg[] = {1, -1};
    assert_int_equal(sched_pick_new(neg, 2, &p, &err), CUT_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err.msg, "item 1"));
    const double nan_w[] = {1, NAN};
    assert_int_equal(sched_pick_new(nan_w, 2, &p, NULL), CUT_EINVAL);
    const double inf_w[] = {INFINITY};
    assert_int_equal(sched_pick_new(inf_w, 1, &p, NULL), CUT_EINVAL);
    const double all0[] = {0, 0};
    assert_int_equal(sched_pick_new(all0, 2, &p, NULL), CUT_EINVAL);
    assert_int_equal(sched_pick_new(mix, 0, &p, NULL), CUT_EINVAL);
    sched_pick_free(NULL);
}

/* ---- durations ---------------------------------------------------------------------- */

static void test_parse_duration_good(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ns;
    } cases[] = {
        {"250ms", 250000000},
        {"1.5s", 1500000000},
        {"2m", INT64_C(120000000000)},
        {"1h", INT64_C(3600000000000)},
        {"500us", 500000},
        {"500\xc2\xb5s", 500000},
        {"10ns", 10},
        {"0", 0},
        {"0s", 0},
        {"0.5ms", 500000},
        {".25s", 250000000},
        {"1m30s", INT64_C(90000000000)},
        {"1h0.5m1ms", INT64_C(3630001000000)},
        {"1.0000000001s", 1000000000}, /* below a nanosecond: truncated */
        {"1.9ns", 1},
        {"2562047h", INT64_C(9223369200000000000)},
        {"9223372036854775807ns", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ns = -1;
        cut_err err = {0};
        int rc = sched_parse_duration(cases[i].text, &ns, &err);
        if (rc) fail_msg("\"%s\": %s", cases[i].text, err.msg);
        if (ns != cases[i].ns)
            fail_msg("\"%s\": %lld, want %lld", cases[i].text, (long long)ns,
                     (long long)cases[i].ns);
    }
}

static void test_parse_duration_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        const char *says;
    } cases[] = {
        {"", CUT_EINVAL, "empty"},
        {"-1s", CUT_EINVAL, "negative"},
        {"-0", CUT_EINVAL, "negative"},
        {"+1s", CUT_EINVAL, "number"},
        {"1", CUT_EINVAL, "missing unit"},
        {"1.5", CUT_EINVAL, "missing unit"},
        {"10x", CUT_EINVAL, "unknown unit \"x\""},
        {"5sec", CUT_EINVAL, "unknown unit \"sec\""},
        {"3 days", CUT_EINVAL, "unknown unit \" days\""},
        {"s", CUT_EINVAL, "number"},
        {"1s ", CUT_EINVAL, "unknown unit \"s \""},
        {" 1s", CUT_EINVAL, "number"},
        {"1..5s", CUT_EINVAL, "unexpected"},
        {"2562048h", CUT_ERANGE, "too large"},
        {"9223372036854775808ns", CUT_ERANGE, "too large"},
        {"99999999999999999999999s", CUT_ERANGE, "too large"},
        {"9223372036854775807ns1ns", CUT_ERANGE, "too large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ns = 12345;
        cut_err err = {0};
        int rc = sched_parse_duration(cases[i].text, &ns, &err);
        if (rc != cases[i].code)
            fail_msg("\"%s\": rc %d, want %d (%s)", cases[i].text, rc, cases[i].code, err.msg);
        assert_int_equal(ns, 12345); /* untouched on failure */
        char quoted[80];
        snprintf(quoted, sizeof quoted, "\"%s\"", cases[i].text);
        if (!strstr(err.msg, quoted) || !strstr(err.msg, cases[i].says))
            fail_msg("\"%s\": message \"%s\" lacks the text or \"%s\"", cases[i].text, err.msg,
                     cases[i].says);
    }
    int64_t ns;
    assert_int_equal(sched_parse_duration(NULL, &ns, NULL), CUT_EINVAL);
}

/* ---- open model --------------------------------------------------------------------- */

static void test_open_decide(void **state)
{
    (void)state;
    const int64_t L = SCHED_MAX_LAG_DEFAULT_NS;
    assert_int_equal(sched_open_decide(S(5), S(5), -1, 0, 256), SCHED_SEND);
    assert_int_equal(sched_open_decide(S(5), S(5) - 1, -1, 0, 256), SCHED_WAIT);
    assert_int_equal(sched_open_decide(S(5), S(5) + L, -1, 0, 256), SCHED_SEND);
    assert_int_equal(sched_open_decide(S(5), S(5) + L + 1, -1, 0, 256), SCHED_DROP_LAG);
    assert_int_equal(sched_open_decide(S(5), S(5) + 10, 10, 0, 0), SCHED_SEND);
    assert_int_equal(sched_open_decide(S(5), S(5) + 11, 10, 0, 0), SCHED_DROP_LAG);
    assert_int_equal(sched_open_decide(S(5), S(5) + 1, 0, 0, 0), SCHED_DROP_LAG);
    /* max_in_flight reached: drop now, whatever the lag. */
    assert_int_equal(sched_open_decide(S(5), S(5), -1, 256, 256), SCHED_DROP_FULL);
    assert_int_equal(sched_open_decide(S(5), S(5), -1, 255, 256), SCHED_SEND);
    assert_int_equal(sched_open_decide(S(5), S(5), -1, 1000000, 0), SCHED_SEND);
    /* Extreme times do not overflow. */
    assert_int_equal(sched_open_decide(0, INT64_MAX, INT64_MAX, 0, 0), SCHED_SEND);
    assert_int_equal(sched_open_decide(-1, INT64_MAX, INT64_MAX - 1, 0, 0), SCHED_DROP_LAG);
}

/* ---- bad specifications ------------------------------------------------------------- */

static void test_arrivals_bad_specs(void **state)
{
    (void)state;
    sched_arrivals *s = (sched_arrivals *)&s;
    cut_err err = {0};
    sched_rate_stage ok[] = {{10, S(1)}};
    sched_rate_spec spec = {.start_rate = 10, .stages = ok, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 0, 0, &s, &err), CUT_EINVAL);
    assert_null(s);
    assert_int_equal(sched_arrivals_new(&spec, 2, 2, &s, &err), CUT_EINVAL);

    sched_rate_stage neg[] = {{10, S(1)}, {-1, S(1)}};
    spec = (sched_rate_spec){.start_rate = 10, .stages = neg, .n_stages = 2};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_EINVAL);
    assert_non_null(strstr(err.msg, "stage 1"));

    sched_rate_stage nan_r[] = {{NAN, S(1)}};
    spec = (sched_rate_spec){.start_rate = 10, .stages = nan_r, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_EINVAL);

    sched_rate_stage negd[] = {{10, -1}};
    spec = (sched_rate_spec){.start_rate = 10, .stages = negd, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_EINVAL);

    spec = (sched_rate_spec){.start_rate = -5, .stages = ok, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_EINVAL);

    sched_rate_stage fast[] = {{2e9, S(1)}};
    spec = (sched_rate_spec){.start_rate = 0, .stages = fast, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_ERANGE);

    sched_rate_stage many[] = {{1e9, S(1e8)}};
    spec = (sched_rate_spec){.start_rate = 1e9, .stages = many, .n_stages = 1};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_ERANGE);

    sched_rate_stage longd[] = {{1, INT64_MAX}, {1, 1}};
    spec = (sched_rate_spec){.start_rate = 1, .stages = longd, .n_stages = 2};
    assert_int_equal(sched_arrivals_new(&spec, 1, 0, &s, &err), CUT_ERANGE);
    assert_null(s);

    sched_vus *v = (sched_vus *)&v;
    sched_vu_stage vneg[] = {{5, -1}};
    assert_int_equal(sched_vus_new(0, vneg, 1, 1, 0, &v, &err), CUT_EINVAL);
    assert_null(v);
    assert_int_equal(sched_vus_new(0, NULL, 0, 1, 1, &v, &err), CUT_EINVAL);
    sched_arrivals_free(NULL);
    sched_vus_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_counts_and_spacing),
        cmocka_unit_test(test_constant_fractional_totals),
        cmocka_unit_test(test_max_requests_bound),
        cmocka_unit_test(test_arrivals_before),
        cmocka_unit_test(test_ramp_up_from_zero),
        cmocka_unit_test(test_ramp_down_and_steps),
        cmocka_unit_test(test_zero_rate_stages),
        cmocka_unit_test(test_long_runs_do_not_drift),
        cmocka_unit_test(test_thread_union),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_constant_vus_split),
        cmocka_unit_test(test_ramping_vus),
        cmocka_unit_test(test_vus_next_change),
        cmocka_unit_test(test_iterations_split),
        cmocka_unit_test(test_unique_rows_partition),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_rng_ranges),
        cmocka_unit_test(test_weighted_pick),
        cmocka_unit_test(test_parse_duration_good),
        cmocka_unit_test(test_parse_duration_bad),
        cmocka_unit_test(test_open_decide),
        cmocka_unit_test(test_arrivals_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
