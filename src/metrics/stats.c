#include "metrics/stats.h"

#include <string.h>

int stats_step_init(stats_step *s, cut_err *err)
{
    memset(s, 0, sizeof *s);
    for (int m = 0; m < STATS_NMEASURE; m++) {
        int rc = hist_new_default(&s->lat[STATS_ALL][m], err);
        if (rc < 0) {
            stats_step_free(s);
            return rc;
        }
    }
    return 0;
}

void stats_step_free(stats_step *s)
{
    for (int c = 0; c < STATS_NCLASS; c++)
        for (int m = 0; m < STATS_NMEASURE; m++) {
            hist_free(s->lat[c][m]);
            s->lat[c][m] = NULL;
        }
}

static int ensure_class(stats_step *s, stats_class cls, cut_err *err)
{
    for (int m = 0; m < STATS_NMEASURE; m++) {
        if (s->lat[cls][m]) continue;
        int rc = hist_new_default(&s->lat[cls][m], err);
        if (rc < 0) return rc;
    }
    return 0;
}

int stats_step_record(stats_step *s, drv_kind kind, int status, stats_class cls,
                      int64_t corrected_us, int64_t raw_us)
{
    s->completed++;
    if (kind != DRV_OK) {
        s->errors++;
        s->by_kind[(unsigned)kind < DRV_KIND_COUNT ? kind : DRV_EPROTO]++;
    }
    s->status[(status >= 100 && status < STATS_STATUS_MAX) ? status : 0]++;
    hist_record(s->lat[STATS_ALL][STATS_CORRECTED], corrected_us);
    hist_record(s->lat[STATS_ALL][STATS_RAW], raw_us);
    if (cls == STATS_ALL) return 0;
    int rc = ensure_class(s, cls, NULL);
    if (rc < 0) return rc;
    hist_record(s->lat[cls][STATS_CORRECTED], corrected_us);
    hist_record(s->lat[cls][STATS_RAW], raw_us);
    return 0;
}

int stats_step_merge(stats_step *dst, const stats_step *src, cut_err *err)
{
    for (int c = 0; c < STATS_NCLASS; c++) {
        if (!src->lat[c][STATS_CORRECTED]) continue;
        int rc = ensure_class(dst, (stats_class)c, err);
        if (rc < 0) return rc;
        for (int m = 0; m < STATS_NMEASURE; m++) {
            rc = hist_merge(dst->lat[c][m], src->lat[c][m], err);
            if (rc < 0) return rc;
        }
    }
    dst->started += src->started;
    dst->completed += src->completed;
    dst->dropped += src->dropped;
    dst->dropped_lag += src->dropped_lag;
    dst->errors += src->errors;
    for (int k = 0; k < DRV_KIND_COUNT; k++)
        dst->by_kind[k] += src->by_kind[k];
    for (int i = 0; i < STATS_STATUS_MAX; i++)
        dst->status[i] += src->status[i];
    for (int i = 0; i < STATS_NCACHE; i++)
        dst->cache[i] += src->cache[i];
    dst->ratelimited += src->ratelimited;
    dst->breaker_rejections += src->breaker_rejections;
    dst->bytes_in += src->bytes_in;
    dst->body_truncated += src->body_truncated;
    for (int k = 0; k < DRV_KIND_COUNT; k++)
        for (int i = 0; i < src->nexamples[k] && dst->nexamples[k] < STATS_EXAMPLES; i++)
            dst->examples[k][dst->nexamples[k]++] = src->examples[k][i];
    if (src->scheduled_late_us_max > dst->scheduled_late_us_max)
        dst->scheduled_late_us_max = src->scheduled_late_us_max;
    return 0;
}

static void copy_printable(char *dst, const char *src, size_t n)
{
    if (n >= STATS_EXAMPLE_TEXT) n = STATS_EXAMPLE_TEXT - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    dst[n] = '\0';
}

void stats_step_example(stats_step *s, drv_kind kind, int status, const char *request, size_t rlen,
                        const char *detail, size_t dlen)
{
    if ((unsigned)kind >= DRV_KIND_COUNT || s->nexamples[kind] >= STATS_EXAMPLES) return;
    stats_example *e = &s->examples[kind][s->nexamples[kind]++];
    e->status = status;
    copy_printable(e->request, request ? request : "", request ? rlen : 0);
    copy_printable(e->detail, detail ? detail : "", detail ? dlen : 0);
}

const hist *stats_step_hist(const stats_step *s, stats_class cls, stats_measure m)
{
    const hist *h = s->lat[cls][m];
    return (h && hist_count(h) > 0) ? h : NULL;
}

const char *stats_class_name(stats_class cls)
{
    static const char *const names[STATS_NCLASS] = {"all", "cold", "warm"};
    return (unsigned)cls < STATS_NCLASS ? names[cls] : "all";
}

const char *stats_cache_name(stats_cache c)
{
    static const char *const names[STATS_NCACHE] = {"hits", "misses", "other", "none"};
    return (unsigned)c < STATS_NCACHE ? names[c] : "none";
}
