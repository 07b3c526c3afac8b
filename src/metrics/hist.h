/* hist.h - latency histogram: HdrHistogram's log-linear layout, values in microseconds.
 *
 * A histogram covers [lowest, highest] at `sigfigs` significant decimal digits: every
 * recorded value lands in a bucket no wider than 1/(2*10^sigfigs) of itself (for the
 * default, 1 us .. 1 h at 3 digits: relative error < 0.1 %, 23552 counts, ~184 KiB).
 *
 * Memory: hist_init/hist_new_default/hist_decode allocate the histogram and all its
 * counts in one block, once; nothing grows afterwards and recording never allocates.
 * The caller owns the hist and releases it with hist_free. hist_encode returns a
 * malloc'd string the caller frees with free().
 *
 * Threads: no locking inside. Each driver thread records into its own histograms; merge
 * them (hist_merge) once the threads are done. Read-only queries on a histogram nobody
 * is writing may run concurrently.
 *
 * Errors: functions returning int return 0 or a negative CUT_E* code (util/err.h) and
 * fill *err when err is non-NULL: CUT_EINVAL for bad arguments or malformed encoded
 * input, CUT_ERANGE for a configuration (or a decoded one) outside the supported
 * bounds, CUT_ENOMEM when allocation fails, CUT_EIO when zlib fails. On failure no
 * output is produced and nothing leaks. */
#ifndef CUTOVER_METRICS_HIST_H
#define CUTOVER_METRICS_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct hist hist;

/* Default range for latencies: 1 us to 1 h at 3 significant digits. */
#define HIST_DEFAULT_LOWEST 1
#define HIST_DEFAULT_HIGHEST INT64_C(3600000000)
#define HIST_DEFAULT_SIGFIGS 3

/* Largest number of counts (8 bytes each) a histogram may have: 16 MiB. Bounds what a
 * hostile encoded histogram can make hist_decode allocate. */
#define HIST_MAX_COUNTS (1 << 21)

/* Creates an empty histogram for values in [lowest, highest] at sigfigs digits.
 * Needs lowest >= 1, highest >= 2 * lowest, 1 <= sigfigs <= 5, and a layout of at most
 * HIST_MAX_COUNTS counts (CUT_ERANGE otherwise). On success *out owns the histogram. */
int hist_init(hist **out, int64_t lowest, int64_t highest, int sigfigs, cut_err *err);

/* hist_init(out, 1, 3600000000, 3, err): 1 us .. 1 h at 3 digits. */
int hist_new_default(hist **out, cut_err *err);

/* Releases h and its counts. NULL is a no-op. */
void hist_free(hist *h);

/* Empties h (counts, totals, min/max, clamped) keeping its configuration. Clears only
 * the range of buckets in use, so calling it every second is cheap. */
void hist_reset(hist *h);

/* Records one value (or `count` of the same value). O(1), never allocates, never fails:
 * a value below lowest (negative included) is recorded as lowest, one above highest as
 * highest, and either is added to hist_clamped. A count <= 0 records nothing. */
void hist_record(hist *h, int64_t value);
void hist_record_n(hist *h, int64_t value, int64_t count);

/* Configuration as given to hist_init (or read by hist_decode). */
int64_t hist_lowest(const hist *h);
int64_t hist_highest(const hist *h);
int hist_sigfigs(const hist *h);

/* Number of recorded values, and how many of them were clamped into range. Clamped
 * counts add up in hist_merge; the encoded form cannot carry them (hist_decode gives 0),
 * so reports keep them beside the encoded histogram. */
int64_t hist_count(const hist *h);
int64_t hist_clamped(const hist *h);

/* Smallest and largest recorded value after clamping, exact as recorded. After
 * hist_decode they are bucket bounds: the lowest equivalent value of the first
 * non-empty bucket and the highest equivalent value of the last. 0 when empty. */
int64_t hist_min(const hist *h);
int64_t hist_max(const hist *h);

