/* sections.h - the scenario sections owned by other modules (breakers, parity, data checks,
 * targets), loaded and validated together so `validate` and `run` report the same problems. */
#ifndef CUTOVER_CLI_SECTIONS_H
#define CUTOVER_CLI_SECTIONS_H

#include "metrics/breaker.h"
#include "report/targets.h"
#include "scenario/scenario.h"

typedef struct cli_sections {
    brk_config *breakers;
    tgt_set *targets; /* an empty set when the scenario has no targets */
} cli_sections;

/* Loads every section; all problems go to d. Returns CUT_EINVAL when any. */
int cli_sections_load(const scn_scenario *s, cli_sections *out, scn_diags *d);
void cli_sections_free(cli_sections *c);

/* scn_load_file + cli_sections_load, diagnostics printed to stderr. 0 or a CUT_E* code. */
int cli_load_scenario(const char *path, scn_scenario **s, cli_sections *sec);

#endif
