/* Targets: parsing, validation against a scenario, and judging against a results document
 * built here with real encoded histograms (so merged percentiles are known exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/hist.h"
#include "report/report.h"
#include "report/targets.h"
#include "scenario/scenario.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("bad test JSON at %d: %s: %s", e.position, e.text, text);
    return v;
}

/* A latency class {corrected, raw} of n values starting at first_us, step_us apart, each
 * recorded `each` times; raw = corrected / 2. */
static json_t *lat_class(int n, int64_t first_us, int64_t step_us, int each)
{
    json_t *cls = json_object();
    for (int m = 0; m < 2; m++) {
        hist *h = NULL;
        assert_int_equal(hist_new_default(&h, NULL), 0);
        for (int i = 0; i < n; i++)
            hist_record_n(h, (first_us + step_us * i) / (m ? 2 : 1), each);
        char *enc = NULL;
        assert_int_equal(hist_encode(h, &enc, NULL), 0);
        json_t *o = json_pack("{sI sI sf sI ss}", "count", (json_int_t)hist_count(h), "min",
                              (json_int_t)hist_min(h), "mean", hist_mean(h), "max",
                              (json_int_t)hist_max(h), "hdr", enc);
        json_object_set_new(cls, m ? "raw" : "corrected", o);
        free(enc);
        hist_free(h);
    }
    return cls;
}

static json_t *step(const char *name, const char *kind, const char *endpoint, int completed,
                    int errors, int hits, int misses, int s5xx)
{
    json_t *st =
        json_pack("{ss ss ss s[] sI sI sI s{sI sf s{}} s{} s{sI sI sI sI} s{}}", "name", name,
                  "kind", kind, "endpoint", endpoint, "tags", "requests", (json_int_t)completed,
                  "completed", (json_int_t)completed, "dropped", (json_int_t)0, "errors", "count",
                  (json_int_t)errors, "rate", completed ? (double)errors / completed : 0.0,
                  "by_kind", "status", "cache", "hits", (json_int_t)hits, "misses",
                  (json_int_t)misses, "other", (json_int_t)0, "none", (json_int_t)0, "latency");
    assert_non_null(st);
    json_t *status = json_object_get(st, "status");
    if (completed - s5xx) json_object_set_new(status, "200", json_integer(completed - s5xx));
    if (s5xx) json_object_set_new(status, "503", json_integer(s5xx));
    if (errors)
        json_object_set_new(json_object_get(json_object_get(st, "errors"), "by_kind"), "timeout",
                            json_integer(errors));
    return st;
}

static json_t *phase(const char *name, bool recorded, double secs)
{
    return json_pack("{ss ss sb sf s[] s[]}", "name", name, "executor", "iterations", "recorded",
                     recorded, "duration_s", secs, "steps", "series");
}

/* warmup (not recorded): report, 50 requests, all failing, 5 s each: it must never count.
 * cold: report, 100 misses, latencies 1..100 ms (class all and cold).
 * warm: report (100: 85 hits, 15 misses, 1 error = a 503, 10 ms each, all and warm) and
 *       ping (redis, 100 at 1 ms); totals carry only "ratelimited": 20.
 * Run-level: parity, data_checks, breakers; server statistics per phase. */
