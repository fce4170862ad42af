/* matrix.c — read a latency matrix of "i j ms" lines, in two passes over the file: the first
 * checks every line and finds the number of hosts, the second fills the matrix. */
#include "sim/matrix.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINE 1024                 /* bytes of one line: "16383 16383 123.456" needs 20 */

struct reader {
    const char *path;
    FILE *f;
    char *line;                       /* the current line, without its newline */
    size_t cap;
    int lineno;                       /* 1-based */
    char *err;
    size_t errlen;
};

/* One parsed line: a pair and its latency; the columns are for messages. */
struct entry {
    uint32_t i, j;
    double ms;
    int col_i, col_j, col_ms;         /* 1-based */
};

static int fail_at(struct reader *r, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "FILE:LINE:COL: error: MESSAGE" and the line itself. */
static int fail_at(struct reader *r, int col, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s:%d:%d: error: %s\n   >>> %s", r->path, r->lineno, col, msg,
             r->line);
    return -1;
}

/* Reads the next line, at most MAX_LINE bytes; 1 if there is one, 0 at the end, -1 with the
 * message if it is too long or holds a NUL byte (the file is not a matrix of text lines). */
static int next_line(struct reader *r)
{
    if (!r->line) {
        r->cap = MAX_LINE + 1;
        r->line = malloc(r->cap);
        if (!r->line) {
            snprintf(r->err, r->errlen, "%s: error: out of memory reading a line", r->path);
            return -1;
        }
    }
    size_t n = 0;
    int ch = EOF;
    while ((ch = getc(r->f)) != EOF && ch != '\n') {
        if (ch == '\0' || n == MAX_LINE) {
            r->line[n] = '\0';
            r->lineno++;
            snprintf(r->err, r->errlen, "%s:%d:%zu: error: %s: is it really a latency matrix "
                     "of \"i j ms\" lines?", r->path, r->lineno, n + 1, ch == '\0' ? "a NUL byte"
                     : "a line longer than 1024 bytes");
            return -1;
        }
        r->line[n++] = (char)ch;
    }
    if (ch == EOF && n == 0)
        return 0;
    while (n > 0 && r->line[n - 1] == '\r')
        n--;
    r->line[n] = '\0';
    r->lineno++;
    return 1;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The field at *p (up to a blank or a comment), copied into buf; advances *p. */
static size_t field(const char **p, char *buf, size_t len)
{
    size_t n = 0;
    const char *s = *p;
    while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '#')
        n++;
    snprintf(buf, len, "%.*s", (int)n, s);
    *p = s + n;
    return n;
}

static int host_index(struct reader *r, const char *text, int col, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
    if (!isdigit((unsigned char)text[0]) || *end != '\0' || errno == ERANGE)
        return fail_at(r, col, "a host index must be a whole number from 0 (got \"%s\")", text);
    if (v >= MATRIX_MAX_HOSTS)
        return fail_at(r, col, "host index %llu is too large: at most %d hosts", v,
                       MATRIX_MAX_HOSTS);
    *out = (uint32_t)v;
    return 0;
}

/* Parses the current line: 1 with e filled, 0 for a blank or comment line, -1 on error. */
static int parse_line(struct reader *r, struct entry *e)
{
    const char *p = skip_blanks(r->line);
    if (*p == '\0' || *p == '#')
        return 0;
    char text[3][64];
    int col[3];
    for (int k = 0; k < 3; k++) {
        p = skip_blanks(p);
        col[k] = (int)(p - r->line) + 1;
        if (field(&p, text[k], sizeof text[k]) == 0)
            return fail_at(r, col[k], "expected \"i j ms\": two host indices and a latency in "
                                      "milliseconds");
    }
    p = skip_blanks(p);
    if (*p != '\0' && *p != '#')
        return fail_at(r, (int)(p - r->line) + 1,
                       "expected \"i j ms\" and nothing more on the line");
    if (host_index(r, text[0], col[0], &e->i) != 0 || host_index(r, text[1], col[1], &e->j) != 0)
        return -1;
    char *end;
    errno = 0;
    e->ms = strtod(text[2], &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(e->ms) || e->ms < 0 ||
        !(isdigit((unsigned char)text[2][0]) || text[2][0] == '.'))
        return fail_at(r, col[2], "the latency must be a number of milliseconds, 0 or more "
                                  "(got \"%s\")", text[2]);
    if (e->i == e->j && e->ms != 0)
        return fail_at(r, col[2], "a host's latency to itself is 0 (got %s)", text[2]);
    e->col_i = col[0];
    e->col_j = col[1];
    e->col_ms = col[2];
    return 1;
}

