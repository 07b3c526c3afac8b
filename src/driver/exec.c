/* exec.c - the executors on one worker: when iterations start and when a phase ends.
 *
 *   open model (constant/ramping-arrival-rate): a timer issues every arrival that is due
 *     (sched.h gives this thread's exact share); an arrival that finds max_in_flight reached,
 *     or is later than max_lag, is dropped and counted, never delayed (SCENARIO.md 2);
 *   closed model (constant/ramping-vus): lanes (virtual users) iterate back to back with
 *     think time; a timer follows the VU target;
 *   iterations: lanes walk this thread's share of the items (`over` combinations x
 *     iterations), `concurrency` at once;
 *   action: one request on thread 0.
 *
 * A phase ends when nothing may start any more (schedule exhausted, duration reached,
 * max_requests reached, data used up, or a stop request) and nothing is in flight; its
 * timers are closed and the worker acknowledges. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/worker.h"

static void lane_next(wk_lane *l);

static int64_t unix_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t pos_slot(wk_thread *w, uint32_t pos)
{
    const scn_phase *ph = w->phase.ph;
    if (ph->executor == SCN_EXEC_ACTION) return (uint32_t)w->run->s->nsteps;
    return ph->steps[pos].step;
}

void exec_drop(wk_thread *w, uint32_t slot, bool lag)
{
    wk_phase *p = &w->phase;
    size_t n = w->run->s->nsteps;
    stats_step *st = &p->res.steps[slot < n ? slot : n];
    st->dropped++;
    if (lag) st->dropped_lag++;
    res_second *sec = res_phase_second(&p->res, uv_hrtime() - p->t0);
    if (sec) sec->dropped++;
    atomic_fetch_add_explicit(&w->p_dropped, 1, memory_order_relaxed);
}

static bool bound_reached(const wk_phase *p)
{
    return p->iter_started >= p->max_iter;
}

/* ---- ending a phase ----------------------------------------------------------------------- */

static void phase_free(wk_phase *p)
{
    for (uint32_t i = 0; i < p->nreqs; i++)
        req_free(&p->reqs[i]);
    free(p->reqs);
    free(p->lanes);
    free(p->over_rows);
    sched_arrivals_free(p->arr);
    sched_vus_free(p->vus);
    hist_free(p->sec_hist);
    p->reqs = NULL;
    p->lanes = NULL;
    p->over_rows = NULL;
    p->arr = NULL;
    p->vus = NULL;
    p->sec_hist = NULL;
}

static void on_handle_closed(uv_handle_t *h)
{
    wk_thread *w = h->data;
    wk_phase *p = &w->phase;
    if (--p->open_handles > 0) return;
    uint64_t now = uv_hrtime();
    req_second_over(w); /* the last, partial second */
    p->res.elapsed_ns = now - p->t0;
    p->res.end_unix_ns = unix_now_ns();
    p->res.interrupted = p->stop_requested;
    phase_free(p);
    wk_ack(w);
}

static void maybe_finish(wk_thread *w)
{
    wk_phase *p = &w->phase;
    if (!p->stopping || p->in_flight > 0 || p->lanes_busy > 0 || p->finished) return;
    p->finished = true;
    if (p->arrival_open) {
        p->arrival.data = w;
        hrt_close(&p->arrival, on_handle_closed);
    }
    uv_close((uv_handle_t *)&p->tick, on_handle_closed);
    uv_close((uv_handle_t *)&p->grace, on_handle_closed);
    for (uint32_t i = 0; i < p->nlanes; i++) {
        p->lanes[i].think.data = w; /* on_handle_closed counts per worker */
        uv_close((uv_handle_t *)&p->lanes[i].think, on_handle_closed);
    }
}

static void lane_idle(wk_lane *l)
{
    wk_phase *p = &l->w->phase;
    if (l->busy) {
        l->busy = false;
        p->lanes_busy--;
    }
    l->thinking = false;
}

/* No new iteration from now on; lanes waiting out their think time stop now. */
static void set_stopping(wk_thread *w)
{
    wk_phase *p = &w->phase;
    p->stopping = true;
    uv_timer_stop(&p->tick);
    if (p->arrival_open) hrt_stop(&p->arrival);
    for (uint32_t i = 0; i < p->nlanes; i++) {
        wk_lane *l = &p->lanes[i];
        if (l->thinking) {
            uv_timer_stop(&l->think);
            lane_idle(l);
        }
    }
}

static void on_grace(uv_timer_t *t)
{
    wk_thread *w = t->data;
    /* Requests still in flight after the grace period are cut: closing the clients completes
     * them as aborted, which ends the phase. */
    wk_close_clients(w);
}

