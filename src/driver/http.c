/* http.c - libcurl multi-socket on libuv; see http.h for the contract and PERF_NOTES.md for why
 * the socket handling looks the way it does. */
#include "driver/http.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_DEF_CONNS 64u
#define HTTP_DEF_TIMEOUT_NS (30ull * 1000000000ull)
#define HTTP_DEF_CONNECT_NS (10ull * 1000000000ull)
#define HTTP_DEF_MAX_BODY ((size_t)1 << 20)
#define HTTP_DEF_MAX_HDR ((size_t)16 << 10)
#define HTTP_MAX_SLOTS (1u << 20)
#define HTTP_METHOD_MAX 32

/* A growable byte buffer: grows only when a larger value is first seen, never shrinks. */
typedef struct hbuf {
    char *p;
    size_t len, cap;
} hbuf;

/* One socket libcurl uses, with its poll handle kept for the socket's whole life. `ours` sockets
 * were opened through CURLOPT_OPENSOCKETFUNCTION and closed through CLOSESOCKETFUNCTION; others
 * (libcurl's resolver wake-up pipe) are adopted when first reported and dropped on REMOVE. */
typedef struct http_sock {
    uv_poll_t poll;
    drv_http *c;
    struct http_sock *next_free;
    int fd;
    int want;   /* events curl asked for (UV_READABLE|UV_WRITABLE) */
    int polled; /* events the poll handle is started with */
    bool ours;
    bool closing;
} http_sock;

enum { SLOT_FREE, SLOT_HELD, SLOT_RUNNING };

struct drv_http_req {
    drv_http *c;
    CURL *easy;
    drv_http_req *next, *prev; /* free list, or the in-flight list */
    int state;
    bool set;       /* req_set succeeded since the slot was acquired */
    bool in_cb;     /* its callback is running */
    bool preflight; /* a heap request of drv_http_preflight, not a pool slot */
    drv_http_cb cb;
    void *ud;
    uint64_t t_start;
    uint64_t timeout_ns;  /* for the next start; 0 = the client's */
    long applied_timeout; /* CURLOPT_TIMEOUT_MS currently set on the easy handle */
    char applied_custom[HTTP_METHOD_MAX + 1]; /* CURLOPT_CUSTOMREQUEST currently set, "" = none */
    hbuf url;
    hbuf qhdr; /* request header strings, NUL-separated; nodes point into it */
    hbuf qbody;
    struct curl_slist *nodes;
    size_t nodes_cap;
    hbuf rbody;
    hbuf rhdr;
    uint64_t body_total, hdr_total;
    bool body_trunc, hdr_trunc;
    bool at_status; /* the next header line starts a new response */
    char errbuf[CURL_ERROR_SIZE];
};

struct drv_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *base;
    size_t base_len;
    unsigned max_conns, nslots;
    long timeout_ms, connect_ms;
    size_t max_body, max_hdr;
    drv_http_req *slots;
    drv_http_req *free_slots;
    drv_http_req *inflight; /* started, not yet called back */
    http_sock **tab;        /* fd -> socket */
    size_t ntab;
    http_sock *free_socks;
    unsigned handles_open; /* timer + poll handles not yet through their close callback */
    unsigned in_flight, sockets_open;
    uint64_t connects, sockets_opened, completed;
    bool closing, torn_down;
    void (*closed_cb)(void *ud);
    void *closed_ud;
};

static const char http_empty[1] = "";

/* --- buffers ---------------------------------------------------------------------------------- */

