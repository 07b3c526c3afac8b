/* Unit tests for {{templates}} (src/scenario/template.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "scenario/template.h"

static const char *const NAMES[] = {"agency", "report", "doc", "doc.id"};
static const scn_tpl_vars VARS = {NAMES, 4, NULL, 0};

static void test_literal(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    assert_int_equal(scn_tpl_compile(&a, "/health?x=}}", 12, &VARS, SCN_ENC_RAW, &t, NULL), 0);
    assert_true(t.literal);
    assert_int_equal(t.nsegs, 1);
    assert_string_equal(t.text, "/health?x=}}");
    assert_int_equal(t.len, 12);
    char buf[32];
    size_t len;
    assert_int_equal(scn_tpl_expand(&t, NULL, buf, sizeof buf, &len), 0);
    assert_string_equal(buf, "/health?x=}}");
    assert_int_equal(len, 12);
    scn_arena_free(&a);
}

static void test_expand(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    const char *src = "/r/{{report}}/a/{{ agency }}?d={{doc.id}}{{doc}}";
    assert_int_equal(scn_tpl_compile(&a, src, strlen(src), &VARS, SCN_ENC_RAW, &t, NULL), 0);
    assert_false(t.literal);
    assert_null(t.text);
    assert_int_equal(t.nsegs, 7);
    assert_int_equal(t.fixed_len, strlen("/r//a/?d="));
    assert_true(scn_tpl_uses(&t, 0));
    assert_true(scn_tpl_uses(&t, 3));
    scn_value b[4] = {{"100100", 6}, {"inventoryXX", 9}, {"tail", 4}, {"d-1", 3}};
    char buf[64];
    size_t len = 0;
    assert_int_equal(scn_tpl_expand(&t, b, buf, sizeof buf, &len), 0);
    assert_string_equal(buf, "/r/inventory/a/100100?d=d-1tail");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(scn_tpl_length(&t, b), len);

    /* A NULL value expands to nothing. */
    b[2].ptr = NULL;
    assert_int_equal(scn_tpl_expand(&t, b, buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "/r/inventory/a/100100?d=d-1");
    scn_arena_free(&a);
}

static void test_buffer_too_small(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    assert_int_equal(scn_tpl_compile(&a, "k:{{doc}}", 9, &VARS, SCN_ENC_RAW, &t, NULL), 0);
    scn_value b[4] = {{0}};
    b[2] = (scn_value){"12345", 5};
    char buf[8];
    size_t len = 0;
    /* "k:12345" needs 7 bytes plus the NUL: 8 fits, 7 does not. */
    assert_int_equal(scn_tpl_expand(&t, b, buf, 7, &len), CUT_ERANGE);
    assert_int_equal(len, 7);
    assert_int_equal(scn_tpl_expand(&t, b, buf, 8, &len), 0);
    assert_string_equal(buf, "k:12345");
    assert_int_equal(scn_tpl_expand(&t, b, buf, 0, &len), CUT_ERANGE);
    scn_arena_free(&a);
}

static void test_escapes(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    const char *src = "a\\{{report}} {{report}} {x} \\n";
    assert_int_equal(scn_tpl_compile(&a, src, strlen(src), &VARS, SCN_ENC_RAW, &t, NULL), 0);
    scn_value b[4] = {{0}};
    b[1] = (scn_value){"R", 1};
    char buf[64];
    assert_int_equal(scn_tpl_expand(&t, b, buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "a{{report}} R {x} \\n");

    /* Escaped only: still a literal template. */
    assert_int_equal(scn_tpl_compile(&a, "\\{{x}}", 6, &VARS, SCN_ENC_RAW, &t, NULL), 0);
    assert_true(t.literal);
    assert_string_equal(t.text, "{{x}}");
    scn_arena_free(&a);
}

static void test_json_encoding(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    const char *src = "{\"id\":\"{{doc}}\"}";
    assert_int_equal(scn_tpl_compile(&a, src, strlen(src), &VARS, SCN_ENC_JSON, &t, NULL), 0);
    scn_value b[4] = {{0}};
    b[2] = (scn_value){"a\"b\\c\n\x01", 7};
    char buf[64];
    size_t len;
    assert_int_equal(scn_tpl_expand(&t, b, buf, sizeof buf, &len), 0);
    assert_string_equal(buf, "{\"id\":\"a\\\"b\\\\c\\n\\u0001\"}");
    assert_int_equal(len, strlen(buf));
    scn_arena_free(&a);
}

static void test_errors(void **state)
{
    (void)state;
    scn_arena a = {0};
    scn_tpl t;
    cut_err e;
    assert_int_equal(scn_tpl_compile(&a, "/{{agncy}}", 10, &VARS, SCN_ENC_RAW, &t, &e), CUT_EINVAL);
    assert_string_equal(e.msg, "unknown variable \"agncy\" (did you mean \"agency\"? known: "
                               "agency, report, doc, doc.id)");
    assert_int_equal(scn_tpl_compile(&a, "/{{zzzzzzzz}}", 13, &VARS, SCN_ENC_RAW, &t, &e),
                     CUT_EINVAL);
    assert_string_equal(e.msg,
                        "unknown variable \"zzzzzzzz\" (known: agency, report, doc, doc.id)");
    assert_int_equal(scn_tpl_compile(&a, "/{{report", 9, &VARS, SCN_ENC_RAW, &t, &e), CUT_EINVAL);
    assert_string_equal(e.msg, "unterminated \"{{\" at offset 1");
    assert_int_equal(scn_tpl_compile(&a, "/{{  }}", 7, &VARS, SCN_ENC_RAW, &t, &e), CUT_EINVAL);
    assert_string_equal(e.msg, "empty variable name at offset 1");
    assert_int_equal(scn_tpl_compile(&a, "{{doc.name}}", 12, &VARS, SCN_ENC_RAW, &t, &e),
                     CUT_EINVAL);

    /* Open prefixes accept any column of a set whose columns are unknown. */
    const char *open[] = {"doc"};
    scn_tpl_vars v2 = {NAMES, 4, open, 1};
    assert_int_equal(scn_tpl_compile(&a, "{{doc.name}}", 12, &v2, SCN_ENC_RAW, &t, &e), 0);
    assert_int_equal(scn_tpl_compile(&a, "{{docx.name}}", 13, &v2, SCN_ENC_RAW, &t, &e),
                     CUT_EINVAL);

    /* No variables at all. */
    scn_tpl_vars none = {NULL, 0, NULL, 0};
    assert_int_equal(scn_tpl_compile(&a, "{{x}}", 5, &none, SCN_ENC_RAW, &t, &e), CUT_EINVAL);
    assert_string_equal(e.msg,
                        "unknown variable \"x\" (known: none, the scenario has no data sets)");
    scn_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),          cmocka_unit_test(test_expand),
        cmocka_unit_test(test_buffer_too_small), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_json_encoding),    cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
