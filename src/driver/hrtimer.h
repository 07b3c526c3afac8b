/* hrtimer.h - a one-shot timer with nanosecond resolution on a libuv loop.
 *
 * libuv timers count whole milliseconds of the loop's cached clock, so an arrival due in
 * 0.3 ms fires up to 1 ms late, and the open model's corrected latency would include the
 * scheduler's own lateness. This timer is a timerfd (CLOCK_MONOTONIC, the clock of
 * uv_hrtime) watched by a uv_poll_t: it fires within the kernel's timer slack of the
 * deadline. Linux only.
 *
 * Memory: the caller owns the hrt_timer; it must stay valid until the close callback. */
#ifndef CUTOVER_DRIVER_HRTIMER_H
#define CUTOVER_DRIVER_HRTIMER_H

#include <stdint.h>
#include <uv.h>

#include "util/err.h"

typedef struct hrt_timer hrt_timer;
typedef void (*hrt_cb)(hrt_timer *t);

struct hrt_timer {
    uv_poll_t poll; /* first: the close callback receives &poll */
    int fd;
    hrt_cb cb;
    void *data;
};

/* Creates the timerfd and its poll handle on loop. CUT_EIO on failure (nothing to close). */
int hrt_init(uv_loop_t *loop, hrt_timer *t, hrt_cb cb, cut_err *err);

/* Arms the timer for the absolute uv_hrtime() value `when_ns` (past values fire at once). */
int hrt_start_at(hrt_timer *t, uint64_t when_ns);

void hrt_stop(hrt_timer *t);

/* Stops and closes; close_cb gets (uv_handle_t *)&t->poll, whose data is t->data. */
void hrt_close(hrt_timer *t, uv_close_cb close_cb);

#endif
