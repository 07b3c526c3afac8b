#include "util/strbuf.h"
#include "report/html.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/hist.h"
#include "report/html_assets.h"
#include "report/metrics_query.h"

/* Bounds on what hostile input can make the page hold. */
#define NAME_MAX_CH 160 /* names in tables */
#define TEXT_MAX_CH 600 /* reasons, examples */
#define LABEL_MAX_CH 28 /* labels inside charts */
#define ROWS_MAX 200    /* rows of any one table */
#define EXAMPLES_MAX 3  /* examples per parity field / data check */
#define CHARTS_MAX 12   /* latency charts (one per step) */
#define POINTS_MAX 1500 /* points per timeline series */
#define EMBED_MAX (2u << 20)

/* ---- output buffer ---------------------------------------------------------------------- */

typedef strbuf hb; /* the document being built (util/strbuf.h) */

/* Escaped for HTML text, attribute values and SVG text alike; at most max bytes of s (cut
 * at a UTF-8 boundary, marked with an ellipsis); control characters dropped. */
static void hb_esc(hb *b, const char *s, size_t max)
{
    if (!s) return;
    size_t i = 0;
    for (; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i >= max && (ch & 0xC0) != 0x80) {
            sb_puts(b, "\xE2\x80\xA6");
            return;
        }
        switch (ch) {
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
            sb_puts(b, "&#39;");
            break;
        default:
            if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7F) break;
            sb_put(b, (const char *)&ch, 1);
        }
    }
}

/* ---- reading the report ----------------------------------------------------------------- */

static const char *js(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *jget(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static double jnum(const json_t *o, const char *key, double dflt)
{
    double v;
    return mq_num(o, key, &v) ? v : dflt;
}

static void fmt_num(char *buf, size_t cap, double v)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(buf, cap, "%.1f", v);
    else if (fabs(v) >= 1)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.3g", v);
}

static void hb_num(hb *b, double v)
{
    char t[64];
    fmt_num(t, sizeof t, v);
    sb_puts(b, t);
}

/* Microseconds as milliseconds. */
static void hb_ms(hb *b, double us)
{
    char t[64];
    fmt_num(t, sizeof t, us / 1000.0);
    sb_puts(b, t);
}

static void hb_pct(hb *b, double fraction)
{
    if (!isfinite(fraction)) {
        sb_puts(b, "-");
        return;
    }
    char t[64];
    fmt_num(t, sizeof t, fraction * 100);
    sb_puts(b, t);
    sb_puts(b, "%");
}

/* Any JSON value as bounded, escaped compact text. */
static void hb_json_text(hb *b, const json_t *v, size_t max)
{
    if (!v) {
        sb_puts(b, "-");
        return;
    }
    if (json_is_string(v)) {
        hb_esc(b, json_string_value(v), max);
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        b->oom = true;
        return;
    }
    hb_esc(b, s, max);
    free(s);
}

/* "2026-11-22T00:57:55.452Z" -> seconds since the epoch; NAN when unreadable. */
static double iso_seconds(const char *s)
{
    struct tm tm;
    int ms = 0;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return NAN;
    const char *dot = strchr(s, '.');
    if (dot) sscanf(dot + 1, "%3d", &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? NAN : (double)t + ms / 1000.0;
}

/* ---- SVG line charts -------------------------------------------------------------------- */

#define CW 540.0
#define CH 250.0
#define ML 58.0
#define MR 26.0
#define MT 28.0
#define MB 36.0

typedef struct series {
    const char *label; /* constant text */
    const char *color;
    bool dashed;
    const double *x, *y; /* NAN y breaks the line */
    size_t n;
} series;

typedef struct chart {
    const char *title; /* constant text; `sub` (hostile) follows it */
    const char *sub;
    const char *ylabel;
    double x0, x1, y0, y1;
    const double *xticks; /* NULL: automatic */
    const char *const *xtick_labels;
    size_t nxticks;
    const char *xlabel;
} chart;

static double nice_step(double range, int want)
{
    if (!(range > 0)) return 1;
    double raw = range / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static double px(const chart *c, double x)
{
    return ML + (x - c->x0) / (c->x1 - c->x0) * (CW - ML - MR);
}

static double py(const chart *c, double y)
{
    double v = CH - MB - (y - c->y0) / (c->y1 - c->y0) * (CH - MT - MB);
    return v < MT - 4 ? MT - 4 : v > CH - MB ? CH - MB : v;
}

static void chart_open(hb *b, chart *c)
{
    if (!(c->x1 > c->x0) || !isfinite(c->x1 - c->x0)) c->x1 = c->x0 + 1;
    if (!(c->y1 > c->y0) || !isfinite(c->y1 - c->y0)) c->y1 = c->y0 + 1;
    double ys = nice_step(c->y1 - c->y0, 5);
    c->y1 = ceil(c->y1 / ys) * ys;
    sb_printf(b,
              "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
              "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">",
              CW, CH, CW, CH);
    sb_printf(b, "<text class=\"title\" x=\"%.0f\" y=\"16\">", ML);
    sb_puts(b, c->title);
    if (c->sub) {
        sb_puts(b, " ");
        hb_esc(b, c->sub, NAME_MAX_CH / 2);
    }
    sb_puts(b, "</text>");
    for (double y = c->y0; y <= c->y1 + ys / 2 && y - c->y0 < 20 * ys; y += ys) {
        sb_printf(b,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                  ML, CW - MR, py(c, y), py(c, y), ML - 4, py(c, y) + 4);
        hb_num(b, y);
        sb_puts(b, "</text>");
    }
    if (c->xticks) {
        for (size_t i = 0; i < c->nxticks; i++)
            sb_printf(b,
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                      px(c, c->xticks[i]), px(c, c->xticks[i]), MT, CH - MB, px(c, c->xticks[i]),
                      CH - MB + 14, c->xtick_labels[i]);
    } else {
        double xs = nice_step(c->x1 - c->x0, 8);
        double first = ceil(c->x0 / xs) * xs;
        for (double x = first; x <= c->x1 && x - first < 20 * xs; x += xs) {
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px(c, x),
                      CH - MB + 14);
            hb_num(b, x);
            sb_puts(b, "</text>");
        }
    }
    sb_printf(b,
              "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#8c959f\"/>"
              "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>"
              "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" "
              "text-anchor=\"middle\">%s</text>",
              ML, CW - MR, CH - MB, CH - MB, (ML + CW - MR) / 2, CH - 6, c->xlabel,
              (MT + CH - MB) / 2, (MT + CH - MB) / 2, c->ylabel);
}

static void chart_series(hb *b, const chart *c, const series *s, size_t ns)
{
    for (size_t k = 0; k < ns; k++) {
        sb_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s d=\"", s[k].color,
                  s[k].dashed ? " stroke-dasharray=\"5 3\"" : "");
        bool pen = false;
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].y[i]) || !isfinite(s[k].x[i])) {
                pen = false;
                continue;
            }
            sb_printf(b, "%c%.1f %.1f ", pen ? 'L' : 'M', px(c, s[k].x[i]), py(c, s[k].y[i]));
            pen = true;
        }
        sb_puts(b, "\"/>");
    }
    /* Legend, top right, on a veil so curves do not hide it. */
    double lx = CW - MR - 128;
    if (ns)
        sb_printf(b,
                  "<rect x=\"%.0f\" y=\"%.0f\" width=\"124\" height=\"%.0f\" fill=\"#fff\" "
                  "opacity=\"0.85\"/>",
                  lx - 4, MT - 4, 13.0 * (double)ns + 4);
    for (size_t k = 0; k < ns; k++) {
        double ly = MT + 4 + 13.0 * (double)k;
        sb_printf(b,
                  "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                  "stroke-width=\"2\"%s/><text x=\"%.0f\" y=\"%.0f\">%s</text>",
                  lx, lx + 18, ly, ly, s[k].color, s[k].dashed ? " stroke-dasharray=\"5 3\"" : "",
                  lx + 22, ly + 4, s[k].label);
    }
}

