/* targets.h - a scenario's `targets`: compiled and validated once, judged against a results
 * document as often as needed (after each phase for abort_on_fail, and at the end).
 *
 * Forms (README "Targets"; metric names: SCENARIO.md section 4):
 *   "http.warm.p95{step:report}": "< 300ms"                 short: the key is the expression's
 *                                                            left side, the value its right side
 *   "warm report": {"expr": "http.warm.p95{step:report} < 300ms", "severity": "warn",
 *                   "abort_on_fail": true, "min_samples": 50, "description": "..."}
 * Selectors in braces, comma separated; a selector takes several values as
 * `{phase:warm,soak,step:report}` (an item without ':' adds a value to the previous
 * selector). Operators < <= > >= == !=; units us, ms, s (latencies must have one) and %
 * (rates may instead be fractions from 0 to 1). Equality allows a relative error of 1e-9.
 *
 * Judging: a target with no data misses ("no data ..."); a target measured over fewer
 * samples than min_samples is flagged (`low_samples`), and a pass on too few samples becomes
 * a warn. A missed target's status is "fail", or "warn" when its severity is "warn".
 *
 * Memory: tgt_compile copies what it needs; the set does not refer to the scenario after
 * it returns. tgt_judge's *verdicts is a new JSON array the caller owns (json_decref).
 *
 * Errors: tgt_compile returns 0, CUT_EINVAL with one "file: /targets/<key>[/expr]: message"
 * line in d per problem (all of them at once; unknown metric, unknown or inapplicable
 * selector, a selector value naming no phase/step/tag/endpoint/check of the scenario, bad
 * operator, number or unit), or CUT_ENOMEM. tgt_judge returns 0 or CUT_ENOMEM. */
#ifndef CUTOVER_REPORT_TARGETS_H
#define CUTOVER_REPORT_TARGETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "scenario/scenario.h"
#include "util/err.h"

typedef struct tgt_set tgt_set;

typedef struct tgt_summary {
    size_t total;
    size_t passed, warned, failed; /* by verdict status */
    size_t no_data;                /* targets that found no data (counted as missed) */
    size_t low_samples;            /* targets measured over fewer than min_samples samples */
    bool failed_severe;            /* a target of severity "fail" failed: the run misses (exit 1) */
    bool abort; /* an abort_on_fail target missed on measured data ("no data" never
                   aborts: a later phase may still bring the data) */
} tgt_summary;

/* Compiles s->targets (no section: an empty set). d may be NULL. On failure *out is NULL. */
int tgt_compile(const scn_scenario *s, tgt_set **out, scn_diags *d);

/* The same for a targets object from elsewhere; s may be NULL (then selector values are not
 * checked against a scenario), file names the source in diagnostics. */
int tgt_compile_json(const json_t *targets, const scn_scenario *s, const char *file, tgt_set **out,
                     scn_diags *d);

size_t tgt_count(const tgt_set *t);

/* Judges every target against a results document. *verdicts gets one object per target,
 * in the order written: {name, expr, metric, selectors {sel: [values]}, op, threshold,
 * unit, target, measured (in the target's unit, null without data), measured_text,
 * samples, status "pass"|"warn"|"fail", reason, severity, abort_on_fail, min_samples,
 * low_samples[, description]}. sum may be NULL. */
int tgt_judge(const tgt_set *t, const json_t *results, json_t **verdicts, tgt_summary *sum,
              cut_err *err);

void tgt_free(tgt_set *t);

#endif
