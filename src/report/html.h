/* html.h - the HTML report: one self-contained page (no network: CSS, script and inline SVG
 * charts are all in the file) rendered from a JSON report (results + "targets" + "verdict").
 *
 * Sections: verdict banner; every target with its measured value; phases and steps;
 * latency percentile curves per step (cold vs warm, corrected vs raw, from the encoded
 * histograms); per-second throughput, errors, hit rate (and p95 when the series carries it)
 * with phases and breaker transitions marked; breakers; parity fields with examples; data
 * checks. The report, minus histograms and series, is embedded as JSON for tools.
 *
 * Everything in the report is hostile (it holds names from the scenario and text from
 * targets' responses): every string is escaped for its context (HTML text and attributes,
 * SVG text, '<' inside the embedded JSON), truncated, and tables and charts are bounded.
 * A Content-Security-Policy allows only the page's own script (by nonce) and no loads.
 *
 * Memory: *out is a malloc'd NUL-terminated page the caller frees with free().
 * Errors: 0, CUT_EINVAL (report is not a JSON object), CUT_ENOMEM. */
#ifndef CUTOVER_REPORT_HTML_H
#define CUTOVER_REPORT_HTML_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

int html_render(const json_t *report, char **out, size_t *len, cut_err *err);

#endif
