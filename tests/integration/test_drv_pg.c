/* test_drv_pg.c - the PostgreSQL pool against the testbed's server: prepared
 * statements, many queries, pipeline mode, SQL errors, timeouts and failed
 * preflights. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/pg.h"
#include "testbed_env.h"

#define MS 1000000ULL
#define MAXQ 4096

static void wake_cb(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *v >= target or ms elapsed; a 5 ms wake-up timer bounds
 * each turn. Returns whether the target was reached. */
static int run_until_ge(uv_loop_t *loop, const int *v, int target, uint64_t ms)
{
    uv_timer_t wake;
    uint64_t end = uv_hrtime() + ms * MS;
    uv_timer_init(loop, &wake);
    uv_timer_start(&wake, wake_cb, 5, 5);
    while (*v < target && uv_hrtime() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *v >= target;
}

static void run_for(uv_loop_t *loop, uint64_t ms)
{
    static const int never = 0;
    run_until_ge(loop, &never, 1, ms);
}

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The testbed DSN split at the password: postgresql://user:PASS@host:port/db. */
static void dsn_parts(char *user_part, size_t un, char *pass, size_t pn, char *rest, size_t rn)
{
    const char *dsn = tb_env("CUTOVER_PG_DSN");
    const char *p, *colon, *at;
    assert_non_null(dsn);
    p = strstr(dsn, "://");
    assert_non_null(p);
    p += 3;
    colon = strchr(p, ':');
    at = strchr(p, '@');
    assert_true(colon && at && colon < at);
    snprintf(user_part, un, "%.*s", (int)(colon - dsn), dsn);
    snprintf(pass, pn, "%.*s", (int)(at - colon - 1), colon + 1);
    snprintf(rest, rn, "%s", at);
}

typedef struct fx {
    uv_loop_t loop;
    drv_pg *c;
    int connected, connect_status, closed;
    char connect_msg[CUT_ERR_MSG_MAX];
    int done;
    int counts[DRV_KIND_COUNT];
    /* per completion, in completion order */
    int seq[MAXQ];
    drv_kind kinds[MAXQ];
    char sqlstate[MAXQ][6];
    uint64_t elapsed[MAXQ];
    char first_val[64];
    /* closed-loop load */
    int sent, total, stmt;
} fx;

static void on_connected(drv_pg *c, int status, const cut_err *err, void *ud)
{
    fx *f = ud;
    (void)c;
    f->connected = 1;
    f->connect_status = status;
    snprintf(f->connect_msg, sizeof f->connect_msg, "%s", err ? err->msg : "");
}

static void on_closed(drv_pg *c, void *ud)
{
    (void)c;
    ((fx *)ud)->closed = 1;
}

static fx *fx_new(drv_pg_opts *o, const char *const *sqls, const int *nparams, int nstmt)
{
    fx *f = calloc(1, sizeof *f);
    cut_err e = {0};
    int id;
    assert_non_null(f);
    /* Generous: SCRAM handshakes are slow under valgrind. */
    if (!o->connect_timeout_ns) o->connect_timeout_ns = 30000 * MS;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(drv_pg_new(&f->loop, o, &f->c, &e), 0);
    for (int i = 0; i < nstmt; i++) {
        assert_int_equal(drv_pg_prepare(f->c, sqls[i], nparams[i], &id, &e), 0);
        assert_int_equal(id, i);
    }
    assert_int_equal(drv_pg_connect(f->c, on_connected, f, &e), 0);
    assert_int_equal(f->connected, 0); /* never from inside the call */
    assert_true(run_until_ge(&f->loop, &f->connected, 1, 15000));
    return f;
}

static void fx_free(fx *f)
{
    assert_int_equal(drv_pg_close(f->c, on_closed, f), 0);
    assert_true(run_until_ge(&f->loop, &f->closed, 1, 5000));
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* every handle is gone */
    free(f);
}

static void record(fx *f, const drv_pg_resp *r, int seq)
{
    int i = f->done++;
    assert_true(i < MAXQ);
    f->counts[r->kind]++;
    f->seq[i] = seq;
    f->kinds[i] = r->kind;
    memcpy(f->sqlstate[i], r->sqlstate, 6);
    f->elapsed[i] = r->t_done_ns - r->t_start_ns;
    assert_true(r->t_done_ns >= r->t_start_ns);
    if (r->kind == DRV_OK) {
        assert_non_null(r->res);
        assert_int_equal(r->ntuples, PQntuples(r->res));
        if (r->ntuples > 0 && PQnfields(r->res) > 0)
            snprintf(f->first_val, sizeof f->first_val, "%s", PQgetvalue(r->res, 0, 0));
    }
}

/* ud carries the sequence number; the fixture is found through a static, so a
 * test with two pools sets cur before running each loop. */
static fx *cur;

static void on_seq(drv_pg *c, const drv_pg_resp *r, void *ud)
{
    (void)c;
    record(cur, r, (int)(intptr_t)ud);
}

static int send_int(fx *f, int stmt, int v, int seq)
{
    char buf[16];
    const char *vals[1] = {buf};
    snprintf(buf, sizeof buf, "%d", v);
    cur = f;
    return drv_pg_send(f->c, stmt, 1, vals, NULL, on_seq, (void *)(intptr_t)seq);
}

static const char *dsn(void)
{
    return tb_env("CUTOVER_PG_DSN");
}

static void test_prepared_params(void **state)
{
    const char *sql[] = {"SELECT $1::int + $2::int, $3::text || '!'"};
    const int np[] = {3};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 2};
    fx *f;
    const char *vals[] = {"2", "40", "hi"};
    (void)state;
    f = fx_new(&o, sql, np, 1);
    assert_int_equal(f->connect_status, 0);
    cur = f;
    assert_int_equal(drv_pg_send(f->c, 0, 3, vals, NULL, on_seq, NULL), 0);
    assert_int_equal(f->done, 0);
    assert_true(run_until_ge(&f->loop, &f->done, 1, 5000));
    assert_int_equal(f->kinds[0], DRV_OK);
    assert_string_equal(f->first_val, "42");
    /* Wrong parameter count or statement: refused, no callback. */
    assert_int_equal(drv_pg_send(f->c, 0, 2, vals, NULL, on_seq, NULL), CUT_EINVAL);
    assert_int_equal(drv_pg_send(f->c, 1, 3, vals, NULL, on_seq, NULL), CUT_EINVAL);
    run_for(&f->loop, 20);
    assert_int_equal(f->done, 1);
    fx_free(f);
}

