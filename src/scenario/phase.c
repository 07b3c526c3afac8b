/* phase.c - /phases: executors, step flows and weighted mixes, actions, bounds. */
#include "scenario/internal.h"
#include "scenario/scenario.h"

#include <math.h>
#include <string.h>

static const char *const EXECUTORS[] = {
    "action",       "iterations", "constant-arrival-rate", "ramping-arrival-rate",
    "constant-vus", "ramping-vus"};

/* Keys every load phase accepts, then each executor's own (NULL-terminated). */
#define COMMON_KEYS                                                                                \
    "name", "executor", "steps", "think_time", "duration", "max_requests", "record", "tags"
static const char *const KEYS_ITER[] = {COMMON_KEYS, "over", "iterations", "concurrency"};
static const char *const KEYS_CAR[] = {COMMON_KEYS, "rate", "max_in_flight", "max_lag"};
static const char *const KEYS_RAR[] = {COMMON_KEYS, "start_rate", "stages", "max_in_flight",
                                       "max_lag"};
static const char *const KEYS_CVU[] = {COMMON_KEYS, "vus"};
static const char *const KEYS_RVU[] = {COMMON_KEYS, "start_vus", "stages"};
static const char *const KEYS_ACTION[] = {"name", "action", "tags"};

/* Union of sorted set lists. */
static void add_sets(bool *mark, const scn_step *st)
{
    for (size_t i = 0; i < st->nsets; i++)
        mark[st->sets[i]] = true;
}

static uint32_t *mark_to_list(scn__loader *L, const bool *mark, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < L->ndata; i++)
        k += mark[i];
    uint32_t *out = scn_arena_calloc(L->c.arena, k + 1, sizeof *out);
    if (!out) return NULL;
    k = 0;
    for (size_t i = 0; i < L->ndata; i++)
        if (mark[i]) out[k++] = (uint32_t)i;
    *n = k;
    return out;
}

static void load_steps(scn__loader *L, json_t *steps, const char *ptr, scn_phase *ph, bool *ok)
{
    scn__ctx *c = &L->c;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "steps");
    if (!steps) {
        scn__err(c, ptr, "missing \"steps\" (or an \"action\")");
        *ok = false;
        return;
    }
    if (!scn__want_array(c, p, steps)) {
        *ok = false;
        return;
    }
    size_t n = json_array_size(steps);
    if (n == 0) {
        scn__err(c, p, "must list at least one step");
        *ok = false;
        return;
    }
    size_t nobj = 0;
    for (size_t i = 0; i < n; i++)
        nobj += json_is_object(json_array_get(steps, i));
    ph->mix = nobj > 0;
    scn_phase_step *ps = scn_arena_calloc(c->arena, n, sizeof *ps);
    double *weights = scn_arena_calloc(c->arena, n, sizeof *weights);
    bool mark[L->ndata + 1];
    memset(mark, 0, sizeof mark);
    if (!ps || !weights) return;
    bool all_ok = true;
    for (size_t i = 0; i < n; i++) {
        char ip[SCN__PTR_MAX], np[SCN__PTR_MAX];
        scn__ptr_idx(ip, p, i);
        json_t *item = json_array_get(steps, i);
        const char *name = NULL;
        ps[i].weight = 1;
        ps[i].step = SCN_NONE;
        if (json_is_string(item)) {
            if (ph->mix) {
                scn__err(c, ip,
                         "use either step names (a flow) or {\"step\", \"weight\"} "
                         "objects (a mix), not both");
                all_ok = false;
                continue;
            }
            name = json_string_value(item);
            memcpy(np, ip, sizeof np);
        } else if (json_is_object(item)) {
            static const char *const keys[] = {"step", "weight"};
            if (!scn__check_keys(c, ip, item, keys, 2)) all_ok = false;
            int rc = scn__get_str(c, item, ip, "step", &name);
            if (rc == 0) scn__err(c, ip, "missing \"step\"");
            if (rc <= 0) {
                all_ok = false;
                name = NULL;
            }
            int64_t w = 1;
            if (scn__get_int(c, item, ip, "weight", 1, UINT32_MAX, &w) < 0) all_ok = false;
            ps[i].weight = (uint32_t)w;
            scn__ptr_key(np, ip, "step");
        } else {
            scn__err(c, ip, "must be a step name or {\"step\": name, \"weight\": n}, not %s",
                     scn__type_name(item));
            all_ok = false;
            continue;
        }
        weights[i] = ps[i].weight;
        if (!name) continue;
        long k = scn__resolve(L, np, "step", name, L->step_names, L->nsteps, true);
        if (k < 0) {
            all_ok = false;
            continue;
        }
        ps[i].step = (uint32_t)k;
        add_sets(mark, &L->steps[k]);
        if (ph->mix) {
            for (size_t j = 0; j < i; j++) {
                if (ps[j].step == (uint32_t)k) {
                    scn__err(c, np, "step \"%s\" is listed twice in this mix", name);
                    all_ok = false;
                }
            }
        }
    }
    ph->steps = ps;
    ph->nsteps = n;
    ph->sets = mark_to_list(L, mark, &ph->nsets);
    if (!all_ok) {
        *ok = false;
        return;
    }
    if (ph->mix) {
        sched_pick *pick = NULL;
        cut_err e;
        cut_err_clear(&e);
        if (sched_pick_new(weights, n, &pick, &e) != 0) {
            scn__err(c, p, "%s", e.msg);
            *ok = false;
            return;
        }
        if (!scn__own_pick(L, pick)) {
            sched_pick_free(pick);
            return;
        }
        ph->pick = pick;
    }
}