/* ---- banner and targets ----------------------------------------------------------------- */

static void banner(hb *b, const json_t *r)
{
    const char *v = js(r, "verdict");
    json_t *targets = jget(r, "targets");
    size_t n = json_is_array(targets) ? json_array_size(targets) : 0, pass = 0, warn = 0;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *st = js(t, "status");
        if (st && !strcmp(st, "pass")) pass++;
        if (st && !strcmp(st, "warn")) warn++;
    }
    bool fail = v && !strcmp(v, "fail");
    bool none = !v || !strcmp(v, "no targets") || n == 0;
    sb_printf(b, "<header class=\"banner %s\" id=\"verdict\" data-verdict=\"%s\">",
              fail   ? "fail"
              : none ? "none"
                     : "pass",
              fail   ? "fail"
              : none ? "none"
                     : "pass");
    sb_printf(b, "<div class=\"word\">%s</div><div><div class=\"what\">",
              fail   ? "FAIL"
              : none ? "NO TARGETS"
                     : "PASS");
    if (none)
        sb_puts(b, "No targets were judged: this report measures, it does not gate.");
    else
        sb_printf(b, "%zu of %zu targets met", pass, n);
    if (warn) sb_printf(b, ", %zu warning%s", warn, warn == 1 ? "" : "s");
    if (n - pass - warn) sb_printf(b, ", %zu missed", n - pass - warn);
    sb_puts(b, "</div><div class=\"meta\">");
    json_t *run = jget(r, "run");
    sb_puts(b, "scenario <b>");
    hb_esc(b, js(run, "scenario") ? js(run, "scenario") : "?", NAME_MAX_CH);
    sb_puts(b, "</b> &middot; started ");
    hb_esc(b, js(run, "started") ? js(run, "started") : "?", 40);
    sb_puts(b, " &middot; ");
    hb_num(b, jnum(run, "duration_s", NAN));
    sb_puts(b, " s &middot; ");
    hb_num(b, jnum(run, "threads", NAN));
    sb_puts(b, " threads");
    if (json_is_true(jget(run, "interrupted"))) sb_puts(b, " &middot; <b>interrupted</b>");
    if (js(run, "stop_reason")) {
        sb_puts(b, " &middot; stopped: ");
        hb_esc(b, js(run, "stop_reason"), TEXT_MAX_CH);
    }
    sb_puts(b, "</div>");
    if (!none && n - pass) {
        sb_puts(b, "<ul class=\"missed\">");
        size_t shown = 0;
        json_array_foreach(targets, i, t)
        {
            const char *st = js(t, "status");
            if (!st || !strcmp(st, "pass")) continue;
            if (++shown > 8) {
                sb_puts(b, "<li>&hellip;</li>");
                break;
            }
            sb_printf(b, "<li>%s: <b>", !strcmp(st, "warn") ? "warn" : "missed");
            hb_esc(b, js(t, "name"), NAME_MAX_CH);
            sb_puts(b, "</b> &mdash; ");
            hb_esc(b, js(t, "reason"), TEXT_MAX_CH);
            sb_puts(b, "</li>");
        }
        sb_puts(b, "</ul>");
    }
    sb_puts(b, "</div></header>");
}

