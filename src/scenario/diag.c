#include "scenario/diag.h"

#include <stdarg.h>
#include <stdlib.h>

void scn_diags_init(scn_diags *d)
{
    d->lines = NULL;
    d->count = 0;
    d->cap = 0;
    d->oom = false;
}

void scn_diags_free(scn_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->lines[i]);
    free(d->lines);
    scn_diags_init(d);
}

void scn_diags_add(scn_diags *d, const char *fmt, ...)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **lines = realloc(d->lines, cap * sizeof *lines);
        if (!lines) {
            d->oom = true;
            return;
        }
        d->lines = lines;
        d->cap = cap;
    }
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0) {
        d->oom = true;
        return;
    }
    d->lines[d->count++] = line;
}

void scn_diags_print(const scn_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(out, "%s\n", d->lines[i]);
}
