/* sched.h - the executors' arithmetic: when each thread starts arrivals, how many VUs it
 * runs, which work items and data rows it owns, its random numbers, and the open-model
 * send/drop rule (SCENARIO.md section 2). Pure functions: no I/O, no clocks, no globals.
 *
 * Times are int64 nanoseconds relative to the phase start. Rates are arrivals per second.
 *
 * Splitting over N threads is always exact: a total T gives thread i the share
 * sched_share(T, N, i) = T/N + (i < T%N), so the shares sum to T. Open-model arrivals are
 * interleaved: thread i owns the global arrivals i, i+N, i+2N, ... so the union of all
 * threads' schedules is the single-thread schedule, time for time.
 *
 * Memory: sched_arrivals, sched_vus and sched_pick objects are allocated by their _new
 * function, owned by the caller, read-only afterwards (safe to read from several threads)
 * and released with the matching _free (NULL is accepted). Nothing allocates after _new.
 * Errors: _new and sched_parse_duration return 0, CUT_EINVAL (bad input), CUT_ERANGE
 * (a value too large to schedule exactly) or CUT_ENOMEM, and fill err when non-NULL. */
#ifndef CUTOVER_DRIVER_SCHED_H
#define CUTOVER_DRIVER_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* "No more": returned as a time past the end of a schedule; compares after every time. */
#define SCHED_NEVER INT64_MAX
/* SCENARIO.md section 2: an arrival more than this late is dropped, not sent. */
#define SCHED_MAX_LAG_DEFAULT_NS INT64_C(1000000000)
/* Highest rate accepted: one arrival per nanosecond. */
#define SCHED_RATE_MAX 1e9

/* Exact share of total for thread i of n (0 when n == 0 or i >= n). */
uint64_t sched_share(uint64_t total, uint32_t n, uint32_t i);

/* ---- Durations ---------------------------------------------------------------------- */

/* Parses "250ms", "1.5s", "2m", "1h", "500us", "10ns" and sums like "1m30s" into *ns.
 * Units: ns, us (or µs), ms, s, m, h; a bare "0" is allowed. Fractions are truncated to the
 * nanosecond. Rejects empty text, signs, spaces, unknown or missing units, and values above
 * INT64_MAX ns; the message quotes the text. */
int sched_parse_duration(const char *text, int64_t *ns, cut_err *err);

/* ---- Open-model arrivals ------------------------------------------------------------ */

/* One stage of a ramp: the rate moves linearly from the previous target (or start_rate)
 * to `target` over duration_ns. duration_ns == 0 is an instant jump. */
typedef struct sched_rate_stage {
    double target;       /* arrivals per second, >= 0 */
    int64_t duration_ns; /* >= 0 */
} sched_rate_stage;

typedef struct sched_rate_spec {
    double start_rate; /* arrivals per second at t = 0, >= 0 */
    const sched_rate_stage *stages;
    size_t n_stages;
    uint64_t max_requests; /* global bound over all threads; 0 = none */
} sched_rate_spec;

typedef struct sched_arrivals sched_arrivals;

/* Builds thread `thread`'s schedule (of n_threads >= 1) for spec; stages are copied.
 * The global arrival j starts at the first time the integral of the rate exceeds j (so
 * the first is at 0 when the start rate is > 0, and at the end of a zero-rate stretch
 * otherwise). The global count is round(integral over the whole run), capped by
 * max_requests; every arrival starts before the end. Fails with CUT_EINVAL for negative
 * or non-finite rates, negative durations, n_threads == 0 or thread >= n_threads, and with
 * CUT_ERANGE for rates above SCHED_RATE_MAX, a total duration above INT64_MAX or more than
 * 2^53 arrivals. */
int sched_arrivals_new(const sched_rate_spec *spec, uint32_t n_threads, uint32_t thread,
                       sched_arrivals **out, cut_err *err);

/* constant-arrival-rate: `rate` per second for duration_ns. */
int sched_arrivals_new_constant(double rate, int64_t duration_ns, uint64_t max_requests,
                                uint32_t n_threads, uint32_t thread, sched_arrivals **out,
                                cut_err *err);

void sched_arrivals_free(sched_arrivals *s);

/* Intended start of this thread's k-th arrival (k = 0, 1, ...), nondecreasing in k;
 * SCHED_NEVER when k >= sched_arrivals_count(s). */
int64_t sched_arrival_time(const sched_arrivals *s, uint64_t k);

/* How many of this thread's arrivals are due by t (intended start <= t): a timer tick at t
 * issues arrivals [issued, sched_arrivals_before(s, t)). */
uint64_t sched_arrivals_before(const sched_arrivals *s, int64_t t);

