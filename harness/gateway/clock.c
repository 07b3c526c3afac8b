#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

static int64_t ts_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t gw_mono_us(void)
{
    return ts_us(CLOCK_MONOTONIC);
}

int64_t gw_wall_us(void)
{
    return ts_us(CLOCK_REALTIME);
}

void gw_iso8601(int64_t wall_us, char out[GW_ISO_LEN])
{
    time_t secs = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, GW_ISO_LEN, "%s.%06dZ", base, (int)(wall_us % 1000000));
}

void gw_sleep_until_ms(int64_t start_mono_us, int64_t ms)
{
    int64_t end = start_mono_us + ms * 1000;
    struct timespec ts = {.tv_sec = end / 1000000, .tv_nsec = (end % 1000000) * 1000};
    /* Absolute deadline: an interrupted sleep resumes toward the same end time. */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}
