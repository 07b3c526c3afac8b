#include "verify/jdiff.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jptr.h"

#define NONE SIZE_MAX

/* --- options ------------------------------------------------------------------------ */

enum { MODE_INDEX, MODE_MATCH_BY, MODE_UNORDERED };

typedef struct arr_rule {
    jptr *path;
    jptr *key; /* MODE_MATCH_BY */
    int mode;
} arr_rule;

struct jdiff_opts {
    jptr **ignore;
    size_t nignore, capignore;
    arr_rule *arrays;
    size_t narrays, caparrays;
    double abs_tol, rel_tol;
    bool allow_additions;
    size_t max_details;
    size_t excerpt_max;
};

int jdiff_opts_new(jdiff_opts **out, cut_err *err)
{
    if (!out) return cut_err_set(err, CUT_EINVAL, "jdiff_opts_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return cut_err_set(err, CUT_ENOMEM, "out of memory creating diff options");
    (*out)->max_details = JDIFF_DEFAULT_MAX_DETAILS;
    (*out)->excerpt_max = JDIFF_DEFAULT_EXCERPT;
    return 0;
}

void jdiff_opts_free(jdiff_opts *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->nignore; i++)
        jptr_free(o->ignore[i]);
    for (size_t i = 0; i < o->narrays; i++) {
        jptr_free(o->arrays[i].path);
        jptr_free(o->arrays[i].key);
    }
    free(o->ignore);
    free(o->arrays);
    free(o);
}

/* Grows *v (elements of size sz) so that it holds at least need; 0 or CUT_ENOMEM. */
static int grow(void **v, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / sz) return CUT_ENOMEM;
        c *= 2;
    }
    void *p = realloc(*v, c * sz);
    if (!p) return CUT_ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

#define GROW(v, cap, need) grow((void **)&(v), &(cap), (need), sizeof *(v))

int jdiff_opts_ignore(jdiff_opts *o, const char *pointer, cut_err *err)
{
    jptr *p = NULL;
    if (!o) return cut_err_set(err, CUT_EINVAL, "jdiff_opts_ignore: options are NULL");
    int rc = jptr_compile(pointer, &p, err);
    if (rc) return rc;
    if (GROW(o->ignore, o->capignore, o->nignore + 1)) {
        jptr_free(p);
        return cut_err_set(err, CUT_ENOMEM, "out of memory adding an ignore rule");
    }
    o->ignore[o->nignore++] = p;
    return 0;
}

static int add_array_rule(jdiff_opts *o, const char *path, const char *key, int mode, cut_err *err)
{
    arr_rule r = {.mode = mode};
    int rc;
    if (!o) return cut_err_set(err, CUT_EINVAL, "jdiff: options are NULL");
    rc = jptr_compile(path, &r.path, err);
    if (rc) goto fail;
    if (mode == MODE_MATCH_BY) {
        rc = jptr_compile(key, &r.key, err);
        if (rc) goto fail;
        if (jptr_is_wild(r.key)) {
            rc = cut_err_set(err, CUT_EINVAL, "match_by pointer \"%s\" must not hold '*'",
                             jptr_text(r.key));
            goto fail;
        }
    }
    if (GROW(o->arrays, o->caparrays, o->narrays + 1)) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory adding an array rule");
        goto fail;
    }
    o->arrays[o->narrays++] = r;
    return 0;
fail:
    jptr_free(r.path);
    jptr_free(r.key);
    return rc;
}

int jdiff_opts_match_by(jdiff_opts *o, const char *array_path, const char *key_pointer,
                        cut_err *err)
{
    return add_array_rule(o, array_path, key_pointer, MODE_MATCH_BY, err);
}

int jdiff_opts_unordered(jdiff_opts *o, const char *array_path, cut_err *err)
{
    return add_array_rule(o, array_path, NULL, MODE_UNORDERED, err);
}

int jdiff_opts_tolerance(jdiff_opts *o, double abs_tol, double rel_tol, cut_err *err)
{
    if (!o) return cut_err_set(err, CUT_EINVAL, "jdiff_opts_tolerance: options are NULL");
    if (!(abs_tol >= 0 && isfinite(abs_tol)) || !(rel_tol >= 0 && isfinite(rel_tol)))
        return cut_err_set(err, CUT_EINVAL, "tolerance must be finite and >= 0");
    o->abs_tol = abs_tol;
    o->rel_tol = rel_tol;
    return 0;
}

void jdiff_opts_allow_additions(jdiff_opts *o, bool allow)
{
    if (o) o->allow_additions = allow;
}

void jdiff_opts_max_details(jdiff_opts *o, size_t n)
{
    if (o) o->max_details = n;
}

int jdiff_opts_excerpt_max(jdiff_opts *o, size_t bytes, cut_err *err)
{
    if (!o) return cut_err_set(err, CUT_EINVAL, "jdiff_opts_excerpt_max: options are NULL");
    if (bytes < 8 || bytes > (1u << 24))
        return cut_err_set(err, CUT_EINVAL, "excerpt size %zu out of range [8, 16M]", bytes);
    o->excerpt_max = bytes;
    return 0;
}