void exec_stop(wk_thread *w)
{
    wk_phase *p = &w->phase;
    if (p->stop_requested || p->finished) return;
    p->stop_requested = true;
    set_stopping(w);
    req_drop_waiting(w);
    if (p->in_flight > 0)
        uv_timer_start(&p->grace, on_grace, (w->run->opts.grace_ns + 999999) / 1000000, 0);
    maybe_finish(w);
}

/* ---- iterations ending ------------------------------------------------------------------- */

static void on_think(uv_timer_t *t)
{
    wk_lane *l = t->data;
    l->thinking = false;
    lane_next(l);
}

void exec_iteration_done(wk_req *q)
{
    wk_thread *w = q->w;
    wk_phase *p = &w->phase;
    p->in_flight--;
    if (!q->lane) {
        q->next_free = p->free;
        p->free = q;
        if (p->ph->executor == SCN_EXEC_ACTION) p->stopping = true;
        maybe_finish(w);
        return;
    }
    wk_lane *l = q->lane;
    uint64_t think = (uint64_t)p->ph->think_time_ns;
    /* An iteration that failed before reaching the network ends inside lane_next; going round
     * again right there would recurse and spin, so the lane pauses for a loop turn (1 ms). */
    if (p->depth > 0 && think == 0) think = 1000000;
    if (think > 0 && !p->stopping && l->active) {
        l->thinking = true;
        uv_timer_start(&l->think, on_think, (think + 999999) / 1000000, 0);
        return;
    }
    lane_next(l);
}

/* ---- lanes (closed model and iterations) -------------------------------------------------- */

static void lane_next(wk_lane *l)
{
    wk_thread *w = l->w;
    wk_phase *p = &w->phase;
    const scn_phase *ph = p->ph;
    uint64_t now = uv_hrtime();
    if (p->t_end && now >= p->t_end) set_stopping(w);
    if (!p->stopping && bound_reached(p)) set_stopping(w);
    const uint64_t *over = NULL;
    if (!p->stopping && l->active && ph->executor == SCN_EXEC_ITERATIONS) {
        if (p->next_item >= p->part.count) {
            l->active = false;
        } else {
            uint64_t global = sched_part_index(&p->part, p->next_item++);
            scn_over_rows(w->run->s, ph, global, p->over_rows);
            over = p->over_rows;
        }
    }
    if (p->stopping || !l->active) {
        lane_idle(l);
        if (ph->executor == SCN_EXEC_ITERATIONS && p->lanes_busy == 0) set_stopping(w);
        maybe_finish(w);
        return;
    }
    if (!l->busy) {
        l->busy = true;
        p->lanes_busy++;
    }
    p->depth++;
    bool started = req_begin(l->req, now, over, req_first_pos(w));
    p->depth--;
    if (!started) {
        set_stopping(w); /* a unique data set is used up */
        lane_idle(l);
        maybe_finish(w);
    }
}

static void on_vu_tick(uv_timer_t *t)
{
    wk_thread *w = t->data;
    wk_phase *p = &w->phase;
    if (p->stopping) return;
    uint64_t now = uv_hrtime();
    int64_t rel = (int64_t)(now - p->t0);
    if (p->t_end && now >= p->t_end) {
        set_stopping(w);
        maybe_finish(w);
        return;
    }
    uint32_t target = sched_vus_target(p->vus, rel);
    for (uint32_t k = 0; k < p->nlanes; k++) {
        wk_lane *l = &p->lanes[k];
        bool want = k < target;
        if (want && !l->active) {
            l->active = true;
            if (!l->busy) lane_next(l);
        } else if (!want && l->active) {
            l->active = false; /* finishes its iteration, then idles */
            if (l->thinking) {
                uv_timer_stop(&l->think);
                lane_idle(l);
            }
        }
    }
    int64_t next = sched_vus_next_change(p->vus, rel);
    if (p->t_end) {
        int64_t end_rel = (int64_t)(p->t_end - p->t0);
        if (next == SCHED_NEVER || next > end_rel) next = end_rel;
    }
    if (next == SCHED_NEVER) {
        /* No change ahead and no end: only a max_requests bound can end this phase. */
        return;
    }
    uint64_t wait = (uint64_t)(next - rel);
    uv_timer_start(&p->tick, on_vu_tick, (wait + 999999) / 1000000, 0);
}

static void on_duration_end(uv_timer_t *t)
{
    wk_thread *w = t->data;
    set_stopping(w);
    maybe_finish(w);
}

/* ---- open model ------------------------------------------------------------------------------ */

