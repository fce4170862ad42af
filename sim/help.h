/* help.h — the command line's own reference: one table of commands (synopsis, options, an
 * example) that gives `p2plab --help`, `p2plab COMMAND --help`, the man page and the shell
 * completion, so that none of them can drift from another.
 *
 * The man page and the completion also carry the scenario keys (sim/scnkeys.h), the metrics
 * (sim/stats.h) and the protocols' parameters (protocols/protocol.h): the tables `p2plab list`
 * and the README reference print. */
#ifndef P2PLAB_HELP_H
#define P2PLAB_HELP_H

#include <stdio.h>

#include "sim/param.h"

struct help_option {
    const char *flags;                /* "-o, --output": the short form first, if any */
    const char *arg;                  /* "DIR", or NULL for a switch */
    const char *doc;                  /* one sentence */
};

struct help_command {
    const char *name;                 /* "run" */
    const char *args;                 /* the synopsis after the options: "FILE" */
    const char *summary;              /* one line for `p2plab --help` */
    const char *text;                 /* what it does, a paragraph ('\n' ends a line) */
    const struct help_option *options;  /* terminated by a NULL flags */
    const char *example;              /* one command line */
    const char *example_doc;          /* what it does */
};

extern const struct help_command help_commands[];    /* terminated by a NULL name */

/* The command named `name`, or NULL. */
const struct help_command *help_find(const char *name);
/* `p2plab --help`: the commands, one line each. */
void help_usage(FILE *f);
/* `p2plab COMMAND --help`: usage, what it does, options, an example. */
void help_command(FILE *f, const struct help_command *c);
/* A parameter's type and range as `p2plab list PROTOCOL` shows them ("integer", "1 – 64"). */
const char *help_param_type(const struct param *p);
void help_param_range(const struct param *p, char *buf, size_t len);

/* The man page p2plab(1), in roff (sim/manpage.c). */
void help_manpage(FILE *f);
/* The completion script for "bash" or "zsh" (sim/complete.c); -1 for another shell. */
int help_completion(FILE *f, const char *shell);

#endif
