/* internal.h - what the files of src/scenario share while loading (not for other modules).
 *
 * A scn__ctx carries the file name, the diagnostics list and the model's arena through
 * the loader. Every scn__get_* helper reads one member of a JSON object, reports any
 * problem itself as "file: /pointer: message", and returns 1 (present and valid),
 * 0 (absent; *out untouched) or -1 (present but invalid, already reported). */
#ifndef CUTOVER_SCENARIO_INTERNAL_H
#define CUTOVER_SCENARIO_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/arena.h"
#include "scenario/diag.h"

#define SCN__PTR_MAX 256

typedef struct scn__ctx {
    const char *file; /* as the user named it, for messages */
    scn_diags *diags;
    scn_arena *arena;
    size_t errors; /* semantic errors reported so far */
} scn__ctx;

/* Reports "file: ptr: message" ("file: message" when ptr is NULL; "/" is the root). */
void scn__err(scn__ctx *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* JSON pointer of a member or element of the node at base (RFC 6901 escapes). */
void scn__ptr_key(char out[SCN__PTR_MAX], const char *base, const char *key);
void scn__ptr_idx(char out[SCN__PTR_MAX], const char *base, size_t idx);

/* Type name for messages: "an object", "a string", ... */
const char *scn__type_name(const json_t *v);

/* Reports every key of obj not in allowed[] (with the nearest allowed key and the list).
 * Returns false when one was found. */
bool scn__check_keys(scn__ctx *c, const char *ptr, const json_t *obj, const char *const *allowed,
                     size_t n);

/* Reports unless v is an object (array); returns whether it is. */
bool scn__want_object(scn__ctx *c, const char *ptr, const json_t *v);
bool scn__want_array(scn__ctx *c, const char *ptr, const json_t *v);

int scn__get_str(scn__ctx *c, const json_t *obj, const char *ptr, const char *key,
                 const char **out);
int scn__get_bool(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, bool *out);
/* An integer in [min, max]. */
int scn__get_int(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, int64_t min,
                 int64_t max, int64_t *out);
/* A finite number > 0 (or >= 0 when allow_zero). */
int scn__get_number(scn__ctx *c, const json_t *obj, const char *ptr, const char *key,
                    bool allow_zero, double *out);
/* A duration string ("250ms", "1.5s") in ns; must be > 0 unless allow_zero. */
int scn__get_duration(scn__ctx *c, const json_t *obj, const char *ptr, const char *key,
                      bool allow_zero, int64_t *out);
/* A list of non-empty strings copied into the arena; an empty list is allowed. */
int scn__get_str_list(scn__ctx *c, const json_t *obj, const char *ptr, const char *key, char ***out,
                      size_t *n);

/* Expands ${NAME}, ${NAME:-default} and $${ in every string value of root, in place.
 * Reports unset variables and malformed references with their pointer. Values are
 * never echoed. Returns false when something was reported or memory ran out. */
bool scn__env_expand(scn__ctx *c, json_t *root);

/* ---- The loader's state, shared by load.c, endpoint.c, step.c and phase.c --------------- */

struct scn_scenario;
struct scn_endpoint;
struct scn_data;
struct scn_var;
struct scn_step;
struct scn_phase;
struct scn_check;
struct scn_status_range;
struct sched_pick;

typedef struct scn__loader {
    scn__ctx c;
    struct scn_scenario *s;
    /* Mutable views of the model's arrays while it is being built. */
    struct scn_endpoint *endpoints;
    bool *endpoint_ok; /* false: the endpoint had errors (already reported) */
    int *ep_type;      /* scn_endpoint_type, or -1 when the type itself was bad */
    size_t nendpoints;
    struct scn_data *data;
    bool *data_ok;
    size_t ndata;
    struct scn_var *vars;
    const char **var_names;
    size_t nvars;
    const char **open_sets; /* CSV sets that could not be read: columns unknown */
    size_t nopen;
    struct scn_step *steps;
    bool *step_ok;
    size_t nsteps;
    const char **step_names;
    struct scn_phase *phases;
    size_t nphases;
} scn__loader;

/* Names allowed for endpoints, data sets, steps and phases: [A-Za-z0-9_-]+, and for data
 * sets (they are variable names) starting with a letter or '_'. */
bool scn__name_ok(const char *name, bool variable);

/* Parses /endpoints into L->endpoints (every name and type is recorded even when the rest
 * of an endpoint is invalid, so steps referring to it give no second error). */
void scn__load_endpoints(scn__loader *L, json_t *endpoints);

/* Parses one step object at ptr into out (name given). Actions pass is_action. */
void scn__load_step(scn__loader *L, json_t *spec, const char *ptr, const char *name,
                    struct scn_step *out, bool *ok);

/* Parses the expect_status list at ptr/key (1 present, 0 absent, -1 reported). */
int scn__load_expect(scn__loader *L, const json_t *obj, const char *ptr, const char *key,
                     const struct scn_status_range **out, size_t *n);

/* Parses /phases. */
void scn__load_phases(scn__loader *L, json_t *phases);

/* Registers an owned alias table / compiled regex with the scenario (false: no memory). */
bool scn__own_pick(scn__loader *L, struct sched_pick *p);
bool scn__own_regex(scn__loader *L, struct scn_check *chk);

/* Index of a name in names[0..n), or -1; on a miss, reports "unknown <what> \"x\""
 * with the nearest name and the known ones at ptr (when report). */
long scn__resolve(scn__loader *L, const char *ptr, const char *what, const char *name,
                  const char *const *names, size_t n, bool report);

#endif
