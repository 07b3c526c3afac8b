/* kset: first sighting only once per key, across threads; clear forgets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "metrics/keyset.h"

static void test_first_then_warm(void **state)
{
    (void)state;
    kset *k;
    assert_int_equal(kset_new(&k, NULL), 0);
    char key[64];
    for (int i = 0; i < 50000; i++) {
        snprintf(key, sizeof key, "/api/v3/report/x/agency/%d", i);
        assert_true(kset_first(k, kset_hash(key, strlen(key))));
    }
    for (int i = 0; i < 50000; i++) {
        snprintf(key, sizeof key, "/api/v3/report/x/agency/%d", i);
        assert_false(kset_first(k, kset_hash(key, strlen(key))));
    }
    kset_clear(k);
    assert_true(kset_first(k, kset_hash("/a", 2)));
    assert_false(kset_first(k, kset_hash("/a", 2)));
    assert_true(kset_first(k, 0)); /* 0 is a valid hash too */
    assert_false(kset_first(k, 0));
    kset_free(k);
}

typedef struct arg {
    kset *k;
    _Atomic int *fresh;
} arg;

static void *worker(void *p)
{
    arg *a = p;
    for (uint64_t i = 1; i <= 20000; i++)
        if (kset_first(a->k, i * 0x9e3779b97f4a7c15ull)) atomic_fetch_add(a->fresh, 1);
    return NULL;
}

static void test_threads_see_each_key_once(void **state)
{
    (void)state;
    kset *k;
    assert_int_equal(kset_new(&k, NULL), 0);
    _Atomic int fresh = 0;
    arg a = {k, &fresh};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&fresh), 20000);
    kset_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_then_warm),
        cmocka_unit_test(test_threads_see_each_key_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
