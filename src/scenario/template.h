/* template.h - `{{name}}` templates, compiled once, expanded without allocation.
 *
 * Syntax: `{{name}}` or `{{set.column}}` inserts a variable (spaces inside the braces
 * are ignored); `\{{` is a literal `{{`; every other character, `}}` included, is
 * literal. `${ENV}` is not template syntax: the loader expands it earlier.
 *
 * A compiled scn_tpl is a list of segments (literal text or a variable slot). A slot is
 * an index into the scenario's variable table (scn_scenario.vars); expansion takes a
 * binding, an array indexed by that slot number giving each variable's current value.
 *
 * Memory: scn_tpl_compile allocates the segments and the literal text from the given
 * arena; the template lives as long as the arena. Expansion writes only into the
 * caller's buffer. Compiled templates are immutable: any number of threads may expand
 * the same template at once. */
#ifndef CUTOVER_SCENARIO_TEMPLATE_H
#define CUTOVER_SCENARIO_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/arena.h"
#include "util/err.h"

/* A borrowed byte string (not necessarily NUL-terminated). */
typedef struct scn_value {
    const char *ptr;
    size_t len;
} scn_value;

typedef enum scn_seg_kind {
    SCN_SEG_LITERAL = 0,
    SCN_SEG_VAR = 1,
} scn_seg_kind;

/* How a variable's value is written. */
typedef enum scn_enc {
    SCN_ENC_RAW = 0,  /* as is (URLs, headers, Redis arguments, SQL parameters, checks) */
    SCN_ENC_JSON = 1, /* escaped for the inside of a JSON string (bodies given as JSON) */
} scn_enc;

typedef struct scn_seg {
    uint8_t kind;     /* scn_seg_kind */
    uint8_t enc;      /* scn_enc, for SCN_SEG_VAR */
    uint32_t var;     /* SCN_SEG_VAR: slot in the variable table */
    const char *text; /* SCN_SEG_LITERAL: the bytes (not NUL-terminated) */
    size_t len;
} scn_seg;

typedef struct scn_tpl {
    const scn_seg *segs;
    uint32_t nsegs;
    bool literal;     /* no variable slot: `text`/`len` is the whole expansion */
    const char *text; /* literal templates: the NUL-terminated expansion; else NULL */
    size_t len;
    size_t fixed_len; /* bytes contributed by literal segments */
} scn_tpl;

/* The variables a template may name, for compilation. `names[i]` is slot i.
 * `open_prefixes` lists data-set names whose columns are unknown (their CSV could not be
 * read): "set.anything" is then accepted (as slot 0) without a second error. */
typedef struct scn_tpl_vars {
    const char *const *names;
    size_t count;
    const char *const *open_prefixes;
    size_t nopen;
} scn_tpl_vars;

/* Compiles text[0..len) into *out. Variables are written with `enc`. Errors:
 * CUT_EINVAL (unknown variable, with the known names and the nearest one; empty name;
 * unterminated `{{`), CUT_ENOMEM. The message never quotes the text itself, only
 * variable names, so secrets in literal parts stay out of diagnostics. */
int scn_tpl_compile(scn_arena *a, const char *text, size_t len, const scn_tpl_vars *vars,
                    scn_enc enc, scn_tpl *out, cut_err *err);

/* Makes a literal template of text (no parsing). */
int scn_tpl_literal(scn_arena *a, const char *text, size_t len, scn_tpl *out);

/* True when the template uses slot `var`. */
bool scn_tpl_uses(const scn_tpl *t, uint32_t var);

/* Length of the expansion (without NUL) for this binding. */
size_t scn_tpl_length(const scn_tpl *t, const scn_value *binding);

/* Expands into buf (capacity cap, NUL-terminated). binding[slot] gives each used
 * variable's value (NULL ptr = empty). *out_len (may be NULL) receives the length
 * without the NUL. Returns 0, or CUT_ERANGE when cap < length + 1: then *out_len is the
 * length needed (without NUL) and buf holds nothing useful. */
int scn_tpl_expand(const scn_tpl *t, const scn_value *binding, char *buf, size_t cap,
                   size_t *out_len);

#endif