/* Checks that obj holds only the listed keys; names the first stranger. */
static int only_keys(const json_t *obj, const char *where, const char *const *keys, cut_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (size_t i = 0; keys[i] && !ok; i++)
            ok = strcmp(k, keys[i]) == 0;
        if (!ok) return cut_err_set(err, CUT_EINVAL, "%s: unknown key \"%.100s\"", where, k);
    }
    return 0;
}

static int size_field(const json_t *spec, const char *key, size_t *out, cut_err *err)
{
    json_t *v = json_object_get(spec, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cut_err_set(err, CUT_EINVAL, "/%s: must be an integer >= 0", key);
    *out = (size_t)json_integer_value(v);
    return 0;
}

int jdiff_opts_from_json(const json_t *spec, jdiff_opts **out, cut_err *err)
{
    jdiff_opts *o = NULL;
    int rc;
    char where[320];
    if (!out) return cut_err_set(err, CUT_EINVAL, "jdiff_opts_from_json: out is NULL");
    *out = NULL;
    if (!json_is_object(spec)) return cut_err_set(err, CUT_EINVAL, ": must be an object");
    rc = jdiff_opts_new(&o, err);
    if (rc) goto fail;

    json_t *ign = json_object_get(spec, "ignore");
    if (ign && !json_is_array(ign)) {
        rc = cut_err_set(err, CUT_EINVAL, "/ignore: must be an array of JSON pointers");
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ign, i, v)
    {
        if (!json_is_string(v)) {
            rc = cut_err_set(err, CUT_EINVAL, "/ignore/%zu: must be a string", i);
            goto fail;
        }
        rc = jdiff_opts_ignore(o, json_string_value(v), err);
        if (rc) {
            cut_err_prefix(err, "/ignore/%zu: ", i);
            goto fail;
        }
    }

    json_t *add = json_object_get(spec, "additions");
    if (add) {
        const char *s = json_string_value(add);
        if (s && strcmp(s, "allow") == 0) {
            o->allow_additions = true;
        } else if (!s || strcmp(s, "report") != 0) {
            rc = cut_err_set(err, CUT_EINVAL, "/additions: must be \"allow\" or \"report\"");
            goto fail;
        }
    }

    json_t *tol = json_object_get(spec, "tolerance");
    if (tol) {
        static const char *const tk[] = {"abs", "rel", NULL};
        if (!json_is_object(tol)) {
            rc = cut_err_set(err, CUT_EINVAL, "/tolerance: must be an object");
            goto fail;
        }
        rc = only_keys(tol, "/tolerance", tk, err);
        if (rc) goto fail;
        double t[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            json_t *x = json_object_get(tol, tk[k]);
            if (!x) continue;
            if (!json_is_number(x) || !(json_number_value(x) >= 0)) {
                rc = cut_err_set(err, CUT_EINVAL, "/tolerance/%s: must be a number >= 0", tk[k]);
                goto fail;
            }
            t[k] = json_number_value(x);
        }
        rc = jdiff_opts_tolerance(o, t[0], t[1], err);
        if (rc) goto fail;
    }

    json_t *arrs = json_object_get(spec, "arrays");
    if (arrs && !json_is_object(arrs)) {
        rc = cut_err_set(err, CUT_EINVAL, "/arrays: must be an object keyed by array pointer");
        goto fail;
    }
    const char *path;
    json_object_foreach(arrs, path, v)
    {
        static const char *const ak[] = {"match_by", "unordered", NULL};
        char esc[256];
        jptr_escape(esc, sizeof esc, path, strlen(path));
        snprintf(where, sizeof where, "/arrays%s", esc);
        if (!json_is_object(v)) {
            rc = cut_err_set(err, CUT_EINVAL, "%s: must be an object", where);
            goto fail;
        }
        rc = only_keys(v, where, ak, err);
        if (rc) goto fail;
        json_t *mb = json_object_get(v, "match_by");
        json_t *un = json_object_get(v, "unordered");
        if ((mb != NULL) == (un != NULL)) {
            rc =
                cut_err_set(err, CUT_EINVAL, "%s: needs exactly one of match_by, unordered", where);
            goto fail;
        }
        if (mb && !json_is_string(mb)) {
            rc = cut_err_set(err, CUT_EINVAL, "%s/match_by: must be a JSON pointer", where);
            goto fail;
        }
        if (un && !json_is_true(un)) {
            rc = cut_err_set(err, CUT_EINVAL, "%s/unordered: must be true", where);
            goto fail;
        }
        rc = mb ? jdiff_opts_match_by(o, path, json_string_value(mb), err)
                : jdiff_opts_unordered(o, path, err);
        if (rc) {
            cut_err_prefix(err, "%s: ", where);
            goto fail;
        }
    }

    rc = size_field(spec, "max_details", &o->max_details, err);
    if (rc) goto fail;
    size_t ex = o->excerpt_max;
    rc = size_field(spec, "excerpt_bytes", &ex, err);
    if (rc) goto fail;
    rc = jdiff_opts_excerpt_max(o, ex, err);
    if (rc) {
        cut_err_prefix(err, "/excerpt_bytes: ");
        goto fail;
    }
    *out = o;
    return 0;
fail:
    jdiff_opts_free(o);
    return rc;
}

const char *jdiff_kind_name(jdiff_kind k)
{
    static const char *const names[JDIFF_NKINDS] = {"value", "type",   "missing",
                                                    "extra", "length", "order"};
    return (unsigned)k < JDIFF_NKINDS ? names[k] : "?";
}

/* --- the diff context --------------------------------------------------------------- */

enum { F_OBJ, F_IDX, F_PAIRS };

/* One container being walked on a level's explicit stack. */
typedef struct frame {
    json_t *b, *c;
    void *iter;        /* F_OBJ: next key of b (phase 0) or c (phase 1) */
    size_t i, n;       /* F_IDX, F_PAIRS: next position and end */
    size_t poff;       /* F_PAIRS: first pair in the level's pool */
    size_t plen, clen; /* path and field lengths of this container */
    size_t depth;      /* segments in the container's path */
    unsigned char kind, phase;
} frame;

/* A container being hashed. */
typedef struct hframe {
    json_t *v;
    void *iter;
    size_t i, plen, depth;
    uint64_t acc, keyh; /* keyh: key of the child being hashed beneath */
} hframe;

typedef struct pair {
    size_t b, c; /* NONE on the absent side */
} pair;

typedef struct ent {
    uint64_t h;
    size_t idx;
    size_t side; /* 0 base, 1 candidate */
} ent;

/* Level 0 is the reported comparison; level k+1 holds the yes/no probes that level k's
 * multiset matching and order detection run. Each level owns its buffers. */
typedef struct level {
    frame *st;
    size_t nst, capst;
    hframe *hs;
    size_t caphs;
    pair *pairs;
    size_t npairs, cappairs;
    ent *ents;
    size_t capents;
    size_t *tmp; /* per element: partner index or NONE */
    size_t captmp;
    jptr_buf path, field;
    bool probe, differs;
} level;

typedef struct rec {
    jdiff_kind kind;
    size_t path, path_len, field, field_len;
    size_t base, cand; /* arena offsets, NONE when absent */
    bool btr, ctr;
} rec;

struct jdiff {
    const jdiff_opts *o;
    level *lv[JDIFF_MAX_NEST + 1];
    jdiff_summary sum;
    rec *recs;
    size_t caprecs;
    char *arena;
    size_t alen, acap;
    cut_err *err;
};

int jdiff_new(const jdiff_opts *opts, jdiff **out, cut_err *err)
{
    if (!out || !opts) return cut_err_set(err, CUT_EINVAL, "jdiff_new: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out) return cut_err_set(err, CUT_ENOMEM, "out of memory creating a diff context");
    (*out)->o = opts;
    return 0;
}

void jdiff_free(jdiff *d)
{
    if (!d) return;
    for (size_t i = 0; i <= JDIFF_MAX_NEST; i++) {
        level *L = d->lv[i];
        if (!L) continue;
        free(L->st);
        free(L->hs);
        free(L->pairs);
        free(L->ents);
        free(L->tmp);
        jptr_buf_free(&L->path);
        jptr_buf_free(&L->field);
        free(L);
    }
    free(d->recs);
    free(d->arena);
    free(d);
}

void jdiff_reset(jdiff *d)
{
    if (!d) return;
    memset(&d->sum, 0, sizeof d->sum);
    d->alen = 0;
}

const jdiff_summary *jdiff_result(const jdiff *d)
{
    return &d->sum;
}

bool jdiff_get(const jdiff *d, size_t i, jdiff_item *out)
{
    if (!d || !out || i >= d->sum.details) return false;
    const rec *r = &d->recs[i];
    out->kind = r->kind;
    out->path = d->arena + r->path;
    out->path_len = r->path_len;
    out->field = d->arena + r->field;
    out->field_len = r->field_len;
    out->base = r->base == NONE ? NULL : d->arena + r->base;
    out->cand = r->cand == NONE ? NULL : d->arena + r->cand;
    out->base_truncated = r->btr;
    out->cand_truncated = r->ctr;
    return true;
}

static int nomem(jdiff *d)
{
    return cut_err_set(d->err, CUT_ENOMEM, "out of memory while diffing JSON");
}

static int get_level(jdiff *d, size_t k, level **out)
{
    if (k > JDIFF_MAX_NEST)
        return cut_err_set(d->err, CUT_ERANGE, "unordered arrays nest deeper than %d levels",
                           JDIFF_MAX_NEST);
    if (!d->lv[k]) {
        d->lv[k] = calloc(1, sizeof(level));
        if (!d->lv[k]) return nomem(d);
    }
    *out = d->lv[k];
    return 0;
}

/* --- results ------------------------------------------------------------------------ */

/* Appends n bytes plus a NUL to the arena; *off gets their offset. */
static int arena_put(jdiff *d, const char *s, size_t n, size_t *off)
{
    if (GROW(d->arena, d->acap, d->alen + n + 1)) return nomem(d);
    *off = d->alen;
    if (n) memcpy(d->arena + d->alen, s, n);
    d->arena[d->alen + n] = '\0';
    d->alen += n + 1;
    return 0;
}

typedef struct excerpt {
    jdiff *d;
    size_t max, len; /* bytes written so far */
    bool truncated, oom;
} excerpt;

/* json_dump_callback sink: appends to the arena until max, then stops the dump (jansson
 * unwinds at once, so even a 2048-deep value is dumped only max levels deep). */
static int excerpt_cb(const char *buf, size_t size, void *data)
{
    excerpt *x = data;
    jdiff *d = x->d;
    size_t room = x->max - x->len;
    size_t n = size < room ? size : room;
    if (GROW(d->arena, d->acap, d->alen + n + 1)) {
        x->oom = true;
        return -1;
    }
    memcpy(d->arena + d->alen, buf, n);
    d->alen += n;
    x->len += n;
    if (n < size) {
        x->truncated = true;
        return -1;
    }
    return 0;
}

static int put_excerpt(jdiff *d, const json_t *v, size_t *off, bool *truncated)
{
    excerpt x = {.d = d, .max = d->o->excerpt_max};
    *off = d->alen;
    if (json_dump_callback(v, excerpt_cb, &x, JSON_COMPACT | JSON_ENCODE_ANY) != 0 &&
        !x.truncated) {
        if (x.oom) return nomem(d);
        x.truncated = true; /* jansson refused (e.g. out of memory): keep what we have */
    }
    if (x.truncated && x.len > 0) {
        /* Do not leave half a UTF-8 sequence: drop a trailing lead byte and its
         * continuation bytes unless the sequence is complete. */
        size_t end = *off + x.len, k = end;
        while (k > *off && ((unsigned char)d->arena[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > *off && ((unsigned char)d->arena[k - 1] & 0x80)) {
            unsigned char lead = (unsigned char)d->arena[k - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (end - (k - 1) < want) x.len = k - 1 - *off;
        }
        d->alen = *off + x.len;
    }
    if (GROW(d->arena, d->acap, d->alen + 1)) return nomem(d);
    d->arena[d->alen++] = '\0';
    *truncated = x.truncated;
    return 0;
}

/* Counts a difference at L's current path; records it while under the cap. In a probe it
 * only marks the level as differing (the walk then stops). */
static int report(jdiff *d, level *L, jdiff_kind kind, const json_t *b, const json_t *c)
{
    if (L->probe) {
        L->differs = true;
        return 0;
    }
    d->sum.total++;
    d->sum.by_kind[kind]++;
    if (d->sum.details >= d->o->max_details) return 0;
    if (GROW(d->recs, d->caprecs, d->sum.details + 1)) return nomem(d);
    rec r = {.kind = kind, .base = NONE, .cand = NONE};
    int rc = arena_put(d, L->path.s, L->path.len, &r.path);
    if (!rc) rc = arena_put(d, L->field.s, L->field.len, &r.field);
    if (!rc && b) rc = put_excerpt(d, b, &r.base, &r.btr);
    if (!rc && c) rc = put_excerpt(d, c, &r.cand, &r.ctr);
    if (rc) return rc;
    r.path_len = L->path.len;
    r.field_len = L->field.len;
    d->recs[d->sum.details++] = r;
    return 0;
}

/* --- rules -------------------------------------------------------------------------- */

/* Ignore rules are checked only where their depth equals the node's: a shallower node
 * cannot match, and a deeper one sits in a subtree that was already skipped. */
static bool ignored(const jdiff *d, const jptr_buf *path, size_t depth)
{
    const jdiff_opts *o = d->o;
    for (size_t i = 0; i < o->nignore; i++)
        if (jptr_depth(o->ignore[i]) == depth &&
            jptr_matchesn(o->ignore[i], path->s ? path->s : "", path->len))
            return true;
    return false;
}

static const arr_rule *array_rule(const jdiff *d, const jptr_buf *path, size_t depth)
{
    const jdiff_opts *o = d->o;
    for (size_t i = 0; i < o->narrays; i++)
        if (jptr_depth(o->arrays[i].path) == depth &&
            jptr_matchesn(o->arrays[i].path, path->s ? path->s : "", path->len))
            return &o->arrays[i];
    return NULL;
}

/* --- scalars ------------------------------------------------------------------------ */

/* Exact numeric equality, so that 2^53 + 1 (an integer) differs from 2^53 (a real) even
 * where long double is no wider than double (or under valgrind, which emulates it so). */
static bool num_exact(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_real(a) && json_is_real(b)) return json_real_value(a) == json_real_value(b);
    json_int_t i = json_is_integer(a) ? json_integer_value(a) : json_integer_value(b);
    double r = json_is_real(a) ? json_real_value(a) : json_real_value(b);
    /* 2^63 is exact as a double; reals outside [-2^63, 2^63) or with a fraction cannot
     * equal an int64, and the rest convert exactly. */
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0) || r != floor(r)) return false;
    return (json_int_t)r == i;
}

/* Tolerances are judged in double precision: they are for measured values, not ids. */
static bool num_equal(const jdiff_opts *o, const json_t *a, const json_t *b)
{
    if (num_exact(a, b)) return true;
    if (o->abs_tol == 0 && o->rel_tol == 0) return false;
    double x = json_number_value(a), y = json_number_value(b);
    double diff = fabs(x - y);
    if (diff <= o->abs_tol) return true;
    double mag = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
    return diff <= o->rel_tol * mag;
}

/* JSON type with true and false folded into one boolean type and numbers into one. */
static int jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_FALSE:
        return JSON_TRUE;
    case JSON_INTEGER:
    case JSON_REAL:
        return JSON_REAL;
    default:
        return (int)json_typeof(v);
    }
}

