/* v2 drift injected at run time (POST /admin/drift), applied to report responses so parity checks
 * have something real to find. Rules, applied in order to each response they select:
 *   {"op": "value",   "path": "/data/0/amount", "value": 1}   replace an existing value
 *   {"op": "type",    "path": "/data/<star>/quantity"}        number <-> string (others -> string)
 *   {"op": "drop",    "path": "/info/agency_name"}            remove a member or element
 *   {"op": "reorder", "path": "/data"}                        reverse an array
 * "path" is a JSON pointer in which a "*" token means every member/element; optional "agencies"
 * and "reports" (arrays of strings) restrict a rule to those report requests. Thread-safe. */
#ifndef GW_DRIFT_H
#define GW_DRIFT_H

#include <jansson.h>
#include <stddef.h>

struct gw_drift;

int gw_drift_new(struct gw_drift **out);
void gw_drift_free(struct gw_drift *d);
/* Validates {"rules": [...]} and replaces all rules. Returns 0, or -1 with err filled (the
 * current rules stay). An empty list clears. */
int gw_drift_set(struct gw_drift *d, json_t *body, char *err, size_t errlen);
void gw_drift_clear(struct gw_drift *d);
/* Applies the matching rules to resp in place. Returns how many rules matched. */
int gw_drift_apply(struct gw_drift *d, const char *report, const char *agency, json_t *resp);
/* The active rules, as posted. */
json_t *gw_drift_status(struct gw_drift *d);

#endif
