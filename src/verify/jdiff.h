/* jdiff.h - structural diff of two JSON documents (a base and a candidate).
 *
 * Each difference has a kind, the concrete JSON pointer where it was found ("/data/3/total"),
 * a canonical "field" pointer with every array index replaced by a `*` segment (one field of
 * all elements counts as one across comparisons; an object key "*" looks the same), and
 * bounded compact-JSON excerpts of both sides. Kinds:
 *   value    same type (numbers: int and real alike), different value;
 *   type     different JSON types (true and false are one type, boolean);
 *   missing  present in base, absent in candidate (the whole subtree counts once);
 *   extra    present in candidate only; never reported when additions are allowed;
 *   length   arrays of different length, reported at the array, followed by the element
 *            differences (common prefix by index, then missing/extra per element); not
 *            reported when additions are allowed and the candidate is the longer;
 *   order    an index-compared array whose elements are the same multiset in another order
 *            (reported once, at the array, instead of per-index differences).
 *
 * Arrays compare by index unless a rule says otherwise for their path (rules are wildcard
 * pointers that must match the array's path exactly, segment for segment; the first rule
 * added wins): match_by pairs elements by the value at a pointer inside each element
 * (duplicates pair in order of appearance; elements without the key pair among themselves in
 * order; unpaired ones are missing/extra; paired differences use the base element's index),
 * unordered compares as multisets (unmatched elements are missing at their base index or
 * extra at their candidate index). Ignore rules are wildcard pointers whose whole subtree is
 * skipped (see jptr_matches). Numbers are equal when within the absolute or the relative
 * tolerance (|a-b| <= rel * max(|a|,|b|)).
 *
 * Cost: iterative (explicit stacks), so depth is limited by memory only; match_by sorts key
 * hashes (O(n log n)); unordered (and order detection) hashes elements, sorts the hashes and
 * confirms equal hashes by a full compare. Elements that can only be equal through tolerance
 * or allowed additions get a pairwise pass, skipped (they stay unmatched) above
 * JDIFF_PAIRWISE_BUDGET pairs per array. Under a tolerance numbers cannot hash by value, so
 * after JDIFF_PAIRWISE_BUDGET failed tries an element is tried against one candidate only
 * (an unordered array of 100k numbers with a tolerance may report false missing/extra).
 *
 * Memory: jdiff_opts and jdiff are created with an out-param and freed by their _free. A
 * jdiff borrows its opts (they must outlive it and not change while it is used; several
 * jdiff may share one). A jdiff owns its results; the strings of a jdiff_item stay valid
 * until the next jdiff_compare, jdiff_reset or jdiff_free. Buffers are kept across
 * comparisons, so after warm-up a comparison allocates only inside jansson's dump (excerpts).
 * A jdiff is for one thread at a time.
 *
 * Errors: CUT_EINVAL for bad arguments and bad pointers (message names the pointer),
 * CUT_ENOMEM, CUT_ERANGE when unordered arrays nest deeper than JDIFF_MAX_NEST. */
#ifndef CUTOVER_VERIFY_JDIFF_H
#define CUTOVER_VERIFY_JDIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef enum jdiff_kind {
    JDIFF_VALUE,
    JDIFF_TYPE,
    JDIFF_MISSING,
    JDIFF_EXTRA,
    JDIFF_LENGTH,
    JDIFF_ORDER,
} jdiff_kind;
#define JDIFF_NKINDS 6

#define JDIFF_DEFAULT_MAX_DETAILS 100
#define JDIFF_DEFAULT_EXCERPT 256
#define JDIFF_PAIRWISE_BUDGET 1000000
#define JDIFF_MAX_NEST 64

/* "value", "type", "missing", "extra", "length", "order" ("?" otherwise). */
const char *jdiff_kind_name(jdiff_kind k);

typedef struct jdiff_opts jdiff_opts;

int jdiff_opts_new(jdiff_opts **out, cut_err *err);
void jdiff_opts_free(jdiff_opts *o);
/* Skips the subtree of every node the (wildcard) pointer matches. */
int jdiff_opts_ignore(jdiff_opts *o, const char *pointer, cut_err *err);
/* Arrays at array_path pair their elements by the value at key_pointer (no wildcards). */
int jdiff_opts_match_by(jdiff_opts *o, const char *array_path, const char *key_pointer,
                        cut_err *err);
/* Arrays at array_path compare as multisets. */
int jdiff_opts_unordered(jdiff_opts *o, const char *array_path, cut_err *err);
/* Both >= 0 and finite; 0 and 0 (the default) means exact. */
int jdiff_opts_tolerance(jdiff_opts *o, double abs_tol, double rel_tol, cut_err *err);
/* When allowed, `extra` differences (and `length` where the candidate is longer) are not
 * reported: additions are a backward-compatible change. Default: reported. */
void jdiff_opts_allow_additions(jdiff_opts *o, bool allow);
/* Details kept per comparison (all differences are still counted). 0 keeps none. */
void jdiff_opts_max_details(jdiff_opts *o, size_t n);
/* Bytes of compact JSON kept per excerpt (at least 8); longer ones are cut at a UTF-8
 * boundary and flagged truncated. */
int jdiff_opts_excerpt_max(jdiff_opts *o, size_t bytes, cut_err *err);

/* Builds options from a parity-style object; unknown top-level keys are left to the caller:
 *   {"ignore": ["/metadata", "/data/0/ts"], "additions": "allow" | "report",
 *    "tolerance": {"abs": 0.001, "rel": 1e-9},
 *    "arrays": {"/data": {"match_by": "/id"}, "/tags": {"unordered": true}},
 *    "max_details": 100, "excerpt_bytes": 256}
 * (pointers may hold `*` segments). Error messages start with the JSON pointer of the bad field
 * inside spec ("/ignore/2: ..."), so callers can prefix the file and the spec's own pointer. */
int jdiff_opts_from_json(const json_t *spec, jdiff_opts **out, cut_err *err);

typedef struct jdiff jdiff;

int jdiff_new(const jdiff_opts *opts, jdiff **out, cut_err *err);
void jdiff_free(jdiff *d);

/* Compares base with cand, replacing the previous results. Either may be NULL, meaning
 * absent (a NULL base against a document is one `extra` at ""). On error the results hold
 * what was found so far. */
int jdiff_compare(jdiff *d, const json_t *base, const json_t *cand, cut_err *err);
/* Clears the results, keeping the buffers. */
void jdiff_reset(jdiff *d);

typedef struct jdiff_summary {
    size_t total;                 /* differences found */
    size_t by_kind[JDIFF_NKINDS]; /* the same, per kind */
    size_t details;               /* kept, <= max_details */
} jdiff_summary;

/* Valid until the next jdiff_compare, jdiff_reset or jdiff_free. */
const jdiff_summary *jdiff_result(const jdiff *d);

typedef struct jdiff_item {
    jdiff_kind kind;
    const char *path; /* concrete JSON pointer; may hold NUL bytes from hostile keys */
    size_t path_len;
    const char *field; /* path with array indexes replaced by "*" */
    size_t field_len;
    const char *base; /* compact JSON excerpt, NULL when the base side is absent */
    const char *cand; /* same for the candidate */
    bool base_truncated;
    bool cand_truncated;
} jdiff_item;

/* Fills *out with detail i (0 <= i < details) and returns true, false past the end. */
bool jdiff_get(const jdiff *d, size_t i, jdiff_item *out);

#endif
