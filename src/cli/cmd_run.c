/* cmd_run.c - `cutover run SCENARIO.json`: validate, preflight, run the phases, verify
 * (parity, data checks), judge the targets, write the reports, and exit by the README
 * contract: 0 every target met, 1 a target missed, 2 usage or scenario error, 3 the run could
 * not start or go on, 130/143 interrupted (reports written either way). */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "driver/run.h"
#include "driver/sched.h"
#include "report/report.h"
#include "report/results_json.h"
#include "report/summary.h"
#include "scenario/scenario.h"
#include "verify/datacheck.h"
#include "verify/parity.h"

typedef struct run_args {
    drv_run_opts opts;
    const char *json, *html, *junit;
    char json_buf[PATH_MAX], html_buf[PATH_MAX], junit_buf[PATH_MAX];
    const char *scenario;
} run_args;

/* What the phase_done hook needs: targets judged on the partial results. */
typedef struct judge_ctx {
    const scn_scenario *s;
    const tgt_set *targets;
} judge_ctx;

static int parse_threads(const char *text, unsigned *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 1024) return -1;
    *out = (unsigned)v;
    return 0;
}

static int report_dir(run_args *a, const char *dir)
{
    if (mkdir(dir, 0755) < 0 && access(dir, W_OK) < 0) {
        fprintf(stderr, "cutover run: --report-dir: cannot create %s\n", dir);
        return -1;
    }
    snprintf(a->json_buf, sizeof a->json_buf, "%s/report.json", dir);
    snprintf(a->html_buf, sizeof a->html_buf, "%s/report.html", dir);
    snprintf(a->junit_buf, sizeof a->junit_buf, "%s/junit.xml", dir);
    if (!a->json) a->json = a->json_buf;
    if (!a->html) a->html = a->html_buf;
    if (!a->junit) a->junit = a->junit_buf;
    return 0;
}

static int parse_args(const cli_command *cmd, int argc, char **argv, run_args *a)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 't'}, {"out", required_argument, NULL, 'o'},
        {"json", required_argument, NULL, 'o'},    {"html", required_argument, NULL, 'H'},
        {"junit", required_argument, NULL, 'J'},   {"report-dir", required_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},         {"grace", required_argument, NULL, 'g'},
        {"plain", no_argument, NULL, 'p'},         {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:o:q", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_threads(optarg, &a->opts.threads) < 0) {
                fprintf(stderr, "cutover run: --threads: '%s' is not a number from 1 to 1024\n",
                        optarg);
                return -1;
            }
            break;
        case 'o':
            a->json = optarg;
            break;
        case 'H':
            a->html = optarg;
            break;
        case 'J':
            a->junit = optarg;
            break;
        case 'R':
            dir = optarg;
            break;
        case 'q':
            a->opts.progress = DRV_PROGRESS_QUIET;
            break;
        case 'p':
            a->opts.progress = DRV_PROGRESS_PLAIN;
            break;
        case 'g': {
            int64_t ns;
            cut_err e;
            if (sched_parse_duration(optarg, &ns, &e) < 0) {
                fprintf(stderr, "cutover run: --grace: %s\n", e.msg);
                return -1;
            }
            a->opts.grace_ns = (uint64_t)ns;
            break;
        }
        default:
            fprintf(stderr, "cutover run: unknown or incomplete option '%s'\n%s", argv[optind - 1],
                    cmd->usage);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cutover run: give exactly one scenario file\n%s", cmd->usage);
        return -1;
    }
    a->scenario = argv[optind];
    if (dir && report_dir(a, dir) < 0) return -1;
    if (!a->json && !a->html && !a->junit) a->json = "-"; /* the results on stdout */
    return 0;
}

/* Parity and data checks run after the load phases, each reaching its endpoints directly.
 * Their results go into `out`; an endpoint that cannot be reached returns CUT_ECONNECT. */
static int verify_sections(const scn_scenario *s, const drv_run_opts *ro, json_t *out)
{
    bool quiet = ro->progress == DRV_PROGRESS_QUIET;
    cut_err err;
    cut_err_clear(&err);
    if (s->parity) {
        par_opts po = {.progress_fd = 2, .quiet = quiet};
        json_t *res = NULL;
        if (par_run(s, &po, &res, &err) < 0) {
            fprintf(stderr, "cutover run: parity: %s\n", err.msg);
            return CUT_ECONNECT;
        }
        json_object_set_new(out, "parity", res);
    }
    if (s->data_checks) {
        dck_opts dopts = {.progress_fd = 2, .quiet = quiet};
        json_t *res = NULL;
        if (dck_run(s, &dopts, &res, &err) < 0) {
            fprintf(stderr, "cutover run: data checks: %s\n", err.msg);
            return CUT_ECONNECT;
        }
        json_object_set_new(out, "data_checks", res);
    }
    return 0;
}

