/* metrics_query.h - a metric's value computed from a results JSON document (SCENARIO.md
 * sections 3 and 4): the one place that knows where each metric name's numbers live.
 *
 * A metric is parsed once (mq_parse) and evaluated against a results document as often as
 * needed (mq_eval), with a filter built from its selectors. Only phases with
 * "recorded": true count; phases whose executor is "action" count only when a `phase`
 * selector names them. Latency over several steps or phases merges the steps' encoded
 * histograms ("hdr", HdrHistogram compressed V2) bucket by bucket.
 *
 * Values are in base units: latencies in microseconds, rates as fractions (0..1),
 * durations in seconds, counts as counts, rps per second.
 *
 * The results document is hostile input: every member is type-checked, a malformed or
 * missing member reads as "no data", and decoded histograms are bounded by hist_decode.
 *
 * Memory: mq_eval and mq_merge_latency allocate nothing the caller keeps, except the
 * histogram mq_merge_latency returns (the caller frees it with hist_free). The filter's
 * strings are borrowed for the duration of the call.
 *
 * Errors: mq_parse returns CUT_EINVAL for an unknown name (the message suggests the closest
 * known one). mq_eval returns 0 whether or not data was found (out->has says which), or
 * CUT_ENOMEM; a histogram that fails to decode is skipped and noted in out->note. */
#ifndef CUTOVER_REPORT_METRICS_QUERY_H
#define CUTOVER_REPORT_METRICS_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"
#include "util/err.h"

typedef enum mq_family {
    MQ_LATENCY = 0, /* http|redis|sql [.raw] .all|cold|warm .stat */
    MQ_REQUESTS,
    MQ_RPS,
    MQ_DROPPED,
    MQ_ERRORS_RATE,
    MQ_ERRORS_COUNT,
    MQ_ERRORS_KIND, /* errors.timeout, ...: a count */
    MQ_STATUS_RATE, /* status.5xx.rate, status.503.rate */
    MQ_STATUS_COUNT,
    MQ_CACHE_HIT_RATE,
    MQ_CACHE_MISS_RATE,
    MQ_REDIS_SERVER_HIT_RATE,
    MQ_DB_QUERY_REDUCTION,
    MQ_BREAKER_TRIPS,
    MQ_BREAKER_OPEN_SECONDS,
    MQ_BREAKER_REJECTIONS,
    MQ_RATELIMITED_RATE,
    MQ_RATELIMITED_COUNT,
    MQ_PARITY_MISMATCH_RATE,
    MQ_PARITY_MISMATCHES,
    MQ_PARITY_FIELD_RATE,
    MQ_DATA_COUNT_DIFF,
    MQ_DATA_MISSING_IN_PG,
    MQ_DATA_MISSING_IN_REDIS,
    MQ_DATA_FIELD_MISMATCHES,
} mq_family;

/* What a metric's value measures, which decides the units a target may use. */
typedef enum mq_dim {
    MQ_DIM_LATENCY = 0, /* microseconds; targets must say us, ms or s */
    MQ_DIM_SECONDS,     /* seconds; targets may say us, ms, s or nothing (= s) */
    MQ_DIM_RATIO,       /* fraction; targets may say % or give a fraction */
    MQ_DIM_COUNT,       /* no unit */
    MQ_DIM_RATE,        /* per second; no unit */
} mq_dim;

typedef enum mq_sel {
    MQ_SEL_PHASE = 0,
    MQ_SEL_STEP,
    MQ_SEL_TAG,
    MQ_SEL_ENDPOINT,
    MQ_SEL_CHECK,
    MQ_SEL_PATH,
    MQ_SEL_FROM,
    MQ_SEL_TO,
    MQ_NSEL
} mq_sel;

typedef enum mq_stat { MQ_P50 = 0, MQ_P90, MQ_P95, MQ_P99, MQ_P999, MQ_MAX, MQ_MEAN } mq_stat;

typedef struct mq_metric {
    mq_family family;
    mq_dim dim;
    const char *kind;  /* MQ_LATENCY: "http", "redis" or "sql" */
    const char *cls;   /* MQ_LATENCY: "all", "cold" or "warm" */
    bool raw;          /* MQ_LATENCY: the uncorrected histograms */
    mq_stat stat;      /* MQ_LATENCY */
    char detail[16];   /* MQ_ERRORS_KIND: the kind; MQ_STATUS_*: "5xx" or "503" */
    unsigned sels;     /* selectors allowed: bit (1u << mq_sel) */
    unsigned required; /* selectors that must be given */
    unsigned single;   /* selectors that take exactly one value */
} mq_metric;

/* The values a selector was given, and the phases a `tag` selector matched in the scenario
 * (steps carry their own tags in the results; phases do not). */
typedef struct mq_filter {
    const char *const *vals[MQ_NSEL];
    size_t nvals[MQ_NSEL];
    const char *const *tag_phases;
    size_t ntag_phases;
} mq_filter;

typedef struct mq_value {
    bool has;         /* false: no data (see note) */
    double value;     /* in base units */
    uint64_t samples; /* requests, histogram count, compared records... behind value */
    char note[160];   /* why there is no data, or a caveat; "" when none */
} mq_value;

/* Parses a metric name (without selectors) into *out. */
int mq_parse(const char *name, mq_metric *out, cut_err *err);

/* Name of a selector ("phase", ...), and the selector of a name (-1 when unknown). */
const char *mq_sel_name(mq_sel s);
int mq_sel_parse(const char *name);

/* Computes the metric over results, narrowed by f (NULL: no selectors). */
int mq_eval(const mq_metric *m, const mq_filter *f, const json_t *results, mq_value *out,
            cut_err *err);

/* The merged latency histogram of the recorded phases' steps matching f, of kind ("http",
 * NULL for any), class ("all", "cold", "warm") and measure. *out is NULL (and 0 returned)
 * when nothing matched. */
int mq_merge_latency(const json_t *results, const mq_filter *f, const char *kind, const char *cls,
                     bool raw, hist **out, cut_err *err);

/* A number member of obj (integer or real) into *out; false when absent or not a number. */
bool mq_num(const json_t *obj, const char *key, double *out);

#endif
