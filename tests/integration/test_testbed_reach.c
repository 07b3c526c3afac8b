/* The shared testbed really serves: Redis, PostgreSQL and nginx answer through the same
 * client libraries the driver links (hiredis, libpq, libcurl), at the URLs in DIR/env. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testbed_env.h"

static int setup(void **state)
{
    (void)state;
    return tb_env_load();
}

/* redis://127.0.0.1:PORT/0 -> port */
static int url_port(const char *url)
{
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : -1;
}

static void test_redis_set_get(void **state)
{
    (void)state;
    const char *url = tb_env("CUTOVER_REDIS_URL");
    assert_non_null(url);
    redisContext *c = redisConnect("127.0.0.1", url_port(url));
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    char val[32];
    snprintf(val, sizeof val, "v%d", (int)getpid());
    redisReply *r = redisCommand(c, "SET cutover:test:reach %s", val);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = redisCommand(c, "GET cutover:test:reach");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, val);
    freeReplyObject(r);
    r = redisCommand(c, "DEL cutover:test:reach");
    freeReplyObject(r);
    redisFree(c);
}

static void test_postgres_query(void **state)
{
    (void)state;
    const char *dsn = tb_env("CUTOVER_PG_DSN");
    assert_non_null(dsn);
    PGconn *conn = PQconnectdb(dsn);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    const char *params[1] = {"41"};
    PGresult *res = PQexecParams(conn, "SELECT $1::int + 1", 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "42");
    PQclear(res);
    /* pg_stat_statements is loaded: the cache metrics (query reduction) rely on it. */
    res = PQexec(conn, "SELECT count(*) >= 0 FROM pg_stat_statements");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    PQfinish(conn);
}

static size_t count_bytes(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    *(size_t *)ud += size * n;
    return size * n;
}

static void test_nginx_static(void **state)
{
    (void)state;
    const char *base = tb_env("CUTOVER_NGINX_URL");
    assert_non_null(base);
    char url[512];
    snprintf(url, sizeof url, "%s/1k", base);
    CURL *e = curl_easy_init();
    size_t got = 0;
    long status = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_int_equal(got, 1024);
    curl_easy_cleanup(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_set_get),
        cmocka_unit_test(test_postgres_query),
        cmocka_unit_test(test_nginx_static),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    curl_global_cleanup();
    return rc;
}
