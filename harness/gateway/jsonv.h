/* Validation of admin request bodies: every accepted field is checked, unknown fields are refused,
 * and each error names the field, so a 400 says exactly what was wrong. */
#ifndef GW_JSONV_H
#define GW_JSONV_H

#include <jansson.h>
#include <stddef.h>

/* 0 if every key of obj is in allowed (NULL-terminated), else -1 with err filled. */
int gw_jv_keys(json_t *obj, const char *const *allowed, char *err, size_t errlen);
/* Reads an optional number field in [min, max]. Returns 1 if present, 0 if absent, -1 if invalid.
 */
int gw_jv_number(json_t *obj, const char *key, double min, double max, double *out, char *err,
                 size_t errlen);
/* As gw_jv_number but the value must be an integer. */
int gw_jv_int(json_t *obj, const char *key, long min, long max, long *out, char *err,
              size_t errlen);

#endif
