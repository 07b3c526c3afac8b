/* breaker_poll.h - polls the scenario's breaker status endpoint on the coordinator's loop
 * while the run lasts, and feeds a brk_tracker (metrics/breaker.h).
 *
 * Memory: bpoll_start allocates the poller; bpoll_stop hands back the tracker's JSON and
 * frees the poller once its handles are closed (asynchronously, on the same loop). */
#ifndef CUTOVER_DRIVER_BREAKER_POLL_H
#define CUTOVER_DRIVER_BREAKER_POLL_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "metrics/breaker.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct bpoll bpoll;

/* Starts polling cfg->url every cfg->interval_ns (first poll at once). CUT_EINVAL/CUT_ENOMEM/
 * CUT_EIO when the client cannot be set up. */
int bpoll_start(uv_loop_t *loop, const scn_scenario *s, const brk_config *cfg,
                int64_t start_unix_ms, bpoll **out, cut_err *err);

/* Stops polling; *result (caller-owned) is the run-level "breakers" object. */
void bpoll_stop(bpoll *p, int64_t end_unix_ms, json_t **result);

#endif