static void load_over(scn__loader *L, json_t *ph_json, const char *ptr, scn_phase *ph, bool *ok)
{
    scn__ctx *c = &L->c;
    json_t *over = json_object_get(ph_json, "over");
    ph->combinations = 1;
    if (!over) return;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "over");
    if (!scn__want_array(c, p, over)) {
        *ok = false;
        return;
    }
    size_t n = json_array_size(over);
    uint32_t *sets = scn_arena_calloc(c->arena, n + 1, sizeof *sets);
    const char *names[L->ndata + 1];
    for (size_t i = 0; i < L->ndata; i++)
        names[i] = L->data[i].name;
    if (!sets) return;
    bool all_ok = true;
    for (size_t i = 0; i < n; i++) {
        char ip[SCN__PTR_MAX];
        scn__ptr_idx(ip, p, i);
        json_t *item = json_array_get(over, i);
        if (!json_is_string(item)) {
            scn__err(c, ip, "must be a data set name, not %s", scn__type_name(item));
            all_ok = false;
            continue;
        }
        long k = scn__resolve(L, ip, "data set", json_string_value(item), names, L->ndata, true);
        if (k < 0) {
            all_ok = false;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (sets[j] == (uint32_t)k) {
                scn__err(c, ip, "data set \"%s\" is listed twice", json_string_value(item));
                all_ok = false;
            }
        }
        sets[i] = (uint32_t)k;
        if (!L->data_ok[k]) continue;
        uint64_t rows = L->data[k].rows;
        if (rows && ph->combinations > UINT64_MAX / rows) {
            scn__err(c, p, "the product of these data sets is too large");
            all_ok = false;
            continue;
        }
        ph->combinations *= rows ? rows : 1;
    }
    if (!all_ok) {
        *ok = false;
        return;
    }
    ph->over = sets;
    ph->nover = n;
}

