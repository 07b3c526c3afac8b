#include "driver/breaker_poll.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/http.h"

struct bpoll {
    uv_timer_t timer;
    drv_http *http;
    brk_tracker *tracker;
    const brk_config *cfg;
    const scn_scenario *s;
    bool in_flight, stopping;
    int open; /* handles and clients still to close */
};

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void maybe_free(bpoll *p)
{
    if (--p->open > 0) return;
    brk_tracker_free(p->tracker);
    free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
    maybe_free(h->data);
}

static void on_http_closed(void *ud)
{
    maybe_free(ud);
}

static void on_poll_done(drv_http_req *r, const drv_http_resp *resp, void *ud)
{
    (void)r;
    bpoll *p = ud;
    p->in_flight = false;
    if (p->stopping) return;
    json_t *doc = NULL;
    if (resp->kind == DRV_OK && resp->status >= 200 && resp->status < 300 && !resp->body_truncated)
        doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (doc)
        brk_tracker_observe(p->tracker, doc, unix_ms());
    else
        brk_tracker_poll_failed(p->tracker);
    json_decref(doc);
}

static void on_tick(uv_timer_t *t)
{
    bpoll *p = t->data;
    if (p->in_flight || p->stopping) return; /* a slow status endpoint: skip, do not pile up */
    drv_http_req *r = drv_http_acquire(p->http);
    if (!r) return;
    const char *url = p->cfg->url;
    if (drv_http_req_set(r, "GET", url, strlen(url), NULL, 0, NULL, 0, NULL) < 0 ||
        drv_http_start(r, on_poll_done, p) < 0) {
        drv_http_release(r);
        brk_tracker_poll_failed(p->tracker);
        return;
    }
    p->in_flight = true;
}

int bpoll_start(uv_loop_t *loop, const scn_scenario *s, const brk_config *cfg,
                int64_t start_unix_ms, bpoll **out, cut_err *err)
{
    const scn_http_endpoint *ep = &s->endpoints[cfg->endpoint].u.http;
    bpoll *p = calloc(1, sizeof *p);
    if (!p) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    p->cfg = cfg;
    p->s = s;
    int rc = brk_tracker_new(cfg, start_unix_ms, &p->tracker, err);
    if (rc < 0) goto fail;
    drv_http_opts o;
    memset(&o, 0, sizeof o);
    o.base_url = ep->base_url;
    o.max_connections = 1;
    o.slots = 1;
    /* A poll must not outlive the next one. */
    o.timeout_ns = (uint64_t)cfg->interval_ns;
    o.max_body = ep->max_body;
    if ((rc = drv_http_new(&p->http, loop, &o, err)) < 0) goto fail;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->open = 2;
    uint64_t ms = (uint64_t)cfg->interval_ns / 1000000;
    uv_timer_start(&p->timer, on_tick, 0, ms ? ms : 1);
    *out = p;
    return 0;
fail:
    brk_tracker_free(p->tracker);
    free(p);
    return rc;
}

void bpoll_stop(bpoll *p, int64_t end_unix_ms, json_t **result)
{
    *result = brk_tracker_json(p->tracker, p->s, end_unix_ms);
    p->stopping = true;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    drv_http_close(p->http, on_http_closed, p);
}
