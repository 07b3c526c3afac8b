/* GET /api/v3/report/{name}/agency/{code}?page=&per_page= (seed 000): database-level pagination,
 * a volatile info.generated_at in both versions; v2 adds metadata{timestamp, request_id}.
 * Injected drift is applied last. */
#include "backend.h"
#include "routes.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v3/report/"

/* One round trip: the report and agency (no row: 404), the total, and the page as JSON. */
const char gw_sql_report[] =
    "SELECT r.title, a.agency_name,"
    " (SELECT count(*) FROM report_rows x WHERE x.report_name = $1 AND x.agency_code = $2),"
    " coalesce((SELECT json_agg(t ORDER BY t.row_id) FROM"
    "  (SELECT row_no AS row_id, item, quantity, amount, region, tags FROM report_rows"
    "   WHERE report_name = $1 AND agency_code = $2 ORDER BY row_no LIMIT $3 OFFSET $4) t),"
    "  '[]'::json)"
    " FROM reports r, agencies a WHERE r.report_name = $1 AND a.agency_code = $2";

/* Copies one path segment of [A-Za-z0-9_.-]{1,63}; returns its length or -1. */
static int segment(const char *p, char *out, size_t n)
{
    size_t len = 0;
    while (p[len] && p[len] != '/') {
        char c = p[len];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
        if (!ok || len + 1 >= n) return -1;
        out[len] = c;
        len++;
    }
    out[len] = '\0';
    return len ? (int)len : -1;
}

static int parse_path(const char *path, char *name, char *code, size_t n)
{
    const char *p = path + strlen(PREFIX);
    int len = segment(p, name, n);
    if (len < 0) return -1;
    p += len;
    if (strncmp(p, "/agency/", 8) != 0) return -1;
    p += 8;
    len = segment(p, code, n);
    if (len < 0) return -1;
    p += len;
    return (*p == '\0' || strcmp(p, "/") == 0) ? 0 : -1;
}

/* Optional positive integer argument; -1 if malformed or out of range. */
static long int_arg(const struct gw_req *q, const char *name, long dflt, long max)
{
    const char *v = gw_req_arg(q, name);
    if (!v) return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < 1 || x > max) return -1;
    return x;
}

/* Mirrors the nginx template: volatile inventory data goes to the short zone. */
static const char *cache_zone(const char *report)
{
    return strcmp(report, "inventory") == 0 ? "shortcache" : "dailycache";
}

void gw_route_report(struct gw_req *q, struct gw_reply *r)
{
    char name[64], code[64], err[512];
    if (parse_path(q->path, name, code, sizeof(name)) < 0) {
        gw_reply_error(r, q, 404, "NOT_FOUND", "want /api/v3/report/<name>/agency/<code>");
        return;
    }
    long page = int_arg(q, "page", 1, 1000000), per_page = int_arg(q, "per_page", 10, 1000);
    if (page < 0 || per_page < 0) {
        gw_reply_error(r, q, 400, "VALIDATION_ERROR",
                       "page must be 1..1000000 and per_page 1..1000");
        return;
    }
    char limit[24], offset[24];
    snprintf(limit, sizeof(limit), "%ld", per_page);
    snprintf(offset, sizeof(offset), "%ld", (page - 1) * per_page);
    const char *params[] = {name, code, limit, offset};
    PGresult *res;
    enum gw_db_status st = gw_db_query(q->gw, GW_STMT_REPORT, 4, params, &res, err, sizeof(err));
    if (st != GW_DB_OK) {
        gw_db_reply_error(r, q, st, err);
        return;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        gw_reply_error(r, q, 404, "NOT_FOUND", "unknown report '%s' or agency '%s'", name, code);
        return;
    }
    long total = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    json_error_t je;
    json_t *data = json_loads(PQgetvalue(res, 0, 3), 0, &je);
    json_t *body = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:o}, s:o, s:{s:i, s:i, s:I, s:I, s:b, s:b}}", "info",
        "report_name", name, "title", PQgetvalue(res, 0, 0), "agency_code", code, "agency_name",
        PQgetvalue(res, 0, 1), "generated_at", gw_json_now(), "data", data ? data : json_array(),
        "pagination", "page", (int)page, "per_page", (int)per_page, "total_records",
        (json_int_t)total, "total_pages", (json_int_t)((total + per_page - 1) / per_page),
        "has_next", page * per_page<total, "has_prev", page> 1);
    PQclear(res);
    if (!body) {
        gw_reply_error(r, q, 500, "INTERNAL_ERROR", "cannot build the response");
        return;
    }
    if (strcmp(q->gw->cfg.deployment, "v2") == 0) {
        json_object_set_new(
            body, "metadata",
            json_pack("{s:o, s:s}", "timestamp", gw_json_now(), "request_id", q->request_id));
    }
    /* Drift lives on whichever deployment it was posted to (the tests post it to v2). */
    gw_drift_apply(q->gw->drift, name, code, body);
    gw_reply_header(r, "X-Cache-Zone", "%s", cache_zone(name));
    gw_reply_json(r, 200, body);
}