/* stages: [{"target"|"to": x, "duration": d}, ...] for rates (vu == false) or VUs. */
static void load_stages(scn__loader *L, json_t *ph_json, const char *ptr, scn_phase *ph, bool vu,
                        bool *ok)
{
    scn__ctx *c = &L->c;
    json_t *stages = json_object_get(ph_json, "stages");
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "stages");
    if (!stages) {
        scn__err(c, ptr, "missing \"stages\" (a list of {\"target\": %s, \"duration\": \"30s\"})",
                 vu ? "vus" : "rate");
        *ok = false;
        return;
    }
    if (!scn__want_array(c, p, stages)) {
        *ok = false;
        return;
    }
    size_t n = json_array_size(stages);
    if (n == 0) {
        scn__err(c, p, "must list at least one stage");
        *ok = false;
        return;
    }
    sched_rate_stage *rs = vu ? NULL : scn_arena_calloc(c->arena, n, sizeof *rs);
    sched_vu_stage *vs = vu ? scn_arena_calloc(c->arena, n, sizeof *vs) : NULL;
    if (!rs && !vs) return;
    int64_t total = 0;
    bool all_ok = true;
    for (size_t i = 0; i < n; i++) {
        static const char *const keys[] = {"target", "to", "duration"};
        char ip[SCN__PTR_MAX];
        scn__ptr_idx(ip, p, i);
        json_t *st = json_array_get(stages, i);
        if (!scn__want_object(c, ip, st)) {
            all_ok = false;
            continue;
        }
        if (!scn__check_keys(c, ip, st, keys, 3)) all_ok = false;
        const char *tk = json_object_get(st, "target") ? "target" : "to";
        if (json_object_get(st, "target") && json_object_get(st, "to")) {
            scn__err(c, ip, "give \"target\" or \"to\", not both");
            all_ok = false;
            continue;
        }
        int rc;
        if (vu) {
            int64_t x = 0;
            rc = scn__get_int(c, st, ip, tk, 0, 10000000, &x);
            vs[i].to = (uint32_t)x;
        } else {
            double x = 0;
            rc = scn__get_number(c, st, ip, tk, true, &x);
            if (rc > 0 && x > SCHED_RATE_MAX) {
                char kp[SCN__PTR_MAX];
                scn__ptr_key(kp, ip, tk);
                scn__err(c, kp, "must be <= %g", SCHED_RATE_MAX);
                rc = -1;
            }
            rs[i].target = x;
        }
        if (rc == 0) scn__err(c, ip, "missing \"target\"");
        if (rc <= 0) all_ok = false;
        int64_t d = 0;
        rc = scn__get_duration(c, st, ip, "duration", true, &d);
        if (rc == 0) scn__err(c, ip, "missing \"duration\"");
        if (rc <= 0) all_ok = false;
        if (vu)
            vs[i].duration_ns = d;
        else
            rs[i].duration_ns = d;
        if (d > INT64_MAX - total) {
            scn__err(c, ip, "the stages last too long");
            all_ok = false;
        } else {
            total += d;
        }
    }
    if (!all_ok) {
        *ok = false;
        return;
    }
    if (total == 0) {
        scn__err(c, p, "the stages must last longer than 0s");
        *ok = false;
        return;
    }
    if (vu) {
        ph->vu_stages = vs;
        ph->nvu_stages = n;
    } else {
        ph->rate_stages = rs;
        ph->nrate_stages = n;
    }
    if (ph->duration_ns == 0 || total < ph->duration_ns) ph->duration_ns = total;
}

static void load_open_model(scn__loader *L, json_t *pj, const char *ptr, scn_phase *ph, bool *ok)
{
    int64_t x;
    int rc = scn__get_int(&L->c, pj, ptr, "max_in_flight", 1, INT64_MAX, &x);
    if (rc > 0) ph->max_in_flight = (uint64_t)x;
    if (rc < 0) *ok = false;
    if (scn__get_duration(&L->c, pj, ptr, "max_lag", true, &ph->max_lag_ns) < 0) *ok = false;
}

