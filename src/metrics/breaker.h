/* breaker.h - circuit breakers seen from outside (seed 001): the scenario's `breakers`
 * section, the rejection signature that classifies responses, and the tracker that turns
 * polls of a status endpoint into state transitions, trips and open time.
 *
 *   "breakers": {"endpoint": "gw", "url": "/circuit-breakers/status", "interval": "500ms",
 *                "state": "/breakers/ * /state", "open": ["OPEN"], "half_open": ["HALF_OPEN"],
 *                "closed": ["CLOSED"],
 *                "rejection": {"status": 503, "json": "/metadata/error_code",
 *                              "equals": "CIRCUIT_OPEN"}}
 *
 * `state` is a JSON pointer with `*` wildcards; every value it matches is one breaker, named
 * by its concrete pointer. `url` and `interval` (default 1s) are optional when only the
 * rejection signature is wanted; `open`/`half_open`/`closed` default to OPEN, HALF_OPEN and
 * CLOSED (compared case-insensitively). Responses matching `rejection` are counted as breaker
 * rejections, apart from errors.
 *
 * Memory: brk_config and brk_tracker own everything they point to; free with their _free.
 * A config is read-only after loading (threads share it); a tracker has one writer. */
#ifndef CUTOVER_METRICS_BREAKER_H
#define CUTOVER_METRICS_BREAKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "util/err.h"
#include "util/jptr.h"

typedef enum brk_state {
    BRK_UNKNOWN = 0,
    BRK_CLOSED,
    BRK_HALF_OPEN,
    BRK_OPEN,
} brk_state;

typedef struct brk_config {
    uint32_t endpoint;   /* http endpoint polled (index into scenario endpoints) */
    char *url;           /* status path or absolute URL; NULL: no polling */
    int64_t interval_ns; /* poll period */
    jptr *state;         /* where the states are */
    char **open, **half_open, **closed;
    size_t nopen, nhalf_open, nclosed;
    bool has_rejection;
    int rejection_status;   /* 0: any status */
    jptr *rejection_ptr;    /* NULL: status alone */
    char *rejection_equals; /* NULL with a pointer: the value only has to exist */
} brk_config;

/* Reads s->breakers. *out is NULL when the scenario has no such section. Problems are added
 * to d as "file: /breakers/...: message" (all of them); returns CUT_EINVAL when any. */
int brk_config_load(const scn_scenario *s, brk_config **out, scn_diags *d);
void brk_config_free(brk_config *c);

/* The state a status value stands for. */
brk_state brk_classify(const brk_config *c, const char *value);
const char *brk_state_name(brk_state st);

/* True when a response matches the rejection signature (parses the body only when the status
 * matches; bounded by the caller's body buffer). */
bool brk_is_rejection(const brk_config *c, int status, const char *body, size_t len);

/* ---- the tracker: what the polls saw -------------------------------------------------------- */

typedef struct brk_transition {
    char *breaker; /* concrete JSON pointer of its state */
    brk_state from, to;
    int64_t unix_ms; /* when the poll saw it */
    double t_s;      /* seconds since the tracker started */
} brk_transition;

typedef struct brk_tracker brk_tracker;

int brk_tracker_new(const brk_config *c, int64_t start_unix_ms, brk_tracker **out, cut_err *err);
void brk_tracker_free(brk_tracker *t);

/* Feeds one successful poll (a parsed status document) seen at unix_ms. */
void brk_tracker_observe(brk_tracker *t, const json_t *doc, int64_t unix_ms);
/* A poll that failed (unreachable, bad status, not JSON). */
void brk_tracker_poll_failed(brk_tracker *t);
/* How many breakers the last poll saw open. */
unsigned brk_tracker_open_now(const brk_tracker *t);

/* The run-level "breakers" object: endpoint, url, interval_s, polls, poll_errors, trips
 * (transitions into open), open_seconds (time in open between polls, up to end_unix_ms),
 * transitions [{breaker, from, to, t, at_ms}], final states. rejections is filled in by the
 * caller. The caller owns the result. */
json_t *brk_tracker_json(const brk_tracker *t, const scn_scenario *s, int64_t end_unix_ms);

#endif
