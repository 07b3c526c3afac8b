/* parity_int.h - parity internals shared by parity_cfg.c, parity_acc.c, parity.c and the
 * unit tests (names par__*). Not part of the public API. */
#ifndef CUTOVER_VERIFY_PARITY_INT_H
#define CUTOVER_VERIFY_PARITY_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/arena.h"
#include "scenario/scenario.h"
#include "scenario/template.h"
#include "verify/jdiff.h"
#include "verify/parity.h"

#define PAR_MAX_CONCURRENCY 1024
#define PAR_MAX_REQUESTS 1000000

/* ---- configuration (parity_cfg.c) ---------------------------------------------------------- */

typedef struct par_req {
    const char *name; /* route label: "name", else "METHOD url-template" */
    const char *method;
    scn_tpl url;
    const char **hnames;
    scn_tpl *hvals;
    size_t nh;
    bool has_body;
    bool json_body; /* body was a JSON value: Content-Type application/json unless set */
    scn_tpl body;
} par_req;

typedef struct par_cfg {
    scn_arena arena;                         /* owns everything below but jdiff_spec */
    const scn_endpoint *base, *cand, *base2; /* base2 == base with second_base_call */
    const uint32_t *over;
    size_t nover;
    uint64_t combos; /* product of the over sets' rows (1 without over) */
    par_req *reqs;
    size_t nreqs;
    uint64_t total; /* combos * nreqs */
    bool cmp_status;
    const char **cmp_headers; /* lower case */
    size_t ncmp_headers;
    const char **ignore_hvals; /* lower case */
    size_t nignore_hvals;
    json_t *jdiff_spec; /* owned: the jdiff keys of the section */
    double rel, abs;    /* percent */
    uint32_t concurrency;
    uint32_t max_examples;
    bool through_cache;
} par_cfg;

/* Checks and compiles s->parity into cfg (zeroed by the caller). Every problem goes to d (may
 * be NULL) as "file: /parity/...: message". Returns 0, CUT_EINVAL or CUT_ENOMEM; cfg must be
 * freed with par__cfg_free in every case. */
int par__cfg_build(const scn_scenario *s, par_cfg *cfg, scn_diags *d);
void par__cfg_free(par_cfg *cfg);

/* ---- results accumulator (parity_acc.c) ----------------------------------------------------- */

typedef struct par_acc par_acc;

/* nroutes route names are borrowed (must outlive acc). */
int par__acc_new(par_acc **out, uint32_t max_examples, const char *const *routes, size_t nroutes);
void par__acc_free(par_acc *a);

/* One request: begin, then any number of raw/noise differences, then end (or error). */
int par__acc_begin(par_acc *a, const char *label, size_t route);
/* A base-vs-candidate difference. Counted once per field per request; examples keep the
 * first max_examples occurrences. Excerpts may be NULL (absent side). */
int par__acc_raw(par_acc *a, jdiff_kind kind, const char *field, size_t field_len, const char *path,
                 size_t path_len, const char *base, const char *cand, bool truncated);
/* A base-vs-base2 difference in field. */
int par__acc_noise(par_acc *a, const char *field, size_t field_len);
int par__acc_end(par_acc *a, bool status_mismatch);
/* The request could not be compared (a side failed). */
int par__acc_error(par_acc *a, const char *label, size_t route, const char *side, const char *msg);
void par__acc_cached(par_acc *a);

/* Diffy's rule: reported when raw > noise and both thresholds (percent) are passed. */
bool par__reported(uint64_t raw, uint64_t noise, uint64_t total, double rel, double abs);

/* Builds the output object (see parity.h) from what was accumulated. */
int par__acc_result(par_acc *a, double rel, double abs, json_t **out, cut_err *err);

/* Compares one response pair's bodies into acc: JSON structurally through jd, else bytes.
 * noise: false = raw differences, true = noise (base vs base2). */
int par__cmp_bodies(par_acc *a, jdiff *jd, bool noise, const char *b1, size_t n1, const char *b2,
                    size_t n2, size_t excerpt, cut_err *err);

#endif