/* Makes room for `need` bytes, doubling up to `limit` (amortized growth). */
static int hbuf_reserve(hbuf *b, size_t need, size_t limit)
{
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > limit && need <= limit) cap = limit;
    char *p = realloc(b->p, cap);
    if (!p) return CUT_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void hbuf_free(hbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* --- sockets ---------------------------------------------------------------------------------- */

static void sock_on_closed(uv_handle_t *h);

static http_sock *sock_lookup(drv_http *c, curl_socket_t fd)
{
    if (fd < 0 || (size_t)fd >= c->ntab) return NULL;
    return c->tab[fd];
}

static void sock_close(http_sock *s)
{
    if (s->closing) return;
    s->closing = true;
    if ((size_t)s->fd < s->c->ntab && s->c->tab[s->fd] == s) s->c->tab[s->fd] = NULL;
    s->c->sockets_open--;
    /* uv_close removes the fd from epoll now, so the caller may close the fd right after. */
    uv_close((uv_handle_t *)&s->poll, sock_on_closed);
}

/* Wraps fd in a poll handle (from the free list: no allocation once warmed up). */
static http_sock *sock_attach(drv_http *c, int fd, bool ours)
{
    if ((size_t)fd >= c->ntab) {
        size_t n = c->ntab ? c->ntab : 64;
        while (n <= (size_t)fd)
            n *= 2;
        http_sock **t = realloc(c->tab, n * sizeof *t);
        if (!t) return NULL;
        memset(t + c->ntab, 0, (n - c->ntab) * sizeof *t);
        c->tab = t;
        c->ntab = n;
    }
    if (c->tab[fd]) sock_close(c->tab[fd]); /* stale entry: the fd number was reused */
    http_sock *s = c->free_socks;
    if (s)
        c->free_socks = s->next_free;
    else if (!(s = malloc(sizeof *s)))
        return NULL;
    memset(s, 0, sizeof *s);
    s->c = c;
    s->fd = fd;
    s->ours = ours;
    if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
        s->next_free = c->free_socks;
        c->free_socks = s;
        return NULL;
    }
    s->poll.data = s;
    c->tab[fd] = s;
    c->handles_open++;
    c->sockets_open++;
    return s;
}

static void http_drain(drv_http *c);

static void sock_on_poll(uv_poll_t *h, int status, int events);

/* Starts the poll handle only when the wanted mask differs from the armed one: in libuv 1.44 every
 * uv_poll_start costs an epoll_ctl DEL and ADD. */
static void sock_arm(http_sock *s)
{
    if (s->closing || s->want == s->polled) return;
    if (s->want == 0) {
        uv_poll_stop(&s->poll);
        s->polled = 0;
    } else if (uv_poll_start(&s->poll, s->want, sock_on_poll) == 0) {
        s->polled = s->want;
    }
}

static void sock_on_poll(uv_poll_t *h, int status, int events)
{
    http_sock *s = h->data;
    drv_http *c = s->c;
    int flags = 0, running;

    if (status >= 0 && s->want == 0) {
        /* Idle kept-alive socket (see http_on_socket): curl checks it before reuse. */
        uv_poll_stop(&s->poll);
        s->polled = 0;
        return;
    }
    if (status < 0) {
        /* libuv has already stopped the handle; curl must hear about the error. */
        s->polled = 0;
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    /* If curl still wants the socket but did not change its mask, it will not call back: re-arm. */
    if (status < 0) sock_arm(s);
    http_drain(c);
}

static int http_on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    drv_http *c = userp;
    http_sock *s = sock_lookup(c, fd);
    (void)e;
    (void)socketp;

    if (what == CURL_POLL_REMOVE) {
        if (!s) return 0;
        s->want = 0;
        /* Ours: the connection stays in curl's cache and usually serves the next request,
         * which asks for the same events again, so the handle stays armed (no syscall now
         * or then); it is stopped only if an event arrives while curl does not want one. */
        if (!s->ours) sock_close(s); /* curl closes it itself right after */
        return 0;
    }
    if (!s && !(s = sock_attach(c, fd, false))) return 0; /* the transfer will time out */
    s->want =
        ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    sock_arm(s);
    return 0;
}