static void targets_table(hb *b, const json_t *r)
{
    json_t *targets = jget(r, "targets");
    sb_puts(b, "<h2 id=\"targets\">Targets</h2>");
    if (!json_is_array(targets) || !json_array_size(targets)) {
        sb_puts(b, "<p class=\"mute\">The scenario has no targets.</p>");
        return;
    }
    sb_puts(b, "<p><button id=\"only-missed\" type=\"button\" aria-pressed=\"false\" hidden>"
               "show only missed and warnings</button></p>"
               "<table id=\"targets-table\"><thead><tr><th>status</th><th>target</th>"
               "<th>metric</th><th>measured</th><th>wanted</th><th>samples</th><th>reason</th>"
               "</tr></thead><tbody>");
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        if (i >= ROWS_MAX * 5) {
            sb_printf(b, "<tr><td colspan=\"7\">%zu more not shown</td></tr>",
                      json_array_size(targets) - i);
            break;
        }
        const char *st = js(t, "status");
        const char *cls = st && !strcmp(st, "pass")   ? "pass"
                          : st && !strcmp(st, "warn") ? "warn"
                                                      : "fail";
        sb_printf(b, "<tr class=\"st-%s\"><td><span class=\"badge b-%s\">%s</span></td><td>", cls,
                  cls, cls);
        hb_esc(b, js(t, "name"), NAME_MAX_CH);
        const char *desc = js(t, "description");
        if (desc) {
            sb_puts(b, "<br><span class=\"mute\">");
            hb_esc(b, desc, TEXT_MAX_CH);
            sb_puts(b, "</span>");
        }
        sb_puts(b, "</td><td><code>");
        hb_esc(b, js(t, "expr"), NAME_MAX_CH * 2);
        sb_puts(b, "</code></td><td class=\"num\"><b>");
        hb_esc(b, js(t, "measured_text") ? js(t, "measured_text") : "-", 64);
        sb_puts(b, "</b></td><td class=\"num\">");
        hb_esc(b, js(t, "target"), 64);
        sb_puts(b, "</td><td class=\"num\">");
        hb_num(b, jnum(t, "samples", NAN));
        if (json_is_true(jget(t, "low_samples"))) sb_puts(b, " (low)");
        sb_puts(b, "</td><td>");
        hb_esc(b, js(t, "reason"), TEXT_MAX_CH);
        if (strcmp(cls, "pass") && !strcmp(js(t, "severity") ? js(t, "severity") : "", "warn"))
            sb_puts(b, " <span class=\"mute\">(severity warn)</span>");
        sb_puts(b, "</td></tr>");
    }
    sb_puts(b, "</tbody></table>");
}

/* ---- phases and steps ------------------------------------------------------------------- */

static void cell_num(hb *b, double v)
{
    sb_puts(b, "<td class=\"num\">");
    hb_num(b, v);
    sb_puts(b, "</td>");
}

static void cell_pct(hb *b, double v)
{
    sb_puts(b, "<td class=\"num\">");
    hb_pct(b, v);
    sb_puts(b, "</td>");
}

static void cell_lat(hb *b, const json_t *h, const char *key)
{
    sb_puts(b, "<td class=\"num\">");
    double v;
    if (mq_num(h, key, &v))
        hb_ms(b, v);
    else
        sb_puts(b, "-");
    sb_puts(b, "</td>");
}

static double hit_rate(const json_t *o)
{
    json_t *c = jget(o, "cache");
    double h = jnum(c, "hits", 0), m = jnum(c, "misses", 0);
    return h + m > 0 ? h / (h + m) : NAN;
}

static void errors_by_kind(hb *b, const json_t *o)
{
    json_t *by = jget(jget(o, "errors"), "by_kind");
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(by, k, v)
    {
        if (!json_is_number(v) || json_number_value(v) <= 0) continue;
        if (n++ >= 12) break;
        sb_puts(b, n > 1 ? ", " : "");
        hb_esc(b, k, 24);
        sb_puts(b, " ");
        hb_num(b, json_number_value(v));
    }
}

static void statuses(hb *b, const json_t *o)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(jget(o, "status"), k, v)
    {
        if (!json_is_number(v)) continue;
        if (n++ >= 12) break;
        sb_puts(b, n > 1 ? ", " : "");
        hb_esc(b, k, 8);
        sb_puts(b, ": ");
        hb_num(b, json_number_value(v));
    }
}

