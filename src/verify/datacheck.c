/* datacheck.c - runs the data checks (datacheck.h): SCAN pages, pipelined GET/HGETALL/EXISTS,
 * batched `= ANY($1)` lookups, keyset pages of PostgreSQL keys, and a recheck of suspects.
 *
 * One loop in the calling thread. Work goes out a batch at a time (the Redis commands and the
 * PostgreSQL queries of a batch together) and the loop runs until the batch is complete, so
 * memory is bounded by the batch and the SCAN page. Callbacks only copy what arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/pg.h"
#include "driver/redis.h"
#include "verify/datacheck_int.h"
#include "verify/vfy_util.h"

#define MAX_VALUE_BYTES (64u << 20)
#define SCAN_GUARD 100000000ULL
#define DEDUP_SEED 0x5ca9d00dULL

enum { KS_PENDING, KS_OK, KS_NIL, KS_INVALID, KS_ERR };

typedef struct drun drun;

typedef struct bkey {
    drun *r;
    char *rkey;
    size_t rlen;
    const char *id; /* inside rkey */
    size_t idlen;
    json_t *val;
    json_t *row;
    int rstate;
    bool row_err;
    int exists; /* -1 unknown */
} bkey;

typedef struct chunk {
    drun *r;
    bkey *keys;
    size_t n;
    size_t *order; /* indexes of keys sorted by id */
} chunk;

typedef struct hkey {
    uint64_t h;
    char *key;
    size_t len;
} hkey;

typedef struct susp {
    char *rkey;
    size_t rlen;
    bool pg_only;
} susp;

typedef struct strlist {
    char **v;
    size_t *len;
    size_t n, cap;
} strlist;

struct drun {
    const dck_check *c;
    const dck_opts *o;
    uv_loop_t loop;
    bool loop_ok;
    drv_redis *rc;
    drv_pg *pg;
    int st_count, st_rows, st_sample, st_first, st_next;
    size_t pending, closing;
    int connect_status;
    char connect_msg[CUT_ERR_MSG_MAX];
    jdiff_opts *jo;
    jdiff *jd;
    char *fmt;
    size_t fmtcap;
    double last_progress;
    /* scan */
    char cursor[64];
    strlist page;
    bool scan_done;
    vfy_u64set seen;
    hkey *heap;
    size_t nheap;
    susp *sus;
    size_t nsus;
    uint64_t sus_overflow;
    strlist ids; /* PostgreSQL keys of one page or the reverse sample */
    /* results */
    uint64_t redis_count, scan_dups, checked, reverse_checked, missing_pg, missing_redis;
    uint64_t field_mm, mismatched_keys, invalid, unmapped, vanished, rechecked, recovered;
    uint64_t errors;
    int64_t pg_count;
    char first_error[300];
    json_t *fields, *miss_pg_keys, *miss_redis_keys, *invalid_keys;
};

/* ---- small helpers ----------------------------------------------------------------------------
 */

static void note_error(drun *r, const char *what, const char *msg)
{
    r->errors++;
    if (!r->first_error[0])
        snprintf(r->first_error, sizeof(r->first_error), "%s: %.250s", what, msg ? msg : "");
}

static int sl_push(strlist *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) return CUT_ENOMEM;
        l->v = v;
        size_t *len = realloc(l->len, cap * sizeof(*len));
        if (!len) return CUT_ENOMEM;
        l->len = len;
        l->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c) return CUT_ENOMEM;
    memcpy(c, s, n);
    c[n] = '\0';
    l->v[l->n] = c;
    l->len[l->n++] = n;
    return 0;
}

