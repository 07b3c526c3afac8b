#include "metrics/breaker.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/sched.h"

/* ---- configuration ------------------------------------------------------------------------- */

static bool is_known(const char *k, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, keys[i]) == 0) return true;
    return false;
}

static char **str_list(const json_t *v, size_t *n, const char *def, const char *file,
                       const char *ptr, scn_diags *d, bool *ok)
{
    char **out;
    if (!v) {
        out = calloc(2, sizeof *out);
        if (!out) return NULL;
        out[0] = strdup(def);
        *n = 1;
        return out;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        scn_diags_add(d, "%s: %s: must be a non-empty list of strings", file, ptr);
        *ok = false;
        return NULL;
    }
    out = calloc(json_array_size(v) + 1, sizeof *out);
    if (!out) return NULL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x)) {
            scn_diags_add(d, "%s: %s/%zu: must be a string", file, ptr, i);
            *ok = false;
            continue;
        }
        out[(*n)++] = strdup(json_string_value(x));
    }
    return out;
}

static void free_list(char **l, size_t n)
{
    if (!l) return;
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

int brk_config_load(const scn_scenario *s, brk_config **out, scn_diags *d)
{
    static const char *const keys[] = {"endpoint", "url",    "interval",  "state",
                                       "open",     "closed", "half_open", "rejection"};
    static const char *const rkeys[] = {"status", "json", "equals"};
    const json_t *b = s->breakers;
    const char *file = s->file;
    bool ok = true;
    *out = NULL;
    if (!b) return 0;
    brk_config *c = calloc(1, sizeof *c);
    if (!c) return CUT_ENOMEM;
    c->interval_ns = 1000000000;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)b, k, v)
    {
        if (!is_known(k, keys, sizeof keys / sizeof *keys)) {
            scn_diags_add(d,
                          "%s: /breakers/%s: unknown key (allowed: endpoint, url, interval, state, "
                          "open, half_open, closed, rejection)",
                          file, k);
            ok = false;
        }
    }
    const json_t *ep = json_object_get(b, "endpoint");
    const scn_endpoint *e = json_is_string(ep) ? scn_find_endpoint(s, json_string_value(ep)) : NULL;
    if (!e || e->type != SCN_EP_HTTP) {
        scn_diags_add(d, "%s: /breakers/endpoint: %s", file,
                      !json_is_string(ep) ? "missing: the name of an http endpoint"
                                          : "must name an http endpoint of the scenario");
        ok = false;
    } else {
        c->endpoint = (uint32_t)(e - s->endpoints);
    }
    const json_t *url = json_object_get(b, "url");
    if (url && !json_is_string(url)) {
        scn_diags_add(d, "%s: /breakers/url: must be a string", file);
        ok = false;
    } else if (url) {
        c->url = strdup(json_string_value(url));
    }
    const json_t *iv = json_object_get(b, "interval");
    if (iv) {
        cut_err err;
        if (!json_is_string(iv) ||
            sched_parse_duration(json_string_value(iv), &c->interval_ns, &err) < 0 ||
            c->interval_ns < 10000000) {
            scn_diags_add(d, "%s: /breakers/interval: must be a duration of at least 10ms", file);
            ok = false;
        }
    }
    const json_t *st = json_object_get(b, "state");
    if (c->url) {
        cut_err err;
        if (!json_is_string(st)) {
            scn_diags_add(
                d, "%s: /breakers/state: missing: a JSON pointer (with * wildcards) to the states",
                file);
            ok = false;
        } else if (jptr_compile(json_string_value(st), &c->state, &err) < 0) {
            scn_diags_add(d, "%s: /breakers/state: %s", file, err.msg);
            ok = false;
        }
    }
    c->open =
        str_list(json_object_get(b, "open"), &c->nopen, "OPEN", file, "/breakers/open", d, &ok);
    c->half_open = str_list(json_object_get(b, "half_open"), &c->nhalf_open, "HALF_OPEN", file,
                            "/breakers/half_open", d, &ok);
    c->closed = str_list(json_object_get(b, "closed"), &c->nclosed, "CLOSED", file,
                         "/breakers/closed", d, &ok);
    const json_t *rej = json_object_get(b, "rejection");
    if (rej && !json_is_object(rej)) {
        scn_diags_add(d, "%s: /breakers/rejection: must be an object", file);
        ok = false;
    } else if (rej) {
        c->has_rejection = true;
        json_object_foreach((json_t *)rej, k, v)
        {
            if (!is_known(k, rkeys, 3)) {
                scn_diags_add(
                    d, "%s: /breakers/rejection/%s: unknown key (allowed: status, json, equals)",
                    file, k);
                ok = false;
            }
        }
        const json_t *rs = json_object_get(rej, "status");
        if (rs && (!json_is_integer(rs) || json_integer_value(rs) < 100 ||
                   json_integer_value(rs) > 599)) {
            scn_diags_add(d, "%s: /breakers/rejection/status: must be an HTTP status", file);
            ok = false;
        } else if (rs) {
            c->rejection_status = (int)json_integer_value(rs);
        }
        const json_t *rj = json_object_get(rej, "json");
        cut_err err;
        if (rj && (!json_is_string(rj) ||
                   jptr_compile(json_string_value(rj), &c->rejection_ptr, &err) < 0)) {
            scn_diags_add(d, "%s: /breakers/rejection/json: must be a JSON pointer", file);
            ok = false;
        }
        const json_t *re = json_object_get(rej, "equals");
        if (re && !json_is_string(re)) {
            scn_diags_add(d, "%s: /breakers/rejection/equals: must be a string", file);
            ok = false;
        } else if (re) {
            c->rejection_equals = strdup(json_string_value(re));
        }
        if (!rs && !rj) {
            scn_diags_add(d, "%s: /breakers/rejection: give a status, a json pointer, or both",
                          file);
            ok = false;
        }
    }
    if (!c->url && !c->has_rejection) {
        scn_diags_add(
            d, "%s: /breakers: give a status `url` to poll, a `rejection` signature, or both",
            file);
        ok = false;
    }
    if (!ok) {
        brk_config_free(c);
        return CUT_EINVAL;
    }
    *out = c;
    return 0;
}

