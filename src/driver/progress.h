/* progress.h - the live progress line (TTY) or periodic plain lines (pipes, CI logs).
 * Honours NO_COLOR; prints nothing when quiet. Runs on the coordinator's thread and reads
 * only the workers' atomic counters. */
#ifndef CUTOVER_DRIVER_PROGRESS_H
#define CUTOVER_DRIVER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/run.h"
#include "scenario/scenario.h"

struct wk_thread;

typedef struct drv_progress {
    int fd;
    bool quiet, tty, color;
    uint64_t interval_ms;
    const scn_phase *ph;
    size_t idx, n;
    uint64_t t_phase0, t_last;
    uint64_t last_completed;
    bool line_open; /* a TTY line without its newline yet */
} drv_progress;

void drv_progress_init(drv_progress *p, const drv_run_opts *o);
void drv_progress_phase(drv_progress *p, const scn_phase *ph, size_t idx, size_t n);
void drv_progress_tick(drv_progress *p, struct wk_thread *threads, unsigned nthreads);
void drv_progress_end(drv_progress *p);

#endif
