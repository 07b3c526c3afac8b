/* Run-time control: drift, faults, breaker and rate-limit settings, reset, cache purge. Every body
 * is validated field by field; bad JSON or a bad field answers 400 with the reason. */
#include "backend.h"
#include "jsonv.h"
#include "purge.h"
#include "routes.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t purge_mu = PTHREAD_MUTEX_INITIALIZER;

static int is_post(const struct gw_req *q)
{
    return strcmp(q->method, "POST") == 0;
}

static void ok(struct gw_reply *r, json_t *data)
{
    gw_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "success", "data", data));
}

static json_t *breaker_config(struct gw *gw)
{
    json_t *st = gw_breaker_status(gw->breaker);
    json_t *o = json_pack("{s:O, s:O, s:O}", "state", json_object_get(st, "state"),
                          "failure_threshold", json_object_get(st, "failure_threshold"),
                          "open_timeout_s", json_object_get(st, "open_timeout_s"));
    json_decref(st);
    return o;
}

void gw_route_admin_status(struct gw_req *q, struct gw_reply *r)
{
    struct gw *gw = q->gw;
    ok(r, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:s?}", "deployment", gw->cfg.deployment,
                    "requests", (json_int_t)atomic_load(&gw->requests), "drift",
                    gw_drift_status(gw->drift), "faults", gw_faults_status(gw->faults), "breaker",
                    breaker_config(gw), "rate_limit", gw_ratelimit_status(gw->rl),
                    "nginx_cache_dir", gw->cfg.nginx_cache_dir));
}

void gw_route_admin_drift(struct gw_req *q, struct gw_reply *r)
{
    char err[512];
    if (is_post(q)) {
        json_t *body = gw_req_json(q, r, 0);
        if (!body) return;
        int rc = gw_drift_set(q->gw->drift, body, err, sizeof(err));
        json_decref(body);
        if (rc < 0) {
            gw_reply_error(r, q, 400, "VALIDATION_ERROR", "%s", err);
            return;
        }
        fprintf(stderr, "cutover-gateway %s: drift set\n", q->gw->cfg.deployment);
    }
    ok(r, gw_drift_status(q->gw->drift));
}

void gw_route_admin_faults(struct gw_req *q, struct gw_reply *r)
{
    char err[512];
    if (is_post(q)) {
        struct gw_fault_spec spec;
        json_t *body = gw_req_json(q, r, 0);
        if (!body) return;
        int rc = gw_faults_parse(body, &spec, err, sizeof(err));
        json_decref(body);
        if (rc < 0) {
            gw_reply_error(r, q, 400, "VALIDATION_ERROR", "%s", err);
            return;
        }
        gw_faults_set(q->gw->faults, &spec);
        fprintf(stderr, "cutover-gateway %s: faults set\n", q->gw->cfg.deployment);
    }
    ok(r, gw_faults_status(q->gw->faults));
}

/* {"failure_threshold": N, "open_timeout_s": S}, either optional; "reset": true also closes it. */
void gw_route_admin_breaker(struct gw_req *q, struct gw_reply *r)
{
    static const char *const keys[] = {"failure_threshold", "open_timeout_s", "reset", NULL};
    char err[256];
    long threshold = -1;
    double timeout = -1;
    json_t *body = gw_req_json(q, r, 0);
    if (!body) return;
    json_t *reset = json_object_get(body, "reset");
    if (gw_jv_keys(body, keys, err, sizeof(err)) < 0 ||
        gw_jv_int(body, "failure_threshold", 1, 1000000, &threshold, err, sizeof(err)) < 0 ||
        gw_jv_number(body, "open_timeout_s", 0, 86400, &timeout, err, sizeof(err)) < 0) {
        json_decref(body);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "%s", err);
        return;
    }
    if (reset && !json_is_boolean(reset)) {
        json_decref(body);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "\"reset\" must be a boolean");
        return;
    }
    gw_breaker_configure(q->gw->breaker, (int)threshold, timeout);
    if (json_is_true(reset)) gw_breaker_reset(q->gw->breaker, 0);
    json_decref(body);
    ok(r, gw_breaker_status(q->gw->breaker));
}

/* {"requests_per_minute": R, "burst": B}; the bucket is refilled. */
void gw_route_admin_ratelimit(struct gw_req *q, struct gw_reply *r)
{
    static const char *const keys[] = {"requests_per_minute", "burst", NULL};
    char err[256];
    double rpm = -1;
    long burst = -1;
    json_t *body = gw_req_json(q, r, 0);
    if (!body) return;
    if (gw_jv_keys(body, keys, err, sizeof(err)) < 0 ||
        gw_jv_number(body, "requests_per_minute", 0, 1e9, &rpm, err, sizeof(err)) < 0 ||
        gw_jv_int(body, "burst", 0, 1000000, &burst, err, sizeof(err)) < 0) {
        json_decref(body);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "%s", err);
        return;
    }
    json_decref(body);
    gw_ratelimit_configure(q->gw->rl, rpm, (int)burst);
    ok(r, gw_ratelimit_status(q->gw->rl));
}

static json_t *purge(struct gw *gw, char *err, size_t errlen)
{
    pthread_mutex_lock(&purge_mu);
    long n = gw_purge_cache(gw->cfg.nginx_cache_dir, err, errlen);
    pthread_mutex_unlock(&purge_mu);
    if (n < 0) return NULL;
    return json_pack("{s:s, s:I}", "cache_dir", gw->cfg.nginx_cache_dir, "removed_files",
                     (json_int_t)n);
}

/* Drift, faults, breaker (state, history and settings) and rate limit back to the start-up
 * state; the nginx cache is emptied too so no drifted or faulty page outlives the reset. */
void gw_route_admin_reset(struct gw_req *q, struct gw_reply *r)
{
    struct gw *gw = q->gw;
    char err[512];
    json_t *body = gw_req_json(q, r, 1);
    if (!body) return;
    if (json_object_size(body) != 0) {
        json_decref(body);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "reset takes no fields");
        return;
    }
    json_decref(body);
    gw_drift_clear(gw->drift);
    gw_faults_clear(gw->faults);
    gw_breaker_configure(gw->breaker, gw->cfg.breaker_threshold, gw->cfg.breaker_timeout_s);
    gw_breaker_reset(gw->breaker, 1);
    gw_ratelimit_configure(gw->rl, gw->cfg.rl_per_minute, gw->cfg.rl_burst);
    json_t *purged = json_null();
    if (gw->cfg.nginx_cache_dir) {
        purged = purge(gw, err, sizeof(err));
        if (!purged) {
            gw_reply_error(r, q, 500, "PURGE_FAILED", "%s", err);
            return;
        }
    }
    fprintf(stderr, "cutover-gateway %s: reset\n", gw->cfg.deployment);
    ok(r, json_pack("{s:b, s:o}", "reset", 1, "cache_purge", purged));
}

void gw_route_admin_purge(struct gw_req *q, struct gw_reply *r)
{
    char err[512];
    if (!q->gw->cfg.nginx_cache_dir) {
        gw_reply_error(r, q, 400, "NOT_CONFIGURED",
                       "this deployment has no nginx cache (start it with --nginx-cache-dir)");
        return;
    }
    json_t *res = purge(q->gw, err, sizeof(err));
    if (!res) {
        gw_reply_error(r, q, 500, "PURGE_FAILED", "%s", err);
        return;
    }
    ok(r, res);
}