static void phases_tables(hb *b, const json_t *r)
{
    json_t *phases = jget(r, "phases");
    sb_puts(b, "<h2 id=\"phases\">Phases and steps</h2>");
    if (!json_array_size(phases)) {
        sb_puts(b, "<p class=\"mute\">No phase ran.</p>");
        return;
    }
    sb_puts(b, "<p class=\"mute\">Latencies in ms, corrected for coordinated omission (from the "
               "intended start). Phases marked not recorded (warm-ups) are not judged.</p>"
               "<table><thead><tr><th>phase</th><th>executor</th><th>duration s</th>"
               "<th>requests</th><th>rps</th><th>dropped</th><th>errors</th><th>error rate</th>"
               "<th>hit rate</th></tr></thead><tbody>");
    size_t i;
    json_t *ph;
    json_array_foreach(phases, i, ph)
    {
        if (i >= ROWS_MAX) break;
        json_t *tot = jget(ph, "totals");
        sb_puts(b, "<tr><td>");
        hb_esc(b, js(ph, "name"), NAME_MAX_CH);
        if (!json_is_true(jget(ph, "recorded")))
            sb_puts(b, " <span class=\"mute\">(not recorded)</span>");
        if (json_is_true(jget(ph, "interrupted")))
            sb_puts(b, " <span class=\"mute\">(interrupted)</span>");
        sb_puts(b, "</td><td>");
        hb_esc(b, js(ph, "executor"), 40);
        sb_puts(b, "</td>");
        cell_num(b, jnum(ph, "duration_s", NAN));
        cell_num(b, jnum(tot, "requests", NAN));
        cell_num(b, jnum(tot, "rps", NAN));
        cell_num(b, jnum(tot, "dropped", NAN));
        cell_num(b, jnum(jget(tot, "errors"), "count", NAN));
        cell_pct(b, jnum(jget(tot, "errors"), "rate", NAN));
        cell_pct(b, hit_rate(tot));
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");

    sb_puts(b, "<table><thead><tr><th>phase</th><th>step</th><th>kind</th><th>endpoint</th>"
               "<th>requests</th><th>errors</th><th>status</th><th>hit rate</th><th>p50</th>"
               "<th>p95</th><th>p99</th><th>max</th><th>raw p95</th></tr></thead><tbody>");
    size_t rows = 0;
    json_array_foreach(phases, i, ph)
    {
        size_t j;
        json_t *st;
        json_array_foreach(jget(ph, "steps"), j, st)
        {
            if (++rows > ROWS_MAX) break;
            json_t *all = jget(jget(st, "latency"), "all");
            json_t *cor = jget(all, "corrected");
            sb_puts(b, "<tr><td>");
            hb_esc(b, js(ph, "name"), NAME_MAX_CH);
            sb_puts(b, "</td><td>");
            hb_esc(b, js(st, "name"), NAME_MAX_CH);
            sb_puts(b, "</td><td>");
            hb_esc(b, js(st, "kind"), 16);
            sb_puts(b, "</td><td>");
            hb_esc(b, js(st, "endpoint"), NAME_MAX_CH);
            sb_puts(b, "</td>");
            cell_num(b, jnum(st, "requests", NAN));
            sb_puts(b, "<td>");
            hb_num(b, jnum(jget(st, "errors"), "count", NAN));
            json_t *by = jget(jget(st, "errors"), "by_kind");
            if (json_object_size(by)) {
                sb_puts(b, " <span class=\"mute\">(");
                errors_by_kind(b, st);
                sb_puts(b, ")</span>");
            }
            sb_puts(b, "</td><td>");
            statuses(b, st);
            sb_puts(b, "</td>");
            cell_pct(b, hit_rate(st));
            cell_lat(b, cor, "p50");
            cell_lat(b, cor, "p95");
            cell_lat(b, cor, "p99");
            cell_lat(b, cor, "max");
            cell_lat(b, jget(all, "raw"), "p95");
            sb_puts(b, "</tr>");
        }
    }
    sb_puts(b, "</tbody></table>");
}

/* ---- latency percentile curves ---------------------------------------------------------- */

#define CURVE_N 101
#define CURVE_XMAX 5.0 /* 99.999th percentile */

static const char *const class_color[] = {"#57606a", "#0969da", "#e16f24"};
static const char *const class_label[2][3] = {
    {"all, corrected", "cold, corrected", "warm, corrected"},
    {"all, raw", "cold, raw", "warm, raw"},
};

/* Fills y[] with the curve: x = log10(1 / (1 - p)), in ms. */
static bool curve(const hist *h, double *x, double *y)
{
    double ps[CURVE_N];
    int64_t v[CURVE_N];
    for (int i = 0; i < CURVE_N; i++) {
        x[i] = CURVE_XMAX * i / (CURVE_N - 1);
        ps[i] = 100.0 * (1.0 - pow(10, -x[i]));
    }
    ps[CURVE_N - 1] = 100.0 - 1e-3;
    if (hist_percentile_curve(h, ps, CURVE_N, v, NULL) < 0) return false;
    for (int i = 0; i < CURVE_N; i++)
        y[i] = (double)v[i] / 1000.0;
    return true;
}

static void latency_charts(hb *b, const json_t *r)
{
    static const double ticks[] = {0, 1, 2, 3, 4, 5};
    static const char *const tick_labels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
    static const char *const classes[] = {"all", "cold", "warm"};
    sb_puts(b, "<h2 id=\"latency\">Latency percentiles</h2><p class=\"mute\">Per step over the "
               "recorded phases, histograms merged. Solid: corrected (from the intended start); "
               "dashed: raw (from the actual send). Cold = cache miss, warm = cache hit.</p>"
               "<div class=\"charts\">");
    /* Distinct step names, in order of appearance. */
    const char *names[CHARTS_MAX];
    size_t nnames = 0, skipped = 0;
    size_t i;
    json_t *ph;
    json_array_foreach(jget(r, "phases"), i, ph)
    {
        if (!json_is_true(jget(ph, "recorded"))) continue;
        size_t j;
        json_t *st;
        json_array_foreach(jget(ph, "steps"), j, st)
        {
            const char *n = js(st, "name");
            if (!n) continue;
            bool seen = false;
            for (size_t k = 0; k < nnames; k++)
                if (!strcmp(names[k], n)) seen = true;
            if (seen) continue;
            if (nnames < CHARTS_MAX)
                names[nnames++] = n;
            else
                skipped++;
        }
    }
    size_t drawn = 0;
    for (size_t k = 0; k < nnames; k++) {
        double xs[6][CURVE_N], ys[6][CURVE_N];
        series s[6];
        size_t ns = 0;
        double ymax = 0;
        const char *one[1] = {names[k]};
        mq_filter f;
        memset(&f, 0, sizeof f);
        f.vals[MQ_SEL_STEP] = one;
        f.nvals[MQ_SEL_STEP] = 1;
        for (int c = 0; c < 3; c++) {
            for (int raw = 0; raw < 2; raw++) {
                hist *h = NULL;
                if (mq_merge_latency(r, &f, NULL, classes[c], raw, &h, NULL) < 0 || !h) continue;
                if (hist_count(h) > 0 && curve(h, xs[ns], ys[ns])) {
                    s[ns] = (series){
                        class_label[raw][c], class_color[c], raw != 0, xs[ns], ys[ns], CURVE_N};
                    for (int p = 0; p < CURVE_N; p++)
                        if (ys[ns][p] > ymax) ymax = ys[ns][p];
                    ns++;
                }
                hist_free(h);
            }
        }
        if (!ns) continue;
        chart c = {.title = "step",
                   .sub = names[k],
                   .ylabel = "ms",
                   .x0 = 0,
                   .x1 = CURVE_XMAX,
                   .y0 = 0,
                   .y1 = ymax * 1.05,
                   .xticks = ticks,
                   .xtick_labels = tick_labels,
                   .nxticks = 6,
                   .xlabel = "percentile"};
        chart_open(b, &c);
        chart_series(b, &c, s, ns);
        sb_puts(b, "</svg></div>");
        drawn++;
    }
    sb_puts(b, "</div>");
    if (!drawn) sb_puts(b, "<p class=\"mute\">No latency histograms in the report.</p>");
    if (skipped) sb_printf(b, "<p class=\"mute\">%zu more steps not charted.</p>", skipped);
}

/* ---- per-second timeline ---------------------------------------------------------------- */

typedef struct timeline {
    double *x, *thr, *err, *drop, *hit, *p95;
    size_t n, cap;
    bool any_hit, any_p95, any_drop;
} timeline;

static bool tl_push(timeline *t, double x, double thr, double err, double drop, double hit,
                    double p95)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        double **arrs[] = {&t->x, &t->thr, &t->err, &t->drop, &t->hit, &t->p95};
        for (int i = 0; i < 6; i++) {
            double *p = realloc(*arrs[i], cap * sizeof *p);
            if (!p) return false;
            *arrs[i] = p;
        }
        t->cap = cap;
    }
    t->x[t->n] = x, t->thr[t->n] = thr, t->err[t->n] = err, t->drop[t->n] = drop;
    t->hit[t->n] = hit, t->p95[t->n] = p95;
    t->n++;
    return true;
}

