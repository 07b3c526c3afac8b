#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct gw_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_pool_open_fn open;
    gw_pool_close_fn close;
    void *arg;
    int size;
    int nidle;
    void **idle; /* NULL entries are slots not connected yet */
};

int gw_pool_new(struct gw_pool **out, int size, gw_pool_open_fn open, gw_pool_close_fn close,
                void *arg)
{
    struct gw_pool *p = calloc(1, sizeof(*p));
    if (!p) goto fail;
    p->idle = calloc((size_t)size, sizeof(void *));
    if (!p->idle) goto fail;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->open = open;
    p->close = close;
    p->arg = arg;
    p->size = size;
    p->nidle = size;
    *out = p;
    return 0;
fail:
    free(p);
    return -1;
}

void gw_pool_free(struct gw_pool *p)
{
    if (!p) return;
    for (int i = 0; i < p->nidle; i++)
        if (p->idle[i]) p->close(p->idle[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p);
}

void *gw_pool_get(struct gw_pool *p, int timeout_ms, int *timed_out, char *err, size_t errlen)
{
    int dummy;
    if (!timed_out) timed_out = &dummy;
    *timed_out = 0;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->nidle == 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT && p->nidle == 0) {
            pthread_mutex_unlock(&p->mu);
            snprintf(err, errlen, "no free connection in the pool after %d ms", timeout_ms);
            *timed_out = 1;
            return NULL;
        }
    }
    void *c = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (c) return c;
    /* Connect outside the lock: a slow server must not stall the other threads. */
    c = p->open(p->arg, err, errlen);
    if (!c) gw_pool_put(p, NULL, 0);
    return c;
}

void gw_pool_put(struct gw_pool *p, void *conn, int broken)
{
    if (conn && broken) {
        p->close(conn);
        conn = NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->idle[p->nidle++] = conn;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
