#include "breaker.h"
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state { CLOSED, OPEN, HALF_OPEN };
static const char *const state_names[] = {"CLOSED", "OPEN", "HALF_OPEN"};

/* Enough for any test run; older entries are dropped and counted. */
#define MAX_TRANSITIONS 512

struct transition {
    enum state from, to;
    int64_t wall_us;
    const char *reason;
};

struct gw_breaker {
    pthread_mutex_t mu;
    char name[64];
    int threshold;
    double timeout_s;
    enum state state;
    int failures; /* consecutive failures while CLOSED */
    int trial_in_flight;
    int64_t opened_mono_us, opened_wall_us;
    unsigned long trips, rejections, successes, failures_total;
    struct transition tl[MAX_TRANSITIONS];
    int tl_len;
    unsigned long tl_dropped;
};

int gw_breaker_new(struct gw_breaker **out, const char *name, int threshold, double timeout_s)
{
    struct gw_breaker *b = calloc(1, sizeof(*b));
    if (!b) return -1;
    pthread_mutex_init(&b->mu, NULL);
    snprintf(b->name, sizeof(b->name), "%s", name);
    b->threshold = threshold;
    b->timeout_s = timeout_s;
    *out = b;
    return 0;
}

void gw_breaker_free(struct gw_breaker *b)
{
    if (!b) return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Caller holds mu. */
static void move(struct gw_breaker *b, enum state to, int64_t wall_us, const char *reason)
{
    if (b->tl_len == MAX_TRANSITIONS) {
        memmove(b->tl, b->tl + 1, sizeof(b->tl[0]) * (MAX_TRANSITIONS - 1));
        b->tl_len--;
        b->tl_dropped++;
    }
    b->tl[b->tl_len++] = (struct transition){b->state, to, wall_us, reason};
    b->state = to;
    b->failures = 0;
    b->trial_in_flight = 0;
    if (to == OPEN) {
        b->opened_mono_us = gw_mono_us();
        b->opened_wall_us = wall_us;
        b->trips++;
    }
}

/* OPEN becomes HALF_OPEN when its timeout ends; stamped with the moment it ended, not the
 * moment somebody looked, so the timeline is exact even when nobody calls for a while. */
static void expire_open(struct gw_breaker *b)
{
    if (b->state != OPEN) return;
    int64_t timeout_us = (int64_t)(b->timeout_s * 1e6);
    if (gw_mono_us() - b->opened_mono_us >= timeout_us)
        move(b, HALF_OPEN, b->opened_wall_us + timeout_us, "open_timeout");
}

int gw_breaker_allow(struct gw_breaker *b)
{
    int ok = 1;
    pthread_mutex_lock(&b->mu);
    expire_open(b);
    if (b->state == OPEN || (b->state == HALF_OPEN && b->trial_in_flight)) {
        b->rejections++;
        ok = 0;
    } else if (b->state == HALF_OPEN) {
        b->trial_in_flight = 1;
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

void gw_breaker_record(struct gw_breaker *b, int ok)
{
    pthread_mutex_lock(&b->mu);
    if (ok)
        b->successes++;
    else
        b->failures_total++;
    switch (b->state) {
    case CLOSED:
        if (ok)
            b->failures = 0;
        else if (++b->failures >= b->threshold)
            move(b, OPEN, gw_wall_us(), "failure_threshold");
        break;
    case HALF_OPEN:
        move(b, ok ? CLOSED : OPEN, gw_wall_us(), ok ? "trial_success" : "trial_failure");
        break;
    case OPEN:
        /* A call admitted before the breaker opened: its outcome changes nothing. */
        break;
    }
    pthread_mutex_unlock(&b->mu);
}

void gw_breaker_cancel(struct gw_breaker *b)
{
    pthread_mutex_lock(&b->mu);
    b->trial_in_flight = 0;
    pthread_mutex_unlock(&b->mu);
}

void gw_breaker_configure(struct gw_breaker *b, int threshold, double timeout_s)
{
    pthread_mutex_lock(&b->mu);
    if (threshold >= 1) b->threshold = threshold;
    if (timeout_s >= 0) b->timeout_s = timeout_s;
    pthread_mutex_unlock(&b->mu);
}

void gw_breaker_reset(struct gw_breaker *b, int clear_history)
{
    pthread_mutex_lock(&b->mu);
    if (clear_history) {
        b->state = CLOSED;
        b->failures = 0;
        b->trial_in_flight = 0;
        b->tl_len = 0;
        b->tl_dropped = 0;
        b->trips = b->rejections = b->successes = b->failures_total = 0;
    } else if (b->state != CLOSED) {
        move(b, CLOSED, gw_wall_us(), "manual_reset");
    }
    pthread_mutex_unlock(&b->mu);
}

const char *gw_breaker_state(struct gw_breaker *b)
{
    pthread_mutex_lock(&b->mu);
    expire_open(b);
    const char *s = state_names[b->state];
    pthread_mutex_unlock(&b->mu);
    return s;
}

static json_t *stamp(int64_t wall_us)
{
    char iso[GW_ISO_LEN];
    gw_iso8601(wall_us, iso);
    return json_string(iso);
}

json_t *gw_breaker_status(struct gw_breaker *b)
{
    json_t *tl = json_array();
    json_t *o = json_object();
    pthread_mutex_lock(&b->mu);
    expire_open(b);
    for (int i = 0; i < b->tl_len; i++) {
        const struct transition *t = &b->tl[i];
        json_array_append_new(tl,
                              json_pack("{s:s, s:s, s:o, s:I, s:s}", "from", state_names[t->from],
                                        "to", state_names[t->to], "at", stamp(t->wall_us), "at_ms",
                                        (json_int_t)(t->wall_us / 1000), "reason", t->reason));
    }
    int64_t timeout_us = (int64_t)(b->timeout_s * 1e6);
    json_object_set_new(o, "name", json_string(b->name));
    json_object_set_new(o, "state", json_string(state_names[b->state]));
    json_object_set_new(o, "failure_count", json_integer(b->failures));
    json_object_set_new(o, "failure_threshold", json_integer(b->threshold));
    json_object_set_new(o, "open_timeout_s", json_real(b->timeout_s));
    json_object_set_new(o, "opened_at", b->state == OPEN ? stamp(b->opened_wall_us) : json_null());
    json_object_set_new(o, "next_attempt_at",
                        b->state == OPEN ? stamp(b->opened_wall_us + timeout_us) : json_null());
    json_object_set_new(o, "trips", json_integer((json_int_t)b->trips));
    json_object_set_new(o, "rejections", json_integer((json_int_t)b->rejections));
    json_object_set_new(o, "successes", json_integer((json_int_t)b->successes));
    json_object_set_new(o, "failures", json_integer((json_int_t)b->failures_total));
    json_object_set_new(o, "transitions_dropped", json_integer((json_int_t)b->tl_dropped));
    pthread_mutex_unlock(&b->mu);
    json_object_set_new(o, "transitions", tl);
    return o;
}
