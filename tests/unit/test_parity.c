/* test_parity.c - parity without servers: Diffy's noise rule, the accumulator's counts and
 * JSON, body comparison (JSON structurally, other bytes with bounded excerpts), and
 * validation of the parity section (every problem, with its pointer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verify/parity_int.h"

static const char *const routes[] = {"r0", "r1"};

static void diffy_rule(void **state)
{
    (void)state;
    /* raw must exceed noise; relative |r-n|/(r+n) > 20 %; absolute |r-n|/N > 0.03 %. */
    assert_false(par__reported(10, 10, 100, 20, 0.03));
    assert_false(par__reported(0, 0, 100, 20, 0.03));
    assert_true(par__reported(10, 0, 100, 20, 0.03));
    assert_false(par__reported(12, 8, 100, 20, 0.03));  /* 4/20 = 20 %: not above */
    assert_true(par__reported(13, 8, 100, 20, 0.03));   /* 5/21 = 23.8 % */
    assert_false(par__reported(1, 0, 10000, 20, 0.03)); /* 0.01 % of requests */
    assert_true(par__reported(4, 0, 10000, 20, 0.03));  /* 0.04 % */
    assert_false(par__reported(5, 0, 0, 20, 0.03));
}

static json_t *result(par_acc *a)
{
    json_t *out = NULL;
    cut_err e = {0};
    assert_int_equal(par__acc_result(a, 20, 0.03, &out, &e), 0);
    return out;
}

static void accumulator(void **state)
{
    (void)state;
    par_acc *a = NULL;
    assert_int_equal(par__acc_new(&a, 2, routes, 2), 0);
    /* 4 requests: /x differs in 3 (twice in one, counted once), /ts is noise everywhere. */
    for (int i = 0; i < 4; i++) {
        char label[32];
        snprintf(label, sizeof label, "GET /%d", i);
        assert_int_equal(par__acc_begin(a, label, (size_t)(i % 2)), 0);
        assert_int_equal(par__acc_raw(a, JDIFF_VALUE, "/ts", 3, "/ts", 3, "1", "2", false), 0);
        assert_int_equal(par__acc_noise(a, "/ts", 3), 0);
        if (i < 3) {
            assert_int_equal(par__acc_raw(a, JDIFF_VALUE, "/x/*", 4, "/x/0", 4, "1", "2", false),
                             0);
            assert_int_equal(par__acc_raw(a, JDIFF_TYPE, "/x/*", 4, "/x/1", 4, "1", "\"1\"", false),
                             0);
        }
        assert_int_equal(par__acc_end(a, i == 0), 0);
    }
    assert_int_equal(par__acc_error(a, "GET /e", 1, "candidate", "connect: refused"), 0);
    assert_int_equal(par__acc_begin(a, "x", 5), CUT_ESTATE);
    json_t *o = result(a);
    assert_int_equal(json_integer_value(json_object_get(o, "requests")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "compared")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "mismatched")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "status_mismatches")), 1);
    json_t *fields = json_object_get(o, "fields");
    assert_int_equal(json_array_size(fields), 1);
    json_t *f = json_array_get(fields, 0);
    assert_string_equal(json_string_value(json_object_get(f, "path")), "/x/*");
    assert_int_equal(json_integer_value(json_object_get(f, "count")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "kinds"), "type")), 3);
    assert_int_equal(json_array_size(json_object_get(f, "examples")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "noise_fields"), 0)),
                        "/ts");
    json_t *ep = json_object_get(o, "endpoints");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ep, 1), "requests")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ep, 1), "mismatched")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ep, 1), "errors")), 1);
    json_decref(o);
    par__acc_free(a);
}

static void bodies(void **state)
{
    (void)state;
    par_acc *a = NULL;
    jdiff_opts *o = NULL;
    jdiff *jd = NULL;
    cut_err e = {0};
    assert_int_equal(par__acc_new(&a, 5, routes, 1), 0);
    assert_int_equal(jdiff_opts_new(&o, &e), 0);
    assert_int_equal(jdiff_new(o, &jd, &e), 0);
    const char *b1 = "{\"a\": [1, 2], \"b\": \"x\"}", *b2 = "{\"a\": [1, 3], \"c\": 1}";
    char bin1[600], bin2[600];
    memset(bin1, 'z', sizeof bin1);
    memcpy(bin2, bin1, sizeof bin2);
    bin2[500] = '\x01'; /* a control byte: shown escaped */
    assert_int_equal(par__acc_begin(a, "GET /", 0), 0);
    assert_int_equal(par__cmp_bodies(a, jd, false, b1, strlen(b1), b2, strlen(b2), 64, &e), 0);
    assert_int_equal(par__cmp_bodies(a, jd, false, bin1, sizeof bin1, bin2, sizeof bin2, 64, &e),
                     0);
    assert_int_equal(par__cmp_bodies(a, jd, false, "ok", 2, "ok", 2, 64, &e), 0);
    assert_int_equal(par__acc_end(a, false), 0);
    json_t *r = result(a);
    char *text = json_dumps(json_object_get(r, "fields"), JSON_COMPACT);
    assert_non_null(strstr(text, "\"path\":\"/a/*\",\"kind\":\"value\""));
    assert_non_null(strstr(text, "\"path\":\"/b\",\"kind\":\"missing\""));
    assert_non_null(strstr(text, "\"path\":\"/c\",\"kind\":\"extra\""));
    assert_non_null(strstr(text, "\"path\":\"body\",\"kind\":\"value\""));
    assert_non_null(strstr(text, "\\\\x01"));
    assert_int_equal(json_array_size(json_object_get(r, "fields")), 4);
    free(text);
    json_decref(r);
    jdiff_free(jd);
    jdiff_opts_free(o);
    par__acc_free(a);
}

