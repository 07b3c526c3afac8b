#include "metrics/secring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Seconds in the ring: a thread may lag its peers by this much before its data is dropped. */
#define SRING_SLOTS 8

typedef struct slot {
    hist *h;
    uint64_t second;
    int used;
} slot;

struct sring {
    pthread_mutex_t mu;
    slot slots[SRING_SLOTS];
    sring_second *out;
    size_t nout, cap;
    uint64_t late;
};

int sring_new(sring **out, cut_err *err)
{
    sring *r = calloc(1, sizeof *r);
    if (!r) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    for (int i = 0; i < SRING_SLOTS; i++) {
        int rc = hist_new_default(&r->slots[i].h, err);
        if (rc < 0) {
            sring_free(r);
            return rc;
        }
    }
    *out = r;
    return 0;
}

void sring_free(sring *r)
{
    if (!r) return;
    for (int i = 0; i < SRING_SLOTS; i++)
        hist_free(r->slots[i].h);
    pthread_mutex_destroy(&r->mu);
    free(r->out);
    free(r);
}

void sring_reset(sring *r)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < SRING_SLOTS; i++) {
        hist_reset(r->slots[i].h);
        r->slots[i].used = 0;
    }
    r->nout = 0;
    r->late = 0;
    pthread_mutex_unlock(&r->mu);
}

/* Under mu: turns a slot into numbers. */
static void finish(sring *r, slot *s)
{
    if (!s->used) return;
    if (s->second >= r->nout) {
        size_t need = (size_t)s->second + 1;
        if (need > r->cap) {
            size_t cap = r->cap ? r->cap : 64;
            while (cap < need)
                cap *= 2;
            sring_second *n = realloc(r->out, cap * sizeof *n);
            if (!n) goto done;
            r->out = n;
            r->cap = cap;
        }
        memset(r->out + r->nout, 0, (need - r->nout) * sizeof *r->out);
        r->nout = need;
    }
    sring_second *o = &r->out[s->second];
    o->count = (uint64_t)hist_count(s->h);
    o->p50 = hist_percentile(s->h, 50);
    o->p95 = hist_percentile(s->h, 95);
    o->p99 = hist_percentile(s->h, 99);
    o->max = hist_max(s->h);
done:
    hist_reset(s->h);
    s->used = 0;
}

void sring_add(sring *r, uint64_t second, const hist *h)
{
    if (hist_count(h) == 0) return;
    pthread_mutex_lock(&r->mu);
    slot *s = &r->slots[second % SRING_SLOTS];
    if (s->used && s->second > second) {
        r->late += (uint64_t)hist_count(h);
    } else {
        if (s->used && s->second < second) finish(r, s);
        s->second = second;
        s->used = 1;
        hist_merge(s->h, h, NULL);
    }
    pthread_mutex_unlock(&r->mu);
}

void sring_flush(sring *r)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < SRING_SLOTS; i++)
        finish(r, &r->slots[i]);
    pthread_mutex_unlock(&r->mu);
}

size_t sring_seconds(const sring *r)
{
    return r->nout;
}

const sring_second *sring_get(const sring *r, size_t second)
{
    return second < r->nout ? &r->out[second] : NULL;
}

uint64_t sring_late(const sring *r)
{
    return r->late;
}
