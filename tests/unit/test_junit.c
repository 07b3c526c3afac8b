/* JUnit XML: one testcase per target, failures carry measured vs target, all text escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/junit.h"
#include "report/report.h"
#include "report/targets.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("bad test JSON: %s", e.text);
    return v;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *render(json_t *r)
{
    char *doc = NULL;
    size_t len = 0;
    assert_int_equal(junit_render(r, &doc, &len, NULL), 0);
    assert_int_equal(strlen(doc), len);
    return doc;
}

static void test_one_case_per_target(void **state)
{
    (void)state;
    /* 40 requests, 2 errors (5%), 30 hits of 40 (75%). */
    json_t *r = parse("{\"schema\": 1, \"run\": {\"scenario\": \"s&<1>\", \"duration_s\": 3.5,"
                      " \"started\": \"2026-01-01T00:00:00.000Z\"},"
                      " \"phases\": [{\"name\": \"warm\", \"recorded\": true, \"duration_s\": 3,"
                      "  \"steps\": [{\"name\": \"r\", \"kind\": \"http\", \"requests\": 40,"
                      "   \"completed\": 40, \"errors\": {\"count\": 2, \"by_kind\": {}},"
                      "   \"cache\": {\"hits\": 30, \"misses\": 10}}]}]}");
    json_t *targets =
        parse("{\"errors.rate\": \"< 1%\", \"hit\": {\"expr\": \"cache.hit_rate > 80%\", "
              "\"severity\": \"warn\"}, \"requests\": \">= 40\","
              " \"a<b>&\\\"c' \\u0001 \\uffff\": {\"expr\": \"requests > 1\"}}");
    tgt_set *set = NULL;
    assert_int_equal(tgt_compile_json(targets, NULL, "t.json", &set, NULL), 0);
    json_t *v = NULL;
    tgt_summary sum;
    assert_int_equal(tgt_judge(set, r, &v, &sum, NULL), 0);
    assert_int_equal(rpt_finalize(r, v, &sum), 0);
    char *x = render(r);
    assert_non_null(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(x, "<testsuites name=\"cutover\" tests=\"4\" failures=\"1\""));
    assert_int_equal(count(x, "<testcase "), 4);
    assert_int_equal(count(x, "<failure "), 1);
    assert_non_null(strstr(x, "name=\"cutover targets: s&amp;&lt;1&gt;\""));
    /* The failure: measured against target, in the message and the body. */
    assert_non_null(strstr(x, "<failure type=\"target missed\" message=\"measured 5%, target &lt; "
                              "1%\">"));
    assert_non_null(strstr(x, "measured: 5%\n"));
    assert_non_null(strstr(x, "target: &lt; 1%\n"));
    /* The warning passes and says so. */
    assert_non_null(strstr(x, "name=\"hit\" time=\"0\">\n      <system-out>WARNING\n"));
    /* Escaped name, without the characters XML 1.0 forbids. */
    assert_non_null(strstr(x, "name=\"a&lt;b&gt;&amp;&quot;c&apos;  \""));
    assert_null(strchr(x, '\x01'));
    assert_null(strstr(x, "\xEF\xBF\xBF"));
    assert_non_null(strstr(x, "<property name=\"verdict\" value=\"fail\"/>"));
    free(x);
    json_decref(v);
    json_decref(targets);
    tgt_free(set);
    json_decref(r);
}

static void test_no_targets_and_bad_input(void **state)
{
    (void)state;
    json_t *r = parse("{\"schema\": 1, \"run\": {}, \"phases\": [], \"targets\": [5, {}]}");
    char *x = render(r);
    /* Malformed verdicts still make test cases (that fail: no status means not a pass). */
    assert_non_null(strstr(x, "tests=\"2\" failures=\"2\""));
    free(x);
    json_object_del(r, "targets");
    x = render(r);
    assert_non_null(strstr(x, "tests=\"0\" failures=\"0\""));
    assert_non_null(strstr(x, "value=\"no targets\""));
    free(x);
    json_decref(r);
    char *doc = NULL;
    json_t *s = json_string("x");
    assert_int_equal(junit_render(s, &doc, NULL, NULL), CUT_EINVAL);
    assert_null(doc);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_case_per_target),
        cmocka_unit_test(test_no_targets_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
