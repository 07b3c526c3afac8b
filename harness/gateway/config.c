/* Flags and environment. Defaults follow the seeds: breaker 5 failures / 60 s, rate limit
 * 100 per minute with a burst of 20 (seed 001), enrollments cache TTL 300 s (seed 004). */
#include "gateway.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cutover-gateway [serve] [options]    run one deployment (v1 or v2)\n"
    "       cutover-gateway seed [options]       create and fill the PostgreSQL and Redis data\n"
    "       cutover-gateway migrate [options]    copy Redis documents/analyses into PostgreSQL\n"
    "common:  --pg DSN (CUTOVER_PG_DSN)  --redis URL (CUTOVER_REDIS_URL)\n"
    "serve:   --deployment v1|v2 (GW_DEPLOYMENT)  --port N (GW_PORT)  --pid-file PATH\n"
    "         --pg-pool N (16)  --redis-pool N (16)\n"
    "         --breaker-threshold N (CIRCUIT_BREAKER_FAILURE_THRESHOLD, 5)\n"
    "         --breaker-timeout S (CIRCUIT_BREAKER_TIMEOUT_SECONDS, 60)\n"
    "         --rate-limit-rpm N (RATE_LIMIT_REQUESTS_PER_MINUTE, 100)\n"
    "         --rate-limit-burst N (RATE_LIMIT_BURST_SIZE, 20)\n"
    "         --cache-ttl S (CACHE_TTL_ENROLLMENTS, 300)\n"
    "         --nginx-cache-dir DIR (GW_NGINX_CACHE_DIR; enables /admin/cache/purge)\n"
    "seed:    --agencies N (20)  --documents N (200)  --sessions N (20)  --enrollments N (50)\n"
    "migrate: --skip K  --corrupt M  --extra P  --seed S (1)  --dry-run\n"
    "         prints one JSON object naming every skipped key, corrupted field and extra row\n";

enum {
    O_PG = 256,
    O_REDIS,
    O_DEPLOY,
    O_PORT,
    O_PID,
    O_PGPOOL,
    O_RPOOL,
    O_BTHRESH,
    O_BTIMEOUT,
    O_RLRPM,
    O_RLBURST,
    O_TTL,
    O_CACHEDIR,
    O_AGENCIES,
    O_DOCS,
    O_SESSIONS,
    O_ENROLL,
    O_SKIP,
    O_CORRUPT,
    O_EXTRA,
    O_SEED,
    O_DRY,
    O_HELP
};

static const struct option opts[] = {{"pg", 1, 0, O_PG},
                                     {"redis", 1, 0, O_REDIS},
                                     {"deployment", 1, 0, O_DEPLOY},
                                     {"port", 1, 0, O_PORT},
                                     {"pid-file", 1, 0, O_PID},
                                     {"pg-pool", 1, 0, O_PGPOOL},
                                     {"redis-pool", 1, 0, O_RPOOL},
                                     {"breaker-threshold", 1, 0, O_BTHRESH},
                                     {"breaker-timeout", 1, 0, O_BTIMEOUT},
                                     {"rate-limit-rpm", 1, 0, O_RLRPM},
                                     {"rate-limit-burst", 1, 0, O_RLBURST},
                                     {"cache-ttl", 1, 0, O_TTL},
                                     {"nginx-cache-dir", 1, 0, O_CACHEDIR},
                                     {"agencies", 1, 0, O_AGENCIES},
                                     {"documents", 1, 0, O_DOCS},
                                     {"sessions", 1, 0, O_SESSIONS},
                                     {"enrollments", 1, 0, O_ENROLL},
                                     {"skip", 1, 0, O_SKIP},
                                     {"corrupt", 1, 0, O_CORRUPT},
                                     {"extra", 1, 0, O_EXTRA},
                                     {"seed", 1, 0, O_SEED},
                                     {"dry-run", 0, 0, O_DRY},
                                     {"help", 0, 0, O_HELP},
                                     {0, 0, 0, 0}};

