#include "http.h"
#include "clock.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 15 significant digits: amounts such as 12.34 print as 12.34, not 12.339999999999999. */
#define GW_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

const char *gw_req_arg(const struct gw_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

void gw_reply_header(struct gw_reply *r, const char *name, const char *fmt, ...)
{
    if (r->nheaders == GW_MAX_HEADERS) return;
    va_list ap;
    va_start(ap, fmt);
    r->headers[r->nheaders].name = name;
    vsnprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), fmt, ap);
    va_end(ap);
    r->nheaders++;
}

void gw_reply_raw(struct gw_reply *r, unsigned status, char *text, size_t len)
{
    free(r->body);
    r->status = status;
    r->body = text;
    r->len = text ? len : 0;
}

void gw_reply_json(struct gw_reply *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, GW_JSON_FLAGS) : NULL;
    json_decref(body);
    gw_reply_raw(r, status, text, text ? strlen(text) : 0);
}

json_t *gw_json_now(void)
{
    char iso[GW_ISO_LEN];
    gw_iso8601(gw_wall_us(), iso);
    return json_string(iso);
}

void gw_reply_error(struct gw_reply *r, const struct gw_req *q, unsigned status, const char *code,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_reply_json(r, status,
                  json_pack("{s:s, s:s, s:n, s:{s:o, s:s, s:s}}", "status", "error", "message", msg,
                            "data", "metadata", "timestamp", gw_json_now(), "request_id",
                            q->request_id, "error_code", code));
}

json_t *gw_req_json(const struct gw_req *q, struct gw_reply *r, int empty_ok)
{
    json_error_t je;
    if (q->body_len == 0) {
        if (empty_ok) return json_object();
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "request body must be a JSON object");
        return NULL;
    }
    json_t *v = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "invalid JSON at line %d column %d: %s",
                       je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "request body must be a JSON object");
        return NULL;
    }
    return v;
}
