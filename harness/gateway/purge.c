#include "purge.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw has no user pointer; the purge is serialised by the caller's mutex. */
static long removed;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    if (ftw->level < 2) return 0; /* keep cache_dir and the zone directories */
    if (flag == FTW_DP) {
        rmdir(path);
    } else if (unlink(path) == 0) {
        removed++;
    }
    return 0;
}

long gw_purge_cache(const char *cache_dir, char *err, unsigned long errlen)
{
    removed = 0;
    /* FTW_DEPTH: children before their directory, so directories are empty when removed. */
    if (nftw(cache_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(err, errlen, "cannot walk %s: %s", cache_dir, strerror(errno));
        return -1;
    }
    return removed;
}
