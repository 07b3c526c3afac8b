/* stats.h - the leaves of the results model (SCENARIO.md section 3): what one step
 * measured in one phase, on one thread or merged over threads.
 *
 * Latency histograms per class (all, cold, warm) and per measure (corrected: from the
 * intended start; raw: from the actual send), in microseconds. The `all` histograms exist
 * from stats_step_init on; cold and warm ones are allocated the first time a response of
 * that class is recorded (the cache classification decides; see metrics/cache.h when it
 * lands), so a step that never sees a cache header costs two histograms, not six.
 *
 * Memory: a stats_step owns its histograms; stats_step_free releases them. Recording
 * never allocates except that first cold/warm use. No locking: one writer per stats_step. */
#ifndef CUTOVER_METRICS_STATS_H
#define CUTOVER_METRICS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/drv.h"
#include "metrics/hist.h"
#include "util/err.h"

typedef enum stats_class { STATS_ALL = 0, STATS_COLD, STATS_WARM, STATS_NCLASS } stats_class;
typedef enum stats_measure { STATS_CORRECTED = 0, STATS_RAW, STATS_NMEASURE } stats_measure;
typedef enum stats_cache {
    STATS_CACHE_HIT = 0,
    STATS_CACHE_MISS,
    STATS_CACHE_OTHER, /* a cache header whose value is neither hit- nor miss-like */
    STATS_CACHE_NONE,  /* no cache header at all */
    STATS_NCACHE
} stats_cache;

#define STATS_STATUS_MAX 600 /* HTTP statuses 100..599 are counted exactly */

/* The first examples of each error kind, for people reading the report. Text is bounded and
 * never holds request headers or credentials. */
#define STATS_EXAMPLES 3
#define STATS_EXAMPLE_TEXT 160

typedef struct stats_example {
    int status;
    char request[STATS_EXAMPLE_TEXT]; /* "GET /api/..." or "GET key" or the SQL step */
    char detail[STATS_EXAMPLE_TEXT];  /* the error text, or an excerpt of the body */
} stats_example;

typedef struct stats_step {
    hist *lat[STATS_NCLASS][STATS_NMEASURE];
    uint64_t started;   /* requests handed to a client */
    uint64_t completed; /* requests that came back, successfully or not */
    uint64_t dropped;   /* arrivals not sent: max_in_flight reached or later than max_lag */
    uint64_t dropped_lag;
    uint64_t errors; /* completed with a kind other than DRV_OK */
    uint64_t by_kind[DRV_KIND_COUNT];
    uint64_t status[STATS_STATUS_MAX]; /* HTTP status counts; [0] counts "no status" */
    uint64_t cache[STATS_NCACHE];
    uint64_t ratelimited;        /* 429 answers: counted apart from errors */
    uint64_t breaker_rejections; /* answers matching the breakers' rejection signature */
    uint64_t bytes_in;
    uint64_t body_truncated;
    uint64_t scheduled_late_us_max; /* worst lateness of an actual send vs its intended start */
    uint8_t nexamples[DRV_KIND_COUNT];
    stats_example examples[DRV_KIND_COUNT][STATS_EXAMPLES];
} stats_step;

/* Prepares s (caller-owned memory) with the `all` histograms. CUT_ENOMEM on failure, with
 * nothing left allocated. */
int stats_step_init(stats_step *s, cut_err *err);
void stats_step_free(stats_step *s);

/* Records one completed request: its kind, HTTP status (0 when not HTTP), latency class
 * and the two latencies in microseconds. Returns CUT_ENOMEM only if a first cold/warm
 * histogram cannot be allocated (the `all` histograms were still recorded). */
int stats_step_record(stats_step *s, drv_kind kind, int status, stats_class cls,
                      int64_t corrected_us, int64_t raw_us);

/* Adds src into dst (histograms bucket by bucket, counters summed). */
int stats_step_merge(stats_step *dst, const stats_step *src, cut_err *err);

/* Convenience for reports: the histogram of a class and measure, or NULL if none recorded. */
const hist *stats_step_hist(const stats_step *s, stats_class cls, stats_measure m);

/* Keeps an example of an error of `kind` if fewer than STATS_EXAMPLES are kept; bytes that
 * are not printable ASCII are shown as '.'. */
void stats_step_example(stats_step *s, drv_kind kind, int status, const char *request, size_t rlen,
                        const char *detail, size_t dlen);

const char *stats_class_name(stats_class cls); /* "all", "cold", "warm" */
const char *stats_cache_name(stats_cache c);   /* "hits", "misses", "other", "none" */

#endif