static void sl_clear(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

static void sl_free(strlist *l)
{
    sl_clear(l);
    free(l->v);
    free(l->len);
    memset(l, 0, sizeof(*l));
}

static void bounded_push(json_t *arr, uint32_t max, const char *s, size_t n)
{
    if (json_array_size(arr) >= max) return;
    bool t;
    json_array_append_new(arr, vfy_text_json(s, n, 1024, &t));
}

static void progress(drun *r, bool final)
{
    if (!r->o || r->o->quiet || r->o->progress_fd < 0) return;
    double now = vfy_now_s();
    if (!final && now - r->last_progress < 1.0) return;
    r->last_progress = now;
    dprintf(r->o->progress_fd, "data %s: %llu keys scanned, %llu checked, %llu PostgreSQL keys\n",
            r->c->name, (unsigned long long)r->redis_count, (unsigned long long)r->checked,
            (unsigned long long)r->reverse_checked);
}

static int wait_all(drun *r)
{
    if (vfy_run_until(&r->loop, &r->pending, 0) < 0) {
        note_error(r, "loop", "work outstanding with nothing to wait for");
        return CUT_ESTATE;
    }
    progress(r, false);
    return 0;
}

/* Formats and sends one Redis command; waits for room when every connection is full. */
static int rsend(drun *r, int argc, const char *const *argv, const size_t *lens, drv_redis_cb cb,
                 void *ud)
{
    size_t need = drv_redis_format(NULL, 0, argc, argv, lens);
    if (need + 1 > r->fmtcap) {
        char *p = realloc(r->fmt, need + 1);
        if (!p) return CUT_ENOMEM;
        r->fmt = p;
        r->fmtcap = need + 1;
    }
    drv_redis_format(r->fmt, r->fmtcap, argc, argv, lens);
    int rc;
    for (int guard = 0; guard < 1000000; guard++) {
        rc = drv_redis_send(r->rc, r->fmt, need, cb, ud);
        if (rc != CUT_ERANGE) break;
        uv_run(&r->loop, UV_RUN_ONCE);
    }
    if (rc == 0) r->pending++;
    return rc;
}

static int psend(drun *r, int stmt, int n, const char *const *vals, drv_pg_cb cb, void *ud)
{
    int rc;
    for (int guard = 0; guard < 1000000; guard++) {
        rc = drv_pg_send(r->pg, stmt, n, vals, NULL, cb, ud);
        if (rc != CUT_ERANGE) break;
        uv_run(&r->loop, UV_RUN_ONCE);
    }
    if (rc == 0) r->pending++;
    return rc;
}

/* '{"a","b"}' with " and \ escaped: a text array literal for = ANY($1). */
static char *array_literal(bkey *keys, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * keys[i].idlen + 3;
    char *s = malloc(cap), *p = s;
    if (!s) return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        *p++ = '"';
        for (size_t j = 0; j < keys[i].idlen; j++) {
            if (keys[i].id[j] == '"' || keys[i].id[j] == '\\') *p++ = '\\';
            *p++ = keys[i].id[j];
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return s;
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static void on_scan(drv_redis *c, const drv_redis_resp *resp, void *ud)
{
    drun *r = ud;
    const redisReply *rep = resp->reply;
    (void)c;
    r->pending--;
    if (resp->kind != DRV_OK || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= sizeof(r->cursor) ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        note_error(r, "SCAN", resp->kind != DRV_OK ? resp->errmsg : "unexpected reply");
        r->scan_done = true;
        return;
    }
    memcpy(r->cursor, rep->element[0]->str, rep->element[0]->len);
    r->cursor[rep->element[0]->len] = '\0';
    r->scan_done = strcmp(r->cursor, "0") == 0;
    const redisReply *keys = rep->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING) continue;
        if (sl_push(&r->page, k->str, k->len) < 0) {
            note_error(r, "SCAN", "out of memory");
            r->scan_done = true;
            return;
        }
    }
}

static void on_value(drv_redis *c, const drv_redis_resp *resp, void *ud)
{
    bkey *k = ud;
    drun *r = k->r;
    const redisReply *rep = resp->reply;
    (void)c;
    r->pending--;
    if (resp->kind == DRV_EREDIS) { /* WRONGTYPE: the key holds another type */
        k->rstate = KS_INVALID;
        return;
    }
    if (resp->kind != DRV_OK || !rep) {
        k->rstate = KS_ERR;
        note_error(r, r->c->hash ? "HGETALL" : "GET", resp->errmsg);
        return;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        k->rstate = KS_NIL;
        return;
    }
    k->rstate = KS_INVALID;
    if (!r->c->hash) {
        if (rep->type != REDIS_REPLY_STRING || rep->len > MAX_VALUE_BYTES) return;
        json_t *v = json_loadb(rep->str, rep->len, 0, NULL);
        if (json_is_object(v)) {
            k->val = v;
            k->rstate = KS_OK;
        } else {
            json_decref(v);
        }
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2) return;
    if (rep->elements == 0) { /* HGETALL of a missing key */
        k->rstate = KS_NIL;
        return;
    }
    json_t *o = json_object();
    for (size_t i = 0; o && i < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *v = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            !vfy_utf8_ok(f->str, f->len) || !vfy_utf8_ok(v->str, v->len)) {
            json_decref(o);
            return;
        }
        char *name = strndup(f->str, f->len);
        if (!name || json_object_set_new(o, name, json_stringn(v->str, v->len)) < 0) {
            free(name);
            json_decref(o);
            return;
        }
        free(name);
    }
    k->val = o;
    k->rstate = o ? KS_OK : KS_INVALID;
}

static void on_exists(drv_redis *c, const drv_redis_resp *resp, void *ud)
{
    bkey *k = ud;
    (void)c;
    k->r->pending--;
    if (resp->kind != DRV_OK || !resp->reply || resp->reply->type != REDIS_REPLY_INTEGER) {
        k->rstate = KS_ERR;
        note_error(k->r, "EXISTS", resp->kind != DRV_OK ? resp->errmsg : "unexpected reply");
        return;
    }
    k->exists = resp->reply->integer > 0;
}

static int by_id(const void *x, const void *y, void *ud)
{
    const chunk *ch = ud;
    const bkey *a = &ch->keys[*(const size_t *)x], *b = &ch->keys[*(const size_t *)y];
    size_t n = a->idlen < b->idlen ? a->idlen : b->idlen;
    int c = memcmp(a->id, b->id, n);
    return c ? c : (a->idlen > b->idlen) - (a->idlen < b->idlen);
}