/* --- hashing (filters candidates for multiset matching) ----------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return mix(h ^ n);
}

/* Equal values (as num_equal without tolerance) must hash alike: numbers hash by their
 * double value, -0 as 0. With a tolerance, numbers that differ may still be equal, so they
 * hash by type only and the full compare decides. */
static uint64_t hash_scalar(bool tol, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 0x1001;
    case JSON_TRUE:
        return 0x2002;
    case JSON_FALSE:
        return 0x3003;
    case JSON_STRING:
        return hash_bytes(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
    case JSON_REAL: {
        if (tol) return 0x4004;
        double x = json_number_value(v);
        if (x == 0) x = 0;
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        return mix(bits ^ 0x4004);
    }
    default:
        return 0x5005;
    }
}

/* Order-insensitive structural hash of v at L's current path, skipping ignored subtrees.
 * Arrays hash as multisets whatever their rule, and objects as sets of (key, value), so
 * values that compare equal always hash equal. */
static int hash_value(jdiff *d, level *L, json_t *v, size_t depth, uint64_t *out)
{
    bool tol = d->o->abs_tol > 0 || d->o->rel_tol > 0;
    if (ignored(d, &L->path, depth)) {
        *out = 0xa00a; /* ignored elements all compare equal */
        return 0;
    }
    if (!json_is_object(v) && !json_is_array(v)) {
        *out = hash_scalar(tol, v);
        return 0;
    }
    size_t base_len = L->path.len, n = 0;
    if (GROW(L->hs, L->caphs, 1)) return nomem(d);
    L->hs[n++] = (hframe){.v = v,
                          .iter = json_is_object(v) ? json_object_iter(v) : NULL,
                          .plen = base_len,
                          .depth = depth};
    for (;;) {
        hframe *f = &L->hs[n - 1];
        jptr_buf_trunc(&L->path, f->plen);
        json_t *child = NULL;
        uint64_t keyh = 0;
        int rc = 0;
        if (json_is_object(f->v)) {
            if (f->iter) {
                const char *k = json_object_iter_key(f->iter);
                size_t kl = json_object_iter_key_len(f->iter);
                child = json_object_iter_value(f->iter);
                keyh = hash_bytes(k, kl);
                rc = jptr_buf_push_key(&L->path, k, kl);
                f->iter = json_object_iter_next(f->v, f->iter);
            }
        } else if (f->i < json_array_size(f->v)) {
            child = json_array_get(f->v, f->i);
            keyh = 0x6006;
            rc = jptr_buf_push_index(&L->path, f->i);
            f->i++;
        }
        if (rc) return nomem(d);
        if (!child) {
            uint64_t h = mix(f->acc ^ (json_is_object(f->v) ? 0x7007 : 0x8008));
            if (--n == 0) {
                jptr_buf_trunc(&L->path, base_len);
                *out = h;
                return 0;
            }
            hframe *p = &L->hs[n - 1];
            p->acc += mix(p->keyh ^ mix(h + 0x9e3779b97f4a7c15ULL));
            continue;
        }
        if (ignored(d, &L->path, f->depth + 1)) continue;
        if (json_is_object(child) || json_is_array(child)) {
            f->keyh = keyh;
            size_t fd = f->depth;
            if (GROW(L->hs, L->caphs, n + 1)) return nomem(d);
            L->hs[n++] = (hframe){.v = child,
                                  .iter = json_is_object(child) ? json_object_iter(child) : NULL,
                                  .plen = L->path.len,
                                  .depth = fd + 1};
        } else {
            f->acc += mix(keyh ^ mix(hash_scalar(tol, child) + 0x9e3779b97f4a7c15ULL));
        }
    }
}

