/* cmd_validate.c - `cutover validate FILE...`: load every file, print every problem. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "scenario/scenario.h"

int cmd_validate(const cli_command *cmd, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "cutover validate: no scenario file given\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        scn_scenario *s = NULL;
        cli_sections sec;
        if (cli_load_scenario(argv[i], &s, &sec) < 0) {
            bad++;
            continue;
        }
        printf("%s: ok (%zu endpoints, %zu steps, %zu phases)\n", argv[i], s->nendpoints, s->nsteps,
               s->nphases);
        cli_sections_free(&sec);
        scn_free(s);
    }
    return bad ? CUT_EXIT_USAGE : CUT_EXIT_OK;
}
