/* A fixed-size pool of blocking connections (PostgreSQL or Redis), shared by the connection
 * threads. Connections are opened lazily and reopened after a caller reports them broken. */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stddef.h>

/* Opens one connection; on failure returns NULL and fills err. */
typedef void *(*gw_pool_open_fn)(void *arg, char *err, size_t errlen);
typedef void (*gw_pool_close_fn)(void *conn);

struct gw_pool;

/* Returns 0, or -1 when out of memory. arg is passed to open and must outlive the pool. */
int gw_pool_new(struct gw_pool **out, int size, gw_pool_open_fn open, gw_pool_close_fn close,
                void *arg);
/* Closes every idle connection; all connections must have been put back. */
void gw_pool_free(struct gw_pool *p);
/* Waits up to timeout_ms for a connection. NULL with err filled on timeout (*timed_out = 1) or
 * connect failure (*timed_out = 0). timed_out may be NULL. */
void *gw_pool_get(struct gw_pool *p, int timeout_ms, int *timed_out, char *err, size_t errlen);
/* Returns a connection; broken ones are closed and reopened by a later get. */
void gw_pool_put(struct gw_pool *p, void *conn, int broken);

#endif