static int ent_cmp(const void *pa, const void *pb)
{
    const ent *a = pa, *b = pb;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    if (a->side != b->side) return a->side < b->side ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* --- the walk ----------------------------------------------------------------------- */

static int run(jdiff *d, size_t k, json_t *b, json_t *c, const jptr_buf *path,
               const jptr_buf *field, size_t depth, bool probe);

/* Whether base element bi and candidate element ci of arrays b and c compare equal, judged
 * by a probe one level down at the base element's path. 1, 0 or a negative error. */
static int elem_equal(jdiff *d, size_t k, json_t *b, json_t *c, size_t bi, size_t ci, size_t depth)
{
    level *L = d->lv[k];
    size_t plen = L->path.len, flen = L->field.len;
    int rc = jptr_buf_push_index(&L->path, bi);
    if (!rc) rc = jptr_buf_push_key(&L->field, "*", 1);
    if (rc) return nomem(d);
    rc = run(d, k + 1, json_array_get(b, bi), json_array_get(c, ci), &L->path, &L->field, depth + 1,
             true);
    jptr_buf_trunc(&L->path, plen);
    jptr_buf_trunc(&L->field, flen);
    return rc;
}

/* Matches the elements of arrays b and c (at level k's current path) as multisets. On
 * return L->tmp[i] is the candidate matched to base i (or NONE) and L->tmp[nb + j] the base
 * matched to candidate j; *unmatched counts elements left over on both sides. */
static int multiset(jdiff *d, size_t k, json_t *b, json_t *c, size_t depth, size_t *unmatched)
{
    level *L = d->lv[k];
    size_t nb = json_array_size(b), nc = json_array_size(c), n = nb + nc;
    *unmatched = 0;
    if (n == 0) return 0;
    if (GROW(L->ents, L->capents, n) || GROW(L->tmp, L->captmp, n)) return nomem(d);
    size_t plen = L->path.len;
    int rc;
    for (size_t s = 0; s < 2; s++) {
        json_t *arr = s ? c : b;
        size_t m = s ? nc : nb;
        for (size_t i = 0; i < m; i++) {
            if (jptr_buf_push_index(&L->path, i)) return nomem(d);
            ent *e = &L->ents[s * nb + i];
            e->idx = i;
            e->side = s;
            rc = hash_value(d, L, json_array_get(arr, i), depth + 1, &e->h);
            jptr_buf_trunc(&L->path, plen);
            if (rc) return rc;
            L->tmp[s * nb + i] = NONE;
        }
    }
    qsort(L->ents, n, sizeof *L->ents, ent_cmp);
    size_t budget = JDIFF_PAIRWISE_BUDGET;
    for (size_t s = 0; s < n;) {
        size_t e = s, m;
        while (e < n && L->ents[e].h == L->ents[s].h)
            e++;
        for (m = s; m < e && L->ents[m].side == 0; m++)
            ;
        /* Base entries are [s, m), candidates [m, e). `first` skips candidates already
         * taken, so runs of equal elements pair in linear time. */
        size_t first = m;
        for (size_t x = s; x < m; x++) {
            while (first < e && L->tmp[nb + L->ents[first].idx] != NONE)
                first++;
            for (size_t y = first; y < e; y++) {
                size_t bi = L->ents[x].idx, ci = L->ents[y].idx;
                if (L->tmp[nb + ci] != NONE) continue;
                /* Equal hashes that compare unequal (collisions, or numbers under a
                 * tolerance) could make this quadratic: past the budget, try only the
                 * first free candidate. */
                if (y != first && budget == 0) break;
                if (y != first) budget--;
                rc = elem_equal(d, k, b, c, bi, ci, depth);
                if (rc < 0) return rc;
                if (rc == 1) {
                    L->tmp[bi] = ci;
                    L->tmp[nb + ci] = bi;
                    break;
                }
            }
        }
        s = e;
    }
    size_t ub = 0, uc = 0;
    for (size_t i = 0; i < nb; i++)
        ub += L->tmp[i] == NONE;
    for (size_t j = 0; j < nc; j++)
        uc += L->tmp[nb + j] == NONE;
    /* Tolerance and allowed additions make values equal that hash apart: pair what is
     * left one by one, within a budget. */
    const jdiff_opts *o = d->o;
    if (ub && uc && (o->abs_tol > 0 || o->rel_tol > 0 || o->allow_additions) &&
        ub <= JDIFF_PAIRWISE_BUDGET / uc) {
        for (size_t i = 0; i < nb; i++) {
            if (L->tmp[i] != NONE) continue;
            for (size_t j = 0; j < nc; j++) {
                if (L->tmp[nb + j] != NONE) continue;
                rc = elem_equal(d, k, b, c, i, j, depth);
                if (rc < 0) return rc;
                if (rc == 1) {
                    L->tmp[i] = j;
                    L->tmp[nb + j] = i;
                    ub--;
                    uc--;
                    break;
                }
            }
        }
    }
    *unmatched = ub + uc;
    return 0;
}

static uint64_t hash_key(const json_t *v)
{
    if (!v) return 0x9009;
    return hash_scalar(false, v) ^ (json_is_object(v) || json_is_array(v) ? json_typeof(v) : 0);
}

/* Exact key equality; numbers compare numerically (1 pairs with 1.0), other values as
 * jansson does. Elements without the key (NULL) pair with each other. */
static bool key_equal(const json_t *a, const json_t *b)
{
    if (!a || !b) return a == b;
    if (json_is_number(a) && json_is_number(b)) return num_exact(a, b);
    return json_equal(a, b);
}

/* Pairs elements of b and c by the value at rule->key, appending to L's pair pool: base
 * elements in order (paired or missing), then unpaired candidates in order. */
static int match_pairs(jdiff *d, level *L, const arr_rule *rule, json_t *b, json_t *c)
{
    size_t nb = json_array_size(b), nc = json_array_size(c), n = nb + nc;
    if (GROW(L->ents, L->capents, n) || GROW(L->tmp, L->captmp, n) ||
        GROW(L->pairs, L->cappairs, L->npairs + n))
        return nomem(d);
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t s = i >= nb;
        json_t *el = json_array_get(s ? c : b, s ? i - nb : i);
        L->ents[i] =
            (ent){.h = hash_key(jptr_get(rule->key, el)), .idx = s ? i - nb : i, .side = s};
        L->tmp[i] = NONE;
    }
    qsort(L->ents, n, sizeof *L->ents, ent_cmp);
    for (size_t s = 0; s < n;) {
        size_t e = s, m;
        while (e < n && L->ents[e].h == L->ents[s].h)
            e++;
        for (m = s; m < e && L->ents[m].side == 0; m++)
            ;
        size_t first = m;
        for (size_t x = s; x < m; x++) {
            size_t bi = L->ents[x].idx;
            const json_t *kb = jptr_get(rule->key, json_array_get(b, bi));
            while (first < e && L->tmp[nb + L->ents[first].idx] != NONE)
                first++;
            for (size_t y = first; y < e; y++) {
                size_t ci = L->ents[y].idx;
                if (L->tmp[nb + ci] != NONE) continue;
                if (key_equal(kb, jptr_get(rule->key, json_array_get(c, ci)))) {
                    L->tmp[bi] = ci;
                    L->tmp[nb + ci] = bi;
                    break;
                }
            }
        }
        s = e;
    }
    for (size_t i = 0; i < nb; i++)
        L->pairs[L->npairs++] = (pair){i, L->tmp[i]};
    for (size_t j = 0; j < nc; j++)
        if (L->tmp[nb + j] == NONE) L->pairs[L->npairs++] = (pair){NONE, j};
    return 0;
}

