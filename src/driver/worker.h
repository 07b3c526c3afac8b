/* worker.h - internal to the driver: the coordinator (run.c), one worker thread with its
 * libuv loop and protocol clients (worker.c), the executors that schedule iterations
 * (exec.c) and the execution of one step (request.c).
 *
 * Threads. The coordinator runs on the caller's thread with its own loop (signals,
 * progress, notifications). Each worker owns a loop, a client per endpoint and, while a
 * phase runs, that phase's per-thread results; nothing a worker writes is read by another
 * thread until the worker acknowledges the command (under run->mu). Counters read by the
 * progress line are atomics.
 *
 * Memory. Request records (wk_req), lanes (wk_lane) and their buffers are allocated when a
 * phase starts and freed when it ends: nothing is allocated per request except when a
 * buffer first meets a longer expansion. */
#ifndef CUTOVER_DRIVER_WORKER_H
#define CUTOVER_DRIVER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "driver/hrtimer.h"
#include "driver/http.h"
#include "driver/pg.h"
#include "driver/redis.h"
#include "driver/run.h"
#include "driver/sched.h"
#include "metrics/keyset.h"
#include "metrics/results.h"
#include "metrics/secring.h"
#include "scenario/scenario.h"
#include "util/jptr.h"

typedef struct wk_thread wk_thread;
typedef struct wk_lane wk_lane;

typedef enum wk_cmd {
    WK_IDLE = 0,
    WK_PREFLIGHT, /* connect every endpoint the scenario uses */
    WK_PHASE,     /* run phase run->phase_idx (actions: thread 0 only) */
    WK_EXIT,      /* close clients and end the loop */
} wk_cmd;

typedef struct wk_client {
    wk_thread *owner;
    uint32_t index; /* endpoint index */
    scn_endpoint_type type;
    bool used;
    drv_http *http;
    drv_redis *redis;
    drv_pg *pg;
    /* Requests waiting for a free connection, oldest first (wk_req.next_wait). */
    struct wk_req *wait_head, *wait_tail;
} wk_client;

/* One iteration in flight: the step it runs, its data rows and expansion buffers. */
typedef struct wk_req {
    wk_thread *w;
    wk_lane *lane; /* closed model / iterations: the lane running it; open: NULL */
    struct wk_req *next_free;
    struct wk_req *next_wait;
    const scn_step *step; /* current step */
    uint32_t slot;        /* results slot: step->index, or the action slot */
    uint32_t flow_pos;    /* position in the phase's step list */
    uint64_t intended;    /* uv_hrtime() the current step should have started at */
    uint64_t sent;        /* uv_hrtime() when handed to the client */
    scn_value *binding;   /* nvars values */
    char (*scratch)[SCN_SCRATCH];
    uint64_t *rows; /* per data set: the row used, UINT64_MAX when none yet */
    char *buf;      /* expansions: URL, headers, body, Redis argv, SQL params */
    size_t cap;
    const char **ptrs; /* header lines / argv / params pointers into buf */
    size_t *lens;
    size_t nptrs_cap;
} wk_req;

/* A closed-model virtual user, or one concurrency slot of an iterations phase. */
struct wk_lane {
    wk_thread *w;
    uint32_t id;
    bool active;   /* should keep iterating */
    bool busy;     /* an iteration (or its think time) is under way */
    bool thinking; /* waiting out think time */
    uv_timer_t think;
    wk_req *req;
};

typedef struct wk_phase {
    const scn_phase *ph;
    res_phase res;
    uint64_t t0;       /* uv_hrtime() at start */
    uint64_t t_end;    /* uv_hrtime() bound from `duration`, 0 = none */
    uint64_t max_iter; /* this thread's share of max_requests, 0 = none */
    uint64_t iter_started;
    uint32_t in_flight;  /* iterations under way */
    bool stopping;       /* start no new iteration */
    bool stop_requested; /* a signal or abort: flows end after their current step */
    bool finished;
    uv_timer_t tick;  /* open model: arrivals; others: duration bound */
    uv_timer_t grace; /* after a stop request: give in-flight work this long */
    int open_handles; /* timers still to close before the phase can end */
    /* open model */
    hrt_timer arrival; /* fires at the next intended start, to the microsecond */
    bool arrival_open;
    sched_arrivals *arr;
    uint64_t issued;
    uint64_t max_in_flight;
    /* closed model and iterations */
    sched_vus *vus;
    wk_lane *lanes;
    uint32_t nlanes;
    uint32_t lanes_busy;
    sched_part part;
    uint64_t next_item;
    uint64_t *over_rows; /* rows of the `over` sets for the item being started */
    int depth;           /* lane_next nesting, to break synchronous failure loops */
    /* request records */
    wk_req *reqs;
    wk_req *free;
    uint32_t nreqs;
    /* per-second bookkeeping for the series and the progress line */
    hist *sec_hist;
    uint64_t sec_index;
} wk_phase;

