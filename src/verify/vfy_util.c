/* vfy_util.c - see vfy_util.h. */
#include "verify/vfy_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vfy_run_until(uv_loop_t *loop, const size_t *pending, uint64_t max_ns)
{
    uint64_t end = max_ns ? uv_hrtime() + max_ns : UINT64_MAX;
    while (*pending > 0) {
        if (uv_hrtime() > end) return CUT_ESTATE;
        /* 0 means nothing is active: work that can never complete (a bug, not a wait). */
        if (uv_run(loop, UV_RUN_ONCE) == 0 && *pending > 0) return CUT_ESTATE;
    }
    return 0;
}

uint64_t vfy_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    /* FNV alone mixes the last bytes poorly; splitmix64's finish spreads them. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static size_t slot_of(uint64_t v, size_t cap)
{
    return (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 7) & (cap - 1);
}

static int grow(vfy_u64set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *t = calloc(cap, sizeof(*t));
    if (!t) return CUT_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t v = s->slots[i];
        if (!v) continue;
        size_t j = slot_of(v, cap);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = v;
    }
    free(s->slots);
    s->slots = t;
    s->cap = cap;
    return 0;
}

bool vfy_u64set_has(const vfy_u64set *s, uint64_t v)
{
    if (v == 0) return s->has_zero;
    if (!s->cap) return false;
    for (size_t j = slot_of(v, s->cap);; j = (j + 1) & (s->cap - 1)) {
        if (s->slots[j] == v) return true;
        if (!s->slots[j]) return false;
    }
}

int vfy_u64set_add(vfy_u64set *s, uint64_t v)
{
    if (v == 0) {
        if (s->has_zero) return 0;
        s->has_zero = true;
        return 1;
    }
    /* Load factor at most 1/2 keeps probes short. */
    if ((s->count + 1) * 2 > s->cap && grow(s) < 0) return CUT_ENOMEM;
    size_t j = slot_of(v, s->cap);
    while (s->slots[j]) {
        if (s->slots[j] == v) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = v;
    s->count++;
    return 1;
}

void vfy_u64set_free(vfy_u64set *s)
{
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t cp;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

json_t *vfy_text_json(const char *p, size_t n, size_t max, bool *truncated)
{
    const unsigned char *u = (const unsigned char *)p;
    char *buf = malloc(max + 8);
    size_t o = 0, i = 0;
    if (!buf) return NULL;
    while (i < n) {
        size_t l = utf8_len(u + i, n - i);
        bool ctl = l == 1 && u[i] < 0x20 && u[i] != '\n' && u[i] != '\t';
        size_t need = (l == 0 || ctl) ? 4 : l;
        if (o + need > max) break;
        if (l == 0 || ctl) {
            snprintf(buf + o, 5, "\\x%02x", u[i]);
            i++;
        } else {
            memcpy(buf + o, u + i, l);
            i += l;
        }
        o += need;
    }
    if (truncated) *truncated = i < n;
    json_t *s = json_stringn(buf, o);
    free(buf);
    return s;
}

bool vfy_utf8_ok(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        size_t l = u[i] ? utf8_len(u + i, n - i) : 0;
        if (!l) return false;
        i += l;
    }
    return true;
}

double vfy_now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}