static int push(jdiff *d, level *L, frame f)
{
    if (GROW(L->st, L->capst, L->nst + 1)) return nomem(d);
    f.plen = L->path.len;
    f.clen = L->field.len;
    L->st[L->nst++] = f;
    return 0;
}

/* Reports element i of arr (missing when side 0, extra when side 1) at path + "/i". */
static int report_elem(jdiff *d, level *L, json_t *arr, size_t i, int side)
{
    size_t plen = L->path.len, flen = L->field.len;
    if (jptr_buf_push_index(&L->path, i) || jptr_buf_push_key(&L->field, "*", 1)) return nomem(d);
    int rc = side == 0 ? report(d, L, JDIFF_MISSING, json_array_get(arr, i), NULL)
                       : report(d, L, JDIFF_EXTRA, NULL, json_array_get(arr, i));
    jptr_buf_trunc(&L->path, plen);
    jptr_buf_trunc(&L->field, flen);
    return rc;
}

static int array_node(jdiff *d, size_t k, json_t *b, json_t *c, size_t depth)
{
    level *L = d->lv[k];
    const jdiff_opts *o = d->o;
    size_t nb = json_array_size(b), nc = json_array_size(c);
    int rc;
    if (nb != nc && !(o->allow_additions && nc > nb)) {
        rc = report(d, L, JDIFF_LENGTH, b, c);
        if (rc || L->differs) return rc;
    }
    const arr_rule *rule = array_rule(d, &L->path, depth);
    int mode = rule ? rule->mode : MODE_INDEX;
    if (mode == MODE_MATCH_BY) {
        size_t poff = L->npairs;
        rc = match_pairs(d, L, rule, b, c);
        if (rc) return rc;
        return push(d, L,
                    (frame){.kind = F_PAIRS,
                            .b = b,
                            .c = c,
                            .poff = poff,
                            .n = L->npairs - poff,
                            .depth = depth});
    }
    if (mode == MODE_UNORDERED) {
        size_t unmatched;
        rc = multiset(d, k, b, c, depth, &unmatched);
        if (rc || unmatched == 0) return rc;
        for (size_t i = 0; i < nb && !L->differs; i++)
            if (L->tmp[i] == NONE && (rc = report_elem(d, L, b, i, 0))) return rc;
        for (size_t j = 0; j < nc && !L->differs && !o->allow_additions; j++)
            if (L->tmp[nb + j] == NONE && (rc = report_elem(d, L, c, j, 1))) return rc;
        return 0;
    }
    /* By index. A reordering is one `order` difference rather than one per index; checking
     * it costs a probe and a multiset match, so only arrays that differ pay it. */
    if (!L->probe && nb == nc && nb >= 2) {
        rc = run(d, k + 1, b, c, &L->path, &L->field, depth, true);
        if (rc < 0) return rc;
        if (rc == 1) return 0;
        size_t unmatched;
        rc = multiset(d, k, b, c, depth, &unmatched);
        if (rc) return rc;
        if (unmatched == 0) return report(d, L, JDIFF_ORDER, b, c);
    }
    return push(d, L,
                (frame){.kind = F_IDX, .b = b, .c = c, .n = nb > nc ? nb : nc, .depth = depth});
}

