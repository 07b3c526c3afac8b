#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cut_err_set(cut_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        e->code = code;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cut_err_prefix(cut_err *e, const char *fmt, ...)
{
    if (!e) return;
    char head[CUT_ERR_MSG_MAX];
    char old[CUT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(head);
    if (n >= sizeof e->msg) n = sizeof e->msg - 1;
    memcpy(e->msg, head, n);
    size_t rest = strnlen(old, sizeof old - 1);
    if (rest > sizeof e->msg - 1 - n) rest = sizeof e->msg - 1 - n;
    memcpy(e->msg + n, old, rest);
    e->msg[n + rest] = '\0';
}

void cut_err_clear(cut_err *e)
{
    if (!e) return;
    e->code = 0;
    e->msg[0] = '\0';
}