static void tl_free(timeline *t)
{
    free(t->x), free(t->thr), free(t->err), free(t->drop), free(t->hit), free(t->p95);
}

/* Averages runs of k points into one, keeping breaks (NAN) where any point of a run is one. */
static void tl_shrink(timeline *t)
{
    if (t->n <= POINTS_MAX) return;
    size_t k = (t->n + POINTS_MAX - 1) / POINTS_MAX, out = 0;
    double *arrs[] = {t->x, t->thr, t->err, t->drop, t->hit, t->p95};
    for (size_t i = 0; i < t->n; i += k) {
        size_t end = i + k < t->n ? i + k : t->n;
        for (int a = 0; a < 6; a++) {
            double sum = 0;
            size_t cnt = 0;
            bool gap = false;
            for (size_t j = i; j < end; j++) {
                if (isfinite(arrs[a][j]))
                    sum += arrs[a][j], cnt++;
                else if (a == 0)
                    gap = true;
            }
            arrs[a][out] = gap || !cnt ? NAN : sum / (double)cnt;
        }
        out++;
    }
    t->n = out;
}

typedef struct band {
    double x0, x1;
    const char *name;
    bool recorded;
} band;

static void timeline_marks(hb *b, const chart *c, const band *bands, size_t nb,
                           const json_t *transitions, double run0)
{
    for (size_t i = 0; i < nb; i++) {
        double a = px(c, bands[i].x0), z = px(c, bands[i].x1);
        if (z - a < 1) z = a + 1;
        sb_printf(b,
                  "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" "
                  "opacity=\"0.6\"/>",
                  a, MT, z - a, CH - MT - MB,
                  !bands[i].recorded ? "#d8dee4"
                  : i % 2            ? "#f6f8fa"
                                     : "#ffffff");
        /* A label only where it fits; the phase table names them all. */
        if (z - a < 40) continue;
        sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\">", a + 3, MT + 10);
        hb_esc(b, bands[i].name,
               (size_t)((z - a) / 7) < LABEL_MAX_CH ? (size_t)((z - a) / 7) : LABEL_MAX_CH);
        if (!bands[i].recorded && z - a > 160) sb_puts(b, " (not recorded)");
        sb_puts(b, "</text>");
    }
    size_t i;
    json_t *tr;
    json_array_foreach(transitions, i, tr)
    {
        if (i >= ROWS_MAX * 5) break;
        json_t *t = jget(tr, "t");
        double x = json_is_number(t)   ? json_number_value(t)
                   : json_is_string(t) ? iso_seconds(json_string_value(t)) - run0
                                       : NAN;
        if (!isfinite(x) || x < c->x0 || x > c->x1) continue;
        const char *to = js(tr, "to") ? js(tr, "to") : "";
        const char *col = strstr(to, "OPEN") && !strstr(to, "HALF") ? "#cf222e"
                          : strstr(to, "HALF")                      ? "#bf8700"
                                                                    : "#1a7f37";
        sb_printf(b,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                  "stroke-width=\"1.5\" stroke-dasharray=\"2 2\" class=\"breaker-mark\"><title>",
                  px(c, x), px(c, x), MT, CH - MB, col);
        sb_puts(b, "breaker ");
        hb_esc(b, js(tr, "breaker"), NAME_MAX_CH);
        sb_puts(b, ": ");
        hb_esc(b, js(tr, "from"), 24);
        sb_puts(b, " \xE2\x86\x92 ");
        hb_esc(b, to, 24);
        sb_puts(b, "</title></line>");
    }
}

