#include "report/merge.h"

#include <string.h>

#include "metrics/hist.h"
#include "report/results_json.h"

static json_int_t ival(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static double ratio(json_int_t a, json_int_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* dst[key] += src[key] for an integer field. */
static void add_int(json_t *dst, const json_t *src, const char *key)
{
    json_t *s = json_object_get(src, key);
    if (!json_is_integer(s)) return;
    json_object_set_new(dst, key, json_integer(ival(dst, key) + json_integer_value(s)));
}

/* Every integer member of src added to dst's (status codes, error kinds). */
static void add_members(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) add_int(dst, src, k);
}

static json_t *child(json_t *o, const char *key)
{
    json_t *c = json_object_get(o, key);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(o, key, c);
    }
    return c;
}

/* One histogram object merged with another through their HdrHistogram encodings. */
static int merge_hist(json_t *parent, const char *key, const json_t *src, const char *what,
                      cut_err *err)
{
    json_t *dst = json_object_get(parent, key);
    if (!dst) {
        json_object_set_new(parent, key, json_deep_copy(src));
        return 0;
    }
    const char *a = json_string_value(json_object_get(dst, "hdr"));
    const char *b = json_string_value(json_object_get(src, "hdr"));
    hist *ha = NULL, *hb = NULL;
    int rc;
    if (!a || !b)
        return cut_err_set(err, CUT_EINVAL, "%s: a histogram has no \"hdr\" encoding", what);
    if ((rc = hist_decode(a, strlen(a), &ha, err)) < 0 ||
        (rc = hist_decode(b, strlen(b), &hb, err)) < 0 || (rc = hist_merge(ha, hb, err)) < 0) {
        cut_err_prefix(err, "%s: ", what);
        goto done;
    }
    json_int_t clamped = ival(dst, "clamped") + ival(src, "clamped");
    /* Decoded min/max are bucket bounds: keep the exact ones the reports had. */
    json_int_t min = ival(dst, "min") < ival(src, "min") ? ival(dst, "min") : ival(src, "min");
    json_int_t max = ival(dst, "max") > ival(src, "max") ? ival(dst, "max") : ival(src, "max");
    json_t *m = rpt_hist_json(ha, err);
    if (!m) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(m, "clamped", json_integer(clamped));
    json_object_set_new(m, "min", json_integer(min));
    json_object_set_new(m, "max", json_integer(max));
    json_object_set_new(parent, key, m);
done:
    hist_free(ha);
    hist_free(hb);
    return rc;
}

static int merge_latency(json_t *dst, const json_t *src, const char *what, cut_err *err)
{
    const char *cls;
    json_t *c;
    json_object_foreach((json_t *)src, cls, c)
    {
        json_t *d = child(dst, cls);
        const char *m;
        json_t *h;
        json_object_foreach(c, m, h)
        {
            int rc = merge_hist(d, m, h, what, err);
            if (rc < 0) return rc;
        }
    }
    return 0;
}

static void merge_counters(json_t *dst, const json_t *src)
{
    static const char *const sums[] = {"requests",     "completed",         "dropped",
                                       "dropped_late", "bytes_in",          "body_truncated",
                                       "ratelimited",  "breaker_rejections"};
    for (size_t i = 0; i < sizeof sums / sizeof *sums; i++)
        add_int(dst, src, sums[i]);
    add_members(child(dst, "status"), json_object_get(src, "status"));
    json_t *dc = child(dst, "cache");
    const json_t *sc = json_object_get(src, "cache");
    static const char *const cache[] = {"hits", "misses", "other", "none"};
    for (size_t i = 0; i < 4; i++)
        add_int(dc, sc, cache[i]);
    json_t *de = child(dst, "errors");
    const json_t *se = json_object_get(src, "errors");
    add_int(de, se, "count");
    add_members(child(de, "by_kind"), json_object_get(se, "by_kind"));
    json_t *dx = child(de, "examples");
    const char *kind;
    json_t *list;
    json_object_foreach(json_object_get(se, "examples"), kind, list)
    {
        json_t *to = json_object_get(dx, kind);
        if (!json_is_array(to)) {
            to = json_array();
            json_object_set_new(dx, kind, to);
        }
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) if (json_array_size(to) < 3) json_array_append(to, e);
    }
}

/* Rates from the merged counts, over the phase's (longest) duration. */
static void recompute(json_t *o, double seconds)
{
    json_int_t done = ival(o, "completed");
    json_object_set_new(o, "rps", json_real(seconds > 0 ? (double)done / seconds : 0));
    json_object_set_new(o, "ratelimited_rate", json_real(ratio(ival(o, "ratelimited"), done)));
    json_t *e = json_object_get(o, "errors");
    if (e) json_object_set_new(e, "rate", json_real(ratio(ival(e, "count"), done)));
    json_t *c = json_object_get(o, "cache");
    if (c) {
        json_int_t hm = ival(c, "hits") + ival(c, "misses");
        json_object_set_new(c, "hit_rate",
                            hm ? json_real(ratio(ival(c, "hits"), hm)) : json_null());
    }
}