static void on_rows(drv_pg *c, const drv_pg_resp *resp, void *ud)
{
    chunk *ch = ud;
    drun *r = ch->r;
    (void)c;
    r->pending--;
    if (resp->kind != DRV_OK || !resp->res) {
        for (size_t i = 0; i < ch->n; i++)
            ch->keys[i].row_err = true;
        note_error(r, "PostgreSQL rows", resp->errmsg);
        return;
    }
    for (int row = 0; row < resp->ntuples; row++) {
        const char *id = PQgetvalue(resp->res, row, 0);
        size_t idlen = (size_t)PQgetlength(resp->res, row, 0);
        size_t lo = 0, hi = ch->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const bkey *k = &ch->keys[ch->order[mid]];
            size_t n = k->idlen < idlen ? k->idlen : idlen;
            int cmp = memcmp(k->id, id, n);
            if (!cmp) cmp = (k->idlen > idlen) - (k->idlen < idlen);
            if (cmp == 0) {
                bkey *m = &ch->keys[ch->order[mid]];
                if (!m->row) m->row = dck__row_json(resp->res, row, 1);
                break;
            }
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
}

static void on_count(drv_pg *c, const drv_pg_resp *resp, void *ud)
{
    drun *r = ud;
    (void)c;
    r->pending--;
    if (resp->kind != DRV_OK || resp->ntuples != 1) {
        note_error(r, "count(*)", resp->errmsg);
        return;
    }
    r->pg_count = strtoll(PQgetvalue(resp->res, 0, 0), NULL, 10);
}

static void on_ids(drv_pg *c, const drv_pg_resp *resp, void *ud)
{
    drun *r = ud;
    (void)c;
    r->pending--;
    if (resp->kind != DRV_OK) {
        note_error(r, "PostgreSQL keys", resp->errmsg);
        return;
    }
    for (int row = 0; row < resp->ntuples; row++)
        if (sl_push(&r->ids, PQgetvalue(resp->res, row, 0),
                    (size_t)PQgetlength(resp->res, row, 0)) < 0) {
            note_error(r, "PostgreSQL keys", "out of memory");
            return;
        }
}

/* ---- results --------------------------------------------------------------------------------- */

static const char *column_of(const dck_check *c, const char *field)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i].name, field) == 0) return c->fields[i].column;
    return field;
}

static bool suspect(drun *r, const bkey *k, bool pg_only)
{
    if (r->nsus >= r->c->recheck_max) {
        r->sus_overflow++;
        return false;
    }
    susp *s = &r->sus[r->nsus];
    s->rkey = malloc(k->rlen + 1);
    if (!s->rkey) return false;
    memcpy(s->rkey, k->rkey, k->rlen + 1);
    s->rlen = k->rlen;
    s->pg_only = pg_only;
    r->nsus++;
    return true;
}

/* The differences of one key, counted per field (once per key). */
static int record_diffs(drun *r, const bkey *k)
{
    const jdiff_summary *sum = jdiff_result(r->jd);
    json_t *seen = json_object();
    jdiff_item it;
    char name[256];
    if (!seen) return CUT_ENOMEM;
    r->mismatched_keys++;
    for (size_t i = 0; jdiff_get(r->jd, i, &it); i++) {
        dck__path_field(it.path, it.path_len, name, sizeof(name));
        json_t *f = json_object_get(r->fields, name);
        if (!f) {
            f = json_pack("{s:s, s:s, s:i, s:{}, s:[]}", "field", name, "column",
                          column_of(r->c, name), "count", 0, "kinds", "examples");
            if (!f || json_object_set_new(r->fields, name, f) < 0) break;
        }
        json_t *kinds = json_object_get(f, "kinds");
        const char *kn = jdiff_kind_name(it.kind);
        json_object_set_new(kinds, kn,
                            json_integer(json_integer_value(json_object_get(kinds, kn)) + 1));
        if (json_object_get(seen, name)) continue;
        json_object_set_new(seen, name, json_true());
        r->field_mm++;
        json_object_set_new(f, "count",
                            json_integer(json_integer_value(json_object_get(f, "count")) + 1));
        json_t *ex = json_object_get(f, "examples");
        if (json_array_size(ex) < r->c->max_examples) {
            bool t;
            json_array_append_new(
                ex,
                json_pack("{s:o, s:s%, s:s, s:o, s:o, s:b}", "key",
                          vfy_text_json(k->rkey, k->rlen, 1024, &t), "path", it.path, it.path_len,
                          "kind", kn, "redis", it.base ? json_string(it.base) : json_null(),
                          "postgres", it.cand ? json_string(it.cand) : json_null(), "truncated",
                          it.base_truncated || it.cand_truncated));
        }
    }
    (void)sum;
    json_decref(seen);
    return 0;
}