static void timeline_charts(hb *b, const json_t *r)
{
    timeline t;
    memset(&t, 0, sizeof t);
    band bands[ROWS_MAX];
    size_t nb = 0, points = 0;
    double run0 = iso_seconds(js(jget(r, "run"), "started"));
    double cursor = 0;
    size_t i;
    json_t *ph;
    sb_puts(b, "<h2 id=\"timeline\">Per second</h2>");
    json_array_foreach(jget(r, "phases"), i, ph)
    {
        json_t *ser = jget(ph, "series");
        double start = iso_seconds(js(ph, "started")) - run0;
        if (!isfinite(start) || start < cursor - 1) start = cursor; /* no times: back to back */
        double dur = jnum(ph, "duration_s", (double)json_array_size(ser));
        if (!isfinite(dur) || dur < 0) dur = 0;
        if (nb < ROWS_MAX)
            bands[nb++] = (band){start, start + dur, js(ph, "name") ? js(ph, "name") : "?",
                                 json_is_true(jget(ph, "recorded"))};
        /* Rows may stand for several seconds each on long runs: rates are per second. */
        double step = jnum(ph, "series_step_s", 1);
        if (!(step >= 1) || step > 86400) step = 1;
        size_t j;
        json_t *row;
        json_array_foreach(ser, j, row)
        {
            double tt = jnum(row, "t", (double)j * step);
            double hits = jnum(row, "hits", 0), misses = jnum(row, "misses", 0);
            double p95 = jnum(row, "p95", NAN);
            double hit = hits + misses > 0 ? 100 * hits / (hits + misses) : NAN;
            double drop = jnum(row, "dropped", 0) / step;
            if (hits + misses > 0) t.any_hit = true;
            if (isfinite(p95)) t.any_p95 = true;
            if (drop > 0) t.any_drop = true;
            /* Each point sits in the middle of its row. */
            if (!tl_push(&t, start + tt + step / 2, jnum(row, "completed", NAN) / step,
                         jnum(row, "errors", 0) / step, drop, hit,
                         isfinite(p95) ? p95 / 1000 : NAN))
                goto oom;
            points++;
        }
        if (!tl_push(&t, NAN, NAN, NAN, NAN, NAN, NAN)) goto oom; /* break between phases */
        cursor = start + dur;
    }
    if (!points) {
        sb_puts(b, "<p class=\"mute\">No per-second series in the report.</p>");
        tl_free(&t);
        return;
    }
    tl_shrink(&t);
    json_t *transitions = jget(jget(r, "breakers"), "transitions");
    double xmax = cursor, ymax = 0, hmax = 100, pmax = 0;
    for (size_t k = 0; k < t.n; k++) {
        if (isfinite(t.thr[k]) && t.thr[k] > ymax) ymax = t.thr[k];
        if (isfinite(t.err[k]) && t.err[k] > ymax) ymax = t.err[k];
        if (isfinite(t.p95[k]) && t.p95[k] > pmax) pmax = t.p95[k];
        if (isfinite(t.x[k]) && t.x[k] > xmax) xmax = t.x[k];
    }
    sb_puts(b, "<p class=\"mute\">Seconds since the run started; shaded bands are phases; dashed "
               "vertical lines are circuit-breaker transitions (red: to open, amber: half-open, "
               "green: closed).</p><div class=\"charts\">");
    chart c = {.title = "throughput and errors",
               .ylabel = "per second",
               .x0 = 0,
               .x1 = xmax,
               .y0 = 0,
               .y1 = ymax * 1.1,
               .xlabel = "s"};
    series s[3] = {{"completed/s", "#0969da", false, t.x, t.thr, t.n},
                   {"errors/s", "#cf222e", false, t.x, t.err, t.n},
                   {"dropped/s", "#8250df", true, t.x, t.drop, t.n}};
    chart_open(b, &c);
    timeline_marks(b, &c, bands, nb, transitions, run0);
    chart_series(b, &c, s, t.any_drop ? 3 : 2);
    sb_puts(b, "</svg></div>");
    if (t.any_hit) {
        chart h = {.title = "cache hit rate",
                   .ylabel = "%",
                   .x0 = 0,
                   .x1 = xmax,
                   .y0 = 0,
                   .y1 = hmax,
                   .xlabel = "s"};
        series hs = {"hit rate %", "#1a7f37", false, t.x, t.hit, t.n};
        chart_open(b, &h);
        timeline_marks(b, &h, bands, nb, transitions, run0);
        chart_series(b, &h, &hs, 1);
        sb_puts(b, "</svg></div>");
    }
    if (t.any_p95) {
        chart p = {.title = "p95 latency",
                   .ylabel = "ms",
                   .x0 = 0,
                   .x1 = xmax,
                   .y0 = 0,
                   .y1 = pmax * 1.1,
                   .xlabel = "s"};
        series ps = {"p95 ms", "#e16f24", false, t.x, t.p95, t.n};
        chart_open(b, &p);
        timeline_marks(b, &p, bands, nb, transitions, run0);
        chart_series(b, &p, &ps, 1);
        sb_puts(b, "</svg></div>");
    }
    sb_puts(b, "</div>");
    tl_free(&t);
    return;
oom:
    tl_free(&t);
    b->oom = true;
}

