/* stats_step: recording by kind, status and class; merging equals recording into one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics/stats.h"

static void test_record_counts(void **state)
{
    (void)state;
    stats_step s;
    assert_int_equal(stats_step_init(&s, NULL), 0);
    assert_null(s.lat[STATS_COLD][STATS_CORRECTED]); /* allocated on first use only */
    assert_int_equal(stats_step_record(&s, DRV_OK, 200, STATS_ALL, 1500, 1000), 0);
    assert_int_equal(stats_step_record(&s, DRV_ESTATUS, 503, STATS_COLD, 9000, 8000), 0);
    assert_int_equal(stats_step_record(&s, DRV_ETIMEOUT, 0, STATS_WARM, 700000, 700000), 0);
    assert_int_equal(s.completed, 3);
    assert_int_equal(s.errors, 2);
    assert_int_equal(s.by_kind[DRV_ESTATUS], 1);
    assert_int_equal(s.by_kind[DRV_ETIMEOUT], 1);
    assert_int_equal(s.status[200], 1);
    assert_int_equal(s.status[503], 1);
    assert_int_equal(s.status[0], 1);
    assert_int_equal(hist_count(stats_step_hist(&s, STATS_ALL, STATS_CORRECTED)), 3);
    assert_int_equal(hist_count(stats_step_hist(&s, STATS_COLD, STATS_RAW)), 1);
    assert_in_range(hist_max(stats_step_hist(&s, STATS_WARM, STATS_CORRECTED)), 700000, 700000);
    /* corrected and raw are kept apart */
    assert_true(hist_max(stats_step_hist(&s, STATS_COLD, STATS_CORRECTED)) >=
                hist_max(stats_step_hist(&s, STATS_COLD, STATS_RAW)) + 900);
    stats_step_free(&s);
}

static void test_merge_equals_single(void **state)
{
    (void)state;
    stats_step a, b, one;
    assert_int_equal(stats_step_init(&a, NULL), 0);
    assert_int_equal(stats_step_init(&b, NULL), 0);
    assert_int_equal(stats_step_init(&one, NULL), 0);
    for (int i = 1; i <= 1000; i++) {
        stats_step *t = (i % 3) ? &a : &b;
        stats_class cls = (i % 5 == 0) ? STATS_WARM : STATS_ALL;
        drv_kind k = (i % 17 == 0) ? DRV_ERESET : DRV_OK;
        stats_step_record(t, k, 200, cls, i * 10, i * 7);
        stats_step_record(&one, k, 200, cls, i * 10, i * 7);
        t->started++;
        one.started++;
    }
    b.dropped = 4;
    one.dropped = 4;
    assert_int_equal(stats_step_merge(&a, &b, NULL), 0);
    assert_int_equal(a.completed, one.completed);
    assert_int_equal(a.started, one.started);
    assert_int_equal(a.dropped, 4);
    assert_int_equal(a.by_kind[DRV_ERESET], one.by_kind[DRV_ERESET]);
    for (int c = 0; c < STATS_NCLASS; c++)
        for (int m = 0; m < STATS_NMEASURE; m++) {
            const hist *x = stats_step_hist(&a, c, m), *y = stats_step_hist(&one, c, m);
            if (!y) {
                assert_null(x);
                continue;
            }
            assert_non_null(x);
            assert_int_equal(hist_count(x), hist_count(y));
            assert_int_equal(hist_percentile(x, 50), hist_percentile(y, 50));
            assert_int_equal(hist_percentile(x, 99), hist_percentile(y, 99));
            assert_int_equal(hist_max(x), hist_max(y));
        }
    stats_step_free(&a);
    stats_step_free(&b);
    stats_step_free(&one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_counts),
        cmocka_unit_test(test_merge_equals_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