/* Judges one fetched key. first: the first look (suspects are kept for a recheck). */
static int evaluate(drun *r, bkey *k, bool first)
{
    if (k->rstate == KS_ERR || k->row_err) return 0;
    if (k->rstate == KS_NIL) {
        r->vanished++;
        return 0;
    }
    if (first) r->checked++;
    if (k->rstate == KS_INVALID) {
        if (first && suspect(r, k, false)) return 0;
        r->invalid++;
        bounded_push(r->invalid_keys, r->c->max_keys, k->rkey, k->rlen);
        return 0;
    }
    if (!k->row) {
        if (first && suspect(r, k, false)) return 0;
        r->missing_pg++;
        bounded_push(r->miss_pg_keys, r->c->max_keys, k->rkey, k->rlen);
        return 0;
    }
    json_t *a = NULL, *b = NULL;
    cut_err e = {0};
    int rc = dck__sides(r->c, k->val, k->row, &a, &b);
    if (rc == 0) rc = jdiff_compare(r->jd, a, b, &e);
    json_decref(a);
    json_decref(b);
    if (rc < 0) {
        note_error(r, "compare", e.msg[0] ? e.msg : "out of memory");
        return rc == CUT_ENOMEM ? rc : 0;
    }
    if (jdiff_result(r->jd)->total == 0) {
        if (!first) r->recovered++;
        return 0;
    }
    if (first && suspect(r, k, false)) return 0;
    return record_diffs(r, k);
}

static void free_keys(bkey *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(keys[i].rkey);
        json_decref(keys[i].val);
        json_decref(keys[i].row);
    }
    free(keys);
}

/* Fills a bkey for a Redis key (copied). Returns false (and counts it) when it has no id. */
static bool key_init(drun *r, bkey *k, const char *key, size_t len)
{
    memset(k, 0, sizeof(*k));
    k->r = r;
    k->exists = -1;
    k->rkey = malloc(len + 1);
    if (!k->rkey) return false;
    memcpy(k->rkey, key, len);
    k->rkey[len] = '\0';
    k->rlen = len;
    k->id = dck__key_id(r->c, k->rkey, len, &k->idlen);
    return k->id != NULL;
}

/* Sends the row lookups of keys[0..n) in chunks of batch; chunks are freed by the caller. */
static int send_rows(drun *r, bkey *keys, size_t n, chunk **out, size_t *nch)
{
    size_t b = r->c->batch, m = (n + b - 1) / b;
    chunk *ch = calloc(m + 1, sizeof(*ch));
    *out = ch;
    *nch = 0;
    if (!ch) return CUT_ENOMEM;
    for (size_t i = 0; i < m; i++) {
        chunk *c = &ch[i];
        c->r = r;
        c->keys = keys + i * b;
        c->n = n - i * b < b ? n - i * b : b;
        c->order = malloc(c->n * sizeof(*c->order));
        char *lit = array_literal(c->keys, c->n);
        if (!c->order || !lit) {
            free(lit);
            return CUT_ENOMEM;
        }
        for (size_t j = 0; j < c->n; j++)
            c->order[j] = j;
        qsort_r(c->order, c->n, sizeof(*c->order), by_id, c);
        const char *vals[1] = {lit};
        int rc = psend(r, r->st_rows, 1, vals, on_rows, c);
        free(lit);
        *nch = i + 1;
        if (rc < 0) {
            for (size_t j = 0; j < c->n; j++)
                c->keys[j].row_err = true;
            note_error(r, "PostgreSQL rows", "could not send the lookup");
        }
    }
    return 0;
}

static void free_chunks(chunk *ch, size_t n)
{
    for (size_t i = 0; ch && i < n; i++)
        free(ch[i].order);
    free(ch);
}

/* Fetches and judges keys[0..n) (all with an id): values and rows at once. */
static int check_keys(drun *r, bkey *keys, size_t n, bool first)
{
    const char *cmd = r->c->hash ? "HGETALL" : "GET";
    chunk *ch = NULL;
    size_t nch = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *argv[2] = {cmd, keys[i].rkey};
        size_t lens[2] = {strlen(cmd), keys[i].rlen};
        if (rsend(r, 2, argv, lens, on_value, &keys[i]) < 0) {
            keys[i].rstate = KS_ERR;
            note_error(r, cmd, "could not send");
        }
    }
    rc = send_rows(r, keys, n, &ch, &nch);
    if (wait_all(r) < 0 && rc == 0) rc = CUT_ESTATE;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = evaluate(r, &keys[i], first);
    free_chunks(ch, nch);
    return rc;
}

/* PostgreSQL keys ids[0..n): EXISTS for each (and, on a recheck, the row again). */
static int check_ids(drun *r, char **ids, const size_t *lens, size_t n, bool first)
{
    bkey *keys = calloc(n + 1, sizeof(*keys));
    chunk *ch = NULL;
    size_t nch = 0;
    int rc = 0;
    if (!keys) return CUT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        bkey *k = &keys[i];
        k->r = r;
        k->exists = -1;
        k->rlen = r->c->plen + lens[i] + r->c->slen;
        k->rkey = malloc(k->rlen + 1);
        if (!k->rkey) {
            free_keys(keys, i);
            return CUT_ENOMEM;
        }
        memcpy(k->rkey, r->c->prefix, r->c->plen);
        memcpy(k->rkey + r->c->plen, ids[i], lens[i]);
        memcpy(k->rkey + r->c->plen + lens[i], r->c->suffix, r->c->slen + 1);
        k->id = k->rkey + r->c->plen;
        k->idlen = lens[i];
        const char *argv[2] = {"EXISTS", k->rkey};
        size_t al[2] = {6, k->rlen};
        if (rsend(r, 2, argv, al, on_exists, k) < 0) {
            k->rstate = KS_ERR;
            note_error(r, "EXISTS", "could not send");
        }
    }
    if (!first) rc = send_rows(r, keys, n, &ch, &nch);
    if (wait_all(r) < 0 && rc == 0) rc = CUT_ESTATE;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bkey *k = &keys[i];
        if (k->rstate == KS_ERR || k->row_err || k->exists != 0) {
            if (!first && k->exists == 1) r->recovered++;
            continue;
        }
        if (first) {
            if (suspect(r, k, true)) continue;
        } else if (!k->row) {
            r->vanished++; /* the row went away meanwhile */
            continue;
        }
        r->missing_redis++;
        bounded_push(r->miss_redis_keys, r->c->max_keys, k->rkey, k->rlen);
    }
    if (first) r->reverse_checked += n;
    free_chunks(ch, nch);
    free_keys(keys, n);
    return rc;
}

