/* cmd_run.c - `cutover run SCENARIO.json`: validate, preflight, run the phases, write the
 * results, and exit by the README contract. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "driver/run.h"
#include "driver/sched.h"
#include "report/results_json.h"
#include "report/summary.h"
#include "scenario/scenario.h"

static int parse_threads(const char *text, unsigned *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 1024) return -1;
    *out = (unsigned)v;
    return 0;
}

int cmd_run(const cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 't'}, {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},         {"grace", required_argument, NULL, 'g'},
        {"plain", no_argument, NULL, 'p'},         {NULL, 0, NULL, 0},
    };
    drv_run_opts opts;
    memset(&opts, 0, sizeof opts);
    const char *out_path = "-";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:o:q", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_threads(optarg, &opts.threads) < 0) {
                fprintf(stderr, "cutover run: --threads: '%s' is not a number from 1 to 1024\n",
                        optarg);
                return CUT_EXIT_USAGE;
            }
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'q':
            opts.progress = DRV_PROGRESS_QUIET;
            break;
        case 'p':
            opts.progress = DRV_PROGRESS_PLAIN;
            break;
        case 'g': {
            int64_t ns;
            cut_err e;
            if (sched_parse_duration(optarg, &ns, &e) < 0) {
                fprintf(stderr, "cutover run: --grace: %s\n", e.msg);
                return CUT_EXIT_USAGE;
            }
            opts.grace_ns = (uint64_t)ns;
            break;
        }
        default:
            fprintf(stderr, "cutover run: unknown or incomplete option '%s'\n%s", argv[optind - 1],
                    cmd->usage);
            return CUT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cutover run: give exactly one scenario file\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    const char *path = argv[optind];

    scn_scenario *s = NULL;
    cli_sections sec;
    if (cli_load_scenario(path, &s, &sec) < 0) return CUT_EXIT_USAGE;
    opts.breakers = sec.breakers;

    res_run run;
    cut_err err;
    cut_err_clear(&err);
    int rc = drv_run_scenario(s, &opts, &run, &err);
    if (rc < 0) {
        fprintf(stderr, "cutover run: %s\n", err.msg);
        cli_sections_free(&sec);
        scn_free(s);
        return CUT_EXIT_PREFLIGHT;
    }
    int exit_code = CUT_EXIT_OK;
    if (rc == DRV_RUN_PREFLIGHT) {
        fprintf(stderr, "cutover run: the run could not %s: %s\n", run.nphases ? "go on" : "start",
                err.msg);
        exit_code = CUT_EXIT_PREFLIGHT;
    } else if (rc == DRV_RUN_INTERRUPTED) {
        exit_code = run.signal == SIGTERM ? CUT_EXIT_SIGTERM : CUT_EXIT_SIGINT;
    }

    if (rc != DRV_RUN_PREFLIGHT || run.nphases > 0) {
        json_t *doc = NULL;
        cut_err_clear(&err);
        if (rpt_results_json(&run, s, &doc, &err) < 0 || rpt_write_json(doc, out_path, &err) < 0) {
            fprintf(stderr, "cutover run: %s\n", err.msg);
            if (exit_code == CUT_EXIT_OK) exit_code = CUT_EXIT_PREFLIGHT;
        }
        json_decref(doc);
        if (opts.progress != DRV_PROGRESS_QUIET) rpt_print_summary(stderr, &run, s);
    }
    if (exit_code == CUT_EXIT_OK && s->targets) {
        /* Never pretend: a gate whose targets were not judged must not pass. */
        fprintf(stderr, "cutover run: this version measures but cannot judge `targets` yet; "
                        "exiting 2 so no pipeline takes this run as a pass\n");
        exit_code = CUT_EXIT_USAGE;
    }
    res_run_free(&run);
    cli_sections_free(&sec);
    scn_free(s);
    return exit_code;
}
