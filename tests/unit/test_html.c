/* HTML report: a real run's results (fixture) plus hostile sections render to one inert,
 * self-contained page with every section; malformed and oversized reports stay bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/report.h"
#include "report/targets.h"

static json_t *fixture(const char *name)
{
    char path[4096];
    const char *src = getenv("CUTOVER_SOURCE_DIR");
    if (src) {
        snprintf(path, sizeof path, "%s/tests/integration/fixtures/report/%s", src, name);
    } else {
        /* Built by CMake, __FILE__ is absolute: <src>/tests/unit/test_html.c. */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *cut = strstr(path, "/tests/unit/");
        assert_non_null(cut);
        snprintf(cut, sizeof path - (size_t)(cut - path), "/tests/integration/fixtures/report/%s",
                 name);
    }
    json_error_t e;
    json_t *v = json_load_file(path, 0, &e);
    if (!v) fail_msg("%s: %s", path, e.text);
    return v;
}

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

#define ASSERT_HAS(page, needle)                                                                   \
    do {                                                                                           \
        if (!strstr(page, needle)) fail_msg("page lacks [%s]", needle);                            \
    } while (0)
#define ASSERT_LACKS(page, needle)                                                                 \
    do {                                                                                           \
        const char *at_ = strstr(page, needle);                                                    \
        if (at_) fail_msg("page holds [%s] at: %.80s", needle, at_);                               \
    } while (0)

/* The fixture run with hostile names and sections, judged and finalized. */
static json_t *hostile_report(void)
{
    json_t *r = fixture("results.json");
    json_t *extra = fixture("hostile.json");
    assert_int_equal(json_object_update(r, extra), 0);
    json_decref(extra);
    json_t *warm = json_array_get(json_object_get(r, "phases"), 2);
    json_t *st = json_array_get(json_object_get(warm, "steps"), 0);
    assert_non_null(st);
    json_object_set_new(st, "name", json_string("<script>alert('step')</script>"));
    json_object_set_new(json_array_get(json_object_get(r, "phases"), 1), "name",
                        json_string("\"><img src=x onerror=alert('phase')>"));
    json_object_set_new(json_object_get(r, "run"), "scenario",
                        json_string("</title><script>alert('title')</script>"));
    json_t *targets =
        parse("{\"<script>alert('target')</script>\": {\"expr\": \"errors.rate < 1%\","
              "  \"description\": \"<img src=x onerror=alert('desc')>\"},"
              " \"http.warm.p95\": \"< 1us\","
              " \"cache.hit_rate{phase:warm}\": \"> 80%\","
              " \"parity.mismatch_rate\": \"== 0\"}");
    tgt_set *set = NULL;
    assert_int_equal(tgt_compile_json(targets, NULL, "t.json", &set, NULL), 0);
    json_t *v = NULL;
    tgt_summary sum;
    assert_int_equal(tgt_judge(set, r, &v, &sum, NULL), 0);
    assert_int_equal(rpt_finalize(r, v, &sum), 0);
    json_decref(v);
    json_decref(targets);
    tgt_free(set);
    return r;
}

static void test_hostile_is_inert(void **state)
{
    (void)state;
    json_t *r = hostile_report();
    char *page = NULL;
    size_t len = 0;
    assert_int_equal(html_render(r, &page, &len, NULL), 0);
    assert_int_equal(strlen(page), len);
    /* Exactly two script elements: the JSON data block and the page's own (nonce) script. */
    assert_int_equal(count(page, "<script"), 2);
    assert_int_equal(count(page, "</script>"), 2);
    ASSERT_HAS(page, "<script type=\"application/json\" id=\"cutover-report\">");
    ASSERT_HAS(page, "<script nonce=\"");
    ASSERT_LACKS(page, "<img");
    ASSERT_LACKS(page, "<svg onload");
    ASSERT_LACKS(page, "<b>1</b>");
    ASSERT_LACKS(page, "<!-- -->");
    /* The hostile text is there, as text. */
    ASSERT_HAS(page, "&lt;script&gt;alert(&#39;step&#39;)&lt;/script&gt;");
    ASSERT_HAS(page, "&quot;&gt;&lt;img src=x onerror=alert(&#39;phase&#39;)&gt;");
    ASSERT_HAS(page, "&lt;/script&gt;&lt;script&gt;alert(&#39;base&#39;)&lt;/script&gt;");
    ASSERT_HAS(page, "&lt;script&gt;alert(&#39;target&#39;)&lt;/script&gt;");
    ASSERT_HAS(page, "<title>cutover: &lt;/title&gt;&lt;script&gt;");
    ASSERT_HAS(page, "&lt;script&gt;alert(&#39;breaker&#39;)&lt;/script&gt;"); /* SVG title */
    /* Nothing loads from anywhere: a policy forbids it and no element asks. */
    ASSERT_HAS(page, "Content-Security-Policy\" content=\"default-src 'none'");
    ASSERT_LACKS(page, "<link");
    ASSERT_LACKS(page, " src=\"");
    ASSERT_LACKS(page, " href=\"");
    ASSERT_LACKS(page, "url(");
    ASSERT_LACKS(page, "@import");
    assert_int_equal(count(page, "http://"), count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
    ASSERT_LACKS(page, "https://");
    /* The embedded JSON holds no '<' at all, and still parses to the report. */
    const char *open = strstr(page, "id=\"cutover-report\">");
    assert_non_null(open);
    open += strlen("id=\"cutover-report\">");
    const char *close = strstr(open, "</script>");
    assert_non_null(close);
    for (const char *p = open; p < close; p++)
        if (*p == '<' || *p == '>') fail_msg("raw %c in embedded JSON", *p);
    json_error_t e;
    json_t *back = json_loadb(open, (size_t)(close - open), 0, &e);
    if (!back) fail_msg("embedded JSON: %s", e.text);
    assert_string_equal(json_string_value(json_object_get(back, "verdict")), "fail");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(
                json_object_get(json_array_get(json_object_get(back, "phases"), 2), "steps"), 0),
            "name")),
        "<script>alert('step')</script>");
    assert_null(strstr(open, "\"hdr\""));
    json_decref(back);
    free(page);
    json_decref(r);
}

