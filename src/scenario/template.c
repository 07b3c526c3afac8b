#include "scenario/template.h"

#include <string.h>

#include "scenario/suggest.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds the slot for name[0..len); returns 0 and sets *slot, or CUT_EINVAL. */
static int lookup(const scn_tpl_vars *vars, const char *name, size_t len, uint32_t *slot,
                  cut_err *err)
{
    for (size_t i = 0; i < vars->count; i++) {
        if (strlen(vars->names[i]) == len && memcmp(vars->names[i], name, len) == 0) {
            *slot = (uint32_t)i;
            return 0;
        }
    }
    for (size_t i = 0; i < vars->nopen; i++) {
        size_t pl = strlen(vars->open_prefixes[i]);
        if (len > pl && name[pl] == '.' && memcmp(name, vars->open_prefixes[i], pl) == 0) {
            *slot = 0;
            return 0;
        }
    }
    char word[64];
    size_t wl = len < sizeof word - 1 ? len : sizeof word - 1;
    memcpy(word, name, wl);
    word[wl] = '\0';
    char known[256];
    scn__join(known, sizeof known, vars->names, vars->count);
    const char *near = scn__suggest(word, vars->names, vars->count);
    if (near)
        return cut_err_set(err, CUT_EINVAL,
                           "unknown variable \"%s\" (did you mean \"%s\"? known: %s)", word, near,
                           known);
    return cut_err_set(err, CUT_EINVAL, "unknown variable \"%s\" (known: %s)", word,
                       vars->count ? known : "none, the scenario has no data sets");
}

int scn_tpl_literal(scn_arena *a, const char *text, size_t len, scn_tpl *out)
{
    memset(out, 0, sizeof *out);
    char *copy = scn_arena_strndup(a, text, len);
    scn_seg *seg = scn_arena_alloc(a, sizeof *seg);
    if (!copy || !seg) return CUT_ENOMEM;
    seg->kind = SCN_SEG_LITERAL;
    seg->text = copy;
    seg->len = len;
    out->segs = seg;
    out->nsegs = 1;
    out->literal = true;
    out->text = copy;
    out->len = len;
    out->fixed_len = len;
    return 0;
}

int scn_tpl_compile(scn_arena *a, const char *text, size_t len, const scn_tpl_vars *vars,
                    scn_enc enc, scn_tpl *out, cut_err *err)
{
    memset(out, 0, sizeof *out);
    /* Upper bounds: every "{{" opens at most one variable and splits one literal. */
    size_t opens = 0;
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '{' && text[i + 1] == '{') opens++;
    scn_seg *segs = scn_arena_calloc(a, 2 * opens + 1, sizeof *segs);
    char *lit = scn_arena_alloc(a, len + 1);
    if (!segs || !lit) return cut_err_set(err, CUT_ENOMEM, "out of memory");

    uint32_t nsegs = 0;
    size_t lit_used = 0;  /* bytes written into lit */
    size_t seg_start = 0; /* where the open literal segment starts in lit */
    size_t i = 0;
    while (i < len) {
        if (text[i] == '\\' && i + 2 < len && text[i + 1] == '{' && text[i + 2] == '{') {
            lit[lit_used++] = '{';
            lit[lit_used++] = '{';
            i += 3;
            continue;
        }
        if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{') {
            lit[lit_used++] = text[i++];
            continue;
        }
        /* A variable: {{ name }} */
        size_t j = i + 2;
        while (j + 1 < len && !(text[j] == '}' && text[j + 1] == '}'))
            j++;
        if (j + 1 >= len)
            return cut_err_set(err, CUT_EINVAL, "unterminated \"{{\" at offset %zu", i);
        size_t b = i + 2, e = j;
        while (b < e && is_space(text[b]))
            b++;
        while (e > b && is_space(text[e - 1]))
            e--;
        if (b == e) return cut_err_set(err, CUT_EINVAL, "empty variable name at offset %zu", i);
        uint32_t slot;
        int rc = lookup(vars, text + b, e - b, &slot, err);
        if (rc) return rc;
        if (lit_used > seg_start) {
            segs[nsegs].kind = SCN_SEG_LITERAL;
            segs[nsegs].text = lit + seg_start;
            segs[nsegs].len = lit_used - seg_start;
            nsegs++;
        }
        segs[nsegs].kind = SCN_SEG_VAR;
        segs[nsegs].enc = (uint8_t)enc;
        segs[nsegs].var = slot;
        nsegs++;
        /* Literal segments never share bytes: a NUL keeps each one printable in a debugger. */
        lit[lit_used++] = '\0';
        seg_start = lit_used;
        i = j + 2;
    }
    if (lit_used > seg_start || nsegs == 0) {
        segs[nsegs].kind = SCN_SEG_LITERAL;
        segs[nsegs].text = lit + seg_start;
        segs[nsegs].len = lit_used - seg_start;
        nsegs++;
    }
    lit[lit_used] = '\0';

    out->segs = segs;
    out->nsegs = nsegs;
    out->literal = true;
    for (uint32_t k = 0; k < nsegs; k++) {
        if (segs[k].kind == SCN_SEG_VAR)
            out->literal = false;
        else
            out->fixed_len += segs[k].len;
    }
    if (out->literal) {
        out->text = segs[0].text;
        out->len = segs[0].len;
    }
    return 0;
}

bool scn_tpl_uses(const scn_tpl *t, uint32_t var)
{
    for (uint32_t i = 0; i < t->nsegs; i++)
        if (t->segs[i].kind == SCN_SEG_VAR && t->segs[i].var == var) return true;
    return false;
}

static size_t json_escaped_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

static size_t json_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc = 0;
        switch (c) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        default:
            break;
        }
        if (esc) {
            out[n++] = '\\';
            out[n++] = esc;
        } else if (c < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[c >> 4];
            out[n + 5] = hex[c & 15];
            n += 6;
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

size_t scn_tpl_length(const scn_tpl *t, const scn_value *binding)
{
    if (t->literal) return t->len;
    size_t n = 0;
    for (uint32_t i = 0; i < t->nsegs; i++) {
        const scn_seg *s = &t->segs[i];
        if (s->kind == SCN_SEG_LITERAL) {
            n += s->len;
            continue;
        }
        const scn_value *v = &binding[s->var];
        if (!v->ptr) continue;
        n += s->enc == SCN_ENC_JSON ? json_escaped_len(v->ptr, v->len) : v->len;
    }
    return n;
}

int scn_tpl_expand(const scn_tpl *t, const scn_value *binding, char *buf, size_t cap,
                   size_t *out_len)
{
    size_t need = scn_tpl_length(t, binding);
    if (out_len) *out_len = need;
    if (need >= cap) return CUT_ERANGE;
    size_t n = 0;
    for (uint32_t i = 0; i < t->nsegs; i++) {
        const scn_seg *s = &t->segs[i];
        if (s->kind == SCN_SEG_LITERAL) {
            memcpy(buf + n, s->text, s->len);
            n += s->len;
            continue;
        }
        const scn_value *v = &binding[s->var];
        if (!v->ptr) continue;
        if (s->enc == SCN_ENC_JSON) {
            n += json_escape(buf + n, v->ptr, v->len);
        } else {
            memcpy(buf + n, v->ptr, v->len);
            n += v->len;
        }
    }
    buf[n] = '\0';
    return 0;
}
