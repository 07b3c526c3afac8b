/* results_json.h - the results model as JSON (SCENARIO.md section 3, "schema": 1).
 *
 * Latencies are integer microseconds; every histogram also carries its HdrHistogram
 * compressed-V2 encoding ("hdr") so tools and `cutover merge` can recombine them.
 * Nothing secret is written: endpoints appear by name only. */
#ifndef CUTOVER_REPORT_RESULTS_JSON_H
#define CUTOVER_REPORT_RESULTS_JSON_H

#include <jansson.h>

#include "metrics/results.h"
#include "scenario/scenario.h"
#include "util/err.h"

#define RPT_SCHEMA_VERSION 1

/* Builds the JSON tree of a run; the caller owns *out (json_decref). */
int rpt_results_json(const res_run *run, const scn_scenario *s, json_t **out, cut_err *err);

/* One histogram as the report shows it: count, min, mean, p50..p999, max, stddev, clamped,
 * and its HdrHistogram encoding ("hdr"). The caller owns the result. */
json_t *rpt_hist_json(const hist *h, cut_err *err);

/* Writes the tree to path ("-" = stdout), indented, atomically (temp file + rename). */
int rpt_write_json(const json_t *doc, const char *path, cut_err *err);

#endif
