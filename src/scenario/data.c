/* data.c - reading rows of data sets and the per-thread cursors (data.h). */
#include "scenario/data.h"

#include <string.h>

int32_t scn_data_column(const scn_data *d, const char *name)
{
    if (d->kind != SCN_DATA_CSV) return -1;
    for (uint32_t i = 0; i < d->ncols; i++)
        if (strcmp(d->columns[i], name) == 0) return (int32_t)i;
    return -1;
}

/* Decimal form of x into scratch (SCN_SCRATCH bytes); returns the length. */
static size_t format_i64(int64_t x, char *scratch)
{
    char tmp[SCN_SCRATCH];
    size_t n = 0;
    uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (x < 0) scratch[len++] = '-';
    while (n)
        scratch[len++] = tmp[--n];
    scratch[len] = '\0';
    return len;
}

int scn_data_value(const scn_data *d, uint64_t row, int32_t column, char *scratch, scn_value *out)
{
    if (row >= d->rows) return CUT_ERANGE;
    switch (d->kind) {
    case SCN_DATA_VALUES:
        if (column != SCN_KEY_COLUMN && column != 0) return CUT_ERANGE;
        *out = d->values[row];
        return 0;
    case SCN_DATA_RANGE:
        if (column != SCN_KEY_COLUMN && column != 0) return CUT_ERANGE;
        out->ptr = scratch;
        out->len = format_i64((int64_t)((uint64_t)d->lo + row), scratch);
        return 0;
    case SCN_DATA_CSV: {
        uint32_t col = column == SCN_KEY_COLUMN ? d->key_column : (uint32_t)column;
        if (column < SCN_KEY_COLUMN || col >= d->ncols) return CUT_ERANGE;
        const scn_cell *cell = &d->cells[row * d->ncols + col];
        out->ptr = d->text + cell->off;
        out->len = cell->len;
        return 0;
    }
    }
    return CUT_ERANGE;
}

void scn_cursor_init(scn_cursor *c, const scn_data *d, uint32_t thread, uint32_t n_threads)
{
    memset(c, 0, sizeof *c);
    if (n_threads == 0) n_threads = 1;
    c->mode = (uint8_t)d->mode;
    c->rows = d->rows;
    switch (d->mode) {
    case SCN_MODE_SEQUENTIAL:
        c->pos = d->rows ? thread % d->rows : 0;
        c->step = d->rows ? n_threads % d->rows : 0;
        break;
    case SCN_MODE_RANDOM:
        sched_rng_seed(&c->rng, sched_seed_for(d->seed, ((uint64_t)d->index << 32) | thread));
        break;
    case SCN_MODE_UNIQUE:
        c->part = sched_part_rows(d->rows, n_threads, thread);
        break;
    }
}

bool scn_cursor_next(scn_cursor *c, uint64_t *row)
{
    if (c->rows == 0) return false;
    switch (c->mode) {
    case SCN_MODE_SEQUENTIAL:
        *row = c->pos;
        /* pos + step < 2 * rows: no overflow as long as rows <= 2^63. */
        c->pos += c->step;
        if (c->pos >= c->rows) c->pos -= c->rows;
        return true;
    case SCN_MODE_RANDOM:
        *row = sched_rng_below(&c->rng, c->rows);
        return true;
    case SCN_MODE_UNIQUE:
        if (c->pos >= c->part.count) return false;
        *row = sched_part_index(&c->part, c->pos++);
        return true;
    }
    return false;
}

uint64_t scn_cursor_left(const scn_cursor *c)
{
    if (c->mode != SCN_MODE_UNIQUE) return UINT64_MAX;
    return c->part.count - c->pos;
}