/* ---- phases of a check ------------------------------------------------------------------------
 */

static int scan_next(drun *r)
{
    char count[16];
    snprintf(count, sizeof(count), "%u", r->c->scan_count);
    const char *argv[6] = {"SCAN", r->cursor, "MATCH", r->c->match, "COUNT", count};
    sl_clear(&r->page);
    if (rsend(r, 6, argv, NULL, on_scan, r) < 0) {
        note_error(r, "SCAN", "could not send");
        r->scan_done = true;
        return CUT_EIO;
    }
    return wait_all(r);
}

static void heap_sift_down(hkey *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].h > h[m].h) m = l;
        if (l + 1 < n && h[l + 1].h > h[m].h) m = l + 1;
        if (m == i) return;
        hkey t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Keeps the `sample` keys with the smallest seeded hash (a max-heap on the hash). */
static int sample_offer(drun *r, const char *key, size_t len)
{
    uint64_t h = vfy_hash64(key, len, r->c->seed);
    size_t cap = (size_t)r->c->sample;
    if (r->nheap == cap && h >= r->heap[0].h) return 0;
    char *copy = malloc(len + 1);
    if (!copy) return CUT_ENOMEM;
    memcpy(copy, key, len);
    copy[len] = '\0';
    if (r->nheap < cap) {
        size_t i = r->nheap++;
        r->heap[i] = (hkey){h, copy, len};
        while (i > 0 && r->heap[(i - 1) / 2].h < r->heap[i].h) {
            hkey t = r->heap[i];
            r->heap[i] = r->heap[(i - 1) / 2];
            r->heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return 0;
    }
    free(r->heap[0].key);
    r->heap[0] = (hkey){h, copy, len};
    heap_sift_down(r->heap, r->nheap, 0);
    return 0;
}

static int by_hash(const void *x, const void *y)
{
    const hkey *a = x, *b = y;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Checks keys given as (string, length) pairs, batch by batch. */
static int check_list(drun *r, char **v, const size_t *len, size_t n, bool first)
{
    size_t b = r->c->batch;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += b) {
        size_t m = n - i < b ? n - i : b, k = 0;
        bkey *keys = calloc(m + 1, sizeof(*keys));
        if (!keys) return CUT_ENOMEM;
        for (size_t j = 0; j < m; j++) {
            if (key_init(r, &keys[k], v[i + j], len[i + j])) {
                k++;
            } else {
                r->unmapped += first;
                free(keys[k].rkey);
            }
        }
        rc = check_keys(r, keys, k, first);
        free_keys(keys, k);
    }
    return rc;
}

static int run_scan(drun *r)
{
    int rc = 0;
    strlist batch = {0};
    strcpy(r->cursor, "0");
    r->scan_done = false;
    for (uint64_t guard = 0; !r->scan_done && guard < SCAN_GUARD && rc == 0; guard++) {
        if ((rc = scan_next(r)) < 0) break;
        for (size_t i = 0; i < r->page.n && rc == 0; i++) {
            const char *key = r->page.v[i];
            size_t len = r->page.len[i];
            if (r->c->dedup) {
                int added = vfy_u64set_add(&r->seen, vfy_hash64(key, len, DEDUP_SEED));
                if (added < 0) return CUT_ENOMEM;
                if (!added) {
                    r->scan_dups++;
                    continue;
                }
            }
            r->redis_count++;
            if (r->c->mode == DCK_SAMPLE) {
                size_t n;
                if (dck__key_id(r->c, key, len, &n))
                    rc = sample_offer(r, key, len);
                else
                    r->unmapped++;
            } else if (r->c->mode == DCK_FULL) {
                rc = sl_push(&batch, key, len);
                if (rc == 0 && batch.n >= r->c->batch) {
                    rc = check_list(r, batch.v, batch.len, batch.n, true);
                    sl_clear(&batch);
                }
            }
        }
    }
    if (rc == 0 && batch.n) rc = check_list(r, batch.v, batch.len, batch.n, true);
    sl_free(&batch);
    return rc;
}

static int run_pg_count(drun *r)
{
    if (psend(r, r->st_count, 0, NULL, on_count, r) < 0)
        note_error(r, "count(*)", "could not send");
    return wait_all(r);
}

static int run_sample(drun *r)
{
    qsort(r->heap, r->nheap, sizeof(*r->heap), by_hash);
    char **v = calloc(r->nheap + 1, sizeof(*v));
    size_t *len = calloc(r->nheap + 1, sizeof(*len)), n = 0;
    int rc = CUT_ENOMEM;
    if (!v || !len) goto fail;
    for (size_t i = 0; i < r->nheap; i++) {
        /* Without dedup a key SCAN returned twice may sit here twice: keep one. */
        if (n && r->heap[i].h == r->heap[i - 1].h && r->heap[i].len == r->heap[i - 1].len &&
            memcmp(r->heap[i].key, r->heap[i - 1].key, r->heap[i].len) == 0)
            continue;
        v[n] = r->heap[i].key;
        len[n++] = r->heap[i].len;
    }
    rc = check_list(r, v, len, n, true);
    if (rc == 0 && r->c->reverse_sample) {
        char seed[24], lim[24];
        snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->c->seed);
        snprintf(lim, sizeof(lim), "%llu", (unsigned long long)r->c->reverse_sample);
        const char *vals[2] = {seed, lim};
        sl_clear(&r->ids);
        if (psend(r, r->st_sample, 2, vals, on_ids, r) < 0)
            note_error(r, "reverse sample", "could not send");
        rc = wait_all(r);
        for (size_t i = 0; rc == 0 && i < r->ids.n; i += r->c->batch) {
            size_t m = r->ids.n - i < r->c->batch ? r->ids.n - i : r->c->batch;
            rc = check_ids(r, r->ids.v + i, r->ids.len + i, m, true);
        }
    }
fail:
    free(v);
    free(len);
    return rc;
}

