/* report.h - the reports of a run: the JSON report (the results document plus "targets" and
 * "verdict"), the HTML page and the JUnit XML, written together.
 *
 * The JSON report is the source of the other two: `cutover report` re-renders them from it
 * (rpt_load), so nothing the HTML or JUnit show is missing from the JSON. Its shape is
 * reports/schema/report.schema.json ("schema": 1).
 *
 * Files are written atomically (a temporary file beside the target, then rename); "-" means
 * standard output. Errors: 0 or a negative CUT_E* with err filled: CUT_EIO (cannot write or
 * read, message names the file), CUT_ESYNTAX (not JSON: "file:line:col: message"),
 * CUT_EINVAL (JSON but not a cutover report), CUT_ENOMEM. */
#ifndef CUTOVER_REPORT_REPORT_H
#define CUTOVER_REPORT_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "report/targets.h"
#include "util/err.h"

/* Adds to results (a document from rpt_results_json) "targets" (a copy of verdicts, [] when
 * NULL), "targets_summary" {total, passed, warned, failed, no_data, low_samples} and
 * "verdict": "fail" when a severity-fail target failed, "no targets" when none was judged
 * (verdicts NULL or empty), else "pass". Replaces earlier values, so it may be called after
 * every phase. Returns 0, CUT_EINVAL (results not an object) or CUT_ENOMEM. */
int rpt_finalize(json_t *results, const json_t *verdicts, const tgt_summary *sum);

/* Renders and writes the HTML page / the JUnit XML of a finalized report. */
int rpt_write_html(const json_t *report, const char *path, cut_err *err);
int rpt_write_junit(const json_t *report, const char *path, cut_err *err);

/* Which files rpt_write_all writes; NULL skips one. */
typedef struct rpt_outputs {
    const char *json;
    const char *html;
    const char *junit;
} rpt_outputs;

/* Writes every requested file; stops at the first failure. */
int rpt_write_all(const json_t *report, const rpt_outputs *o, cut_err *err);

/* Reads a JSON report written by cutover (checks "schema": 1 and the "phases" array). On
 * success *out is a new reference the caller releases with json_decref. */
int rpt_load(const char *path, json_t **out, cut_err *err);

/* One line per target ("FAIL  name: measured X, target Y") and the verdict, for terminals. */
void rpt_print_targets(FILE *f, const json_t *report);

/* Writes len bytes to path atomically ("-": stdout). */
int rpt_write_file(const char *path, const char *data, size_t len, cut_err *err);

#endif
