#include "report/junit.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics_query.h"

#define JUNIT_TEXT_MAX 2000 /* bytes of any one string */

typedef struct xb {
    char *s;
    size_t len, cap;
    bool oom;
} xb;

static void xb_put(xb *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 8192;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void xb_puts(xb *b, const char *s)
{
    xb_put(b, s, strlen(s));
}

static void xb_printf(xb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void xb_printf(xb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= 0) xb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* XML-escaped (text and attribute values), without what XML 1.0 forbids (C0 controls other
 * than tab, newline and return; U+FFFE and U+FFFF), at most JUNIT_TEXT_MAX bytes. */
static void xb_esc_mode(xb *b, const char *s, bool attr)
{
    if (!s) return;
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= JUNIT_TEXT_MAX && (c & 0xC0) != 0x80) {
            xb_puts(b, "...");
            return;
        }
        if (c == 0xEF && (unsigned char)s[i + 1] == 0xBF &&
            ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
            i += 2;
            continue;
        }
        switch (c) {
        case '&':
            xb_puts(b, "&amp;");
            break;
        case '<':
            xb_puts(b, "&lt;");
            break;
        case '>':
            xb_puts(b, "&gt;");
            break;
        case '"':
            xb_puts(b, "&quot;");
            break;
        case '\'':
            xb_puts(b, "&apos;");
            break;
        case '\n':
            /* An attribute value would turn a raw newline into a space. */
            xb_puts(b, attr ? "&#10;" : "\n");
            break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) break;
            xb_put(b, (const char *)&c, 1);
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
    xb_puts(b, label);
    xb_esc_mode(b, value, false);
    xb_puts(b, "\n");
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
    xb_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xb_printf(&b,
              "<testsuites name=\"cutover\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
              "skipped=\"0\" time=\"%.3f\">\n",
              n, failures, secs);
    xb_puts(&b, "  <testsuite name=\"cutover targets: ");
    xb_esc(&b, scenario);
    xb_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\"", n,
              failures, secs);
    if (js(run, "started")) {
        xb_puts(&b, " timestamp=\"");
        xb_esc(&b, js(run, "started"));
        xb_puts(&b, "\"");
    }
    if (js(run, "host")) {
        xb_puts(&b, " hostname=\"");
        xb_esc(&b, js(run, "host"));
        xb_puts(&b, "\"");
    }
    xb_puts(&b, ">\n    <properties>\n      <property name=\"verdict\" value=\"");
    xb_esc(&b, js(report, "verdict") ? js(report, "verdict") : "no targets");
    xb_puts(&b, "\"/>\n      <property name=\"scenario_file\" value=\"");
    xb_esc(&b, js(run, "scenario_file"));
    xb_puts(&b, "\"/>\n    </properties>\n");
    json_array_foreach(targets, i, t)
    {
        const char *st = js(t, "status") ? js(t, "status") : "fail";
        xb_puts(&b, "    <testcase classname=\"cutover.targets.");
        xb_esc(&b, scenario);
        xb_puts(&b, "\" name=\"");
        xb_esc(&b, js(t, "name") ? js(t, "name") : "target");
        xb_puts(&b, "\" time=\"0\">\n");
        bool failed = strcmp(st, "pass") != 0 && strcmp(st, "warn") != 0;
        if (failed) {
            xb_puts(&b, "      <failure type=\"target missed\" message=\"");
            xb_esc(&b, js(t, "reason") ? js(t, "reason") : "target missed");
            xb_puts(&b, "\">");
        } else {
            xb_puts(&b, "      <system-out>");
            if (!strcmp(st, "warn")) xb_puts(&b, "WARNING\n");
        }
        line(&b, "expr: ", js(t, "expr"));
        line(&b, "measured: ", js(t, "measured_text"));
        line(&b, "target: ", js(t, "target"));
        double samples;
        if (mq_num(t, "samples", &samples) && isfinite(samples))
            xb_printf(&b, "samples: %.0f\n", samples);
        line(&b, "reason: ", js(t, "reason"));
        line(&b, "severity: ", js(t, "severity"));
        xb_puts(&b, failed ? "</failure>\n" : "</system-out>\n");
        xb_puts(&b, "    </testcase>\n");
    }
    xb_puts(&b, "  </testsuite>\n</testsuites>\n");
    if (b.oom) {
        free(b.s);
        return cut_err_set(err, CUT_ENOMEM, "out of memory rendering the JUnit report");
    }
    *out = b.s;
    if (len) *len = b.len;
    return 0;
}
