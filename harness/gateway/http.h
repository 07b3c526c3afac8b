/* One request and its reply, as the route handlers see them. The server (server.c) fills the
 * request, calls a handler, and sends the reply with the common headers. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "gateway.h"

#include <jansson.h>
#include <stddef.h>

struct MHD_Connection;

struct gw_req {
    struct gw *gw;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body;
    size_t body_len;
    char request_id[80];
};

#define GW_MAX_HEADERS 6

struct gw_reply {
    unsigned status;
    char *body; /* malloc'd, owned by the reply */
    size_t len;
    int cacheable; /* a 200 that nginx may cache: no Cache-Control: no-store */
    int nheaders;
    struct {
        const char *name;
        char value[96];
    } headers[GW_MAX_HEADERS];
};

/* Query argument or NULL. */
const char *gw_req_arg(const struct gw_req *q, const char *name);
void gw_reply_header(struct gw_reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Serialises body (stolen) as the reply. */
void gw_reply_json(struct gw_reply *r, unsigned status, json_t *body);
/* Takes a malloc'd JSON text as the reply body. */
void gw_reply_raw(struct gw_reply *r, unsigned status, char *text, size_t len);
/* The seed-001 error body: {status, message, data: null, metadata{timestamp, request_id,
 * error_code}}. */
void gw_reply_error(struct gw_reply *r, const struct gw_req *q, unsigned status, const char *code,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Parses the request body as a JSON object; on failure replies 400 and returns NULL. An empty
 * body is {} when empty_ok. */
json_t *gw_req_json(const struct gw_req *q, struct gw_reply *r, int empty_ok);
/* Current time as ISO 8601 in a new JSON string. */
json_t *gw_json_now(void);

/* Starts the HTTP server on 127.0.0.1:cfg.port and runs it until SIGINT/SIGTERM. */
int gw_serve(struct gw *gw);

#endif
