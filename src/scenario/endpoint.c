/* endpoint.c - /endpoints: HTTP, Redis and PostgreSQL endpoints, URL parsing and the
 * redacted display forms used in every message. */
#include "scenario/internal.h"
#include "scenario/scenario.h"

#include <libpq-fe.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TIMEOUT_NS INT64_C(10000000000)

/* A value still holding "${": its unset variable was reported, so no second error about it. */
static bool unexpanded(const char *v)
{
    return v && strstr(v, "${") != NULL;
}

static const char *const TYPE_NAMES[] = {"http", "redis", "postgres"};

/* scheme://user:password@rest -> scheme://user:***@rest (the part before the first '/',
 * '?' or '#' after the scheme is the authority). */
static char *redact_url(scn_arena *a, const char *url)
{
    const char *auth = strstr(url, "://");
    if (!auth) return scn_arena_strdup(a, url);
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i;
    if (!at) return scn_arena_strdup(a, url);
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon) return scn_arena_strdup(a, url);
    size_t head = (size_t)(colon + 1 - url);
    size_t total = head + 3 + strlen(at);
    char *out = scn_arena_alloc(a, total + 1);
    if (!out) return NULL;
    memcpy(out, url, head);
    memcpy(out + head, "***", 3);
    strcpy(out + head + 3, at);
    return out;
}

/* Redacts libpq conninfo: URI userinfo passwords and every password=... (URI query or
 * key=value form, quoted values included). */
static char *redact_dsn(scn_arena *a, const char *dsn)
{
    char *base = redact_url(a, dsn);
    if (!base) return NULL;
    size_t len = strlen(base);
    char *out = scn_arena_alloc(a, len + 4 * 8 + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0, redacted = 0;
    while (i < len) {
        bool at_word = i == 0 || base[i - 1] == ' ' || base[i - 1] == '?' || base[i - 1] == '&' ||
                       base[i - 1] == '\t';
        if (at_word && strncasecmp(base + i, "password", 8) == 0) {
            size_t j = i + 8;
            while (j < len && (base[j] == ' ' || base[j] == '\t'))
                j++;
            if (j < len && base[j] == '=' && redacted < 8) {
                memcpy(out + o, base + i, j + 1 - i);
                o += j + 1 - i;
                j++;
                while (j < len && (base[j] == ' ' || base[j] == '\t'))
                    j++;
                if (j < len && base[j] == '\'') {
                    j++;
                    while (j < len && base[j] != '\'') {
                        if (base[j] == '\\' && j + 1 < len) j++;
                        j++;
                    }
                    if (j < len) j++;
                } else {
                    while (j < len && base[j] != ' ' && base[j] != '\t' && base[j] != '&')
                        j++;
                }
                memcpy(out + o, "***", 3);
                o += 3;
                redacted++;
                i = j;
                continue;
            }
        }
        out[o++] = base[i++];
    }
    out[o] = '\0';
    return out;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into the arena; NULL on a bad escape or no memory. */
static char *pct_decode(scn_arena *a, const char *s, size_t n)
{
    char *out = scn_arena_alloc(a, n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) return NULL;
            int h = hexval(s[i + 1]);
            int l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return NULL;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 10) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

/* redis://[[user]:password@]host[:port][/db]; reports at ptr with the display form. */
static bool parse_redis_url(scn__loader *L, const char *ptr, scn_redis_endpoint *r)
{
    scn_arena *a = L->c.arena;
    const char *url = r->url;
    const char *why = NULL;
    if (strncmp(url, "redis://", 8) != 0) {
        why = strncmp(url, "rediss://", 9) == 0 ? "TLS (rediss://) is not supported"
                                                : "must start with redis://";
        goto bad;
    }
    const char *p = url + 8;
    size_t alen = strcspn(p, "/?#");
    if (p[alen] == '?' || p[alen] == '#') {
        why = "query strings and fragments are not supported";
        goto bad;
    }
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (p[i] == '@') at = p + i;
    const char *host = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p) r->username = pct_decode(a, p, (size_t)(colon - p));
            r->password = pct_decode(a, colon + 1, (size_t)(at - colon - 1));
            if (!r->password || (colon > p && !r->username)) {
                why = "bad percent-escape in the user information";
                goto bad;
            }
        } else if (at > p) {
            r->username = pct_decode(a, p, (size_t)(at - p));
            if (!r->username) {
                why = "bad percent-escape in the user information";
                goto bad;
            }
        }
        host = at + 1;
    }
    const char *hend = p + alen;
    const char *port = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(hend - host));
        if (!close) {
            why = "unterminated IPv6 address";
            goto bad;
        }
        r->host = scn_arena_strndup(a, host + 1, (size_t)(close - host - 1));
        if (close + 1 < hend) {
            if (close[1] != ':') {
                why = "unexpected text after the IPv6 address";
                goto bad;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(hend - host));
        r->host = scn_arena_strndup(a, host, (size_t)((colon ? colon : hend) - host));
        if (colon) port = colon + 1;
    }
    if (!r->host || !*r->host) {
        why = "no host";
        goto bad;
    }
    r->port = 6379;
    if (port) {
        uint64_t v;
        if (!parse_uint(port, (size_t)(hend - port), 65535, &v) || v == 0) {
            why = "port must be 1-65535";
            goto bad;
        }
        r->port = (uint16_t)v;
    }
    if (*hend == '/' && hend[1]) {
        uint64_t v;
        if (!parse_uint(hend + 1, strlen(hend + 1), 1000000, &v)) {
            why = "the database must be a number (redis://host:port/0)";
            goto bad;
        }
        r->db = (uint32_t)v;
    }
    return true;
