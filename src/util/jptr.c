#include "util/jptr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest pointer text quoted in an error message: the text comes from scenario files. */
#define JPTR_QUOTE_MAX 200

typedef struct jptr_seg {
    const char *s; /* unescaped, NUL-terminated (inside the jptr block) */
    size_t len;
    size_t index; /* valid when is_index */
    bool is_index;
    bool wild;
} jptr_seg;

struct jptr {
    size_t n;
    bool wild;
    char *text;
    jptr_seg seg[];
};

/* RFC 6901 array index: "0" or [1-9][0-9]*, and it must fit a size_t. */
static bool parse_index(const char *s, size_t len, size_t *out)
{
    if (len == 0 || (len > 1 && s[0] == '0')) return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        size_t d = (size_t)(s[i] - '0');
        if (v > (SIZE_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int jptr_compile(const char *text, jptr **out, cut_err *err)
{
    jptr *p = NULL;
    int rc;
    if (!out) return cut_err_set(err, CUT_EINVAL, "jptr_compile: out is NULL");
    *out = NULL;
    if (!text) return cut_err_set(err, CUT_EINVAL, "JSON pointer is NULL");
    size_t tlen = strlen(text);
    if (tlen > 0 && text[0] != '/') {
        rc = cut_err_set(err, CUT_EINVAL,
                         "bad JSON pointer \"%.*s\": must be empty or start with '/'",
                         JPTR_QUOTE_MAX, text);
        goto fail;
    }
    size_t n = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (text[i] == '/') n++;
        if (text[i] == '~' && text[i + 1] != '0' && text[i + 1] != '1') {
            rc = cut_err_set(err, CUT_EINVAL,
                             "bad JSON pointer \"%.*s\": '~' at offset %zu must be followed by "
                             "'0' or '1'",
                             JPTR_QUOTE_MAX, text, i);
            goto fail;
        }
    }
    /* One block: header, segments, the text, then the unescaped segments (each NUL-ended;
     * unescaping never lengthens, so tlen + 1 bytes cover them all). */
    size_t size = sizeof *p + n * sizeof(jptr_seg) + (tlen + 1) + (tlen + 1);
    p = calloc(1, size);
    if (!p) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory compiling JSON pointer");
        goto fail;
    }
    p->n = n;
    p->text = (char *)&p->seg[n];
    memcpy(p->text, text, tlen + 1);
    char *w = p->text + tlen + 1;
    const char *r = text;
    for (size_t k = 0; k < n; k++) {
        r++; /* the '/' */
        jptr_seg *sg = &p->seg[k];
        sg->s = w;
        bool escaped = false;
        while (*r && *r != '/') {
            if (*r == '~') {
                *w++ = r[1] == '0' ? '~' : '/';
                r += 2;
                escaped = true;
            } else {
                *w++ = *r++;
            }
        }
        sg->len = (size_t)(w - sg->s);
        *w++ = '\0';
        sg->wild = !escaped && sg->len == 1 && sg->s[0] == '*';
        sg->is_index = parse_index(sg->s, sg->len, &sg->index);
        if (sg->wild) p->wild = true;
    }
    *out = p;
    return 0;
fail:
    free(p);
    return rc;
}

void jptr_free(jptr *p)
{
    free(p);
}

const char *jptr_text(const jptr *p)
{
    return p->text;
}

size_t jptr_depth(const jptr *p)
{
    return p->n;
}

bool jptr_is_wild(const jptr *p)
{
    return p->wild;
}

/* The child of v named by a non-wildcard segment, or NULL. */
static json_t *child(const json_t *v, const jptr_seg *sg)
{
    if (json_is_object(v)) return json_object_getn(v, sg->s, sg->len);
    if (json_is_array(v) && sg->is_index) return json_array_get(v, sg->index);
    return NULL;
}

json_t *jptr_get(const jptr *p, const json_t *doc)
{
    if (!p || !doc || p->wild) return NULL;
    const json_t *v = doc;
    for (size_t k = 0; k < p->n && v; k++)
        v = child(v, &p->seg[k]);
    return (json_t *)v;
}

/* --- path buffers ------------------------------------------------------------------ */

static int buf_reserve(jptr_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) return CUT_ENOMEM;
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) return CUT_ENOMEM;
    b->s = s;
    b->cap = cap;
    return 0;
}

int jptr_buf_push_key(jptr_buf *b, const char *key, size_t n)
{
    size_t esc = 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] == '~' || key[i] == '/') esc++;
    if (n > SIZE_MAX / 2 || buf_reserve(b, 1 + n + esc)) return CUT_ENOMEM;
    char *w = b->s + b->len;
    *w++ = '/';
    if (esc == 0) {
        memcpy(w, key, n);
        w += n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (key[i] == '~') {
                *w++ = '~';
                *w++ = '0';
            } else if (key[i] == '/') {
                *w++ = '~';
                *w++ = '1';
            } else {
                *w++ = key[i];
            }
        }
    }
    *w = '\0';
    b->len = (size_t)(w - b->s);
    return 0;
}

int jptr_buf_push_index(jptr_buf *b, size_t index)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "/%zu", index);
    if (buf_reserve(b, (size_t)n)) return CUT_ENOMEM;
    memcpy(b->s + b->len, tmp, (size_t)n + 1);
    b->len += (size_t)n;
    return 0;
}

