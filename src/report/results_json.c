#include "report/results_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"
#include "version.h"

static const char *executor_name(int e)
{
    switch ((scn_executor)e) {
    case SCN_EXEC_ACTION:
        return "action";
    case SCN_EXEC_ITERATIONS:
        return "iterations";
    case SCN_EXEC_CONSTANT_ARRIVAL_RATE:
        return "constant-arrival-rate";
    case SCN_EXEC_RAMPING_ARRIVAL_RATE:
        return "ramping-arrival-rate";
    case SCN_EXEC_CONSTANT_VUS:
        return "constant-vus";
    case SCN_EXEC_RAMPING_VUS:
        return "ramping-vus";
    }
    return "unknown";
}

static const char *step_kind_name(scn_step_kind k)
{
    return k == SCN_STEP_HTTP ? "http" : k == SCN_STEP_REDIS ? "redis" : "sql";
}

static json_t *iso_time(int64_t unix_ns)
{
    char buf[64];
    time_t t = (time_t)(unix_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)((unix_ns / 1000000) % 1000));
    return json_string(buf);
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

json_t *rpt_hist_json(const hist *h, cut_err *err)
{
    static const double ps[] = {50, 90, 95, 99, 99.9};
    static const char *const names[] = {"p50", "p90", "p95", "p99", "p999"};
    int64_t v[5];
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer(hist_count(h)));
    json_object_set_new(o, "min", json_integer(hist_min(h)));
    json_object_set_new(o, "mean", json_real(hist_mean(h)));
    if (hist_percentile_curve(h, ps, 5, v, err) == 0)
        for (int i = 0; i < 5; i++)
            json_object_set_new(o, names[i], json_integer(v[i]));
    json_object_set_new(o, "max", json_integer(hist_max(h)));
    json_object_set_new(o, "stddev", json_real(hist_stddev(h)));
    json_object_set_new(o, "clamped", json_integer(hist_clamped(h)));
    char *enc = NULL;
    if (hist_encode(h, &enc, err) == 0) {
        json_object_set_new(o, "hdr", json_string(enc));
        free(enc);
    }
    return o;
}

static json_t *latency_json(const stats_step *st, cut_err *err)
{
    json_t *lat = json_object();
    for (int c = 0; c < STATS_NCLASS; c++) {
        const hist *cor = stats_step_hist(st, (stats_class)c, STATS_CORRECTED);
        const hist *raw = stats_step_hist(st, (stats_class)c, STATS_RAW);
        if (!cor) continue;
        json_t *cls = json_object();
        json_object_set_new(cls, "corrected", rpt_hist_json(cor, err));
        if (raw) json_object_set_new(cls, "raw", rpt_hist_json(raw, err));
        json_object_set_new(lat, stats_class_name((stats_class)c), cls);
    }
    return lat;
}

