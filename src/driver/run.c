/* run.c - the coordinator: worker threads, phase sequencing, signals and progress.
 *
 * The coordinator's loop waits for workers' acknowledgements (uv_async), handles SIGINT
 * and SIGTERM (uv_signal) and prints progress (uv_timer). Phases never overlap: every
 * worker acknowledges the end of phase k before any starts phase k+1, and the coordinator
 * merges the workers' phase results in between, while they are idle. */
#include "driver/run.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/breaker_poll.h"
#include "metrics/server_stats.h"
#include "driver/progress.h"
#include "driver/worker.h"

typedef enum run_state {
    ST_PREFLIGHT,
    ST_PHASE,
    ST_DONE,
} run_state;

typedef struct coord {
    drv_run r;
    res_run *out;
    run_state state;
    int result; /* DRV_RUN_* */
    cut_err *err;
    uv_signal_t sigint, sigterm;
    uv_timer_t progress_timer;
    drv_progress progress;
    bool closing;
    bpoll *breakers;  /* polling the breakers' status endpoint, when the scenario has one */
    srv_sampler *srv; /* the servers' own counters, sampled around each load phase */
    srv_sample srv_start;
} coord;

unsigned drv_cores_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static int64_t unix_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void broadcast(coord *c, wk_cmd cmd, unsigned nthreads)
{
    pthread_mutex_lock(&c->r.mu);
    c->r.acks = c->r.nthreads - nthreads; /* threads not asked count as done */
    pthread_mutex_unlock(&c->r.mu);
    for (unsigned i = 0; i < nthreads; i++)
        wk_command(&c->r.threads[i], cmd);
}

static void close_cb_noop(uv_handle_t *h)
{
    (void)h;
}

static void coord_shutdown(coord *c)
{
    if (c->closing) return;
    c->closing = true;
    c->state = ST_DONE;
    drv_progress_end(&c->progress);
    srv_close(c->srv);
    c->srv = NULL;
    if (c->breakers) {
        bpoll_stop(c->breakers, unix_now_ns() / 1000000, &c->out->breakers);
        c->breakers = NULL;
    }
    uv_close((uv_handle_t *)&c->sigint, close_cb_noop);
    uv_close((uv_handle_t *)&c->sigterm, close_cb_noop);
    uv_close((uv_handle_t *)&c->progress_timer, close_cb_noop);
    uv_close((uv_handle_t *)&c->r.notify, close_cb_noop);
}

/* Worker thread i's failure message, if any (first failing thread wins). */
static bool first_failure(coord *c, cut_err *err)
{
    for (unsigned i = 0; i < c->r.nthreads; i++) {
        wk_thread *w = &c->r.threads[i];
        if (w->fail_code < 0) {
            cut_err_set(err, w->fail_code, "%s", w->fail_msg);
            return true;
        }
    }
    return false;
}

static int merge_phase(coord *c, size_t k)
{
    const scn_phase *ph = &c->r.s->phases[k];
    res_phase *dst = &c->out->phases[k];
    int rc = res_phase_init(dst, ph->name, (int)ph->executor, ph->record, c->r.s->nsteps,
                            res_row_seconds(ph->duration_ns), c->err);
    if (rc < 0) return rc;
    for (unsigned i = 0; i < c->r.nthreads; i++) {
        wk_thread *w = &c->r.threads[i];
        if (!w->in_phase) continue;
        rc = res_phase_merge(dst, &w->phase.res, c->err);
        res_phase_free(&w->phase.res);
        w->in_phase = false;
        if (rc < 0) return rc;
    }
    return 0;
}

/* A purge action (named or tagged "purge") makes every cache key cold again. */
static bool is_purge(const scn_phase *ph)
{
    if (strcmp(ph->name, "purge") == 0) return true;
    for (size_t i = 0; i < ph->ntags; i++)
        if (strcmp(ph->tags[i], "purge") == 0) return true;
    return false;
}

/* Copies the exact per-second percentiles into the merged series. */
static void attach_seconds(coord *c, res_phase *p)
{
    sring_flush(c->r.seconds);
    size_t n = sring_seconds(c->r.seconds);
    for (size_t t = 0; t < n; t++) {
        const sring_second *x = sring_get(c->r.seconds, t);
        res_second *row = res_phase_row(p, t);
        if (!x || !row) continue;
        row->p50_us = x->p50;
        row->p95_us = x->p95;
        row->p99_us = x->p99;
        row->max_us = x->max;
    }
}

static void start_phase(coord *c)
{
    const scn_scenario *s = c->r.s;
    while (c->r.phase_idx < s->nphases) {
        const scn_phase *ph = &s->phases[c->r.phase_idx];
        drv_progress_phase(&c->progress, ph, c->r.phase_idx, s->nphases);
        if (ph->executor != SCN_EXEC_ACTION) {
            srv_take(c->srv, &c->srv_start);
            sring_reset(c->r.seconds);
        } else if (c->r.cold_keys && is_purge(ph)) {
            kset_clear(c->r.cold_keys); /* every key is cold again */
        }
        c->state = ST_PHASE;
        broadcast(c, WK_PHASE, ph->executor == SCN_EXEC_ACTION ? 1 : c->r.nthreads);
        return;
    }
    c->result = DRV_RUN_OK;
    coord_shutdown(c);
}

