/* arena.h - the bump allocator behind a loaded scenario.
 *
 * Everything a scenario model points to (strings, arrays, template segments, CSV cells)
 * lives in one scn_arena and is released at once by scn_arena_free; nothing in the model
 * is freed on its own. Allocation failures return NULL and are sticky: after one,
 * scn_arena_failed() stays true, so a loader may check once at the end. Not thread-safe
 * while allocating; the finished memory is read-only and may be shared by any threads. */
#ifndef CUTOVER_SCENARIO_ARENA_H
#define CUTOVER_SCENARIO_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct scn_arena_chunk scn_arena_chunk;

typedef struct scn_arena {
    scn_arena_chunk *head; /* newest chunk first */
    bool failed;           /* an allocation returned NULL */
} scn_arena;

/* A zeroed arena needs no init call; this is for clarity. */
void scn_arena_init(scn_arena *a);
/* Frees every chunk; the arena may be reused afterwards. */
void scn_arena_free(scn_arena *a);
/* Zeroed, max_align_t-aligned memory, or NULL (then failed is set). size 0 gives a valid
 * pointer. */
void *scn_arena_alloc(scn_arena *a, size_t size);
/* Overflow-checked n * size. */
void *scn_arena_calloc(scn_arena *a, size_t n, size_t size);
/* Copies len bytes and a NUL. */
char *scn_arena_strndup(scn_arena *a, const char *s, size_t len);
char *scn_arena_strdup(scn_arena *a, const char *s);
bool scn_arena_failed(const scn_arena *a);

#endif
