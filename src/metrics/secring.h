/* secring.h - exact per-second latency percentiles over all threads.
 *
 * Each worker records a phase's completions into its own histogram of the current second and
 * hands it over when the second ends (sring_add); the ring merges the threads' histograms of
 * the same second, and once a second can no longer receive data (a later second reuses its
 * slot, or the phase ends) computes p50/p95/p99/max from the merged histogram and keeps only
 * those numbers. So memory is a few histograms plus 40 bytes per second, for a run of any
 * length, and the percentiles are exact, not an average of per-thread percentiles.
 *
 * Thread-safe (one mutex, taken about once per second per thread). Memory owned by the ring. */
#ifndef CUTOVER_METRICS_SECRING_H
#define CUTOVER_METRICS_SECRING_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/hist.h"
#include "util/err.h"

typedef struct sring_second {
    uint64_t count;
    int64_t p50, p95, p99, max; /* corrected latency, us */
} sring_second;

typedef struct sring sring;

int sring_new(sring **out, cut_err *err);
void sring_free(sring *r);

/* Starts a phase: forgets the previous phase's seconds. Call while no worker adds. */
void sring_reset(sring *r);

/* Merges a thread's histogram of `second` (since the phase start). Data for a second older
 * than the ring holds is dropped and counted (sring_late). */
void sring_add(sring *r, uint64_t second, const hist *h);

/* Ends a phase: computes every second still held. Call after the workers stopped adding. */
void sring_flush(sring *r);

/* Seconds computed so far (the series length), and one of them. */
size_t sring_seconds(const sring *r);
const sring_second *sring_get(const sring *r, size_t second);
uint64_t sring_late(const sring *r);

#endif
