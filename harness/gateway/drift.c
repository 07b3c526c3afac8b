#include "drift.h"
#include "jsonv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_VALUE, OP_TYPE, OP_DROP, OP_REORDER };
static const char *const op_names[] = {"value", "type", "drop", "reorder", NULL};

#define MAX_RULES 64
#define MAX_TOKENS 16

struct rule {
    enum op op;
    char *tokens[MAX_TOKENS]; /* decoded pointer tokens, owned */
    int ntokens;
    json_t *value;         /* OP_VALUE only, owned */
    json_t *only_agencies; /* array of strings or NULL, owned */
    json_t *only_reports;
};

struct gw_drift {
    pthread_rwlock_t lock;
    struct rule rules[MAX_RULES];
    int nrules;
    json_t *posted; /* the rules as posted, for GET */
};

int gw_drift_new(struct gw_drift **out)
{
    struct gw_drift *d = calloc(1, sizeof(*d));
    if (!d) return -1;
    pthread_rwlock_init(&d->lock, NULL);
    d->posted = json_array();
    *out = d;
    return 0;
}

static void free_rules(struct rule *rules, int n)
{
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < rules[i].ntokens; t++)
            free(rules[i].tokens[t]);
        json_decref(rules[i].value);
        json_decref(rules[i].only_agencies);
        json_decref(rules[i].only_reports);
    }
}

void gw_drift_free(struct gw_drift *d)
{
    if (!d) return;
    free_rules(d->rules, d->nrules);
    json_decref(d->posted);
    pthread_rwlock_destroy(&d->lock);
    free(d);
}

/* Splits a JSON pointer into decoded tokens (~1 -> '/', ~0 -> '~'). */
static int parse_pointer(const char *p, struct rule *r, char *err, size_t errlen)
{
    if (!p || p[0] != '/' || p[1] == '\0') {
        snprintf(err, errlen,
                 "\"path\" must be a non-empty JSON pointer such as \"/data/0/amount\"");
        return -1;
    }
    while (*p == '/') {
        if (r->ntokens == MAX_TOKENS) {
            snprintf(err, errlen, "\"path\" has more than %d tokens", MAX_TOKENS);
            return -1;
        }
        p++;
        size_t n = strcspn(p, "/");
        char *tok = malloc(n + 1);
        if (!tok) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[o++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                tok[o++] = p[i];
            }
        }
        tok[o] = '\0';
        r->tokens[r->ntokens++] = tok;
        p += n;
    }
    return 0;
}

static int string_list(json_t *rule, const char *key, json_t **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(rule, key);
    *out = NULL;
    if (!v) return 0;
    size_t i;
    json_t *s;
    if (!json_is_array(v) || json_array_size(v) == 0) goto bad;
    json_array_foreach(v, i, s) if (!json_is_string(s)) goto bad;
    *out = json_incref(v);
    return 0;
bad:
    snprintf(err, errlen, "\"%s\" must be a non-empty array of strings", key);
    return -1;
}

static int parse_rule(json_t *in, struct rule *r, char *err, size_t errlen)
{
    static const char *const keys[] = {"op", "path", "value", "agencies", "reports", NULL};
    char inner[200];
    if (!json_is_object(in)) {
        snprintf(err, errlen, "must be an object");
        return -1;
    }
    if (gw_jv_keys(in, keys, err, errlen) < 0) return -1;
    const char *op = json_string_value(json_object_get(in, "op"));
    int found = -1;
    for (int i = 0; op && op_names[i]; i++)
        if (strcmp(op, op_names[i]) == 0) found = i;
    if (found < 0) {
        snprintf(err, errlen, "\"op\" must be one of value, type, drop, reorder");
        return -1;
    }
    r->op = (enum op)found;
    json_t *value = json_object_get(in, "value");
    if ((r->op == OP_VALUE) != (value != NULL)) {
        snprintf(err, errlen, "\"value\" is required for op \"value\" and refused for the others");
        return -1;
    }
    if (parse_pointer(json_string_value(json_object_get(in, "path")), r, inner, sizeof(inner)) <
            0 ||
        string_list(in, "agencies", &r->only_agencies, inner, sizeof(inner)) < 0 ||
        string_list(in, "reports", &r->only_reports, inner, sizeof(inner)) < 0) {
        snprintf(err, errlen, "%s", inner);
        return -1;
    }
    r->value = value ? json_deep_copy(value) : NULL;
    return 0;
}

