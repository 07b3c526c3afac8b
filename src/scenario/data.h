/* data.h - data sets (inline values, integer ranges, CSV files) and the per-thread
 * cursors that feed rows to the driver.
 *
 * A data set has `rows` rows, numbered 0..rows-1. A row's value for a column is read with
 * scn_data_value, which never allocates: inline values and CSV cells point into the
 * set's own memory, range integers are formatted into the caller's scratch buffer. A range
 * is never materialized: row i is lo + i.
 *
 * Cursors: each thread keeps its own scn_cursor per data set (a plain struct, no
 * allocation) and calls scn_cursor_next for the next row:
 *   sequential  thread t of n reads global positions t, t+n, t+2n, ... modulo rows, so the
 *               threads together walk the rows in order and wrap around;
 *   random      uniform rows from a xoshiro stream seeded by sched_seed_for(seed, stream),
 *               stream = (set index << 32) | thread: reproducible for a seed and thread
 *               count, distinct across threads and sets;
 *   unique      row r belongs to thread r % n (sched_part_rows); each row is given out
 *               once per run, then scn_cursor_next returns false.
 *
 * Memory: a scn_data and everything it points to belong to the arena it was loaded into
 * (the scenario's). Read-only after loading; any number of threads may read one set. */
#ifndef CUTOVER_SCENARIO_DATA_H
#define CUTOVER_SCENARIO_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/sched.h"
#include "scenario/arena.h"
#include "scenario/template.h"
#include "util/err.h"

/* Scratch bytes scn_data_value may need (a formatted int64 and its NUL). */
#define SCN_SCRATCH 24
/* The column that `{{set}}` names (CSV: the `column` key; other kinds: the value). */
#define SCN_KEY_COLUMN (-1)

typedef enum scn_data_kind {
    SCN_DATA_VALUES = 0,
    SCN_DATA_RANGE = 1,
    SCN_DATA_CSV = 2,
} scn_data_kind;

typedef enum scn_data_mode {
    SCN_MODE_SEQUENTIAL = 0,
    SCN_MODE_RANDOM = 1,
    SCN_MODE_UNIQUE = 2,
} scn_data_mode;

/* One CSV cell: offset and length in scn_data.text (each cell is followed by a NUL). */
typedef struct scn_cell {
    uint32_t off;
    uint32_t len;
} scn_cell;

typedef struct scn_data {
    const char *name;
    uint32_t index; /* position in scn_scenario.data */
    scn_data_kind kind;
    scn_data_mode mode;
    uint64_t seed; /* random mode: the set's `seed`, else the scenario's defaults.seed */
    uint64_t rows; /* >= 1 in a loaded scenario */

    /* SCN_DATA_VALUES: rows strings (numbers were written as JSON text, e.g. "42"). */
    const scn_value *values;

    /* SCN_DATA_RANGE: rows = hi - lo + 1. */
    int64_t lo, hi;

    /* SCN_DATA_CSV */
    const char *path;           /* as opened (resolved against the scenario's folder) */
    const char *const *columns; /* header names */
    uint32_t ncols;
    uint32_t key_column;   /* index of `column` (default 0) */
    const char *text;      /* unquoted cell bytes */
    const scn_cell *cells; /* rows * ncols, row-major */
} scn_data;

/* Reads an RFC 4180 CSV file (header row first; "," separated; LF or CRLF; quoted fields
 * with "" escapes and embedded newlines; UTF-8 BOM skipped; blank lines skipped) into d's
 * CSV fields and rows (other fields untouched). Every record must have as many fields as
 * the header; header names must be non-empty and distinct; at least one data row.
 * Errors: CUT_EIO (cannot open/read, with strerror), CUT_ESYNTAX ("line N: ..."),
 * CUT_ERANGE (file >= 4 GiB), CUT_ENOMEM. Messages carry the path as given. */
int scn_data_load_csv(scn_arena *a, const char *path, scn_data *d, cut_err *err);

/* Index of a CSV column by name, or -1. */
int32_t scn_data_column(const scn_data *d, const char *name);

/* The value of `row` in `column` (SCN_KEY_COLUMN for the set's own value; CSV columns by
 * index). scratch (SCN_SCRATCH bytes) must outlive the use of *out for range sets.
 * Returns 0, or CUT_ERANGE when row or column is out of range. */
int scn_data_value(const scn_data *d, uint64_t row, int32_t column, char *scratch, scn_value *out);

typedef struct scn_cursor {
    uint8_t mode; /* scn_data_mode */
    uint64_t rows;
    uint64_t pos;    /* sequential: next row; unique: next k */
    uint64_t step;   /* sequential: n_threads % rows */
    sched_part part; /* unique: this thread's rows */
    sched_rng rng;   /* random */
} scn_cursor;

/* Prepares thread `thread` (of n_threads >= 1) to read set d. */
void scn_cursor_init(scn_cursor *c, const scn_data *d, uint32_t thread, uint32_t n_threads);

/* Stores the next row index and returns true; false when a unique set's share is used up. */
bool scn_cursor_next(scn_cursor *c, uint64_t *row);

/* Rows this cursor can still give out: UINT64_MAX unless the mode is unique. */
uint64_t scn_cursor_left(const scn_cursor *c);

#endif
