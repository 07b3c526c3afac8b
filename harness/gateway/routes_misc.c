/* Liveness, health (seed 003's per-service status), a delay route, the rate-limited route and the
 * circuit breaker endpoints of seed 001. */
#include "backend.h"
#include "clock.h"
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_route_ping(struct gw_req *q, struct gw_reply *r)
{
    (void)q;
    gw_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void gw_route_health(struct gw_req *q, struct gw_reply *r)
{
    char err[512];
    double db_ms = 0, cache_ms = 0;
    int db_ok = gw_db_ping(q->gw, &db_ms, err, sizeof(err)) == 0;
    json_t *db = json_pack("{s:s, s:f, s:s}", "status", db_ok ? "healthy" : "unhealthy",
                           "latency_ms", db_ms, "circuit", gw_breaker_state(q->gw->breaker));
    if (!db_ok) json_object_set_new(db, "error", json_string(err));

    int64_t t0 = gw_mono_us();
    const char *ping[] = {"PING"};
    redisReply *rep = gw_redis_cmd(q->gw, 1, ping, NULL, err, sizeof(err));
    cache_ms = (double)(gw_mono_us() - t0) / 1000.0;
    int cache_ok = rep != NULL;
    freeReplyObject(rep);
    json_t *cache = json_pack("{s:s, s:f}", "status", cache_ok ? "healthy" : "unhealthy",
                              "latency_ms", cache_ms);
    if (!cache_ok) json_object_set_new(cache, "error", json_string(err));

    int ok = db_ok && cache_ok;
    gw_reply_json(r, ok ? 200 : 503,
                  json_pack("{s:s, s:s, s:o, s:{s:o, s:o}}", "status", ok ? "healthy" : "degraded",
                            "deployment", q->gw->cfg.deployment, "timestamp", gw_json_now(),
                            "services", "database", db, "cache", cache));
}

/* GET /delay/{ms}: answers after exactly that long (thread per connection: others go on). */
void gw_route_delay(struct gw_req *q, struct gw_reply *r)
{
    int64_t t0 = gw_mono_us();
    const char *arg = q->path + strlen("/delay/");
    char *end;
    long ms = strtol(arg, &end, 10);
    if (end == arg || *end || ms < 0 || ms > 60000) {
        gw_reply_error(r, q, 400, "VALIDATION_ERROR", "delay must be 0..60000 ms");
        return;
    }
    gw_sleep_until_ms(t0, ms);
    gw_reply_json(r, 200, json_pack("{s:s, s:i}", "status", "ok", "delay_ms", (int)ms));
}

/* GET /api/limited/...: behind the token bucket (the server checks it before this runs). */
void gw_route_limited(struct gw_req *q, struct gw_reply *r)
{
    gw_reply_json(r, 200,
                  json_pack("{s:s, s:{s:s}}", "status", "success", "data", "path", q->path));
}

void gw_route_breakers(struct gw_req *q, struct gw_reply *r)
{
    gw_reply_json(r, 200,
                  json_pack("{s:{s:o}, s:o}", "breakers", "postgres",
                            gw_breaker_status(q->gw->breaker), "timestamp", gw_json_now()));
}

/* POST /circuit-breakers/{name}/reset (seed 001). */
void gw_route_breaker_reset(struct gw_req *q, struct gw_reply *r)
{
    if (strcmp(q->path, "/circuit-breakers/postgres/reset") != 0) {
        gw_reply_error(r, q, 404, "NOT_FOUND", "the only breaker is 'postgres'");
        return;
    }
    gw_breaker_reset(q->gw->breaker, 0);
    gw_reply_json(
        r, 200,
        json_pack("{s:s, s:o}", "status", "success", "data", gw_breaker_status(q->gw->breaker)));
}
