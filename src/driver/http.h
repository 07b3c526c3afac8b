/* http.h - the driver's HTTP/1.1 client: libcurl's multi-socket interface on a libuv loop.
 *
 * One drv_http per (endpoint, loop). It owns a CURLM, a uv_timer_t for curl's timeouts and one
 * uv_poll_t per socket, kept for the socket's whole life and left armed between the requests of
 * a kept-alive connection (PERF_NOTES.md: re-creating or re-arming it per request costs an ioctl
 * and several epoll_ctl; here a request costs send, recv and libcurl's two polls). Requests run in
 * preallocated slots: an easy handle, its header list and its URL, body and response buffers are
 * reused, and buffers only grow when a larger value is first seen, so steady-state load allocates
 * nothing in cutover.
 *
 * Lifecycle of a slot:
 *   drv_http_acquire -> drv_http_req_set [-> drv_http_req_timeout] -> drv_http_start
 *   -> callback (on the loop, never from inside drv_http_start) -> back to the pool.
 *   A slot acquired but not started goes back with drv_http_release.
 *   Inside the callback the same slot may be set and started again (closed-loop reuse);
 *   otherwise it returns to the pool as soon as the callback returns.
 *
 * Errors: functions return 0 or a negative CUT_E* code (util/err.h) and fill `err` when it is
 * not NULL. A call that fails never fires its callback. Transfer failures are not call errors:
 * they reach the callback as drv_http_resp.kind (driver/drv.h).
 *
 * Kinds: COULDNT_CONNECT -> DRV_ECONNECT; OPERATION_TIMEDOUT (connect or whole request) ->
 * DRV_ETIMEOUT; COULDNT_RESOLVE_* -> DRV_EDNS; SSL errors -> DRV_ETLS; RECV_ERROR, SEND_ERROR,
 * GOT_NOTHING and PARTIAL_FILE (the peer closed or reset the connection, fresh or reused; see
 * drv_http_resp.reused) -> DRV_ERESET; drv_http_close -> DRV_EABORTED; anything else (malformed
 * answer, header line over libcurl's 100 KiB limit, unsupported scheme) -> DRV_EPROTO.
 *
 * Everything a target sends is treated as hostile: kept body and header bytes are bounded
 * (max_body, max_header_bytes), the rest is read, counted and dropped.
 *
 * HTTP/1.1 only, no redirects followed, only http:// and https:// URLs, and proxies from the
 * environment (http_proxy, ...) are ignored: load goes straight to the target.
 *
 * Not thread-safe: every call for one drv_http must be made on its loop's thread. */
#ifndef CUTOVER_DRIVER_HTTP_H
#define CUTOVER_DRIVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "driver/drv.h"
#include "util/err.h"

typedef struct drv_http drv_http;
typedef struct drv_http_req drv_http_req;

typedef struct drv_http_opts {
    const char *base_url;        /* prefix for relative URLs ("http://127.0.0.1:8080/api"); copied;
                                    may be NULL when every request gives an absolute URL */
    unsigned max_connections;    /* TCP connections to the endpoint; 0 = 64 */
    unsigned slots;              /* requests in flight at most; 0 = max_connections */
    uint64_t timeout_ns;         /* whole request, from drv_http_start; 0 = 30 s */
    uint64_t connect_timeout_ns; /* TCP connect; 0 = 10 s (never above timeout_ns) */
    size_t max_body;             /* body bytes kept per response; 0 = 1 MiB */
    size_t max_header_bytes;     /* header bytes kept per response; 0 = 16 KiB */
} drv_http_opts;

/* The outcome of one request, valid only during the callback (and, in a callback that restarts
 * its slot, only until drv_http_start). Pointers point into the slot's buffers. */
typedef struct drv_http_resp {
    drv_kind kind;       /* DRV_OK when a complete HTTP response arrived (any status) */
    int curl_code;       /* the CURLcode, 0 on success or when aborted by drv_http_close */
    const char *error;   /* short text for people, "" on success; never holds request headers */
    int status;          /* HTTP status of the final response, 0 if none arrived */
    uint64_t t_start_ns; /* uv_hrtime() when the request was handed to curl */
    uint64_t t_done_ns;  /* uv_hrtime() when completion was seen */
    const char *body;    /* first body_len bytes of the body (not NUL-terminated) */
    size_t body_len;
    uint64_t body_total; /* body bytes received, kept or not */
    bool body_truncated; /* body_total > body_len */
    const char *headers; /* raw header block of the final response, status line first */
    size_t headers_len;
    bool header_truncated; /* lines beyond max_header_bytes were dropped */
    uint64_t bytes_rx;     /* header + body bytes received (all responses of this request) */
    uint64_t bytes_tx;     /* request line, headers and body sent */
    unsigned connects;     /* new TCP connections this request needed (CURLINFO_NUM_CONNECTS) */
    bool reused;           /* ran on a kept-alive connection */
} drv_http_resp;

