#include "metrics/keyset.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KSET_STRIPES 64

typedef struct stripe {
    pthread_mutex_t mu;
    uint64_t *slots; /* 0 = empty */
    size_t cap, used;
} stripe;

struct kset {
    stripe st[KSET_STRIPES];
};

uint64_t kset_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1; /* 0 marks an empty slot */
}

int kset_new(kset **out, cut_err *err)
{
    kset *k = calloc(1, sizeof *k);
    if (!k) return cut_err_set(err, CUT_ENOMEM, "out of memory");
    for (int i = 0; i < KSET_STRIPES; i++)
        pthread_mutex_init(&k->st[i].mu, NULL);
    *out = k;
    return 0;
}

void kset_free(kset *k)
{
    if (!k) return;
    for (int i = 0; i < KSET_STRIPES; i++) {
        pthread_mutex_destroy(&k->st[i].mu);
        free(k->st[i].slots);
    }
    free(k);
}

/* Inserts h (non-zero) into a table with room; true when new. */
static bool insert(uint64_t *slots, size_t cap, uint64_t h)
{
    size_t i = (size_t)(h >> 7) & (cap - 1); /* low bits chose the stripe */
    while (slots[i]) {
        if (slots[i] == h) return false;
        i = (i + 1) & (cap - 1);
    }
    slots[i] = h;
    return true;
}

static bool grow(stripe *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    uint64_t *n = calloc(cap, sizeof *n);
    if (!n) return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) insert(n, cap, s->slots[i]);
    free(s->slots);
    s->slots = n;
    s->cap = cap;
    return true;
}

bool kset_first(kset *k, uint64_t h)
{
    if (!h) h = 1;
    stripe *s = &k->st[h & (KSET_STRIPES - 1)];
    pthread_mutex_lock(&s->mu);
    bool fresh;
    if ((s->used + 1) * 2 > s->cap && !grow(s)) {
        fresh = false; /* out of memory: call it warm rather than fail the request */
    } else {
        fresh = insert(s->slots, s->cap, h);
        if (fresh) s->used++;
    }
    pthread_mutex_unlock(&s->mu);
    return fresh;
}

void kset_clear(kset *k)
{
    for (int i = 0; i < KSET_STRIPES; i++) {
        stripe *s = &k->st[i];
        pthread_mutex_lock(&s->mu);
        if (s->slots) memset(s->slots, 0, s->cap * sizeof *s->slots);
        s->used = 0;
        pthread_mutex_unlock(&s->mu);
    }
}
