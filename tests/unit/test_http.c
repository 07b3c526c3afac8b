/* test_http.c - unit tests for src/driver/http.c that need no server: header lookup on hostile
 * header blocks, URL joining, request validation, slot pool and asynchronous close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/http.h"

/* ---- header lookup ----------------------------------------------------------------------- */

static drv_http_resp resp_of(const char *block, size_t len)
{
    drv_http_resp r;
    memset(&r, 0, sizeof r);
    r.headers = block;
    r.headers_len = len;
    return r;
}

static void expect_header(const drv_http_resp *r, const char *name, const char *want)
{
    size_t len = 99;
    const char *v = drv_http_resp_header(r, name, &len);
    if (!want) {
        if (v) fail_msg("%s: expected absent, got \"%.*s\"", name, (int)len, v);
        assert_int_equal(len, 0);
        return;
    }
    if (!v) fail_msg("%s: expected \"%s\", got nothing", name, want);
    if (len != strlen(want) || memcmp(v, want, len) != 0)
        fail_msg("%s: expected \"%s\", got \"%.*s\"", name, want, (int)len, v);
}

static void test_header_lookup(void **state)
{
    (void)state;
    static const char b[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Length: 1024\r\n"
                            "server:nginx  \r\n"
                            "X-Dup: first\r\n"
                            "X-Dup: second\r\n"
                            "X-Empty:\r\n"
                            "X-Space : spaced\r\n"
                            "\r\n";
    drv_http_resp r = resp_of(b, sizeof b - 1);
    expect_header(&r, "content-length", "1024");
    expect_header(&r, "CONTENT-LENGTH", "1024");
    expect_header(&r, "Server", "nginx");
    expect_header(&r, "x-dup", "first");
    expect_header(&r, "X-Empty", "");
    expect_header(&r, "X-Space", "spaced");
    expect_header(&r, "Content", NULL); /* a prefix is not a match */
    expect_header(&r, "Content-Length-X", NULL);
    expect_header(&r, "HTTP/1.1 200 OK", NULL); /* the status line is not a header */
    expect_header(&r, "", NULL);
    assert_non_null(drv_http_resp_header(&r, "Server", NULL)); /* len may be NULL */
}

static void test_header_hostile(void **state)
{
    (void)state;
    /* No CRs, a NUL inside a name, a folded line, no colon, a header cut at the block's end. */
    static const char b[] = "HTTP/1.1 200 OK\n"
                            "X-N\0ul: hidden\n"
                            "garbage without colon\n"
                            " X-Folded: not a header\n"
                            ":\n"
                            "X-Last: cut";
    drv_http_resp r = resp_of(b, sizeof b - 1);
    expect_header(&r, "X-N", NULL);
    expect_header(&r, "X-Folded", NULL);
    expect_header(&r, "garbage without colon", NULL);
    expect_header(&r, "X-Last", "cut");

    /* A block whose last byte is a lone name, or only a status line, or nothing. */
    static const char c[] = "HTTP/1.1 204\r\nX-A";
    drv_http_resp rc = resp_of(c, sizeof c - 1);
    expect_header(&rc, "X-A", NULL);
    drv_http_resp re = resp_of("", 0);
    expect_header(&re, "X-A", NULL);
    drv_http_resp rn = resp_of(NULL, 0);
    expect_header(&rn, "X-A", NULL);

    /* Lookups must stay within headers_len: the bytes after it must never be seen. */
    static const char d[] = "HTTP/1.1 200 OK\r\nX-In: yes\r\nX-Out: no\r\n";
    drv_http_resp rd = resp_of(d, strlen("HTTP/1.1 200 OK\r\nX-In: yes\r\n"));
    expect_header(&rd, "X-In", "yes");
    expect_header(&rd, "X-Out", NULL);

    /* A header line that is not the first line and looks like a status line is a normal line. */
    static const char e[] = "HTTP/1.1 200 OK\r\nHTTP/1.1: odd\r\n";
    drv_http_resp rf = resp_of(e, sizeof e - 1);
    expect_header(&rf, "HTTP/1.1", "odd");
}

/* ---- client without a server --------------------------------------------------------------- */

static void on_closed(void *ud)
{
    (*(int *)ud)++;
}

static drv_http *mk(uv_loop_t *loop, const char *base, unsigned slots)
{
    drv_http_opts o = {.base_url = base, .slots = slots};
    drv_http *c = NULL;
    cut_err err = {0};
    if (drv_http_new(&c, loop, &o, &err) != 0) fail_msg("drv_http_new: %s", err.msg);
    return c;
}

static void close_and_run(uv_loop_t *loop, drv_http *c)
{
    int closed = 0;
    drv_http_close(c, on_closed, &closed);
    assert_int_equal(closed, 0); /* asynchronous */
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
}

static void expect_url(drv_http *c, const char *path, const char *want)
{
    drv_http_req *r = drv_http_acquire(c);
    cut_err err = {0};
    assert_non_null(r);
    if (drv_http_req_set(r, "GET", path, strlen(path), NULL, 0, NULL, 0, &err) != 0)
        fail_msg("req_set(%s): %s", path, err.msg);
    if (strcmp(drv_http_req_url(r), want) != 0)
        fail_msg("join(%s): expected %s, got %s", path, want, drv_http_req_url(r));
    drv_http_release(r);
}

static void test_url_join(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    drv_http *c = mk(&loop, "http://127.0.0.1:8080/api/", 2);
    expect_url(c, "/users/1", "http://127.0.0.1:8080/api/users/1");
    expect_url(c, "users/1", "http://127.0.0.1:8080/api/users/1");
    expect_url(c, "?q=1", "http://127.0.0.1:8080/api?q=1");
    expect_url(c, "", "http://127.0.0.1:8080/api");
    expect_url(c, "https://example.test/x", "https://example.test/x");
    expect_url(c, "HTTP://127.0.0.1:1/y", "HTTP://127.0.0.1:1/y");
    expect_url(c, "not-a-scheme:/x", "http://127.0.0.1:8080/api/not-a-scheme:/x");
    /* url_len is honoured: no NUL needed after the path. */
    drv_http_req *r = drv_http_acquire(c);
    assert_int_equal(drv_http_req_set(r, "GET", "/abcdef", 3, NULL, 0, NULL, 0, NULL), 0);
    assert_string_equal(drv_http_req_url(r), "http://127.0.0.1:8080/api/ab");
    /* A long path grows the slot's buffer and is kept whole. */
    size_t n = 5000;
    char *lp = malloc(n + 1);
    memset(lp, 'a', n);
    lp[0] = '/';
    lp[n] = '\0';
    assert_int_equal(drv_http_req_set(r, "GET", lp, n, NULL, 0, NULL, 0, NULL), 0);
    assert_int_equal(strlen(drv_http_req_url(r)), strlen("http://127.0.0.1:8080/api") + n);
    free(lp);
    drv_http_release(r);
    close_and_run(&loop, c);

    /* Without a base, only absolute URLs work. */
    c = mk(&loop, NULL, 1);
    r = drv_http_acquire(c);
    cut_err err = {0};
    assert_int_equal(drv_http_req_set(r, "GET", "/x", 2, NULL, 0, NULL, 0, &err), CUT_EINVAL);
    assert_true(strstr(err.msg, "base_url") != NULL);
    assert_int_equal(drv_http_req_set(r, "GET", "http://h/x", 10, NULL, 0, NULL, 0, NULL), 0);
    drv_http_release(r);
    close_and_run(&loop, c);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_validation(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    drv_http *c = NULL;
    cut_err err = {0};
    drv_http_opts bad = {.base_url = "ftp://127.0.0.1/"};
    assert_int_equal(drv_http_new(&c, &loop, &bad, &err), CUT_EINVAL);
    assert_null(c);

    c = mk(&loop, "http://127.0.0.1:1", 1);
    drv_http_req *r = drv_http_acquire(c);
    assert_non_null(r);
    const char *inj[] = {"X-A: ok", "X-B: evil\r\nX-Injected: 1"};
    assert_int_equal(drv_http_req_set(r, "GET", "/", 1, inj, 2, NULL, 0, &err), CUT_EINVAL);
    const char *noname[] = {": v"};
    assert_int_equal(drv_http_req_set(r, "GET", "/", 1, noname, 1, NULL, 0, NULL), CUT_EINVAL);
    const char *nocolon[] = {"X-A v"};
    assert_int_equal(drv_http_req_set(r, "GET", "/", 1, nocolon, 1, NULL, 0, NULL), CUT_EINVAL);
    assert_int_equal(drv_http_req_set(r, "GE T", "/", 1, NULL, 0, NULL, 0, NULL), CUT_EINVAL);
    assert_int_equal(drv_http_req_set(r, "", "/", 1, NULL, 0, NULL, 0, NULL), CUT_EINVAL);
    assert_int_equal(drv_http_req_set(r, "GET", "/a\nb", 4, NULL, 0, NULL, 0, NULL), CUT_EINVAL);
    /* A failed set leaves the slot unset: it cannot be started. */
    assert_int_equal(drv_http_start(r, (drv_http_cb)abort, NULL), CUT_ESTATE);
    const char *ok[] = {"X-A: ok", "X-Tab:\tv", "X-Remove:", "X-Empty;"};
    assert_int_equal(drv_http_req_set(r, "PATCH", "/", 1, ok, 4, "{}", 2, &err), 0);

    /* The pool: one slot, held, so acquire says busy; released, it comes back. */
    assert_null(drv_http_acquire(c));
    drv_http_release(r);
    drv_http_req *r2 = drv_http_acquire(c);
    assert_ptr_equal(r2, r);
    assert_string_equal(drv_http_req_url(r2), ""); /* reset when returned to the pool */
    drv_http_release(r2);
    /* A released slot is not acquired: set and start refuse it. */
    assert_int_equal(drv_http_req_set(r2, "GET", "/", 1, NULL, 0, NULL, 0, NULL), CUT_ESTATE);

    drv_http_stats st;
    drv_http_stats_get(c, &st);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.sockets_open, 0);
    drv_http_close(c, NULL, NULL);
    assert_null(drv_http_acquire(c)); /* closing */
    assert_int_equal(drv_http_preflight(c, NULL, (drv_http_cb)abort, NULL), CUT_ESTATE);
    drv_http_close(c, NULL, NULL); /* twice is a no-op */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_header_hostile),
        cmocka_unit_test(test_url_join),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