/* Closed loop: every completion sends the next query until total. */
static void on_load(drv_pg *c, const drv_pg_resp *r, void *ud)
{
    fx *f = cur;
    (void)ud;
    (void)c;
    f->counts[r->kind]++;
    f->done++;
    if (r->kind == DRV_OK) assert_int_equal(r->ntuples, 1);
    if (f->sent < f->total) {
        char buf[16];
        const char *vals[1] = {buf};
        snprintf(buf, sizeof buf, "%d", f->sent);
        assert_int_equal(drv_pg_send(f->c, f->stmt, 1, vals, NULL, on_load, NULL), 0);
        f->sent++;
    }
}

static void load(fx *f, int total, int window)
{
    cur = f;
    f->total = total;
    for (f->sent = 0; f->sent < window; f->sent++) {
        char buf[16];
        const char *vals[1] = {buf};
        snprintf(buf, sizeof buf, "%d", f->sent);
        assert_int_equal(drv_pg_send(f->c, f->stmt, 1, vals, NULL, on_load, NULL), 0);
    }
    assert_true(run_until_ge(&f->loop, &f->done, total, 60000));
}

static void test_5000_over_8(void **state)
{
    const char *sql[] = {"SELECT $1::int * 2"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 8, .timeout_ns = 10000 * MS};
    drv_pg_stats st;
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    if (f->connect_status) fprintf(stderr, "%s\n", f->connect_msg);
    assert_int_equal(f->connect_status, 0);
    /* Without pipeline mode each connection runs one query at a time. */
    load(f, 5000, 8);
    assert_int_equal(f->counts[DRV_OK], 5000);
    drv_pg_stats_get(f->c, &st);
    assert_int_equal(st.sent, 5000);
    assert_int_equal(st.completed, 5000);
    assert_int_equal(st.up, 8);
    fx_free(f);
}

static void test_pool_full(void **state)
{
    const char *sql[] = {"SELECT $1::int"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 2};
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    assert_int_equal(send_int(f, 0, 1, 1), 0);
    assert_int_equal(send_int(f, 0, 2, 2), 0);
    assert_int_equal(send_int(f, 0, 3, 3), CUT_ERANGE);
    assert_true(run_until_ge(&f->loop, &f->done, 2, 5000));
    assert_int_equal(f->counts[DRV_OK], 2);
    fx_free(f);
}

