/* vfy_util.h - small helpers shared by parity.c and datacheck.c (prefix vfy_).
 *
 * - vfy_run_until: drives a libuv loop until a counter of outstanding operations drops to
 *   zero, so verification code can send a batch and wait for it without nesting callbacks.
 * - vfy_hash64: a seeded 64-bit hash of bytes (FNV-1a then a splitmix64 finish), stable across
 *   runs and platforms: it picks reproducible samples and deduplicates SCAN keys.
 * - vfy_u64set: an open-addressing set of 64-bit values (16 bytes per member at most).
 * - vfy_text_json: a bounded, valid UTF-8 JSON string of hostile bytes.
 *
 * Memory: vfy_u64set owns its table (vfy_u64set_free). Errors: CUT_ENOMEM, CUT_ESTATE. */
#ifndef CUTOVER_VERIFY_VFY_UTIL_H
#define CUTOVER_VERIFY_VFY_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/err.h"

/* Runs loop (UV_RUN_ONCE turns) until *pending is 0. Every client used here has its own
 * per-request timeout, so this ends; max_ns (0 = none) is a last bound. Returns 0, or
 * CUT_ESTATE when the loop ran out of handles or max_ns passed with work outstanding. */
int vfy_run_until(uv_loop_t *loop, const size_t *pending, uint64_t max_ns);

uint64_t vfy_hash64(const void *p, size_t n, uint64_t seed);

typedef struct vfy_u64set {
    uint64_t *slots; /* 0 marks an empty slot; the value 0 is stored in has_zero */
    size_t cap;      /* power of two, or 0 */
    size_t count;
    bool has_zero;
} vfy_u64set;

/* Adds v: returns 1 when added, 0 when already present, CUT_ENOMEM. A zeroed set is empty. */
int vfy_u64set_add(vfy_u64set *s, uint64_t v);
bool vfy_u64set_has(const vfy_u64set *s, uint64_t v);
void vfy_u64set_free(vfy_u64set *s);

/* A JSON string holding at most max bytes of p[0..n) as valid UTF-8 (bytes that are not
 * UTF-8, and control bytes, become "\xNN" text). *truncated (may be NULL) is set when cut.
 * NULL on allocation failure. */
json_t *vfy_text_json(const char *p, size_t n, size_t max, bool *truncated);

/* True when p[0..n) is valid UTF-8 without NUL bytes. */
bool vfy_utf8_ok(const char *p, size_t n);

/* Seconds (monotonic) as a double, for progress lines and durations. */
double vfy_now_s(void);

#endif