static curl_socket_t http_on_opensocket(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *a)
{
    drv_http *c = clientp;
    (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    if (!sock_attach(c, fd, true)) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    c->sockets_opened++;
    return fd;
}

static int http_on_closesocket(void *clientp, curl_socket_t fd)
{
    drv_http *c = clientp;
    http_sock *s = sock_lookup(c, fd);
    if (s) sock_close(s);
    return close(fd);
}

/* --- timer ------------------------------------------------------------------------------------ */

static void http_teardown(drv_http *c);

static void http_on_timer(uv_timer_t *t)
{
    drv_http *c = t->data;
    int running;
    if (c->closing) {
        http_teardown(c);
        return;
    }
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_drain(c);
}

static int http_on_curl_timer(CURLM *m, long ms, void *userp)
{
    drv_http *c = userp;
    (void)m;
    if (c->closing) return 0; /* the timer now belongs to the teardown */
    if (ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, http_on_timer, (uint64_t)ms, 0);
    return 0;
}

/* --- response callbacks ----------------------------------------------------------------------- */

static size_t http_on_body(char *data, size_t size, size_t n, void *ud)
{
    drv_http_req *r = ud;
    size_t max = r->c->max_body;
    (void)size; /* always 1 */
    r->body_total += n;
    size_t take = max - r->rbody.len;
    if (take > n) take = n;
    if (take < n) r->body_trunc = true;
    if (take && hbuf_reserve(&r->rbody, r->rbody.len + take, max) != 0) {
        r->body_trunc = true;
        take = 0;
    }
    if (take) {
        memcpy(r->rbody.p + r->rbody.len, data, take);
        r->rbody.len += take;
    }
    return n; /* read to the end even when not kept: the connection stays reusable */
}

static size_t http_on_header(char *data, size_t size, size_t n, void *ud)
{
    drv_http_req *r = ud;
    (void)size;
    r->hdr_total += n;
    if (r->at_status && n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx): keep only the final one. */
        r->rhdr.len = 0;
        r->hdr_trunc = false;
    }
    r->at_status = (n <= 2 && (n == 0 || data[0] == '\r' || data[0] == '\n'));
    /* Whole lines only, so a lookup never sees half a header. */
    if (r->rhdr.len + n > r->c->max_hdr ||
        hbuf_reserve(&r->rhdr, r->rhdr.len + n, r->c->max_hdr) != 0) {
        r->hdr_trunc = true;
        return n;
    }
    memcpy(r->rhdr.p + r->rhdr.len, data, n);
    r->rhdr.len += n;
    return n;
}

/* --- completion ------------------------------------------------------------------------------- */

static drv_kind http_kind(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return DRV_OK;
    case CURLE_COULDNT_CONNECT:
        return DRV_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return DRV_ETIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return DRV_EDNS;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return DRV_ETLS;
    /* The peer closed or reset an established connection (drv.h), fresh or reused; the
     * response's `reused` flag tells the two apart. PARTIAL_FILE is a close mid-body. */
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return DRV_ERESET;
    default:
        return DRV_EPROTO;
    }
}

static void inflight_unlink(drv_http_req *r)
{
    drv_http *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->inflight = r->next;
    if (r->next) r->next->prev = r->prev;
    r->next = r->prev = NULL;
    c->in_flight--;
}

static void slot_put(drv_http_req *r)
{
    drv_http *c = r->c;
    r->state = SLOT_FREE;
    r->set = false;
    r->timeout_ns = 0;
    r->url.len = 0;
    r->next = c->free_slots;
    c->free_slots = r;
}

static void req_destroy(drv_http_req *r)
{
    if (r->easy) curl_easy_cleanup(r->easy);
    r->easy = NULL;
    hbuf_free(&r->url);
    hbuf_free(&r->qhdr);
    hbuf_free(&r->qbody);
    hbuf_free(&r->rbody);
    hbuf_free(&r->rhdr);
    free(r->nodes);
    r->nodes = NULL;
}