static json_t *results(void)
{
    json_t *doc = json_pack("{si s{ss sf} s[]}", "schema", 1, "run", "scenario", "t", "duration_s",
                            10.0, "phases");
    json_t *phases = json_object_get(doc, "phases");

    json_t *w = phase("warmup", false, 1);
    json_t *ws = step("report", "http", "gw", 50, 50, 0, 0, 50);
    json_object_set_new(json_object_get(ws, "latency"), "all", lat_class(50, 5000000, 0, 1));
    json_array_append_new(json_object_get(w, "steps"), ws);
    json_array_append_new(phases, w);

    json_t *c = phase("cold", true, 2);
    json_t *cs = step("report", "http", "gw", 100, 0, 0, 100, 0);
    json_object_set_new(json_object_get(cs, "latency"), "all", lat_class(100, 1000, 1000, 1));
    json_object_set_new(json_object_get(cs, "latency"), "cold", lat_class(100, 1000, 1000, 1));
    json_array_append_new(json_object_get(c, "steps"), cs);
    json_object_set_new(c, "server", parse("{\"db\": {\"calls\": 100}}"));
    json_object_set_new(c, "totals", parse("{\"completed\": 100}"));
    json_array_append_new(phases, c);

    json_t *m = phase("warm", true, 4);
    json_t *rs = step("report", "http", "gw", 100, 1, 85, 15, 1);
    json_object_set_new(json_object_get(rs, "latency"), "all", lat_class(1, 10000, 0, 100));
    json_object_set_new(json_object_get(rs, "latency"), "warm", lat_class(1, 10000, 0, 85));
    json_array_append_new(json_object_get(rs, "tags"), json_string("api"));
    json_t *ps = step("ping", "redis", "cache", 100, 0, 0, 0, 0);
    json_object_set_new(json_object_get(ps, "latency"), "all", lat_class(1, 1000, 0, 100));
    json_array_append_new(json_object_get(m, "steps"), rs);
    json_array_append_new(json_object_get(m, "steps"), ps);
    json_object_set_new(m, "totals", parse("{\"ratelimited\": 20}"));
    json_object_set_new(m, "server",
                        parse("{\"db\": {\"queries_per_request\": 0.1}, \"redis\": "
                              "{\"keyspace_hits\": 90, \"keyspace_misses\": 10}}"));
    json_array_append_new(phases, m);

    json_object_set_new(doc, "parity",
                        parse("{\"requests\": 200, \"mismatched\": 3, \"fields\": [{\"path\": "
                              "\"/info/name\", \"kind\": \"changed\", \"count\": 2}]}"));
    json_object_set_new(doc, "data_checks",
                        parse("[{\"name\": \"documents\", \"redis_count\": 10, \"count_diff\": "
                              "-2, \"missing_in_pg\": 1, \"missing_in_redis\": 0, "
                              "\"field_mismatches\": 0}, {\"name\": \"sessions\", "
                              "\"redis_count\": 5, \"count_diff\": 2}]"));
    json_object_set_new(doc, "breakers",
                        parse("{\"trips\": 1, \"open_seconds\": 2.5, \"rejections\": 7}"));
    return doc;
}

/* Judges one short-form target against the fixture (no scenario checks). */
typedef struct judged {
    char status[8];
    double measured;
    bool has;
    long long samples;
    bool low;
    char reason[512];
    char text[64];
    tgt_summary sum;
} judged;

static judged judge_target(json_t *doc, const char *targets_json)
{
    judged j;
    memset(&j, 0, sizeof j);
    json_t *t = parse(targets_json);
    tgt_set *set = NULL;
    scn_diags d;
    scn_diags_init(&d);
    int rc = tgt_compile_json(t, NULL, "t.json", &set, &d);
    if (rc != 0) {
        scn_diags_print(&d, stderr);
        fail_msg("compile failed: %s", targets_json);
    }
    json_t *v = NULL;
    assert_int_equal(tgt_judge(set, doc, &v, &j.sum, NULL), 0);
    assert_int_equal(json_array_size(v), 1);
    json_t *o = json_array_get(v, 0);
    snprintf(j.status, sizeof j.status, "%s", json_string_value(json_object_get(o, "status")));
    j.has = json_is_number(json_object_get(o, "measured"));
    j.measured = json_number_value(json_object_get(o, "measured"));
    j.samples = json_integer_value(json_object_get(o, "samples"));
    j.low = json_is_true(json_object_get(o, "low_samples"));
    snprintf(j.reason, sizeof j.reason, "%s", json_string_value(json_object_get(o, "reason")));
    snprintf(j.text, sizeof j.text, "%s", json_string_value(json_object_get(o, "measured_text")));
    json_decref(v);
    json_decref(t);
    tgt_free(set);
    scn_diags_free(&d);
    return j;
}

#define EXPECT(doc, key, value, want_status)                                                       \
    do {                                                                                           \
        judged j_ = judge_target(doc, "{\"" key "\": \"" value "\"}");                             \
        if (strcmp(j_.status, want_status) != 0)                                                   \
            fail_msg("%s %s: expected %s, got %s (%s)", key, value, want_status, j_.status,        \
                     j_.reason);                                                                   \
    } while (0)

