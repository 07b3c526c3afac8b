#include "driver/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "driver/worker.h"

void drv_progress_init(drv_progress *p, const drv_run_opts *o)
{
    p->fd = o->progress_fd > 0 ? o->progress_fd : 2;
    p->quiet = o->progress == DRV_PROGRESS_QUIET;
    p->tty = o->progress == DRV_PROGRESS_AUTO && isatty(p->fd);
    const char *nc = getenv("NO_COLOR");
    p->color = p->tty && !(nc && *nc);
    /* A TTY line refreshes every second; logs get a line every 5 s so they stay readable. */
    p->interval_ms = p->tty ? 1000 : 5000;
    p->ph = NULL;
    p->line_open = false;
}

static void end_line(drv_progress *p)
{
    if (p->line_open) dprintf(p->fd, "\n");
    p->line_open = false;
}

void drv_progress_phase(drv_progress *p, const scn_phase *ph, size_t idx, size_t n)
{
    if (p->quiet) return;
    end_line(p);
    p->ph = ph;
    p->idx = idx;
    p->n = n;
    p->t_phase0 = p->t_last = uv_hrtime();
    p->last_completed = 0;
    dprintf(p->fd, "%s[%zu/%zu] %s%s (%s)\n", p->color ? "\033[1m" : "", idx + 1, n, ph->name,
            p->color ? "\033[0m" : "",
            ph->executor == SCN_EXEC_ACTION ? "action"
            : ph->record                    ? "load"
                                            : "warm-up, not recorded");
}

void drv_progress_tick(drv_progress *p, wk_thread *threads, unsigned nthreads)
{
    if (p->quiet || !p->ph) return;
    uint64_t started = 0, completed = 0, errors = 0, dropped = 0, p95 = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        started += atomic_load_explicit(&threads[i].p_started, memory_order_relaxed);
        completed += atomic_load_explicit(&threads[i].p_completed, memory_order_relaxed);
        errors += atomic_load_explicit(&threads[i].p_errors, memory_order_relaxed);
        dropped += atomic_load_explicit(&threads[i].p_dropped, memory_order_relaxed);
        uint64_t t = atomic_load_explicit(&threads[i].p_p95_us, memory_order_relaxed);
        if (t > p95) p95 = t; /* the worst thread's last second */
    }
    uint64_t now = uv_hrtime();
    double dt = (double)(now - p->t_last) / 1e9;
    double rps = dt > 0 ? (double)(completed - p->last_completed) / dt : 0;
    p->t_last = now;
    p->last_completed = completed;
    double elapsed = (double)(now - p->t_phase0) / 1e9;
    char total[32] = "";
    if (p->ph->duration_ns > 0)
        snprintf(total, sizeof total, "/%.0fs", (double)p->ph->duration_ns / 1e9);
    const char *red = p->color && errors ? "\033[31m" : "",
               *off = p->color && errors ? "\033[0m" : "";
    dprintf(p->fd,
            "%s  %s %6.1fs%s  %8.0f req/s  p95 %7.2f ms  in flight %4llu  %serrors %llu%s  dropped "
            "%llu%s",
            p->tty ? "\r\033[K" : "", p->ph->name, elapsed, total, rps, (double)p95 / 1000.0,
            (unsigned long long)(started - completed), red, (unsigned long long)errors, off,
            (unsigned long long)dropped, p->tty ? "" : "\n");
    p->line_open = p->tty;
}

void drv_progress_end(drv_progress *p)
{
    if (p->quiet) return;
    end_line(p);
}