static void req_complete(drv_http_req *r, CURLcode rc, bool aborted)
{
    drv_http *c = r->c;
    drv_http_resp resp;
    long status = 0, nconn = 0, hsize = 0, qsize = 0;
    curl_off_t up = 0;

    memset(&resp, 0, sizeof resp);
    resp.t_done_ns = uv_hrtime();
    curl_multi_remove_handle(c->multi, r->easy);
    inflight_unlink(r);
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(r->easy, CURLINFO_HEADER_SIZE, &hsize);
    curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &qsize);
    curl_easy_getinfo(r->easy, CURLINFO_SIZE_UPLOAD_T, &up);

    resp.curl_code = aborted ? 0 : (int)rc;
    resp.kind = aborted ? DRV_EABORTED : http_kind(rc);
    if (resp.kind == DRV_OK)
        resp.error = http_empty;
    else if (aborted)
        resp.error = "aborted: client closed";
    else
        resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
    resp.status = (int)status;
    resp.t_start_ns = r->t_start;
    resp.body = r->rbody.p ? r->rbody.p : http_empty;
    resp.body_len = r->rbody.len;
    resp.body_total = r->body_total;
    resp.body_truncated = r->body_trunc;
    resp.headers = r->rhdr.p ? r->rhdr.p : http_empty;
    resp.headers_len = r->rhdr.len;
    resp.header_truncated = r->hdr_trunc;
    resp.bytes_rx = r->hdr_total + r->body_total;
    /* libcurl 7.88 counts a body sent in one piece with the headers (POSTFIELDS below 64 KiB)
     * in both REQUEST_SIZE and SIZE_UPLOAD; a larger one only in SIZE_UPLOAD. */
    if (qsize < 0) qsize = 0;
    if (up < 0) up = 0;
    resp.bytes_tx =
        (up > 0 && (curl_off_t)qsize > up) ? (uint64_t)qsize : (uint64_t)qsize + (uint64_t)up;
    resp.connects = nconn > 0 ? (unsigned)nconn : 0;
    resp.reused = nconn == 0 && (status > 0 || resp.kind == DRV_ERESET);

    c->connects += resp.connects;
    c->completed++;
    r->state = SLOT_HELD;
    r->in_cb = true;
    r->cb(r->preflight ? NULL : r, &resp, r->ud);
    r->in_cb = false;
    if (r->preflight) {
        req_destroy(r);
        free(r);
    } else if (r->state == SLOT_HELD) {
        slot_put(r); /* not restarted by the callback */
    }
}

static void http_drain(drv_http *c)
{
    CURLMsg *m;
    int left;
    /* Once closing, what is still in flight is aborted by the teardown. */
    while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result; /* m is invalid after remove_handle */
        char *p = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
        if (p) req_complete((drv_http_req *)p, rc, false);
    }
}

/* --- setup ------------------------------------------------------------------------------------ */

static int req_init(drv_http *c, drv_http_req *r)
{
    CURL *e = curl_easy_init();
    bool bad = false;
    if (!e) return CUT_ENOMEM;
    r->c = c;
    r->easy = e;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    /* Load goes straight to the target: no proxy from the environment (and no getenv calls
     * per request). */
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK;
    /* The close callback may run for a connection another handle (or the multi) owns, so its
     * data is the client, never the slot. */
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_on_opensocket) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, http_on_closesocket) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms) != CURLE_OK;
    r->applied_timeout = c->timeout_ms;
    if (bad) return CUT_EIO;
    /* Typical sizes up front so the first requests do not grow them. */
    if (hbuf_reserve(&r->url, 256, SIZE_MAX) || hbuf_reserve(&r->qhdr, 512, SIZE_MAX) ||
        hbuf_reserve(&r->rhdr, c->max_hdr < 1024 ? c->max_hdr : 1024, c->max_hdr) ||
        hbuf_reserve(&r->rbody, c->max_body < 4096 ? c->max_body : 4096, c->max_body))
        return CUT_ENOMEM;
    r->url.p[0] = '\0';
    return 0;
}

static long ns_to_ms(uint64_t ns)
{
    uint64_t ms = (ns + 999999) / 1000000;
    return ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)ms;
}

