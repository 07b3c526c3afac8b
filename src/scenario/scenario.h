/* scenario.h - a loaded scenario: the immutable, resolved, validated model the driver runs.
 *
 * scn_load_file reads a scenario JSON file (format: README "Scenario format",
 * scenarios/schema.json), expands ${ENV} references in every string value, validates
 * everything, and builds this model. In the model:
 *   - names are resolved to indexes (endpoints, steps, data sets, variables);
 *   - durations are int64 nanoseconds, 0 meaning "not set" where a field is optional;
 *   - every template (URLs, header values, bodies, Redis arguments, SQL parameters, check
 *     values) is compiled (template.h) against the variable table `vars`;
 *   - regular expressions are compiled (POSIX extended); weighted mixes carry a ready
 *     sched_pick alias table.
 *
 * Variables and binding. Data sets are global: any step may use any set. Set `s`
 * contributes the variable "s" (its key column) and, for CSV sets, "s.col" for every
 * column. vars[i] names slot i of every template. To run a step, the driver takes one row
 * from each set the step uses (step->sets: an `over` row in iterations phases, otherwise
 * from its per-thread scn_cursor), fills binding[i] with scn_data_value(vars[i].set's
 * row, vars[i].column) for the variables of those sets, and expands the templates.
 *
 * Memory and threads: everything reachable from a scn_scenario is owned by it and freed
 * by scn_free; nothing may be modified after loading, so any number of threads may read
 * it at once. The json_t subtrees of later sections (breakers, parity, data_checks,
 * targets) are owned references: read them, but do not incref/decref them from several
 * threads at once.
 *
 * Errors: scn_load_file returns 0; CUT_ESYNTAX (the file is not valid JSON: one
 * "file:line:col: message" diagnostic); CUT_EINVAL (one "file: /pointer: message"
 * diagnostic per semantic error, all of them at once); CUT_EIO (unreadable file);
 * CUT_ENOMEM. Diagnostics never contain passwords: URLs and DSNs appear redacted. */
#ifndef CUTOVER_SCENARIO_SCENARIO_H
#define CUTOVER_SCENARIO_SCENARIO_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/sched.h"
#include "scenario/arena.h"
#include "scenario/data.h"
#include "scenario/diag.h"
#include "scenario/template.h"

#define SCN_NONE UINT32_MAX /* "no index" */

/* ---- Endpoints ------------------------------------------------------------------------ */

typedef enum scn_endpoint_type {
    SCN_EP_HTTP = 0,
    SCN_EP_REDIS = 1,
    SCN_EP_POSTGRES = 2,
} scn_endpoint_type;

typedef struct scn_header {
    const char *name;
    scn_tpl value; /* endpoint headers: always literal; step headers: templates */
} scn_header;

typedef struct scn_http_endpoint {
    const char *base_url;         /* without a trailing '/'; may hold user:password */
    const char *base_url_display; /* password replaced by "***" */
    const scn_header *headers;    /* sent with every request (a step's header wins) */
    size_t nheaders;
    uint32_t max_connections;         /* default 64 */
    int64_t timeout_ns;               /* whole request; default 10 s */
    int64_t connect_timeout_ns;       /* default: timeout_ns */
    uint64_t max_body;                /* bytes of response body kept; default 1 MiB */
    const char *const *cache_headers; /* default {"X-Cache-Status", "X-Cache"} */
    size_t ncache_headers;
    /* `cache_values`: header values (case-insensitive) meaning hit and miss; anything else is
     * "other". Defaults: HIT, STALE, UPDATING, REVALIDATED / MISS, EXPIRED. */
    const char *const *cache_hit_values;
    size_t ncache_hit_values;
    const char *const *cache_miss_values;
    size_t ncache_miss_values;
    bool cache_last_hop; /* `cache_hop: "last"`: in "HIT, MISS" lists the last entry counts */
} scn_http_endpoint;

typedef struct scn_redis_endpoint {
    const char *url;     /* redis://[[user]:password@]host[:port][/db] */
    const char *display; /* password replaced by "***" */
    const char *host;
    uint16_t port;        /* default 6379 */
    uint32_t db;          /* default 0 */
    const char *username; /* NULL when absent */
    const char *password; /* NULL when absent */
    uint32_t pool;        /* connections per thread; default 4 */
    int64_t timeout_ns;   /* default 10 s */
} scn_redis_endpoint;

typedef struct scn_pg_endpoint {
    const char *dsn;     /* libpq conninfo: URI or key=value */
    const char *display; /* password replaced by "***" */
    uint32_t pool;       /* connections per thread; default 4 */
    int64_t timeout_ns;  /* default 10 s */
    uint32_t pipeline;   /* queries in flight per connection (libpq pipeline mode); 1 = off */
} scn_pg_endpoint;

