#include "util/strbuf.h"
#include "report/junit.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics_query.h"

#define JUNIT_TEXT_MAX 2000 /* bytes of any one string */

typedef strbuf xb; /* the document being built (util/strbuf.h) */

/* XML-escaped (text and attribute values), without what XML 1.0 forbids (C0 controls other
 * than tab, newline and return; U+FFFE and U+FFFF), at most JUNIT_TEXT_MAX bytes. */
static void xb_esc_mode(xb *b, const char *s, bool attr)
{
    if (!s) return;
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= JUNIT_TEXT_MAX && (c & 0xC0) != 0x80) {
            sb_puts(b, "...");
            return;
        }
        if (c == 0xEF && (unsigned char)s[i + 1] == 0xBF &&
            ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
            i += 2;
            continue;
        }
        switch (c) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        case '\'':
            sb_puts(b, "&apos;");
            break;
        case '\n':
            /* An attribute value would turn a raw newline into a space. */
            sb_puts(b, attr ? "&#10;" : "\n");
            break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) break;
            sb_put(b, (const char *)&c, 1);
        }
    }
}

static void xb_esc(xb *b, const char *s)
{
    xb_esc_mode(b, s, true);
}

static const char *js(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void line(xb *b, const char *label, const char *value)
{
    if (!value) return;
    sb_puts(b, label);
    xb_esc_mode(b, value, false);
    sb_puts(b, "\n");
}

int junit_render(const json_t *report, char **out, size_t *len, cut_err *err)
{
    *out = NULL;
    if (len) *len = 0;
    if (!json_is_object(report))
        return cut_err_set(err, CUT_EINVAL, "the report is not a JSON object");
    json_t *run = json_object_get(report, "run");
    json_t *targets = json_object_get(report, "targets");
    size_t n = json_is_array(targets) ? json_array_size(targets) : 0, failures = 0;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *st = js(t, "status");
        if (!st || (strcmp(st, "pass") != 0 && strcmp(st, "warn") != 0)) failures++;
    }
    double secs = 0;
    mq_num(run, "duration_s", &secs);
    const char *scenario = js(run, "scenario") ? js(run, "scenario") : "scenario";
    xb b = {0};
    sb_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&b,
              "<testsuites name=\"cutover\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
              "skipped=\"0\" time=\"%.3f\">\n",
              n, failures, secs);
    sb_puts(&b, "  <testsuite name=\"cutover targets: ");
    xb_esc(&b, scenario);
    sb_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\"", n,
              failures, secs);
    if (js(run, "started")) {
        sb_puts(&b, " timestamp=\"");
        xb_esc(&b, js(run, "started"));
        sb_puts(&b, "\"");
    }
    if (js(run, "host")) {
        sb_puts(&b, " hostname=\"");
        xb_esc(&b, js(run, "host"));
        sb_puts(&b, "\"");
    }
    sb_puts(&b, ">\n    <properties>\n      <property name=\"verdict\" value=\"");
    xb_esc(&b, js(report, "verdict") ? js(report, "verdict") : "no targets");
    sb_puts(&b, "\"/>\n      <property name=\"scenario_file\" value=\"");
    xb_esc(&b, js(run, "scenario_file"));
    sb_puts(&b, "\"/>\n    </properties>\n");
    json_array_foreach(targets, i, t)
    {
        const char *st = js(t, "status") ? js(t, "status") : "fail";
        sb_puts(&b, "    <testcase classname=\"cutover.targets.");
        xb_esc(&b, scenario);
        sb_puts(&b, "\" name=\"");
        xb_esc(&b, js(t, "name") ? js(t, "name") : "target");
        sb_puts(&b, "\" time=\"0\">\n");
        bool failed = strcmp(st, "pass") != 0 && strcmp(st, "warn") != 0;
        if (failed) {
            sb_puts(&b, "      <failure type=\"target missed\" message=\"");
            xb_esc(&b, js(t, "reason") ? js(t, "reason") : "target missed");
            sb_puts(&b, "\">");
        } else {
            sb_puts(&b, "      <system-out>");
            if (!strcmp(st, "warn")) sb_puts(&b, "WARNING\n");
        }
        line(&b, "expr: ", js(t, "expr"));
        line(&b, "measured: ", js(t, "measured_text"));
        line(&b, "target: ", js(t, "target"));
        double samples;
        if (mq_num(t, "samples", &samples) && isfinite(samples))
            sb_printf(&b, "samples: %.0f\n", samples);
        line(&b, "reason: ", js(t, "reason"));
        line(&b, "severity: ", js(t, "severity"));
        sb_puts(&b, failed ? "</failure>\n" : "</system-out>\n");
        sb_puts(&b, "    </testcase>\n");
    }
    sb_puts(&b, "  </testsuite>\n</testsuites>\n");
    if (b.oom) {
        free(b.s);
        return cut_err_set(err, CUT_ENOMEM, "out of memory rendering the JUnit report");
    }
    *out = b.s;
    if (len) *len = b.len;
    return 0;
}
