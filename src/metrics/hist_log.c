/* hist_log.c - HdrHistogram's compressed V2 encoding, the form HdrHistogram log files
 * (HistogramLogProcessor) and every HdrHistogram implementation read.
 *
 * Layout, all integers big-endian:
 *   compressed: u32 cookie 0x1c849304 | 0x10, i32 length, zlib stream of `length` bytes
 *   inflated:   u32 cookie 0x1c849303 | 0x10, i32 payload length, i32 normalizing index
 *               offset, i32 significant digits, i64 lowest, i64 highest, f64 conversion
 *               ratio (40 bytes), then the payload: counts from index 0 up to the
 *               largest non-zero one, each a ZigZag LEB128 (at most 9 bytes, the 9th
 *               carrying 8 bits); a negative number -n stands for n zero counts.
 * Writers set 0x10 in the cookie (Java and C do; readers mask 0xf0 off). */
#include "metrics/hist.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define V2_ENCODING_COOKIE 0x1c849303u
#define V2_COMPRESSED_COOKIE 0x1c849304u
#define V1_ENCODING_COOKIE 0x1c849301u
#define V1_COMPRESSED_COOKIE 0x1c849302u
#define V0_ENCODING_COOKIE 0x1c849308u
#define V0_COMPRESSED_COOKIE 0x1c849309u
#define COOKIE_BASE(c) ((c) & ~0xf0u)
#define HEADER_LEN 40
#define COMPRESSED_HEADER_LEN 8
#define LEB128_MAX 9
/* Longest base64 text hist_decode accepts (a full 16 MiB histogram encodes far below). */
#define MAX_B64_LEN ((size_t)64 << 20)

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static size_t zigzag_put(uint8_t *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    for (int i = 0; i < 8; i++) {
        if (u < 0x80) {
            p[n++] = (uint8_t)u;
            return n;
        }
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u; /* 9th byte: the remaining 8 bits, no continuation flag */
    return n;
}

/* Reads one value from p[0..avail); returns bytes used, 0 if the value runs past avail. */
static size_t zigzag_get(const uint8_t *p, size_t avail, int64_t *v)
{
    uint64_t u = 0;
    size_t n = 0;
    for (;;) {
        if (n >= avail) return 0;
        uint8_t b = p[n];
        if (n == LEB128_MAX - 1) {
            u |= (uint64_t)b << 56;
            n++;
            break;
        }
        u |= (uint64_t)(b & 0x7f) << (7 * n);
        n++;
        if (!(b & 0x80)) break;
    }
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return n;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) return NULL;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = B64[w >> 18];
        *o++ = B64[(w >> 12) & 63];
        *o++ = B64[(w >> 6) & 63];
        *o++ = B64[w & 63];
    }
    if (i < n) {
        uint32_t w = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = B64[w >> 18];
        *o++ = B64[(w >> 12) & 63];
        *o++ = i + 1 < n ? B64[(w >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard alphabet, padding optional; out needs len / 4 * 3 + 3 bytes. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len, cut_err *err)
{
    size_t pad = 0;
    while (pad < 2 && len > 0 && in[len - 1] == '=') {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
        return cut_err_set(err, CUT_EINVAL, "encoded histogram: base64 text has a bad length");
    size_t n = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return cut_err_set(err, CUT_EINVAL,
                               "encoded histogram: invalid base64 character 0x%02x at offset %zu",
                               (unsigned char)in[i], i);
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[n++] = (uint8_t)(acc >> 16);
            out[n++] = (uint8_t)(acc >> 8);
            out[n++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (len % 4 == 2) {
        out[n++] = (uint8_t)(acc >> 4);
    } else if (len % 4 == 3) {
        out[n++] = (uint8_t)(acc >> 10);
        out[n++] = (uint8_t)(acc >> 2);
    }
    *out_len = n;
    return 0;
}

int hist_encode(const hist *h, char **out_b64, cut_err *err)
{
    uint8_t *raw = NULL, *z = NULL;
    int rc = 0;
    if (!h || !out_b64) return cut_err_set(err, CUT_EINVAL, "hist_encode: NULL argument");

    int32_t used, len;
    const int64_t *counts = hist__counts(h, &used, &len);
    raw = malloc(HEADER_LEN + (size_t)LEB128_MAX * (size_t)used);
    if (!raw) {
        rc = cut_err_set(err, CUT_ENOMEM, "hist_encode: out of memory");
        goto fail;
    }
    size_t p = HEADER_LEN;
    for (int32_t i = 0; i < used;) {
        int64_t c = counts[i++];
        int64_t zeros = 0;
        if (c == 0) {
            zeros = 1;
            while (i < used && counts[i] == 0) {
                zeros++;
                i++;
            }
        }
        /* A lone zero goes out as a count of 0, longer runs as -n (as Java writes). */
        p += zigzag_put(raw + p, zeros > 1 ? -zeros : c);
    }
    double ratio = 1.0; /* integer histogram: one unit per value */
    uint64_t ratio_bits;
    memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
    put_be32(raw, V2_ENCODING_COOKIE | 0x10u);
    put_be32(raw + 4, (uint32_t)(p - HEADER_LEN));
    put_be32(raw + 8, 0); /* normalizing index offset: we never shift */
    put_be32(raw + 12, (uint32_t)hist_sigfigs(h));
    put_be64(raw + 16, (uint64_t)hist_lowest(h));
    put_be64(raw + 24, (uint64_t)hist_highest(h));
    put_be64(raw + 32, ratio_bits);

    uLongf zlen = compressBound((uLong)p);
    z = malloc(COMPRESSED_HEADER_LEN + zlen);
    if (!z) {
        rc = cut_err_set(err, CUT_ENOMEM, "hist_encode: out of memory");
        goto fail;
    }
    int zrc = compress2(z + COMPRESSED_HEADER_LEN, &zlen, raw, (uLong)p, Z_DEFAULT_COMPRESSION);
    if (zrc != Z_OK) {
        rc = cut_err_set(err, CUT_EIO, "hist_encode: zlib compress failed (%d)", zrc);
        goto fail;
    }
    put_be32(z, V2_COMPRESSED_COOKIE | 0x10u);
    put_be32(z + 4, (uint32_t)zlen);
    char *b64 = b64_encode(z, COMPRESSED_HEADER_LEN + zlen);
    if (!b64) {
        rc = cut_err_set(err, CUT_ENOMEM, "hist_encode: out of memory");
        goto fail;
    }
    *out_b64 = b64;
fail:
    free(raw);
    free(z);
    return rc;
}

static int version_error(uint32_t cookie, bool compressed, cut_err *err)
{
    uint32_t base = COOKIE_BASE(cookie);
    if (base == V0_ENCODING_COOKIE || base == V0_COMPRESSED_COOKIE || base == V1_ENCODING_COOKIE ||
        base == V1_COMPRESSED_COOKIE)
        return cut_err_set(err, CUT_EINVAL,
                           "encoded histogram: HdrHistogram V%d encoding (cookie 0x%08x) is not "
                           "supported, only V2",
                           base == V0_ENCODING_COOKIE || base == V0_COMPRESSED_COOKIE ? 0 : 1,
                           cookie);
    if (compressed && base == V2_ENCODING_COOKIE)
        return cut_err_set(err, CUT_EINVAL,
                           "encoded histogram: uncompressed V2 encoding (cookie 0x%08x) is not "
                           "supported, only compressed",
                           cookie);
    return cut_err_set(err, CUT_EINVAL, "encoded histogram: %s cookie 0x%08x is not HdrHistogram's",
                       compressed ? "compression" : "encoding", cookie);
}

/* Inflates into out[0..want); *ended tells whether the zlib stream finished. */
static int inflate_some(z_stream *zs, uint8_t *out, size_t want, bool *ended, cut_err *err)
{
    zs->next_out = out;
    zs->avail_out = (uInt)want;
    while (zs->avail_out > 0 && !*ended) {
        int zrc = inflate(zs, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END) {
            *ended = true;
        } else if (zrc == Z_BUF_ERROR) {
            break; /* no input left */
        } else if (zrc != Z_OK) {
            return cut_err_set(err, CUT_EINVAL, "encoded histogram: corrupt zlib data (%s)",
                               zs->msg ? zs->msg : "unknown error");
        }
    }
    return 0;
}

int hist_decode(const char *b64, size_t len, hist **out, cut_err *err)
{
    uint8_t *bin = NULL, *payload = NULL;
    hist *h = NULL;
    z_stream zs;
    bool zinit = false, ended = false;
    int rc = 0;
    memset(&zs, 0, sizeof zs);

    if (!b64 || !out) return cut_err_set(err, CUT_EINVAL, "hist_decode: NULL argument");
    if (len > MAX_B64_LEN)
        return cut_err_set(err, CUT_ERANGE, "encoded histogram: %zu bytes of text (limit %zu)", len,
                           MAX_B64_LEN);
    bin = malloc(len / 4 * 3 + 3);
    if (!bin) {
        rc = cut_err_set(err, CUT_ENOMEM, "hist_decode: out of memory");
        goto fail;
    }
    size_t n = 0;
    if ((rc = b64_decode(b64, len, bin, &n, err)) != 0) goto fail;
    if (n < COMPRESSED_HEADER_LEN) {
        rc = cut_err_set(err, CUT_EINVAL,
                         "encoded histogram: %zu bytes, too short for the 8-byte header", n);
        goto fail;
    }
    uint32_t cookie = get_be32(bin);
    if (COOKIE_BASE(cookie) != V2_COMPRESSED_COOKIE) {
        rc = version_error(cookie, true, err);
        goto fail;
    }
    int32_t zlen = (int32_t)get_be32(bin + 4);
    if (zlen < 0 || (size_t)zlen > n - COMPRESSED_HEADER_LEN) {
        rc = cut_err_set(err, CUT_EINVAL,
                         "encoded histogram: declares %d compressed bytes, %zu present", zlen,
                         n - COMPRESSED_HEADER_LEN);
        goto fail;
    }

    if (inflateInit(&zs) != Z_OK) {
        rc = cut_err_set(err, CUT_EIO, "hist_decode: zlib init failed");
        goto fail;
    }
    zinit = true;
    zs.next_in = bin + COMPRESSED_HEADER_LEN;
    zs.avail_in = (uInt)zlen;
    uint8_t hdr[HEADER_LEN];
    if ((rc = inflate_some(&zs, hdr, sizeof hdr, &ended, err)) != 0) goto fail;
    if (zs.avail_out != 0) {
        rc = cut_err_set(err, CUT_EINVAL,
                         "encoded histogram: truncated, data ends inside the 40-byte header");
        goto fail;
    }
    cookie = get_be32(hdr);
    if (COOKIE_BASE(cookie) != V2_ENCODING_COOKIE) {
        rc = version_error(cookie, false, err);
        goto fail;
    }
    int32_t payload_len = (int32_t)get_be32(hdr + 4);
    int sigfigs = (int32_t)get_be32(hdr + 12);
    int64_t lowest = (int64_t)get_be64(hdr + 16);
    int64_t highest = (int64_t)get_be64(hdr + 24);
    /* The normalizing index offset (hdr + 8) and the conversion ratio (hdr + 32) matter
     * only to shifted or double histograms; integer writers leave them neutral (though
     * HdrHistogramJS writes an offset of 1), so they are ignored, as hdrhistogram-go does. */
    if ((rc = hist_init(&h, lowest, highest, sigfigs, err)) != 0) {
        cut_err_prefix(err, "encoded ");
        goto fail;
    }
    int32_t used, counts_len;
    int64_t *counts = hist__counts_mut(h, &used, &counts_len);
    if (payload_len < 0 || (int64_t)payload_len > (int64_t)LEB128_MAX * counts_len) {
        rc = cut_err_set(err, CUT_EINVAL,
                         "encoded histogram: payload of %d bytes impossible for %d counts",
                         payload_len, counts_len);
        goto fail;
    }
    /* One spare byte shows whether the stream holds more than it declared. */
    payload = malloc((size_t)payload_len + 1);
    if (!payload) {
        rc = cut_err_set(err, CUT_ENOMEM, "hist_decode: out of memory");
        goto fail;
    }
    if ((rc = inflate_some(&zs, payload, (size_t)payload_len + 1, &ended, err)) != 0) goto fail;
    size_t got = (size_t)payload_len + 1 - zs.avail_out;
    if (got != (size_t)payload_len || !ended) {
        rc = cut_err_set(err, CUT_EINVAL,
                         "encoded histogram: payload declares %d bytes, zlib data %s", payload_len,
                         got > (size_t)payload_len ? "holds more"
                         : ended                   ? "holds fewer"
                                                   : "is truncated");
        goto fail;
    }

    int32_t idx = 0;
    for (size_t p = 0; p < (size_t)payload_len;) {
        int64_t v;
        size_t k = zigzag_get(payload + p, (size_t)payload_len - p, &v);
        if (k == 0) {
            rc = cut_err_set(err, CUT_EINVAL,
                             "encoded histogram: count truncated at payload byte %zu", p);
            goto fail;
        }
        p += k;
        if (v < 0) {
            if (v == INT64_MIN || -v > (int64_t)counts_len - idx) {
                rc = cut_err_set(err, CUT_EINVAL,
                                 "encoded histogram: zero run of %llu at index %d passes the %d "
                                 "counts of the declared range",
                                 0 - (unsigned long long)v, idx, counts_len);
                goto fail;
            }
            idx += (int32_t)-v;
        } else {
            if (idx >= counts_len) {
                rc = cut_err_set(err, CUT_EINVAL,
                                 "encoded histogram: count at index %d past the %d counts of the "
                                 "declared range",
                                 idx, counts_len);
                goto fail;
            }
            counts[idx++] = v;
        }
    }
    if ((rc = hist__recount(h, err)) != 0) {
        cut_err_prefix(err, "encoded ");
        goto fail;
    }
    *out = h;
    h = NULL;
fail:
    if (zinit) inflateEnd(&zs);
    free(bin);
    free(payload);
    hist_free(h);
    return rc;
}
