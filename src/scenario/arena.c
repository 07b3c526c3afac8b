#include "scenario/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)

struct scn_arena_chunk {
    scn_arena_chunk *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

void scn_arena_init(scn_arena *a)
{
    a->head = NULL;
    a->failed = false;
}

void scn_arena_free(scn_arena *a)
{
    scn_arena_chunk *c = a->head;
    while (c) {
        scn_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->failed = false;
}

void *scn_arena_alloc(scn_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX - align) goto fail;
    size_t need = (size + align - 1) & ~(align - 1);
    scn_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        if (cap > SIZE_MAX - sizeof *c) goto fail;
        c = malloc(sizeof *c + cap);
        if (!c) goto fail;
        c->used = 0;
        c->cap = cap;
        /* A big one-off block goes behind the current chunk so its free space stays usable. */
        if (a->head && need > ARENA_CHUNK) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, size);
    return p;
fail:
    a->failed = true;
    return NULL;
}

void *scn_arena_calloc(scn_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        a->failed = true;
        return NULL;
    }
    return scn_arena_alloc(a, n * size);
}

char *scn_arena_strndup(scn_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX) {
        a->failed = true;
        return NULL;
    }
    char *p = scn_arena_alloc(a, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *scn_arena_strdup(scn_arena *a, const char *s)
{
    return scn_arena_strndup(a, s, strlen(s));
}

bool scn_arena_failed(const scn_arena *a)
{
    return a->failed;
}
