#include "scenario/suggest.h"

#include <stdlib.h>
#include <string.h>

/* Levenshtein distance with one row; words longer than 63 bytes are never suggested. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *scn__suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t limit = strlen(word) / 3;
    if (limit < 2) limit = 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

void scn__join(char *out, size_t cap, const char *const *items, size_t n)
{
    static const char more[] = ", ...";
    size_t used = 0;
    if (!cap) return;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t sep = i ? 2 : 0;
        size_t len = strlen(items[i]);
        size_t reserve = i + 1 < n ? sizeof more - 1 : 0;
        if (used + sep + len + reserve + 1 > cap) {
            if (used + sizeof more <= cap) memcpy(out + used, more, sizeof more);
            return;
        }
        if (sep) memcpy(out + used, ", ", 2);
        memcpy(out + used + sep, items[i], len);
        used += sep + len;
        out[used] = '\0';
    }
}
