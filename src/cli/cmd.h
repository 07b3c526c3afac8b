/* cmd.h - the command table shared by cli.c and the cmd_*.c files. */
#ifndef CUTOVER_CLI_CMD_H
#define CUTOVER_CLI_CMD_H

typedef struct cli_command cli_command;

/* argv[0] is the command name; returns the process exit code (cli/exit.h). */
typedef int (*cli_handler)(const cli_command *cmd, int argc, char **argv);

struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;
    cli_handler handler;
};

/* True when -h/--help appears before a "--". */
int cli_wants_help(int argc, char **argv);

int cmd_run(const cli_command *cmd, int argc, char **argv);
int cmd_parity(const cli_command *cmd, int argc, char **argv);
int cmd_data(const cli_command *cmd, int argc, char **argv);
int cmd_report(const cli_command *cmd, int argc, char **argv);
int cmd_merge(const cli_command *cmd, int argc, char **argv);
int cmd_validate(const cli_command *cmd, int argc, char **argv);

#endif
