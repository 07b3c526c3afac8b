/* jptr.h - RFC 6901 JSON pointers, with `*` as a wildcard segment.
 *
 * A pointer is compiled once and used many times. "" is the whole document, "/a/0" is key
 * "a" then key or index "0", `~1` stands for '/' and `~0` for '~'. A segment that is exactly
 * `*` is a wildcard: it matches any object key and any array index (so it also matches a key
 * that is literally "*"). Array indexes follow RFC 6901: "0" or digits without a leading
 * zero; "-" (one past the end) never names an existing element.
 *
 * Memory: jptr_compile allocates one block owned by the caller and released by jptr_free.
 * jptr_get and jptr_matches never allocate; jptr_foreach allocates its path buffer per call.
 * A jptr is immutable after compilation, so threads may share one.
 *
 * Errors: jptr_compile returns CUT_EINVAL (message names the pointer text) for a pointer that
 * does not start with '/' or holds a '~' not followed by '0' or '1', and CUT_ENOMEM. */
#ifndef CUTOVER_UTIL_JPTR_H
#define CUTOVER_UTIL_JPTR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct jptr jptr;

/* Compiles text into *out (set to NULL on failure). */
int jptr_compile(const char *text, jptr **out, cut_err *err);
void jptr_free(jptr *p);

/* The text the pointer was compiled from. */
const char *jptr_text(const jptr *p);
/* Number of segments ("" has 0, "/a/b" has 2). */
size_t jptr_depth(const jptr *p);
/* True when at least one segment is the `*` wildcard. */
bool jptr_is_wild(const jptr *p);

/* The value p names in doc, or NULL when it does not exist, doc is NULL or p has a wildcard.
 * The result is borrowed from doc. */
json_t *jptr_get(const jptr *p, const json_t *doc);

/* Called for each match with its concrete pointer (escaped; NUL-terminated, valid only during
 * the call) and the value borrowed from doc. Return 0 to go on, anything else to stop. */
typedef int (*jptr_visit_cb)(const char *path, json_t *value, void *ud);

/* Visits every value p matches in doc, in document order (object keys in insertion order,
 * array elements by index). Returns 0 after the last match, the callback's non-zero value if
 * it stopped the walk, or CUT_ENOMEM. */
int jptr_foreach(const jptr *p, const json_t *doc, jptr_visit_cb cb, void *ud);

/* True when the concrete (wildcard-free, escaped) pointer path lies at or beneath a node the
 * pattern matches: "/metadata" matches "/metadata" and "/metadata/request_id/x"; with a
 * wildcard segment appended it matches the latter but not "/metadata" itself. A malformed
 * path matches nothing. */
bool jptr_matches(const jptr *pattern, const char *path);
/* Same, for a path of len bytes that may hold NUL bytes (from hostile keys). */
bool jptr_matchesn(const jptr *pattern, const char *path, size_t len);

/* Writes '/' then seg (n bytes) escaped into dst, snprintf-style: returns the length the
 * result needs (excluding the NUL); writes at most cap bytes, NUL-terminated when cap > 0. */
size_t jptr_escape(char *dst, size_t cap, const char *seg, size_t n);

/* A growable pointer buffer, for building concrete paths while walking a document.
 * Zero-initialise it; s is NUL-terminated once anything was written; jptr_buf_free releases
 * it. The push functions return 0 or CUT_ENOMEM (leaving the buffer unchanged). */
typedef struct jptr_buf {
    char *s;
    size_t len;
    size_t cap;
} jptr_buf;

/* Appends '/' and the escaped key. */
int jptr_buf_push_key(jptr_buf *b, const char *key, size_t n);
/* Appends '/' and the decimal index. */
int jptr_buf_push_index(jptr_buf *b, size_t index);
/* Replaces the content with n bytes of s (an already escaped pointer). */
int jptr_buf_set(jptr_buf *b, const char *s, size_t n);
/* Cuts the buffer back to len bytes (len <= b->len). */
void jptr_buf_trunc(jptr_buf *b, size_t len);
void jptr_buf_free(jptr_buf *b);

#endif