static const char *str_or(const json_t *v, const char *dflt)
{
    const char *t = json_string_value(v);
    return t ? t : dflt;
}

/* After each phase: a target with abort_on_fail that missed on measured data stops the run. */
static int judge_phase(void *ud, const res_run *run, char *reason, size_t cap)
{
    judge_ctx *j = ud;
    json_t *doc = NULL, *verdicts = NULL;
    tgt_summary sum;
    memset(&sum, 0, sizeof sum);
    int stop = 0;
    if (rpt_results_json(run, j->s, &doc, NULL) == 0 &&
        tgt_judge(j->targets, doc, &verdicts, &sum, NULL) == 0 && sum.abort) {
        size_t i;
        json_t *v;
        json_array_foreach(verdicts, i, v)
        {
            if (!json_is_true(json_object_get(v, "abort_on_fail")) ||
                strcmp(str_or(json_object_get(v, "status"), ""), "fail") != 0)
                continue;
            snprintf(reason, cap, "aborted: target %s missed (measured %s)",
                     str_or(json_object_get(v, "name"), "?"),
                     str_or(json_object_get(v, "measured_text"), "no data"));
            break;
        }
        stop = 1;
    }
    json_decref(verdicts);
    json_decref(doc);
    return stop;
}

int cmd_run(const cli_command *cmd, int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    if (parse_args(cmd, argc, argv, &a) < 0) return CUT_EXIT_USAGE;

    scn_scenario *s = NULL;
    cli_sections sec;
    if (cli_load_scenario(a.scenario, &s, &sec) < 0) return CUT_EXIT_USAGE;
    a.opts.breakers = sec.breakers;
    judge_ctx jc = {s, sec.targets};
    a.opts.phase_done = judge_phase;
    a.opts.phase_done_ud = &jc;

    res_run run;
    cut_err err;
    cut_err_clear(&err);
    int rc = drv_run_scenario(s, &a.opts, &run, &err);
    if (rc < 0) {
        fprintf(stderr, "cutover run: %s\n", err.msg);
        cli_sections_free(&sec);
        scn_free(s);
        return CUT_EXIT_PREFLIGHT;
    }
    int exit_code = CUT_EXIT_OK;
    switch (rc) {
    case DRV_RUN_PREFLIGHT:
        fprintf(stderr, "cutover run: the run could not %s: %s\n", run.nphases ? "go on" : "start",
                err.msg);
        /* The reports still say why, for the pipeline's dashboard. */
        run.interrupted = true;
        if (!run.stop_reason[0])
            snprintf(run.stop_reason, sizeof run.stop_reason, "could not start: %.200s", err.msg);
        exit_code = CUT_EXIT_PREFLIGHT;
        break;
    case DRV_RUN_INTERRUPTED:
        exit_code = run.signal == SIGTERM ? CUT_EXIT_SIGTERM : CUT_EXIT_SIGINT;
        break;
    case DRV_RUN_ABORTED:
        fprintf(stderr, "cutover run: %s\n", run.stop_reason);
        exit_code = CUT_EXIT_MISSED;
        break;
    }

    json_t *verify = json_object();
    if (rc == DRV_RUN_OK && verify_sections(s, &a.opts, verify) < 0) exit_code = CUT_EXIT_PREFLIGHT;

    json_t *doc = NULL, *verdicts = NULL;
    tgt_summary sum;
    memset(&sum, 0, sizeof sum);
    {
        cut_err_clear(&err);
        int wrc = rpt_results_json(&run, s, &doc, &err);
        if (wrc == 0) {
            json_object_update(doc, verify);
            wrc = tgt_judge(sec.targets, doc, &verdicts, &sum, &err);
        }
        if (wrc == 0) wrc = rpt_finalize(doc, verdicts, &sum);
        rpt_outputs outs = {a.json, a.html, a.junit};
        if (wrc == 0) wrc = rpt_write_all(doc, &outs, &err);
        if (wrc < 0) {
            fprintf(stderr, "cutover run: %s\n", err.msg);
            if (exit_code == CUT_EXIT_OK) exit_code = CUT_EXIT_PREFLIGHT;
        }
        if (a.opts.progress != DRV_PROGRESS_QUIET) {
            rpt_print_summary(stderr, &run, s);
            if (doc && sum.total) rpt_print_targets(stderr, doc);
            if (a.html) fprintf(stderr, "report: %s\n", a.html);
        }
    }
    /* A missed target is exit 1 whatever else happened, unless the run was cut short first. */
    if (exit_code == CUT_EXIT_OK && sum.failed_severe) exit_code = CUT_EXIT_MISSED;
    json_decref(verdicts);
    json_decref(doc);
    json_decref(verify);
    res_run_free(&run);
    cli_sections_free(&sec);
    scn_free(s);
    return exit_code;
}
