/* cmd_data.c - `cutover data`. Not built yet: says so and exits 2. */
#include "cli/cmd.h"

int cmd_data(const cli_command *cmd, int argc, char **argv)
{
    return cmd_not_built(cmd, argc, argv);
}