static bool http_has_scheme(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n &&
           (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
            (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.'))))
        i++;
    return i > 0 && i + 3 <= n && memcmp(s + i, "://", 3) == 0;
}

static void http_free(drv_http *c)
{
    if (c->slots)
        for (unsigned i = 0; i < c->nslots; i++)
            req_destroy(&c->slots[i]);
    free(c->slots);
    if (c->multi) curl_multi_cleanup(c->multi);
    while (c->free_socks) {
        http_sock *s = c->free_socks;
        c->free_socks = s->next_free;
        free(s);
    }
    free(c->tab);
    free(c->base);
    free(c);
}

int drv_http_new(drv_http **out, uv_loop_t *loop, const drv_http_opts *o, cut_err *err)
{
    drv_http *c = NULL;
    bool global = false;
    int rc;

    if (!out || !loop || !o) {
        rc = cut_err_set(err, CUT_EINVAL, "http: missing argument");
        goto fail;
    }
    unsigned conns = o->max_connections ? o->max_connections : HTTP_DEF_CONNS;
    unsigned nslots = o->slots ? o->slots : conns;
    if (conns > 65535 || nslots > HTTP_MAX_SLOTS) {
        rc = cut_err_set(err, CUT_EINVAL, "http: max_connections (%u) or slots (%u) too large",
                         conns, nslots);
        goto fail;
    }
    if (o->base_url && strncasecmp(o->base_url, "http://", 7) != 0 &&
        strncasecmp(o->base_url, "https://", 8) != 0) {
        rc = cut_err_set(err, CUT_EINVAL, "http: base_url must start with http:// or https://");
        goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = cut_err_set(err, CUT_EIO, "http: libcurl global init failed");
        goto fail;
    }
    global = true;
    if (!(c = calloc(1, sizeof *c))) goto nomem;
    c->loop = loop;
    c->max_conns = conns;
    c->max_body = o->max_body ? o->max_body : HTTP_DEF_MAX_BODY;
    c->max_hdr = o->max_header_bytes ? o->max_header_bytes : HTTP_DEF_MAX_HDR;
    c->timeout_ms = ns_to_ms(o->timeout_ns ? o->timeout_ns : HTTP_DEF_TIMEOUT_NS);
    c->connect_ms = ns_to_ms(o->connect_timeout_ns ? o->connect_timeout_ns : HTTP_DEF_CONNECT_NS);
    if (c->connect_ms > c->timeout_ms) c->connect_ms = c->timeout_ms;
    if (o->base_url) {
        if (!(c->base = strdup(o->base_url))) goto nomem;
        c->base_len = strlen(c->base);
        while (c->base_len > 0 && c->base[c->base_len - 1] == '/')
            c->base[--c->base_len] = '\0';
    }
    if (!(c->multi = curl_multi_init())) goto nomem;
    {
        bool bad = false;
        /* MAXCONNECTS below the requests in flight costs a new connection per request. */
        long cache = (long)(nslots > conns ? nslots : conns) + 4;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket) != CURLM_OK;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, http_on_curl_timer) != CURLM_OK;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, cache) != CURLM_OK;
        bad |= curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns) != CURLM_OK;
        if (bad) {
            rc = cut_err_set(err, CUT_EIO, "http: libcurl multi setup failed");
            goto fail;
        }
    }
    if (!(c->slots = calloc(nslots, sizeof *c->slots))) goto nomem;
    c->nslots = nslots;
    for (unsigned i = nslots; i-- > 0;) {
        drv_http_req *r = &c->slots[i];
        if ((rc = req_init(c, r)) != 0) {
            cut_err_set(err, rc, "http: cannot set up request slot");
            goto fail;
        }
        r->next = c->free_slots;
        c->free_slots = r;
    }
    /* Poll handles for every connection up front (plus a few for connections being replaced). */
    for (unsigned i = 0; i < conns + 4; i++) {
        http_sock *s = malloc(sizeof *s);
        if (!s) goto nomem;
        s->next_free = c->free_socks;
        c->free_socks = s;
    }
    if (!(c->tab = calloc(64 + 2 * (size_t)conns, sizeof *c->tab))) goto nomem;
    c->ntab = 64 + 2 * (size_t)conns;
    /* Last: nothing after this can fail, so a failed call never leaves a handle to close. */
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->handles_open = 1;
    *out = c;
    return 0;

nomem:
    rc = cut_err_set(err, CUT_ENOMEM, "http: out of memory");