/* Compares b with c at level k's current path (depth segments): reports a difference at
 * once or pushes a frame for a container. */
static int node(jdiff *d, size_t k, json_t *b, json_t *c, size_t depth)
{
    level *L = d->lv[k];
    if (b == c) return 0; /* the same node (or both absent) */
    if (ignored(d, &L->path, depth)) return 0;
    if (!c) return report(d, L, JDIFF_MISSING, b, NULL);
    if (!b) return d->o->allow_additions ? 0 : report(d, L, JDIFF_EXTRA, NULL, c);
    int tb = jtype(b), tc = jtype(c);
    if (tb != tc) return report(d, L, JDIFF_TYPE, b, c);
    switch (json_typeof(b)) {
    case JSON_INTEGER:
    case JSON_REAL:
        return num_equal(d->o, b, c) ? 0 : report(d, L, JDIFF_VALUE, b, c);
    case JSON_TRUE:
    case JSON_FALSE:
        return json_typeof(b) == json_typeof(c) ? 0 : report(d, L, JDIFF_VALUE, b, c);
    case JSON_STRING:
        return json_string_length(b) == json_string_length(c) &&
                       memcmp(json_string_value(b), json_string_value(c), json_string_length(b)) ==
                           0
                   ? 0
                   : report(d, L, JDIFF_VALUE, b, c);
    case JSON_OBJECT:
        return push(
            d, L,
            (frame){.kind = F_OBJ, .b = b, .c = c, .iter = json_object_iter(b), .depth = depth});
    case JSON_ARRAY:
        return array_node(d, k, b, c, depth);
    default:
        return 0;
    }
}