static void test_operators(void **state)
{
    (void)state;
    json_t *doc = results();
    /* errors.count over recorded phases = 1 (the warm-up's 50 errors are out). */
    EXPECT(doc, "errors.count", "== 1", "pass");
    EXPECT(doc, "errors.count", "== 0", "fail");
    EXPECT(doc, "errors.count", "!= 1", "fail");
    EXPECT(doc, "errors.count", "!= 2", "pass");
    EXPECT(doc, "errors.count", "< 1", "fail");
    EXPECT(doc, "errors.count", "< 2", "pass");
    EXPECT(doc, "errors.count", "<= 1", "pass");
    EXPECT(doc, "errors.count", "<= 0", "fail");
    EXPECT(doc, "errors.count", "> 1", "fail");
    EXPECT(doc, "errors.count", "> 0", "pass");
    EXPECT(doc, "errors.count", ">= 1", "pass");
    EXPECT(doc, "errors.count", ">= 2", "fail");
    EXPECT(doc, "requests", "== 300", "pass");
    EXPECT(doc, "requests{phase:warm}", "== 200", "pass");
    EXPECT(doc, "errors.timeout", "== 1", "pass");
    EXPECT(doc, "errors.connect", "== 0", "pass");
    /* rps = completed / seconds of the phases taking part: 300 / 6. */
    judged r = judge_target(doc, "{\"rps\": \"> 0\"}");
    assert_true(fabs(r.measured - 50.0) < 1e-9);
    json_decref(doc);
}

static void test_units_and_latency(void **state)
{
    (void)state;
    json_t *doc = results();
    /* cold: 1..100 ms -> p95 = 95 ms within the histogram's 0.1 %. */
    EXPECT(doc, "http.cold.p95", "< 96ms", "pass");
    EXPECT(doc, "http.cold.p95", "> 94ms", "pass");
    EXPECT(doc, "http.cold.p95", "< 95100us", "pass");
    EXPECT(doc, "http.cold.p95", "< 0.094s", "fail");
    EXPECT(doc, "http.cold.max", "== 100ms", "pass");
    EXPECT(doc, "http.cold.mean", "> 50ms", "pass");
    EXPECT(doc, "http.cold.mean", "< 51ms", "pass");
    /* raw histograms are half the corrected ones. */
    EXPECT(doc, "http.raw.cold.p95", "< 48ms", "pass");
    EXPECT(doc, "http.raw.cold.p95", "> 47ms", "pass");
    /* all, merged over cold and warm (200 values): p50 = 10 ms, p95 = 90 ms; the warm-up's
     * 5 s requests are left out. */
    EXPECT(doc, "http.all.p50", "< 10.1ms", "pass");
    EXPECT(doc, "http.all.p50", "> 9.9ms", "pass");
    EXPECT(doc, "http.all.p95", "> 89.9ms", "pass");
    EXPECT(doc, "http.all.p95", "< 91ms", "pass");
    EXPECT(doc, "http.all.p99{phase:warm}", "< 10.1ms", "pass");
    EXPECT(doc, "http.all.max", "< 1s", "pass");
    EXPECT(doc, "redis.all.p99", "< 1.01ms", "pass");
    EXPECT(doc, "redis.all.p99", "> 0.99ms", "pass");
    judged j = judge_target(doc, "{\"http.cold.p95\": \"< 1s\"}");
    assert_int_equal(j.samples, 100);
    assert_true(j.measured > 0.094 && j.measured < 0.096); /* in the target's unit: s */
    assert_non_null(strstr(j.text, " s"));
    /* Rates: % or a fraction; measured text as a percentage. */
    EXPECT(doc, "cache.hit_rate", "< 43%", "pass"); /* 85 / 200 */
    EXPECT(doc, "cache.hit_rate", "> 0.42", "pass");
    EXPECT(doc, "cache.hit_rate{phase:warm}", "> 80%", "pass");
    EXPECT(doc, "cache.hit_rate{phase:warm}", "> 85%", "fail");
    EXPECT(doc, "cache.hit_rate{phase:warm}", ">= 85%", "pass");
    EXPECT(doc, "cache.miss_rate{phase:warm}", "== 15%", "pass");
    j = judge_target(doc, "{\"cache.hit_rate{phase:warm}\": \"> 80%\"}");
    assert_string_equal(j.text, "85%");
    assert_true(fabs(j.measured - 85) < 1e-9);
    assert_int_equal(j.samples, 100);
    EXPECT(doc, "errors.rate", "< 1%", "pass"); /* 1 / 300 */
    EXPECT(doc, "errors.rate", "< 0.3%", "fail");
    EXPECT(doc, "status.5xx.rate", "== 0", "fail");
    EXPECT(doc, "status.503.count", "== 1", "pass");
    EXPECT(doc, "status.4xx.rate", "== 0", "pass");
    EXPECT(doc, "ratelimited.rate{phase:warm}", "== 10%", "pass");
    json_decref(doc);
}

