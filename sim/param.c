/* param.c — parse, range-check and format the values of a protocol's parameter table. */
#include "sim/param.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/units.h"

/* Messages that quote the value live here until the next call on this thread. */
static _Thread_local char param_msg[256];

/* Copies at most 60 characters of the user's text into buf, marking a cut with "...". */
static void quote_text(const char *text, char *buf, size_t len)
{
    if (strlen(text) > 60)
        snprintf(buf, len, "%.57s...", text);
    else
        snprintf(buf, len, "%s", text);
}

/* The i-th word of "a|b|c" into buf; false past the last. */
static bool choice(const char *choices, int i, char *buf, size_t len)
{
    const char *p = choices;
    for (; i > 0; i--) {
        p = strchr(p, '|');
        if (!p)
            return false;
        p++;
    }
    size_t n = strcspn(p, "|");
    snprintf(buf, len, "%.*s", (int)n, p);
    return true;
}

static void format_bound(const struct param *p, double v, char *buf, size_t len)
{
    if (p->type == PARAM_DURATION)
        units_format_duration((int64_t)llround(v * (double)US_PER_S), buf, len);
    else if (p->type == PARAM_INT)
        snprintf(buf, len, "%.0f", v);
    else
        units_format_double(v, buf, len);
}

static int out_of_range(const struct param *p, const char *text, const char **err)
{
    char lo[40], hi[40], got[64];
    format_bound(p, p->min, lo, sizeof lo);
    format_bound(p, p->max, hi, sizeof hi);
    quote_text(text, got, sizeof got);
    snprintf(param_msg, sizeof param_msg, "must be between %s and %s (got %s)", lo, hi, got);
    *err = param_msg;
    return -1;
}

/* A units_* message, with the text it was given. */
static int bad_text(const char *msg, const char *text, const char **err)
{
    char got[64];
    quote_text(text, got, sizeof got);
    snprintf(param_msg, sizeof param_msg, "%s (got \"%s\")", msg, got);
    *err = param_msg;
    return -1;
}

int param_parse(const struct param *p, const char *text, union pval *out, const char **err)
{
    const char *msg;
    if (!text) {
        *err = "needs a value";
        return -1;
    }
    switch (p->type) {
    case PARAM_INT: {
        int64_t v;
        char word[64];
        /* special words ("auto") are stored as -1, -2, ... in the order of `choices` */
        for (int i = 0; p->choices && choice(p->choices, i, word, sizeof word); i++)
            if (strcmp(word, text) == 0) {
                out->i = -(int64_t)i - 1;
                return 0;
            }
        if (units_int(text, &v, &msg) != 0)
            return bad_text(msg, text, err);
        if ((double)v < p->min || (double)v > p->max)
            return out_of_range(p, text, err);
        out->i = v;
        return 0;
    }
    case PARAM_DOUBLE: {
        double v;
        if (units_double(text, &v, &msg) != 0)
            return bad_text(msg, text, err);
        if (v < p->min || v > p->max)
            return out_of_range(p, text, err);
        out->d = v;
        return 0;
    }
    case PARAM_DURATION: {
        int64_t us;
        if (units_duration(text, &us, &msg) != 0)
            return bad_text(msg, text, err);
        if (us < llround(p->min * (double)US_PER_S) || us > llround(p->max * (double)US_PER_S))
            return out_of_range(p, text, err);
        out->i = us;
        return 0;
    }
    case PARAM_BOOL: {
        bool b;
        if (units_bool(text, &b, &msg) != 0)
            return bad_text(msg, text, err);
        out->i = b;
        return 0;
    }
    case PARAM_ENUM: {
        char word[64];
        if (!p->choices) {
            *err = "has no choices (a bug in the protocol's table)";
            return -1;
        }
        for (int i = 0; choice(p->choices, i, word, sizeof word); i++)
            if (strcmp(word, text) == 0) {
                out->i = i;
                return 0;
            }
        char list[160], got[64];
        size_t n = 0;
        list[0] = '\0';
        for (int i = 0; choice(p->choices, i, word, sizeof word) && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", word);
        quote_text(text, got, sizeof got);
        snprintf(param_msg, sizeof param_msg, "must be one of %s (got \"%s\")", list, got);
        *err = param_msg;
        return -1;
    }
    }
    *err = "has an unknown parameter type (a bug in the protocol's table)";
    return -1;
}

void param_format(const struct param *p, union pval v, char *buf, size_t len)
{
    switch (p->type) {
    case PARAM_INT:
        if (v.i < 0 && p->choices && choice(p->choices, (int)(-v.i - 1), buf, len))
            return;
        snprintf(buf, len, "%" PRId64, v.i);
        return;
    case PARAM_DOUBLE:
        units_format_double(v.d, buf, len);
        return;
    case PARAM_DURATION:
        units_format_duration(v.i, buf, len);
        return;
    case PARAM_BOOL:
        snprintf(buf, len, "%s", v.i ? "true" : "false");
        return;
    case PARAM_ENUM:
        if (!choice(p->choices, (int)v.i, buf, len))
            snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "?");
}

int param_defaults(struct proto_config *cfg, const struct param *table)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->params = table;
    size_t k = 0;
    for (; table[k].name; k++) {
        const char *msg;
        if (k >= PARAM_MAX || param_parse(&table[k], table[k].def, &cfg->v[k], &msg) != 0)
            return -1;
    }
    cfg->count = k;
    return 0;
}

int param_find(const struct param *table, const char *name)
{
    for (int k = 0; table[k].name; k++)
        if (strcmp(table[k].name, name) == 0)
            return k;
    return -1;
}
