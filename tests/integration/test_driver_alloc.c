/* No allocation of cutover's own per request: the same scenario run for 1 s and for 3 s
 * (three times the requests) makes about the same number of allocations in cutover's code.
 * Both runs reach the same steady state (4 HTTP connections, 50 distinct cache keys, all seen
 * in the first second), so what grows with connections or keys is the same in both.
 *
 * This program is linked with -Wl,--wrap=malloc,... so every malloc/calloc/realloc call made
 * by cutover's objects (statically linked here) goes through the counters below, while
 * libcurl, hiredis, libpq and jansson (shared libraries) allocate as usual, uncounted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/run.h"
#include "scenario/scenario.h"
#include "testbed_env.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

static _Atomic uint64_t allocs;

void *__wrap_malloc(size_t n)
{
    atomic_fetch_add(&allocs, 1);
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    atomic_fetch_add(&allocs, 1);
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    atomic_fetch_add(&allocs, 1);
    return __real_realloc(p, n);
}

static uint64_t run_for(const char *duration, uint64_t *requests)
{
    char path[] = "/tmp/cutover-alloc-XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(
        f,
        "{\"name\": \"alloc\",\n"
        " \"endpoints\": {\"web\": {\"type\": \"http\", \"base_url\": \"${CUTOVER_NGINX_URL}\", "
        "\"max_connections\": 4},\n"
        "   \"cache\": {\"type\": \"redis\", \"url\": \"${CUTOVER_REDIS_URL}\"},\n"
        "   \"db\": {\"type\": \"postgres\", \"dsn\": \"${CUTOVER_PG_DSN}\"}},\n"
        " \"data\": {\"n\": {\"range\": [1, 50]}},\n"
        " \"steps\": {\"page\": {\"http\": {\"endpoint\": \"web\", \"url\": \"/1k?n={{n}}\",\n"
        "              \"headers\": {\"X-Cutover-Test\": \"{{n}}\"}}},\n"
        "   \"get\": {\"redis\": {\"endpoint\": \"cache\", \"command\": [\"GET\", "
        "\"alloc:{{n}}\"]}},\n"
        "   \"row\": {\"sql\": {\"endpoint\": \"db\", \"query\": \"SELECT $1::int\", \"params\": "
        "[\"{{n}}\"]}}},\n"
        " \"phases\": [{\"name\": \"p\", \"executor\": \"constant-arrival-rate\", \"rate\": 600,\n"
        "   \"duration\": \"%s\", \"steps\": [{\"step\": \"page\", \"weight\": 1},\n"
        "   {\"step\": \"get\", \"weight\": 1}, {\"step\": \"row\", \"weight\": 1}]}]}\n",
        duration);
    fclose(f);
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    int rc = scn_load_file(path, &s, &d);
    scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    unlink(path);
    assert_int_equal(rc, 0);

    drv_run_opts o;
    memset(&o, 0, sizeof o);
    o.threads = 2;
    o.progress = DRV_PROGRESS_QUIET;
    res_run run;
    cut_err err;
    uint64_t before = atomic_load(&allocs);
    rc = drv_run_scenario(s, &o, &run, &err);
    uint64_t used = atomic_load(&allocs) - before;
    assert_int_equal(rc, DRV_RUN_OK);
    stats_step tot;
    memset(&tot, 0, sizeof tot);
    res_phase_totals(&run.phases[0], &tot);
    assert_int_equal(tot.errors, 0);
    *requests = tot.completed;
    res_run_free(&run);
    scn_free(s);
    return used;
}

static void test_no_allocation_per_request(void **state)
{
    (void)state;
    uint64_t n1 = 0, n3 = 0;
    uint64_t a1 = run_for("1s", &n1);
    uint64_t a3 = run_for("3s", &n3);
    fprintf(stderr, "1s: %llu requests, %llu allocations; 3s: %llu requests, %llu allocations\n",
            (unsigned long long)n1, (unsigned long long)a1, (unsigned long long)n3,
            (unsigned long long)a3);
    assert_int_equal(n1, 600);
    assert_int_equal(n3, 1800);
    /* 1200 more requests; allow a few for buffers meeting a longer value for the first time. */
    assert_true(a3 <= a1 + 16);
}

int main(void)
{
    if (tb_env_load() < 0) return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_allocation_per_request)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
