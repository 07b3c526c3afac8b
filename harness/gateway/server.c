/* The HTTP server: libmicrohttpd with one thread per connection, so a slow request (a delay,
 * injected latency, a slow query) never holds up another connection's requests. Blocking
 * PostgreSQL and Redis calls are then fine; their pools bound the number of backend connections. */
#include "clock.h"
#include "http.h"
#include "routes.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (1 << 20)

enum match { EXACT, PREFIX };
enum flags {
    F_FAULTS = 1,    /* subject to injected latency and http_500_every */
    F_LIMITED = 2,   /* behind the token bucket */
    F_CACHEABLE = 4, /* a 200 may be cached by nginx */
};

struct route {
    const char *method; /* "GET" also serves HEAD */
    const char *pattern;
    enum match match;
    gw_handler_fn fn;
    int flags;
};

static const struct route routes[] = {
    {"GET", "/ping", EXACT, gw_route_ping, 0},
    {"GET", "/health", EXACT, gw_route_health, 0},
    {"GET", "/api/health", EXACT, gw_route_health, 0},
    {"GET", "/api/v3/report/", PREFIX, gw_route_report, F_FAULTS | F_CACHEABLE},
    {"GET", "/api/enrollments", EXACT, gw_route_enrollments, F_FAULTS},
    {"GET", "/api/enrollments/cached", EXACT, gw_route_enrollments_cached, F_FAULTS},
    {"POST", "/api/webhooks/enrollment", EXACT, gw_route_webhook, F_FAULTS},
    {"GET", "/api/limited/", PREFIX, gw_route_limited, F_FAULTS | F_LIMITED},
    {"GET", "/delay/", PREFIX, gw_route_delay, 0},
    {"GET", "/circuit-breakers/status", EXACT, gw_route_breakers, 0},
    {"POST", "/circuit-breakers/", PREFIX, gw_route_breaker_reset, 0},
    {"GET", "/admin/status", EXACT, gw_route_admin_status, 0},
    {"GET", "/admin/drift", EXACT, gw_route_admin_drift, 0},
    {"POST", "/admin/drift", EXACT, gw_route_admin_drift, 0},
    {"GET", "/admin/faults", EXACT, gw_route_admin_faults, 0},
    {"POST", "/admin/faults", EXACT, gw_route_admin_faults, 0},
    {"POST", "/admin/breaker", EXACT, gw_route_admin_breaker, 0},
    {"POST", "/admin/ratelimit", EXACT, gw_route_admin_ratelimit, 0},
    {"POST", "/admin/reset", EXACT, gw_route_admin_reset, 0},
    {"POST", "/admin/cache/purge", EXACT, gw_route_admin_purge, 0},
};

struct conn_state {
    char *body;
    size_t len, cap;
    int too_large;
};

