/* Route handlers. Each one always fills the reply, errors included. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include "http.h"

typedef void (*gw_handler_fn)(struct gw_req *q, struct gw_reply *r);

/* routes_report.c */
void gw_route_report(struct gw_req *q, struct gw_reply *r);
/* routes_enroll.c */
void gw_route_enrollments(struct gw_req *q, struct gw_reply *r);
void gw_route_enrollments_cached(struct gw_req *q, struct gw_reply *r);
void gw_route_webhook(struct gw_req *q, struct gw_reply *r);
/* routes_misc.c */
void gw_route_ping(struct gw_req *q, struct gw_reply *r);
void gw_route_health(struct gw_req *q, struct gw_reply *r);
void gw_route_delay(struct gw_req *q, struct gw_reply *r);
void gw_route_limited(struct gw_req *q, struct gw_reply *r);
void gw_route_breakers(struct gw_req *q, struct gw_reply *r);
void gw_route_breaker_reset(struct gw_req *q, struct gw_reply *r);
/* routes_admin.c */
void gw_route_admin_status(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_drift(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_faults(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_breaker(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_ratelimit(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_reset(struct gw_req *q, struct gw_reply *r);
void gw_route_admin_purge(struct gw_req *q, struct gw_reply *r);

#endif
