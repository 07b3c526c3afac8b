/* results.h - the results model (SCENARIO.md section 3): run -> phase -> step -> stats.
 *
 * The driver fills one res_phase per thread while a phase runs and merges the threads'
 * phases into the run's (res_phase_merge) when it ends; reports read the merged tree.
 * Steps are indexed like scn_scenario.steps; a phase's action is stored as step index
 * `nsteps` (one extra slot), so actions are measured like any step.
 *
 * Memory: res_run owns its phases, a res_phase its step stats, lateness histogram and
 * series. Strings (names) are borrowed from the scenario, which must outlive the run.
 * No locking: one writer per object. */
#ifndef CUTOVER_METRICS_RESULTS_H
#define CUTOVER_METRICS_RESULTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "metrics/hist.h"
#include "metrics/stats.h"
#include "util/err.h"

/* Rows of the per-second series: a phase keeps at most RES_SERIES_ROWS of them. A row covers
 * row_seconds seconds, chosen when the phase starts from its planned duration (1 s up to an
 * hour; longer phases get coarser rows), so memory stays bounded for a run of any length. Rows
 * past the cap (a phase with no planned duration running over a day) are not kept. */
#define RES_SERIES_ROWS 86400u
#define RES_SERIES_TARGET_ROWS 3600u

/* One row (second, or row_seconds seconds) of a phase, summed over steps and threads. */
typedef struct res_second {
    uint64_t started, completed, errors, dropped, hits, misses;
    uint64_t in_flight; /* sampled when the second ended, summed over threads */
    int64_t p50_us, p95_us, p99_us,
        max_us; /* corrected latency of the second (metrics/secring.h) */
} res_second;

typedef struct res_phase {
    const char *name;
    int executor;     /* scn_executor */
    bool recorded;    /* false: a warm-up, kept out of what targets see */
    bool interrupted; /* stopped early by a signal, an abort or a dying target */
    size_t nsteps;    /* scenario steps + 1 (the action slot) */
    bool *used;       /* used[i]: step i ran in this phase */
    stats_step *steps;
    hist *lateness; /* actual send - intended start, us (open model only) */
    int64_t start_unix_ns, end_unix_ns;
    uint64_t elapsed_ns;
    json_t *server;     /* the servers' own view (metrics/server_stats.h), owned; may be NULL */
    res_second *series; /* per row since the phase started */
    size_t nseconds, series_cap;
    uint32_t row_seconds; /* seconds per series row */
} res_phase;

typedef struct res_run {
    const char *scenario_name;
    const char *scenario_file;
    char scenario_sha256[65];
    unsigned threads;
    int64_t start_unix_ns, end_unix_ns;
    int signal; /* SIGINT/SIGTERM when interrupted by one, else 0 */
    bool interrupted;
    char stop_reason[256]; /* why the run stopped early ("" when it did not) */
    res_phase *phases;
    size_t nphases;
    json_t *breakers; /* what the breaker poller saw (owned), NULL without polling */
} res_run;

/* Prepares a phase for nsteps scenario steps (+1 action slot). Step stats are created
 * lazily by res_phase_step. CUT_ENOMEM on failure. */
int res_phase_init(res_phase *p, const char *name, int executor, bool recorded, size_t nsteps,
                   uint32_t row_seconds, cut_err *err);

/* Seconds per series row for a phase planned to last duration_ns (0: unknown -> 1). */
uint32_t res_row_seconds(int64_t duration_ns);

/* The series row holding time t_ns since the phase start. */
uint64_t res_row_of(const res_phase *p, uint64_t t_ns);
void res_phase_free(res_phase *p);

/* The stats of step i, created on first use (allocates two histograms: call it when the
 * phase starts, not per request). NULL on allocation failure. */
stats_step *res_phase_step(res_phase *p, size_t i);

/* The series row for t_ns since the phase start, growing the series when a new row begins
 * (amortized). NULL past RES_SERIES_ROWS or on allocation failure. */
res_second *res_phase_second(res_phase *p, uint64_t t_ns);
/* The same, by row index. */
res_second *res_phase_row(res_phase *p, uint64_t row);

/* Adds src (one thread's phase) into dst (the run's). */
int res_phase_merge(res_phase *dst, const res_phase *src, cut_err *err);

/* Totals over the steps of a phase (dst must be zeroed; histograms are not touched). */
void res_phase_totals(const res_phase *p, stats_step *dst);

int res_run_init(res_run *r, size_t nphases, cut_err *err);
void res_run_free(res_run *r);

#endif