static void on_open_tick(hrt_timer *t)
{
    wk_thread *w = t->data;
    wk_phase *p = &w->phase;
    const scn_phase *ph = p->ph;
    if (p->stopping) return;
    uint64_t now = uv_hrtime();
    int64_t rel = (int64_t)(now - p->t0);
    uint64_t due = sched_arrivals_before(p->arr, rel);
    while (p->issued < due && !p->stopping) {
        uint64_t intended = p->t0 + (uint64_t)sched_arrival_time(p->arr, p->issued);
        p->issued++;
        uint32_t pos = req_first_pos(w);
        sched_verdict v = sched_open_decide((int64_t)intended, (int64_t)now, ph->max_lag_ns,
                                            p->in_flight, p->max_in_flight);
        if (v == SCHED_SEND && p->free) {
            wk_req *q = p->free;
            p->free = q->next_free;
            if (!req_begin(q, intended, NULL, pos)) {
                q->next_free = p->free;
                p->free = q;
                set_stopping(w);
            }
        } else {
            exec_drop(w, pos_slot(w, pos), v == SCHED_DROP_LAG);
        }
    }
    if (p->stopping || p->issued >= sched_arrivals_count(p->arr) || (p->t_end && now >= p->t_end)) {
        set_stopping(w);
        maybe_finish(w);
        return;
    }
    int64_t next = sched_arrival_time(p->arr, p->issued);
    if (p->t_end && next > (int64_t)(p->t_end - p->t0)) next = (int64_t)(p->t_end - p->t0);
    hrt_start_at(&p->arrival, p->t0 + (uint64_t)next);
}

/* ---- starting a phase -------------------------------------------------------------------- */

static int setup_schedule(wk_thread *w, const scn_phase *ph, uint32_t *nreqs, uint32_t *nlanes,
                          cut_err *err)
{
    wk_phase *p = &w->phase;
    unsigned n = w->run->nthreads, i = w->index;
    int rc = 0;
    switch (ph->executor) {
    case SCN_EXEC_ACTION:
        *nreqs = 1;
        break;
    case SCN_EXEC_ITERATIONS: {
        uint32_t conc = 0;
        p->part = sched_part_items(ph->items, ph->concurrency, n, i, &conc);
        *nlanes = *nreqs = conc;
        break;
    }
    case SCN_EXEC_CONSTANT_ARRIVAL_RATE: {
        int64_t d = ph->duration_ns;
        /* Bounded by max_requests alone: long enough for all of them (sched caps the count). */
        if (d <= 0) d = (int64_t)((double)ph->max_requests / ph->rate * 1e9) + 1000000000;
        rc = sched_arrivals_new_constant(ph->rate, d, ph->max_requests, n, i, &p->arr, err);
        break;
    }
    case SCN_EXEC_RAMPING_ARRIVAL_RATE: {
        sched_rate_spec spec = {ph->start_rate, ph->rate_stages, ph->nrate_stages,
                                ph->max_requests};
        rc = sched_arrivals_new(&spec, n, i, &p->arr, err);
        break;
    }
    case SCN_EXEC_CONSTANT_VUS: {
        sched_vu_stage st = {ph->vus, ph->duration_ns > 0 ? ph->duration_ns : INT64_MAX / 2};
        rc = sched_vus_new(ph->vus, &st, 1, n, i, &p->vus, err);
        break;
    }
    case SCN_EXEC_RAMPING_VUS:
        rc = sched_vus_new(ph->start_vus, ph->vu_stages, ph->nvu_stages, n, i, &p->vus, err);
        break;
    }
    if (rc < 0) return rc;
    if (p->arr) {
        p->max_in_flight = sched_share(ph->max_in_flight, n, i);
        if (p->max_in_flight == 0) p->max_in_flight = 1;
        *nreqs = (uint32_t)(p->max_in_flight < 100000 ? p->max_in_flight : 100000);
    }
    if (p->vus) *nlanes = *nreqs = sched_vus_max(p->vus);
    return 0;
}