bad:
    if (!unexpanded(url))
        scn__err(&L->c, ptr, "bad Redis URL %s: %s", r->display ? r->display : "", why);
    return false;
}

static void load_headers(scn__loader *L, json_t *obj, const char *ptr, scn_http_endpoint *h,
                         bool *ok)
{
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "headers");
    if (!scn__want_object(&L->c, p, obj)) {
        *ok = false;
        return;
    }
    scn_header *hs = scn_arena_calloc(L->c.arena, json_object_size(obj) + 1, sizeof *hs);
    if (!hs) return;
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        char hp[SCN__PTR_MAX];
        scn__ptr_key(hp, p, key);
        const char *v;
        if (scn__get_str(&L->c, obj, p, key, &v) < 0 || strpbrk(v, "\r\n")) {
            if (json_is_string(val)) scn__err(&L->c, hp, "must not contain CR or LF");
            *ok = false;
            continue;
        }
        hs[n].name = scn_arena_strdup(L->c.arena, key);
        if (scn_tpl_literal(L->c.arena, v, strlen(v), &hs[n].value)) return;
        n++;
    }
    h->headers = hs;
    h->nheaders = n;
}

/* `cache_values: {"hit": [...], "miss": [...]}` and `cache_hop: "first" | "last"`. */
static void load_cache_values(scn__loader *L, json_t *ep, const char *ptr, scn_http_endpoint *h,
                              bool *ok)
{
    static const char *const hit_default[] = {"HIT", "STALE", "UPDATING", "REVALIDATED"};
    static const char *const miss_default[] = {"MISS", "EXPIRED"};
    scn__ctx *c = &L->c;
    h->cache_hit_values = hit_default;
    h->ncache_hit_values = 4;
    h->cache_miss_values = miss_default;
    h->ncache_miss_values = 2;
    json_t *cv = json_object_get(ep, "cache_values");
    if (cv) {
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, "cache_values");
        static const char *const keys[] = {"hit", "miss"};
        if (!scn__want_object(c, p, cv) || !scn__check_keys(c, p, cv, keys, 2)) {
            *ok = false;
        } else {
            char **list;
            size_t n;
            int rc = scn__get_str_list(c, cv, p, "hit", &list, &n);
            if (rc > 0) {
                h->cache_hit_values = (const char *const *)list;
                h->ncache_hit_values = n;
            } else if (rc < 0) {
                *ok = false;
            }
            rc = scn__get_str_list(c, cv, p, "miss", &list, &n);
            if (rc > 0) {
                h->cache_miss_values = (const char *const *)list;
                h->ncache_miss_values = n;
            } else if (rc < 0) {
                *ok = false;
            }
        }
    }
    const char *hop = NULL;
    int rc = scn__get_str(c, ep, ptr, "cache_hop", &hop);
    if (rc > 0) {
        if (strcmp(hop, "last") == 0) {
            h->cache_last_hop = true;
        } else if (strcmp(hop, "first") != 0) {
            char p[SCN__PTR_MAX];
            scn__ptr_key(p, ptr, "cache_hop");
            scn__err(c, p, "must be \"first\" or \"last\"");
            *ok = false;
        }
    } else if (rc < 0) {
        *ok = false;
    }
}