static void load_phase(scn__loader *L, json_t *pj, const char *ptr, scn_phase *ph, bool *ok)
{
    scn__ctx *c = &L->c;
    const scn_defaults *d = &L->s->defaults;
    ph->record = true;
    ph->think_time_ns = d->think_time_ns;
    ph->max_in_flight = d->max_in_flight;
    ph->max_lag_ns = d->max_lag_ns;
    ph->combinations = 1;
    ph->iterations = 1;
    ph->concurrency = 1;

    char **tags;
    size_t ntags;
    int rc = scn__get_str_list(c, pj, ptr, "tags", &tags, &ntags);
    if (rc > 0) {
        ph->tags = (const char *const *)tags;
        ph->ntags = ntags;
    }
    if (rc < 0) *ok = false;

    json_t *action = json_object_get(pj, "action");
    if (action) {
        ph->executor = SCN_EXEC_ACTION;
        if (!scn__check_keys(c, ptr, pj, KEYS_ACTION, 3)) *ok = false;
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, "action");
        scn_step *st = scn_arena_calloc(c->arena, 1, sizeof *st);
        if (!st) return;
        scn__load_step(L, action, p, ph->name ? ph->name : "action", st, ok);
        st->index = SCN_NONE;
        ph->action = st;
        ph->sets = st->sets;
        ph->nsets = st->nsets;
        return;
    }

    const char *ex = NULL;
    rc = scn__get_str(c, pj, ptr, "executor", &ex);
    if (rc == 0) {
        scn__err(c, ptr,
                 "missing \"executor\" (iterations, constant-arrival-rate, "
                 "ramping-arrival-rate, constant-vus, ramping-vus) or \"action\"");
        *ok = false;
        return;
    }
    if (rc < 0) {
        *ok = false;
        return;
    }
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "executor");
    long k = scn__resolve(L, p, "executor", ex, EXECUTORS + 1, 5, true);
    if (k < 0) {
        *ok = false;
        return;
    }
    ph->executor = (scn_executor)(k + 1);
    static const char *const *const keys[] = {KEYS_ITER, KEYS_CAR, KEYS_RAR, KEYS_CVU, KEYS_RVU};
    static const size_t nkeys[] = {
        sizeof KEYS_ITER / sizeof *KEYS_ITER, sizeof KEYS_CAR / sizeof *KEYS_CAR,
        sizeof KEYS_RAR / sizeof *KEYS_RAR, sizeof KEYS_CVU / sizeof *KEYS_CVU,
        sizeof KEYS_RVU / sizeof *KEYS_RVU};
    if (!scn__check_keys(c, ptr, pj, keys[k], nkeys[k])) *ok = false;

    load_steps(L, json_object_get(pj, "steps"), ptr, ph, ok);

    /* Common bounds and pacing. */
    if (scn__get_duration(c, pj, ptr, "think_time", true, &ph->think_time_ns) < 0) *ok = false;
    if (scn__get_duration(c, pj, ptr, "duration", false, &ph->duration_ns) < 0) *ok = false;
    int64_t x;
    rc = scn__get_int(c, pj, ptr, "max_requests", 1, INT64_MAX, &x);
    if (rc > 0) ph->max_requests = (uint64_t)x;
    if (rc < 0) *ok = false;
    if (scn__get_bool(c, pj, ptr, "record", &ph->record) < 0) *ok = false;

    /* Present but invalid bounds were reported already: no second error for them. */
    bool bounded = json_object_get(pj, "duration") || json_object_get(pj, "max_requests");
    switch (ph->executor) {
    case SCN_EXEC_ITERATIONS:
        load_over(L, pj, ptr, ph, ok);
        rc = scn__get_int(c, pj, ptr, "iterations", 1, INT64_MAX, &x);
        if (rc > 0) ph->iterations = (uint64_t)x;
        if (rc < 0) *ok = false;
        rc = scn__get_int(c, pj, ptr, "concurrency", 1, 1000000, &x);
        if (rc > 0) ph->concurrency = (uint32_t)x;
        if (rc < 0) *ok = false;
        if (ph->iterations > UINT64_MAX / ph->combinations) {
            scn__err(c, ptr, "iterations x combinations is too large");
            *ok = false;
        } else {
            ph->items = ph->combinations * ph->iterations;
        }
        bounded = true;
        break;
    case SCN_EXEC_CONSTANT_ARRIVAL_RATE:
        rc = scn__get_number(c, pj, ptr, "rate", false, &ph->rate);
        if (rc == 0) scn__err(c, ptr, "missing \"rate\" (arrivals per second)");
        if (rc > 0 && ph->rate > SCHED_RATE_MAX) {
            scn__ptr_key(p, ptr, "rate");
            scn__err(c, p, "must be <= %g", SCHED_RATE_MAX);
            rc = -1;
        }
        if (rc <= 0) *ok = false;
        load_open_model(L, pj, ptr, ph, ok);
        break;
    case SCN_EXEC_RAMPING_ARRIVAL_RATE:
        if (scn__get_number(c, pj, ptr, "start_rate", true, &ph->start_rate) < 0) *ok = false;
        load_open_model(L, pj, ptr, ph, ok);
        load_stages(L, pj, ptr, ph, false, ok);
        bounded = true;
        break;
    case SCN_EXEC_CONSTANT_VUS:
        rc = scn__get_int(c, pj, ptr, "vus", 1, 10000000, &x);
        if (rc == 0) scn__err(c, ptr, "missing \"vus\"");
        if (rc <= 0) *ok = false;
        ph->vus = (uint32_t)(rc > 0 ? x : 0);
        break;
    case SCN_EXEC_RAMPING_VUS:
        rc = scn__get_int(c, pj, ptr, "start_vus", 0, 10000000, &x);
        if (rc > 0) ph->start_vus = (uint32_t)x;
        if (rc < 0) *ok = false;
        load_stages(L, pj, ptr, ph, true, ok);
        bounded = true;
        break;
    case SCN_EXEC_ACTION:
        break;
    }
    if (!bounded) {
        scn__err(c, ptr, "a %s phase needs a bound: set \"duration\" or \"max_requests\"",
                 EXECUTORS[ph->executor]);
        *ok = false;
    }
}

