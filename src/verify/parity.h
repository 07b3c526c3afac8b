/* parity.h - HTTP parity: the same requests to a base and a candidate deployment, compared
 * field by field, with Diffy-style noise cancellation (prefix par_).
 *
 * ---- Scenario section `parity` (reference) ------------------------------------------------
 *   "parity": {
 *     "base": "v1", "candidate": "v2",       http endpoints (required)
 *     "base2": "v1b",                         optional second base deployment for noise
 *     "over": ["report", "agency"],           optional: cartesian product of data sets (first
 *                                             set slowest); every request runs once per row
 *     one of:
 *     "request":  {"method": "GET", "url": "/api/v3/report/{{report}}/agency/{{agency}}",
 *                  "headers": {"Accept": "application/json"}, "body": "..." | {...},
 *                  "name": "report"},
 *     "requests": [ {request}, ... ],
 *     "requests_file": "requests.json"        a JSON array of requests, or JSON Lines (one
 *                                             request object per line); relative to the
 *                                             scenario's folder. Templates may use only the
 *                                             `over` sets' variables.
 *     "compare": {"status": true,             compare status codes (default true)
 *                 "headers": ["Content-Type", "X-Cache-Zone"],   compared headers (default none)
 *                 "ignore_header_values": ["Date"]},  presence compared, value not
 *     "ignore": ["/metadata", "/data/(*)/ts"],  jdiff ignore rules (`*` = any key or index)
 *     "additions": "allow" | "report",        (default "report") fields only the candidate has
 *     "tolerance": {"abs": 0.001, "rel": 1e-9},
 *     "arrays": {"/data": {"match_by": "/row_id"}, "/tags": {"unordered": true}},
 *     "max_details": 4096, "excerpt_bytes": 256,   per comparison (jdiff.h)
 *     "noise": {"second_base_call": true,     send each request to the base twice (or to base2)
 *               "rel": 20, "abs": 0.03},      thresholds in percent (Diffy's defaults)
 *     "concurrency": 8,                       requests compared at once (1..1024)
 *     "max_examples": 5,                      examples kept per field (0..100)
 *     "through_cache": false                  false: responses a cache answered (an endpoint
 *                                             cache_header saying HIT/STALE/...) are counted
 *                                             in cached_responses and warned about
 *   }
 * Each request goes to base, candidate (and base2) at once, with the same method, URL path,
 * body and request headers (each endpoint's own `headers` are added, a request header wins).
 * Bodies that both parse as JSON are diffed structurally (jdiff.h); otherwise bytes are
 * compared (field "body", kind "value"; one JSON and one not: kind "type"). Besides JSON
 * pointers, field paths are "status" and "header:<lower-case name>".
 *
 * Noise (Diffy): per field, raw = requests where base and candidate differ in it, noise =
 * requests where the two base responses differ in it. A field is reported when raw > noise,
 * |raw-noise|/(raw+noise)*100 > rel and |raw-noise|/requests*100 > abs. Without a second base
 * call noise is 0 (the thresholds still apply). A request is mismatched when at least one
 * reported field differs in it; requests that differ only in noise fields are not.
 *
 * ---- Output (par_run) ----------------------------------------------------------------------
 *   {"base": "v1", "candidate": "v2", "base2": "v1" | null, "requests": N, "compared": C,
 *    "mismatched": M, "mismatch_rate": M/N, "status_mismatches": k, "errors": e,
 *    "cached_responses": c,
 *    "fields": [{"path": "/data/(*)/amount", "kind": "value", "kinds": {"value": 3},
 *                "count": c, "rate": c/N, "noise": n,
 *                "examples": [{"request": "GET /api/...", "path": "/data/3/amount",
 *                              "kind": "value", "base": "12.5", "candidate": "999.5",
 *                              "truncated": false}]}],     reported fields, most frequent first
 *    "noise_fields": ["/info/generated_at", ...],   fields where the base differed from itself
 *    "suppressed": [{"path": ..., "count": raw, "noise": n}],   differing but not reported
 *    "endpoints": [{"name": "GET /api/v3/report/{{report}}/agency/{{agency}}", "requests": n,
 *                   "mismatched": m, "errors": e, "mismatch_rate": m/n}],
 *    "error_examples": [{"request": ..., "side": "base|candidate|base2", "error": "..."}],
 *    "thresholds": {"rel": 20, "abs": 0.03}, "seconds": t}
 * ("(*)" above stands for a `*` segment.) `errors` counts requests where a side failed
 * (connect, timeout, reset, body over the endpoint's max_body): they are not compared.
 *
 * Errors: par_validate returns 0 or CUT_EINVAL (one "file: /parity/...: message" diagnostic per
 * problem, all at once; CUT_ENOMEM if memory ran out). par_run returns 0 (the comparison ran;
 * mismatches are data, not errors), CUT_EINVAL (invalid section), CUT_ECONNECT (a deployment
 * could not be reached before the run: err names it by its redacted URL), CUT_ENOMEM, CUT_EIO.
 * Memory: *out is a new reference owned by the caller. Runs on its own loop in the calling
 * thread; nothing is shared. */
#ifndef CUTOVER_VERIFY_PARITY_H
#define CUTOVER_VERIFY_PARITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario/diag.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct par_opts {
    int progress_fd;      /* progress lines (about one a second) go here; -1 = none */
    bool quiet;           /* no progress at all */
    uint32_t concurrency; /* overrides the section's concurrency when > 0 */
} par_opts;

int par_validate(const scn_scenario *s, scn_diags *d);

/* Runs the section; *out = the "parity" object above (NULL when the section is absent:
 * returns 0). */
int par_run(const scn_scenario *s, const par_opts *o, json_t **out, cut_err *err);

#endif