int exec_phase_start(wk_thread *w, const scn_phase *ph, cut_err *err)
{
    const scn_scenario *s = w->run->s;
    wk_phase *p = &w->phase;
    memset(p, 0, sizeof *p);
    p->ph = ph;
    int rc = res_phase_init(&p->res, ph->name, (int)ph->executor, ph->record, s->nsteps,
                            res_row_seconds(ph->duration_ns), err);
    if (rc < 0) return rc;
    w->in_phase = true;
    if (ph->executor == SCN_EXEC_ACTION) {
        if (!res_phase_step(&p->res, s->nsteps)) goto nomem;
    } else {
        for (size_t k = 0; k < ph->nsteps; k++)
            if (!res_phase_step(&p->res, ph->steps[k].step)) goto nomem;
    }
    if ((rc = hist_new_default(&p->sec_hist, err)) < 0) goto fail;
    atomic_store(&w->p_started, 0);
    atomic_store(&w->p_completed, 0);
    atomic_store(&w->p_errors, 0);
    atomic_store(&w->p_dropped, 0);
    atomic_store(&w->p_p95_us, 0);

    uint32_t nreqs = 0, nlanes = 0;
    if ((rc = setup_schedule(w, ph, &nreqs, &nlanes, err)) < 0) goto fail;
    p->max_iter = ph->max_requests && !p->arr
                      ? sched_share(ph->max_requests, w->run->nthreads, w->index)
                      : UINT64_MAX;
    p->reqs = calloc(nreqs ? nreqs : 1, sizeof *p->reqs);
    p->lanes = calloc(nlanes ? nlanes : 1, sizeof *p->lanes);
    p->over_rows = calloc(ph->nover ? ph->nover : 1, sizeof *p->over_rows);
    if (!p->reqs || !p->lanes || !p->over_rows) goto nomem;
    for (uint32_t k = 0; k < nreqs; k++) {
        if ((rc = req_alloc(&p->reqs[k], w, err)) < 0) goto fail;
        p->nreqs = k + 1;
        p->reqs[k].next_free = p->free;
        p->free = &p->reqs[k];
    }
    uv_timer_init(&w->loop, &p->tick);
    uv_timer_init(&w->loop, &p->grace);
    p->tick.data = p->grace.data = w;
    p->open_handles = 2;
    for (uint32_t k = 0; k < nlanes; k++) {
        wk_lane *l = &p->lanes[k];
        l->w = w;
        l->id = k;
        l->req = &p->reqs[k];
        l->req->lane = l;
        uv_timer_init(&w->loop, &l->think);
        l->think.data = l;
        p->open_handles++;
    }
    p->nlanes = nlanes;
    p->free = nlanes ? NULL : p->free; /* lanes own their records */

    p->t0 = uv_hrtime();
    p->res.start_unix_ns = unix_now_ns();
    if (ph->duration_ns > 0) p->t_end = p->t0 + (uint64_t)ph->duration_ns;
    if (atomic_load(&w->run->stop_signal) != 0) {
        exec_stop(w);
        return 0;
    }

    switch (ph->executor) {
    case SCN_EXEC_ACTION: {
        wk_req *q = p->free;
        p->free = q->next_free;
        p->stopping = true; /* one shot */
        if (!req_begin(q, p->t0, NULL, 0)) {
            q->next_free = p->free;
            p->free = q;
        }
        maybe_finish(w);
        break;
    }
    case SCN_EXEC_ITERATIONS:
        if (p->part.count == 0) {
            set_stopping(w);
            maybe_finish(w);
            break;
        }
        if (p->t_end)
            uv_timer_start(&p->tick, on_duration_end,
                           ((uint64_t)ph->duration_ns + 999999) / 1000000, 0);
        for (uint32_t k = 0; k < nlanes && !p->stopping; k++) {
            p->lanes[k].active = true;
            lane_next(&p->lanes[k]);
        }
        break;
    case SCN_EXEC_CONSTANT_ARRIVAL_RATE:
    case SCN_EXEC_RAMPING_ARRIVAL_RATE:
        if (sched_arrivals_count(p->arr) == 0) {
            set_stopping(w);
            maybe_finish(w);
            break;
        }
        p->arrival.data = w;
        if (hrt_init(&w->loop, &p->arrival, on_open_tick, err) < 0) {
            /* Reported like a failed action: the run stops with exit 3. */
            w->fail_code = CUT_EIO;
            snprintf(w->fail_msg, sizeof w->fail_msg, "phase %.100s: %.300s", ph->name,
                     err ? err->msg : "timer");
            set_stopping(w);
            maybe_finish(w);
            break;
        }
        p->arrival_open = true;
        p->open_handles++;
        hrt_start_at(&p->arrival, p->t0);
        break;
    case SCN_EXEC_CONSTANT_VUS:
    case SCN_EXEC_RAMPING_VUS:
        if (!p->t_end) p->t_end = p->t0 + (uint64_t)sched_vus_end(p->vus);
        if (p->nlanes == 0) {
            /* This thread's share of the VUs is zero for the whole phase. */
            set_stopping(w);
            maybe_finish(w);
            break;
        }
        on_vu_tick(&p->tick);
        break;
    }
    return 0;
nomem:
    rc = cut_err_set(err, CUT_ENOMEM, "out of memory starting phase %s", ph->name);
fail:
    phase_free(p);
    return rc;
}