uint64_t sched_arrivals_count(const sched_arrivals *s); /* this thread's arrivals */
uint64_t sched_arrivals_total(const sched_arrivals *s); /* all threads' arrivals */
int64_t sched_arrivals_end(const sched_arrivals *s);    /* sum of stage durations */

/* Send or drop an arrival whose intended start is `intended`, at time `now`.
 * max_lag_ns < 0 means SCHED_MAX_LAG_DEFAULT_NS; max_in_flight == 0 means no bound. */
typedef enum sched_verdict {
    SCHED_SEND = 0,
    SCHED_WAIT,      /* not due yet (now < intended) */
    SCHED_DROP_FULL, /* in_flight >= max_in_flight */
    SCHED_DROP_LAG,  /* now - intended > max_lag */
} sched_verdict;

sched_verdict sched_open_decide(int64_t intended, int64_t now, int64_t max_lag_ns,
                                uint64_t in_flight, uint64_t max_in_flight);

/* ---- Closed-model VUs --------------------------------------------------------------- */

/* One stage of ramping-vus: the global VU target moves linearly from the previous `to`
 * (or start) to `to` over duration_ns, truncated toward the stage's start value (as k6
 * does), so a VU is added only once it is fully due. */
typedef struct sched_vu_stage {
    uint32_t to;
    int64_t duration_ns; /* >= 0 */
} sched_vu_stage;

typedef struct sched_vus sched_vus;

/* ramping-vus for thread `thread` of n_threads; constant-vus V over D is start = V with one
 * stage {V, D}. Stages are copied. Errors as sched_arrivals_new. */
int sched_vus_new(uint32_t start, const sched_vu_stage *stages, size_t n_stages, uint32_t n_threads,
                  uint32_t thread, sched_vus **out, cut_err *err);
void sched_vus_free(sched_vus *v);

/* This thread's VU target at t (its share of the global target); after the end, the last
 * stage's share. The targets of all threads sum to the global target. */
uint32_t sched_vus_target(const sched_vus *v, int64_t t);
/* The first time > t at which this thread's target differs from its target at t, or
 * SCHED_NEVER: the driver arms one timer instead of polling. */
int64_t sched_vus_next_change(const sched_vus *v, int64_t t);
/* This thread's largest target over the run, to size its VU table once. */
uint32_t sched_vus_max(const sched_vus *v);
int64_t sched_vus_end(const sched_vus *v);

/* ---- Work items and data rows ------------------------------------------------------- */

/* The global indexes first, first + stride, ... (count of them) owned by one thread. */
typedef struct sched_part {
    uint64_t first;
    uint64_t count;
    uint64_t stride;
} sched_part;

/* Global index of the thread's k-th item (k < p->count). */
uint64_t sched_part_index(const sched_part *p, uint64_t k);

/* `unique` data: row r belongs to thread r % n_threads, so each row has exactly one owner
 * and every thread walks the rows in the file's order. */
sched_part sched_part_rows(uint64_t rows, uint32_t n_threads, uint32_t thread);

/* `iterations` executor: `items` work items (data combinations x iterations) run with at
 * most `concurrency` in flight overall. Only min(n_threads, items, concurrency) threads get
 * work, each a contiguous exact share of the items, and the concurrency is split exactly
 * among them (so each working thread has >= 1 and the global bound holds). Other threads
 * get count 0 and *thread_concurrency 0. concurrency 0 is treated as 1. */
sched_part sched_part_items(uint64_t items, uint32_t concurrency, uint32_t n_threads,
                            uint32_t thread, uint32_t *thread_concurrency);

/* ---- Random numbers ------------------------------------------------------------------ */

/* Seed for stream `stream` (thread index, or thread index combined with a data set's
 * number by the caller) of a scenario seed: distinct streams of one seed always differ. */
uint64_t sched_seed_for(uint64_t seed, uint64_t stream);

/* xoshiro256**, seeded through splitmix64. Plain struct: embed it, no allocation. */
typedef struct sched_rng {
    uint64_t s[4];
} sched_rng;

void sched_rng_seed(sched_rng *r, uint64_t seed);
uint64_t sched_rng_next(sched_rng *r);
/* Uniform in [0, n) without modulo bias (Lemire); 0 when n == 0. */
uint64_t sched_rng_below(sched_rng *r, uint64_t n);
/* Uniform in [0, 1), 53 random bits. */
double sched_rng_double(sched_rng *r);

/* Weighted choice among n items (Walker/Vose alias table): O(1) per pick, no allocation. */
typedef struct sched_pick sched_pick;

/* weights: n >= 1 finite values >= 0 with a positive sum (integers are exact up to 2^53);
 * an item of weight 0 is never picked. CUT_EINVAL otherwise. */
int sched_pick_new(const double *weights, size_t n, sched_pick **out, cut_err *err);
void sched_pick_free(sched_pick *p);
size_t sched_pick_next(const sched_pick *p, sched_rng *r);

#endif
