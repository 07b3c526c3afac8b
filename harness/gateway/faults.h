/* Injected faults, set at run time through POST /admin/faults. Thread-safe.
 * latency_ms and http_500_every apply to requests whose path matches `route` (exact, or a prefix
 * when it ends in '*'; default: every path under /api/); db_error_rate applies to every PostgreSQL
 * call. */
#ifndef GW_FAULTS_H
#define GW_FAULTS_H

#include <jansson.h>

struct gw_fault_spec {
    double db_error_rate; /* 0..1, applied deterministically: exactly that share of calls fails */
    long latency_ms;
    double duration_s; /* 0: until reset */
    long http_500_every;
    char route[256];
};

struct gw_faults;

int gw_faults_new(struct gw_faults **out);
void gw_faults_free(struct gw_faults *f);
/* Validates a JSON body into *spec. Returns 0, or -1 with err filled. */
int gw_faults_parse(json_t *body, struct gw_fault_spec *spec, char *err, size_t errlen);
/* Replaces the active faults and restarts their counters. */
void gw_faults_set(struct gw_faults *f, const struct gw_fault_spec *spec);
void gw_faults_clear(struct gw_faults *f);
/* For one request on path: the latency to add and whether it must answer 500. */
void gw_faults_on_request(struct gw_faults *f, const char *path, long *latency_ms, int *fail);
/* 1 if this PostgreSQL call must fail. */
int gw_faults_db_fail(struct gw_faults *f);
json_t *gw_faults_status(struct gw_faults *f);

#endif
