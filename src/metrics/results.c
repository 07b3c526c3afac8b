#include "metrics/results.h"

#include <stdlib.h>
#include <string.h>

uint32_t res_row_seconds(int64_t duration_ns)
{
    uint64_t secs = duration_ns > 0 ? ((uint64_t)duration_ns + 999999999u) / 1000000000u : 1;
    uint64_t rs = (secs + RES_SERIES_TARGET_ROWS - 1) / RES_SERIES_TARGET_ROWS;
    return rs ? (uint32_t)rs : 1;
}

uint64_t res_row_of(const res_phase *p, uint64_t t_ns)
{
    return t_ns / ((uint64_t)p->row_seconds * 1000000000u);
}

int res_phase_init(res_phase *p, const char *name, int executor, bool recorded, size_t nsteps,
                   uint32_t row_seconds, cut_err *err)
{
    memset(p, 0, sizeof *p);
    p->row_seconds = row_seconds ? row_seconds : 1;
    p->name = name;
    p->executor = executor;
    p->recorded = recorded;
    p->nsteps = nsteps + 1;
    p->used = calloc(p->nsteps, sizeof *p->used);
    p->steps = calloc(p->nsteps, sizeof *p->steps);
    if (!p->used || !p->steps) goto fail;
    if (hist_new_default(&p->lateness, err) < 0) goto fail;
    return 0;
fail:
    res_phase_free(p);
    return cut_err_set(err, CUT_ENOMEM, "out of memory for phase results");
}

void res_phase_free(res_phase *p)
{
    if (p->steps)
        for (size_t i = 0; i < p->nsteps; i++)
            if (p->used[i]) stats_step_free(&p->steps[i]);
    free(p->steps);
    free(p->used);
    free(p->series);
    hist_free(p->lateness);
    json_decref(p->server);
    memset(p, 0, sizeof *p);
}

stats_step *res_phase_step(res_phase *p, size_t i)
{
    if (i >= p->nsteps) return NULL;
    if (!p->used[i]) {
        if (stats_step_init(&p->steps[i], NULL) < 0) return NULL;
        p->used[i] = true;
    }
    return &p->steps[i];
}

res_second *res_phase_row(res_phase *p, uint64_t row)
{
    if (row >= RES_SERIES_ROWS) return NULL;
    size_t s = (size_t)row;
    if (s >= p->nseconds) {
        if (s >= p->series_cap) {
            size_t cap = p->series_cap ? p->series_cap * 2 : 64;
            while (cap <= s)
                cap *= 2;
            res_second *n = realloc(p->series, cap * sizeof *n);
            if (!n) return NULL;
            p->series = n;
            p->series_cap = cap;
        }
        memset(p->series + p->nseconds, 0, (s + 1 - p->nseconds) * sizeof *p->series);
        p->nseconds = s + 1;
    }
    return &p->series[s];
}

res_second *res_phase_second(res_phase *p, uint64_t t_ns)
{
    return res_phase_row(p, res_row_of(p, t_ns));
}

int res_phase_merge(res_phase *dst, const res_phase *src, cut_err *err)
{
    for (size_t i = 0; i < src->nsteps && i < dst->nsteps; i++) {
        if (!src->used[i]) continue;
        stats_step *d = res_phase_step(dst, i);
        if (!d) return cut_err_set(err, CUT_ENOMEM, "out of memory merging results");
        int rc = stats_step_merge(d, &src->steps[i], err);
        if (rc < 0) return rc;
    }
    int rc = hist_merge(dst->lateness, src->lateness, err);
    if (rc < 0) return rc;
    if (src->nseconds && !res_phase_row(dst, src->nseconds - 1))
        return cut_err_set(err, CUT_ENOMEM, "out of memory merging series");
    for (size_t s = 0; s < src->nseconds; s++) {
        res_second *d = &dst->series[s];
        const res_second *x = &src->series[s];
        d->started += x->started;
        d->completed += x->completed;
        d->errors += x->errors;
        d->dropped += x->dropped;
        d->hits += x->hits;
        d->misses += x->misses;
        d->in_flight += x->in_flight;
    }
    dst->interrupted |= src->interrupted;
    if (!dst->start_unix_ns || (src->start_unix_ns && src->start_unix_ns < dst->start_unix_ns))
        dst->start_unix_ns = src->start_unix_ns;
    if (src->end_unix_ns > dst->end_unix_ns) dst->end_unix_ns = src->end_unix_ns;
    if (src->elapsed_ns > dst->elapsed_ns) dst->elapsed_ns = src->elapsed_ns;
    return 0;
}

void res_phase_totals(const res_phase *p, stats_step *t)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        if (!p->used[i]) continue;
        const stats_step *s = &p->steps[i];
        t->started += s->started;
        t->completed += s->completed;
        t->dropped += s->dropped;
        t->dropped_lag += s->dropped_lag;
        t->errors += s->errors;
        for (int k = 0; k < DRV_KIND_COUNT; k++)
            t->by_kind[k] += s->by_kind[k];
        for (int c = 0; c < STATS_NCACHE; c++)
            t->cache[c] += s->cache[c];
        for (int c = 0; c < STATS_STATUS_MAX; c++)
            t->status[c] += s->status[c];
        t->ratelimited += s->ratelimited;
        t->breaker_rejections += s->breaker_rejections;
        t->bytes_in += s->bytes_in;
        for (int k = 0; k < DRV_KIND_COUNT; k++)
            for (int e = 0; e < s->nexamples[k] && t->nexamples[k] < STATS_EXAMPLES; e++)
                t->examples[k][t->nexamples[k]++] = s->examples[k][e];
        t->body_truncated += s->body_truncated;
    }
}

int res_run_init(res_run *r, size_t nphases, cut_err *err)
{
    memset(r, 0, sizeof *r);
    r->phases = calloc(nphases ? nphases : 1, sizeof *r->phases);
    if (!r->phases) return cut_err_set(err, CUT_ENOMEM, "out of memory for run results");
    r->nphases = nphases;
    return 0;
}

void res_run_free(res_run *r)
{
    if (r->phases)
        for (size_t i = 0; i < r->nphases; i++)
            if (r->phases[i].used) res_phase_free(&r->phases[i]);
    free(r->phases);
    json_decref(r->breakers);
    memset(r, 0, sizeof *r);
}