/* Counters shared by steps and phase totals. */
static void counters_json(json_t *o, const stats_step *st, double seconds)
{
    json_object_set_new(o, "requests", json_integer((json_int_t)st->started));
    json_object_set_new(o, "completed", json_integer((json_int_t)st->completed));
    json_object_set_new(o, "dropped", json_integer((json_int_t)st->dropped));
    json_object_set_new(o, "dropped_late", json_integer((json_int_t)st->dropped_lag));
    json_object_set_new(o, "rps", json_real(seconds > 0 ? (double)st->completed / seconds : 0));
    json_t *errs = json_object();
    json_object_set_new(errs, "count", json_integer((json_int_t)st->errors));
    json_object_set_new(errs, "rate", json_real(ratio(st->errors, st->completed)));
    json_t *kinds = json_object();
    for (int k = 1; k < DRV_KIND_COUNT; k++)
        if (st->by_kind[k])
            json_object_set_new(kinds, drv_kind_name((drv_kind)k),
                                json_integer((json_int_t)st->by_kind[k]));
    json_object_set_new(errs, "by_kind", kinds);
    json_t *ex = json_object();
    for (int k = 1; k < DRV_KIND_COUNT; k++) {
        if (!st->nexamples[k]) continue;
        json_t *list = json_array();
        for (int i = 0; i < st->nexamples[k]; i++) {
            const stats_example *e = &st->examples[k][i];
            json_t *o = json_pack("{ss ss}", "request", e->request, "detail", e->detail);
            if (e->status) json_object_set_new(o, "status", json_integer(e->status));
            json_array_append_new(list, o);
        }
        json_object_set_new(ex, drv_kind_name((drv_kind)k), list);
    }
    json_object_set_new(errs, "examples", ex);
    json_object_set_new(o, "errors", errs);
    json_t *status = json_object();
    for (int c = 0; c < STATS_STATUS_MAX; c++) {
        if (!st->status[c]) continue;
        char key[8];
        if (c == 0)
            snprintf(key, sizeof key, "none");
        else
            snprintf(key, sizeof key, "%d", c);
        json_object_set_new(status, key, json_integer((json_int_t)st->status[c]));
    }
    json_object_set_new(o, "status", status);
    json_t *cache = json_object();
    for (int c = 0; c < STATS_NCACHE; c++)
        json_object_set_new(cache, stats_cache_name((stats_cache)c),
                            json_integer((json_int_t)st->cache[c]));
    uint64_t hm = st->cache[STATS_CACHE_HIT] + st->cache[STATS_CACHE_MISS];
    if (hm)
        json_object_set_new(cache, "hit_rate", json_real(ratio(st->cache[STATS_CACHE_HIT], hm)));
    else
        json_object_set_new(cache, "hit_rate", json_null());
    json_object_set_new(o, "cache", cache);
    json_object_set_new(o, "ratelimited", json_integer((json_int_t)st->ratelimited));
    json_object_set_new(o, "ratelimited_rate", json_real(ratio(st->ratelimited, st->completed)));
    json_object_set_new(o, "breaker_rejections", json_integer((json_int_t)st->breaker_rejections));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)st->bytes_in));
    json_object_set_new(o, "body_truncated", json_integer((json_int_t)st->body_truncated));
}

static const scn_step *slot_step(const scn_scenario *s, const res_phase *p, size_t i, size_t k)
{
    if (i < s->nsteps) return &s->steps[i];
    (void)p;
    return s->phases[k].action;
}

/* How many breakers the poller last saw open at unix_ms: replays the run's transitions. */
static json_int_t breakers_open_at(const json_t *breakers, int64_t unix_ms)
{
    json_t *open = json_object(), *tr = json_object_get(breakers, "transitions"), *x;
    size_t i;
    json_array_foreach(tr, i, x)
    {
        if (json_integer_value(json_object_get(x, "at_ms")) > unix_ms) break;
        const char *b = json_string_value(json_object_get(x, "breaker"));
        const char *to = json_string_value(json_object_get(x, "to"));
        if (b && to) json_object_set_new(open, b, json_boolean(strcmp(to, "OPEN") == 0));
    }
    json_int_t n = 0;
    const char *k;
    json_object_foreach(open, k, x) n += json_is_true(x);
    json_decref(open);
    return n;
}

static json_t *phase_json(const res_phase *p, const scn_scenario *s, size_t k,
                          const json_t *breakers, cut_err *err)
{
    json_t *o = json_object();
    double secs = (double)p->elapsed_ns / 1e9;
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "executor", json_string(executor_name(p->executor)));
    json_object_set_new(o, "recorded", json_boolean(p->recorded));
    json_object_set_new(o, "interrupted", json_boolean(p->interrupted));
    json_object_set_new(o, "started", iso_time(p->start_unix_ns));
    json_object_set_new(o, "ended", iso_time(p->end_unix_ns));
    json_object_set_new(o, "duration_s", json_real(secs));
    stats_step tot;
    memset(&tot, 0, sizeof tot);
    res_phase_totals(p, &tot);
    json_t *totals = json_object();
    counters_json(totals, &tot, secs);
    json_object_set_new(o, "totals", totals);
    if (hist_count(p->lateness) > 0)
        json_object_set_new(o, "schedule_lateness", rpt_hist_json(p->lateness, err));
    json_t *steps = json_array();
    for (size_t i = 0; i < p->nsteps; i++) {
        if (!p->used[i]) continue;
        const scn_step *st = slot_step(s, p, i, k);
        json_t *so = json_object();
        json_object_set_new(so, "name", json_string(st ? st->name : p->name));
        if (st) {
            json_object_set_new(so, "kind", json_string(step_kind_name(st->kind)));
            json_object_set_new(so, "endpoint", json_string(s->endpoints[st->endpoint].name));
            json_t *tags = json_array();
            for (size_t t = 0; t < st->ntags; t++)
                json_array_append_new(tags, json_string(st->tags[t]));
            json_object_set_new(so, "tags", tags);
        }
        counters_json(so, &p->steps[i], secs);
        json_object_set_new(so, "latency", latency_json(&p->steps[i], err));
        json_array_append_new(steps, so);
    }
    json_object_set_new(o, "steps", steps);
    if (p->server) json_object_set(o, "server", p->server);
    json_t *series = json_array();
    for (size_t t = 0; t < p->nseconds; t++) {
        const res_second *x = &p->series[t];
        json_t *row = json_pack(
            "{sI sI sI sI sI sI sI sI sI sI sI sI}", "t", (json_int_t)(t * p->row_seconds),
            "started", (json_int_t)x->started, "completed", (json_int_t)x->completed, "errors",
            (json_int_t)x->errors, "dropped", (json_int_t)x->dropped, "hits", (json_int_t)x->hits,
            "misses", (json_int_t)x->misses, "in_flight", (json_int_t)x->in_flight, "p50",
            (json_int_t)x->p50_us, "p95", (json_int_t)x->p95_us, "p99", (json_int_t)x->p99_us,
            "max", (json_int_t)x->max_us);
        if (breakers)
            json_object_set_new(row, "breakers_open",
                                json_integer(breakers_open_at(
                                    breakers, p->start_unix_ns / 1000000 +
                                                  (int64_t)((t + 1) * p->row_seconds) * 1000 - 1)));
        json_array_append_new(series, row);
    }
    json_object_set_new(o, "series_step_s", json_integer(p->row_seconds));
    json_object_set_new(o, "series", series);
    return o;
}

