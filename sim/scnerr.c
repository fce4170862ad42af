/* scnerr.c — scenario messages at a place, with the offending line echoed, and the
 * "did you mean" hint (optimal-string-alignment distance against the expected words). */
#include "sim/scnerr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/scndoc.h"

static int vfail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                    size_t errlen, const char *fmt, va_list ap)
{
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!err || errlen == 0)
        return -1;
    if (set) {
        snprintf(err, errlen, "%s: error: %s", set, msg);
        return -1;
    }
    if (line <= 0) {
        snprintf(err, errlen, "%s: error: %s", d->path, msg);
        return -1;
    }
    const char *p = d->text;
    for (int l = 1; p && l < line; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    int n = p ? (int)strcspn(p, "\r\n") : 0;
    bool blank = true;
    for (int i = 0; i < n; i++)
        blank = blank && isspace((unsigned char)p[i]);
    if (blank)
        snprintf(err, errlen, "%s:%d:%d: error: %s", d->path, line, col, msg);
    else
        snprintf(err, errlen, "%s:%d:%d: error: %s\n   >>> %.*s", d->path, line, col, msg, n, p);
    return -1;
}

int scn_fail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(d, set, line, col, err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int scn_fail(struct scn_ctx *c, const struct ytree *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (at)
        vfail_at(c->d, at->origin, at->line, at->col, c->err, c->errlen, fmt, ap);
    else
        vfail_at(c->d, NULL, 0, 0, c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *scn_shown(const char *text, char *buf, size_t len)
{
    if (strlen(text) > 60)
        snprintf(buf, len, "%.57s...", text);
    else
        snprintf(buf, len, "%s", text);
    return buf;
}

int scn_fail_value(struct scn_ctx *c, const struct ytree *at, const char *path, const char *msg)
{
    static const char *const verbs[] = { "must ", "needs ", "is ", "has " };
    const char *sep = ": ";
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strncmp(msg, verbs[i], strlen(verbs[i])) == 0)
            sep = " ";
    char got[64];
    if (strstr(msg, "(got "))
        return scn_fail(c, at, "%s%s%s", path, sep, msg);
    return scn_fail(c, at, "%s%s%s (got \"%s\")", path, sep, msg,
                    scn_shown(at->text, got, sizeof got));
}

/* ==== did you mean ======================================================================== */

/* Edits (insert, delete, substitute, swap two neighbours) from a to b, ignoring case: the
 * optimal-string-alignment distance. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t t[64][64];
    for (size_t i = 0; i <= la; i++)
        t[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        t[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t best = t[i - 1][j - 1] + (ai != bj);
            if (t[i - 1][j] + 1 < best)
                best = t[i - 1][j] + 1;
            if (t[i][j - 1] + 1 < best)
                best = t[i][j - 1] + 1;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && t[i - 2][j - 2] + 1 < best)
                best = t[i - 2][j - 2] + 1;
            t[i][j] = best;
        }
    return t[la][lb];
}

const char *scn_closest(const char *given, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(given, cands[i]);
        size_t limit = strlen(cands[i]) / 3 > 1 ? strlen(cands[i]) / 3 : 1;
        if (dist <= limit && dist < strlen(given) && dist < bestd) {
            best = cands[i];
            bestd = dist;
        }
    }
    return best;
}

int scn_fail_unknown(struct scn_ctx *c, const struct ytree *at, const char *text,
                     const char *what, const char *path, const char *const *cands, size_t n)
{
    char in[160] = "", got[64];
    if (path[0])
        snprintf(in, sizeof in, " in %s", path);
    const char *near = scn_closest(text, cands, n);
    if (near)
        return scn_fail(c, at, "unknown %s \"%s\"%s (did you mean \"%s\"?)", what,
                        scn_shown(text, got, sizeof got), in, near);
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", cands[i]);
    return scn_fail(c, at, "unknown %s \"%s\"%s (expected one of %s)", what,
                    scn_shown(text, got, sizeof got), in, list);
}