struct wk_thread {
    drv_run *run;
    uint32_t index;
    pthread_t tid;
    bool started;
    uv_loop_t loop;
    uv_async_t wake;
    wk_cmd cmd;         /* under run->mu */
    wk_client *clients; /* per endpoint */
    int *pg_stmt;       /* per step (and actions): prepared statement id, -1 none */
    char **redis_pre;   /* per step (and actions): the RESP of a command without variables */
    size_t *redis_pre_len;
    scn_cursor *cursors; /* per data set */
    sched_rng rng;       /* mixes */
    wk_phase phase;
    bool in_phase;
    uv_idle_t serve; /* starts waiting requests the loop turn after capacity frees */
    int pending;     /* preflight callbacks / client closes outstanding */
    bool cmd_exit;   /* WK_EXIT received: end the loop once the clients are closed */
    int fail_code;   /* preflight or action failure: CUT_E* */
    char fail_msg[512];
    /* progress (read by the coordinator) */
    _Atomic uint64_t p_started, p_completed, p_errors, p_dropped, p_p95_us;
};

/* The coordinator's state shared with workers. */
struct drv_run {
    const scn_scenario *s;
    drv_run_opts opts;
    unsigned nthreads;
    wk_thread *threads;
    jptr ***check_ptrs; /* [step slot][check]: compiled JSON pointers, shared read-only */
    size_t nslots;      /* steps + 1 per phase with an action */
    const scn_step **slot_step;
    pthread_mutex_t mu;
    unsigned acks; /* workers done with the current command (under mu) */
    size_t phase_idx;
    _Atomic int stop_signal; /* 0, SIGINT, SIGTERM, or -1 for an abort */
    sring *seconds;          /* per-second percentiles of the running phase, over all threads */
    kset *cold_keys;         /* cache keys seen since the last purge (cold/warm without a header) */
    uv_loop_t loop;
    uv_async_t notify;
};

/* worker.c */
int wk_init(wk_thread *w, drv_run *run, uint32_t index, cut_err *err);
void wk_command(wk_thread *w, wk_cmd cmd); /* from the coordinator's thread */
void wk_ack(wk_thread *w);                 /* from the worker: command done */
void wk_destroy(wk_thread *w);             /* after the thread was joined */
/* Closes every client (idempotent): requests in flight complete as aborted. */
void wk_close_clients(wk_thread *w);

/* exec.c */
int exec_phase_start(wk_thread *w, const scn_phase *ph, cut_err *err);
void exec_stop(wk_thread *w);        /* a stop request reached this worker */
void exec_iteration_done(wk_req *q); /* request.c: the last step of an iteration ended */
/* Counts an arrival (or a step) that was not sent; lag: later than max_lag, else no room. */
void exec_drop(wk_thread *w, uint32_t slot, bool lag);

/* request.c */
int req_alloc(wk_req *q, wk_thread *w, cut_err *err);
void req_free(wk_req *q);
/* Picks the rows and starts step `first_pos` of an iteration (see req_first_pos); a
 * failure to send is counted as an error of that step. `intended` is the scheduled start
 * (uv_hrtime). Returns false, starting nothing, when a unique data set is used up. */
bool req_begin(wk_req *q, uint64_t intended, const uint64_t *over_rows, uint32_t first_pos);
/* Drops every request waiting for a connection (a stop request). */
void req_drop_waiting(wk_thread *w);
void req_serve_init(wk_thread *w);
/* The current second ended: its histogram goes to the run's ring (exec.c calls it at the end). */
void req_second_over(wk_thread *w);
/* First step of the phase's iteration (flow: the first; mix: a weighted pick). */
uint32_t req_first_pos(wk_thread *w);

#endif