int rpt_results_json(const res_run *run, const scn_scenario *s, json_t **out, cut_err *err)
{
    json_t *doc = json_object();
    if (!doc) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    json_object_set_new(doc, "schema", json_integer(RPT_SCHEMA_VERSION));
    json_t *meta = json_object();
    json_object_set_new(meta, "cutover_version", json_string(CUTOVER_VERSION));
    json_object_set_new(meta, "scenario",
                        json_string(run->scenario_name ? run->scenario_name : ""));
    json_object_set_new(meta, "scenario_file",
                        json_string(run->scenario_file ? run->scenario_file : ""));
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_object_set_new(meta, "host", json_string(host));
    json_object_set_new(meta, "threads", json_integer(run->threads));
    json_object_set_new(meta, "started", iso_time(run->start_unix_ns));
    json_object_set_new(meta, "ended", iso_time(run->end_unix_ns));
    json_object_set_new(meta, "duration_s",
                        json_real((double)(run->end_unix_ns - run->start_unix_ns) / 1e9));
    json_object_set_new(meta, "interrupted", json_boolean(run->interrupted));
    json_object_set_new(meta, "signal",
                        run->signal ? json_string(run->signal == 2 ? "SIGINT" : "SIGTERM")
                                    : json_null());
    json_object_set_new(meta, "stop_reason",
                        run->stop_reason[0] ? json_string(run->stop_reason) : json_null());
    json_object_set_new(meta, "latency_unit", json_string("us"));
    json_object_set_new(doc, "run", meta);
    json_t *phases = json_array();
    for (size_t k = 0; k < run->nphases; k++) {
        if (!run->phases[k].used) continue; /* not reached */
        json_array_append_new(phases, phase_json(&run->phases[k], s, k, run->breakers, err));
    }
    json_object_set_new(doc, "phases", phases);
    if (run->breakers) {
        json_t *b = json_deep_copy(run->breakers);
        uint64_t rejections = 0;
        for (size_t k = 0; k < run->nphases; k++) {
            const res_phase *p = &run->phases[k];
            if (!p->used || !p->recorded) continue;
            stats_step tot;
            memset(&tot, 0, sizeof tot);
            res_phase_totals(p, &tot);
            rejections += tot.breaker_rejections;
        }
        json_object_set_new(b, "rejections", json_integer((json_int_t)rejections));
        json_object_set_new(doc, "breakers", b);
    }
    *out = doc;
    return 0;
}

int rpt_write_json(const json_t *doc, const char *path, cut_err *err)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (!text) return cut_err_set(err, CUT_ENOMEM, "out of memory writing %s", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps leaves room for its NUL: end the file with a newline */
    int rc = rpt_write_file(path, text, len + 1, err);
    free(text);
    return rc;
}