typedef struct scn_endpoint {
    const char *name;
    scn_endpoint_type type;
    union {
        scn_http_endpoint http;
        scn_redis_endpoint redis;
        scn_pg_endpoint pg;
    } u;
} scn_endpoint;

/* ---- Steps ---------------------------------------------------------------------------- */

typedef enum scn_step_kind {
    SCN_STEP_HTTP = 0,
    SCN_STEP_REDIS = 1,
    SCN_STEP_SQL = 2,
} scn_step_kind;

typedef enum scn_check_subject {
    SCN_CHECK_STATUS = 0, /* the HTTP status code, as decimal text */
    SCN_CHECK_HEADER = 1, /* a response header (case-insensitive name); absent = no value */
    SCN_CHECK_JSON = 2,   /* a JSON pointer into the response body (RFC 6901) */
} scn_check_subject;

typedef enum scn_check_op {
    SCN_OP_EQUALS = 0,
    SCN_OP_NOT_EQUALS = 1,
    SCN_OP_CONTAINS = 2,
    SCN_OP_EXISTS = 3, /* `exists: true` (present) or `exists: false` (absent) */
    SCN_OP_MATCHES = 4,
} scn_check_op;

/* Values compared: a string's own text; other JSON values as compact JSON text ("42",
 * "true", "null", "{...}"); a header's value; the status as "200". */
typedef struct scn_check {
    scn_check_subject subject;
    const char *target; /* header name or JSON pointer; NULL for status */
    scn_check_op op;
    scn_tpl value; /* equals / not_equals / contains */
    bool exists;   /* SCN_OP_EXISTS: expected presence */
    regex_t regex; /* SCN_OP_MATCHES: REG_EXTENDED | REG_NOSUB, compiled at load */
    const char *pattern;
} scn_check;

typedef struct scn_status_range {
    uint16_t lo, hi; /* inclusive */
} scn_status_range;

typedef struct scn_http_step {
    const char *method; /* upper case; default "GET" */
    scn_tpl url;        /* a path joined to base_url, or absolute when `absolute` */
    bool absolute;      /* url starts with http:// or https:// */
    const scn_header *headers;
    size_t nheaders;
    bool has_body;
    scn_tpl body;   /* a JSON body is compact JSON with JSON-escaped variables */
    bool json_body; /* body was a JSON value: send Content-Type: application/json unless
                       a header sets it */
    const scn_status_range *expect; /* default: 200-399 */
    size_t nexpect;
    const scn_check *checks;
    size_t nchecks;
    bool needs_body; /* some check reads the body (a json check) */
    bool has_cache_key;
    scn_tpl cache_key; /* `cache_key`: what makes a request cold the first time (default: URL) */
} scn_http_step;

typedef struct scn_redis_step {
    const scn_tpl *argv; /* argc >= 1; argv[0] is the command name */
    size_t argc;
} scn_redis_step;

typedef struct scn_sql_step {
    const char *query; /* literal text with $1..$n placeholders */
    const scn_tpl *params;
    size_t nparams; /* equals the highest $n; every $1..$n appears */
} scn_sql_step;

typedef struct scn_step {
    const char *name; /* a phase's action is named after its phase */
    uint32_t index;   /* position in scn_scenario.steps; SCN_NONE for actions */
    scn_step_kind kind;
    uint32_t endpoint;  /* index into scn_scenario.endpoints, of the matching type */
    int64_t timeout_ns; /* step `timeout`, else defaults.timeout, else the endpoint's */
    const char *const *tags;
    size_t ntags;
    const uint32_t *sets; /* data sets this step's templates use, ascending */
    size_t nsets;
    union {
        scn_http_step http;
        scn_redis_step redis;
        scn_sql_step sql;
    } u;
} scn_step;

/* ---- Phases --------------------------------------------------------------------------- */

typedef enum scn_executor {
    SCN_EXEC_ACTION = 0, /* a one-shot `action` step between phases */
    SCN_EXEC_ITERATIONS = 1,
    SCN_EXEC_CONSTANT_ARRIVAL_RATE = 2,
    SCN_EXEC_RAMPING_ARRIVAL_RATE = 3,
    SCN_EXEC_CONSTANT_VUS = 4,
    SCN_EXEC_RAMPING_VUS = 5,
} scn_executor;

typedef struct scn_phase_step {
    uint32_t step;   /* index into scn_scenario.steps */
    uint32_t weight; /* mixes: >= 1; flows: 1 */
} scn_phase_step;

