/* test_drv_redis.c - the Redis pool and adapter against real servers: the shared
 * testbed for ordinary traffic, and redis-servers of our own (free port, temp dir,
 * stopped by PID) for kill -9, CLIENT PAUSE and AUTH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/redis.h"
#include "testbed_env.h"

#define MS 1000000ULL

/* ---- helpers -------------------------------------------------------------- */

static void wake_cb(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *v >= target or ms elapsed; returns whether it got there. A
 * 5 ms wake-up timer bounds each turn so the time check runs even when idle. */
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

static int run_until(uv_loop_t *loop, const int *flag, uint64_t ms)
{
    return run_until_ge(loop, flag, 1, ms);
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

static int port_open(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

typedef struct own_redis {
    pid_t pid;
    int port;
    char dir[64];
} own_redis;

static void own_start(own_redis *s, const char *password)
{
    char port[16];
    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/cut-rd-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
    }
    if (!s->port) s->port = free_port();
    snprintf(port, sizeof port, "%d", s->port);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (password)
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
                   s->dir, "--save", "", "--appendonly", "no", "--requirepass", password,
                   (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
                   s->dir, "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(s->port); i++)
        usleep(20000);
    assert_true(port_open(s->port));
}

static void own_kill(own_redis *s, int sig)
{
    if (s->pid <= 0) return;
    kill(s->pid, sig);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static void own_cleanup(own_redis *s)
{
    char cmd[128];
    own_kill(s, SIGKILL);
    if (s->dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s->dir);
    }
}

static int testbed_redis_port(void)
{
    const char *url = tb_env("CUTOVER_REDIS_URL");
    int port = 0;
    assert_non_null(url);
    assert_int_equal(sscanf(url, "redis://127.0.0.1:%d", &port), 1);
    return port;
}

/* One pool plus the bookkeeping the callbacks fill in. */
typedef struct fx {
    uv_loop_t loop;
    drv_redis *c;
    int connected, connect_status;
    char connect_msg[CUT_ERR_MSG_MAX];
    int closed;
    int done;
    int counts[DRV_KIND_COUNT];
    char last[256];
    uint64_t last_elapsed;
    uint64_t timeout_elapsed; /* of the last DRV_ETIMEOUT */
} fx;

static void on_connected(drv_redis *c, int status, const cut_err *err, void *ud)
{
    fx *f = ud;
    (void)c;
    f->connected = 1;
    f->connect_status = status;
    snprintf(f->connect_msg, sizeof f->connect_msg, "%s", err ? err->msg : "");
}

static void on_closed(drv_redis *c, void *ud)
{
    (void)c;
    ((fx *)ud)->closed = 1;
}

static void fx_open(fx *f, drv_redis_opts *o)
{
    cut_err e = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(drv_redis_new(&f->loop, o, &f->c, &e), 0);
    assert_int_equal(drv_redis_connect(f->c, on_connected, f, &e), 0);
    assert_int_equal(f->connected, 0); /* never from inside the call */
    assert_true(run_until(&f->loop, &f->connected, 10000));
}

static void fx_close(fx *f)
{
    assert_int_equal(drv_redis_close(f->c, on_closed, f), 0);
    assert_true(run_until(&f->loop, &f->closed, 5000));
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* every handle is gone */
}

static void on_count(drv_redis *c, const drv_redis_resp *r, void *ud)
{
    fx *f = ud;
    (void)c;
    f->counts[r->kind]++;
    snprintf(f->last, sizeof f->last, "%s", r->reply && r->reply->str ? r->reply->str : r->errmsg);
    f->last_elapsed = r->t_done_ns - r->t_start_ns;
    if (r->kind == DRV_ETIMEOUT) f->timeout_elapsed = f->last_elapsed;
    assert_true(r->t_done_ns >= r->t_start_ns);
    if (r->kind == DRV_OK || r->kind == DRV_EREDIS)
        assert_non_null(r->reply);
    else
        assert_null(r->reply);
    f->done++;
}

static int sendv(fx *f, int argc, const char *const *argv)
{
    char buf[256];
    size_t n = drv_redis_format(buf, sizeof buf, argc, argv, NULL);
    assert_true(n <= sizeof buf);
    return drv_redis_send(f->c, buf, n, on_count, f);
}

/* Sends and waits for that one reply; returns its kind. */
static drv_kind cmd1(fx *f, int argc, const char *const *argv)
{
    int want = f->done + 1;
    int snapshot[DRV_KIND_COUNT];
    memcpy(snapshot, f->counts, sizeof snapshot);
    assert_int_equal(sendv(f, argc, argv), 0);
    assert_int_equal(f->done, want - 1); /* not from inside send */
    assert_true(run_until_ge(&f->loop, &f->done, want, 5000));
    for (int k = 0; k < DRV_KIND_COUNT; k++)
        if (f->counts[k] != snapshot[k]) return (drv_kind)k;
    return DRV_KIND_COUNT;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_set_get(void **state)
{
    fx f;
    drv_redis_opts o = {.port = testbed_redis_port(), .pool = 2};
    char val[64];
    (void)state;
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, 0);
    snprintf(val, sizeof val, "v-%d", (int)getpid());
    const char *set[] = {"SET", "cut:rp:k1", val};
    const char *get[] = {"GET", "cut:rp:k1"};
    assert_int_equal(cmd1(&f, 3, set), DRV_OK);
    assert_string_equal(f.last, "OK");
    assert_int_equal(cmd1(&f, 2, get), DRV_OK);
    assert_string_equal(f.last, val);
    fx_close(&f);
}

/* 10,000 GETs through 8 connections, at most 400 in flight (callbacks refill). */
typedef struct many {
    fx f;
    int sent, total;
    char cmd[64];
    size_t len;
} many;

static void on_many(drv_redis *c, const drv_redis_resp *r, void *ud)
{
    many *m = ud;
    m->f.counts[r->kind]++;
    m->f.done++;
    if (r->kind == DRV_OK) assert_int_equal(r->reply->type, REDIS_REPLY_STRING);
    if (m->sent < m->total) {
        assert_int_equal(drv_redis_send(c, m->cmd, m->len, on_many, m), 0);
        m->sent++;
    }
}

static void test_10k_gets(void **state)
{
    static many m;
    drv_redis_opts o = {.port = testbed_redis_port(), .pool = 8, .timeout_ns = 5000 * MS};
    const char *set[] = {"SET", "cut:rp:many", "hello"};
    const char *get[] = {"GET", "cut:rp:many"};
    drv_redis_stats st;
    (void)state;
    fx_open(&m.f, &o);
    assert_int_equal(m.f.connect_status, 0);
    assert_int_equal(cmd1(&m.f, 3, set), DRV_OK);
    memset(m.f.counts, 0, sizeof m.f.counts);
    m.f.done = 0;
    m.total = 10000;
    m.len = drv_redis_format(m.cmd, sizeof m.cmd, 2, get, NULL);
    for (m.sent = 0; m.sent < 400; m.sent++)
        assert_int_equal(drv_redis_send(m.f.c, m.cmd, m.len, on_many, &m), 0);
    run_until_ge(&m.f.loop, &m.f.done, m.total, 20000);
    assert_int_equal(m.f.done, 10000);
    assert_int_equal(m.f.counts[DRV_OK], 10000);
    drv_redis_stats_get(m.f.c, &st);
    assert_int_equal(st.sent, 10001);
    assert_int_equal(st.completed, 10001);
    assert_int_equal(st.up, 8);
    fx_close(&m.f);
}

static void test_error_reply(void **state)
{
    fx f;
    drv_redis_opts o = {.port = testbed_redis_port(), .pool = 1};
    const char *set[] = {"SET", "cut:rp:notint", "abc"};
    const char *incr[] = {"INCR", "cut:rp:notint"};
    const char *ping[] = {"PING"};
    (void)state;
    fx_open(&f, &o);
    assert_int_equal(cmd1(&f, 3, set), DRV_OK);
    assert_int_equal(cmd1(&f, 2, incr), DRV_EREDIS);
    assert_non_null(strstr(f.last, "not an integer"));
    assert_int_equal(cmd1(&f, 1, ping), DRV_OK); /* the connection is still fine */
    assert_string_equal(f.last, "PONG");
    fx_close(&f);
}

static void test_refused(void **state)
{
    fx f;
    int port = free_port();
    drv_redis_opts o = {.port = port, .pool = 3};
    char hp[64];
    const char *ping[] = {"PING"};
    (void)state;
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, CUT_ECONNECT);
    snprintf(hp, sizeof hp, "redis 127.0.0.1:%d: ", port);
    assert_non_null(strstr(f.connect_msg, hp));
    assert_non_null(strstr(f.connect_msg, "connection refused"));
    assert_int_equal(sendv(&f, 1, ping), CUT_ESTATE); /* failed pool: no callback */
    fx_close(&f);
}

static void test_wrong_password(void **state)
{
    own_redis s = {0};
    fx f;
    drv_redis_opts o = {.pool = 2, .password = "not-the-pw-417"};
    (void)state;
    own_start(&s, "right-pw-9c1");
    o.port = s.port;
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, CUT_ECONNECT);
    assert_non_null(strstr(f.connect_msg, "AUTH failed"));
    assert_null(strstr(f.connect_msg, "not-the-pw-417"));
    fx_close(&f);
    o.password = "right-pw-9c1";
    o.db = 3;
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, 0);
    fx_close(&f);
    own_cleanup(&s);
}