static void test_pipeline_order(void **state)
{
    const char *sql[] = {"SELECT $1::int"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 1, .pipeline = 16, .max_pending = 256};
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    assert_int_equal(f->connect_status, 0);
    /* 200 queries in one loop turn: 12 full batches of 16 and one of 8. */
    for (int i = 0; i < 200; i++)
        assert_int_equal(send_int(f, 0, i, i), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 200, 10000));
    for (int i = 0; i < 200; i++) {
        assert_int_equal(f->kinds[i], DRV_OK);
        assert_int_equal(f->seq[i], i);
    }
    fx_free(f);
}

static void test_pipeline_load(void **state)
{
    const char *sql[] = {"SELECT $1::int * 2"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 4, .pipeline = 16, .timeout_ns = 10000 * MS};
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    load(f, 20000, 4 * 64);
    assert_int_equal(f->counts[DRV_OK], 20000);
    fx_free(f);
}

static void test_sql_error(void **state)
{
    const char *sql[] = {"SELECT 10 / $1::int"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 1};
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    assert_int_equal(send_int(f, 0, 0, 0), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 1, 5000));
    assert_int_equal(f->kinds[0], DRV_ESQL);
    assert_string_equal(f->sqlstate[0], "22012");
    /* Same (only) connection, next query fine. */
    assert_int_equal(send_int(f, 0, 5, 1), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 2, 5000));
    assert_int_equal(f->kinds[1], DRV_OK);
    assert_string_equal(f->first_val, "2");
    fx_free(f);
}

static void test_pipeline_error(void **state)
{
    const char *sql[] = {"SELECT 10 / $1::int"};
    const int np[] = {1};
    drv_pg_opts o = {.conninfo = dsn(), .pool = 1, .pipeline = 16};
    const int divisors[] = {1, 0, 2, 5, 10};
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 1);
    /* One batch (same loop turn): ok, error, then the rest of the batch aborted. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(send_int(f, 0, divisors[i], i), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 5, 5000));
    assert_int_equal(f->kinds[0], DRV_OK);
    assert_int_equal(f->kinds[1], DRV_ESQL);
    assert_string_equal(f->sqlstate[1], "22012");
    for (int i = 2; i < 5; i++) {
        assert_int_equal(f->seq[i], i);
        assert_int_equal(f->kinds[i], DRV_EABORTED);
    }
    /* The next batch works. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_int(f, 0, 2, 10 + i), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 8, 5000));
    for (int i = 5; i < 8; i++)
        assert_int_equal(f->kinds[i], DRV_OK);
    assert_string_equal(f->first_val, "5");
    fx_free(f);
}

static void test_timeout(void **state)
{
    const char *sql[] = {"SELECT pg_sleep($1::float8)", "SELECT $1::int"};
    const int np[] = {1, 1};
    drv_pg_opts o = {
        .conninfo = dsn(), .pool = 2, .timeout_ns = 200 * MS, .backoff_min_ns = 20 * MS};
    drv_pg_stats st;
    fx *f;
    (void)state;
    f = fx_new(&o, sql, np, 2);
    assert_int_equal(send_int(f, 0, 2, 0), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 1, 3000));
    assert_int_equal(f->kinds[0], DRV_ETIMEOUT);
    assert_true(f->elapsed[0] >= 200 * MS);
    assert_true(f->elapsed[0] <= 400 * MS);
    /* The pool recovers: the dropped connection comes back, queries succeed. */
    uint64_t end = uv_hrtime() + 5000 * MS;
    do {
        run_for(&f->loop, 20);
        drv_pg_stats_get(f->c, &st);
    } while (st.up < 2 && uv_hrtime() < end);
    assert_int_equal(st.up, 2);
    assert_int_equal(st.reconnects, 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(send_int(f, 1, 7, 1 + i), 0);
    assert_true(run_until_ge(&f->loop, &f->done, 3, 5000));
    assert_int_equal(f->counts[DRV_OK], 2);
    fx_free(f);
}

/* The server ends the session (pg_terminate_backend from a second pool) with a
 * query pending: it completes with DRV_ERESET and the pool reconnects. */
