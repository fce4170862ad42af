/* help.c — the table of commands, and the help texts printed from it. */
#include "sim/help.h"

#include <string.h>

/* ==== the commands ======================================================================== */

static const struct help_option run_options[] = {
    { "-o, --output", "DIR", "where to write the results (default results/NAME, NAME the "
      "scenario's name)" },
    { "--seed", "N", "the base seed, in place of the scenario's seed: key (replica r runs "
      "with a seed of its own derived from it)" },
    { "--set", "KEY=VALUE", "override a scenario key without editing the file, as YAML "
      "(repeatable): --set protocols.chord.successors=8, --set 'sweep.nodes=[1000,2000]'" },
    { "-j, --jobs", "N", "runs at once (default: every core); the files are the same for "
      "every N" },
    { "--force", NULL, "replace the results already in DIR, and run a scenario whose memory or "
      "time estimate says it cannot fit or finish in a day" },
    { "-q, --quiet", NULL, "no progress line and no list of files at the end" },
    { "--no-plots", NULL, "write the data files only: no figures, no report.md" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option check_options[] = {
    { "--set", "KEY=VALUE", "override a scenario key, as with run (repeatable)" },
    { "--force", NULL, "accept a scenario whose memory or time estimate is too large" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option plot_options[] = {
    { "-q, --quiet", NULL, "say nothing when all went well" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option trace_options[] = {
    { "--set", "KEY=VALUE", "override a scenario key, as with run (repeatable)" },
    { "--seed", "N", "the base seed, as with run (the trace is replica 0's run)" },
    { "--protocol", "NAME", "the protocol to trace (default: the scenario's first)" },
    { "--point", "K", "the sweep point to trace, from 0 (default 0)" },
    { "--lookups", "N", "trace the first N lookups after the warm-up, 0 to 64 (default 1)" },
    { "--from", "TIME", "with --to: trace every message and churn event in [TIME, --to), e.g. "
      "--from 90s --to 91s" },
    { "--to", "TIME", "the end of the --from window" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option list_options[] = {
    { "--markdown", NULL, "print Markdown tables, as in README.md's reference" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option validate_options[] = {
    { "--quick", NULL, "only the scenarios that say quick: on (about 15 CPU seconds in all)" },
    { "-o, --output", "DIR", "where to write each scenario's results (DIR/NAME) and "
      "validation.md (default results/validate)" },
    { "-j, --jobs", "N", "runs at once, as with run (default: every core)" },
    { "--force", NULL, "replace results and a validation.md already in DIR" },
    { "-q, --quiet", NULL, "no progress line and no list of files after each scenario" },
    { "--no-plots", NULL, "write the data files only: no figures, no report.md" },
    { "--papers", "FOLDER", "the folder of paper scenarios (default scenarios/papers)" },
    { "-h, --help", NULL, "this text" },
    { NULL, NULL, NULL },
};

static const struct help_option bench_options[] = {
    { "-h, --help", NULL, "this text; p2plab bench NAME --help gives a benchmark's options" },
    { NULL, NULL, NULL },
};

static const struct help_option help_options[] = {
    { "--man", NULL, "print the man page p2plab(1) in roff (what the install puts in "
      "share/man/man1)" },
    { "--completion", "SHELL", "print the completion script for bash or zsh" },
    { NULL, NULL, NULL },
};

const struct help_command help_commands[] = {
    { "run", "FILE", "run a scenario and write its results, figures and report",
      "Runs every protocol of scenario FILE at every sweep point, replicas times each, and "
      "writes summary.yaml, runs.csv, timeseries.csv, hops.csv, counters.csv, gauges.csv, "
      "cdf.csv and perf.csv into DIR, all at once when every run has ended; then draws the "
      "figures into DIR/plots/ and writes DIR/report.md. Companion scenarios (also:) run after "
      "it, into subfolders. FILE may be a results folder's summary.yaml: the same runs again, "
      "with the same files (but perf.csv), its companions from their subfolders.",
      run_options, "p2plab run scenarios/quickstart.yaml -o results/quickstart",
      "runs the quickstart (seven systems at 1,000 to 16,000 nodes) into results/quickstart/" },
    { "check", "FILE", "validate a scenario and say how many runs it would make",
      "Loads scenario FILE, resolves every sweep point and companion, and says how many runs "
      "it would make. Everything run would refuse (a bad key or value, a rule between keys, "
      "a run that cannot fit in memory or finish in a day), check refuses first, with the "
      "file, line and column.",
      check_options, "p2plab check scenarios/chord.yaml --set 'sweep.nodes=[100000]'",
      "checks the Chord scenario at 100,000 nodes only" },
    { "plot", "DIR", "draw the figures and report.md of a results folder again",
      "Reads DIR/summary.yaml and DIR/runs.csv (and the other files) and draws the figures "
      "and report.md again, the companions' too, without running anything. Needs gnuplot; "
      "without it, the data and .gp scripts are written.",
      plot_options, "p2plab plot results/quickstart", "re-draws the quickstart's figures" },
    { "trace", "FILE", "print one run's messages, event by event",
      "Runs one cell of scenario FILE (the first protocol at the first sweep point, or "
      "--protocol and --point) and prints, event by event, the messages of the first N "
      "lookups issued after the warm-up, or every message and churn event in a time window. "
      "Tracing never changes the run.",
      trace_options, "p2plab trace scenarios/chord-failure.yaml --lookups 2",
      "follows two Chord lookups hop by hop, with every message" },
    { "list", "[PROTOCOL | keys | metrics]", "list the protocols, their parameters, the keys "
      "or the metrics",
      "Without an argument, lists the protocols. With a protocol's name, its parameters (type, "
      "default, range, meaning); with keys, every scenario key and its default; with metrics, "
      "every metric of summary.yaml and runs.csv.",
      list_options, "p2plab list chord", "shows Chord's parameters and their defaults" },
    { "validate", "[OPTIONS]", "run the papers' experiments and print paper against p2plab",
      "Runs every scenario of scenarios/papers/ (with --quick, those that say quick: on), each "
      "into DIR/NAME, and prints every published figure they state under expect: against "
      "p2plab's mean, with the tolerance, a verdict and the source; the same table goes to "
      "DIR/validation.md. Every scenario is loaded and every destination checked before "
      "anything runs. Exits 1 when a figure lies outside its tolerance or has no data, 2 on "
      "bad input.",
      validate_options, "p2plab validate --quick",
      "runs the quick subset of the papers' experiments and prints the table" },
    { "bench", "[NAME [OPTIONS]]", "benchmarks of the simulator itself",
      "Benchmarks of the simulator itself; p2plab bench alone lists them.\n"
      "benchmarks:\n"
      "  phold    the classic PHOLD benchmark: events per second of the event loop\n"
      "  scale    CPU seconds and peak memory of whole runs against N, each protocol alone",
      bench_options, "p2plab bench phold --events 1000000",
      "times one million events of the engine's loop" },
    { "help", "[COMMAND]", "this list, a command's help, the man page or a completion script",
      "Without an argument, lists the commands; with one, prints its help, as "
      "p2plab COMMAND --help does.",
      help_options, "p2plab help --completion bash > ~/.local/share/bash-completion/"
      "completions/p2plab", "installs the bash completion for one user" },
    { NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct help_command *help_find(const char *name)
{
    for (const struct help_command *c = help_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* ==== printing ============================================================================ */

void help_usage(FILE *f)
{
    fputs("usage: p2plab COMMAND [ARGS]\n\ncommands:\n", f);
    for (const struct help_command *c = help_commands; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fputs("\n  --help       this text; p2plab COMMAND --help (or p2plab help COMMAND) for one "
          "command\n"
          "  --version    the version\n\n"
          "example:\n  p2plab run scenarios/quickstart.yaml -o results/quickstart\n\n"
          "Scenario format, outputs and examples: man p2plab, README.md and scenarios/.\n", f);
}

/* Writes text wrapped at 78 columns, each line indented by `indent` spaces. */
static void wrap(FILE *f, const char *text, int indent)
{
    int col = 0;
    while (*text) {
        size_t w = strcspn(text, " ");
        if (col > indent && col + 1 + (int)w > 78) {
            fputc('\n', f);
            col = 0;
        }
        if (col == 0)
            col = fprintf(f, "%*s", indent, "");
        else
            col += fprintf(f, " ");
        col += fprintf(f, "%.*s", (int)w, text);
        text += w;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

void help_command(FILE *f, const struct help_command *c)
{
    fprintf(f, "usage: p2plab %s %s%s\n\n", c->name, c->args,
            strstr(c->args, "OPTIONS") ? "" : " [OPTIONS]");
    for (const char *line = c->text; *line;) {       /* each line of the text, wrapped */
        size_t n = strcspn(line, "\n");
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)n, line);
        if (buf[0] == ' ')            /* a list's line, kept as it is */
            fprintf(f, "%s\n", buf);
        else
            wrap(f, buf, 0);
        line += n + (line[n] == '\n');
    }
    fputs("\noptions:\n", f);
    for (const struct help_option *o = c->options; o->flags; o++) {
        char head[64];
        snprintf(head, sizeof head, "  %s%s%s", o->flags, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "%-24s", head);
        if (strlen(head) >= 24)
            fprintf(f, "\n%24s", "");
        char doc[512];
        snprintf(doc, sizeof doc, "%s", o->doc);
        /* the first line continues the head; wrap() indents the rest */
        size_t room = 78 - 24, cut = strlen(doc);
        if (cut > room) {
            cut = room;
            while (cut > 0 && doc[cut] != ' ')
                cut--;
        }
        fprintf(f, "%.*s\n", (int)cut, doc);
        if (doc[cut])
            wrap(f, doc + cut + 1, 24);
    }
    fprintf(f, "\nexample:\n  %s\n      %s\n", c->example, c->example_doc);
}

const char *help_param_type(const struct param *p)
{
    switch (p->type) {
    case PARAM_INT: return p->choices ? "integer or word" : "integer";
    case PARAM_DOUBLE: return "number";
    case PARAM_DURATION: return "duration";
    case PARAM_BOOL: return "bool";
    case PARAM_ENUM: return p->choices;
    }
    return "?";
}

void help_param_range(const struct param *p, char *buf, size_t len)
{
    buf[0] = '\0';
    if (p->type == PARAM_INT || p->type == PARAM_DOUBLE)
        snprintf(buf, len, "%g – %g", p->min, p->max);
    else if (p->type == PARAM_DURATION)
        snprintf(buf, len, "%gs – %gs", p->min, p->max);
}
