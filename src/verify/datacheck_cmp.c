/* datacheck_cmp.c - the pure parts of a data check: key <-> id, PostgreSQL rows as JSON, and
 * the two sides of one key's comparison (datacheck_int.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/datacheck_int.h"
#include "verify/vfy_util.h"

/* PostgreSQL type OIDs (pg_type.dat); stable across versions. */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
    OID_JSONB = 3802,
};

const char *dck__key_id(const dck_check *c, const char *key, size_t klen, size_t *n)
{
    if (klen <= c->plen + c->slen || memcmp(key, c->prefix, c->plen) != 0 ||
        memcmp(key + klen - c->slen, c->suffix, c->slen) != 0)
        return NULL;
    const char *id = key + c->plen;
    size_t len = klen - c->plen - c->slen;
    /* A text parameter can carry neither NUL nor invalid UTF-8: such a key has no row. */
    if (!vfy_utf8_ok(id, len)) return NULL;
    *n = len;
    return id;
}

/* Integer when the text is one, else a real; text that is neither stays a string. */
static json_t *number(const char *t)
{
    char *end;
    errno = 0;
    long long i = strtoll(t, &end, 10);
    if (*t && !*end && errno == 0) return json_integer((json_int_t)i);
    errno = 0;
    double d = strtod(t, &end);
    if (*t && !*end && errno == 0 && isfinite(d)) return json_real(d);
    return json_string(t);
}

json_t *dck__row_json(const PGresult *res, int row, int from)
{
    json_t *o = json_object();
    int n = PQnfields(res);
    for (int i = from; o && i < n; i++) {
        json_t *v;
        const char *t = PQgetvalue(res, row, i);
        int len = PQgetlength(res, row, i);
        if (PQgetisnull(res, row, i)) {
            v = json_null();
        } else {
            switch (PQftype(res, i)) {
            case OID_BOOL:
                v = json_boolean(t[0] == 't');
                break;
            case OID_INT2:
            case OID_INT4:
            case OID_INT8:
            case OID_OID:
            case OID_FLOAT4:
            case OID_FLOAT8:
            case OID_NUMERIC:
                v = number(t);
                break;
            case OID_JSON:
            case OID_JSONB:
                v = json_loadb(t, (size_t)len, JSON_DECODE_ANY, NULL);
                if (!v) v = json_stringn(t, (size_t)len);
                break;
            default:
                v = json_stringn(t, (size_t)len);
                break;
            }
        }
        if (!v || json_object_set_new(o, PQfname(res, i), v) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static bool ignored(const dck_check *c, const char *name)
{
    for (size_t i = 0; i < c->nignore_top; i++)
        if (strcmp(c->ignore_top[i], name) == 0) return true;
    return false;
}

static bool mapped(const dck_check *c, const char *name)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (!c->fields[i].rptr && strcmp(c->fields[i].name, name) == 0) return true;
    return false;
}

static bool parse_num(const char *s, double *d)
{
    char *end;
    errno = 0;
    *d = strtod(s, &end);
    return *s && !*end && errno == 0;
}

static bool truthy(const char *s, bool *b)
{
    static const char *const t[] = {"true", "t", "1", "yes", "on"}, *const f[] = {"false", "f", "0",
                                                                                  "no", "off"};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(s, t[i]) == 0) return (*b = true);
        if (strcmp(s, f[i]) == 0) return !(*b = false);
    }
    return false;
}

/* The replacement for y so that a text x and a scalar y compare as text; NULL: keep y. */
static json_t *coerced(json_t *x, json_t *y)
{
    const char *s = json_string_value(x);
    double d;
    bool b;
    if (!s) return NULL;
    if (json_is_number(y)) {
        if (parse_num(s, &d) && d == json_number_value(y)) return json_incref(x);
        char buf[40];
        if (json_is_integer(y))
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(y));
        else
            snprintf(buf, sizeof(buf), "%.17g", json_real_value(y));
        return json_string(buf);
    }
    if (json_is_boolean(y)) {
        if (truthy(s, &b) && b == json_is_true(y)) return json_incref(x);
        return json_string(json_is_true(y) ? "true" : "false");
    }
    return NULL;
}

int dck__sides(const dck_check *c, const json_t *value, const json_t *row, json_t **pa, json_t **pb)
{
    json_t *a = json_object(), *b = json_object();
    int rc = CUT_ENOMEM;
    *pa = *pb = NULL;
    if (!a || !b) goto fail;
    for (size_t i = 0; i < c->nfields; i++) {
        const dck_field *f = &c->fields[i];
        if (ignored(c, f->name)) continue;
        json_t *rv = f->rptr ? jptr_get(f->rptr, value) : json_object_get(value, f->name);
        json_t *cv = json_object_get(row, f->column);
        if (cv && f->cptr) cv = jptr_get(f->cptr, cv);
        if (rv && json_object_set(a, f->name, rv) < 0) goto fail;
        if (cv && json_object_set(b, f->name, cv) < 0) goto fail;
    }
    if (c->compare_all && json_is_object(value)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)value, k, v)
        {
            if (ignored(c, k) || mapped(c, k)) continue;
            json_t *cv = json_object_get(row, k);
            if (json_object_set(a, k, v) < 0 || (cv && json_object_set(b, k, cv) < 0)) goto fail;
        }
    }
    if (c->coerce) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v)
        {
            json_t *w = json_object_get(b, k), *n = NULL;
            if (!w) continue;
            if (json_is_string(v)) {
                n = coerced(v, w);
            } else if (json_is_string(w) && (json_is_number(v) || json_is_boolean(v))) {
                /* Redis scalar against PostgreSQL text: equal when the text means it. */
                json_t *t = coerced(w, v);
                if (t && json_equal(t, w)) n = json_incref(v);
                json_decref(t);
            }
            if (n && json_object_set_new(b, k, n) < 0) goto fail;
        }
    }
    *pa = a;
    *pb = b;
    return 0;
fail:
    json_decref(a);
    json_decref(b);
    return rc;
}

const char *dck__path_field(const char *path, size_t len, char *buf, size_t cap)
{
    size_t i = len && path[0] == '/' ? 1 : 0, o = 0;
    for (; i < len && path[i] != '/' && o + 1 < cap; i++) {
        char ch = path[i];
        if (ch == '~' && i + 1 < len && (path[i + 1] == '0' || path[i + 1] == '1')) {
            ch = path[i + 1] == '0' ? '~' : '/';
            i++;
        }
        buf[o++] = ch ? ch : '?';
    }
    buf[o] = '\0';
    return buf;
}
