/* cmd_report.c - `cutover report REPORT.json [--html OUT.html] [--junit OUT.xml]`: re-render the
 * HTML and JUnit reports from a JSON report written by `cutover run`. Without an output option
 * it prints the targets' verdicts. With --scenario FILE it first judges FILE's targets against
 * the report's results (replacing the verdicts; --json OUT writes the new JSON report).
 * Exit 0 when written; 1 when re-judged targets missed; 2 on bad usage or bad input. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "report/report.h"
#include "report/targets.h"
#include "scenario/scenario.h"

/* Judges the scenario's targets against report and finalizes it; exit code or -1 on success. */
static int rejudge(const char *path, json_t *report, bool *failed)
{
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    tgt_set *t = NULL;
    json_t *verdicts = NULL;
    tgt_summary sum;
    cut_err err;
    cut_err_clear(&err);
    int code = CUT_EXIT_USAGE;
    if (scn_load_file(path, &s, &d) < 0 || tgt_compile(s, &t, &d) < 0) {
        scn_diags_print(&d, stderr);
        if (d.count == 0) fprintf(stderr, "cutover report: %s: cannot be loaded\n", path);
        goto fail;
    }
    if (tgt_judge(t, report, &verdicts, &sum, &err) < 0 ||
        rpt_finalize(report, verdicts, &sum) < 0) {
        fprintf(stderr, "cutover report: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto fail;
    }
    *failed = sum.failed_severe;
    code = -1;
fail:
    json_decref(verdicts);
    tgt_free(t);
    scn_free(s);
    scn_diags_free(&d);
    return code;
}

int cmd_report(const cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"html", required_argument, NULL, 'h'},
        {"junit", required_argument, NULL, 'j'},
        {"json", required_argument, NULL, 'o'},
        {"scenario", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    rpt_outputs o = {NULL, NULL, NULL};
    const char *scenario = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            o.html = optarg;
            break;
        case 'j':
            o.junit = optarg;
            break;
        case 'o':
            o.json = optarg;
            break;
        case 's':
            scenario = optarg;
            break;
        default:
            fprintf(stderr, "cutover report: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], cmd->usage);
            return CUT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cutover report: give exactly one JSON report\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    json_t *report = NULL;
    cut_err err;
    cut_err_clear(&err);
    if (rpt_load(argv[optind], &report, &err) < 0) {
        fprintf(stderr, "cutover report: %s\n", err.msg);
        return CUT_EXIT_USAGE;
    }
    bool failed = false;
    if (scenario) {
        int code = rejudge(scenario, report, &failed);
        if (code >= 0) {
            json_decref(report);
            return code;
        }
    }
    int rc = 0;
    if (!o.html && !o.junit && !o.json) rpt_print_targets(stdout, report);
    rc = rpt_write_all(report, &o, &err);
    json_decref(report);
    if (rc < 0) {
        fprintf(stderr, "cutover report: %s\n", err.msg);
        return CUT_EXIT_USAGE;
    }
    return failed ? CUT_EXIT_MISSED : CUT_EXIT_OK;
}
