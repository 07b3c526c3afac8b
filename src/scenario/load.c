/* load.c - scn_load_file: parse, expand ${ENV}, validate, build the model (scenario.h). */
#include "scenario/scenario.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"
#include "scenario/suggest.h"

static const char *const TOP_KEYS[] = {"$schema",   "name",   "description", "defaults",
                                       "endpoints", "data",   "steps",       "phases",
                                       "breakers",  "parity", "data_checks", "targets"};

bool scn__name_ok(const char *name, bool variable)
{
    if (!*name) return false;
    if (variable && (*name >= '0' && *name <= '9')) return false;
    if (variable && *name == '-') return false;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!(ch == '_' || ch == '-' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

long scn__resolve(scn__loader *L, const char *ptr, const char *what, const char *name,
                  const char *const *names, size_t n, bool report)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0) return (long)i;
    if (!report) return -1;
    char list[300];
    scn__join(list, sizeof list, names, n);
    const char *near = scn__suggest(name, names, n);
    if (near)
        scn__err(&L->c, ptr, "unknown %s \"%s\" (did you mean \"%s\"? known: %s)", what, name, near,
                 list);
    else
        scn__err(&L->c, ptr, "unknown %s \"%s\" (known: %s)", what, name, n ? list : "none");
    return -1;
}

bool scn__own_pick(scn__loader *L, sched_pick *p)
{
    scn_scenario *s = L->s;
    sched_pick **v = realloc(s->picks, (s->npicks + 1) * sizeof *v);
    if (!v) return false;
    v[s->npicks++] = p;
    s->picks = v;
    return true;
}

bool scn__own_regex(scn__loader *L, scn_check *chk)
{
    scn_scenario *s = L->s;
    scn_check **v = realloc(s->regexes, (s->nregexes + 1) * sizeof *v);
    if (!v) return false;
    v[s->nregexes++] = chk;
    s->regexes = v;
    return true;
}

/* ---- defaults --------------------------------------------------------------------------- */

static void load_defaults(scn__loader *L, json_t *root)
{
    static const char *const keys[] = {"timeout", "think_time", "max_in_flight",
                                       "max_lag", "seed",       "expect_status"};
    static const scn_status_range expect_default = {200, 399};
    scn__ctx *c = &L->c;
    scn_defaults *d = &L->s->defaults;
    d->max_in_flight = 1000;
    d->max_lag_ns = SCHED_MAX_LAG_DEFAULT_NS;
    d->expect = &expect_default;
    d->nexpect = 1;
    json_t *dj = json_object_get(root, "defaults");
    if (!dj || !scn__want_object(c, "/defaults", dj)) return;
    const char *p = "/defaults";
    scn__check_keys(c, p, dj, keys, sizeof keys / sizeof *keys);
    scn__get_duration(c, dj, p, "timeout", false, &d->timeout_ns);
    scn__get_duration(c, dj, p, "think_time", true, &d->think_time_ns);
    scn__get_duration(c, dj, p, "max_lag", true, &d->max_lag_ns);
    int64_t x;
    if (scn__get_int(c, dj, p, "max_in_flight", 1, INT64_MAX, &x) > 0)
        d->max_in_flight = (uint64_t)x;
    if (scn__get_int(c, dj, p, "seed", 0, INT64_MAX, &x) > 0) d->seed = (uint64_t)x;
    scn__load_expect(L, dj, p, "expect_status", &d->expect, &d->nexpect);
}

/* ---- data sets -------------------------------------------------------------------------- */

static char *value_text(json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static bool load_values(scn__loader *L, json_t *vals, const char *ptr, scn_data *d)
{
    scn__ctx *c = &L->c;
    if (!scn__want_array(c, ptr, vals)) return false;
    size_t n = json_array_size(vals);
    if (n == 0) {
        scn__err(c, ptr, "must list at least one value");
        return false;
    }
    scn_value *v = scn_arena_calloc(c->arena, n, sizeof *v);
    if (!v) return false;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(vals, i);
        char ip[SCN__PTR_MAX];
        scn__ptr_idx(ip, ptr, i);
        if (json_is_string(item)) {
            v[i].ptr =
                scn_arena_strndup(c->arena, json_string_value(item), json_string_length(item));
            v[i].len = json_string_length(item);
        } else if (json_is_number(item)) {
            char *t = value_text(item);
            if (!t) return false;
            v[i].ptr = scn_arena_strdup(c->arena, t);
            v[i].len = strlen(t);
            free(t);
        } else {
            scn__err(c, ip, "must be a string or a number, not %s", scn__type_name(item));
            ok = false;
        }
    }
    d->kind = SCN_DATA_VALUES;
    d->values = v;
    d->rows = n;
    return ok;
}

