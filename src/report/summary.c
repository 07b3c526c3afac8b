#include "report/summary.h"

#include <string.h>

static void ms(char *buf, size_t n, int64_t us)
{
    if (us >= 1000000)
        snprintf(buf, n, "%.2fs", (double)us / 1e6);
    else
        snprintf(buf, n, "%.2fms", (double)us / 1e3);
}

static void print_step(FILE *f, const char *name, const stats_step *st, double secs)
{
    fprintf(f, "    %-18s %8llu req  %9.1f/s  errors %llu (%.2f%%)", name,
            (unsigned long long)st->completed, secs > 0 ? (double)st->completed / secs : 0.0,
            (unsigned long long)st->errors,
            st->completed ? 100.0 * (double)st->errors / (double)st->completed : 0.0);
    if (st->dropped) fprintf(f, "  dropped %llu", (unsigned long long)st->dropped);
    uint64_t hm = st->cache[STATS_CACHE_HIT] + st->cache[STATS_CACHE_MISS];
    if (hm)
        fprintf(f, "  hit rate %.1f%%", 100.0 * (double)st->cache[STATS_CACHE_HIT] / (double)hm);
    fputc('\n', f);
    if (st->errors) {
        fprintf(f, "      errors:");
        for (int k = 1; k < DRV_KIND_COUNT; k++)
            if (st->by_kind[k])
                fprintf(f, " %s=%llu", drv_kind_name((drv_kind)k),
                        (unsigned long long)st->by_kind[k]);
        fputc('\n', f);
    }
    for (int c = 0; c < STATS_NCLASS; c++) {
        const hist *h = stats_step_hist(st, (stats_class)c, STATS_CORRECTED);
        const hist *r = stats_step_hist(st, (stats_class)c, STATS_RAW);
        if (!h) continue;
        char p50[16], p95[16], p99[16], mx[16], r95[16];
        ms(p50, sizeof p50, hist_percentile(h, 50));
        ms(p95, sizeof p95, hist_percentile(h, 95));
        ms(p99, sizeof p99, hist_percentile(h, 99));
        ms(mx, sizeof mx, hist_max(h));
        ms(r95, sizeof r95, r ? hist_percentile(r, 95) : 0);
        fprintf(f, "      %-4s p50=%-9s p95=%-9s p99=%-9s max=%-9s (raw p95=%s)\n",
                stats_class_name((stats_class)c), p50, p95, p99, mx, r95);
    }
}

void rpt_print_summary(FILE *f, const res_run *run, const scn_scenario *s)
{
    fprintf(f, "\nscenario %s: %zu of %zu phases ran%s\n",
            run->scenario_name ? run->scenario_name : "", run->nphases, s->nphases,
            run->interrupted ? " (interrupted)" : "");
    for (size_t k = 0; k < run->nphases; k++) {
        const res_phase *p = &run->phases[k];
        if (!p->used) continue;
        double secs = (double)p->elapsed_ns / 1e9;
        fprintf(f, "  %s%s  %.2fs%s\n", p->name, p->recorded ? "" : " (not recorded)", secs,
                p->interrupted ? "  interrupted" : "");
        for (size_t i = 0; i < p->nsteps; i++) {
            if (!p->used[i]) continue;
            const char *name = i < s->nsteps ? s->steps[i].name : "action";
            print_step(f, name, &p->steps[i], secs);
        }
    }
}