static void test_sections(void **state)
{
    (void)state;
    json_t *r = hostile_report();
    char *page = NULL;
    assert_int_equal(html_render(r, &page, NULL, NULL), 0);
    ASSERT_HAS(page, "data-verdict=\"fail\"");
    ASSERT_HAS(page, ">FAIL<");
    /* One row per target, measured value beside the target. */
    const char *tbody = strstr(page, "id=\"targets-table\"");
    assert_non_null(tbody);
    const char *end = strstr(tbody, "</table>");
    size_t rows = 0;
    for (const char *p = tbody; (p = strstr(p, "<tr class=\"st-")) && p < end; p++)
        rows++;
    assert_int_equal(rows, 4);
    ASSERT_HAS(page, "<td class=\"num\">&lt; 1 us</td>");
    ASSERT_HAS(page, "<td class=\"num\"><b>100%</b></td><td class=\"num\">&gt; 80%</td>");
    /* Latency curves: one chart per step (report, one_k, ping, and the renamed step). */
    assert_true(count(page, "<svg") >= 5);
    ASSERT_HAS(page, "cold, corrected");
    ASSERT_HAS(page, "warm, raw");
    ASSERT_HAS(page, "throughput and errors");
    ASSERT_HAS(page, "cache hit rate");
    /* Breaker transitions are marked on each timeline chart (2 charts x 2 transitions). */
    assert_int_equal(count(page, "class=\"breaker-mark\""), 4);
    ASSERT_HAS(page, "id=\"breaker-transitions\"");
    ASSERT_HAS(page, "id=\"parity-fields\"");
    ASSERT_HAS(page, "/metadata/request_id");
    ASSERT_HAS(page, "2 more"); /* 5 examples, 3 shown */
    ASSERT_HAS(page, "id=\"data-table\"");
    free(page);
    json_decref(r);
}

static void test_malformed_and_bounded(void **state)
{
    (void)state;
    char *page = NULL;
    json_t *arr = json_array();
    assert_int_equal(html_render(arr, &page, NULL, NULL), CUT_EINVAL);
    assert_null(page);
    json_decref(arr);

    json_t *bad = parse("{\"phases\": [5, {\"steps\": 3, \"series\": [1, {\"t\": 1e308}]},"
                        " {\"name\": \"p\", \"recorded\": true, \"started\": \"garbage\","
                        "  \"steps\": [{\"name\": \"s\", \"latency\": {\"all\": {\"corrected\": "
                        "{\"count\": 3, \"hdr\": \"AAAA\"}}}}],"
                        "  \"series\": [{\"t\": -5, \"completed\": 1e300, \"hits\": -1}]}],"
                        " \"run\": [], \"targets\": {\"a\": 1}, \"verdict\": 7,"
                        " \"parity\": {\"fields\": \"x\"}, \"data_checks\": [null, 1],"
                        " \"breakers\": {\"transitions\": [{\"t\": 1e308}, {\"t\": \"x\"}, 4]}}");
    assert_int_equal(html_render(bad, &page, NULL, NULL), 0);
    ASSERT_HAS(page, "NO TARGETS");
    ASSERT_HAS(page, "</html>");
    free(page);
    json_decref(bad);

    /* 5000 parity fields with 10 kB paths: the page stays small. */
    json_t *big = parse("{\"schema\": 1, \"run\": {}, \"phases\": [], \"parity\": "
                        "{\"requests\": 1, \"fields\": []}}");
    json_t *fields = json_object_get(json_object_get(big, "parity"), "fields");
    char *path = malloc(10001);
    memset(path, 'a', 10000);
    path[10000] = '\0';
    for (int i = 0; i < 5000; i++)
        json_array_append_new(fields, json_pack("{ss si}", "path", path, "count", i));
    free(path);
    size_t len = 0;
    assert_int_equal(html_render(big, &page, &len, NULL), 0);
    ASSERT_HAS(page, "4800 more not shown");
    /* 200 rows of at most ~320 bytes of path, plus the embedded JSON (capped at 2 MiB). */
    assert_true(len < 3u * 1024 * 1024);
    free(page);
    json_decref(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_is_inert),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_malformed_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
