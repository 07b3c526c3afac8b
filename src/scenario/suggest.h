/* suggest.h - "did you mean" for the scenario module (internal to src/scenario). */
#ifndef CUTOVER_SCENARIO_SUGGEST_H
#define CUTOVER_SCENARIO_SUGGEST_H

#include <stddef.h>

/* The candidate closest to `word` by edit distance when it is close enough to be a
 * plausible typo (distance <= max(2, strlen(word) / 3)), else NULL. */
const char *scn__suggest(const char *word, const char *const *candidates, size_t n);

/* Writes "a, b, c" (truncated with ", ..." to fit) into out. */
void scn__join(char *out, size_t cap, const char *const *items, size_t n);

#endif
