#include "report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/html.h"
#include "report/junit.h"
#include "report/results_json.h"

int rpt_finalize(json_t *results, const json_t *verdicts, const tgt_summary *sum)
{
    if (!json_is_object(results)) return CUT_EINVAL;
    json_t *copy = verdicts ? json_deep_copy(verdicts) : json_array();
    if (!copy || !json_is_array(copy)) {
        json_decref(copy);
        return verdicts && !json_is_array(verdicts) ? CUT_EINVAL : CUT_ENOMEM;
    }
    tgt_summary zero;
    memset(&zero, 0, sizeof zero);
    if (!sum) sum = &zero;
    size_t n = json_array_size(copy);
    const char *verdict = n == 0 ? "no targets" : sum->failed_severe ? "fail" : "pass";
    json_t *counts =
        json_pack("{sI sI sI sI sI sI}", "total", (json_int_t)n, "passed", (json_int_t)sum->passed,
                  "warned", (json_int_t)sum->warned, "failed", (json_int_t)sum->failed, "no_data",
                  (json_int_t)sum->no_data, "low_samples", (json_int_t)sum->low_samples);
    if (!counts || json_object_set_new(results, "targets", copy) < 0 ||
        json_object_set_new(results, "targets_summary", counts) < 0 ||
        json_object_set_new(results, "verdict", json_string(verdict)) < 0)
        return CUT_ENOMEM;
    return 0;
}

int rpt_write_file(const char *path, const char *data, size_t len, cut_err *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return cut_err_set(err, CUT_EIO, "cannot write to stdout");
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* /dev/null, a FIFO, /dev/stdout: write into it. Renaming over it would replace a
         * device with a plain file (and, as root, break /dev/null for everyone). */
        FILE *f = fopen(path, "wb");
        if (!f) return cut_err_set(err, CUT_EIO, "%s: cannot write: %s", path, strerror(errno));
        size_t wrote = fwrite(data, 1, len, f);
        if (fclose(f) != 0 || wrote != len)
            return cut_err_set(err, CUT_EIO, "%s: cannot write: %s", path, strerror(errno));
        return 0;
    }
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return cut_err_set(err, CUT_EINVAL, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return cut_err_set(err, CUT_EIO, "%s: cannot write: %s", path, strerror(errno));
    size_t wrote = fwrite(data, 1, len, f);
    int e = errno;
    if (fclose(f) != 0 && wrote == len) {
        e = errno;
        wrote = 0;
    }
    if (wrote != len || rename(tmp, path) < 0) {
        if (wrote == len) e = errno;
        unlink(tmp);
        return cut_err_set(err, CUT_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

int rpt_write_html(const json_t *report, const char *path, cut_err *err)
{
    char *page = NULL;
    size_t len = 0;
    int rc = html_render(report, &page, &len, err);
    if (rc == 0) rc = rpt_write_file(path, page, len, err);
    free(page);
    return rc;
}

int rpt_write_junit(const json_t *report, const char *path, cut_err *err)
{
    char *doc = NULL;
    size_t len = 0;
    int rc = junit_render(report, &doc, &len, err);
    if (rc == 0) rc = rpt_write_file(path, doc, len, err);
    free(doc);
    return rc;
}

int rpt_write_all(const json_t *report, const rpt_outputs *o, cut_err *err)
{
    int rc = 0;
    if (o->json) rc = rpt_write_json(report, o->json, err);
    if (rc == 0 && o->html) rc = rpt_write_html(report, o->html, err);
    if (rc == 0 && o->junit) rc = rpt_write_junit(report, o->junit, err);
    return rc;
}

int rpt_load(const char *path, json_t **out, cut_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cut_err_set(err, CUT_EIO, "%s: cannot read: %s", path, strerror(errno));
    json_error_t je;
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!doc)
        return cut_err_set(err, CUT_ESYNTAX, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    json_t *schema = json_object_get(doc, "schema");
    if (!json_is_object(doc) || !json_is_integer(schema)) {
        json_decref(doc);
        return cut_err_set(err, CUT_EINVAL, "%s: not a cutover JSON report (no \"schema\" number)",
                           path);
    }
    if (json_integer_value(schema) != RPT_SCHEMA_VERSION) {
        long long v = json_integer_value(schema);
        json_decref(doc);
        return cut_err_set(err, CUT_EINVAL, "%s: report schema %lld, this cutover reads schema %d",
                           path, v, RPT_SCHEMA_VERSION);
    }
    if (!json_is_array(json_object_get(doc, "phases")) ||
        !json_is_object(json_object_get(doc, "run"))) {
        json_decref(doc);
        return cut_err_set(err, CUT_EINVAL, "%s: not a cutover JSON report (no \"run\"/\"phases\")",
                           path);
    }
    *out = doc;
    return 0;
}

/* Names come from the scenario and reasons from targets: no terminal control sequences. */
static void print_clean(FILE *f, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7F ? '?' : c, f);
    }
}

void rpt_print_targets(FILE *f, const json_t *report)
{
    json_t *targets = json_object_get(report, "targets");
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        json_t *st = json_object_get(t, "status"), *name = json_object_get(t, "name");
        json_t *reason = json_object_get(t, "reason");
        const char *s = json_is_string(st) ? json_string_value(st) : "?";
        fprintf(f, "%-5s ", !strcmp(s, "pass") ? "ok" : !strcmp(s, "warn") ? "WARN" : "FAIL");
        print_clean(f, json_is_string(name) ? json_string_value(name) : "?", 200);
        fputs(": ", f);
        print_clean(f, json_is_string(reason) ? json_string_value(reason) : "", 600);
        fputc('\n', f);
    }
    json_t *v = json_object_get(report, "verdict");
    fputs("verdict: ", f);
    print_clean(f, json_is_string(v) ? json_string_value(v) : "no targets", 40);
    fputc('\n', f);
}