static bool load_range(scn__loader *L, json_t *r, const char *ptr, scn_data *d)
{
    scn__ctx *c = &L->c;
    if (!json_is_array(r) || json_array_size(r) != 2 || !json_is_integer(json_array_get(r, 0)) ||
        !json_is_integer(json_array_get(r, 1))) {
        scn__err(c, ptr, "must be [lo, hi], two integers");
        return false;
    }
    d->kind = SCN_DATA_RANGE;
    d->lo = json_integer_value(json_array_get(r, 0));
    d->hi = json_integer_value(json_array_get(r, 1));
    if (d->lo > d->hi) {
        scn__err(c, ptr, "lo (%lld) must be <= hi (%lld)", (long long)d->lo, (long long)d->hi);
        return false;
    }
    uint64_t span = (uint64_t)d->hi - (uint64_t)d->lo;
    if (span >= UINT64_C(1) << 62) {
        scn__err(c, ptr, "the range is too large (at most 2^62 values)");
        return false;
    }
    d->rows = span + 1;
    return true;
}

static bool load_csv(scn__loader *L, json_t *dj, const char *ptr, scn_data *d, bool *open)
{
    scn__ctx *c = &L->c;
    const char *file;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "csv");
    if (scn__get_str(c, dj, ptr, "csv", &file) < 0) return false;
    if (!*file) {
        scn__err(c, p, "must name a file");
        return false;
    }
    char *path = NULL;
    if (file[0] == '/' || strcmp(L->s->dir, ".") == 0) {
        path = strdup(file);
    } else if (asprintf(&path, "%s/%s", L->s->dir, file) < 0) {
        path = NULL;
    }
    if (!path) return false;
    cut_err e;
    cut_err_clear(&e);
    int rc = scn_data_load_csv(c->arena, path, d, &e);
    free(path);
    if (rc) {
        scn__err(c, p, "%s", e.msg);
        *open = true;
        return false;
    }
    const char *col = NULL;
    rc = scn__get_str(c, dj, ptr, "column", &col);
    if (rc < 0) return false;
    if (rc > 0) {
        int32_t k = scn_data_column(d, col);
        if (k < 0) {
            char cp[SCN__PTR_MAX];
            scn__ptr_key(cp, ptr, "column");
            scn__resolve(L, cp, "column", col, d->columns, d->ncols, true);
            return false;
        }
        d->key_column = (uint32_t)k;
    }
    return true;
}

