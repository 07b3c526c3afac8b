/* cmd_validate.c - `cutover validate FILE...`: load every file, print every problem. */
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/exit.h"
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
        scn_diags d;
        scn_diags_init(&d);
        if (scn_load_file(argv[i], &s, &d) < 0) {
            scn_diags_print(&d, stderr);
            if (d.count == 0) fprintf(stderr, "%s: cannot be loaded\n", argv[i]);
            bad++;
        } else {
            printf("%s: ok (%zu endpoints, %zu steps, %zu phases)\n", argv[i], s->nendpoints,
                   s->nsteps, s->nphases);
        }
        scn_diags_free(&d);
        scn_free(s);
    }
    return bad ? CUT_EXIT_USAGE : CUT_EXIT_OK;
}
