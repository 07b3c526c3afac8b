/* err.h - the project's one error type.
 *
 * Functions that can fail return 0 on success or a negative CUT_E* code and, when
 * given a non-NULL cut_err, fill it with a human message. The message is always
 * NUL-terminated and never holds secrets: callers must not format passwords or
 * Authorization values into it. */
#ifndef CUTOVER_UTIL_ERR_H
#define CUTOVER_UTIL_ERR_H

#include <stddef.h>

enum {
    CUT_OK = 0,
    CUT_EINVAL = -1,  /* bad argument or bad input data */
    CUT_ENOMEM = -2,  /* allocation failed */
    CUT_EIO = -3,     /* file or socket I/O failed */
    CUT_ESYNTAX = -4, /* a file could not be parsed */
    CUT_ECONNECT = -5, /* a peer could not be reached */
    CUT_ESTATE = -6,  /* call not valid in the current state */
    CUT_ERANGE = -7,  /* value out of range */
};

#define CUT_ERR_MSG_MAX 512

typedef struct cut_err {
    int code;                   /* last CUT_E* code, 0 when clear */
    char msg[CUT_ERR_MSG_MAX];  /* what went wrong, for people */
} cut_err;

/* Records code and a printf-style message in e (e may be NULL). Returns code so that
 * callers can write `return cut_err_set(e, CUT_EINVAL, "...")`. */
int cut_err_set(cut_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with a printf-style context ("file.json: "). */
void cut_err_prefix(cut_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void cut_err_clear(cut_err *e);

#endif
