/* scnerr.h — scenario messages at the place they are about, and "did you mean" hints.
 *
 * A message is "FILE:LINE:COL: error: MSG\n   >>> LINE" (the offending line echoed, as Redis's
 * config loader does), "--set K=V: error: MSG" for a value that came from the command line,
 * or "FILE: error: MSG" when there is no place. */
#ifndef P2PLAB_SCNERR_H
#define P2PLAB_SCNERR_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/yamltree.h"

struct scn_doc;

/* Where resolution is and where its messages go. */
struct scn_ctx {
    const struct scn_doc *d;
    char *err;
    size_t errlen;
    bool values_only;                 /* a swept key's value in the file, which never runs:
                                         check what it says, not what running it would cost */
};

/* Writes the message for place (set, line, col) of d into err. Returns -1. */
int scn_fail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                size_t errlen, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* The message at node `at` (NULL: no place). Returns -1. */
int scn_fail(struct scn_ctx *c, const struct ytree *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A validator's message about `path`: "PATH must be ..." reads as a sentence; anything else
 * ("expected a duration ...") follows "PATH: ". The got text is added unless already there. */
int scn_fail_value(struct scn_ctx *c, const struct ytree *at, const char *path, const char *msg);
/* "unknown WHAT "x" in PATH (did you mean "y"?)" or "(expected one of a, b, c)", at `at`. */
int scn_fail_unknown(struct scn_ctx *c, const struct ytree *at, const char *text,
                     const char *what, const char *path, const char *const *cands, size_t n);

/* The closest candidate, if it is close enough to be a likely typo; else NULL. */
const char *scn_closest(const char *given, const char *const *cands, size_t n);
/* The user's text for a message: at most 60 characters. */
const char *scn_shown(const char *text, char *buf, size_t len);

#endif
