/* cli.c - `cutover <command> [options]`: dispatch, help and version.
 *
 * Each command lives in its own file (cmd_*.c) once its work exists; until then the table
 * entry says so and the command exits 2 without pretending to do anything. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "version.h"

static const cli_command commands[] = {
    {"run", "run a scenario: load phases, parity, data checks, targets; write reports",
     "usage: cutover run SCENARIO.json [options]\n"
     "\n"
     "Validates SCENARIO.json, checks every endpoint it uses (preflight), runs its phases,\n"
     "parity and data checks, judges the targets and writes the reports.\n"
     "\n"
     "options:\n"
     "  --threads N        event-loop threads (default: cores available)\n"
     "  --report-dir DIR   write DIR/report.json, DIR/report.html and DIR/junit.xml\n"
     "  --json FILE        the JSON report (alias --out; default: stdout when no report is asked)\n"
     "  --html FILE        the HTML report (self-contained)\n"
     "  --junit FILE       JUnit XML, one testcase per target\n"
     "  --quiet            no progress output\n"
     "  --grace DURATION   after SIGINT/SIGTERM, let requests in flight finish (default 5s)\n"
     "  --plain            progress as plain lines even on a terminal\n"
     "  -h, --help         this help\n"
     "\n"
     "exit codes: 0 every target met, 1 a target missed, 2 usage or scenario error,\n"
     "3 could not start (preflight or a failed action), 130/143 interrupted (results written)\n",
     cmd_run},
    {"validate", "check a scenario file without sending anything",
     "usage: cutover validate SCENARIO.json...\n"
     "\n"
     "Checks everything a run would need: syntax (file:line:col), unknown keys, types,\n"
     "durations and units, endpoint and step names, template variables, ${ENV} variables,\n"
     "CSV files, bounds. Lists every error at once. Exit 0 when valid, 2 otherwise.\n",
     cmd_validate},
    {"parity", "compare v1 and v2 responses of the same API (a scenario's parity section)",
     "usage: cutover parity SCENARIO.json [options]\n"
     "\n"
     "Runs only the scenario's `parity` section: each request to the base and the candidate\n"
     "deployment (and the base twice for noise), structural JSON diff, Diffy-style noise\n"
     "cancellation. Prints a summary; writes {\"parity\": ...} JSON.\n"
     "\n"
     "options:\n"
     "  --out FILE          write the JSON to FILE (default: stdout; the summary then goes to\n"
     "                      stderr)\n"
     "  --concurrency N     requests compared at once (overrides the section)\n"
     "  --quiet             no progress lines\n"
     "  -h, --help          this help\n"
     "\n"
     "exit codes: 0 no mismatch, 1 mismatches or failed requests, 2 usage or scenario error,\n"
     "3 a deployment could not be reached\n",
     cmd_parity},
    {"data", "compare Redis and PostgreSQL data (a scenario's data_checks section)",
     "usage: cutover data SCENARIO.json [options]\n"
     "\n"
     "Runs only the scenario's `data_checks`: counts, sampled and full record comparison\n"
     "between Redis keys and PostgreSQL rows. Prints a summary; writes {\"data_checks\": [...]}.\n"
     "\n"
     "options:\n"
     "  --out FILE          write the JSON to FILE (default: stdout; the summary then goes to\n"
     "                      stderr)\n"
     "  --check NAME        run only the check of this name\n"
     "  --quiet             no progress lines\n"
     "  -h, --help          this help\n"
     "\n"
     "exit codes: 0 counts equal and nothing missing or different, 1 otherwise, 2 usage or\n"
     "scenario error, 3 an endpoint could not be reached\n",
     cmd_data},
    {"report", "re-render HTML and JUnit reports from a JSON report",
     "usage: cutover report REPORT.json [--html OUT.html] [--junit OUT.xml]\n"
     "                      [--scenario SCENARIO.json [--json OUT.json]]\n"
     "\n"
     "Re-renders the HTML page and the JUnit XML from a JSON report written by `cutover run`.\n"
     "Without an output option, prints each target's verdict.\n"
     "\n"
     "options:\n"
     "  --html FILE          write the self-contained HTML report\n"
     "  --junit FILE         write JUnit XML, one testcase per target\n"
     "  --scenario FILE      judge FILE's targets against the report first (new verdicts)\n"
     "  --json FILE          write the JSON report (with the new verdicts)\n"
     "\n"
     "exit codes: 0 written, 1 a re-judged target missed, 2 usage error or bad report\n",
     cmd_report},
    {"merge", "merge the JSON results of several runs (histograms bucket by bucket)",
     "usage: cutover merge REPORT.json REPORT.json... [--scenario SCENARIO.json]\n"
     "                     [--json OUT.json] [--html OUT.html] [--junit OUT.xml]\n"
     "\n"
     "Merges the reports of several generators that ran the same scenario at the same time:\n"
     "phases and steps by name, counters summed, latency histograms merged bucket by bucket\n"
     "(percentiles stay exact; per-second percentiles become the maximum over the inputs).\n"
     "With --scenario the merged report is judged against its targets (exit 1 on a miss).\n"
     "Without an output option the merged JSON goes to stdout.\n",
     cmd_merge},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f)
{
    fprintf(f, "cutover %s - load-test and migration-verification harness\n\n", CUTOVER_VERSION);
    fprintf(f, "usage: cutover <command> [options]\n       cutover <command> --help\n\n");
    fprintf(f, "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 all targets met, 1 a target missed, 2 usage or scenario error,\n"
               "            3 the run could not start (preflight), 130/143 interrupted.\n");
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CUT_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    fputs(commands[i].usage, stdout);
                    return CUT_EXIT_OK;
                }
        }
        print_usage(stdout);
        return CUT_EXIT_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("cutover %s\n", CUTOVER_VERSION);
        return CUT_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) == 0) {
            if (cli_wants_help(argc - 1, argv + 1)) {
                fputs(commands[i].usage, stdout);
                return CUT_EXIT_OK;
            }
            return commands[i].handler(&commands[i], argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "cutover: unknown command '%s' (try: cutover --help)\n", name);
    return CUT_EXIT_USAGE;
}