static void test_selectors(void **state)
{
    (void)state;
    json_t *doc = results();
    EXPECT(doc, "requests{step:ping}", "== 100", "pass");
    EXPECT(doc, "requests{endpoint:gw}", "== 200", "pass");
    EXPECT(doc, "requests{tag:api}", "== 100", "pass");
    EXPECT(doc, "requests{phase:cold,warm,step:report}", "== 200", "pass");
    EXPECT(doc, "requests{step:report,ping}", "== 300", "pass");
    /* An explicitly named unrecorded phase still counts nothing. */
    judged j = judge_target(doc, "{\"requests{phase:warmup}\": \"== 0\"}");
    assert_string_equal(j.status, "fail");
    assert_non_null(strstr(j.reason, "no data"));
    json_decref(doc);
}

static void test_sections(void **state)
{
    (void)state;
    json_t *doc = results();
    EXPECT(doc, "parity.mismatches", "== 3", "pass");
    EXPECT(doc, "parity.mismatch_rate", "== 1.5%", "pass");
    EXPECT(doc, "parity.field_rate{path:/info/name}", "== 1%", "pass");
    EXPECT(doc, "parity.field_rate{path:/never/differs}", "== 0", "pass");
    EXPECT(doc, "data.count_diff{check:documents}", "== 2", "pass");
    EXPECT(doc, "data.count_diff", "== 4", "pass"); /* -2 and +2 do not cancel */
    EXPECT(doc, "data.missing_in_pg", "== 1", "pass");
    EXPECT(doc, "breaker.trips", "== 0", "fail");
    EXPECT(doc, "breaker.open_seconds", "< 3s", "pass");
    EXPECT(doc, "breaker.open_seconds", "< 2000ms", "fail");
    EXPECT(doc, "breaker.rejections", "== 7", "pass");
    EXPECT(doc, "db.query_reduction{from:cold,to:warm}", "> 80%", "pass");
    EXPECT(doc, "db.query_reduction{from:cold,to:warm}", "> 95%", "fail");
    EXPECT(doc, "redis.server_hit_rate", "== 90%", "pass");
    json_decref(doc);
}