static json_t *find_named(json_t *array, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach(array, i, x)
    {
        const char *n = json_string_value(json_object_get(x, "name"));
        if (n && name && strcmp(n, name) == 0) return x;
    }
    return NULL;
}

static void min_str(json_t *dst, const json_t *src, const char *key, int sign)
{
    const char *a = json_string_value(json_object_get(dst, key));
    const char *b = json_string_value(json_object_get(src, key));
    /* ISO 8601 UTC times compare as text. */
    if (b && (!a || sign * strcmp(b, a) < 0)) json_object_set_new(dst, key, json_string(b));
}

static void merge_series(json_t *dst, const json_t *src)
{
    json_t *ds = json_object_get(dst, "series");
    const json_t *ss = json_object_get(src, "series");
    if (!json_is_array(ds) || !json_is_array(ss)) return;
    static const char *const sums[] = {"started", "completed", "errors",   "dropped",
                                       "hits",    "misses",    "in_flight"};
    static const char *const maxes[] = {"p50", "p95", "p99", "max", "breakers_open"};
    size_t i;
    json_t *row;
    json_array_foreach(ss, i, row)
    {
        json_t *d = json_array_get(ds, i);
        if (!d) {
            json_array_append(ds, row);
            continue;
        }
        for (size_t k = 0; k < sizeof sums / sizeof *sums; k++)
            add_int(d, row, sums[k]);
        for (size_t k = 0; k < sizeof maxes / sizeof *maxes; k++)
            if (ival(row, maxes[k]) > ival(d, maxes[k]))
                json_object_set_new(d, maxes[k], json_integer(ival(row, maxes[k])));
    }
    json_object_set_new(dst, "series_percentiles", json_string("max over the merged reports"));
}

static int merge_phase(json_t *dst, const json_t *src, cut_err *err)
{
    const char *name = json_string_value(json_object_get(dst, "name"));
    min_str(dst, src, "started", 1);
    min_str(dst, src, "ended", -1);
    double da = json_number_value(json_object_get(dst, "duration_s"));
    double db = json_number_value(json_object_get(src, "duration_s"));
    if (db > da) json_object_set_new(dst, "duration_s", json_real(db));
    if (json_is_true(json_object_get(src, "interrupted")))
        json_object_set_new(dst, "interrupted", json_true());
    if (json_is_false(json_object_get(src, "recorded")))
        json_object_set_new(dst, "recorded", json_false());
    merge_counters(child(dst, "totals"), json_object_get(src, "totals"));
    const json_t *lat = json_object_get(src, "schedule_lateness");
    char what[256];
    snprintf(what, sizeof what, "phase %s", name ? name : "?");
    if (lat) {
        int rc = merge_hist(dst, "schedule_lateness", lat, what, err);
        if (rc < 0) return rc;
    }
    json_t *steps = json_object_get(dst, "steps");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(src, "steps"), i, s)
    {
        json_t *d = find_named(steps, json_string_value(json_object_get(s, "name")));
        if (!d) {
            json_array_append(steps, s);
            continue;
        }
        merge_counters(d, s);
        snprintf(what, sizeof what, "phase %s, step %s", name ? name : "?",
                 json_string_value(json_object_get(s, "name")));
        int rc = merge_latency(child(d, "latency"), json_object_get(s, "latency"), what, err);
        if (rc < 0) return rc;
    }
    merge_series(dst, src);
    return 0;
}

int rpt_merge(json_t *const *reports, const char *const *names, size_t n, json_t **out,
              cut_err *err)
{
    if (n == 0) return cut_err_set(err, CUT_EINVAL, "nothing to merge");
    json_t *doc = json_deep_copy(reports[0]);
    if (!doc) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    json_t *run = child(doc, "run");
    json_t *from = json_array();
    json_array_append_new(from, json_string(names[0]));
    for (size_t r = 1; r < n; r++) {
        const json_t *src = reports[r];
        const json_t *srun = json_object_get(src, "run");
        json_array_append_new(from, json_string(names[r]));
        add_int(run, srun, "threads");
        min_str(run, srun, "started", 1);
        min_str(run, srun, "ended", -1);
        if (json_is_true(json_object_get(srun, "interrupted")))
            json_object_set_new(run, "interrupted", json_true());
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(src, "phases"), i, p)
        {
            json_t *d = find_named(json_object_get(doc, "phases"),
                                   json_string_value(json_object_get(p, "name")));
            if (!d) {
                json_array_append(json_object_get(doc, "phases"), p);
                continue;
            }
            int rc = merge_phase(d, p, err);
            if (rc < 0) {
                cut_err_prefix(err, "%s: ", names[r]);
                json_decref(from);
                json_decref(doc);
                return rc;
            }
        }
    }
    json_object_set_new(run, "merged_from", from);
    /* Rates from the sums, over each phase's longest duration. */
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "phases"), i, p)
    {
        double secs = json_number_value(json_object_get(p, "duration_s"));
        recompute(json_object_get(p, "totals"), secs);
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(p, "steps"), k, s) recompute(s, secs);
    }
    json_object_del(doc, "targets");
    json_object_del(doc, "targets_summary");
    json_object_del(doc, "verdict");
    *out = doc;
    return 0;
}
