/* Token bucket for /api/limited/... (seed 001: requests per minute with a burst). Thread-safe. */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <jansson.h>

struct gw_ratelimit;

/* Returns 0, or -1 when out of memory. The bucket starts full. */
int gw_ratelimit_new(struct gw_ratelimit **out, double per_minute, int burst);
void gw_ratelimit_free(struct gw_ratelimit *rl);
/* 1 if a token was taken; 0 if limited, with *retry_after_s set to when one will be there. */
int gw_ratelimit_take(struct gw_ratelimit *rl, double *retry_after_s);
/* New settings (a value < 0 keeps the old one); the bucket is refilled to its burst. */
void gw_ratelimit_configure(struct gw_ratelimit *rl, double per_minute, int burst);
json_t *gw_ratelimit_status(struct gw_ratelimit *rl);

#endif