/* Completion callback. `r` is the slot; the callback may drv_http_req_set and drv_http_start it
 * again, otherwise the slot returns to the pool when the callback returns. Fires exactly once per
 * successful drv_http_start (or drv_http_preflight, with r == NULL), on the loop. */
typedef void (*drv_http_cb)(drv_http_req *r, const drv_http_resp *resp, void *ud);

typedef struct drv_http_stats {
    uint64_t connects;       /* sum of CURLINFO_NUM_CONNECTS over completed requests */
    uint64_t sockets_opened; /* TCP sockets libcurl opened (includes preflights and failures) */
    uint64_t completed;      /* callbacks fired, any kind */
    unsigned in_flight;      /* started and not yet called back */
    unsigned sockets_open;   /* sockets currently open */
} drv_http_stats;

/* Creates a client on `loop`. *out is set on success only. Errors: CUT_EINVAL (bad option,
 * base_url not http(s)), CUT_ENOMEM, CUT_EIO (libcurl could not be set up). */
int drv_http_new(drv_http **out, uv_loop_t *loop, const drv_http_opts *o, cut_err *err);

/* Starts closing: requests in flight (and preflights) complete with DRV_EABORTED from the loop,
 * then the sockets and handles close, and `closed(ud)` fires (may be NULL) once all memory is
 * freed. After this call, acquire returns NULL and start fails with CUT_ESTATE; slots still
 * acquired become invalid when `closed` fires. Calling it twice is a no-op. */
void drv_http_close(drv_http *c, void (*closed)(void *ud), void *ud);

/* A free slot, or NULL when all are busy (the executor counts a drop) or the client is closing. */
drv_http_req *drv_http_acquire(drv_http *c);

/* Returns an acquired, not started slot to the pool. */
void drv_http_release(drv_http_req *r);

/* Prepares an acquired slot. Everything is copied into the slot (growing its buffers when a value
 * is larger than any seen before). `url_or_path` (url_len bytes, no NUL needed) is used as is when
 * it starts with "scheme://", else appended to base_url with exactly one '/' between them.
 * `headers` are "Name: value" strings sent verbatim with libcurl's meaning ("Name:" removes a
 * header curl would add, "Name;" sends it empty). A body is sent for any method; without a
 * Content-Type header curl sends application/x-www-form-urlencoded. HEAD reads no body.
 * Errors: CUT_EINVAL (bad method, control bytes in URL or headers, relative URL without base_url),
 * CUT_ESTATE (slot not acquired), CUT_ENOMEM. On error the slot stays acquired and unset. */
int drv_http_req_set(drv_http_req *r, const char *method, const char *url_or_path, size_t url_len,
                     const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                     cut_err *err);

/* Overrides the whole-request timeout of the next start of this slot (0 = the client's).
 * Reset to the client's when the slot returns to the pool. */
void drv_http_req_timeout(drv_http_req *r, uint64_t timeout_ns);

/* The full URL the slot will request (NUL-terminated, owned by the slot), "" before req_set. */
const char *drv_http_req_url(const drv_http_req *r);

/* Hands a set slot to curl; cb fires later on the loop. Errors: CUT_ESTATE (not set, already
 * started, or the client is closing), CUT_EIO (curl refused it). On error the slot stays acquired.
 */
int drv_http_start(drv_http_req *r, drv_http_cb cb, void *ud);

/* Checks the endpoint is reachable by opening one TCP (and TLS) connection to `url` (NULL =
 * base_url) and closing it; cb gets r == NULL and kind DRV_OK or the failure kind. Does not use a
 * slot. Errors: CUT_EINVAL, CUT_ESTATE (closing), CUT_ENOMEM, CUT_EIO. */
int drv_http_preflight(drv_http *c, const char *url, drv_http_cb cb, void *ud);

/* Case-insensitive lookup of the first header `name` in the final response. Returns the value
 * (leading and trailing blanks trimmed, not NUL-terminated; its length in *len) or NULL. Safe on
 * any byte sequence in resp->headers. */
const char *drv_http_resp_header(const drv_http_resp *resp, const char *name, size_t *len);

void drv_http_stats_get(const drv_http *c, drv_http_stats *out);

#endif