fail:
    if (c) http_free(c);
    if (global) curl_global_cleanup();
    return rc;
}

/* --- close ------------------------------------------------------------------------------------ */

static void http_maybe_finish(drv_http *c)
{
    if (!c->torn_down || c->handles_open > 0) return;
    void (*cb)(void *) = c->closed_cb;
    void *ud = c->closed_ud;
    http_free(c);
    curl_global_cleanup();
    if (cb) cb(ud);
}

static void sock_on_closed(uv_handle_t *h)
{
    http_sock *s = h->data;
    drv_http *c = s->c;
    s->next_free = c->free_socks;
    c->free_socks = s;
    c->handles_open--;
    http_maybe_finish(c);
}

static void http_on_timer_closed(uv_handle_t *h)
{
    drv_http *c = h->data;
    c->handles_open--;
    http_maybe_finish(c);
}

/* Runs from the timer, so aborted callbacks never fire inside drv_http_close. */
static void http_teardown(drv_http *c)
{
    if (c->torn_down) return;
    while (c->inflight)
        req_complete(c->inflight, CURLE_OK, true);
    /* Closes every cached connection through http_on_closesocket. */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    for (unsigned i = 0; i < c->nslots; i++) {
        curl_easy_cleanup(c->slots[i].easy);
        c->slots[i].easy = NULL;
    }
    for (size_t fd = 0; fd < c->ntab; fd++)
        if (c->tab[fd]) sock_close(c->tab[fd]);
    c->torn_down = true;
    uv_close((uv_handle_t *)&c->timer, http_on_timer_closed);
}

void drv_http_close(drv_http *c, void (*closed)(void *ud), void *ud)
{
    if (!c || c->closing) return;
    c->closing = true;
    c->closed_cb = closed;
    c->closed_ud = ud;
    uv_timer_start(&c->timer, http_on_timer, 0, 0);
}

/* --- requests --------------------------------------------------------------------------------- */

drv_http_req *drv_http_acquire(drv_http *c)
{
    drv_http_req *r = c->free_slots;
    if (!r || c->closing) return NULL;
    c->free_slots = r->next;
    r->next = NULL;
    r->state = SLOT_HELD;
    return r;
}

void drv_http_release(drv_http_req *r)
{
    if (!r || r->state != SLOT_HELD || r->preflight) return;
    if (r->in_cb) {
        r->set = false; /* returned to the pool when the callback returns */
        return;
    }
    slot_put(r);
}

void drv_http_req_timeout(drv_http_req *r, uint64_t timeout_ns)
{
    if (r && r->state == SLOT_HELD) r->timeout_ns = timeout_ns;
}

const char *drv_http_req_url(const drv_http_req *r)
{
    return (r && r->url.p && r->url.len) ? r->url.p : http_empty;
}

static bool http_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Control bytes would let a scenario value inject headers or break the request line. */
static bool http_has_ctl(const char *s, size_t n, bool allow_tab)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(allow_tab && ch == '\t')) || ch == 0x7f) return true;
    }
    return false;
}

static int req_join_url(drv_http_req *r, const char *u, size_t n, cut_err *err)
{
    drv_http *c = r->c;
    if (http_has_ctl(u, n, false))
        return cut_err_set(err, CUT_EINVAL, "http: control character in URL");
    bool abs = http_has_scheme(u, n);
    if (!abs && !c->base)
        return cut_err_set(err, CUT_EINVAL, "http: relative URL without base_url");
    size_t blen = abs ? 0 : c->base_len;
    bool slash = !abs && n > 0 && u[0] != '/' && u[0] != '?' && u[0] != '#';
    if (n > SIZE_MAX - blen - 2 || hbuf_reserve(&r->url, blen + slash + n + 1, SIZE_MAX))
        return cut_err_set(err, CUT_ENOMEM, "http: out of memory");
    char *p = r->url.p;
    if (blen) memcpy(p, c->base, blen);
    if (slash) p[blen] = '/';
    if (n) memcpy(p + blen + slash, u, n);
    r->url.len = blen + slash + n;
    p[r->url.len] = '\0';
    return 0;
}