static void on_notify(uv_async_t *h)
{
    coord *c = h->data;
    pthread_mutex_lock(&c->r.mu);
    bool all = c->r.acks >= c->r.nthreads;
    pthread_mutex_unlock(&c->r.mu);
    if (!all || c->state == ST_DONE) return;

    if (c->state == ST_PREFLIGHT) {
        if (first_failure(c, c->err)) {
            c->result = DRV_RUN_PREFLIGHT;
            coord_shutdown(c);
            return;
        }
        c->out->start_unix_ns = unix_now_ns();
        if (srv_open(c->r.s, &c->srv, c->err) < 0) {
            c->result = DRV_RUN_PREFLIGHT;
            coord_shutdown(c);
            return;
        }
        const brk_config *bc = c->r.opts.breakers;
        if (bc && bc->url &&
            bpoll_start(&c->r.loop, c->r.s, bc, c->out->start_unix_ns / 1000000, &c->breakers,
                        c->err) < 0) {
            c->result = DRV_RUN_PREFLIGHT;
            coord_shutdown(c);
            return;
        }
        start_phase(c);
        return;
    }
    /* A phase ended on every thread that ran it. */
    size_t k = c->r.phase_idx;
    if (merge_phase(c, k) < 0) {
        c->result = c->err->code;
        coord_shutdown(c);
        return;
    }
    c->out->nphases = k + 1;
    if (c->r.s->phases[k].executor != SCN_EXEC_ACTION) attach_seconds(c, &c->out->phases[k]);
    if (c->srv && c->r.s->phases[k].executor != SCN_EXEC_ACTION) {
        srv_sample end;
        srv_take(c->srv, &end);
        stats_step tot;
        memset(&tot, 0, sizeof tot);
        res_phase_totals(&c->out->phases[k], &tot);
        c->out->phases[k].server = srv_phase_json(c->srv, &c->srv_start, &end, tot.completed);
    }
    int sig = atomic_load(&c->r.stop_signal);
    if (first_failure(c, c->err)) {
        /* A failed action: the run cannot go on (exit 3). */
        size_t n = strnlen(c->err->msg, sizeof c->out->stop_reason - 1);
        memcpy(c->out->stop_reason, c->err->msg, n);
        c->out->stop_reason[n] = '\0';
        c->out->interrupted = true;
        c->result = DRV_RUN_PREFLIGHT;
        coord_shutdown(c);
        return;
    }
    if (sig == 0 && c->r.opts.phase_done) {
        char reason[sizeof c->out->stop_reason] = "";
        if (c->r.opts.phase_done(c->r.opts.phase_done_ud, c->out, reason, sizeof reason)) {
            c->out->interrupted = true;
            memcpy(c->out->stop_reason, reason, sizeof reason);
            c->result = DRV_RUN_ABORTED;
            coord_shutdown(c);
            return;
        }
    }
    if (sig != 0) {
        c->out->interrupted = true;
        c->out->signal = sig > 0 ? sig : 0;
        snprintf(c->out->stop_reason, sizeof c->out->stop_reason, "%s",
                 sig == SIGINT    ? "interrupted by SIGINT"
                 : sig == SIGTERM ? "interrupted by SIGTERM"
                                  : "aborted");
        c->result = DRV_RUN_INTERRUPTED;
        coord_shutdown(c);
        return;
    }
    c->r.phase_idx++;
    start_phase(c);
}

static void on_signal(uv_signal_t *h, int signum)
{
    coord *c = h->data;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&c->r.stop_signal, &expected, signum)) {
        /* Second signal: the user insists. */
        static const char msg[] = "\ncutover: second signal, exiting now without a report\n";
        ssize_t n = write(2, msg, sizeof msg - 1);
        (void)n;
        _exit(128 + signum);
    }
    if (!c->progress.quiet)
        dprintf(c->progress.fd,
                "\ncutover: %s: stopping, draining requests in flight (%.1fs grace; "
                "again to exit at once)\n",
                signum == SIGINT ? "SIGINT" : "SIGTERM", (double)c->r.opts.grace_ns / 1e9);
    if (c->state == ST_PREFLIGHT || c->state == ST_PHASE)
        for (unsigned i = 0; i < c->r.nthreads; i++)
            uv_async_send(&c->r.threads[i].wake);
}

static void on_progress(uv_timer_t *t)
{
    coord *c = t->data;
    if (c->state != ST_PHASE) return;
    drv_progress_tick(&c->progress, c->r.threads, c->r.nthreads);
}

