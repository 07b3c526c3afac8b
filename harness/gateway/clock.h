/* Time helpers: monotonic clocks for decisions, wall clock for what is shown. */
#ifndef GW_CLOCK_H
#define GW_CLOCK_H

#include <stdint.h>

#define GW_ISO_LEN 40

/* Monotonic time in microseconds (never jumps; use for timeouts and buckets). */
int64_t gw_mono_us(void);
/* Wall-clock time in microseconds since the epoch (use for timestamps shown to clients). */
int64_t gw_wall_us(void);
/* Formats wall_us as ISO 8601 UTC with microseconds ("2025-01-02T03:04:05.123456Z"). */
void gw_iso8601(int64_t wall_us, char out[GW_ISO_LEN]);
/* Sleeps until `ms` milliseconds after `start_mono_us` (absolute, so no drift). */
void gw_sleep_until_ms(int64_t start_mono_us, int64_t ms);

#endif