static bool http_is_header(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ';');
}

int drv_http_req_set(drv_http_req *r, const char *method, const char *url_or_path, size_t url_len,
                     const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                     cut_err *err)
{
    size_t mlen, need = 0, nn;
    bool expect = false, bad = false;
    int rc;

    if (!r || r->state != SLOT_HELD || r->preflight)
        return cut_err_set(err, CUT_ESTATE, "http: request slot not acquired");
    r->set = false;
    if (!method || (mlen = strlen(method)) == 0 || mlen > HTTP_METHOD_MAX)
        return cut_err_set(err, CUT_EINVAL, "http: bad method");
    for (size_t i = 0; i < mlen; i++)
        if (!http_tchar((unsigned char)method[i]))
            return cut_err_set(err, CUT_EINVAL, "http: bad method");
    if ((!url_or_path && url_len) || (nheaders && !headers) || (!body && body_len))
        return cut_err_set(err, CUT_EINVAL, "http: missing argument");
    if ((rc = req_join_url(r, url_or_path ? url_or_path : "", url_len, err)) != 0) return rc;

    for (size_t i = 0; i < nheaders; i++) {
        size_t hl;
        if (!headers[i] || (hl = strlen(headers[i])) == 0 ||
            !http_tchar((unsigned char)headers[i][0]) ||
            (!memchr(headers[i], ':', hl) && !memchr(headers[i], ';', hl)) ||
            http_has_ctl(headers[i], hl, true))
            return cut_err_set(err, CUT_EINVAL, "http: header %zu is not \"Name: value\"", i);
        need += hl + 1;
        if (http_is_header(headers[i], "Expect")) expect = true;
    }
    /* curl sends "Expect: 100-continue" for large bodies and waits for the server: not wanted
     * in a load generator unless the scenario asks for it. */
    bool has_body = body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0;
    bool add_expect = has_body && !expect;
    nn = nheaders + add_expect;
    if (hbuf_reserve(&r->qhdr, need + sizeof "Expect:", SIZE_MAX) ||
        hbuf_reserve(&r->qbody, body_len + 1, SIZE_MAX))
        return cut_err_set(err, CUT_ENOMEM, "http: out of memory");
    if (nn > r->nodes_cap) {
        size_t cap = r->nodes_cap ? r->nodes_cap : 8;
        while (cap < nn)
            cap *= 2;
        struct curl_slist *p = realloc(r->nodes, cap * sizeof *p);
        if (!p) return cut_err_set(err, CUT_ENOMEM, "http: out of memory");
        r->nodes = p;
        r->nodes_cap = cap;
    }
    /* A header list of our own nodes: curl_slist_append would allocate per request. */
    size_t off = 0;
    for (size_t i = 0; i < nn; i++) {
        const char *h = i < nheaders ? headers[i] : "Expect:";
        size_t hl = strlen(h);
        memcpy(r->qhdr.p + off, h, hl + 1);
        r->nodes[i].data = r->qhdr.p + off;
        r->nodes[i].next = i + 1 < nn ? &r->nodes[i + 1] : NULL;
        off += hl + 1;
    }
    r->qhdr.len = off;
    if (body_len) memcpy(r->qbody.p, body, body_len);
    r->qbody.p[body_len] = '\0';
    r->qbody.len = body_len;

    CURL *e = r->easy;
    bool head = strcmp(method, "HEAD") == 0;
    const char *custom = method;
    bad |= curl_easy_setopt(e, CURLOPT_URL, r->url.p) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, nn ? r->nodes : NULL) != CURLE_OK;
    /* Order matters: NOBODY, then HTTPGET or POSTFIELDS decide the method curl uses. */
    bad |= curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L) != CURLE_OK;
    if (has_body) {
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->qbody.p) != CURLE_OK;
        if (strcmp(method, "POST") == 0) custom = NULL;
    } else if (!head) {
        bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
        if (strcmp(method, "GET") == 0) custom = NULL;
    } else {
        custom = NULL;
    }
    if (strcmp(custom ? custom : "", r->applied_custom) != 0) {
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom) != CURLE_OK;
        memcpy(r->applied_custom, custom ? custom : "", custom ? mlen + 1 : 1);
    }
    if (bad) return cut_err_set(err, CUT_EIO, "http: libcurl rejected the request options");
    r->set = true;
    return 0;
}

