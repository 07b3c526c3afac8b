/* csv.c - RFC 4180 reader for CSV data sets (scn_data_load_csv in data.h). */
#include "scenario/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cellv {
    scn_cell *v;
    size_t n, cap;
} cellv;

static int cellv_push(cellv *cv, uint32_t off, uint32_t len)
{
    if (cv->n == cv->cap) {
        size_t cap = cv->cap ? cv->cap * 2 : 256;
        scn_cell *v = realloc(cv->v, cap * sizeof *v);
        if (!v) return CUT_ENOMEM;
        cv->v = v;
        cv->cap = cap;
    }
    cv->v[cv->n].off = off;
    cv->v[cv->n].len = len;
    cv->n++;
    return 0;
}

static int read_file(const char *path, char **out, size_t *len, cut_err *err)
{
    int rc;
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cut_err_set(err, CUT_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            if (ncap > (size_t)UINT32_MAX) ncap = (size_t)UINT32_MAX;
            if (ncap == cap) {
                rc = cut_err_set(err, CUT_ERANGE, "%s: larger than 4 GiB", path);
                goto fail;
            }
            char *p = realloc(data, ncap);
            if (!p) {
                rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
                goto fail;
            }
            data = p;
            cap = ncap;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        rc = cut_err_set(err, CUT_EIO, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    *out = data;
    *len = n;
    return 0;
fail:
    fclose(f);
    free(data);
    return rc;
}

/* Parses src into text (cells NUL-separated) and the cell list. */
static int parse(const char *path, const char *src, size_t len, char *text, cellv *cells,
                 size_t *ncols_out, cut_err *err)
{
    size_t i = 0, t = 0, line = 1, ncols = 0, fields = 0;
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len) {
        /* Start of a record: skip blank lines. */
        if (fields == 0 && (src[i] == '\n' || src[i] == '\r')) {
            if (src[i] == '\n') line++;
            i++;
            continue;
        }
        size_t rec_line = line;
        for (;;) { /* one field */
            size_t start = t, field_line = line;
            if (i < len && src[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len)
                        return cut_err_set(err, CUT_ESYNTAX,
                                           "%s: line %zu: unterminated quoted field", path,
                                           field_line);
                    if (src[i] == '"') {
                        if (i + 1 < len && src[i + 1] == '"') {
                            text[t++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (src[i] == '\n') line++;
                    text[t++] = src[i++];
                }
                if (i < len && src[i] != ',' && src[i] != '\n' && src[i] != '\r')
                    return cut_err_set(err, CUT_ESYNTAX,
                                       "%s: line %zu: unexpected character after a closing quote",
                                       path, line);
            } else {
                while (i < len && src[i] != ',' && src[i] != '\n' && src[i] != '\r') {
                    if (src[i] == '"')
                        return cut_err_set(err, CUT_ESYNTAX,
                                           "%s: line %zu: '\"' inside an unquoted field "
                                           "(quote the whole field and double the quote)",
                                           path, line);
                    text[t++] = src[i++];
                }
            }
            text[t++] = '\0';
            if (cellv_push(cells, (uint32_t)start, (uint32_t)(t - 1 - start)))
                return cut_err_set(err, CUT_ENOMEM, "out of memory");
            fields++;
            if (i < len && src[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        /* End of record: CRLF, LF, lone CR or end of file. */
        if (i < len && src[i] == '\r') i++;
        if (i < len && src[i] == '\n') {
            i++;
            line++;
        }
        if (ncols == 0) {
            ncols = fields;
        } else if (fields != ncols) {
            return cut_err_set(err, CUT_ESYNTAX, "%s: line %zu: expected %zu fields, found %zu",
                               path, rec_line, ncols, fields);
        }
        fields = 0;
    }
    if (ncols == 0) return cut_err_set(err, CUT_ESYNTAX, "%s: empty file (no header row)", path);
    if (cells->n == ncols)
        return cut_err_set(err, CUT_ESYNTAX, "%s: no data rows after the header", path);
    *ncols_out = ncols;
    return 0;
}

int scn_data_load_csv(scn_arena *a, const char *path, scn_data *d, cut_err *err)
{
    char *src = NULL;
    size_t len = 0, ncols = 0;
    cellv cells = {0};
    int rc = read_file(path, &src, &len, err);
    if (rc) return rc;
    char *text = scn_arena_alloc(a, len + 1);
    if (!text) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
        goto fail;
    }
    rc = parse(path, src, len, text, &cells, &ncols, err);
    if (rc) goto fail;

    const char **cols = scn_arena_calloc(a, ncols, sizeof *cols);
    scn_cell *copy = scn_arena_calloc(a, cells.n - ncols, sizeof *copy);
    if (!cols || !copy) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t c = 0; c < ncols; c++) {
        cols[c] = text + cells.v[c].off;
        if (!*cols[c]) {
            rc =
                cut_err_set(err, CUT_ESYNTAX, "%s: line 1: header field %zu is empty", path, c + 1);
            goto fail;
        }
        for (size_t k = 0; k < c; k++) {
            if (strcmp(cols[k], cols[c]) == 0) {
                rc = cut_err_set(err, CUT_ESYNTAX, "%s: line 1: duplicate column \"%s\"", path,
                                 cols[c]);
                goto fail;
            }
        }
    }
    memcpy(copy, cells.v + ncols, (cells.n - ncols) * sizeof *copy);
    d->kind = SCN_DATA_CSV;
    d->path = scn_arena_strdup(a, path);
    d->columns = cols;
    d->ncols = (uint32_t)ncols;
    d->text = text;
    d->cells = copy;
    d->rows = (cells.n - ncols) / ncols;
    if (!d->path) {
        rc = cut_err_set(err, CUT_ENOMEM, "out of memory");
        goto fail;
    }
    rc = 0;
fail:
    free(cells.v);
    free(src);
    return rc;
}
