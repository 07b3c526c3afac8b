/* summary.h - the short end-of-run text summary (k6-style): per phase and step, requests,
 * rate, errors by kind, cache hit rate and latency percentiles. */
#ifndef CUTOVER_REPORT_SUMMARY_H
#define CUTOVER_REPORT_SUMMARY_H

#include <stdio.h>

#include "metrics/results.h"
#include "scenario/scenario.h"

void rpt_print_summary(FILE *f, const res_run *run, const scn_scenario *s);

#endif
