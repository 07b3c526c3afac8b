/* env.c - ${ENV} expansion over the parsed scenario, before anything reads it. */
#include "scenario/internal.h"

#include <stdlib.h>
#include <string.h>

static bool name_char(char ch, bool first)
{
    return ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (!first && ch >= '0' && ch <= '9');
}

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Expands one string value; returns false when it reported a problem. */
static bool expand_string(scn__ctx *c, const char *ptr, json_t *str)
{
    const char *s = json_string_value(str);
    size_t len = json_string_length(str);
    if (!memchr(s, '$', len)) return true;
    buf b = {0};
    bool ok = true, changed = false;
    size_t i = 0;
    while (i < len) {
        if (s[i] != '$') {
            size_t j = i;
            while (j < len && s[j] != '$')
                j++;
            buf_add(&b, s + i, j - i);
            i = j;
            continue;
        }
        if (i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') { /* $${ -> ${ */
            buf_add(&b, "${", 2);
            i += 3;
            changed = true;
            continue;
        }
        if (i + 1 >= len || s[i + 1] != '{') { /* a lone $ is literal */
            buf_add(&b, "$", 1);
            i++;
            continue;
        }
        size_t n0 = i + 2, n1 = n0;
        while (n1 < len && name_char(s[n1], n1 == n0))
            n1++;
        char name[128];
        size_t nl = n1 - n0 < sizeof name - 1 ? n1 - n0 : sizeof name - 1;
        memcpy(name, s + n0, nl);
        name[nl] = '\0';
        if (n1 == n0 || n1 - n0 >= sizeof name) {
            scn__err(c, ptr,
                     "bad environment reference at offset %zu: \"${\" must be followed by "
                     "a name of letters, digits and '_' (write \"$${\" for a literal \"${\")",
                     i);
            ok = false;
            break;
        }
        const char *def = NULL;
        size_t def_len = 0, end = n1;
        if (n1 + 1 < len && s[n1] == ':' && s[n1 + 1] == '-') {
            def = s + n1 + 2;
            const char *close = memchr(def, '}', len - (n1 + 2));
            if (!close) {
                end = len;
            } else {
                def_len = (size_t)(close - def);
                end = (size_t)(close - s);
            }
        }
        if (end >= len || s[end] != '}') {
            scn__err(c, ptr, "bad environment reference \"${%s\": expected \"}\" or \":-default}\"",
                     name);
            ok = false;
            break;
        }
        const char *val = getenv(name);
        if (val) {
            buf_add(&b, val, strlen(val));
        } else if (def) {
            buf_add(&b, def, def_len);
        } else {
            scn__err(c, ptr, "environment variable %s is not set", name);
            ok = false;
        }
        changed = true;
        i = end + 1;
    }
    if (b.oom) {
        scn__err(c, ptr, "out of memory");
        ok = false;
    } else if (ok && changed && json_string_setn(str, b.p ? b.p : "", b.len) != 0) {
        scn__err(c, ptr, "environment value is not valid UTF-8");
        ok = false;
    }
    free(b.p);
    return ok;
}

static bool walk(scn__ctx *c, const char *ptr, json_t *v)
{
    bool ok = true;
    char p[SCN__PTR_MAX];
    if (json_is_string(v)) return expand_string(c, ptr, v);
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
        {
            scn__ptr_key(p, ptr, key);
            if (!walk(c, p, val)) ok = false;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val)
        {
            scn__ptr_idx(p, ptr, i);
            if (!walk(c, p, val)) ok = false;
        }
    }
    return ok;
}

bool scn__env_expand(scn__ctx *c, json_t *root)
{
    return walk(c, "", root);
}
