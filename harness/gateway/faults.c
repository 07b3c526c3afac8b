#include "faults.h"
#include "clock.h"
#include "jsonv.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_faults {
    pthread_mutex_t mu;
    int active;
    struct gw_fault_spec spec;
    int64_t set_mono_us;
    unsigned long matched, failed_500, db_calls, db_failed;
};

int gw_faults_new(struct gw_faults **out)
{
    struct gw_faults *f = calloc(1, sizeof(*f));
    if (!f) return -1;
    pthread_mutex_init(&f->mu, NULL);
    *out = f;
    return 0;
}

void gw_faults_free(struct gw_faults *f)
{
    if (!f) return;
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int gw_faults_parse(json_t *body, struct gw_fault_spec *spec, char *err, size_t errlen)
{
    static const char *const keys[] = {"db_error_rate",  "latency_ms", "duration_s",
                                       "http_500_every", "route",      NULL};
    memset(spec, 0, sizeof(*spec));
    snprintf(spec->route, sizeof(spec->route), "/api/*");
    if (!json_is_object(body)) {
        snprintf(err, errlen, "body must be a JSON object");
        return -1;
    }
    if (gw_jv_keys(body, keys, err, errlen) < 0) return -1;
    if (gw_jv_number(body, "db_error_rate", 0, 1, &spec->db_error_rate, err, errlen) < 0 ||
        gw_jv_int(body, "latency_ms", 0, 60000, &spec->latency_ms, err, errlen) < 0 ||
        gw_jv_number(body, "duration_s", 0, 86400, &spec->duration_s, err, errlen) < 0 ||
        gw_jv_int(body, "http_500_every", 0, 1000000, &spec->http_500_every, err, errlen) < 0)
        return -1;
    json_t *route = json_object_get(body, "route");
    if (route) {
        const char *r = json_string_value(route);
        if (!r || r[0] != '/' || strlen(r) >= sizeof(spec->route)) {
            snprintf(err, errlen,
                     "\"route\" must be a path starting with '/' (a trailing '*' "
                     "makes it a prefix), under 256 bytes");
            return -1;
        }
        if (strncmp(r, "/admin", 6) == 0) {
            snprintf(err, errlen, "\"route\" may not cover /admin (faults must stay resettable)");
            return -1;
        }
        snprintf(spec->route, sizeof(spec->route), "%s", r);
    }
    return 0;
}

void gw_faults_set(struct gw_faults *f, const struct gw_fault_spec *spec)
{
    pthread_mutex_lock(&f->mu);
    f->spec = *spec;
    f->active = 1;
    f->set_mono_us = gw_mono_us();
    f->matched = f->failed_500 = f->db_calls = f->db_failed = 0;
    pthread_mutex_unlock(&f->mu);
}

void gw_faults_clear(struct gw_faults *f)
{
    struct gw_fault_spec none = {0};
    gw_faults_set(f, &none);
    pthread_mutex_lock(&f->mu);
    f->active = 0;
    pthread_mutex_unlock(&f->mu);
}

/* Caller holds mu. duration_s lets faults end by themselves (a fault window in a scenario). */
static int live(struct gw_faults *f)
{
    if (f->active && f->spec.duration_s > 0 &&
        gw_mono_us() - f->set_mono_us >= (int64_t)(f->spec.duration_s * 1e6))
        f->active = 0;
    return f->active;
}

static int route_matches(const char *route, const char *path)
{
    size_t n = strlen(route);
    if (n > 0 && route[n - 1] == '*') return strncmp(route, path, n - 1) == 0;
    return strcmp(route, path) == 0;
}

void gw_faults_on_request(struct gw_faults *f, const char *path, long *latency_ms, int *fail)
{
    *latency_ms = 0;
    *fail = 0;
    pthread_mutex_lock(&f->mu);
    if (live(f) && route_matches(f->spec.route, path)) {
        f->matched++;
        *latency_ms = f->spec.latency_ms;
        /* Every Nth matching request, counted from the moment the fault was set. */
        if (f->spec.http_500_every > 0 && f->matched % (unsigned long)f->spec.http_500_every == 0) {
            *fail = 1;
            f->failed_500++;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

int gw_faults_db_fail(struct gw_faults *f)
{
    int fail = 0;
    pthread_mutex_lock(&f->mu);
    if (live(f) && f->spec.db_error_rate > 0) {
        /* Call k fails when floor(k*rate) steps up: exactly rate*k of the first k calls fail. */
        unsigned long k = ++f->db_calls;
        double r = f->spec.db_error_rate;
        fail = floor((double)k * r + 1e-9) > floor((double)(k - 1) * r + 1e-9);
        if (fail) f->db_failed++;
    }
    pthread_mutex_unlock(&f->mu);
    return fail;
}

json_t *gw_faults_status(struct gw_faults *f)
{
    pthread_mutex_lock(&f->mu);
    int on = live(f);
    json_t *o = json_pack(
        "{s:b, s:f, s:i, s:f, s:i, s:s, s:I, s:I, s:I, s:I}", "active", on, "db_error_rate",
        f->spec.db_error_rate, "latency_ms", (int)f->spec.latency_ms, "duration_s",
        f->spec.duration_s, "http_500_every", (int)f->spec.http_500_every, "route", f->spec.route,
        "matched_requests", (json_int_t)f->matched, "injected_500", (json_int_t)f->failed_500,
        "db_calls", (json_int_t)f->db_calls, "db_failed", (json_int_t)f->db_failed);
    pthread_mutex_unlock(&f->mu);
    return o;
}