/* The line on which the pair (i, j) first appears. */
static int first_line_of(const char *path, uint32_t i, uint32_t j)
{
    struct reader r = { .path = path, .f = fopen(path, "r") };
    char scratch[8];
    r.err = scratch;
    r.errlen = sizeof scratch;
    int found = 0;
    struct entry e;
    while (r.f && !found && next_line(&r) == 1)
        if (parse_line(&r, &e) == 1 && e.i == i && e.j == j)
            found = r.lineno;
    if (r.f)
        fclose(r.f);
    free(r.line);
    return found;
}

int matrix_load(const char *path, struct latency_matrix *m, char *err, size_t errlen)
{
    *m = (struct latency_matrix){ 0 };
    struct reader r = { .path = path, .err = err, .errlen = errlen };
    r.f = fopen(path, "r");
    if (!r.f) {
        snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    uint8_t *given = NULL;
    struct entry e;
    uint32_t hosts = 0;
    size_t lines = 0;
    struct stat st;
    if (fstat(fileno(r.f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: error: not a regular file: a latency matrix is a text file of "
                 "\"i j ms\" lines", path);
        goto out;
    }
    int got_line;
    while ((got_line = next_line(&r)) == 1) {
        int got = parse_line(&r, &e);
        if (got < 0)
            goto out;
        if (got == 1) {
            lines++;
            uint32_t top = (e.i > e.j ? e.i : e.j) + 1;
            hosts = top > hosts ? top : hosts;
        }
    }
    if (got_line < 0)
        goto out;
    if (lines == 0) {
        snprintf(err, errlen, "%s: error: no latencies: expected lines of \"i j ms\" (0-based "
                              "host indices, milliseconds)", path);
        goto out;
    }

    size_t cells = (size_t)hosts * hosts;
    m->ms = malloc(cells * sizeof *m->ms);
    given = calloc((cells + 7) / 8, 1);
    if (!m->ms || !given) {
        snprintf(err, errlen, "%s: error: out of memory for a %u x %u latency matrix", path,
                 hosts, hosts);
        goto out;
    }
    m->hosts = hosts;
    rewind(r.f);
    r.lineno = 0;
    while (next_line(&r) == 1) {
        if (parse_line(&r, &e) != 1)
            continue;
        size_t c = (size_t)e.i * hosts + e.j;
        if (given[c / 8] & (1u << (c % 8))) {
            fail_at(&r, e.col_i, "the pair %u %u is given twice (first at line %d)", e.i, e.j,
                    first_line_of(path, e.i, e.j));
            goto out;
        }
        given[c / 8] |= (uint8_t)(1u << (c % 8));
        m->ms[c] = (float)e.ms;
    }
    for (uint32_t i = 0; i < hosts; i++) {
        m->ms[(size_t)i * hosts + i] = 0;
        for (uint32_t j = i + 1; j < hosts; j++) {
            size_t a = (size_t)i * hosts + j, b = (size_t)j * hosts + i;
            bool ga = given[a / 8] & (1u << (a % 8)), gb = given[b / 8] & (1u << (b % 8));
            if (!ga && !gb) {
                snprintf(err, errlen, "%s: error: no latency between hosts %u and %u: add a "
                                      "line \"%u %u MS\" (every pair of the %u hosts is needed)",
                         path, i, j, i, j, hosts);
                goto out;
            }
            if (!ga)
                m->ms[a] = m->ms[b];
            if (!gb)
                m->ms[b] = m->ms[a];
        }
    }
    rc = 0;
out:
    fclose(r.f);
    free(r.line);
    free(given);
    if (rc != 0)
        matrix_free(m);
    return rc;
}

void matrix_free(struct latency_matrix *m)
{
    free(m->ms);
    m->ms = NULL;
    m->hosts = 0;
}
