/* csv.c — a streaming CSV reader: one row at a time, columns by header name. */
#include "plots/csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

/* Reads one physical line (without its end) into c->line; false at end of file. */
static bool read_line(struct plot_csv *c)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(c->f)) != EOF && ch != '\n') {
        if (n + 2 > c->cap) {
            c->cap = c->cap ? 2 * c->cap : 256;
            c->line = mem_realloc(c->line, c->cap, 1, "a CSV line");
        }
        c->line[n++] = (char)ch;
    }
    if (ch == EOF && n == 0)
        return false;
    c->lineno++;
    if (n + 1 > c->cap) {
        c->cap = n + 1;
        c->line = mem_realloc(c->line, c->cap, 1, "a CSV line");
    }
    if (n > 0 && c->line[n - 1] == '\r')
        n--;
    c->line[n] = '\0';
    return true;
}

static void push_field(struct plot_csv *c, char *s)
{
    if (c->n_field == c->cap_field) {
        c->cap_field = c->cap_field ? 2 * c->cap_field : 32;
        c->field = mem_realloc(c->field, c->cap_field, sizeof *c->field, "CSV fields");
    }
    c->field[c->n_field++] = s;
}

/* Splits c->line in place at the commas that are not inside quotes, unquoting as it goes. */
static void split(struct plot_csv *c)
{
    c->n_field = 0;
    char *r = c->line, *w = c->line;
    char *start = w;
    bool quoted = false;
    for (;; r++) {
        if (quoted) {
            if (*r == '"' && r[1] == '"') {
                *w++ = '"';
                r++;
            } else if (*r == '"') {
                quoted = false;
            } else if (*r == '\0') {
                break;
            } else {
                *w++ = *r;
            }
        } else if (*r == '"') {
            quoted = true;
        } else if (*r == ',' || *r == '\0') {
            bool end = *r == '\0';
            *w++ = '\0';
            push_field(c, start);
            start = w;
            if (end)
                return;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';                        /* an unterminated quote: take what there is */
    push_field(c, start);
}

int plot_csv_open(struct plot_csv *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->f = fopen(path, "r");
    if (!c->f)
        return -1;
    if (!read_line(c)) {
        plot_csv_close(c);
        return -1;
    }
    split(c);
    c->n_head = c->n_field;
    c->head = mem_calloc(c->n_head, sizeof *c->head, "a CSV header");
    for (size_t i = 0; i < c->n_head; i++) {
        c->head[i] = mem_calloc(strlen(c->field[i]) + 1, 1, "a CSV column name");
        strcpy(c->head[i], c->field[i]);
    }
    c->n_field = 0;
    return 0;
}

void plot_csv_close(struct plot_csv *c)
{
    if (c->f)
        fclose(c->f);
    for (size_t i = 0; i < c->n_head; i++)
        free(c->head[i]);
    free(c->head);
    free(c->field);
    free(c->line);
    memset(c, 0, sizeof *c);
}

int plot_csv_col(const struct plot_csv *c, const char *name)
{
    for (size_t i = 0; i < c->n_head; i++)
        if (strcmp(c->head[i], name) == 0)
            return (int)i;
    return -1;
}

bool plot_csv_next(struct plot_csv *c)
{
    while (read_line(c)) {
        if (c->line[0] == '\0' || c->line[0] == '#')
            continue;
        split(c);
        c->row++;
        return true;
    }
    c->n_field = 0;
    return false;
}

const char *plot_csv_str(const struct plot_csv *c, int col)
{
    if (col < 0 || (size_t)col >= c->n_field)
        return "";
    return c->field[col];
}

double plot_csv_num(const struct plot_csv *c, int col)
{
    const char *s = plot_csv_str(c, col);
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end == '\0' ? v : NAN;
}
