/* cmd_report.c - `cutover report`. Not built yet: says so and exits 2. */
#include "cli/cmd.h"

int cmd_report(const cli_command *cmd, int argc, char **argv)
{
    return cmd_not_built(cmd, argc, argv);
}