/* Advances the top frame of level k by one child. */
static int step(jdiff *d, size_t k)
{
    level *L = d->lv[k];
    frame *f = &L->st[L->nst - 1];
    jptr_buf_trunc(&L->path, f->plen);
    jptr_buf_trunc(&L->field, f->clen);
    json_t *bv = NULL, *cv = NULL;
    size_t depth = f->depth + 1;
    int rc = 0;
    switch (f->kind) {
    case F_OBJ:
        if (f->phase == 0) {
            if (f->iter) {
                const char *key = json_object_iter_key(f->iter);
                size_t kl = json_object_iter_key_len(f->iter);
                bv = json_object_iter_value(f->iter);
                cv = json_object_getn(f->c, key, kl);
                f->iter = json_object_iter_next(f->b, f->iter);
                if (jptr_buf_push_key(&L->path, key, kl) || jptr_buf_push_key(&L->field, key, kl))
                    return nomem(d);
                return node(d, k, bv, cv, depth);
            }
            f->phase = 1;
            f->iter = d->o->allow_additions ? NULL : json_object_iter(f->c);
        }
        /* Phase 1: candidate keys the base lacks. */
        while (f->iter) {
            const char *key = json_object_iter_key(f->iter);
            size_t kl = json_object_iter_key_len(f->iter);
            cv = json_object_iter_value(f->iter);
            f->iter = json_object_iter_next(f->c, f->iter);
            if (json_object_getn(f->b, key, kl)) continue;
            if (jptr_buf_push_key(&L->path, key, kl) || jptr_buf_push_key(&L->field, key, kl))
                return nomem(d);
            return node(d, k, NULL, cv, depth);
        }
        break;
    case F_IDX:
        if (f->i < f->n) {
            size_t i = f->i++;
            bv = json_array_get(f->b, i);
            cv = json_array_get(f->c, i);
            if (jptr_buf_push_index(&L->path, i) || jptr_buf_push_key(&L->field, "*", 1))
                return nomem(d);
            return node(d, k, bv, cv, depth);
        }
        break;
    case F_PAIRS:
        if (f->i < f->n) {
            pair p = L->pairs[f->poff + f->i++];
            bv = p.b == NONE ? NULL : json_array_get(f->b, p.b);
            cv = p.c == NONE ? NULL : json_array_get(f->c, p.c);
            if (jptr_buf_push_index(&L->path, p.b == NONE ? p.c : p.b) ||
                jptr_buf_push_key(&L->field, "*", 1))
                return nomem(d);
            return node(d, k, bv, cv, depth);
        }
        L->npairs = f->poff; /* frames are LIFO, so the pool is too */
        break;
    }
    L->nst--;
    return rc;
}