static void load_http(scn__loader *L, json_t *ep, const char *ptr, scn_endpoint *e, bool *ok)
{
    static const char *const keys[] = {
        "type",     "base_url",     "headers",      "max_connections", "timeout", "connect_timeout",
        "max_body", "cache_header", "cache_values", "cache_hop"};
    scn__ctx *c = &L->c;
    scn_http_endpoint *h = &e->u.http;
    h->max_connections = 64;
    h->timeout_ns = DEFAULT_TIMEOUT_NS;
    h->max_body = 1u << 20;
    if (!scn__check_keys(c, ptr, ep, keys, sizeof keys / sizeof *keys)) *ok = false;

    const char *url = NULL;
    int rc = scn__get_str(c, ep, ptr, "base_url", &url);
    char p[SCN__PTR_MAX];
    scn__ptr_key(p, ptr, "base_url");
    if (rc == 0) {
        scn__err(c, ptr, "missing \"base_url\"");
        *ok = false;
    } else if (rc > 0) {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            n--;
        h->base_url = scn_arena_strndup(c->arena, url, n);
        h->base_url_display = h->base_url ? redact_url(c->arena, h->base_url) : NULL;
        if (unexpanded(url)) {
            *ok = false; /* the unset ${VAR} is reported already */
        } else if (h->base_url_display && strncmp(url, "http://", 7) != 0 &&
                   strncmp(url, "https://", 8) != 0) {
            scn__err(c, p, "must start with http:// or https:// (got %s)",
                     *url ? h->base_url_display : "an empty string");
            *ok = false;
        } else if (h->base_url_display && strpbrk(url, "?#")) {
            scn__err(c, p, "must not have a query or fragment (%s)", h->base_url_display);
            *ok = false;
        }
    } else {
        *ok = false;
    }
    json_t *hv = json_object_get(ep, "headers");
    if (hv) load_headers(L, hv, ptr, h, ok);

    int64_t x;
    if ((rc = scn__get_int(c, ep, ptr, "max_connections", 1, 1000000, &x)) > 0)
        h->max_connections = (uint32_t)x;
    if (rc < 0) *ok = false;
    if ((rc = scn__get_int(c, ep, ptr, "max_body", 0, INT64_MAX, &x)) > 0)
        h->max_body = (uint64_t)x;
    if (rc < 0) *ok = false;
    if (scn__get_duration(c, ep, ptr, "timeout", false, &h->timeout_ns) < 0) *ok = false;
    h->connect_timeout_ns = h->timeout_ns;
    if (scn__get_duration(c, ep, ptr, "connect_timeout", false, &h->connect_timeout_ns) < 0)
        *ok = false;

    static const char *const cache_default[] = {"X-Cache-Status", "X-Cache"};
    h->cache_headers = cache_default;
    h->ncache_headers = 2;
    json_t *ch = json_object_get(ep, "cache_header");
    if (json_is_string(ch)) {
        const char **one = scn_arena_calloc(c->arena, 1, sizeof *one);
        if (one) {
            one[0] = scn_arena_strdup(c->arena, json_string_value(ch));
            h->cache_headers = one;
            h->ncache_headers = 1;
        }
    } else if (ch) {
        char **list;
        size_t n;
        if (scn__get_str_list(c, ep, ptr, "cache_header", &list, &n) > 0) {
            h->cache_headers = (const char *const *)list;
            h->ncache_headers = n;
        } else {
            *ok = false;
        }
    }
    load_cache_values(L, ep, ptr, h, ok);
}

static void load_redis(scn__loader *L, json_t *ep, const char *ptr, scn_endpoint *e, bool *ok)
{
    static const char *const keys[] = {"type", "url", "pool", "timeout"};
    scn__ctx *c = &L->c;
    scn_redis_endpoint *r = &e->u.redis;
    r->pool = 4;
    r->timeout_ns = DEFAULT_TIMEOUT_NS;
    if (!scn__check_keys(c, ptr, ep, keys, sizeof keys / sizeof *keys)) *ok = false;
    const char *url;
    int rc = scn__get_str(c, ep, ptr, "url", &url);
    if (rc == 0) {
        scn__err(c, ptr, "missing \"url\"");
        *ok = false;
    } else if (rc > 0) {
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, "url");
        r->url = scn_arena_strdup(c->arena, url);
        r->display = r->url ? redact_url(c->arena, r->url) : NULL;
        if (r->display && !parse_redis_url(L, p, r)) *ok = false;
    } else {
        *ok = false;
    }
    int64_t x;
    if ((rc = scn__get_int(c, ep, ptr, "pool", 1, 10000, &x)) > 0) r->pool = (uint32_t)x;
    if (rc < 0) *ok = false;
    if (scn__get_duration(c, ep, ptr, "timeout", false, &r->timeout_ns) < 0) *ok = false;
}