static char tmp_dir[] = "/tmp/cutover-parity-XXXXXX";

static int load(const char *parity, scn_scenario **s, scn_diags *d)
{
    char path[600];
    snprintf(path, sizeof path, "%s/s.json", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"endpoints\": {\"v1\": {\"type\": \"http\", \"base_url\": \"http://127.0.0.1:1\"},"
            " \"v2\": {\"type\": \"http\", \"base_url\": \"http://127.0.0.1:2\"},"
            " \"r\": {\"type\": \"redis\", \"url\": \"redis://127.0.0.1:3\"}},"
            " \"data\": {\"a\": {\"range\": [1, 3]}, \"b\": {\"values\": [\"x\", \"y\"]}},"
            " \"steps\": {\"p\": {\"http\": {\"endpoint\": \"v1\", \"url\": \"/\"}}},"
            " \"phases\": [{\"name\": \"n\", \"executor\": \"iterations\", \"steps\": [\"p\"]}],"
            " \"parity\": %s}",
            parity);
    fclose(f);
    scn_diags_init(d);
    return scn_load_file(path, s, d);
}

static bool has(const scn_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->lines[i], needle)) return true;
    return false;
}

static void validation(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmp_dir));
    scn_scenario *s = NULL;
    scn_diags d;
    assert_int_equal(load("{\"base\": \"v1\", \"candidate\": \"v2\", \"over\": [\"a\", \"b\"],"
                          " \"request\": {\"url\": \"/x/{{a}}/{{b}}\"}, \"ignore\": [\"/m\"]}",
                          &s, &d),
                     0);
    assert_int_equal(par_validate(s, &d), 0);
    par_cfg cfg = {0};
    assert_int_equal(par__cfg_build(s, &cfg, &d), 0);
    assert_int_equal(cfg.total, 6);
    assert_int_equal(cfg.concurrency, 8);
    assert_true(cfg.rel == 20.0 && cfg.abs == 0.03);
    assert_string_equal(cfg.reqs[0].name, "GET /x/{{a}}/{{b}}");
    par__cfg_free(&cfg);
    scn_free(s);
    scn_diags_free(&d);

    assert_int_equal(load("{\"base\": \"r\", \"candidate\": \"nope\", \"over\": [\"a\"],"
                          " \"request\": {\"url\": \"/x/{{b}}\", \"method\": \"get\"},"
                          " \"noise\": {\"rel\": 101}, \"ignore\": [\"bad\"], \"concurrency\": 0,"
                          " \"colour\": 1}",
                          &s, &d),
                     0);
    assert_int_equal(par_validate(s, &d), CUT_EINVAL);
    assert_true(has(&d, "/parity/base: endpoint \"r\" is not an http endpoint"));
    assert_true(has(&d, "/parity/candidate: unknown endpoint \"nope\""));
    assert_true(
        has(&d, "/parity/request/url: uses {{b}} but data set \"b\" is not in /parity/over"));
    assert_true(has(&d, "/parity/request/method: must be an upper-case HTTP method"));
    assert_true(has(&d, "/parity/noise/rel: must be a percentage"));
    assert_true(has(&d, "/parity/ignore/0"));
    assert_true(has(&d, "/parity/concurrency: must be an integer 1..1024"));
    assert_true(has(&d, "/parity: unknown key \"colour\""));
    assert_int_equal(d.count, 8);
    scn_free(s);
    scn_diags_free(&d);

    char cmd[700];
    snprintf(
        cmd, sizeof cmd,
        "printf '{\"url\": \"/a\"}\\n\\n{\"url\": \"/b\", \"name\": \"B\"}\\n' > %s/reqs.jsonl",
        tmp_dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(
        load("{\"base\": \"v1\", \"candidate\": \"v2\", \"requests_file\": \"reqs.jsonl\"}", &s,
             &d),
        0);
    assert_int_equal(par__cfg_build(s, &cfg, &d), 0);
    assert_int_equal(cfg.nreqs, 2);
    assert_string_equal(cfg.reqs[1].name, "B");
    par__cfg_free(&cfg);
    scn_free(s);
    scn_diags_free(&d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diffy_rule),
        cmocka_unit_test(accumulator),
        cmocka_unit_test(bodies),
        cmocka_unit_test(validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