typedef struct scn_phase {
    const char *name;
    uint32_t index;
    scn_executor executor;
    const scn_step *action; /* SCN_EXEC_ACTION only: the inline step (not in steps[]) */

    /* Load phases: what one iteration runs. A flow runs steps[0..nsteps) in order; a mix
     * runs one step picked by weight (pick, over the same order). */
    bool mix;
    const scn_phase_step *steps;
    size_t nsteps;
    const sched_pick *pick; /* mixes only, else NULL */
    const uint32_t *sets;   /* union of the steps' data sets, ascending */
    size_t nsets;

    /* iterations: the cartesian product of `over` (first set slowest, last fastest), run
     * `iterations` times, `concurrency` at once. items = product * iterations. */
    const uint32_t *over;
    size_t nover;
    uint64_t combinations; /* product of the over sets' rows; 1 without over */
    uint64_t iterations;   /* default 1 */
    uint64_t items;
    uint32_t concurrency; /* default 1 */

    /* Open model (arrival-rate executors). */
    double rate;                         /* constant-arrival-rate, per second */
    double start_rate;                   /* ramping-arrival-rate; default 0 */
    const sched_rate_stage *rate_stages; /* ramping-arrival-rate */
    size_t nrate_stages;
    uint64_t max_in_flight; /* default defaults.max_in_flight (1000) */
    int64_t max_lag_ns;     /* default defaults.max_lag (1 s) */

    /* Closed model (VU executors). */
    uint32_t vus;       /* constant-vus */
    uint32_t start_vus; /* ramping-vus; default 0 */
    const sched_vu_stage *vu_stages;
    size_t nvu_stages;

    /* Common. */
    int64_t duration_ns;   /* `duration`; for ramping executors, the stages' sum unless
                              `duration` is shorter; 0 = none */
    uint64_t max_requests; /* 0 = none */
    int64_t think_time_ns; /* pause between iterations of one VU / worker; 0 = none */
    bool record;           /* default true; false keeps the phase out of targets */
    const char *const *tags;
    size_t ntags;
} scn_phase;

/* ---- The scenario ----------------------------------------------------------------------- */

typedef struct scn_var {
    const char *name; /* "set" or "set.column" */
    uint32_t set;     /* index into scn_scenario.data */
    int32_t column;   /* SCN_KEY_COLUMN or a CSV column index */
} scn_var;

typedef struct scn_defaults {
    int64_t timeout_ns;             /* step timeout when neither step nor endpoint sets one; 0 */
    int64_t think_time_ns;          /* default 0 */
    uint64_t max_in_flight;         /* default 1000 */
    int64_t max_lag_ns;             /* default 1 s */
    uint64_t seed;                  /* random data sets without their own seed; default 0 */
    const scn_status_range *expect; /* default 200-399 */
    size_t nexpect;
} scn_defaults;

typedef struct scn_scenario {
    const char *file; /* path as given */
    const char *dir;  /* its folder, for relative paths */
    const char *name;
    const char *description; /* "" when absent */
    scn_defaults defaults;

    const scn_endpoint *endpoints;
    size_t nendpoints;
    const scn_data *data;
    size_t ndata;
    const scn_var *vars; /* template slots; a binding has nvars entries */
    size_t nvars;
    const scn_step *steps;
    size_t nsteps;
    const scn_phase *phases;
    size_t nphases;

    /* Sections validated by later modules; NULL when absent. */
    json_t *breakers;    /* object */
    json_t *parity;      /* object */
    json_t *data_checks; /* array */
    json_t *targets;     /* object */

    scn_arena arena;    /* owns the model's memory */
    sched_pick **picks; /* owned alias tables (freed by scn_free) */
    size_t npicks;
    scn_check **regexes; /* checks with a compiled regex (regfree at scn_free) */
    size_t nregexes;
} scn_scenario;

/* Loads, expands and validates path. On success *out is a new scenario (free with
 * scn_free). On failure *out is NULL and diags (may be NULL; initialised by the caller with
 * scn_diags_init) holds every problem found. */
int scn_load_file(const char *path, scn_scenario **out, scn_diags *diags);

/* Releases a scenario (NULL is accepted). */
void scn_free(scn_scenario *s);

/* Lookups by name: NULL when absent. */
const scn_endpoint *scn_find_endpoint(const scn_scenario *s, const char *name);
const scn_data *scn_find_data(const scn_scenario *s, const char *name);
const scn_step *scn_find_step(const scn_scenario *s, const char *name);
const scn_phase *scn_find_phase(const scn_scenario *s, const char *name);
/* Slot of a variable ("set" or "set.column"), or SCN_NONE. */
uint32_t scn_find_var(const scn_scenario *s, const char *name);

/* iterations phases: the row of each `over` set (rows[0..p->nover)) for item k
 * (k < p->items; item k is combination k % combinations). */
void scn_over_rows(const scn_scenario *s, const scn_phase *p, uint64_t k, uint64_t *rows);

/* True when an HTTP status is in the step's expected list. */
bool scn_status_expected(const scn_http_step *h, int status);

#endif
