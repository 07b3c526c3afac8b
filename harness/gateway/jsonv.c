#include "jsonv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int gw_jv_keys(json_t *obj, const char *const *allowed, char *err, size_t errlen)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            snprintf(err, errlen, "unknown field \"%s\"", key);
            return -1;
        }
    }
    return 0;
}

int gw_jv_number(json_t *obj, const char *key, double min, double max, double *out, char *err,
                 size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_number(v)) {
        snprintf(err, errlen, "\"%s\" must be a number", key);
        return -1;
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        snprintf(err, errlen, "\"%s\" must be between %g and %g", key, min, max);
        return -1;
    }
    *out = d;
    return 1;
}

int gw_jv_int(json_t *obj, const char *key, long min, long max, long *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(err, errlen, "\"%s\" must be an integer between %ld and %ld", key, min, max);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 1;
}
