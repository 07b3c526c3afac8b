#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jptr.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("bad test JSON at %d: %s", e.position, e.text);
    return v;
}

static jptr *comp(const char *text)
{
    jptr *p = NULL;
    cut_err err = {0};
    int rc = jptr_compile(text, &p, &err);
    if (rc) fail_msg("compile \"%s\": %s", text, err.msg);
    return p;
}

/* The value at text in doc, dumped compactly ("" when absent); the caller frees. */
static char *get_dump(const char *text, json_t *doc)
{
    jptr *p = comp(text);
    json_t *v = jptr_get(p, doc);
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
    jptr_free(p);
    return s;
}

#define ASSERT_GET(doc, ptr, want)                                                                 \
    do {                                                                                           \
        char *got_ = get_dump(ptr, doc);                                                           \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void test_rfc6901_examples(void **state)
{
    (void)state;
    /* The document and results of RFC 6901 section 5. */
    json_t *doc = parse("{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3,"
                        " \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8}");
    char *whole = json_dumps(doc, JSON_COMPACT);
    ASSERT_GET(doc, "", whole);
    free(whole);
    ASSERT_GET(doc, "/foo", "[\"bar\",\"baz\"]");
    ASSERT_GET(doc, "/foo/0", "\"bar\"");
    ASSERT_GET(doc, "/foo/1", "\"baz\"");
    ASSERT_GET(doc, "/", "0");
    ASSERT_GET(doc, "/a~1b", "1");
    ASSERT_GET(doc, "/c%d", "2");
    ASSERT_GET(doc, "/e^f", "3");
    ASSERT_GET(doc, "/g|h", "4");
    ASSERT_GET(doc, "/i\\j", "5");
    ASSERT_GET(doc, "/k\"l", "6");
    ASSERT_GET(doc, "/ ", "7");
    ASSERT_GET(doc, "/m~0n", "8");
    json_decref(doc);
}

static void test_indexes(void **state)
{
    (void)state;
    json_t *doc = parse("{\"a\": [10, 11, [20, 21]], \"01\": \"key\", \"o\": {\"0\": \"zero\"}}");
    ASSERT_GET(doc, "/a/2/1", "21");
    ASSERT_GET(doc, "/a/3", "");  /* past the end */
    ASSERT_GET(doc, "/a/-", "");  /* RFC 6901 "-" names no existing element */
    ASSERT_GET(doc, "/a/01", ""); /* leading zero is not an index */
    ASSERT_GET(doc, "/a/x", "");
    ASSERT_GET(doc, "/a/18446744073709551616", ""); /* does not fit size_t */
    ASSERT_GET(doc, "/01", "\"key\"");              /* but is a fine object key */
    ASSERT_GET(doc, "/o/0", "\"zero\"");            /* digits on an object are a key */
    ASSERT_GET(doc, "/a/0/x", "");                  /* through a scalar */
    ASSERT_GET(doc, "/missing/deeper", "");
    jptr *p = comp("/a/0");
    assert_null(jptr_get(p, NULL));
    assert_int_equal(jptr_depth(p), 2);
    assert_false(jptr_is_wild(p));
    assert_string_equal(jptr_text(p), "/a/0");
    jptr_free(p);
    json_decref(doc);
}

static void test_bad_pointers(void **state)
{
    (void)state;
    const char *bad[] = {"a", "a/b", "/a~", "/a~2", "/~x/b", "#/a", " /a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jptr *p = (jptr *)(uintptr_t)1;
        cut_err err = {0};
        int rc = jptr_compile(bad[i], &p, &err);
        assert_int_equal(rc, CUT_EINVAL);
        assert_int_equal(err.code, CUT_EINVAL);
        assert_null(p);
        /* The message names the offending text. */
        if (!strstr(err.msg, bad[i])) fail_msg("\"%s\" not in \"%s\"", bad[i], err.msg);
    }
    jptr *p = NULL;
    assert_int_equal(jptr_compile(NULL, &p, NULL), CUT_EINVAL);
    assert_int_equal(jptr_compile("/a", NULL, NULL), CUT_EINVAL);
    /* "~01" is "~1" unescaped: a tilde followed by '1', not a slash. */
    json_t *doc = parse("{\"~1\": \"tilde-one\", \"/\": \"slash\"}");
    ASSERT_GET(doc, "/~01", "\"tilde-one\"");
    ASSERT_GET(doc, "/~1", "\"slash\"");
    json_decref(doc);
}

typedef struct seen {
    char paths[16][64];
    int values[16];
    size_t n;
    size_t stop_after;
} seen;

static int record(const char *path, json_t *value, void *ud)
{
    seen *s = ud;
    assert_true(s->n < 16);
    snprintf(s->paths[s->n], sizeof s->paths[0], "%s", path);
    s->values[s->n] = (int)json_integer_value(value);
    s->n++;
    return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static void test_foreach_wildcards(void **state)
{
    (void)state;
    json_t *doc = parse("{\"breakers\": {\"db\": {\"state\": 1}, \"a/b\": {\"state\": 2},"
                        " \"none\": {}, \"scalar\": 5, \"cache\": {\"state\": 3}},"
                        " \"rows\": [[1, 2], [], [3], {\"0\": 9}]}");
    seen s = {0};
    jptr *p = comp("/breakers/*/state");
    assert_true(jptr_is_wild(p));
    assert_null(jptr_get(p, doc)); /* jptr_get refuses wildcards */
    assert_int_equal(jptr_foreach(p, doc, record, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.paths[0], "/breakers/db/state");
    assert_string_equal(s.paths[1], "/breakers/a~1b/state"); /* escaped in the path */
    assert_string_equal(s.paths[2], "/breakers/cache/state");
    assert_int_equal(s.values[0], 1);
    assert_int_equal(s.values[1], 2);
    assert_int_equal(s.values[2], 3);
    jptr_free(p);

    /* Two wildcards, arrays and an object holding a "0" key, in document order. */
    memset(&s, 0, sizeof s);
    p = comp("/rows/*/*");
    assert_int_equal(jptr_foreach(p, doc, record, &s), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.paths[0], "/rows/0/0");
    assert_string_equal(s.paths[1], "/rows/0/1");
    assert_string_equal(s.paths[2], "/rows/2/0");
    assert_string_equal(s.paths[3], "/rows/3/0");
    assert_int_equal(s.values[3], 9);
    jptr_free(p);

    /* A plain segment after a wildcard: index 0 of each row that has one. */
    memset(&s, 0, sizeof s);
    p = comp("/rows/*/0");
    assert_int_equal(jptr_foreach(p, doc, record, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.paths[2], "/rows/3/0");
    jptr_free(p);

    /* Stopping: the callback's value comes back and nothing more is visited. */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    p = comp("/rows/*/*");
    assert_int_equal(jptr_foreach(p, doc, record, &s), 42);
    assert_int_equal(s.n, 2);
    jptr_free(p);

    /* No wildcard: at most one visit; "" visits the root. */
    memset(&s, 0, sizeof s);
    p = comp("/rows/2/0");
    assert_int_equal(jptr_foreach(p, doc, record, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.paths[0], "/rows/2/0");
    jptr_free(p);
    memset(&s, 0, sizeof s);
    p = comp("/nothing/*");
    assert_int_equal(jptr_foreach(p, doc, record, &s), 0);
    assert_int_equal(s.n, 0);
    jptr_free(p);
    memset(&s, 0, sizeof s);
    p = comp("");
    json_t *one = json_integer(7);
    assert_int_equal(jptr_foreach(p, one, record, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.paths[0], "");
    json_decref(one);
    jptr_free(p);
    json_decref(doc);
}

static void test_matches(void **state)
{
    (void)state;
    jptr *meta = comp("/metadata");
    jptr *kids = comp("/metadata/*");
    jptr *mid = comp("/data/*/total");
    jptr *root = comp("");
    jptr *esc = comp("/a~1b/~0");

    assert_true(jptr_matches(meta, "/metadata"));
    assert_true(jptr_matches(meta, "/metadata/request_id"));
    assert_true(jptr_matches(meta, "/metadata/x/0/y"));
    assert_false(jptr_matches(meta, "/metadatax"));
    assert_false(jptr_matches(meta, "/meta"));
    assert_false(jptr_matches(meta, ""));
    assert_false(jptr_matches(meta, "/data/metadata"));

    assert_false(jptr_matches(kids, "/metadata")); /* the node itself is not beneath it */
    assert_true(jptr_matches(kids, "/metadata/timestamp"));
    assert_true(jptr_matches(kids, "/metadata/timestamp/deep"));
    assert_true(jptr_matches(kids, "/metadata/")); /* the empty key is a key */

    assert_true(jptr_matches(mid, "/data/0/total"));
    assert_true(jptr_matches(mid, "/data/17/total/cents"));
    assert_false(jptr_matches(mid, "/data/0/totals"));
    assert_false(jptr_matches(mid, "/data/0"));

    assert_true(jptr_matches(root, ""));
    assert_true(jptr_matches(root, "/anything/at/all"));

    assert_true(jptr_matches(esc, "/a~1b/~0"));
    assert_true(jptr_matches(esc, "/a~1b/~0/x"));
    assert_false(jptr_matches(esc, "/a/b/~"));
    assert_false(jptr_matches(esc, "/a~1b/~1"));

    /* Malformed concrete paths match nothing. */
    assert_false(jptr_matches(meta, "metadata"));
    assert_false(jptr_matches(kids, "/metadata/a~2"));
    assert_false(jptr_matches(meta, NULL));

    /* Length-aware form: a key holding a NUL byte. */
    jptr *nul = comp("/k");
    assert_true(jptr_matchesn(nul, "/k/a\0b", 6));
    assert_false(jptr_matchesn(nul, "/k\0x", 4));
    jptr_free(nul);

    jptr_free(meta);
    jptr_free(kids);
    jptr_free(mid);
    jptr_free(root);
    jptr_free(esc);
}

static void test_path_buffers(void **state)
{
    (void)state;
    char small[8];
    assert_int_equal(jptr_escape(small, sizeof small, "a/b~c", 5), 8);
    assert_string_equal(small, "/a~1b~0"); /* cut, NUL-terminated */
    char big[32];
    assert_int_equal(jptr_escape(big, sizeof big, "a/b~c", 5), 8);
    assert_string_equal(big, "/a~1b~0c");
    assert_int_equal(jptr_escape(NULL, 0, "xy", 2), 3);

    jptr_buf b = {0};
    assert_int_equal(jptr_buf_set(&b, "", 0), 0);
    assert_string_equal(b.s, "");
    assert_int_equal(jptr_buf_push_key(&b, "data", 4), 0);
    size_t mark = b.len;
    assert_int_equal(jptr_buf_push_index(&b, 12345), 0);
    assert_int_equal(jptr_buf_push_key(&b, "m~n/o", 5), 0);
    assert_string_equal(b.s, "/data/12345/m~0n~1o");
    /* What the buffer builds, a compiled pointer finds. */
    json_t *doc = parse("{\"data\": {\"12345\": {\"m~n/o\": true}}}");
    jptr *p = comp(b.s);
    assert_ptr_equal(jptr_get(p, doc), json_true());
    jptr_free(p);
    json_decref(doc);
    jptr_buf_trunc(&b, mark);
    assert_string_equal(b.s, "/data");
    /* Growth across many pushes. */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(jptr_buf_push_key(&b, "segment", 7), 0);
    assert_int_equal(b.len, 5 + 1000 * 8);
    jptr_buf_free(&b);
    assert_null(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6901_examples), cmocka_unit_test(test_indexes),
        cmocka_unit_test(test_bad_pointers),     cmocka_unit_test(test_foreach_wildcards),
        cmocka_unit_test(test_matches),          cmocka_unit_test(test_path_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