/* Walks b against c starting at path/field (depth segments) on level k. A probe stops at
 * the first difference and returns 1 when there was none, 0 otherwise; the reported walk
 * returns 0. Negative on error. */
static int run(jdiff *d, size_t k, json_t *b, json_t *c, const jptr_buf *path,
               const jptr_buf *field, size_t depth, bool probe)
{
    level *L = NULL;
    int rc = get_level(d, k, &L);
    if (rc) return rc;
    L->probe = probe;
    L->differs = false;
    L->nst = 0;
    L->npairs = 0;
    if (jptr_buf_set(&L->path, path->s ? path->s : "", path->len) ||
        jptr_buf_set(&L->field, field->s ? field->s : "", field->len))
        return nomem(d);
    rc = node(d, k, b, c, depth);
    while (rc == 0 && L->nst > 0 && !L->differs)
        rc = step(d, k);
    if (rc < 0) return rc;
    return probe ? !L->differs : 0;
}

int jdiff_compare(jdiff *d, const json_t *base, const json_t *cand, cut_err *err)
{
    if (!d) return cut_err_set(err, CUT_EINVAL, "jdiff_compare: context is NULL");
    jdiff_reset(d);
    d->err = err;
    jptr_buf root = {0};
    int rc = run(d, 0, (json_t *)base, (json_t *)cand, &root, &root, 0, false);
    d->err = NULL;
    return rc;
}
