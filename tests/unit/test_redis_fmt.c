/* test_redis_fmt.c - RESP formatting by drv_redis_format, checked byte for byte and
 * against hiredis's own formatter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "driver/redis.h"

static void test_simple(void **state)
{
    const char *argv[] = {"GET", "key:1"};
    char buf[64];
    const char want[] = "*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n";
    size_t n;

    (void)state;
    n = drv_redis_format(buf, sizeof buf, 2, argv, NULL);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(buf, want, n);
}

static void test_binary_and_empty(void **state)
{
    const char val[] = {'a', '\0', '\r', '\n', 'b'};
    const char *argv[] = {"SET", "", val};
    const size_t lens[] = {3, 0, sizeof val};
    const char want[] = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$5\r\na\0\r\nb\r\n";
    char buf[64];
    char *ref = NULL;
    int reflen;
    size_t n;

    (void)state;
    n = drv_redis_format(buf, sizeof buf, 3, argv, lens);
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(buf, want, n);
    /* Same bytes as hiredis's formatter. */
    reflen = redisFormatCommandArgv(&ref, 3, argv, lens);
    assert_int_equal(reflen, (int)n);
    assert_memory_equal(buf, ref, n);
    free(ref);
}

static void test_long_arg_lengths(void **state)
{
    /* 10-digit counts and lengths exercise the decimal writer. */
    enum { L = 1234567 };
    char *big = malloc(L);
    char *buf;
    const char *argv[1];
    size_t lens[1] = {L};
    size_t n;
    char *ref = NULL;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', L);
    argv[0] = big;
    n = drv_redis_format(NULL, 0, 1, argv, lens);
    assert_int_equal(n, 4 + 10 + L + 2);
    buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(drv_redis_format(buf, n, 1, argv, lens), n);
    assert_int_equal(redisFormatCommandArgv(&ref, 1, argv, lens), (int)n);
    assert_memory_equal(buf, ref, n);
    assert_memory_equal(buf, "*1\r\n$1234567\r\n", 14);
    free(ref);
    free(buf);
    free(big);
}

static void test_cap_too_small(void **state)
{
    const char *argv[] = {"PING"};
    char buf[16];
    size_t need;

    (void)state;
    memset(buf, '#', sizeof buf);
    need = drv_redis_format(buf, 5, 1, argv, NULL);
    assert_int_equal(need, 14); /* "*1\r\n$4\r\nPING\r\n" */
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], '#');
    /* Exactly enough room works. */
    assert_int_equal(drv_redis_format(buf, need, 1, argv, NULL), need);
    assert_memory_equal(buf, "*1\r\n$4\r\nPING\r\n", need);
    assert_int_equal(buf[need], '#');
    /* With room to spare a NUL follows (hiredis peeks past the end). */
    assert_int_equal(drv_redis_format(buf, sizeof buf, 1, argv, NULL), need);
    assert_int_equal(buf[need], '\0');
}

static void test_no_args(void **state)
{
    char buf[8];
    (void)state;
    assert_int_equal(drv_redis_format(buf, sizeof buf, 0, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),           cmocka_unit_test(test_binary_and_empty),
        cmocka_unit_test(test_long_arg_lengths), cmocka_unit_test(test_cap_too_small),
        cmocka_unit_test(test_no_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