static void *worker_main(void *arg)
{
    wk_thread *w = arg;
    /* Signals are the coordinator's: libuv delivers them to its loop whichever thread the
     * kernel picks, but keep workers out of it entirely. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Arrival timers should fire on time, not up to 50 us late (the default slack). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int compile_checks(drv_run *r, cut_err *err)
{
    const scn_scenario *s = r->s;
    r->nslots = s->nsteps + 1;
    r->check_ptrs = calloc(r->nslots, sizeof *r->check_ptrs);
    if (!r->check_ptrs) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nsteps; i++) {
        const scn_step *st = &s->steps[i];
        if (st->kind != SCN_STEP_HTTP || st->u.http.nchecks == 0) continue;
        r->check_ptrs[i] = calloc(st->u.http.nchecks, sizeof **r->check_ptrs);
        if (!r->check_ptrs[i]) return cut_err_set(err, CUT_ENOMEM, "out of memory");
        for (size_t k = 0; k < st->u.http.nchecks; k++) {
            const scn_check *ck = &st->u.http.checks[k];
            if (ck->subject != SCN_CHECK_JSON) continue;
            int rc = jptr_compile(ck->target, &r->check_ptrs[i][k], err);
            if (rc < 0) {
                cut_err_prefix(err, "step %s: check %zu: ", st->name, k);
                return rc;
            }
        }
    }
    return 0;
}

static void free_checks(drv_run *r)
{
    if (!r->check_ptrs) return;
    for (size_t i = 0; i < r->s->nsteps; i++) {
        if (!r->check_ptrs[i]) continue;
        for (size_t k = 0; k < r->s->steps[i].u.http.nchecks; k++)
            jptr_free(r->check_ptrs[i][k]);
        free(r->check_ptrs[i]);
    }
    free(r->check_ptrs);
}

int drv_run_scenario(const scn_scenario *s, const drv_run_opts *opts, res_run *out, cut_err *err)
{
    coord c;
    memset(&c, 0, sizeof c);
    c.r.s = s;
    c.r.opts = *opts;
    if (!c.r.opts.grace_ns) c.r.opts.grace_ns = 5000000000ull;
    c.r.nthreads = opts->threads ? opts->threads : drv_cores_available();
    c.out = out;
    c.err = err;
    c.result = DRV_RUN_OK;
    int rc = res_run_init(out, s->nphases, err);
    if (rc < 0) return rc;
    out->nphases = 0;
    out->scenario_name = s->name;
    out->scenario_file = s->file;
    out->threads = c.r.nthreads;

    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&c.r.mu, NULL);
    unsigned started = 0;
    bool loop_ready = false;
    if ((rc = compile_checks(&c.r, err)) < 0) goto fail;
    if ((rc = sring_new(&c.r.seconds, err)) < 0) goto fail;
    if ((rc = kset_new(&c.r.cold_keys, err)) < 0) goto fail;
    c.r.threads = calloc(c.r.nthreads, sizeof *c.r.threads);
    if (!c.r.threads) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
        goto fail;
    }
    if (uv_loop_init(&c.r.loop) != 0) {
        rc = cut_err_set(err, CUT_EIO, "cannot create the event loop");
        goto fail;
    }
    loop_ready = true;
    uv_async_init(&c.r.loop, &c.r.notify, on_notify);
    c.r.notify.data = &c;
    uv_signal_init(&c.r.loop, &c.sigint);
    uv_signal_init(&c.r.loop, &c.sigterm);
    c.sigint.data = c.sigterm.data = &c;
    uv_signal_start(&c.sigint, on_signal, SIGINT);
    uv_signal_start(&c.sigterm, on_signal, SIGTERM);
    uv_timer_init(&c.r.loop, &c.progress_timer);
    c.progress_timer.data = &c;
    drv_progress_init(&c.progress, &c.r.opts);
    uv_timer_start(&c.progress_timer, on_progress, c.progress.interval_ms, c.progress.interval_ms);

    for (unsigned i = 0; i < c.r.nthreads; i++) {
        if ((rc = wk_init(&c.r.threads[i], &c.r, i, err)) < 0) goto fail_started;
        if (pthread_create(&c.r.threads[i].tid, NULL, worker_main, &c.r.threads[i]) != 0) {
            rc = cut_err_set(err, CUT_EIO, "cannot start worker thread %u", i);
            wk_destroy(&c.r.threads[i]);
            goto fail_started;
        }
        c.r.threads[i].started = true;
        started++;
    }
    c.state = ST_PREFLIGHT;
    broadcast(&c, WK_PREFLIGHT, c.r.nthreads);
    uv_run(&c.r.loop, UV_RUN_DEFAULT);
    out->end_unix_ns = unix_now_ns();
    if (!out->start_unix_ns) out->start_unix_ns = out->end_unix_ns;
    rc = c.result;

fail_started:
    for (unsigned i = 0; i < started; i++)
        wk_command(&c.r.threads[i], WK_EXIT);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(c.r.threads[i].tid, NULL);
        wk_destroy(&c.r.threads[i]);
    }
    if (rc < 0 && c.state != ST_DONE) coord_shutdown(&c);
fail:
    if (loop_ready) {
        if (!c.closing) coord_shutdown(&c);
        uv_run(&c.r.loop, UV_RUN_DEFAULT);
        uv_loop_close(&c.r.loop);
    }
    free(c.r.threads);
    free_checks(&c.r);
    sring_free(c.r.seconds);
    kset_free(c.r.cold_keys);
    pthread_mutex_destroy(&c.r.mu);
    if (rc < 0) res_run_free(out);
    return rc;
}