static void kill_cb(uv_timer_t *t)
{
    own_redis *s = t->data;
    own_kill(s, SIGKILL);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_kill_and_restart(void **state)
{
    own_redis s = {0};
    fx f;
    drv_redis_opts o = {.pool = 2, .backoff_min_ns = 50 * MS, .backoff_max_ns = 200 * MS};
    const char *blpop[] = {"BLPOP", "cut:rp:never", "0"};
    const char *ping[] = {"PING"};
    uv_timer_t killer;
    drv_redis_stats st;
    (void)state;
    own_start(&s, NULL);
    o.port = s.port;
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, 0);
    /* 20 commands that never answer, then kill -9 the server from the loop. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(sendv(&f, 3, blpop), 0);
    uv_timer_init(&f.loop, &killer);
    killer.data = &s;
    uv_timer_start(&killer, kill_cb, 100, 0);
    run_until_ge(&f.loop, &f.done, 20, 5000);
    assert_int_equal(f.done, 20);
    assert_int_equal(f.counts[DRV_ERESET] + f.counts[DRV_ECONNECT], 20);
    /* While it is down, sends complete asynchronously with DRV_ECONNECT. */
    assert_int_equal(cmd1(&f, 1, ping), DRV_ECONNECT);
    /* Same port again: the pool reconnects by itself. */
    own_start(&s, NULL);
    int ok = 0;
    uint64_t end = uv_hrtime() + 10000 * MS;
    while (!ok && uv_hrtime() < end) {
        ok = cmd1(&f, 1, ping) == DRV_OK;
        if (!ok) run_for(&f.loop, 50);
    }
    assert_true(ok);
    assert_string_equal(f.last, "PONG");
    end = uv_hrtime() + 5000 * MS;
    do {
        run_for(&f.loop, 20);
        drv_redis_stats_get(f.c, &st);
    } while (st.up < 2 && uv_hrtime() < end);
    assert_int_equal(st.up, 2);
    assert_true(st.reconnects >= 2);
    fx_close(&f);
    own_cleanup(&s);
}