void brk_config_free(brk_config *c)
{
    if (!c) return;
    free(c->url);
    jptr_free(c->state);
    free_list(c->open, c->nopen);
    free_list(c->half_open, c->nhalf_open);
    free_list(c->closed, c->nclosed);
    jptr_free(c->rejection_ptr);
    free(c->rejection_equals);
    free(c);
}

static bool in_list(char *const *l, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(l[i], v) == 0) return true;
    return false;
}

brk_state brk_classify(const brk_config *c, const char *value)
{
    if (!value) return BRK_UNKNOWN;
    if (in_list(c->open, c->nopen, value)) return BRK_OPEN;
    if (in_list(c->half_open, c->nhalf_open, value)) return BRK_HALF_OPEN;
    if (in_list(c->closed, c->nclosed, value)) return BRK_CLOSED;
    return BRK_UNKNOWN;
}

const char *brk_state_name(brk_state st)
{
    switch (st) {
    case BRK_CLOSED:
        return "CLOSED";
    case BRK_HALF_OPEN:
        return "HALF_OPEN";
    case BRK_OPEN:
        return "OPEN";
    default:
        return "UNKNOWN";
    }
}

bool brk_is_rejection(const brk_config *c, int status, const char *body, size_t len)
{
    if (!c || !c->has_rejection) return false;
    if (c->rejection_status && status != c->rejection_status) return false;
    if (!c->rejection_ptr) return true;
    json_t *doc = body ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    json_t *v = doc ? jptr_get(c->rejection_ptr, doc) : NULL;
    bool match = v != NULL;
    if (match && c->rejection_equals)
        match = json_is_string(v) && strcmp(json_string_value(v), c->rejection_equals) == 0;
    json_decref(doc);
    return match;
}

/* ---- tracker --------------------------------------------------------------------------------- */

typedef struct brk_seen {
    char *breaker;
    brk_state state;
    int64_t since_ms; /* entered `state` at (as polled) */
    int64_t open_ms;  /* accumulated time open */
} brk_seen;

struct brk_tracker {
    const brk_config *c;
    int64_t start_ms;
    uint64_t polls, poll_errors;
    brk_seen *seen;
    size_t nseen, capseen;
    brk_transition *tr;
    size_t ntr, captr;
    unsigned open_now;
};

int brk_tracker_new(const brk_config *c, int64_t start_unix_ms, brk_tracker **out, cut_err *err)
{
    brk_tracker *t = calloc(1, sizeof *t);
    if (!t) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    t->c = c;
    t->start_ms = start_unix_ms;
    *out = t;
    return 0;
}

void brk_tracker_free(brk_tracker *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nseen; i++)
        free(t->seen[i].breaker);
    for (size_t i = 0; i < t->ntr; i++)
        free(t->tr[i].breaker);
    free(t->seen);
    free(t->tr);
    free(t);
}