static int req_go(drv_http_req *r, drv_http_cb cb, void *ud)
{
    drv_http *c = r->c;
    long tmo = r->timeout_ns ? ns_to_ms(r->timeout_ns) : c->timeout_ms;
    if (tmo != r->applied_timeout) {
        if (curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, tmo) != CURLE_OK) return CUT_EIO;
        r->applied_timeout = tmo;
    }
    r->rbody.len = 0;
    r->rhdr.len = 0;
    r->body_total = r->hdr_total = 0;
    r->body_trunc = r->hdr_trunc = false;
    r->at_status = true;
    r->errbuf[0] = '\0';
    r->cb = cb;
    r->ud = ud;
    r->t_start = uv_hrtime();
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) return CUT_EIO;
    r->state = SLOT_RUNNING;
    r->prev = NULL;
    r->next = c->inflight;
    if (c->inflight) c->inflight->prev = r;
    c->inflight = r;
    c->in_flight++;
    return 0;
}

int drv_http_start(drv_http_req *r, drv_http_cb cb, void *ud)
{
    if (!r || !cb) return CUT_EINVAL;
    if (r->state != SLOT_HELD || !r->set || r->c->closing || r->preflight) return CUT_ESTATE;
    return req_go(r, cb, ud);
}

int drv_http_preflight(drv_http *c, const char *url, drv_http_cb cb, void *ud)
{
    drv_http_req *r;
    int rc;
    if (!c || !cb) return CUT_EINVAL;
    if (c->closing) return CUT_ESTATE;
    if (!(r = calloc(1, sizeof *r))) return CUT_ENOMEM;
    if ((rc = req_init(c, r)) != 0) goto fail;
    r->preflight = true;
    if ((rc = req_join_url(r, url ? url : "", url ? strlen(url) : 0, NULL)) != 0) goto fail;
    /* Connect (and handshake) only: the connection is closed when the handle is removed. */
    if (curl_easy_setopt(r->easy, CURLOPT_URL, r->url.p) != CURLE_OK ||
        curl_easy_setopt(r->easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
        rc = CUT_EIO;
        goto fail;
    }
    if ((rc = req_go(r, cb, ud)) != 0) goto fail;
    return 0;
fail:
    req_destroy(r);
    free(r);
    return rc;
}

/* --- responses -------------------------------------------------------------------------------- */

const char *drv_http_resp_header(const drv_http_resp *resp, const char *name, size_t *len)
{
    size_t nl;
    if (len) *len = 0;
    if (!resp || !resp->headers || !name || (nl = strlen(name)) == 0) return NULL;
    const char *p = resp->headers, *end = p + resp->headers_len;
    bool first = true;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *next = eol ? eol + 1 : end;
        bool status_line = first && le - p >= 5 && memcmp(p, "HTTP/", 5) == 0;
        first = false;
        /* Skip the status line and obsolete folded continuation lines. */
        if (!status_line && p < le && *p != ' ' && *p != '\t') {
            const char *colon = memchr(p, ':', (size_t)(le - p));
            const char *ne = colon;
            while (ne && ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
                ne--;
            if (colon && (size_t)(ne - p) == nl && strncasecmp(p, name, nl) == 0) {
                const char *v = colon + 1, *ve = le;
                while (v < ve && (*v == ' ' || *v == '\t'))
                    v++;
                while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                    ve--;
                if (len) *len = (size_t)(ve - v);
                return v;
            }
        }
        p = next;
    }
    return NULL;
}

void drv_http_stats_get(const drv_http *c, drv_http_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return;
    out->connects = c->connects;
    out->sockets_opened = c->sockets_opened;
    out->completed = c->completed;
    out->in_flight = c->in_flight;
    out->sockets_open = c->sockets_open;
}
