/* cmd_data.c - `cutover data SCENARIO.json [--out FILE] [--quiet] [--check NAME]`: runs only
 * the scenario's data_checks (verify/datacheck.h). Exit 0 when every check passed (counts
 * equal, nothing missing or different, no errors), 1 otherwise, 2 usage/scenario errors, 3 an
 * endpoint could not be reached. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "report/results_json.h"
#include "scenario/scenario.h"
#include "verify/datacheck.h"

static long long ival(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void summary(FILE *f, const json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c)
    {
        fprintf(f,
                "data %s (%s): redis %lld, postgres %lld, diff %lld%s; checked %lld: %lld missing "
                "in PostgreSQL, %lld missing in Redis, %lld field mismatches, %lld invalid, "
                "%lld errors: %s\n",
                json_string_value(json_object_get(c, "name")),
                json_string_value(json_object_get(c, "mode")), ival(c, "redis_count"),
                ival(c, "pg_count"), ival(c, "count_diff"),
                json_is_true(json_object_get(c, "count_exact")) ? "" : " (SCAN, not deduplicated)",
                ival(c, "checked") + ival(c, "reverse_checked"), ival(c, "missing_in_pg"),
                ival(c, "missing_in_redis"), ival(c, "field_mismatches"), ival(c, "invalid_values"),
                ival(c, "errors"), dck_passed(c) ? "ok" : "FAILED");
        size_t j;
        json_t *fl;
        json_array_foreach(json_object_get(c, "fields"), j, fl)
            fprintf(f, "  %s -> %s: %lld\n", json_string_value(json_object_get(fl, "field")),
                    json_string_value(json_object_get(fl, "column")), ival(fl, "count"));
        const char *e = json_string_value(json_object_get(c, "error"));
        if (e) fprintf(f, "  first error: %s\n", e);
    }
}

int cmd_data(const cli_command *cmd, int argc, char **argv)
{
    const char *file = NULL, *outpath = NULL;
    dck_opts o = {.progress_fd = 2};
    if (cli_wants_help(argc, argv)) {
        fputs(cmd->usage, stdout);
        return CUT_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            outpath = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) {
            o.only = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o.quiet = true;
        } else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "cutover data: unexpected argument '%s'\n%s", argv[i], cmd->usage);
            return CUT_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, "cutover data: no scenario file given\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    scn_scenario *s = NULL;
    cli_sections sec;
    int code = CUT_EXIT_USAGE;
    json_t *res = NULL, *doc = NULL;
    /* The whole scenario is validated, as `validate` and `run` do. */
    if (cli_load_scenario(file, &s, &sec) < 0) return CUT_EXIT_USAGE;
    if (!s->data_checks || json_array_size(s->data_checks) == 0) {
        fprintf(stderr, "%s: no \"data_checks\"\n", file);
        goto done;
    }
    cut_err err = {0};
    int rc = dck_run(s, &o, &res, &err);
    if (rc < 0) {
        fprintf(stderr, "cutover data: %s\n", err.msg);
        code = rc == CUT_EINVAL ? CUT_EXIT_USAGE : CUT_EXIT_PREFLIGHT;
        goto done;
    }
    if (o.only && json_array_size(res) == 0) {
        fprintf(stderr, "cutover data: no check named '%s'\n", o.only);
        goto done;
    }
    doc = json_pack("{s:O}", "data_checks", res);
    if (!doc || rpt_write_json(doc, outpath ? outpath : "-", &err) < 0) {
        fprintf(stderr, "cutover data: %s\n", doc ? err.msg : "out of memory");
        code = CUT_EXIT_PREFLIGHT;
        goto done;
    }
    summary(outpath ? stdout : stderr, res);
    code = CUT_EXIT_OK;
    size_t i;
    json_t *c;
    json_array_foreach(res, i, c) if (!dck_passed(c)) code = CUT_EXIT_MISSED;
done:
    json_decref(doc);
    json_decref(res);
    cli_sections_free(&sec);
    scn_free(s);
    return code;
}
