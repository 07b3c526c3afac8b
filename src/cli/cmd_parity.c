/* cmd_parity.c - `cutover parity SCENARIO.json [--out FILE] [--quiet] [--concurrency N]`:
 * runs only the scenario's parity section (verify/parity.h). Exit 0 when nothing mismatched
 * and every request was compared, 1 otherwise, 2 usage/scenario errors, 3 unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/exit.h"
#include "cli/sections.h"
#include "report/results_json.h"
#include "scenario/scenario.h"
#include "verify/parity.h"

static void summary(FILE *f, const json_t *p)
{
    json_int_t n = json_integer_value(json_object_get(p, "requests"));
    json_int_t m = json_integer_value(json_object_get(p, "mismatched"));
    fprintf(f,
            "parity %s -> %s: %lld requests, %lld mismatched (%.2f%%), %lld errors, %lld status "
            "mismatches\n",
            json_string_value(json_object_get(p, "base")),
            json_string_value(json_object_get(p, "candidate")), (long long)n, (long long)m,
            n ? 100.0 * (double)m / (double)n : 0.0,
            (long long)json_integer_value(json_object_get(p, "errors")),
            (long long)json_integer_value(json_object_get(p, "status_mismatches")));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(p, "fields"), i, v)
    {
        fprintf(f, "  %-40s %-8s %lld (%.2f%%)\n", json_string_value(json_object_get(v, "path")),
                json_string_value(json_object_get(v, "kind")),
                (long long)json_integer_value(json_object_get(v, "count")),
                100.0 * json_number_value(json_object_get(v, "rate")));
    }
    json_array_foreach(json_object_get(p, "noise_fields"), i, v)
        fprintf(f, "  noise: %s\n", json_string_value(v));
    json_int_t cached = json_integer_value(json_object_get(p, "cached_responses"));
    if (cached)
        fprintf(f,
                "  warning: %lld responses came from a cache; point base/candidate at the "
                "deployments, or set through_cache\n",
                (long long)cached);
}

int cmd_parity(const cli_command *cmd, int argc, char **argv)
{
    const char *file = NULL, *outpath = NULL;
    par_opts o = {.progress_fd = 2};
    if (cli_wants_help(argc, argv)) {
        fputs(cmd->usage, stdout);
        return CUT_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            outpath = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o.quiet = true;
        } else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) {
            char *end;
            long c = strtol(argv[++i], &end, 10);
            if (*end || c < 1 || c > 1024) {
                fprintf(stderr, "cutover parity: --concurrency must be 1..1024\n");
                return CUT_EXIT_USAGE;
            }
            o.concurrency = (uint32_t)c;
        } else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "cutover parity: unexpected argument '%s'\n%s", argv[i], cmd->usage);
            return CUT_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, "cutover parity: no scenario file given\n%s", cmd->usage);
        return CUT_EXIT_USAGE;
    }
    scn_scenario *s = NULL;
    cli_sections sec;
    int code = CUT_EXIT_USAGE;
    json_t *res = NULL, *doc = NULL;
    /* The whole scenario is validated, as `validate` and `run` do. */
    if (cli_load_scenario(file, &s, &sec) < 0) return CUT_EXIT_USAGE;
    if (!s->parity) {
        fprintf(stderr, "%s: no \"parity\" section\n", file);
        goto done;
    }
    cut_err err = {0};
    int rc = par_run(s, &o, &res, &err);
    if (rc < 0) {
        fprintf(stderr, "cutover parity: %s\n", err.msg);
        code = rc == CUT_EINVAL ? CUT_EXIT_USAGE : CUT_EXIT_PREFLIGHT;
        goto done;
    }
    doc = json_pack("{s:O}", "parity", res);
    if (!doc || rpt_write_json(doc, outpath ? outpath : "-", &err) < 0) {
        fprintf(stderr, "cutover parity: %s\n", doc ? err.msg : "out of memory");
        code = CUT_EXIT_PREFLIGHT;
        goto done;
    }
    summary(outpath ? stdout : stderr, res);
    code = json_integer_value(json_object_get(res, "mismatched")) == 0 &&
                   json_integer_value(json_object_get(res, "errors")) == 0
               ? CUT_EXIT_OK
               : CUT_EXIT_MISSED;
done:
    json_decref(doc);
    json_decref(res);
    cli_sections_free(&sec);
    scn_free(s);
    return code;
}
