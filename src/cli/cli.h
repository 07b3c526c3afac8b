#ifndef CUTOVER_CLI_CLI_H
#define CUTOVER_CLI_CLI_H
/* Entry point of the command line; returns the process exit code (README contract). */
int cli_main(int argc, char **argv);
#endif
