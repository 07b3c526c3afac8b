/* cmd_merge.c - `cutover merge REPORT.json... [--scenario S.json] [--json|--html|--junit F]`:
 * one report from several generators' reports of the same scenario (report/merge.h), judged
 * again when the scenario is given. Exit 0, 1 (a target missed), 2 (bad input). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "report/merge.h"
#include "report/report.h"

#define MERGE_MAX_INPUTS 256

int cmd_merge(const cli_command *cmd, int argc, char **argv)
{
    const char *inputs[MERGE_MAX_INPUTS];
    json_t *reports[MERGE_MAX_INPUTS];
    size_t n = 0;
    rpt_outputs outs = {NULL, NULL, NULL};
    const char *scenario = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **opt = strcmp(a, "--json") == 0 || strcmp(a, "--out") == 0 ? &outs.json
                           : strcmp(a, "--html") == 0                          ? &outs.html
                           : strcmp(a, "--junit") == 0                         ? &outs.junit
                           : strcmp(a, "--scenario") == 0                      ? &scenario
                                                                               : NULL;
        if (opt && i + 1 < argc) {
            *opt = argv[++i];
        } else if (a[0] == '-' || n == MERGE_MAX_INPUTS) {
            fprintf(stderr, "cutover merge: unexpected argument '%s'\n%s", a, cmd->usage);
            return CUT_EXIT_USAGE;
        } else {
            inputs[n++] = a;
        }
    }
    if (n < 2) {
        fprintf(stderr, "cutover merge: give at least two reports\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    if (!outs.json && !outs.html && !outs.junit) outs.json = "-";

    int code = CUT_EXIT_USAGE;
    size_t loaded = 0;
    json_t *doc = NULL, *verdicts = NULL;
    scn_scenario *s = NULL;
    cli_sections sec;
    memset(&sec, 0, sizeof sec);
    cut_err err;
    cut_err_clear(&err);
    for (; loaded < n; loaded++) {
        if (rpt_load(inputs[loaded], &reports[loaded], &err) < 0) {
            fprintf(stderr, "cutover merge: %s\n", err.msg);
            goto done;
        }
    }
    if (rpt_merge(reports, inputs, n, &doc, &err) < 0) {
        fprintf(stderr, "cutover merge: %s\n", err.msg);
        goto done;
    }
    tgt_summary sum;
    memset(&sum, 0, sizeof sum);
    if (scenario) {
        if (cli_load_scenario(scenario, &s, &sec) < 0) goto done;
        if (tgt_judge(sec.targets, doc, &verdicts, &sum, &err) < 0) {
            fprintf(stderr, "cutover merge: %s\n", err.msg);
            goto done;
        }
    }
    if (rpt_finalize(doc, verdicts, &sum) < 0 || rpt_write_all(doc, &outs, &err) < 0) {
        fprintf(stderr, "cutover merge: %s\n", err.msg[0] ? err.msg : "out of memory");
        code = CUT_EXIT_PREFLIGHT;
        goto done;
    }
    if (sum.total) rpt_print_targets(stderr, doc);
    code = sum.failed_severe ? CUT_EXIT_MISSED : CUT_EXIT_OK;
done:
    for (size_t i = 0; i < loaded; i++)
        json_decref(reports[i]);
    json_decref(verdicts);
    json_decref(doc);
    cli_sections_free(&sec);
    scn_free(s);
    return code;
}