static void test_no_data_and_min_samples(void **state)
{
    (void)state;
    json_t *doc = results();
    judged j = judge_target(doc, "{\"http.warm.p95{phase:cold}\": \"< 300ms\"}");
    assert_string_equal(j.status, "fail");
    assert_false(j.has);
    assert_non_null(strstr(j.reason, "no data"));
    assert_int_equal(j.sum.no_data, 1);
    assert_true(j.sum.failed_severe);
    assert_false(j.sum.abort); /* no data never aborts */
    j = judge_target(doc, "{\"x\": {\"expr\": \"sql.all.p95 < 1s\", \"severity\": \"warn\"}}");
    assert_string_equal(j.status, "warn");
    assert_false(j.sum.failed_severe);
    /* No parity section at all. */
    json_object_del(doc, "parity");
    j = judge_target(doc, "{\"parity.mismatch_rate\": \"== 0\"}");
    assert_string_equal(j.status, "fail");
    assert_non_null(strstr(j.reason, "no data"));
    /* min_samples: a pass on too few samples is flagged and becomes a warn. */
    j = judge_target(doc, "{\"c\": {\"expr\": \"http.cold.p95 < 1s\", \"min_samples\": 101}}");
    assert_string_equal(j.status, "warn");
    assert_true(j.low);
    assert_int_equal(j.sum.low_samples, 1);
    assert_non_null(strstr(j.reason, "min_samples"));
    j = judge_target(doc, "{\"c\": {\"expr\": \"http.cold.p95 < 1s\", \"min_samples\": 100}}");
    assert_string_equal(j.status, "pass");
    assert_false(j.low);
    /* A miss on too few samples stays a miss, flagged. */
    j = judge_target(doc, "{\"c\": {\"expr\": \"http.cold.p95 < 1ms\", \"min_samples\": 500}}");
    assert_string_equal(j.status, "fail");
    assert_true(j.low);
    /* abort_on_fail: a measured miss aborts. */
    j = judge_target(doc, "{\"c\": {\"expr\": \"errors.count == 0\", \"abort_on_fail\": true}}");
    assert_string_equal(j.status, "fail");
    assert_true(j.sum.abort);
    j = judge_target(doc, "{\"c\": {\"expr\": \"errors.count == 1\", \"abort_on_fail\": true}}");
    assert_false(j.sum.abort);
    json_decref(doc);
}

static void test_measured_shown(void **state)
{
    (void)state;
    json_t *doc = results();
    json_t *t = parse("{\"http.cold.p95\": \"< 50ms\", \"errors.rate\": \"< 1%\"}");
    tgt_set *set = NULL;
    assert_int_equal(tgt_compile_json(t, NULL, "t.json", &set, NULL), 0);
    assert_int_equal(tgt_count(set), 2);
    json_t *v = NULL;
    tgt_summary sum;
    assert_int_equal(tgt_judge(set, doc, &v, &sum, NULL), 0);
    json_t *o = json_array_get(v, 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "fail");
    assert_string_equal(json_string_value(json_object_get(o, "target")), "< 50 ms");
    assert_string_equal(json_string_value(json_object_get(o, "unit")), "ms");
    assert_string_equal(json_string_value(json_object_get(o, "op")), "<");
    assert_string_equal(json_string_value(json_object_get(o, "metric")), "http.cold.p95");
    const char *reason = json_string_value(json_object_get(o, "reason"));
    assert_non_null(strstr(reason, "measured 95"));
    assert_non_null(strstr(reason, "target < 50 ms"));
    assert_int_equal(sum.total, 2);
    assert_int_equal(sum.passed, 1);
    assert_int_equal(sum.failed, 1);
    /* finalize: verdict and the verdicts in the document. */
    assert_int_equal(rpt_finalize(doc, v, &sum), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "fail");
    assert_int_equal(json_array_size(json_object_get(doc, "targets")), 2);
    json_t *empty = json_array();
    tgt_summary none;
    memset(&none, 0, sizeof none);
    assert_int_equal(rpt_finalize(doc, empty, &none), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "no targets");
    json_decref(empty);
    json_decref(v);
    json_decref(t);
    tgt_free(set);
    json_decref(doc);
}

/* ---- compile errors ----------------------------------------------------------------------- */

static const char scenario_text[] =
    "{\"name\": \"t\",\n"
    " \"endpoints\": {\"gw\": {\"type\": \"http\", \"base_url\": \"http://127.0.0.1:9\"},\n"
    "               \"cache\": {\"type\": \"redis\", \"url\": \"redis://127.0.0.1:9\"}},\n"
    " \"steps\": {\"report\": {\"http\": {\"endpoint\": \"gw\", \"url\": \"/r\"}, \"tags\": "
    "[\"api\"]},\n"
    "           \"ping\": {\"redis\": {\"endpoint\": \"cache\", \"command\": [\"PING\"]}}},\n"
    " \"phases\": [{\"name\": \"warmup\", \"record\": false, \"executor\": \"iterations\", "
    "\"steps\": [\"report\"]},\n"
    "            {\"name\": \"warm\", \"executor\": \"iterations\", \"steps\": [\"report\", "
    "\"ping\"], \"tags\": [\"main\"]}]}\n";

