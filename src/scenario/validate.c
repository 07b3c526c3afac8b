/* validate.c - typed access to scenario JSON members, each problem reported with its
 * JSON pointer (see internal.h for the return convention). */
#include "scenario/internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver/sched.h"
#include "scenario/suggest.h"

void scn__err(scn__ctx *c, const char *ptr, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    if (ptr)
        scn_diags_add(c->diags, "%s: %s: %s", c->file, *ptr ? ptr : "/", msg);
    else
        scn_diags_add(c->diags, "%s: %s", c->file, msg);
}

void scn__ptr_key(char out[SCN__PTR_MAX], const char *base, const char *key)
{
    size_t n = strlen(base);
    if (n > SCN__PTR_MAX - 2) n = SCN__PTR_MAX - 2;
    memmove(out, base, n);
    out[n++] = '/';
    for (const char *k = key; *k && n < SCN__PTR_MAX - 3; k++) {
        if (*k == '~' || *k == '/') {
            out[n++] = '~';
            out[n++] = *k == '~' ? '0' : '1';
        } else {
            out[n++] = *k;
        }
    }
    out[n] = '\0';
}

void scn__ptr_idx(char out[SCN__PTR_MAX], const char *base, size_t idx)
{
    char num[24];
    snprintf(num, sizeof num, "%zu", idx);
    scn__ptr_key(out, base, num);
}

const char *scn__type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

bool scn__check_keys(scn__ctx *c, const char *ptr, const json_t *obj, const char *const *allowed,
                     size_t n)
{
    bool ok = true;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(key, allowed[i]) != 0)
            i++;
        if (i < n) continue;
        char p[SCN__PTR_MAX], list[300];
        scn__ptr_key(p, ptr, key);
        scn__join(list, sizeof list, allowed, n);
        const char *near = scn__suggest(key, allowed, n);
        if (near)
            scn__err(c, p, "unknown key \"%s\" (did you mean \"%s\"? allowed: %s)", key, near,
                     list);
        else
            scn__err(c, p, "unknown key \"%s\" (allowed: %s)", key, list);
        ok = false;
    }
    return ok;
}

bool scn__want_object(scn__ctx *c, const char *ptr, const json_t *v)
{
    if (json_is_object(v)) return true;
    scn__err(c, ptr, "must be an object, not %s", scn__type_name(v));
    return false;
}

bool scn__want_array(scn__ctx *c, const char *ptr, const json_t *v)
{
    if (json_is_array(v)) return true;
    scn__err(c, ptr, "must be an array, not %s", scn__type_name(v));
    return false;
}

int scn__get_str(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (!json_is_string(v)) {
        scn__err(c, p, "must be a string, not %s", scn__type_name(v));
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        scn__err(c, p, "must not contain NUL characters");
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int scn__get_bool(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) {
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, key);
        scn__err(c, p, "must be true or false, not %s", scn__type_name(v));
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int scn__get_int(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, int64_t min,
                 int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (!json_is_integer(v)) {
        scn__err(c, p, "must be an integer, not %s", scn__type_name(v));
        return -1;
    }
    json_int_t x = json_integer_value(v);
    if (x < min) {
        if (min == 1)
            scn__err(c, p, "must be > 0");
        else
            scn__err(c, p, "must be >= %lld", (long long)min);
        return -1;
    }
    if (x > max) {
        scn__err(c, p, "must be <= %lld", (long long)max);
        return -1;
    }
    *out = x;
    return 1;
}

int scn__get_number(scn__ctx *c, const json_t *obj, const char *ptr, const char *key,
                    bool allow_zero, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (!json_is_number(v)) {
        scn__err(c, p, "must be a number, not %s", scn__type_name(v));
        return -1;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < 0 || (!allow_zero && x == 0)) {
        scn__err(c, p, allow_zero ? "must be >= 0" : "must be > 0");
        return -1;
    }
    *out = x;
    return 1;
}

int scn__get_duration(scn__ctx *c, const json_t *obj, const char *ptr, const char *key,
                      bool allow_zero, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (!json_is_string(v)) {
        scn__err(c, p, "must be a duration string such as \"250ms\" or \"1.5s\", not %s",
                 scn__type_name(v));
        return -1;
    }
    cut_err e;
    cut_err_clear(&e);
    int64_t ns;
    if (sched_parse_duration(json_string_value(v), &ns, &e) != 0) {
        scn__err(c, p, "%s", e.msg);
        return -1;
    }
    if (!allow_zero && ns <= 0) {
        scn__err(c, p, "must be > 0");
        return -1;
    }
    *out = ns;
    return 1;
}

int scn__get_str_list(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, char ***out,
                      size_t *n)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, key);
    if (!scn__want_array(c, p, v)) return -1;
    size_t count = json_array_size(v);
    char **list = scn_arena_calloc(c->arena, count ? count : 1, sizeof *list);
    if (!list) return -1;
    int rc = 1;
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(v, i);
        char ip[SCN__PTR_MAX];
        scn__ptr_idx(ip, p, i);
        if (!json_is_string(item) || json_string_length(item) == 0 ||
            strlen(json_string_value(item)) != json_string_length(item)) {
            scn__err(c, ip, "must be a non-empty string");
            rc = -1;
            continue;
        }
        list[i] = scn_arena_strdup(c->arena, json_string_value(item));
    }
    if (rc < 0) return rc;
    *out = list;
    *n = count;
    return 1;
}