static atomic_ulong id_seq;
static uint64_t id_salt;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Echo a sane X-Request-ID, else make a UUID-shaped one. */
static void request_id(struct MHD_Connection *conn, char *out, size_t n)
{
    const char *in = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");
    if (in && in[0] && strlen(in) < n) {
        int ok = 1;
        for (const char *p = in; *p && ok; p++)
            ok = *p > ' ' && *p < 127;
        if (ok) {
            snprintf(out, n, "%s", in);
            return;
        }
    }
    uint64_t a = mix64(id_salt ^ atomic_fetch_add(&id_seq, 1));
    uint64_t b = mix64(a);
    snprintf(out, n, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static const struct route *find_route(const char *method, const char *path, int *wrong_method)
{
    *wrong_method = 0;
    int head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        int hit = rt->match == EXACT ? strcmp(path, rt->pattern) == 0
                                     : strncmp(path, rt->pattern, strlen(rt->pattern)) == 0;
        if (!hit) continue;
        if (strcmp(method, rt->method) == 0 || (head && strcmp(rt->method, "GET") == 0)) return rt;
        *wrong_method = 1;
    }
    return NULL;
}

static void dispatch(struct gw_req *q, struct gw_reply *r)
{
    int wrong_method;
    const struct route *rt = find_route(q->method, q->path, &wrong_method);
    if (!rt) {
        if (wrong_method)
            gw_reply_error(r, q, 405, "METHOD_NOT_ALLOWED", "%s not allowed on %s", q->method,
                           q->path);
        else
            gw_reply_error(r, q, 404, "NOT_FOUND", "no route for %s", q->path);
        return;
    }
    if (rt->flags & F_LIMITED) {
        double retry = 0;
        if (!gw_ratelimit_take(q->gw->rl, &retry)) {
            gw_reply_error(r, q, 429, "RATE_LIMITED", "rate limit exceeded, retry in %.3f s",
                           retry);
            gw_reply_header(r, "Retry-After", "%d", (int)retry + 1);
            return;
        }
    }
    if (rt->flags & F_FAULTS) {
        long latency_ms;
        int fail;
        gw_faults_on_request(q->gw->faults, q->path, &latency_ms, &fail);
        if (latency_ms > 0) gw_sleep_until_ms(gw_mono_us(), latency_ms);
        if (fail) {
            gw_reply_error(r, q, 500, "INJECTED_FAULT", "injected fault (http_500_every)");
            return;
        }
    }
    rt->fn(q, r);
    r->cacheable = r->cacheable && (rt->flags & F_CACHEABLE) && r->status == 200;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct gw_req *q,
                                  struct gw_reply *r)
{
    static const char oom[] = "{\"status\":\"error\",\"message\":\"out of memory\"}";
    struct MHD_Response *resp;
    if (r->body) {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp) r->body = NULL;
    } else {
        r->status = 500;
        resp =
            MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "X-Request-ID", q->request_id);
    MHD_add_response_header(resp, "X-Deployment", q->gw->cfg.deployment);
    if (!r->cacheable) MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        /* Accumulate the body; past MAX_BODY keep reading but answer 413 at the end. */
        if (!st->too_large && st->len + *upload_size > MAX_BODY) st->too_large = 1;
        if (!st->too_large && st->len + *upload_size + 1 > st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 4096;
            while (cap < st->len + *upload_size + 1)
                cap *= 2;
            char *nb = realloc(st->body, cap);
            if (!nb) return MHD_NO;
            st->body = nb;
            st->cap = cap;
        }
        if (!st->too_large) {
            memcpy(st->body + st->len, upload, *upload_size);
            st->len += *upload_size;
            st->body[st->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct gw_req q = {.gw = cls,
                       .conn = conn,
                       .method = method,
                       .path = url,
                       .body = st->body,
                       .body_len = st->len};
    struct gw_reply r = {.status = 500, .cacheable = 1};
    request_id(conn, q.request_id, sizeof(q.request_id));
    atomic_fetch_add(&q.gw->requests, 1);
    if (st->too_large)
        gw_reply_error(&r, &q, 413, "PAYLOAD_TOO_LARGE", "request body over %d bytes", MAX_BODY);
    else
        dispatch(&q, &r);
    enum MHD_Result ret = send_reply(conn, &q, &r);
    free(r.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct conn_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
    }
    *con_cls = NULL;
}

int gw_serve(struct gw *gw)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Block before any thread starts so only sigwait below sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    id_salt = mix64((uint64_t)gw_wall_us() ^ ((uint64_t)getpid() << 32));

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw->cfg.port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL | MHD_USE_ERROR_LOG,
                         (uint16_t)gw->cfg.port, NULL, NULL, on_request, gw, MHD_OPTION_SOCK_ADDR,
                         &sin, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)120, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                         MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cutover-gateway: cannot listen on 127.0.0.1:%d\n", gw->cfg.port);
        return -1;
    }
    if (gw->cfg.pid_file) {
        FILE *f = fopen(gw->cfg.pid_file, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    fprintf(stderr, "cutover-gateway %s listening on 127.0.0.1:%d\n", gw->cfg.deployment,
            gw->cfg.port);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "cutover-gateway %s: signal %d, stopping\n", gw->cfg.deployment, sig);
    MHD_stop_daemon(d);
    if (gw->cfg.pid_file) unlink(gw->cfg.pid_file);
    return 0;
}
