/* diag.h - a list of diagnostics, one printable line each.
 *
 * Lines look like "file: /json/pointer: message" (semantic errors) or
 * "file:line:col: message" (syntax errors). The list owns its lines; scn_diags_free
 * releases them. An allocation failure while adding sets `oom` and drops the line, so
 * callers never have to check each add. Lines never contain secrets. */
#ifndef CUTOVER_SCENARIO_DIAG_H
#define CUTOVER_SCENARIO_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct scn_diags {
    char **lines;
    size_t count;
    size_t cap;
    bool oom; /* a line could not be stored */
} scn_diags;

void scn_diags_init(scn_diags *d);
void scn_diags_free(scn_diags *d);
/* Appends one formatted line (no trailing newline). */
void scn_diags_add(scn_diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes every line followed by '\n'. */
void scn_diags_print(const scn_diags *d, FILE *out);

#endif