void scn__load_phases(scn__loader *L, json_t *phases)
{
    scn__ctx *c = &L->c;
    size_t n = json_array_size(phases);
    if (n == 0) {
        scn__err(c, "/phases", "must list at least one phase");
        return;
    }
    L->phases = scn_arena_calloc(c->arena, n, sizeof *L->phases);
    if (!L->phases) return;
    for (size_t i = 0; i < n; i++) {
        char ptr[SCN__PTR_MAX];
        scn__ptr_idx(ptr, "/phases", i);
        json_t *pj = json_array_get(phases, i);
        scn_phase *ph = &L->phases[L->nphases];
        ph->index = (uint32_t)L->nphases;
        L->nphases++;
        bool ok = true;
        if (!scn__want_object(c, ptr, pj)) continue;
        const char *name = NULL;
        int rc = scn__get_str(c, pj, ptr, "name", &name);
        char np[SCN__PTR_MAX];
        scn__ptr_key(np, ptr, "name");
        if (rc == 0) {
            scn__err(c, ptr, "missing \"name\"");
        } else if (rc > 0) {
            if (!scn__name_ok(name, false)) {
                scn__err(c, np, "bad phase name (use letters, digits, '_' and '-')");
            } else {
                for (size_t j = 0; j + 1 < L->nphases; j++) {
                    if (L->phases[j].name && strcmp(L->phases[j].name, name) == 0) {
                        scn__err(c, np, "duplicate phase name \"%s\" (also /phases/%zu)", name, j);
                        break;
                    }
                }
            }
            ph->name = scn_arena_strdup(c->arena, name);
        }
        load_phase(L, pj, ptr, ph, &ok);
    }
}