/* Every PostgreSQL key, in keyset pages, checked with EXISTS. */
static int run_pg_keys(drun *r)
{
    char lim[24], *last = NULL;
    size_t page = r->c->scan_count;
    int rc = 0;
    snprintf(lim, sizeof(lim), "%zu", page);
    for (uint64_t guard = 0; guard < SCAN_GUARD && rc == 0; guard++) {
        sl_clear(&r->ids);
        const char *first[1] = {lim}, *next[2] = {last, lim};
        uint64_t errs = r->errors;
        if (psend(r, last ? r->st_next : r->st_first, last ? 2 : 1, last ? next : first, on_ids,
                  r) < 0)
            note_error(r, "PostgreSQL keys", "could not send");
        if ((rc = wait_all(r)) < 0 || r->errors > errs) break;
        for (size_t i = 0; i < r->ids.n && rc == 0; i += r->c->batch) {
            size_t m = r->ids.n - i < r->c->batch ? r->ids.n - i : r->c->batch;
            rc = check_ids(r, r->ids.v + i, r->ids.len + i, m, true);
        }
        if (r->ids.n < page) break;
        free(last);
        last = strdup(r->ids.v[r->ids.n - 1]);
        if (!last) rc = CUT_ENOMEM;
    }
    free(last);
    return rc;
}

static int run_recheck(drun *r)
{
    char **v = calloc(r->nsus + 1, sizeof(*v)), **w = calloc(r->nsus + 1, sizeof(*w));
    size_t *lv = calloc(r->nsus + 1, sizeof(*lv)), *lw = calloc(r->nsus + 1, sizeof(*lw));
    size_t nv = 0, nw = 0;
    int rc = CUT_ENOMEM;
    if (!v || !w || !lv || !lw) goto fail;
    for (size_t i = 0; i < r->nsus; i++) {
        if (r->sus[i].pg_only) {
            w[nw] = r->sus[i].rkey + r->c->plen;
            lw[nw++] = r->sus[i].rlen - r->c->plen - r->c->slen;
        } else {
            v[nv] = r->sus[i].rkey;
            lv[nv++] = r->sus[i].rlen;
        }
    }
    r->rechecked = r->nsus;
    rc = check_list(r, v, lv, nv, false);
    for (size_t i = 0; rc == 0 && i < nw; i += r->c->batch) {
        size_t m = nw - i < r->c->batch ? nw - i : r->c->batch;
        /* check_ids copies each id out before the key strings are needed again. */
        char **ids = calloc(m + 1, sizeof(*ids));
        if (!ids) {
            rc = CUT_ENOMEM;
            break;
        }
        for (size_t j = 0; j < m; j++)
            ids[j] = strndup(w[i + j], lw[i + j]);
        rc = check_ids(r, ids, lw + i, m, false);
        for (size_t j = 0; j < m; j++)
            free(ids[j]);
        free(ids);
    }
fail:
    free(v);
    free(w);
    free(lv);
    free(lw);
    return rc;
}

/* ---- connecting -------------------------------------------------------------------------------
 */

static void on_redis_up(drv_redis *c, int status, const cut_err *err, void *ud)
{
    drun *r = ud;
    (void)c;
    r->pending--;
    if (status < 0) {
        r->connect_status = CUT_ECONNECT;
        snprintf(r->connect_msg, sizeof(r->connect_msg), "redis endpoint '%.64s' (%.160s): %.250s",
                 r->c->redis->name, r->c->redis->u.redis.display, err ? err->msg : "");
    }
}

