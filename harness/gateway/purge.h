/* Empties nginx's cache directories (seed 000's purge): every file and subdirectory below each
 * zone directory goes, the zone directories themselves stay. nginx treats a missing cache file as
 * a MISS and rewrites it, so no reload is needed. */
#ifndef GW_PURGE_H
#define GW_PURGE_H

/* Empties every directory directly under cache_dir. Returns the number of files removed, or -1
 * with err filled. */
long gw_purge_cache(const char *cache_dir, char *err, unsigned long errlen);

#endif
