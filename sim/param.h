/* param.h — typed parameter tables: one row per setting, driving YAML parsing, range checks,
 * `p2plab list` and the README reference (as Redis's static_configs[] drives its config). */
#ifndef P2PLAB_PARAM_H
#define P2PLAB_PARAM_H

#include <stddef.h>
#include <stdint.h>

enum param_type {
    PARAM_INT,                        /* whole number in [min, max]; or, if `choices` is set,
                                         one of its words, stored as -1, -2, ... ("auto") */
    PARAM_DOUBLE,                     /* real number in [min, max] */
    PARAM_DURATION,                   /* "30s"; stored in microseconds; min/max in seconds */
    PARAM_BOOL,                       /* true | false */
    PARAM_ENUM,                       /* one of `choices`, "a|b|c"; stored as its index */
};

struct param {
    const char *name;                 /* YAML key */
    enum param_type type;
    const char *def;                  /* default, written as a user would write it */
    double min, max;                  /* inclusive range (seconds for durations) */
    const char *choices;              /* PARAM_ENUM: "iterative|recursive"; PARAM_INT: words */
    const char *doc;                  /* one line; cite the paper's default */
};

union pval {
    int64_t i;                        /* INT, DURATION (us), BOOL (0/1), ENUM (index) */
    double d;                         /* DOUBLE */
};

#define PARAM_MAX 32

/* A protocol's resolved settings: v[k] belongs to params[k]. */
struct proto_config {
    const struct param *params;       /* the protocol's table, terminated by a NULL name */
    size_t count;
    union pval v[PARAM_MAX];
};

/* Parses `text` as a value of `p`, range-checked. Returns 0, or -1 with *err set to a static
 * or thread-local message ("must be between 1 and 64 (got 0)"). */
int param_parse(const struct param *p, const char *text, union pval *out, const char **err);
/* Writes the value as a user would write it ("30s", "iterative", "16"). */
void param_format(const struct param *p, union pval v, char *buf, size_t len);
/* Fills cfg with every default of the table. Returns 0, or -1 if a default fails to parse
 * (a bug in the table; the test suite checks every table). */
int param_defaults(struct proto_config *cfg, const struct param *table);
/* Index of `name` in the table, or -1. */
int param_find(const struct param *table, const char *name);

#endif