static void on_pg_up(drv_pg *c, int status, const cut_err *err, void *ud)
{
    drun *r = ud;
    (void)c;
    r->pending--;
    if (status < 0 && !r->connect_status) {
        r->connect_status = CUT_ECONNECT;
        snprintf(r->connect_msg, sizeof(r->connect_msg),
                 "postgres endpoint '%.64s' (%.160s): %.250s", r->c->pg->name,
                 r->c->pg->u.pg.display, err ? err->msg : "");
    }
}

static void on_redis_closed(drv_redis *c, void *ud)
{
    (void)c;
    ((drun *)ud)->closing--;
}

static void on_pg_closed(drv_pg *c, void *ud)
{
    (void)c;
    ((drun *)ud)->closing--;
}

static int connect_all(drun *r, cut_err *err)
{
    const dck_check *c = r->c;
    const scn_redis_endpoint *re = &c->redis->u.redis;
    const scn_pg_endpoint *pe = &c->pg->u.pg;
    drv_redis_opts ro = {.host = re->host,
                         .port = re->port,
                         .db = (int)re->db,
                         .password = re->password,
                         .pool = (int)re->pool,
                         .timeout_ns = (uint64_t)re->timeout_ns};
    drv_pg_opts po = {
        .conninfo = pe->dsn, .pool = (int)pe->pool, .timeout_ns = (uint64_t)pe->timeout_ns};
    int rc = drv_redis_new(&r->loop, &ro, &r->rc, err);
    if (rc == 0) rc = drv_pg_new(&r->loop, &po, &r->pg, err);
    if (rc == 0) rc = drv_pg_prepare(r->pg, c->sql_count, 0, &r->st_count, err);
    if (rc == 0) rc = drv_pg_prepare(r->pg, c->sql_rows, 1, &r->st_rows, err);
    if (rc == 0) rc = drv_pg_prepare(r->pg, c->sql_sample, 2, &r->st_sample, err);
    if (rc == 0) rc = drv_pg_prepare(r->pg, c->sql_first, 1, &r->st_first, err);
    if (rc == 0) rc = drv_pg_prepare(r->pg, c->sql_next, 2, &r->st_next, err);
    if (rc < 0) {
        cut_err_prefix(err, "data check '%s': ", c->name);
        return rc;
    }
    if ((rc = drv_redis_connect(r->rc, on_redis_up, r, err)) < 0) return rc;
    r->pending++;
    if ((rc = drv_pg_connect(r->pg, on_pg_up, r, err)) < 0) return rc;
    r->pending++;
    if (vfy_run_until(&r->loop, &r->pending, 0) < 0)
        return cut_err_set(err, CUT_ECONNECT, "data check '%s': connecting did not complete",
                           c->name);
    if (r->connect_status)
        return cut_err_set(err, CUT_ECONNECT, "data check '%s': %s", c->name, r->connect_msg);
    return 0;
}

static json_t *result(drun *r, double seconds)
{
    static const char *const modes[] = {"count", "sample", "full"};
    const dck_check *c = r->c;
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(r->fields, k, v) json_array_append(fields, v);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "mode", json_string(modes[c->mode]));
    json_object_set_new(o, "redis", json_string(c->redis->u.redis.display));
    json_object_set_new(o, "postgres", json_string(c->pg->u.pg.display));
    json_object_set_new(o, "match", json_string(c->match));
    json_object_set_new(o, "redis_count", json_integer((json_int_t)r->redis_count));
    json_object_set_new(o, "pg_count", json_integer((json_int_t)r->pg_count));
    json_object_set_new(o, "count_diff",
                        json_integer((json_int_t)r->redis_count - (json_int_t)r->pg_count));
    json_object_set_new(o, "count_exact", json_boolean(c->dedup));
    json_object_set_new(o, "scan_duplicates", json_integer((json_int_t)r->scan_dups));
    json_object_set_new(o, "checked", json_integer((json_int_t)r->checked));
    json_object_set_new(o, "reverse_checked", json_integer((json_int_t)r->reverse_checked));
    json_object_set_new(o, "missing_in_pg", json_integer((json_int_t)r->missing_pg));
    json_object_set_new(o, "missing_in_redis", json_integer((json_int_t)r->missing_redis));
    json_object_set_new(o, "field_mismatches", json_integer((json_int_t)r->field_mm));
    json_object_set_new(o, "mismatched_keys", json_integer((json_int_t)r->mismatched_keys));
    json_object_set_new(o, "invalid_values", json_integer((json_int_t)r->invalid));
    json_object_set_new(o, "unmapped_keys", json_integer((json_int_t)r->unmapped));
    json_object_set_new(o, "vanished", json_integer((json_int_t)r->vanished));
    json_object_set_new(o, "rechecked", json_integer((json_int_t)r->rechecked));
    json_object_set_new(o, "recovered", json_integer((json_int_t)r->recovered));
    json_object_set_new(o, "recheck_overflow", json_integer((json_int_t)r->sus_overflow));
    if (c->mode == DCK_SAMPLE) {
        json_object_set_new(o, "sample", json_integer((json_int_t)c->sample));
        json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    }
    json_object_set_new(o, "fields", fields);
    json_object_set(o, "missing_in_pg_keys", r->miss_pg_keys);
    json_object_set(o, "missing_in_redis_keys", r->miss_redis_keys);
    json_object_set(o, "invalid_keys", r->invalid_keys);
    json_object_set_new(o, "errors", json_integer((json_int_t)r->errors));
    json_object_set_new(o, "error", r->first_error[0] ? json_string(r->first_error) : json_null());
    json_object_set_new(o, "seconds", json_real(seconds));
    return o;
}

