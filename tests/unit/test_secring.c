/* sring: per-second percentiles over several threads' histograms equal those of all values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics/secring.h"

static void test_merges_threads_per_second(void **state)
{
    (void)state;
    sring *r;
    assert_int_equal(sring_new(&r, NULL), 0);
    hist *t1, *t2, *prev2, *all;
    assert_int_equal(hist_new_default(&t1, NULL), 0);
    assert_int_equal(hist_new_default(&t2, NULL), 0);
    assert_int_equal(hist_new_default(&prev2, NULL), 0);
    assert_int_equal(hist_new_default(&all, NULL), 0);
    for (uint64_t sec = 0; sec < 20; sec++) {
        hist_reset(t1);
        hist_reset(t2);
        for (int i = 1; i <= 1000; i++) {
            hist_record(t1, (int64_t)(i * 10 + sec * 1000));
            hist_record(t2, (int64_t)(i * 37 + 5));
        }
        /* The second thread hands each second over one second later than the first. */
        sring_add(r, sec, t1);
        if (sec > 0) sring_add(r, sec - 1, prev2);
        if (sec == 19) sring_add(r, sec, t2);
        hist_reset(prev2);
        hist_merge(prev2, t2, NULL);
    }
    sring_flush(r);
    assert_int_equal(sring_seconds(r), 20);
    assert_int_equal(sring_late(r), 0);
    /* Rebuild each second's full histogram and compare. */
    for (uint64_t sec = 0; sec < 20; sec++) {
        hist_reset(all);
        for (int i = 1; i <= 1000; i++) {
            hist_record(all, (int64_t)(i * 10 + sec * 1000));
            hist_record(all, (int64_t)(i * 37 + 5));
        }
        const sring_second *s = sring_get(r, sec);
        assert_non_null(s);
        assert_int_equal(s->count, 2000);
        assert_int_equal(s->p50, hist_percentile(all, 50));
        assert_int_equal(s->p95, hist_percentile(all, 95));
        assert_int_equal(s->p99, hist_percentile(all, 99));
        assert_int_equal(s->max, hist_max(all));
    }
    /* Data for a second whose slot moved on is counted as late, not mixed in. */
    hist_reset(t1);
    hist_record(t1, 5);
    sring_reset(r);
    sring_add(r, 9, t1);
    sring_add(r, 1, t1);
    assert_int_equal(sring_late(r), 1);
    hist_free(t1);
    hist_free(t2);
    hist_free(prev2);
    hist_free(all);
    sring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_merges_threads_per_second)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
