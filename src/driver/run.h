/* run.h - run a loaded scenario's phases on N event-loop threads.
 *
 * drv_run validates nothing (the scenario is already loaded and valid): it starts the
 * worker threads, connects every endpoint the scenario uses on every thread (preflight),
 * runs the phases in order (actions on one thread, load phases on all, each taking an
 * exact share of rates, VUs, items and unique rows: SCENARIO.md section 2) and merges the
 * threads' measurements into `out` after each phase.
 *
 * SIGINT and SIGTERM stop scheduling, let requests in flight finish for `grace_ns`, and
 * return what was measured with out->interrupted set; a second signal exits the process at
 * once (128 + signal).
 *
 * Returns DRV_RUN_OK, DRV_RUN_INTERRUPTED (by a signal: out->signal says which),
 * DRV_RUN_ABORTED (opts->phase_done asked to stop: out->stop_reason says why),
 * DRV_RUN_PREFLIGHT (an endpoint could not be reached, or an action failed: err says
 * which; out holds what ran before) or a negative CUT_E* code for internal failures.
 * out is filled in every case but a negative code; the caller frees it with res_run_free. */
#ifndef CUTOVER_DRIVER_RUN_H
#define CUTOVER_DRIVER_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics/results.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct drv_run drv_run;

typedef enum drv_progress_mode {
    DRV_PROGRESS_AUTO = 0, /* a live line on a TTY, plain periodic lines otherwise */
    DRV_PROGRESS_QUIET,
    DRV_PROGRESS_PLAIN,
} drv_progress_mode;

typedef struct drv_run_opts {
    unsigned threads;  /* 0 = cores available */
    uint64_t grace_ns; /* after a stop request; 0 = 5 s */
    drv_progress_mode progress;
    int progress_fd;                   /* where progress goes; 2 (stderr) when 0 */
    const struct brk_config *breakers; /* the scenario\'s breakers section, or NULL */
    /* Called on the coordinator's thread after each phase's results are merged; a non-zero
     * return stops the run (DRV_RUN_ABORTED) with `reason` as its stop reason. */
    int (*phase_done)(void *ud, const res_run *run, char *reason, size_t cap);
    void *phase_done_ud;
} drv_run_opts;

enum {
    DRV_RUN_OK = 0,
    DRV_RUN_INTERRUPTED = 1,
    DRV_RUN_PREFLIGHT = 2,
    DRV_RUN_ABORTED = 3, /* phase_done asked to stop (a target with abort_on_fail missed) */
};

int drv_run_scenario(const scn_scenario *s, const drv_run_opts *opts, res_run *out, cut_err *err);

/* Cores this process may run on (sched_getaffinity), at least 1. */
unsigned drv_cores_available(void);

#endif