static void load_data(scn__loader *L, json_t *root)
{
    static const char *const keys[] = {"values", "range", "csv", "column", "mode", "seed"};
    static const char *const kinds[] = {"values", "range", "csv"};
    static const char *const modes[] = {"sequential", "random", "unique"};
    scn__ctx *c = &L->c;
    json_t *data = json_object_get(root, "data");
    if (!data) return;
    if (!scn__want_object(c, "/data", data)) return;
    size_t n = json_object_size(data);
    L->data = scn_arena_calloc(c->arena, n + 1, sizeof *L->data);
    L->data_ok = scn_arena_calloc(c->arena, n + 1, sizeof *L->data_ok);
    L->open_sets = scn_arena_calloc(c->arena, n + 1, sizeof *L->open_sets);
    if (!L->data || !L->data_ok || !L->open_sets) return;
    const char *name;
    json_t *dj;
    json_object_foreach(data, name, dj)
    {
        char ptr[SCN__PTR_MAX];
        scn__ptr_key(ptr, "/data", name);
        scn_data *d = &L->data[L->ndata];
        d->index = (uint32_t)L->ndata;
        d->name = scn_arena_strdup(c->arena, name);
        d->seed = L->s->defaults.seed;
        bool ok = true, open = false;
        L->ndata++;
        if (!scn__name_ok(name, true)) {
            scn__err(c, ptr,
                     "bad data set name (it is a variable name: a letter or '_', then "
                     "letters, digits, '_' and '-')");
            ok = false;
        }
        if (!scn__want_object(c, ptr, dj)) {
            L->open_sets[L->nopen++] = d->name;
            continue;
        }
        if (!scn__check_keys(c, ptr, dj, keys, sizeof keys / sizeof *keys)) ok = false;
        int nk = 0, kind = -1;
        for (int k = 0; k < 3; k++) {
            if (json_object_get(dj, kinds[k])) {
                nk++;
                kind = k;
            }
        }
        if (nk != 1) {
            scn__err(c, ptr, "needs exactly one of \"values\", \"range\" or \"csv\"");
            L->open_sets[L->nopen++] = d->name;
            continue;
        }
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, kinds[kind]);
        if (kind == 0)
            ok = load_values(L, json_object_get(dj, "values"), p, d) && ok;
        else if (kind == 1)
            ok = load_range(L, json_object_get(dj, "range"), p, d) && ok;
        else
            ok = load_csv(L, dj, ptr, d, &open) && ok;
        if (open) L->open_sets[L->nopen++] = d->name;
        if (kind != 2 && json_object_get(dj, "column")) {
            scn__ptr_key(p, ptr, "column");
            scn__err(c, p, "only csv data sets have columns");
            ok = false;
        }
        const char *mode;
        int rc = scn__get_str(c, dj, ptr, "mode", &mode);
        if (rc > 0) {
            scn__ptr_key(p, ptr, "mode");
            long m = scn__resolve(L, p, "mode", mode, modes, 3, true);
            if (m >= 0)
                d->mode = (scn_data_mode)m;
            else
                ok = false;
        } else if (rc < 0) {
            ok = false;
        }
        int64_t seed;
        rc = scn__get_int(c, dj, ptr, "seed", 0, INT64_MAX, &seed);
        if (rc > 0) d->seed = (uint64_t)seed;
        if (rc < 0) ok = false;
        if (rc > 0 && d->mode != SCN_MODE_RANDOM) {
            scn__ptr_key(p, ptr, "seed");
            scn__err(c, p, "only \"mode\": \"random\" uses a seed");
            ok = false;
        }
        L->data_ok[d->index] = ok;
    }
}

/* The variable table: "set" for every set, then "set.col" for every CSV column. */
static void build_vars(scn__loader *L)
{
    scn__ctx *c = &L->c;
    size_t n = L->ndata;
    for (size_t i = 0; i < L->ndata; i++)
        if (L->data[i].kind == SCN_DATA_CSV) n += L->data[i].ncols;
    L->vars = scn_arena_calloc(c->arena, n + 1, sizeof *L->vars);
    L->var_names = scn_arena_calloc(c->arena, n + 1, sizeof *L->var_names);
    if (!L->vars || !L->var_names) return;
    for (size_t i = 0; i < L->ndata; i++) {
        scn_var *v = &L->vars[L->nvars];
        v->name = L->data[i].name;
        v->set = (uint32_t)i;
        v->column = SCN_KEY_COLUMN;
        L->var_names[L->nvars++] = v->name;
    }
    for (size_t i = 0; i < L->ndata; i++) {
        const scn_data *d = &L->data[i];
        if (d->kind != SCN_DATA_CSV) continue;
        for (uint32_t k = 0; k < d->ncols; k++) {
            scn_var *v = &L->vars[L->nvars];
            char *name = NULL;
            if (asprintf(&name, "%s.%s", d->name, d->columns[k]) < 0) return;
            v->name = scn_arena_strdup(c->arena, name);
            free(name);
            v->set = (uint32_t)i;
            v->column = (int32_t)k;
            L->var_names[L->nvars++] = v->name;
        }
    }
}

/* ---- steps ------------------------------------------------------------------------------ */

