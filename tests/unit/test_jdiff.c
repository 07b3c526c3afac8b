#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/jdiff.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) fail_msg("bad test JSON at %d: %s", e.position, e.text);
    return v;
}

static jdiff_opts *opts_new(void)
{
    jdiff_opts *o = NULL;
    assert_int_equal(jdiff_opts_new(&o, NULL), 0);
    return o;
}

static jdiff *ctx_new(const jdiff_opts *o)
{
    jdiff *d = NULL;
    assert_int_equal(jdiff_new(o, &d, NULL), 0);
    return d;
}

/* Every kept detail as "kind path" lines. */
static void listing(const jdiff *d, char *out, size_t cap)
{
    size_t len = 0;
    jdiff_item it;
    out[0] = '\0';
    for (size_t i = 0; jdiff_get(d, i, &it); i++) {
        int n = snprintf(out + len, cap - len, "%s %s\n", jdiff_kind_name(it.kind), it.path);
        assert_true(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
    }
}

/* Diffs two JSON texts with d and returns the listing (static buffer). */
static const char *diff_text(jdiff *d, const char *b, const char *c)
{
    static char buf[8192];
    json_t *jb = parse(b), *jc = parse(c);
    cut_err err = {0};
    int rc = jdiff_compare(d, jb, jc, &err);
    if (rc) fail_msg("jdiff_compare: %s", err.msg);
    json_decref(jb);
    json_decref(jc);
    listing(d, buf, sizeof buf);
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_identical(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff *d = ctx_new(o);
    const char *doc = "{\"a\": [1, 2.5, {\"b\": null, \"c\": [true, false, \"s\"]}], \"\": {}}";
    assert_string_equal(diff_text(d, doc, doc), "");
    assert_int_equal(jdiff_result(d)->total, 0);
    assert_int_equal(jdiff_result(d)->details, 0);
    /* Key order does not matter for objects. */
    assert_string_equal(diff_text(d, "{\"x\": 1, \"y\": 2}", "{\"y\": 2, \"x\": 1}"), "");
    json_t *v = parse(doc);
    assert_int_equal(jdiff_compare(d, v, v, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 0);
    assert_int_equal(jdiff_compare(d, NULL, NULL, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 0);
    /* Absent sides. */
    assert_int_equal(jdiff_compare(d, NULL, v, NULL), 0);
    assert_int_equal(jdiff_result(d)->by_kind[JDIFF_EXTRA], 1);
    assert_int_equal(jdiff_compare(d, v, NULL, NULL), 0);
    assert_int_equal(jdiff_result(d)->by_kind[JDIFF_MISSING], 1);
    json_decref(v);
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_every_kind(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff *d = ctx_new(o);
    const char *base = "{\"a\": 1, \"b\": \"x\", \"c\": [1, 2, 3], \"d\": {\"e\": true},"
                       " \"f\": [1, 2, 3], \"g\": null, \"i\": [1, 2], \"j\": {}}";
    const char *cand = "{\"j\": [], \"i\": [1, 2, 3], \"a\": 2, \"b\": 5, \"c\": [1, 9],"
                       " \"f\": [3, 1, 2], \"g\": null, \"h\": 0, \"d\": {\"e\": false}}";
    assert_string_equal(diff_text(d, base, cand), "value /a\n"
                                                  "type /b\n"
                                                  "length /c\n"
                                                  "value /c/1\n"
                                                  "missing /c/2\n"
                                                  "value /d/e\n"
                                                  "order /f\n"
                                                  "length /i\n"
                                                  "extra /i/2\n"
                                                  "type /j\n"
                                                  "extra /h\n");
    const jdiff_summary *s = jdiff_result(d);
    assert_int_equal(s->total, 11);
    assert_int_equal(s->details, 11);
    assert_int_equal(s->by_kind[JDIFF_VALUE], 3);
    assert_int_equal(s->by_kind[JDIFF_TYPE], 2);
    assert_int_equal(s->by_kind[JDIFF_MISSING], 1);
    assert_int_equal(s->by_kind[JDIFF_EXTRA], 2);
    assert_int_equal(s->by_kind[JDIFF_LENGTH], 2);
    assert_int_equal(s->by_kind[JDIFF_ORDER], 1);

    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_string_equal(it.base, "1");
    assert_string_equal(it.cand, "2");
    assert_false(it.base_truncated);
    assert_true(jdiff_get(d, 1, &it));
    assert_string_equal(it.base, "\"x\"");
    assert_string_equal(it.cand, "5");
    assert_true(jdiff_get(d, 2, &it));
    assert_string_equal(it.base, "[1,2,3]");
    assert_string_equal(it.cand, "[1,9]");
    assert_true(jdiff_get(d, 4, &it)); /* missing: no candidate side */
    assert_string_equal(it.path, "/c/2");
    assert_string_equal(it.field, "/c/*");
    assert_int_equal(it.path_len, 4);
    assert_string_equal(it.base, "3");
    assert_null(it.cand);
    assert_true(jdiff_get(d, 6, &it));
    assert_string_equal(it.base, "[1,2,3]");
    assert_string_equal(it.cand, "[3,1,2]");
    assert_true(jdiff_get(d, 10, &it)); /* extra: no base side */
    assert_null(it.base);
    assert_string_equal(it.cand, "0");
    assert_false(jdiff_get(d, 11, &it));
    assert_string_equal(jdiff_kind_name(JDIFF_ORDER), "order");
    assert_string_equal(jdiff_kind_name((jdiff_kind)99), "?");

    /* Reuse: the next comparison replaces the results. */
    assert_string_equal(diff_text(d, "[1, 2]", "[1, 3]"), "value /1\n");
    assert_int_equal(jdiff_result(d)->total, 1);
    /* true/false is a value difference, 1 vs "1" a type difference, root paths are "". */
    assert_string_equal(diff_text(d, "true", "false"), "value \n");
    assert_string_equal(diff_text(d, "1", "\"1\""), "type \n");
    /* Same multiset but different lengths is not an order difference. */
    assert_string_equal(diff_text(d, "[1, 2, 2]", "[2, 1]"),
                        "length \nvalue /0\nvalue /1\nmissing /2\n");
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_escaped_paths(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff *d = ctx_new(o);
    assert_string_equal(diff_text(d, "{\"a/b\": [{\"m~n\": 1}, {\"0\": {\"\": 1}}]}",
                                  "{\"a/b\": [{\"m~n\": 2}, {\"0\": {\"\": 2}}]}"),
                        "value /a~1b/0/m~0n\nvalue /a~1b/1/0/\n");
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_string_equal(it.field, "/a~1b/*/m~0n");
    assert_true(jdiff_get(d, 1, &it));
    assert_string_equal(it.field, "/a~1b/*/0/"); /* "0" here is a key, not an index */

    /* A key with a NUL byte keeps its length. */
    json_t *b = json_object(), *c = json_object();
    json_object_setn_new(b, "k\0x", 3, json_integer(1));
    json_object_setn_new(c, "k\0x", 3, json_integer(2));
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    assert_true(jdiff_get(d, 0, &it));
    assert_int_equal(it.path_len, 4);
    assert_memory_equal(it.path, "/k\0x", 4);
    json_decref(b);
    json_decref(c);
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_ignore(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    assert_int_equal(jdiff_opts_ignore(o, "/metadata/*", NULL), 0);
    assert_int_equal(jdiff_opts_ignore(o, "/data/*/ts", NULL), 0);
    assert_int_equal(jdiff_opts_ignore(o, "/rows/*/*/note", NULL), 0);
    jdiff *d = ctx_new(o);
    const char *base = "{\"metadata\": {\"timestamp\": 1, \"request_id\": \"a\"},"
                       " \"data\": [{\"ts\": 1, \"v\": 1}, {\"ts\": 2, \"v\": 2}],"
                       " \"rows\": [[{\"note\": \"x\", \"n\": 1}]]}";
    const char *cand = "{\"metadata\": {\"timestamp\": 9, \"trace\": \"t\"},"
                       " \"data\": [{\"ts\": 7, \"v\": 1}, {\"v\": 3, \"ts\": {}}],"
                       " \"rows\": [[{\"note\": \"y\", \"n\": 1}]]}";
    assert_string_equal(diff_text(d, base, cand), "value /data/1/v\n");
    /* The rule covers the children, not /metadata itself. */
    assert_string_equal(diff_text(d, base,
                                  "{\"data\": [{\"v\": 1}, {\"v\": 2}],"
                                  " \"rows\": [[{\"n\": 1}]]}"),
                        "missing /metadata\n");
    /* Ignored fields inside elements do not defeat order detection. */
    assert_string_equal(diff_text(d, "{\"data\": [{\"ts\": 1, \"v\": 1}, {\"ts\": 2, \"v\": 2}]}",
                                  "{\"data\": [{\"ts\": 5, \"v\": 2}, {\"ts\": 6, \"v\": 1}]}"),
                        "order /data\n");
    jdiff_free(d);
    jdiff_opts_free(o);

    /* "" ignores everything; a bad pointer is refused with its text in the message. */
    o = opts_new();
    assert_int_equal(jdiff_opts_ignore(o, "", NULL), 0);
    cut_err err = {0};
    assert_int_equal(jdiff_opts_ignore(o, "metadata", &err), CUT_EINVAL);
    assert_non_null(strstr(err.msg, "\"metadata\""));
    d = ctx_new(o);
    assert_string_equal(diff_text(d, "[1]", "{\"a\": 2}"), "");
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_match_by(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    assert_int_equal(jdiff_opts_match_by(o, "/data", "/id", NULL), 0);
    assert_int_equal(jdiff_opts_match_by(o, "/groups/*/items", "/key/name", NULL), 0);
    jdiff *d = ctx_new(o);
    assert_string_equal(
        diff_text(
            d, "{\"data\": [{\"id\": 1, \"v\": 1}, {\"id\": 2, \"v\": 2}, {\"id\": 3, \"v\": 3}]}",
            "{\"data\": [{\"id\": 3, \"v\": 3}, {\"id\": 1, \"v\": 10}, {\"id\": 4, \"v\": 4}]}"),
        "value /data/0/v\nmissing /data/1\nextra /data/2\n");
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_string_equal(it.field, "/data/*/v");
    assert_string_equal(it.cand, "10");
    assert_true(jdiff_get(d, 2, &it));
    assert_string_equal(it.cand, "{\"id\":4,\"v\":4}");

    /* Duplicate keys pair in order of appearance; 1 and 1.0 are the same key. */
    assert_string_equal(
        diff_text(d,
                  "{\"data\": [{\"id\": 1, \"v\": \"a\"}, {\"id\": 1, \"v\": \"b\"}, {\"id\": 1}]}",
                  "{\"data\": [{\"id\": 1.0, \"v\": \"a\"}, {\"id\": 1, \"v\": \"c\"}]}"),
        "length /data\nvalue /data/1/v\nmissing /data/2\n");
    /* Elements without the key (or non-objects) pair among themselves, in order. */
    assert_string_equal(diff_text(d, "{\"data\": [{\"v\": 1}, {\"id\": 5}, 7]}",
                                  "{\"data\": [{\"id\": 5}, {\"v\": 2}, 7]}"),
                        "value /data/0/v\n");
    /* Nested rule with a wildcard in the array path and a deep key. */
    assert_string_equal(
        diff_text(d,
                  "{\"groups\": [{\"items\": [{\"key\": {\"name\": \"x\"}, \"n\": 1},"
                  " {\"key\": {\"name\": \"y\"}, \"n\": 2}]}]}",
                  "{\"groups\": [{\"items\": [{\"key\": {\"name\": \"y\"}, \"n\": 2},"
                  " {\"key\": {\"name\": \"x\"}, \"n\": 3}]}]}"),
        "value /groups/0/items/0/n\n");
    /* The rule matches its path exactly: /data/0 (an array inside) compares by index. */
    assert_string_equal(diff_text(d, "{\"data\": [[{\"id\": 1}, {\"id\": 2}]]}",
                                  "{\"data\": [[{\"id\": 2}, {\"id\": 1}]]}"),
                        "order /data/0\n");
    /* A wildcard key pointer is refused. */
    cut_err err = {0};
    assert_int_equal(jdiff_opts_match_by(o, "/x", "/*", &err), CUT_EINVAL);
    assert_int_equal(jdiff_opts_match_by(o, "x", "/id", &err), CUT_EINVAL);
    assert_non_null(strstr(err.msg, "\"x\""));
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_unordered(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    assert_int_equal(jdiff_opts_unordered(o, "/t", NULL), 0);
    assert_int_equal(jdiff_opts_unordered(o, "/objs", NULL), 0);
    assert_int_equal(jdiff_opts_unordered(o, "/objs/*/tags", NULL), 0);
    assert_int_equal(jdiff_opts_ignore(o, "/objs/*/at", NULL), 0);
    jdiff *d = ctx_new(o);
    assert_string_equal(
        diff_text(d, "{\"t\": [3, 1, \"x\", 2, null]}", "{\"t\": [null, 1, 2, \"x\", 3.0]}"), "");
    /* Duplicates count: base has 1 twice, candidate has 2 twice. */
    assert_string_equal(diff_text(d, "{\"t\": [1, 1, 2, \"x\"]}", "{\"t\": [2, 1, 2, \"x\"]}"),
                        "missing /t/1\nextra /t/2\n");
    assert_string_equal(diff_text(d, "{\"t\": [1, 1]}", "{\"t\": [1]}"),
                        "length /t\nmissing /t/1\n");
    /* Objects with an ignored field and a nested unordered array. */
    assert_string_equal(diff_text(d,
                                  "{\"objs\": [{\"n\": 1, \"at\": 5, \"tags\": [\"a\", \"b\"]}, "
                                  "{\"n\": 2, \"tags\": []}]}",
                                  "{\"objs\": [{\"n\": 2, \"tags\": []}, {\"n\": 1, \"at\": 6, "
                                  "\"tags\": [\"b\", \"a\"]}]}"),
                        "");
    assert_string_equal(diff_text(d,
                                  "{\"objs\": [{\"n\": 1, \"tags\": [\"a\", \"b\"]}, {\"n\": 2}]}",
                                  "{\"objs\": [{\"n\": 2}, {\"n\": 1, \"tags\": [\"b\", \"c\"]}]}"),
                        "missing /objs/0\nextra /objs/1\n");
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_string_equal(it.field, "/objs/*");
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_tolerance(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff *d = ctx_new(o);
    /* Exact by default; int vs real compares numerically and is never a type difference. */
    assert_string_equal(diff_text(d, "[1, 0, 2.5]", "[1.0, -0.0, 2.5]"), "");
    assert_string_equal(diff_text(d, "[3]", "[3.5]"), "value /0\n");
    assert_string_equal(diff_text(d, "[1.0]", "[1.0000001]"), "value /0\n");
    /* Integers beyond 2^53 keep their low bits. */
    assert_string_equal(diff_text(d, "[9007199254740993]", "[9007199254740992]"), "value /0\n");
    assert_string_equal(diff_text(d, "[9007199254740993]", "[9007199254740992.0]"), "value /0\n");
    assert_string_equal(diff_text(d, "[9007199254740992, -9223372036854775808]",
                                  "[9007199254740992.0, -9223372036854775808.0]"),
                        "");
    assert_string_equal(diff_text(d, "[9223372036854775807, 1]", "[9223372036854775807.0, 1e300]"),
                        "value /0\nvalue /1\n");
    jdiff_free(d);

    assert_int_equal(jdiff_opts_tolerance(o, 0.01, 0, NULL), 0);
    d = ctx_new(o);
    assert_string_equal(diff_text(d, "[1.0, 100, 5]", "[1.005, 100.009, 5.02]"), "value /2\n");
    jdiff_free(d);

    assert_int_equal(jdiff_opts_tolerance(o, 0, 0.001, NULL), 0);
    d = ctx_new(o);
    assert_string_equal(diff_text(d, "[1000, 0.001, 1000]", "[1000.9, 0.0011, 1002]"),
                        "value /1\nvalue /2\n");
    jdiff_free(d);

    /* Either bound suffices. */
    assert_int_equal(jdiff_opts_tolerance(o, 0.5, 0.001, NULL), 0);
    assert_int_equal(jdiff_opts_unordered(o, "/u", NULL), 0);
    d = ctx_new(o);
    assert_string_equal(diff_text(d, "{\"x\": [0.1, 5000], \"u\": [1, 2, 9]}",
                                  "{\"x\": [0.5, 5004], \"u\": [2.2, 0.9, 8.7]}"),
                        "");
    assert_string_equal(diff_text(d, "{\"x\": [0.1, 5000]}", "{\"x\": [0.7, 5006]}"),
                        "value /x/0\nvalue /x/1\n");
    jdiff_free(d);

    cut_err err = {0};
    assert_int_equal(jdiff_opts_tolerance(o, -1, 0, &err), CUT_EINVAL);
    assert_int_equal(jdiff_opts_tolerance(o, 0, INFINITY, &err), CUT_EINVAL);
    jdiff_opts_free(o);
}

static void test_additions_allow(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff_opts_allow_additions(o, true);
    assert_int_equal(jdiff_opts_match_by(o, "/m", "/id", NULL), 0);
    assert_int_equal(jdiff_opts_unordered(o, "/u", NULL), 0);
    jdiff *d = ctx_new(o);
    assert_string_equal(
        diff_text(
            d, "{\"a\": {\"b\": 1}, \"l\": [1], \"m\": [{\"id\": 1}], \"u\": [{\"x\": 1}]}",
            "{\"a\": {\"b\": 1, \"new\": 2}, \"cached\": true, \"l\": [1, 2],"
            " \"m\": [{\"id\": 2}, {\"id\": 1, \"extra\": 0}], \"u\": [{\"x\": 1, \"y\": 2}, 3]}"),
        "");
    /* Removals and changes are still reported; a shorter candidate is a length change. */
    assert_string_equal(diff_text(d, "{\"a\": {\"b\": 1}, \"l\": [1, 2]}",
                                  "{\"a\": {\"b\": 2, \"c\": 3}, \"l\": [1]}"),
                        "value /a/b\nlength /l\nmissing /l/1\n");
    assert_int_equal(jdiff_result(d)->by_kind[JDIFF_EXTRA], 0);
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_cap(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff_opts_max_details(o, 10);
    jdiff *d = ctx_new(o);
    json_t *b = json_array(), *c = json_array();
    for (int i = 0; i < 500; i++) {
        json_array_append_new(b, json_integer(i));
        json_array_append_new(c, json_integer(i % 5 == 0 ? -i - 1 : i));
    }
    json_array_append_new(c, json_string("more"));
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    const jdiff_summary *s = jdiff_result(d);
    assert_int_equal(s->total, 102); /* length + 100 values + 1 extra */
    assert_int_equal(s->by_kind[JDIFF_VALUE], 100);
    assert_int_equal(s->by_kind[JDIFF_EXTRA], 1);
    assert_int_equal(s->details, 10);
    jdiff_item it;
    assert_true(jdiff_get(d, 9, &it));
    assert_string_equal(it.path, "/40");
    assert_false(jdiff_get(d, 10, &it));
    jdiff_free(d);

    jdiff_opts_max_details(o, 0); /* count only */
    d = ctx_new(o);
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 102);
    assert_int_equal(jdiff_result(d)->details, 0);
    assert_false(jdiff_get(d, 0, &it));
    jdiff_free(d);
    json_decref(b);
    json_decref(c);
    jdiff_opts_free(o);
}

/* True when s is well-formed UTF-8. */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC0 ? 1 : -1;
        if (n < 0) return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80) return false;
    }
    return true;
}

static void test_excerpts(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    assert_int_equal(jdiff_opts_excerpt_max(o, 64, NULL), 0);
    assert_int_equal(jdiff_opts_excerpt_max(o, 2, NULL), CUT_EINVAL);
    jdiff *d = ctx_new(o);
    /* 300 two-byte characters: 602 bytes of JSON, cut at 64 without splitting one. */
    char big[700] = "\"";
    for (int i = 0; i < 300; i++)
        strcat(big, "\xc3\xa9");
    strcat(big, "\"");
    json_t *b = json_loads(big, JSON_DECODE_ANY, NULL);
    json_t *c = json_string("short");
    assert_non_null(b);
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_true(it.base_truncated);
    assert_false(it.cand_truncated);
    assert_true(strlen(it.base) <= 64 && strlen(it.base) >= 60);
    assert_int_equal(strncmp(it.base, "\"\xc3\xa9\xc3\xa9", 5), 0);
    assert_true(utf8_ok(it.base));
    assert_string_equal(it.cand, "\"short\"");
    json_decref(b);
    json_decref(c);

    /* A long array and hostile bytes (NUL, quotes, control characters) stay bounded. */
    b = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(b, json_stringn("a\0\"\n", 4));
    c = json_array();
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    assert_true(jdiff_get(d, 0, &it)); /* length, with both sides */
    assert_int_equal(it.kind, JDIFF_LENGTH);
    assert_true(it.base_truncated);
    assert_true(strlen(it.base) <= 64);
    assert_int_equal(strncmp(it.base, "[\"a\\u0000\\\"\\n\"", 14), 0);
    assert_string_equal(it.cand, "[]");
    assert_int_equal(jdiff_result(d)->total, 10001);
    json_decref(b);
    json_decref(c);
    jdiff_free(d);
    jdiff_opts_free(o);
}

/* depth nested levels, alternating objects and arrays; the innermost holds leaf. Each array
 * level has two elements so that order detection runs at every depth. */
static json_t *deep_doc(int depth, int leaf)
{
    json_t *v = json_integer(leaf);
    for (int i = depth - 1; i >= 0; i--) {
        json_t *w;
        if (i % 2) {
            w = json_array();
            json_array_append_new(w, v);
            json_array_append_new(w, json_integer(i));
        } else {
            w = json_object();
            json_object_set_new(w, i % 4 ? "k/~" : "k", v);
        }
        v = w;
    }
    return v;
}

static void test_deep(void **state)
{
    (void)state;
    jdiff_opts *o = opts_new();
    jdiff *d = ctx_new(o);
    json_t *b = deep_doc(2048, 1), *c = deep_doc(2048, 2);
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 1);
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_int_equal(it.kind, JDIFF_VALUE);
    /* 2048 segments: "/k" x512, "/0" x1024, "/k~1~0" x512. */
    assert_int_equal(it.path_len, 512 * 2 + 1024 * 2 + 512 * 6);
    assert_string_equal(it.base, "1");
    assert_int_equal(strncmp(it.field, "/k/*/k~1~0/*/k/*", 16), 0);
    /* Identical deep documents. */
    assert_int_equal(jdiff_compare(d, b, b, NULL), 0);
    json_t *b2 = deep_doc(2048, 1);
    assert_int_equal(jdiff_compare(d, b, b2, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 0);
    /* A deep missing subtree: excerpt bounded. */
    json_t *e = json_object();
    assert_int_equal(jdiff_compare(d, b, e, NULL), 0);
    assert_true(jdiff_get(d, 0, &it));
    assert_int_equal(it.kind, JDIFF_MISSING);
    assert_string_equal(it.path, "/k");
    assert_true(it.base_truncated);
    json_decref(e);
    json_decref(b2);
    json_decref(b);
    json_decref(c);

    /* Parsed at jansson's nesting limit. */
    /* jansson counts the leaf too: 2047 arrays and a number are 2048 levels. */
    char *txt = malloc(2 * 2048 + 8);
    size_t n = 0;
    for (int i = 0; i < 2047; i++)
        txt[n++] = '[';
    txt[n++] = '1';
    for (int i = 0; i < 2047; i++)
        txt[n++] = ']';
    txt[n] = '\0';
    b = parse(txt);
    txt[2047] = '2';
    c = parse(txt);
    free(txt);
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    assert_int_equal(jdiff_result(d)->total, 1);
    assert_true(jdiff_get(d, 0, &it));
    assert_int_equal(it.path_len, 2047 * 2);
    json_decref(b);
    json_decref(c);
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_large_arrays(void **state)
{
    (void)state;
    enum { N = 100000 };
    jdiff_opts *o = opts_new();
    assert_int_equal(jdiff_opts_match_by(o, "/rows", "/id", NULL), 0);
    assert_int_equal(jdiff_opts_unordered(o, "/set", NULL), 0);
    jdiff *d = ctx_new(o);
    json_t *b = json_object(), *c = json_object();
    json_t *rb = json_array(), *rc = json_array(), *sb = json_array(), *sc = json_array();
    for (int i = 0; i < N; i++) {
        json_array_append_new(rb,
                              json_pack("{s:i, s:s, s:f}", "id", i, "name", "row", "v", i * 0.5));
        int j = N - 1 - i; /* candidate in reverse order, one value changed */
        json_array_append_new(rc, json_pack("{s:i, s:s, s:f}", "id", j, "name", "row", "v",
                                            j == 4242 ? -1.0 : j * 0.5));
        json_array_append_new(sb, json_integer(i % 1000));
        json_array_append_new(sc, json_integer((i * 7919) % N % 1000));
    }
    json_object_set_new(b, "rows", rb);
    json_object_set_new(c, "rows", rc);
    json_object_set_new(b, "set", sb);
    json_object_set_new(c, "set", sc);
    double t0 = now_s();
    assert_int_equal(jdiff_compare(d, b, c, NULL), 0);
    double t1 = now_s();
    assert_string_equal(jdiff_result(d)->total == 1 ? "ok" : "bad", "ok");
    jdiff_item it;
    assert_true(jdiff_get(d, 0, &it));
    assert_string_equal(it.path, "/rows/4242/v");
    assert_string_equal(it.field, "/rows/*/v");
    /* Generous bound: quadratic pairing would take minutes. */
    if (t1 - t0 > 10) fail_msg("100k match_by + unordered took %.1f s", t1 - t0);

    /* By index, a reversed 100k array is one order difference. */
    jdiff_opts *plain = opts_new();
    jdiff *d2 = ctx_new(plain);
    t0 = now_s();
    assert_int_equal(jdiff_compare(d2, json_object_get(b, "set"), json_object_get(c, "set"), NULL),
                     0);
    t1 = now_s();
    assert_int_equal(jdiff_result(d2)->total, 1);
    assert_true(jdiff_get(d2, 0, &it));
    assert_int_equal(it.kind, JDIFF_ORDER);
    if (t1 - t0 > 10) fail_msg("100k order check took %.1f s", t1 - t0);
    jdiff_free(d2);
    jdiff_opts_free(plain);
    json_decref(b);
    json_decref(c);
    jdiff_free(d);
    jdiff_opts_free(o);
}

static void test_from_json(void **state)
{
    (void)state;
    json_t *spec =
        parse("{\"base\": \"v1\", \"ignore\": [\"/metadata/*\"], \"additions\": \"allow\","
              " \"tolerance\": {\"abs\": 0.01}, \"arrays\": {\"/data\": {\"match_by\":"
              " \"/id\"}, \"/tags\": {\"unordered\": true}}, \"max_details\": 1,"
              " \"excerpt_bytes\": 32}");
    jdiff_opts *o = NULL;
    cut_err err = {0};
    assert_int_equal(jdiff_opts_from_json(spec, &o, &err), 0);
    json_decref(spec);
    jdiff *d = ctx_new(o);
    assert_string_equal(
        diff_text(d,
                  "{\"metadata\": {\"t\": 1}, \"data\": [{\"id\": 1, \"x\": 1}, {\"id\": 2}],"
                  " \"tags\": [\"a\", \"b\"]}",
                  "{\"metadata\": {\"t\": 2}, \"data\": [{\"id\": 2}, {\"id\": 1, \"x\": 1.001}],"
                  " \"tags\": [\"b\", \"a\", \"c\"], \"new\": 1}"),
        "");
    assert_string_equal(diff_text(d, "{\"a\": 1, \"b\": 1}", "{\"a\": 2, \"b\": 2}"),
                        "value /a\n"); /* max_details 1 */
    assert_int_equal(jdiff_result(d)->total, 2);
    jdiff_free(d);
    jdiff_opts_free(o);

    static const struct {
        const char *spec, *where;
    } bad[] = {
        {"{\"ignore\": \"/a\"}", "/ignore:"},
        {"{\"ignore\": [\"/a\", \"b\"]}", "/ignore/1: "},
        {"{\"additions\": \"maybe\"}", "/additions:"},
        {"{\"tolerance\": {\"abs\": -1}}", "/tolerance/abs:"},
        {"{\"tolerance\": {\"absolute\": 1}}", "/tolerance:"},
        {"{\"arrays\": {\"/a/b\": {\"match_by\": \"id\"}}}", "/arrays/~1a~1b: "},
        {"{\"arrays\": {\"/a\": {\"unordered\": false}}}", "/arrays/~1a/unordered:"},
        {"{\"arrays\": {\"/a\": {}}}", "/arrays/~1a:"},
        {"{\"arrays\": {\"/a\": {\"match_by\": \"/id\", \"sort\": 1}}}", "/arrays/~1a:"},
        {"{\"arrays\": {\"a\": {\"unordered\": true}}}", "/arrays/a: "},
        {"{\"max_details\": -1}", "/max_details:"},
        {"{\"excerpt_bytes\": 1}", "/excerpt_bytes:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spec = parse(bad[i].spec);
        o = (jdiff_opts *)(uintptr_t)1;
        cut_err_clear(&err);
        assert_int_equal(jdiff_opts_from_json(spec, &o, &err), CUT_EINVAL);
        assert_null(o);
        if (strncmp(err.msg, bad[i].where, strlen(bad[i].where)) != 0)
            fail_msg("%s: got \"%s\", want prefix \"%s\"", bad[i].spec, err.msg, bad[i].where);
        json_decref(spec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),     cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_escaped_paths), cmocka_unit_test(test_ignore),
        cmocka_unit_test(test_match_by),      cmocka_unit_test(test_unordered),
        cmocka_unit_test(test_tolerance),     cmocka_unit_test(test_additions_allow),
        cmocka_unit_test(test_cap),           cmocka_unit_test(test_excerpts),
        cmocka_unit_test(test_deep),          cmocka_unit_test(test_large_arrays),
        cmocka_unit_test(test_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
