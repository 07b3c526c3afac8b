/* Unit tests for data sets and cursors (src/scenario/data.c, csv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario/data.h"

static char tmp_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/cutover-data-XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *text, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static void assert_value(const scn_data *d, uint64_t row, int32_t col, const char *want)
{
    char scratch[SCN_SCRATCH];
    scn_value v;
    assert_int_equal(scn_data_value(d, row, col, scratch, &v), 0);
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.ptr, want, v.len);
}

static void test_range(void **state)
{
    (void)state;
    /* 2^62 rows: nothing is materialized, values are computed from the index. */
    scn_data d = {
        .kind = SCN_DATA_RANGE, .lo = INT64_MIN, .hi = INT64_MIN + (INT64_C(1) << 62) - 1};
    d.rows = UINT64_C(1) << 62;
    assert_value(&d, 0, SCN_KEY_COLUMN, "-9223372036854775808");
    assert_value(&d, 1, SCN_KEY_COLUMN, "-9223372036854775807");
    assert_value(&d, d.rows - 1, SCN_KEY_COLUMN, "-4611686018427387905");
    scn_data e = {.kind = SCN_DATA_RANGE, .lo = -2, .hi = 100100, .rows = 100103};
    assert_value(&e, 0, SCN_KEY_COLUMN, "-2");
    assert_value(&e, 2, SCN_KEY_COLUMN, "0");
    assert_value(&e, 100102, 0, "100100");
    char scratch[SCN_SCRATCH];
    scn_value v;
    assert_int_equal(scn_data_value(&e, 100103, SCN_KEY_COLUMN, scratch, &v), CUT_ERANGE);
    assert_int_equal(scn_data_value(&e, 0, 1, scratch, &v), CUT_ERANGE);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    static const char csv[] = "\xEF\xBB\xBFid,\"na,me\",note\r\n"
                              "1,\"a \"\"quoted\"\" word\",\r\n"
                              "\n"
                              "2,\"two\nlines\",\"\"\r\n"
                              "3,plain,last";
    scn_arena a = {0};
    scn_data d = {0};
    cut_err e;
    assert_int_equal(scn_data_load_csv(&a, write_tmp("q.csv", csv, sizeof csv - 1), &d, &e), 0);
    assert_int_equal(d.kind, SCN_DATA_CSV);
    assert_int_equal(d.ncols, 3);
    assert_int_equal(d.rows, 3);
    assert_string_equal(d.columns[0], "id");
    assert_string_equal(d.columns[1], "na,me");
    assert_int_equal(scn_data_column(&d, "note"), 2);
    assert_int_equal(scn_data_column(&d, "nope"), -1);
    assert_value(&d, 0, 1, "a \"quoted\" word");
    assert_value(&d, 0, 2, "");
    assert_value(&d, 1, 1, "two\nlines");
    assert_value(&d, 1, 2, "");
    assert_value(&d, 2, 2, "last");
    d.key_column = 1;
    assert_value(&d, 2, SCN_KEY_COLUMN, "plain");
    scn_arena_free(&a);
}