static scn_scenario *load_scenario(void)
{
    char path[] = "/tmp/test_targets_XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, scenario_text, strlen(scenario_text)),
                     (ssize_t)strlen(scenario_text));
    close(fd);
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    int rc = scn_load_file(path, &s, &d);
    if (rc) scn_diags_print(&d, stderr);
    assert_int_equal(rc, 0);
    scn_diags_free(&d);
    unlink(path);
    return s;
}

/* Compiles targets against the scenario; returns the diagnostics joined by '\n'. */
static char *compile_errors(scn_scenario *s, const char *targets, int *rc)
{
    json_t *t = parse(targets);
    tgt_set *set = NULL;
    scn_diags d;
    scn_diags_init(&d);
    *rc = tgt_compile_json(t, s, "t.json", &set, &d);
    size_t n = 1;
    for (size_t i = 0; i < d.count; i++)
        n += strlen(d.lines[i]) + 1;
    char *all = calloc(1, n);
    for (size_t i = 0; i < d.count; i++) {
        strcat(all, d.lines[i]);
        strcat(all, "\n");
    }
    if (*rc == 0) assert_non_null(set);
    tgt_free(set);
    scn_diags_free(&d);
    json_decref(t);
    return all;
}

#define ASSERT_HAS(all, needle)                                                                    \
    do {                                                                                           \
        if (!strstr(all, needle)) fail_msg("missing [%s] in:\n%s", needle, all);                   \
    } while (0)

