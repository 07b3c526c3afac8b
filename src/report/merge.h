/* merge.h - one report from the reports of several generator processes that ran the same
 * scenario at the same time (cutover on several machines, or several processes on one).
 *
 * Phases are matched by name, steps by name within a phase. Counters add up; rates, rps and hit
 * rates are recomputed from the sums; latency histograms merge bucket by bucket (each report
 * carries them HdrHistogram-encoded), so percentiles stay exact. Per-second series rows add
 * their counters; their percentiles cannot be merged exactly and become the maximum over the
 * inputs (an upper bound: the merged report says so in "series_percentiles"). Breakers, parity,
 * data checks and server views are taken from the first report (they were measured once, not
 * per generator). Targets and the verdict are dropped: judge the merged report again
 * (`cutover merge ... --scenario`).
 *
 * Memory: rpt_merge returns a new document the caller owns; the inputs are not changed.
 * Errors: CUT_EINVAL (not cutover reports, or histograms that cannot be decoded, with the
 * message naming which), CUT_ENOMEM. */
#ifndef CUTOVER_REPORT_MERGE_H
#define CUTOVER_REPORT_MERGE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

int rpt_merge(json_t *const *reports, const char *const *names, size_t n, json_t **out,
              cut_err *err);

#endif