static void load_steps(scn__loader *L, json_t *root)
{
    scn__ctx *c = &L->c;
    json_t *steps = json_object_get(root, "steps");
    if (!steps) return;
    if (!scn__want_object(c, "/steps", steps)) return;
    size_t n = json_object_size(steps);
    L->steps = scn_arena_calloc(c->arena, n + 1, sizeof *L->steps);
    L->step_ok = scn_arena_calloc(c->arena, n + 1, sizeof *L->step_ok);
    L->step_names = scn_arena_calloc(c->arena, n + 1, sizeof *L->step_names);
    if (!L->steps || !L->step_ok || !L->step_names) return;
    const char *name;
    json_t *sj;
    /* Names first, so that errors inside one step never hide another's name. */
    json_object_foreach(steps, name, sj)
    {
        L->step_names[L->nsteps++] = scn_arena_strdup(c->arena, name);
    }
    size_t i = 0;
    json_object_foreach(steps, name, sj)
    {
        char ptr[SCN__PTR_MAX];
        scn__ptr_key(ptr, "/steps", name);
        bool ok = true;
        if (!scn__name_ok(name, false)) {
            scn__err(c, ptr, "bad step name (use letters, digits, '_' and '-')");
            ok = false;
        }
        scn__load_step(L, sj, ptr, name, &L->steps[i], &ok);
        L->steps[i].index = (uint32_t)i;
        L->step_ok[i] = ok;
        i++;
    }
}

/* ---- later sections --------------------------------------------------------------------- */

static json_t *keep_section(scn__loader *L, json_t *root, const char *key, bool array)
{
    json_t *v = json_object_get(root, key);
    if (!v) return NULL;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, "", key);
    if (array ? !scn__want_array(&L->c, p, v) : !scn__want_object(&L->c, p, v)) return NULL;
    return json_incref(v);
}

/* ---- entry point ------------------------------------------------------------------------ */

static void build(scn__loader *L, json_t *root)
{
    scn__ctx *c = &L->c;
    scn_scenario *s = L->s;
    scn__check_keys(c, "", root, TOP_KEYS, sizeof TOP_KEYS / sizeof *TOP_KEYS);
    const char *str;
    json_t *schema = json_object_get(root, "$schema");
    if (schema && !json_is_string(schema)) scn__err(c, "/$schema", "must be a string");

    if (scn__get_str(c, root, "", "name", &str) > 0) {
        if (!*str) scn__err(c, "/name", "must not be empty");
        s->name = scn_arena_strdup(c->arena, str);
    } else {
        /* Default: the file name without its extension. */
        const char *base = strrchr(s->file, '/');
        base = base ? base + 1 : s->file;
        const char *dot = strrchr(base, '.');
        s->name = scn_arena_strndup(c->arena, base,
                                    dot && dot > base ? (size_t)(dot - base) : strlen(base));
    }
    s->description = "";
    if (scn__get_str(c, root, "", "description", &str) > 0)
        s->description = scn_arena_strdup(c->arena, str);

    load_defaults(L, root);

    json_t *eps = json_object_get(root, "endpoints");
    if (!eps)
        scn__err(c, "", "missing \"endpoints\"");
    else if (scn__want_object(c, "/endpoints", eps))
        scn__load_endpoints(L, eps);

    load_data(L, root);
    build_vars(L);
    load_steps(L, root);

    /* A scenario that only verifies (parity, data checks) needs no load phase. */
    json_t *phases = json_object_get(root, "phases");
    bool verifies = json_object_get(root, "parity") || json_object_get(root, "data_checks");
    if (!phases && !verifies)
        scn__err(c, "", "missing \"phases\" (or a \"parity\" or \"data_checks\" section)");
    else if (phases && scn__want_array(c, "/phases", phases) &&
             (json_array_size(phases) > 0 || !verifies))
        scn__load_phases(L, phases);

    s->breakers = keep_section(L, root, "breakers", false);
    s->parity = keep_section(L, root, "parity", false);
    s->data_checks = keep_section(L, root, "data_checks", true);
    s->targets = keep_section(L, root, "targets", false);

    s->endpoints = L->endpoints;
    s->nendpoints = L->nendpoints;
    s->data = L->data;
    s->ndata = L->ndata;
    s->vars = L->vars;
    s->nvars = L->nvars;
    s->steps = L->steps;
    s->nsteps = L->nsteps;
    s->phases = L->phases;
    s->nphases = L->nphases;
}

