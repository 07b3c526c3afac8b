#include "ratelimit.h"
#include "clock.h"

#include <pthread.h>
#include <stdlib.h>

struct gw_ratelimit {
    pthread_mutex_t mu;
    double per_minute;
    int burst;
    double tokens;
    int64_t last_us;
    unsigned long allowed, limited;
};

int gw_ratelimit_new(struct gw_ratelimit **out, double per_minute, int burst)
{
    struct gw_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl) return -1;
    pthread_mutex_init(&rl->mu, NULL);
    rl->per_minute = per_minute;
    rl->burst = burst;
    rl->tokens = burst;
    rl->last_us = gw_mono_us();
    *out = rl;
    return 0;
}

void gw_ratelimit_free(struct gw_ratelimit *rl)
{
    if (!rl) return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

int gw_ratelimit_take(struct gw_ratelimit *rl, double *retry_after_s)
{
    pthread_mutex_lock(&rl->mu);
    int64_t now = gw_mono_us();
    double per_s = rl->per_minute / 60.0;
    rl->tokens += (double)(now - rl->last_us) / 1e6 * per_s;
    if (rl->tokens > rl->burst) rl->tokens = rl->burst;
    rl->last_us = now;
    int ok = rl->tokens >= 1.0;
    if (ok) {
        rl->tokens -= 1.0;
        rl->allowed++;
    } else {
        rl->limited++;
        *retry_after_s = per_s > 0 ? (1.0 - rl->tokens) / per_s : 3600.0;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

void gw_ratelimit_configure(struct gw_ratelimit *rl, double per_minute, int burst)
{
    pthread_mutex_lock(&rl->mu);
    if (per_minute >= 0) rl->per_minute = per_minute;
    if (burst >= 0) rl->burst = burst;
    rl->tokens = rl->burst;
    rl->last_us = gw_mono_us();
    rl->allowed = rl->limited = 0;
    pthread_mutex_unlock(&rl->mu);
}

json_t *gw_ratelimit_status(struct gw_ratelimit *rl)
{
    pthread_mutex_lock(&rl->mu);
    json_t *o = json_pack("{s:f, s:i, s:f, s:I, s:I}", "requests_per_minute", rl->per_minute,
                          "burst", rl->burst, "tokens", rl->tokens, "allowed",
                          (json_int_t)rl->allowed, "limited", (json_int_t)rl->limited);
    pthread_mutex_unlock(&rl->mu);
    return o;
}