static void test_csv_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *msg;
    } cases[] = {
        {"a,b\n1,2\n3\n", CUT_ESYNTAX, "line 3: expected 2 fields, found 1"},
        {"a,b\n1,\"2\n3,4\n", CUT_ESYNTAX, "line 2: unterminated quoted field"},
        {"a,b\n1,x\"y\n", CUT_ESYNTAX, "line 2: '\"' inside an unquoted field"},
        {"a,b\n\"1\"x,2\n", CUT_ESYNTAX, "line 2: unexpected character after a closing quote"},
        {"a,a\n1,2\n", CUT_ESYNTAX, "line 1: duplicate column \"a\""},
        {"a,\n1,2\n", CUT_ESYNTAX, "line 1: header field 2 is empty"},
        {"a,b\n", CUT_ESYNTAX, "no data rows after the header"},
        {"", CUT_ESYNTAX, "empty file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        scn_arena a = {0};
        scn_data d = {0};
        cut_err e;
        const char *path = write_tmp("bad.csv", cases[i].text, strlen(cases[i].text));
        assert_int_equal(scn_data_load_csv(&a, path, &d, &e), cases[i].rc);
        if (!strstr(e.msg, cases[i].msg)) fail_msg("case %zu: \"%s\"", i, e.msg);
        assert_non_null(strstr(e.msg, path));
        scn_arena_free(&a);
    }
    scn_arena a = {0};
    scn_data d = {0};
    cut_err e;
    assert_int_equal(scn_data_load_csv(&a, "/nonexistent/x.csv", &d, &e), CUT_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent/x.csv: cannot open: "));
    scn_arena_free(&a);
}

static void test_sequential(void **state)
{
    (void)state;
    scn_data d = {.kind = SCN_DATA_RANGE, .lo = 0, .hi = 4, .rows = 5};
    /* One thread: 0..4 then wraps. */
    scn_cursor c;
    scn_cursor_init(&c, &d, 0, 1);
    uint64_t row;
    for (uint64_t i = 0; i < 12; i++) {
        assert_true(scn_cursor_next(&c, &row));
        assert_int_equal(row, i % 5);
    }
    assert_int_equal(scn_cursor_left(&c), UINT64_MAX);
    /* Three threads interleave: together they read 0,1,2,3,4,0,1,... */
    scn_cursor t[3];
    for (uint32_t i = 0; i < 3; i++)
        scn_cursor_init(&t[i], &d, i, 3);
    for (uint64_t k = 0; k < 4; k++) {
        for (uint32_t i = 0; i < 3; i++) {
            assert_true(scn_cursor_next(&t[i], &row));
            assert_int_equal(row, (i + 3 * k) % 5);
        }
    }
    /* More threads than rows. */
    scn_data one = {.kind = SCN_DATA_RANGE, .lo = 7, .hi = 7, .rows = 1};
    scn_cursor_init(&c, &one, 5, 8);
    for (int i = 0; i < 3; i++) {
        assert_true(scn_cursor_next(&c, &row));
        assert_int_equal(row, 0);
    }
}

static void test_random(void **state)
{
    (void)state;
    scn_data d = {.kind = SCN_DATA_RANGE,
                  .lo = 0,
                  .hi = 999,
                  .rows = 1000,
                  .mode = SCN_MODE_RANDOM,
                  .seed = 42,
                  .index = 2};
    scn_cursor a, b, other_thread, other_seed;
    scn_cursor_init(&a, &d, 0, 4);
    scn_cursor_init(&b, &d, 0, 4);
    scn_cursor_init(&other_thread, &d, 1, 4);
    d.seed = 43;
    scn_cursor_init(&other_seed, &d, 0, 4);
    int same_thread = 0, same_seed = 0;
    bool seen[1000] = {false};
    size_t distinct = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t ra, rb, rt, rs;
        assert_true(scn_cursor_next(&a, &ra));
        assert_true(scn_cursor_next(&b, &rb));
        assert_true(scn_cursor_next(&other_thread, &rt));
        assert_true(scn_cursor_next(&other_seed, &rs));
        assert_int_equal(ra, rb); /* reproducible */
        assert_true(ra < 1000);
        same_thread += ra == rt;
        same_seed += ra == rs;
        if (!seen[ra]) distinct++;
        seen[ra] = true;
    }
    assert_true(same_thread < 20); /* independent streams agree ~2 times in 2000 */
    assert_true(same_seed < 20);
    assert_true(distinct > 800); /* 2000 draws of 1000 cover ~865 */
}

static void test_unique(void **state)
{
    (void)state;
    scn_data d = {.kind = SCN_DATA_RANGE, .lo = 0, .hi = 9, .rows = 10, .mode = SCN_MODE_UNIQUE};
    int used[10] = {0};
    uint64_t total = 0;
    for (uint32_t t = 0; t < 3; t++) {
        scn_cursor c;
        scn_cursor_init(&c, &d, t, 3);
        uint64_t left = scn_cursor_left(&c);
        assert_int_equal(left, t == 0 ? 4 : 3);
        uint64_t row, prev = 0, n = 0;
        while (scn_cursor_next(&c, &row)) {
            assert_true(row < 10);
            assert_int_equal(row % 3, t); /* row r belongs to thread r % n */
            if (n) assert_true(row > prev);
            prev = row;
            used[row]++;
            n++;
        }
        assert_int_equal(n, left);
        assert_int_equal(scn_cursor_left(&c), 0);
        assert_false(scn_cursor_next(&c, &row)); /* stays exhausted */
        total += n;
    }
    assert_int_equal(total, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(used[i], 1);
}

static void test_values(void **state)
{
    (void)state;
    scn_value vals[] = {{"sales_summary", 13}, {"42", 2}};
    scn_data d = {.kind = SCN_DATA_VALUES, .values = vals, .rows = 2};
    assert_value(&d, 0, SCN_KEY_COLUMN, "sales_summary");
    assert_value(&d, 1, SCN_KEY_COLUMN, "42");
    scn_value v;
    assert_int_equal(scn_data_value(&d, 2, SCN_KEY_COLUMN, NULL, &v), CUT_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range),      cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_errors), cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_random),     cmocka_unit_test(test_unique),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
