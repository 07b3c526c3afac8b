/* datacheck_int.h - data check internals shared by datacheck_cfg.c, datacheck_cmp.c,
 * datacheck.c and the unit tests (names dck__*). Not part of the public API. */
#ifndef CUTOVER_VERIFY_DATACHECK_INT_H
#define CUTOVER_VERIFY_DATACHECK_INT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/arena.h"
#include "util/jptr.h"
#include "verify/datacheck.h"
#include "verify/jdiff.h"

typedef enum dck_mode { DCK_COUNT = 0, DCK_SAMPLE = 1, DCK_FULL = 2 } dck_mode;

typedef struct dck_field {
    const char *name;   /* Redis top-level name, or a pointer ("/metadata/pages") */
    jptr *rptr;         /* compiled name when it is a pointer, else NULL */
    const char *column; /* PostgreSQL column */
    jptr *cptr;         /* pointer inside a json/jsonb column, or NULL */
} dck_field;

typedef struct dck_check {
    const char *name;
    const scn_endpoint *redis, *pg;
    const char *match;
    bool hash;
    uint32_t scan_count;
    const char *prefix, *suffix; /* key pattern around {id} */
    size_t plen, slen;
    const char *keycol;
    const char *sql_count, *sql_rows, *sql_sample, *sql_first, *sql_next;
    dck_field *fields;
    size_t nfields;
    const char **ignore_top; /* top-level names never compared */
    size_t nignore_top;
    json_t *jdiff_spec; /* owned */
    bool compare_all, coerce, dedup;
    dck_mode mode;
    uint64_t sample, reverse_sample, seed;
    uint32_t batch, max_examples, max_keys, recheck_max;
} dck_check;

typedef struct dck_cfg {
    scn_arena arena;
    dck_check *checks;
    size_t n;
} dck_cfg;

/* Checks and compiles s->data_checks (cfg zeroed by the caller; free it in every case).
 * Returns 0, CUT_EINVAL (diagnostics in d) or CUT_ENOMEM. */
int dck__cfg_build(const scn_scenario *s, dck_cfg *cfg, scn_diags *d);
void dck__cfg_free(dck_cfg *cfg);

/* The id inside a Redis key (borrowed, *n bytes), or NULL when the key does not fit the
 * pattern or the id is empty, holds a NUL or is not UTF-8. */
const char *dck__key_id(const dck_check *c, const char *key, size_t klen, size_t *n);

/* One PostgreSQL result row as {column: value} from column `from` on (see datacheck.h for
 * the types). A new reference or NULL (out of memory). */
json_t *dck__row_json(const PGresult *res, int row, int from);

/* The two sides of one key, built for jdiff: *a from the Redis value, *b from the row (the
 * same names; new references). Applies compare/fields/ignore/coerce. */
int dck__sides(const dck_check *c, const json_t *value, const json_t *row, json_t **a, json_t **b);

/* The field (top-level name of a jdiff path) a difference belongs to, unescaped into buf. */
const char *dck__path_field(const char *path, size_t len, char *buf, size_t cap);

#endif
