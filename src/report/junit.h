/* junit.h - the JUnit XML report: one <testcase> per target, so CI systems show each target
 * as a test. A missed target ("fail") carries a <failure> whose message gives the measured
 * value against the target; a warning passes and says so in <system-out>.
 *
 * Every string from the report (names, expressions, reasons) is hostile: it is XML-escaped,
 * characters XML 1.0 forbids are dropped, and lengths are bounded.
 *
 * Memory: *out is a malloc'd NUL-terminated document the caller frees with free().
 * Errors: 0, CUT_EINVAL (report is not a JSON object), CUT_ENOMEM. */
#ifndef CUTOVER_REPORT_JUNIT_H
#define CUTOVER_REPORT_JUNIT_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

int junit_render(const json_t *report, char **out, size_t *len, cut_err *err);

#endif