int scn_load_file(const char *path, scn_scenario **out, scn_diags *diags)
{
    scn_diags local;
    scn_diags_init(&local);
    if (!diags) diags = &local;
    *out = NULL;
    int rc;
    json_t *root = NULL;
    scn_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        scn_diags_add(diags, "%s: out of memory", path);
        rc = CUT_ENOMEM;
        goto fail;
    }
    scn_arena_init(&s->arena);
    s->file = scn_arena_strdup(&s->arena, path);
    char *tmp = strdup(path);
    s->dir = tmp ? scn_arena_strdup(&s->arena, dirname(tmp)) : NULL;
    free(tmp);
    if (!s->file || !s->dir) {
        scn_diags_add(diags, "%s: out of memory", path);
        rc = CUT_ENOMEM;
        goto fail;
    }

    FILE *f = fopen(path, "rb");
    if (!f) {
        scn_diags_add(diags, "%s: cannot open: %s", path, strerror(errno));
        rc = CUT_EIO;
        goto fail;
    }
    json_error_t jerr;
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        scn_diags_add(diags, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        rc = CUT_ESYNTAX;
        goto fail;
    }

    scn__loader L = {0};
    L.c.file = path;
    L.c.diags = diags;
    L.c.arena = &s->arena;
    L.s = s;
    if (!json_is_object(root)) {
        scn__err(&L.c, "", "a scenario must be a JSON object, not %s", scn__type_name(root));
        rc = CUT_EINVAL;
        goto fail;
    }
    scn__env_expand(&L.c, root);
    build(&L, root);
    if (scn_arena_failed(&s->arena) || diags->oom) {
        scn_diags_add(diags, "%s: out of memory", path);
        rc = CUT_ENOMEM;
        goto fail;
    }
    if (L.c.errors) {
        rc = CUT_EINVAL;
        goto fail;
    }
    json_decref(root);
    *out = s;
    scn_diags_free(&local);
    return 0;
fail:
    json_decref(root);
    scn_free(s);
    scn_diags_free(&local);
    return rc;
}

void scn_free(scn_scenario *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->npicks; i++)
        sched_pick_free(s->picks[i]);
    free(s->picks);
    for (size_t i = 0; i < s->nregexes; i++)
        regfree(&s->regexes[i]->regex);
    free(s->regexes);
    json_decref(s->breakers);
    json_decref(s->parity);
    json_decref(s->data_checks);
    json_decref(s->targets);
    scn_arena_free(&s->arena);
    free(s);
}

/* ---- lookups ---------------------------------------------------------------------------- */

const scn_endpoint *scn_find_endpoint(const scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nendpoints; i++)
        if (strcmp(s->endpoints[i].name, name) == 0) return &s->endpoints[i];
    return NULL;
}

const scn_data *scn_find_data(const scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->ndata; i++)
        if (strcmp(s->data[i].name, name) == 0) return &s->data[i];
    return NULL;
}

const scn_step *scn_find_step(const scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nsteps; i++)
        if (strcmp(s->steps[i].name, name) == 0) return &s->steps[i];
    return NULL;
}

const scn_phase *scn_find_phase(const scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nphases; i++)
        if (strcmp(s->phases[i].name, name) == 0) return &s->phases[i];
    return NULL;
}

uint32_t scn_find_var(const scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i].name, name) == 0) return (uint32_t)i;
    return SCN_NONE;
}

void scn_over_rows(const scn_scenario *s, const scn_phase *p, uint64_t k, uint64_t *rows)
{
    uint64_t c = p->combinations ? k % p->combinations : 0;
    for (size_t i = p->nover; i-- > 0;) {
        uint64_t n = s->data[p->over[i]].rows;
        rows[i] = c % n;
        c /= n;
    }
}

bool scn_status_expected(const scn_http_step *h, int status)
{
    for (size_t i = 0; i < h->nexpect; i++)
        if (status >= h->expect[i].lo && status <= h->expect[i].hi) return true;
    return false;
}
