/* Circuit breaker (CLOSED / OPEN / HALF_OPEN) as in seed 001, with a timeline of transitions.
 * Thread-safe. The caller asks gw_breaker_allow() before a call and reports its outcome with
 * gw_breaker_record(); a rejected call must not be recorded. */
#ifndef GW_BREAKER_H
#define GW_BREAKER_H

#include <jansson.h>

struct gw_breaker;

/* Creates a CLOSED breaker. Returns 0, or -1 when out of memory (*out untouched). */
int gw_breaker_new(struct gw_breaker **out, const char *name, int threshold, double timeout_s);
void gw_breaker_free(struct gw_breaker *b);

/* 1 if the call may proceed, 0 if the breaker rejects it (OPEN, or HALF_OPEN with its trial
 * call already in flight). Moves OPEN to HALF_OPEN once the open timeout has passed. */
int gw_breaker_allow(struct gw_breaker *b);
void gw_breaker_record(struct gw_breaker *b, int ok);
/* An admitted call that never reached the backend: frees a HALF_OPEN trial slot, decides nothing.
 */
void gw_breaker_cancel(struct gw_breaker *b);
/* Changes threshold and/or timeout (a value < 0 leaves it as is); the state is kept. */
void gw_breaker_configure(struct gw_breaker *b, int threshold, double timeout_s);
/* Back to CLOSED. With clear_history the timeline and counters are emptied too (admin reset);
 * otherwise the reset is recorded as a transition (manual reset, as in seed 001). */
void gw_breaker_reset(struct gw_breaker *b, int clear_history);
/* Current state name: "CLOSED", "OPEN" or "HALF_OPEN". */
const char *gw_breaker_state(struct gw_breaker *b);
/* New JSON object describing state, config, counters and the transition timeline. */
json_t *gw_breaker_status(struct gw_breaker *b);

#endif
