/* keyset.h - "have we asked for this before?", for cold/warm without a cache header: a
 * request is cold the first time its cache key (the URL by default) is seen since the last
 * purge action, warm afterwards. Shared by all worker threads.
 *
 * Keys are kept as 64-bit hashes (FNV-1a) in striped, locked open-addressing tables; a
 * table grows (amortized) only when it meets new keys, never per request otherwise.
 * Memory: owned by the set; kset_free releases it. */
#ifndef CUTOVER_METRICS_KEYSET_H
#define CUTOVER_METRICS_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct kset kset;

int kset_new(kset **out, cut_err *err);
void kset_free(kset *k);

uint64_t kset_hash(const void *key, size_t len);

/* Records the key's hash; true when it had not been seen (a cold request). Thread-safe. */
bool kset_first(kset *k, uint64_t hash);

/* Forgets every key (a purge). Thread-safe. */
void kset_clear(kset *k);

#endif