static void test_terminated_backend(void **state)
{
    const char *vsql[] = {"SELECT pg_sleep($1::float8)", "SELECT $1::int"};
    const int vnp[] = {1, 1};
    const char *ksql[] = {"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE application_name = $1"};
    const int knp[] = {1};
    char ci[1024], app[64];
    drv_pg_opts vo = {.pool = 1, .backoff_min_ns = 20 * MS};
    drv_pg_opts ko = {.conninfo = dsn(), .pool = 1};
    drv_pg_stats st;
    fx *v, *kf;
    const char *args[1] = {app};
    (void)state;
    snprintf(app, sizeof app, "cut-rp-victim-%d", (int)getpid());
    snprintf(ci, sizeof ci, "%s?application_name=%s", dsn(), app);
    vo.conninfo = ci;
    v = fx_new(&vo, vsql, vnp, 2);
    assert_int_equal(v->connect_status, 0);
    kf = fx_new(&ko, ksql, knp, 1);
    assert_int_equal(kf->connect_status, 0);
    assert_int_equal(send_int(v, 0, 5, 0), 0);
    run_for(&v->loop, 100); /* the sleep is running on the server */
    cur = kf;
    assert_int_equal(drv_pg_send(kf->c, 0, 1, args, NULL, on_seq, NULL), 0);
    assert_true(run_until_ge(&kf->loop, &kf->done, 1, 5000));
    assert_int_equal(kf->kinds[0], DRV_OK);
    assert_string_equal(kf->first_val, "1");
    cur = v; /* on_seq records into cur */
    assert_true(run_until_ge(&v->loop, &v->done, 1, 3000));
    assert_int_equal(v->kinds[0], DRV_ERESET);
    uint64_t end = uv_hrtime() + 5000 * MS;
    do {
        run_for(&v->loop, 20);
        drv_pg_stats_get(v->c, &st);
    } while (st.up < 1 && uv_hrtime() < end);
    assert_int_equal(st.up, 1);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(send_int(v, 1, 3, 1), 0); /* statements were prepared again */
    assert_true(run_until_ge(&v->loop, &v->done, 2, 5000));
    assert_int_equal(v->kinds[1], DRV_OK);
    assert_string_equal(v->first_val, "3");
    fx_free(kf);
    fx_free(v);
}

static void test_bad_password(void **state)
{
    char user[256], pass[256], rest[256], bad[800];
    drv_pg_opts o = {.pool = 2};
    fx *f;
    (void)state;
    dsn_parts(user, sizeof user, pass, sizeof pass, rest, sizeof rest);
    snprintf(bad, sizeof bad, "%s:%s%s", user, "Wr0ng-pw-5521", rest);
    o.conninfo = bad;
    f = fx_new(&o, NULL, NULL, 0);
    assert_int_equal(f->connect_status, CUT_ECONNECT);
    assert_non_null(strstr(f->connect_msg, "password authentication failed"));
    assert_non_null(strstr(f->connect_msg, "pg 127.0.0.1:"));
    assert_null(strstr(f->connect_msg, "Wr0ng-pw-5521"));
    assert_null(strstr(f->connect_msg, pass));
    fx_free(f);
}

static void test_unreachable(void **state)
{
    char ci[128], hp[64];
    int port = free_port();
    drv_pg_opts o = {.pool = 2};
    fx *f;
    (void)state;
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=x password=pw-zz9 dbname=x", port);
    snprintf(hp, sizeof hp, "pg 127.0.0.1:%d: ", port);
    o.conninfo = ci;
    f = fx_new(&o, NULL, NULL, 0);
    assert_int_equal(f->connect_status, CUT_ECONNECT);
    assert_non_null(strstr(f->connect_msg, hp));
    assert_non_null(strstr(f->connect_msg, "refused"));
    assert_null(strstr(f->connect_msg, "pw-zz9"));
    assert_int_equal(send_int(f, 0, 1, 0), CUT_EINVAL); /* no such statement */
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepared_params),    cmocka_unit_test(test_5000_over_8),
        cmocka_unit_test(test_pool_full),          cmocka_unit_test(test_pipeline_order),
        cmocka_unit_test(test_pipeline_load),      cmocka_unit_test(test_sql_error),
        cmocka_unit_test(test_pipeline_error),     cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_terminated_backend), cmocka_unit_test(test_bad_password),
        cmocka_unit_test(test_unreachable),
    };
    if (tb_env_load() != 0) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