/* ---- breakers, parity, data checks ------------------------------------------------------ */

static void breakers_section(hb *b, const json_t *r)
{
    json_t *br = jget(r, "breakers");
    if (!json_is_object(br)) return;
    sb_puts(b, "<h2 id=\"breakers\">Circuit breakers</h2><table><thead><tr><th>trips</th>"
               "<th>open seconds</th><th>rejections</th></tr></thead><tbody><tr>");
    cell_num(b, jnum(br, "trips", NAN));
    cell_num(b, jnum(br, "open_seconds", NAN));
    cell_num(b, jnum(br, "rejections", NAN));
    sb_puts(b, "</tr></tbody></table>");
    json_t *tr = jget(br, "transitions");
    if (!json_array_size(tr)) return;
    sb_puts(b, "<table id=\"breaker-transitions\"><thead><tr><th>t</th><th>breaker</th>"
               "<th>from</th><th>to</th></tr></thead><tbody>");
    size_t i;
    json_t *x;
    json_array_foreach(tr, i, x)
    {
        if (i >= ROWS_MAX) {
            sb_printf(b, "<tr><td colspan=\"4\">%zu more not shown</td></tr>",
                      json_array_size(tr) - i);
            break;
        }
        sb_puts(b, "<tr><td class=\"num\">");
        hb_json_text(b, jget(x, "t"), 40);
        sb_puts(b, "</td><td>");
        hb_esc(b, js(x, "breaker"), NAME_MAX_CH);
        sb_puts(b, "</td><td>");
        hb_esc(b, js(x, "from"), 40);
        sb_puts(b, "</td><td>");
        hb_esc(b, js(x, "to"), 40);
        sb_puts(b, "</td></tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void examples(hb *b, const json_t *o)
{
    json_t *ex = jget(o, "examples");
    if (!json_is_array(ex)) return;
    size_t i;
    json_t *e;
    json_array_foreach(ex, i, e)
    {
        if (i >= EXAMPLES_MAX) {
            sb_printf(b, "<span class=\"mute\">%zu more</span>", json_array_size(ex) - i);
            break;
        }
        sb_puts(b, "<pre>");
        hb_json_text(b, e, TEXT_MAX_CH);
        sb_puts(b, "</pre>");
    }
}

static void parity_section(hb *b, const json_t *r)
{
    json_t *p = jget(r, "parity");
    if (!json_is_object(p)) return;
    sb_puts(b, "<h2 id=\"parity\">Parity</h2><table><thead><tr><th>requests</th>"
               "<th>mismatched</th><th>mismatch rate</th></tr></thead><tbody><tr>");
    cell_num(b, jnum(p, "requests", NAN));
    cell_num(b, jnum(p, "mismatched", NAN));
    cell_pct(b, jnum(p, "mismatch_rate", NAN));
    sb_puts(b, "</tr></tbody></table>");
    json_t *fields = jget(p, "fields");
    if (!json_array_size(fields)) {
        sb_puts(b, "<p class=\"mute\">No field differed.</p>");
        return;
    }
    sb_puts(b, "<table id=\"parity-fields\"><thead><tr><th>path</th><th>kind</th><th>count</th>"
               "<th>rate</th><th>examples</th></tr></thead><tbody>");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (i >= ROWS_MAX) {
            sb_printf(b, "<tr><td colspan=\"5\">%zu more not shown</td></tr>",
                      json_array_size(fields) - i);
            break;
        }
        sb_puts(b, "<tr><td><code>");
        hb_esc(b, js(f, "path"), NAME_MAX_CH * 2);
        sb_puts(b, "</code></td><td>");
        hb_esc(b, js(f, "kind"), 40);
        sb_puts(b, "</td>");
        cell_num(b, jnum(f, "count", NAN));
        cell_pct(b, jnum(f, "rate", NAN));
        sb_puts(b, "<td>");
        examples(b, f);
        sb_puts(b, "</td></tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void data_section(hb *b, const json_t *r)
{
    json_t *dc = jget(r, "data_checks");
    if (!json_is_array(dc)) return;
    sb_puts(b, "<h2 id=\"data-checks\">Data checks</h2><table id=\"data-table\"><thead><tr>"
               "<th>check</th><th>Redis count</th><th>PostgreSQL count</th><th>count diff</th>"
               "<th>missing in PG</th><th>missing in Redis</th><th>field mismatches</th>"
               "<th>examples</th></tr></thead><tbody>");
    size_t i;
    json_t *c;
    json_array_foreach(dc, i, c)
    {
        if (i >= ROWS_MAX) break;
        sb_puts(b, "<tr><td>");
        hb_esc(b, js(c, "name"), NAME_MAX_CH);
        if (js(c, "error")) {
            sb_puts(b, "<br><span class=\"mute\">");
            hb_esc(b, js(c, "error"), TEXT_MAX_CH);
            sb_puts(b, "</span>");
        }
        sb_puts(b, "</td>");
        cell_num(b, jnum(c, "redis_count", NAN));
        cell_num(b, jnum(c, "pg_count", NAN));
        cell_num(b, jnum(c, "count_diff", NAN));
        cell_num(b, jnum(c, "missing_in_pg", NAN));
        cell_num(b, jnum(c, "missing_in_redis", NAN));
        cell_num(b, jnum(c, "field_mismatches", NAN));
        sb_puts(b, "<td>");
        examples(b, c);
        sb_puts(b, "</td></tr>");
    }
    sb_puts(b, "</tbody></table>");
}

/* ---- embedded JSON ---------------------------------------------------------------------- */

static int strip_bulk(json_t *v)
{
    if (json_is_object(v)) {
        json_object_del(v, "hdr");
        json_object_del(v, "series");
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) strip_bulk(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) strip_bulk(x);
    }
    return 0;
}

/* The report without histograms and series, as JSON inside <script type=application/json>:
 * every '<', '>' and '&' becomes a \u escape, so "</script>" or "<!--" never appears. */
static void embed_json(hb *b, const json_t *r)
{
    json_t *copy = json_deep_copy(r);
    if (!copy) {
        b->oom = true;
        return;
    }
    strip_bulk(copy);
    char *s = json_dumps(copy, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s && strlen(s) > EMBED_MAX) {
        free(s);
        json_t *small = json_pack("{sO? sO? sO?}", "schema", jget(copy, "schema"), "verdict",
                                  jget(copy, "verdict"), "targets", jget(copy, "targets"));
        s = small ? json_dumps(small, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(small);
    }
    json_decref(copy);
    if (!s) {
        b->oom = true;
        return;
    }
    sb_puts(b, "<script type=\"application/json\" id=\"cutover-report\">");
    for (const char *p = s; *p; p++) {
        if (*p == '<')
            sb_puts(b, "\\u003c");
        else if (*p == '>')
            sb_puts(b, "\\u003e");
        else if (*p == '&')
            sb_puts(b, "\\u0026");
        else
            sb_put(b, p, 1);
    }
    sb_puts(b, "</script>");
    free(s);
}

/* A per-page nonce for the one inline script the policy allows. */
static void make_nonce(char out[33])
{
    unsigned char raw[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, sizeof raw) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)sizeof raw) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        for (size_t i = 0; i < sizeof raw; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            raw[i] = (unsigned char)x;
        }
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

int html_render(const json_t *report, char **out, size_t *len, cut_err *err)
{
    *out = NULL;
    if (len) *len = 0;
    if (!json_is_object(report))
        return cut_err_set(err, CUT_EINVAL, "the report is not a JSON object");
    hb b = {0};
    char nonce[33];
    make_nonce(nonce);
    json_t *run = jget(report, "run");
    sb_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    sb_printf(&b,
              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
              "style-src 'unsafe-inline'; script-src 'nonce-%s'; img-src data:; "
              "base-uri 'none'; form-action 'none'\">",
              nonce);
    sb_puts(&b, "<meta name=\"generator\" content=\"cutover\"><title>cutover: ");
    hb_esc(&b, js(run, "scenario") ? js(run, "scenario") : "report", NAME_MAX_CH);
    sb_puts(&b, "</title><style>");
    sb_puts(&b, html_css);
    sb_puts(&b, "</style></head><body>");
    banner(&b, report);
    sb_puts(&b, "<main>");
    targets_table(&b, report);
    phases_tables(&b, report);
    latency_charts(&b, report);
    timeline_charts(&b, report);
    breakers_section(&b, report);
    parity_section(&b, report);
    data_section(&b, report);
    sb_puts(&b, "<footer>cutover ");
    hb_esc(&b, js(run, "cutover_version"), 40);
    sb_puts(&b, " &middot; report schema ");
    hb_num(&b, jnum(report, "schema", NAN));
    sb_puts(&b, " &middot; host ");
    hb_esc(&b, js(run, "host"), 80);
    sb_puts(&b, " &middot; scenario file ");
    hb_esc(&b, js(run, "scenario_file"), NAME_MAX_CH);
    sb_puts(&b, "</footer></main>");
    embed_json(&b, report);
    sb_printf(&b, "<script nonce=\"%s\">", nonce);
    sb_puts(&b, html_js);
    sb_puts(&b, "</script></body></html>\n");
    if (b.oom) {
        free(b.s);
        return cut_err_set(err, CUT_ENOMEM, "out of memory rendering the HTML report");
    }
    *out = b.s;
    if (len) *len = b.len;
    return 0;
}
