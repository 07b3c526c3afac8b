/* strbuf.h - a growable NUL-terminated string, for building documents (HTML, XML) in memory.
 *
 * Zero-initialise it. Appends never fail loudly: on allocation failure the buffer sets `oom`
 * and ignores further appends, so a writer checks once at the end. The buffer owns `s`;
 * sb_free releases it. Not for hot paths: it grows by doubling. */
#ifndef CUTOVER_UTIL_STRBUF_H
#define CUTOVER_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} strbuf;

void sb_put(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(strbuf *b);

#endif