int jptr_buf_set(jptr_buf *b, const char *s, size_t n)
{
    b->len = 0;
    if (buf_reserve(b, n)) return CUT_ENOMEM;
    if (n) memmove(b->s, s, n);
    b->s[n] = '\0';
    b->len = n;
    return 0;
}

void jptr_buf_trunc(jptr_buf *b, size_t len)
{
    if (!b->s || len > b->len) return;
    b->len = len;
    b->s[len] = '\0';
}

void jptr_buf_free(jptr_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

size_t jptr_escape(char *dst, size_t cap, const char *seg, size_t n)
{
    size_t need = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (need + 1 < cap) dst[need] = (c);                                                       \
        need++;                                                                                    \
    } while (0)
    PUT('/');
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == '~') {
            PUT('~');
            PUT('0');
        } else if (seg[i] == '/') {
            PUT('~');
            PUT('1');
        } else {
            PUT(seg[i]);
        }
    }
#undef PUT
    if (cap > 0) dst[need < cap ? need : cap - 1] = '\0';
    return need;
}

/* --- foreach ------------------------------------------------------------------------ */

/* One frame per pattern segment consumed; wildcards iterate, plain segments step once. */
typedef struct walk {
    const json_t *v;
    void *iter;   /* objects under a wildcard */
    size_t i;     /* arrays under a wildcard */
    size_t plen;  /* path length on entry */
    bool started; /* plain segment already followed */
} walk;

int jptr_foreach(const jptr *p, const json_t *doc, jptr_visit_cb cb, void *ud)
{
    if (!p || !doc || !cb) return 0;
    jptr_buf path = {0};
    walk *st = calloc(p->n + 1, sizeof *st);
    int rc = 0;
    if (!st || jptr_buf_set(&path, "", 0)) {
        rc = CUT_ENOMEM;
        goto done;
    }
    size_t top = 0; /* frames in use; frame k has consumed k segments */
    st[top++] = (walk){.v = doc};
    while (top > 0) {
        walk *f = &st[top - 1];
        size_t k = top - 1;
        jptr_buf_trunc(&path, f->plen);
        if (k == p->n) {
            rc = cb(path.s, (json_t *)f->v, ud);
            if (rc) goto done;
            top--;
            continue;
        }
        const jptr_seg *sg = &p->seg[k];
        const json_t *next = NULL;
        int prc = 0;
        if (!sg->wild) {
            if (!f->started) {
                f->started = true;
                next = child(f->v, sg);
                if (next && json_is_array(f->v))
                    prc = jptr_buf_push_index(&path, sg->index);
                else if (next)
                    prc = jptr_buf_push_key(&path, sg->s, sg->len);
            }
        } else if (json_is_object(f->v)) {
            if (!f->started) {
                f->started = true;
                f->iter = json_object_iter((json_t *)f->v);
            }
            if (f->iter) {
                const char *key = json_object_iter_key(f->iter);
                next = json_object_iter_value(f->iter);
                prc = jptr_buf_push_key(&path, key, json_object_iter_key_len(f->iter));
                f->iter = json_object_iter_next((json_t *)f->v, f->iter);
            }
        } else if (json_is_array(f->v) && f->i < json_array_size(f->v)) {
            next = json_array_get(f->v, f->i);
            prc = jptr_buf_push_index(&path, f->i);
            f->i++;
        }
        if (prc) {
            rc = CUT_ENOMEM;
            goto done;
        }
        if (!next) {
            top--;
            continue;
        }
        /* The child restores the path to parent + its own segment; st has n + 1 frames and
         * a push happens only while k < n, so it never overflows. */
        st[top++] = (walk){.v = next, .plen = path.len};
    }
done:
    free(st);
    jptr_buf_free(&path);
    return rc;
}

/* --- matching ----------------------------------------------------------------------- */

/* Compares one escaped segment of a concrete path, [s, e), with an unescaped pattern segment.
 * Returns false also when the path segment holds a bad escape. */
static bool seg_equal(const char *s, const char *e, const jptr_seg *sg)
{
    size_t j = 0;
    while (s < e) {
        char c = *s++;
        if (c == '~') {
            if (s == e) return false;
            char x = *s++;
            if (x == '0')
                c = '~';
            else if (x == '1')
                c = '/';
            else
                return false;
        }
        if (j >= sg->len || sg->s[j] != c) return false;
        j++;
    }
    return j == sg->len;
}

static bool seg_valid(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s == '~' && (s + 1 == e || (s[1] != '0' && s[1] != '1'))) return false;
    return true;
}

bool jptr_matchesn(const jptr *pattern, const char *path, size_t len)
{
    if (!pattern || !path) return false;
    if (len > 0 && path[0] != '/') return false;
    const char *r = path, *end = path + len;
    for (size_t k = 0; k < pattern->n; k++) {
        if (r == end) return false; /* the path is shallower than the pattern */
        const char *s = r + 1;
        const char *e = memchr(s, '/', (size_t)(end - s));
        if (!e) e = end;
        if (pattern->seg[k].wild) {
            if (!seg_valid(s, e)) return false;
        } else if (!seg_equal(s, e, &pattern->seg[k])) {
            return false;
        }
        r = e;
    }
    return true;
}

bool jptr_matches(const jptr *pattern, const char *path)
{
    return path && jptr_matchesn(pattern, path, strlen(path));
}