static void load_pg(scn__loader *L, json_t *ep, const char *ptr, scn_endpoint *e, bool *ok)
{
    static const char *const keys[] = {"type", "dsn", "pool", "timeout", "pipeline"};
    scn__ctx *c = &L->c;
    scn_pg_endpoint *g = &e->u.pg;
    g->pool = 4;
    g->timeout_ns = DEFAULT_TIMEOUT_NS;
    g->pipeline = 1;
    if (!scn__check_keys(c, ptr, ep, keys, sizeof keys / sizeof *keys)) *ok = false;
    const char *dsn;
    int rc = scn__get_str(c, ep, ptr, "dsn", &dsn);
    if (rc == 0) {
        scn__err(c, ptr, "missing \"dsn\"");
        *ok = false;
    } else if (rc > 0) {
        char p[SCN__PTR_MAX];
        scn__ptr_key(p, ptr, "dsn");
        g->dsn = scn_arena_strdup(c->arena, dsn);
        g->display = g->dsn ? redact_dsn(c->arena, g->dsn) : NULL;
        char *msg = NULL;
        PQconninfoOption *opts = g->display ? PQconninfoParse(dsn, &msg) : NULL;
        if (unexpanded(dsn)) {
            *ok = false; /* the unset ${VAR} is reported already */
        } else if (g->display && !opts) {
            /* libpq's message may quote parts of the DSN: show only the redacted form. */
            scn__err(c, p, "libpq cannot parse the connection string %s", g->display);
            *ok = false;
        }
        PQconninfoFree(opts);
        PQfreemem(msg);
    } else {
        *ok = false;
    }
    int64_t x;
    if ((rc = scn__get_int(c, ep, ptr, "pool", 1, 10000, &x)) > 0) g->pool = (uint32_t)x;
    if (rc < 0) *ok = false;
    if ((rc = scn__get_int(c, ep, ptr, "pipeline", 1, 100000, &x)) > 0) g->pipeline = (uint32_t)x;
    if (rc < 0) *ok = false;
    if (scn__get_duration(c, ep, ptr, "timeout", false, &g->timeout_ns) < 0) *ok = false;
}

void scn__load_endpoints(scn__loader *L, json_t *endpoints)
{
    scn__ctx *c = &L->c;
    size_t n = json_object_size(endpoints);
    L->endpoints = scn_arena_calloc(c->arena, n + 1, sizeof *L->endpoints);
    L->endpoint_ok = scn_arena_calloc(c->arena, n + 1, sizeof *L->endpoint_ok);
    L->ep_type = scn_arena_calloc(c->arena, n + 1, sizeof *L->ep_type);
    if (!L->endpoints || !L->endpoint_ok || !L->ep_type) return;
    const char *name;
    json_t *ep;
    json_object_foreach(endpoints, name, ep)
    {
        char ptr[SCN__PTR_MAX];
        scn__ptr_key(ptr, "/endpoints", name);
        scn_endpoint *e = &L->endpoints[L->nendpoints];
        bool ok = true;
        e->name = scn_arena_strdup(c->arena, name);
        if (!scn__name_ok(name, false)) {
            scn__err(c, ptr, "bad endpoint name (use letters, digits, '_' and '-')");
            ok = false;
        }
        if (!scn__want_object(c, ptr, ep)) {
            L->ep_type[L->nendpoints] = -1;
            L->endpoint_ok[L->nendpoints++] = false;
            continue;
        }
        const char *type = NULL;
        int rc = scn__get_str(c, ep, ptr, "type", &type);
        long t = -1;
        if (rc == 0) {
            scn__err(c, ptr, "missing \"type\" (one of http, redis, postgres)");
        } else if (rc > 0) {
            char tp[SCN__PTR_MAX];
            scn__ptr_key(tp, ptr, "type");
            t = scn__resolve(L, tp, "endpoint type", type, TYPE_NAMES, 3, true);
        }
        if (t < 0) {
            L->ep_type[L->nendpoints] = -1;
            L->endpoint_ok[L->nendpoints++] = false;
            continue;
        }
        e->type = (scn_endpoint_type)t;
        L->ep_type[L->nendpoints] = (int)t;
        if (e->type == SCN_EP_HTTP)
            load_http(L, ep, ptr, e, &ok);
        else if (e->type == SCN_EP_REDIS)
            load_redis(L, ep, ptr, e, &ok);
        else
            load_pg(L, ep, ptr, e, &ok);
        L->endpoint_ok[L->nendpoints++] = ok;
    }
}
