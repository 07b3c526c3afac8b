/* drv.h - what every protocol client of the driver shares: the outcome of one
 * request and the error kinds counted by the metrics (SCENARIO.md section 4).
 *
 * The clients (http.c, redis.c, pg.c) run on one uv_loop_t each; a client never
 * blocks and never calls back from inside its own send function. */
#ifndef CUTOVER_DRIVER_DRV_H
#define CUTOVER_DRIVER_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error kinds, in the order the report lists them. DRV_OK is success at the protocol
 * level; the executor later decides "status" (unexpected HTTP status) and "check"
 * (a failed check) from the response itself. */
typedef enum drv_kind {
    DRV_OK = 0,
    DRV_ECONNECT, /* refused, unreachable, or the connection could not be set up */
    DRV_ERESET,   /* the peer closed or reset an established connection */
    DRV_ETIMEOUT, /* no complete answer within the step's timeout */
    DRV_ETLS,     /* TLS handshake or certificate failure */
    DRV_EDNS,     /* name resolution failed */
    DRV_ESTATUS,  /* HTTP status outside the expected list (set by the executor) */
    DRV_ECHECK,   /* a check on the response failed (set by the executor) */
    DRV_EREDIS,   /* Redis answered with an error reply */
    DRV_ESQL,     /* PostgreSQL returned an error (SQLSTATE in drv_result.sqlstate) */
    DRV_EABORTED, /* cut by an earlier error on the same pipeline/connection */
    DRV_EPROTO,   /* anything else: malformed answer, client library failure */
    DRV_KIND_COUNT
} drv_kind;

/* Stable lower-case names used in reports: "ok", "connect", "reset", ... */
const char *drv_kind_name(drv_kind kind);

#endif