/* Mean and standard deviation over buckets, each bucket standing for its middle value
 * (HdrHistogram's definition, so the numbers agree with HdrHistogram tools reading our
 * encoding). 0 when empty. */
double hist_mean(const hist *h);
double hist_stddev(const hist *h);

/* Value at percentile p (clamped to [0, 100]; NaN reads as 0) with HdrHistogram's
 * semantics: the first bucket whose cumulative count reaches round(p/100 * count)
 * (at least 1), reported as that bucket's highest equivalent value, but never above
 * hist_max. p = 0 gives hist_min, p = 100 gives hist_max. 0 when empty. */
int64_t hist_percentile(const hist *h, double p);

/* Fills out[i] = hist_percentile(h, ps[i]) for n percentiles in one pass over the
 * buckets. ps must be non-decreasing and within [0, 100] (CUT_EINVAL otherwise, and
 * out is left untouched). */
int hist_percentile_curve(const hist *h, const double *ps, size_t n, int64_t *out, cut_err *err);

/* Walks the non-empty buckets in increasing value order, for drawing:
 *     hist_iter it;
 *     hist_iter_init(&it, h);
 *     while (hist_iter_next(&it)) use(it.lo, it.hi, it.count, it.cumulative);
 * lo/hi are the bucket's lowest and highest equivalent values (inclusive), cumulative
 * the count of this and all lower buckets. h must not change during the walk. */
typedef struct hist_iter {
    const hist *h;
    int32_t next; /* next counts index to look at (private) */
    int32_t end;  /* one past the last non-empty index (private) */
    int64_t lo, hi, count, cumulative;
} hist_iter;

void hist_iter_init(hist_iter *it, const hist *h);
bool hist_iter_next(hist_iter *it);

/* Adds src into dst. With the same bucket layout and src's range inside dst's, counts
 * add bucket by bucket (exact). Otherwise each src bucket is re-recorded into dst at its
 * middle value (src's exact min and max at their own buckets), clamping into dst's
 * range and counting those clamps. Clamped counts add. Fails only with CUT_EINVAL (NULL
 * arguments, or a total count that would overflow), leaving dst unchanged. */
int hist_merge(hist *dst, const hist *src, cut_err *err);

/* Encodes h in HdrHistogram's compressed V2 format (V2 encoding with ZigZag LEB128
 * counts and zero runs, zlib-deflated, base64), readable by HdrHistogram's Java, C, Go,
 * JS and Rust implementations (HistogramLogProcessor included). On success *out_b64 is a
 * malloc'd NUL-terminated string the caller frees with free(). */
int hist_encode(const hist *h, char **out_b64, cut_err *err);

/* Decodes len bytes of base64 text in the same format (as written by hist_encode or any
 * HdrHistogram implementation) into a new histogram owned by the caller. Rejects
 * malformed or hostile input with CUT_EINVAL/CUT_ERANGE and a message saying what was
 * wrong: bad base64, wrong cookie or format version, truncated or oversized data,
 * declared ranges outside hist_init's bounds, counts past the declared range. Allocates
 * at most 3/4 of len, the declared histogram (bounded by HIST_MAX_COUNTS) and a payload
 * buffer of at most 9 bytes per count; decompression stops at the declared size. The
 * normalizing index offset and conversion ratio fields are ignored (integer histograms
 * leave them neutral). Clamped count, exact min and max are not in the format. */
int hist_decode(const char *b64, size_t len, hist **out, cut_err *err);

/* Module-private, for hist_log.c only (declared here so the compiler checks both sides).
 * hist__counts/hist__counts_mut: the counts array, *used set to the number of counts up
 * to the largest non-empty one (0 when empty), *len to the array length.
 * hist__recount: after counts were written directly, recomputes count, min and max from
 * the buckets and sets clamped to 0; CUT_EINVAL if a count is negative or the total
 * overflows. */
const int64_t *hist__counts(const hist *h, int32_t *used, int32_t *len);
int64_t *hist__counts_mut(hist *h, int32_t *used, int32_t *len);
int hist__recount(hist *h, cut_err *err);

#endif