static void test_compile_errors(void **state)
{
    (void)state;
    scn_scenario *s = load_scenario();
    int rc;
    char *all = compile_errors(s,
                               "{\"http.warm.p59\": \"< 300ms\","
                               " \"http.warm.p95{stepp:report}\": \"< 300ms\","
                               " \"http.warm.p95{step:nope}\": \"< 300ms\","
                               " \"http.warm.p95{step:ping}\": \"< 300ms\","
                               " \"errors.rate{phase:warmup}\": \"< 1%\","
                               " \"errors.rate{phase:gone}\": \"< 1%\","
                               " \"errors.rate{tag:nosuch}\": \"< 1%\","
                               " \"errors.rate{endpoint:db}\": \"< 1%\","
                               " \"breaker.trips{phase:warm}\": \"== 0\","
                               " \"parity.mismatch_rate\": \"== 0\","
                               " \"a/b~c\": {\"expr\": \"http.warm.p95 < 300\"},"
                               " \"errors.count\": \"< 1%\","
                               " \"errors.rate\": \"< 5\","
                               " \"requests\": \"=> 5\","
                               " \"db.query_reduction{from:warm}\": \"> 80%\","
                               " \"x\": {\"expr\": \"errors.rate < 1%\", \"severity\": \"bad\","
                               "        \"colour\": 1}}",
                               &rc);
    assert_int_equal(rc, CUT_EINVAL);
    ASSERT_HAS(all, "t.json: /targets/http.warm.p59: unknown metric \"http.warm.p59\" (did you "
                    "mean");
    ASSERT_HAS(all, "/targets/http.warm.p95{stepp:report}: unknown selector \"stepp\"");
    ASSERT_HAS(all, "/targets/http.warm.p95{step:nope}: step: the scenario has no step \"nope\"");
    ASSERT_HAS(all, "/targets/http.warm.p95{step:ping}: step \"ping\" is a redis step");
    ASSERT_HAS(all, "/targets/errors.rate{phase:warmup}: phase: phase \"warmup\" has \"record\": "
                    "false");
    ASSERT_HAS(all, "/targets/errors.rate{phase:gone}: phase: the scenario has no phase \"gone\"");
    ASSERT_HAS(all, "/targets/errors.rate{tag:nosuch}: tag: no step or phase");
    ASSERT_HAS(all, "/targets/errors.rate{endpoint:db}: endpoint: the scenario has no endpoint");
    ASSERT_HAS(all, "/targets/breaker.trips{phase:warm}: selector \"phase\" does not apply");
    ASSERT_HAS(all, "/targets/breaker.trips{phase:warm}: breaker.trips needs a \"breakers\" "
                    "section");
    ASSERT_HAS(all, "/targets/parity.mismatch_rate: parity.mismatch_rate needs a \"parity\"");
    /* The key is escaped as a JSON pointer segment; the long form points into the object. */
    ASSERT_HAS(all, "/targets/a~1b~0c/expr: http.warm.p95 is a latency: give a unit");
    ASSERT_HAS(all, "/targets/errors.count: errors.count is a count: it takes no unit");
    ASSERT_HAS(all, "/targets/errors.rate: errors.rate is a rate: a fraction from 0 to 1");
    ASSERT_HAS(all, "/targets/requests: expected an operator");
    ASSERT_HAS(all, "/targets/db.query_reduction{from:warm}: db.query_reduction needs the "
                    "selector \"to\"");
    ASSERT_HAS(all, "/targets/x/severity: must be \"fail\" or \"warn\"");
    ASSERT_HAS(all, "/targets/x/colour: unknown key");
    free(all);

    /* Tag selectors match phase tags too; valid targets compile. */
    all = compile_errors(s,
                         "{\"http.warm.p95{step:report,phase:warm}\": \"< 300ms\","
                         " \"errors.rate{tag:main}\": \"< 1%\","
                         " \"redis.all.p99{step:ping}\": \"<= 5ms\","
                         " \"long\": {\"expr\": \"cache.hit_rate{tag:api} >= 0.8\","
                         "  \"severity\": \"warn\", \"abort_on_fail\": true, \"min_samples\": 5}}",
                         &rc);
    assert_string_equal(all, "");
    assert_int_equal(rc, 0);
    free(all);

    /* Malformed forms. */
    all = compile_errors(s,
                         "{\"errors.rate{phase:warm\": \"< 1%\", \"errors.rate{}\": \"< 1%\","
                         " \"errors.rate{warm}\": \"< 1%\", \"errors.rate \": \"< 1% extra\","
                         " \"n\": 5, \"q\": {\"severity\": \"warn\"},"
                         " \"errors.count\": \"< 0x10\", \"rps\": \"< inf\"}",
                         &rc);
    assert_int_equal(rc, CUT_EINVAL);
    ASSERT_HAS(all, "must end with '}'");
    ASSERT_HAS(all, "/targets/errors.rate{}: empty selector");
    ASSERT_HAS(all, "needs a name");
    ASSERT_HAS(all, "unknown unit \"% extra\"");
    ASSERT_HAS(all, "/targets/n: must be a string");
    ASSERT_HAS(all, "/targets/q: missing \"expr\"");
    ASSERT_HAS(all, "/targets/errors.count: unknown unit \"x10\"");
    ASSERT_HAS(all, "/targets/rps: expected a number");
    free(all);
    scn_free(s);
}

static void test_hostile_results(void **state)
{
    (void)state;
    /* Wrong types everywhere and a histogram that is not base64: no crash, no data. */
    json_t *doc = parse("{\"schema\": 1, \"phases\": [5, {\"recorded\": true, \"steps\": \"x\"},"
                        " {\"name\": \"p\", \"recorded\": true, \"steps\": [{\"name\": 7}, "
                        "{\"kind\": \"http\", \"latency\": {\"all\": {\"corrected\": {\"count\": "
                        "5, \"hdr\": \"!!notbase64!!\"}}}, \"completed\": \"many\"}]}],"
                        " \"parity\": [], \"data_checks\": {}, \"breakers\": 3}");
    const char *metrics[] = {"http.all.p95 < 1ms",   "errors.rate < 1%",
                             "requests > 0",         "parity.mismatch_rate == 0",
                             "data.count_diff == 0", "breaker.trips == 0",
                             "cache.hit_rate > 1%"};
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "{\"t\": {\"expr\": \"%s\"}}", metrics[i]);
        judged j = judge_target(doc, buf);
        if (strcmp(j.status, "fail") != 0 || !strstr(j.reason, "no data"))
            fail_msg("%s: %s (%s)", metrics[i], j.status, j.reason);
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_units_and_latency),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_no_data_and_min_samples),
        cmocka_unit_test(test_measured_shown),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_hostile_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