static void drun_free(drun *r)
{
    if (r->rc) {
        r->closing++;
        drv_redis_close(r->rc, on_redis_closed, r);
    }
    if (r->pg) {
        r->closing++;
        drv_pg_close(r->pg, on_pg_closed, r);
    }
    if (r->loop_ok) {
        vfy_run_until(&r->loop, &r->closing, 0);
        uv_run(&r->loop, UV_RUN_NOWAIT);
        uv_loop_close(&r->loop);
    }
    for (size_t i = 0; i < r->nheap; i++)
        free(r->heap[i].key);
    free(r->heap);
    for (size_t i = 0; i < r->nsus; i++)
        free(r->sus[i].rkey);
    free(r->sus);
    sl_free(&r->page);
    sl_free(&r->ids);
    vfy_u64set_free(&r->seen);
    free(r->fmt);
    jdiff_free(r->jd);
    jdiff_opts_free(r->jo);
    json_decref(r->fields);
    json_decref(r->miss_pg_keys);
    json_decref(r->miss_redis_keys);
    json_decref(r->invalid_keys);
    free(r);
}

static int run_check(const dck_check *c, const dck_opts *o, json_t **out, cut_err *err)
{
    drun *r = calloc(1, sizeof(*r));
    int rc = CUT_ENOMEM;
    if (!r) return cut_err_set(err, CUT_ENOMEM, "data checks: out of memory");
    r->c = c;
    r->o = o;
    r->fields = json_object();
    r->miss_pg_keys = json_array();
    r->miss_redis_keys = json_array();
    r->invalid_keys = json_array();
    r->sus = calloc((size_t)c->recheck_max + 1, sizeof(*r->sus));
    if (c->mode == DCK_SAMPLE) r->heap = calloc((size_t)c->sample + 1, sizeof(*r->heap));
    if (!r->fields || !r->miss_pg_keys || !r->miss_redis_keys || !r->invalid_keys || !r->sus ||
        (c->mode == DCK_SAMPLE && !r->heap))
        goto fail;
    if ((rc = jdiff_opts_from_json(c->jdiff_spec, &r->jo, err)) < 0 ||
        (rc = jdiff_new(r->jo, &r->jd, err)) < 0)
        goto fail;
    if (uv_loop_init(&r->loop) != 0) {
        rc = cut_err_set(err, CUT_EIO, "data checks: cannot create an event loop");
        goto fail;
    }
    r->loop_ok = true;
    if ((rc = connect_all(r, err)) < 0) goto fail;
    double t0 = vfy_now_s();
    r->last_progress = t0;
    rc = run_pg_count(r);
    if (rc == 0) rc = run_scan(r);
    if (rc == 0 && c->mode == DCK_SAMPLE) rc = run_sample(r);
    if (rc == 0 && c->mode == DCK_FULL) rc = run_pg_keys(r);
    if (rc == 0 && r->nsus) rc = run_recheck(r);
    if (rc == CUT_ENOMEM) goto fail;
    progress(r, true);
    *out = result(r, vfy_now_s() - t0);
    rc = *out ? 0 : CUT_ENOMEM;
fail:
    if (rc == CUT_ENOMEM && !err->code) cut_err_set(err, rc, "data checks: out of memory");
    drun_free(r);
    return rc;
}

int dck_run(const scn_scenario *s, const dck_opts *o, json_t **out, cut_err *err)
{
    dck_cfg cfg = {0};
    scn_diags d;
    cut_err local = {0};
    json_t *arr = NULL;
    if (!err) err = &local;
    cut_err_clear(err);
    *out = NULL;
    if (!s->data_checks) return 0;
    scn_diags_init(&d);
    int rc = dck__cfg_build(s, &cfg, &d);
    if (rc < 0) {
        cut_err_set(err, rc, "%s", d.count ? d.lines[0] : "data checks: invalid section");
        goto fail;
    }
    arr = json_array();
    if (!arr) {
        rc = cut_err_set(err, CUT_ENOMEM, "data checks: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg.n; i++) {
        if (o && o->only && strcmp(o->only, cfg.checks[i].name) != 0) continue;
        json_t *one = NULL;
        if ((rc = run_check(&cfg.checks[i], o, &one, err)) < 0) goto fail;
        json_array_append_new(arr, one);
    }
    *out = arr;
    arr = NULL;
    rc = 0;
fail:
    json_decref(arr);
    scn_diags_free(&d);
    dck__cfg_free(&cfg);
    return rc;
}

bool dck_passed(const json_t *c)
{
    static const char *const zero[] = {"count_diff",       "missing_in_pg",  "missing_in_redis",
                                       "field_mismatches", "invalid_values", "errors"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        if (json_integer_value(json_object_get(c, zero[i])) != 0) return false;
    return true;
}