/* Parses a number in [min, max]; -1 and a message on error. */
static int num(const char *name, const char *s, double min, double max, double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || v < min || v > max) {
        fprintf(stderr, "cutover-gateway: %s must be a number in [%g, %g]\n", name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int inum(const char *name, const char *s, int min, int max, int *out)
{
    double v;
    if (num(name, s, min, max, &v) < 0) return -1;
    if (v != (int)v) {
        fprintf(stderr, "cutover-gateway: %s must be an integer\n", name);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int env_defaults(struct gw_config *c)
{
    const char *v;
    c->deployment = getenv("GW_DEPLOYMENT") ? getenv("GW_DEPLOYMENT") : "v1";
    c->pg_dsn = getenv("CUTOVER_PG_DSN");
    c->redis_url = getenv("CUTOVER_REDIS_URL");
    c->nginx_cache_dir = getenv("GW_NGINX_CACHE_DIR");
    if ((v = getenv("GW_PORT")) && inum("GW_PORT", v, 1, 65535, &c->port) < 0) return -1;
    if ((v = getenv("CIRCUIT_BREAKER_FAILURE_THRESHOLD")) &&
        inum("CIRCUIT_BREAKER_FAILURE_THRESHOLD", v, 1, 1000000, &c->breaker_threshold) < 0)
        return -1;
    if ((v = getenv("CIRCUIT_BREAKER_TIMEOUT_SECONDS")) &&
        num("CIRCUIT_BREAKER_TIMEOUT_SECONDS", v, 0, 86400, &c->breaker_timeout_s) < 0)
        return -1;
    if ((v = getenv("RATE_LIMIT_REQUESTS_PER_MINUTE")) &&
        num("RATE_LIMIT_REQUESTS_PER_MINUTE", v, 0, 1e9, &c->rl_per_minute) < 0)
        return -1;
    if ((v = getenv("RATE_LIMIT_BURST_SIZE")) &&
        inum("RATE_LIMIT_BURST_SIZE", v, 0, 1000000, &c->rl_burst) < 0)
        return -1;
    if ((v = getenv("CACHE_TTL_ENROLLMENTS")) &&
        inum("CACHE_TTL_ENROLLMENTS", v, 1, 86400 * 30, &c->cache_ttl_s) < 0)
        return -1;
    return 0;
}

static int apply(struct gw_config *c, int opt, const char *a)
{
    double d;
    switch (opt) {
    case O_PG:
        c->pg_dsn = a;
        return 0;
    case O_REDIS:
        c->redis_url = a;
        return 0;
    case O_DEPLOY:
        c->deployment = a;
        return 0;
    case O_PID:
        c->pid_file = a;
        return 0;
    case O_CACHEDIR:
        c->nginx_cache_dir = a;
        return 0;
    case O_DRY:
        c->dry_run = 1;
        return 0;
    case O_PORT:
        return inum("--port", a, 1, 65535, &c->port);
    case O_PGPOOL:
        return inum("--pg-pool", a, 1, 512, &c->pg_pool);
    case O_RPOOL:
        return inum("--redis-pool", a, 1, 512, &c->redis_pool);
    case O_BTHRESH:
        return inum("--breaker-threshold", a, 1, 1000000, &c->breaker_threshold);
    case O_BTIMEOUT:
        return num("--breaker-timeout", a, 0, 86400, &c->breaker_timeout_s);
    case O_RLRPM:
        return num("--rate-limit-rpm", a, 0, 1e9, &c->rl_per_minute);
    case O_RLBURST:
        return inum("--rate-limit-burst", a, 0, 1000000, &c->rl_burst);
    case O_TTL:
        return inum("--cache-ttl", a, 1, 86400 * 30, &c->cache_ttl_s);
    case O_AGENCIES:
        return inum("--agencies", a, 1, 100000, &c->agencies);
    case O_DOCS:
        return inum("--documents", a, 0, 10000000, &c->documents);
    case O_SESSIONS:
        return inum("--sessions", a, 0, 10000000, &c->sessions);
    case O_ENROLL:
        return inum("--enrollments", a, 0, 10000000, &c->enrollments);
    case O_SKIP:
        return inum("--skip", a, 0, 10000000, &c->skip);
    case O_CORRUPT:
        return inum("--corrupt", a, 0, 10000000, &c->corrupt);
    case O_EXTRA:
        return inum("--extra", a, 0, 10000000, &c->extra);
    case O_SEED:
        if (num("--seed", a, 0, 4294967295.0, &d) < 0) return -1;
        c->rng_seed = (unsigned long)d;
        return 0;
    default:
        return -1;
    }
}

const char *gw_config_parse(struct gw_config *c, int argc, char **argv)
{
    *c = (struct gw_config){.pg_pool = 16,
                            .redis_pool = 16,
                            .breaker_threshold = 5,
                            .breaker_timeout_s = 60,
                            .rl_per_minute = 100,
                            .rl_burst = 20,
                            .cache_ttl_s = 300,
                            .agencies = 20,
                            .documents = 200,
                            .sessions = 20,
                            .enrollments = 50,
                            .rng_seed = 1};
    const char *cmd = "serve";
    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argv++;
        argc--;
    }
    if (strcmp(cmd, "serve") && strcmp(cmd, "seed") && strcmp(cmd, "migrate")) {
        fprintf(stderr, "cutover-gateway: unknown command '%s'\n%s", cmd, usage);
        return NULL;
    }
    if (env_defaults(c) < 0) return NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == O_HELP) {
            fputs(usage, stdout);
            return "help";
        }
        if (opt == '?' || apply(c, opt, optarg) < 0) {
            fputs(usage, stderr);
            return NULL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cutover-gateway: unexpected argument '%s'\n", argv[optind]);
        return NULL;
    }
    if (!c->pg_dsn || !c->redis_url) {
        fprintf(stderr, "cutover-gateway: --pg and --redis (or CUTOVER_PG_DSN and "
                        "CUTOVER_REDIS_URL) are required\n");
        return NULL;
    }
    if (strcmp(cmd, "serve") == 0) {
        if (strcmp(c->deployment, "v1") && strcmp(c->deployment, "v2")) {
            fprintf(stderr, "cutover-gateway: --deployment must be v1 or v2\n");
            return NULL;
        }
        if (!c->port) {
            fprintf(stderr, "cutover-gateway: --port (or GW_PORT) is required\n");
            return NULL;
        }
    }
    return cmd;
}