static void test_timeout_client_pause(void **state)
{
    own_redis s = {0};
    fx f, pauser;
    drv_redis_opts o = {.pool = 1, .timeout_ns = 200 * MS, .backoff_min_ns = 20 * MS};
    const char *pause[] = {"CLIENT", "PAUSE", "1000"};
    const char *get[] = {"GET", "cut:rp:paused"};
    (void)state;
    own_start(&s, NULL);
    o.port = s.port;
    drv_redis_opts po = {.port = s.port, .pool = 1};
    fx_open(&pauser, &po);
    fx_open(&f, &o);
    assert_int_equal(f.connect_status, 0);
    assert_int_equal(cmd1(&pauser, 3, pause), DRV_OK);
    /* Three commands on the one connection: the oldest times out, the rest are cut. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendv(&f, 2, get), 0);
    run_until_ge(&f.loop, &f.done, 3, 3000);
    assert_int_equal(f.done, 3);
    assert_int_equal(f.counts[DRV_ETIMEOUT], 1);
    assert_int_equal(f.counts[DRV_EABORTED], 2);
    assert_true(f.timeout_elapsed >= 200 * MS);
    assert_true(f.timeout_elapsed <= 400 * MS);
    /* After the pause the pool is back. */
    int ok = 0;
    uint64_t end = uv_hrtime() + 5000 * MS;
    while (!ok && uv_hrtime() < end) {
        ok = cmd1(&f, 2, get) == DRV_OK;
        if (!ok) run_for(&f.loop, 50);
    }
    assert_true(ok);
    fx_close(&f);
    fx_close(&pauser);
    own_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_10k_gets),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_kill_and_restart),
        cmocka_unit_test(test_timeout_client_pause),
    };
    signal(SIGPIPE, SIG_IGN);
    if (tb_env_load() != 0) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