typedef struct observe_ctx {
    brk_tracker *t;
    int64_t now;
} observe_ctx;

static void add_transition(brk_tracker *t, const char *name, brk_state from, brk_state to,
                           int64_t now)
{
    if (t->ntr == t->captr) {
        size_t cap = t->captr ? t->captr * 2 : 16;
        brk_transition *n = realloc(t->tr, cap * sizeof *n);
        if (!n) return;
        t->tr = n;
        t->captr = cap;
    }
    brk_transition *x = &t->tr[t->ntr++];
    x->breaker = strdup(name);
    x->from = from;
    x->to = to;
    x->unix_ms = now;
    x->t_s = (double)(now - t->start_ms) / 1000.0;
}

static int observe_one(const char *path, json_t *value, void *ud)
{
    observe_ctx *o = ud;
    brk_tracker *t = o->t;
    brk_state st = brk_classify(t->c, json_is_string(value) ? json_string_value(value) : NULL);
    brk_seen *s = NULL;
    for (size_t i = 0; i < t->nseen; i++)
        if (strcmp(t->seen[i].breaker, path) == 0) s = &t->seen[i];
    if (!s) {
        if (t->nseen == t->capseen) {
            size_t cap = t->capseen ? t->capseen * 2 : 8;
            brk_seen *n = realloc(t->seen, cap * sizeof *n);
            if (!n) return 0;
            t->seen = n;
            t->capseen = cap;
        }
        s = &t->seen[t->nseen++];
        memset(s, 0, sizeof *s);
        s->breaker = strdup(path);
        s->state = st;
        s->since_ms = o->now;
        /* Open already at the first poll: a trip whose start we did not see. */
        if (st == BRK_OPEN) add_transition(t, path, BRK_UNKNOWN, st, o->now);
    } else if (s->state != st) {
        if (s->state == BRK_OPEN) s->open_ms += o->now - s->since_ms;
        add_transition(t, path, s->state, st, o->now);
        s->state = st;
        s->since_ms = o->now;
    }
    if (st == BRK_OPEN) t->open_now++;
    return 0;
}

void brk_tracker_observe(brk_tracker *t, const json_t *doc, int64_t unix_ms)
{
    observe_ctx o = {t, unix_ms};
    t->polls++;
    t->open_now = 0;
    if (t->c->state) jptr_foreach(t->c->state, doc, observe_one, &o);
}

void brk_tracker_poll_failed(brk_tracker *t)
{
    t->polls++;
    t->poll_errors++;
}

unsigned brk_tracker_open_now(const brk_tracker *t)
{
    return t->open_now;
}

json_t *brk_tracker_json(const brk_tracker *t, const scn_scenario *s, int64_t end_unix_ms)
{
    json_t *o = json_object();
    uint64_t trips = 0;
    int64_t open_ms = 0;
    json_t *tr = json_array();
    for (size_t i = 0; i < t->ntr; i++) {
        const brk_transition *x = &t->tr[i];
        if (x->to == BRK_OPEN) trips++;
        json_array_append_new(tr, json_pack("{ss ss ss sf sI}", "breaker", x->breaker, "from",
                                            brk_state_name(x->from), "to", brk_state_name(x->to),
                                            "t", x->t_s, "at_ms", (json_int_t)x->unix_ms));
    }
    json_t *states = json_object();
    for (size_t i = 0; i < t->nseen; i++) {
        const brk_seen *b = &t->seen[i];
        open_ms += b->open_ms;
        if (b->state == BRK_OPEN && end_unix_ms > b->since_ms) open_ms += end_unix_ms - b->since_ms;
        json_object_set_new(states, b->breaker, json_string(brk_state_name(b->state)));
    }
    json_object_set_new(o, "endpoint", json_string(s->endpoints[t->c->endpoint].name));
    json_object_set_new(o, "url", t->c->url ? json_string(t->c->url) : json_null());
    json_object_set_new(o, "interval_s", json_real((double)t->c->interval_ns / 1e9));
    json_object_set_new(o, "polls", json_integer((json_int_t)t->polls));
    json_object_set_new(o, "poll_errors", json_integer((json_int_t)t->poll_errors));
    json_object_set_new(o, "trips", json_integer((json_int_t)trips));
    json_object_set_new(o, "open_seconds", json_real((double)open_ms / 1000.0));
    json_object_set_new(o, "transitions", tr);
    json_object_set_new(o, "states", states);
    return o;
}
