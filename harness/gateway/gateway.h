/* The shared state of one gateway process (one deployment, v1 or v2). */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include "breaker.h"
#include "drift.h"
#include "faults.h"
#include "pool.h"
#include "ratelimit.h"

#include <stdatomic.h>

struct gw_config {
    const char *deployment; /* "v1" or "v2" */
    int port;
    const char *pg_dsn;
    const char *redis_url;
    int pg_pool, redis_pool;
    int breaker_threshold;
    double breaker_timeout_s;
    double rl_per_minute;
    int rl_burst;
    int cache_ttl_s;
    const char *nginx_cache_dir; /* NULL: /admin/cache/purge is refused */
    const char *pid_file;
    /* seed */
    int agencies, documents, sessions, enrollments;
    /* migrate */
    int skip, corrupt, extra, dry_run;
    unsigned long rng_seed;
};

struct gw_redis_target {
    char host[256];
    int port;
    int db;
    char password[256];
};

struct gw {
    struct gw_config cfg;
    struct gw_redis_target redis_target;
    struct gw_pool *pg;
    struct gw_pool *redis;
    struct gw_breaker *breaker;
    struct gw_ratelimit *rl;
    struct gw_faults *faults;
    struct gw_drift *drift;
    atomic_ulong requests;
};

/* Parses argv/env into cfg (defaults first, env over defaults, flags over env). Returns the
 * subcommand ("serve", "seed", "migrate"), "help" after printing the usage, or NULL after
 * printing errors to stderr. */
const char *gw_config_parse(struct gw_config *cfg, int argc, char **argv);

#endif