int gw_drift_set(struct gw_drift *d, json_t *body, char *err, size_t errlen)
{
    static const char *const keys[] = {"rules", NULL};
    struct rule fresh[MAX_RULES];
    int n = 0;
    memset(fresh, 0, sizeof(fresh));
    json_t *rules = json_object_get(body, "rules");
    if (!json_is_object(body)) {
        snprintf(err, errlen, "body must be a JSON object {\"rules\": [...]}");
        return -1;
    }
    if (gw_jv_keys(body, keys, err, errlen) < 0) return -1;
    if (!json_is_array(rules) || json_array_size(rules) > MAX_RULES) {
        snprintf(err, errlen, "\"rules\" must be an array of at most %d rules", MAX_RULES);
        return -1;
    }
    size_t i;
    json_t *in;
    json_array_foreach(rules, i, in)
    {
        char inner[200] = "";
        if (parse_rule(in, &fresh[n], inner, sizeof(inner)) < 0) {
            n++; /* free the partially parsed rule too */
            snprintf(err, errlen, "/rules/%zu: %s", i, inner);
            goto fail;
        }
        n++;
    }
    pthread_rwlock_wrlock(&d->lock);
    free_rules(d->rules, d->nrules);
    memcpy(d->rules, fresh, sizeof(fresh[0]) * (size_t)n);
    d->nrules = n;
    json_decref(d->posted);
    d->posted = json_deep_copy(rules);
    pthread_rwlock_unlock(&d->lock);
    return 0;
fail:
    free_rules(fresh, n);
    return -1;
}

void gw_drift_clear(struct gw_drift *d)
{
    json_t *empty = json_pack("{s:[]}", "rules");
    char err[8];
    gw_drift_set(d, empty, err, sizeof(err));
    json_decref(empty);
}

static int listed(json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    if (!list) return 1;
    json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

/* Replacement for a value under op "type": numbers become strings and strings numbers. */
static json_t *retyped(json_t *v)
{
    char buf[64];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return json_string(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        return json_string(buf);
    }
    if (json_is_string(v)) {
        char *end;
        double x = strtod(json_string_value(v), &end);
        return *end == '\0' && end != json_string_value(v) ? json_real(x) : json_integer(0);
    }
    char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *s = json_string(dump ? dump : "null");
    free(dump);
    return s;
}

static void apply_at(const struct rule *r, json_t *parent, const char *key, size_t index)
{
    json_t *cur = key ? json_object_get(parent, key) : json_array_get(parent, index);
    if (!cur) return;
    json_t *repl = NULL;
    switch (r->op) {
    case OP_VALUE:
        repl = json_deep_copy(r->value);
        break;
    case OP_TYPE:
        repl = retyped(cur);
        break;
    case OP_DROP:
        if (key)
            json_object_del(parent, key);
        else
            json_array_remove(parent, index);
        return;
    case OP_REORDER:
        if (json_is_array(cur)) {
            size_t n = json_array_size(cur);
            for (size_t i = 0; i < n / 2; i++) {
                json_t *a = json_incref(json_array_get(cur, i));
                json_array_set(cur, i, json_array_get(cur, n - 1 - i));
                json_array_set_new(cur, n - 1 - i, a);
            }
        }
        return;
    }
    if (key)
        json_object_set_new(parent, key, repl);
    else
        json_array_set_new(parent, index, repl);
}

static int parse_index(const char *tok, size_t *out)
{
    char *end;
    if (tok[0] < '0' || tok[0] > '9') return -1;
    unsigned long v = strtoul(tok, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

static void walk(const struct rule *r, json_t *node, int depth)
{
    const char *tok = r->tokens[depth];
    int last = depth == r->ntokens - 1;
    int star = strcmp(tok, "*") == 0;
    if (json_is_object(node)) {
        if (star) {
            /* Collect keys first: a drop while iterating would invalidate the iterator. */
            const char *keys[256];
            size_t nk = 0;
            const char *k;
            json_t *v;
            json_object_foreach(node, k, v) if (nk < 256) keys[nk++] = k;
            for (size_t i = nk; i-- > 0;) {
                if (last)
                    apply_at(r, node, keys[i], 0);
                else
                    walk(r, json_object_get(node, keys[i]), depth + 1);
            }
        } else if (last) {
            apply_at(r, node, tok, 0);
        } else if (json_object_get(node, tok)) {
            walk(r, json_object_get(node, tok), depth + 1);
        }
    } else if (json_is_array(node)) {
        size_t idx;
        if (star) {
            /* Backwards, so a drop does not shift the elements still to visit. */
            for (size_t i = json_array_size(node); i-- > 0;) {
                if (last)
                    apply_at(r, node, NULL, i);
                else
                    walk(r, json_array_get(node, i), depth + 1);
            }
        } else if (parse_index(tok, &idx) == 0 && idx < json_array_size(node)) {
            if (last)
                apply_at(r, node, NULL, idx);
            else
                walk(r, json_array_get(node, idx), depth + 1);
        }
    }
}

int gw_drift_apply(struct gw_drift *d, const char *report, const char *agency, json_t *resp)
{
    int matched = 0;
    pthread_rwlock_rdlock(&d->lock);
    for (int i = 0; i < d->nrules; i++) {
        const struct rule *r = &d->rules[i];
        if (!listed(r->only_agencies, agency) || !listed(r->only_reports, report)) continue;
        walk(r, resp, 0);
        matched++;
    }
    pthread_rwlock_unlock(&d->lock);
    return matched;
}

json_t *gw_drift_status(struct gw_drift *d)
{
    pthread_rwlock_rdlock(&d->lock);
    json_t *o = json_pack("{s:o}", "rules", json_deep_copy(d->posted));
    pthread_rwlock_unlock(&d->lock);
    return o;
}
