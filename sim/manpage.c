/* manpage.c — p2plab(1) in roff, written from the tables that also give --help (sim/help.c),
 * `p2plab list keys` (sim/scnkeys.c), `p2plab list metrics` (sim/stats.c) and each protocol's
 * parameters (protocols/): the build runs `p2plab help --man` and the install copies the page. */
#include "sim/help.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/protocol.h"
#include "sim/scnkeys.h"
#include "sim/stats.h"

/* Text for roff: backslashes and hyphens escaped ("\-" is the ASCII minus that options and
 * key names need to be copied), a control character at the start of a line made literal. */
static void esc(FILE *f, const char *s)
{
    bool bol = true;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = *s == '\n';
    }
}

/* A bold term, then its text, as one .TP entry. */
static void term(FILE *f, const char *bold, const char *rest, const char *doc)
{
    fputs(".TP\n\\fB", f);
    esc(f, bold);
    fputs("\\fR", f);
    if (rest)
        esc(f, rest);
    fputc('\n', f);
    esc(f, doc);
    fputc('\n', f);
}

static void command(FILE *f, const struct help_command *c)
{
    fputs(".SS ", f);
    esc(f, c->name);
    fputs("\n.B p2plab ", f);
    esc(f, c->name);
    fputc(' ', f);
    esc(f, c->args);
    fputs(strstr(c->args, "OPTIONS") ? "\n.PP\n" : " [OPTIONS]\n.PP\n", f);
    esc(f, c->text);
    fputc('\n', f);
    for (const struct help_option *o = c->options; o->flags; o++) {
        char arg[64] = "";
        if (o->arg)
            snprintf(arg, sizeof arg, " %s", o->arg);
        term(f, o->flags, arg, o->doc);
    }
    fputs(".PP\nExample:\n.RS\n.nf\n", f);
    esc(f, c->example);
    fputs("\n.fi\n.RE\n", f);
    esc(f, c->example_doc);
    fputs(".\n", f);
}

static void protocol(FILE *f, const struct protocol *p)
{
    fputs(".SS ", f);
    esc(f, p->name);
    fputc('\n', f);
    esc(f, p->summary);
    fputs(". ", f);
    esc(f, p->paper);
    fputs(".\n", f);
    for (const struct param *q = p->params; q && q->name; q++) {
        char path[128], range[64], rest[512];
        snprintf(path, sizeof path, "protocols.%s.%s", p->name, q->name);
        help_param_range(q, range, sizeof range);
        snprintf(rest, sizeof rest, " (%s, default %s%s%s)", help_param_type(q), q->def,
                 range[0] ? ", " : "", range);
        term(f, path, rest, q->doc);
    }
}

void help_manpage(FILE *f)
{
    fputs(".\\\" p2plab(1), written by `p2plab help --man` from the program's own tables.\n", f);
    fprintf(f, ".TH P2PLAB 1 \"\" \"p2plab %s\" \"User Commands\"\n", P2PLAB_VERSION);
    fputs(".SH NAME\np2plab \\- a discrete-event simulator for peer-to-peer systems\n"
          ".SH SYNOPSIS\n", f);
    for (const struct help_command *c = help_commands; c->name; c++) {
        fputs(".B p2plab ", f);
        esc(f, c->name);
        fputc(' ', f);
        esc(f, c->args);
        fputs(strstr(c->args, "OPTIONS") ? "\n.br\n" : " [OPTIONS]\n.br\n", f);
    }
    fputs(".B p2plab \\-\\-help \\fR|\\fB \\-\\-version\n", f);
    fputs(".SH DESCRIPTION\n"
          "p2plab runs peer-to-peer systems (Chord, Pastry, Kelips, Kademlia, Napster, "
          "Gnutella, FastTrack, BitTorrent) over thousands to millions of simulated nodes, "
          "with the latency, loss, churn and failures a YAML scenario gives, and reports lookup "
          "hops, latency, messages, bandwidth, routing\\-state size and failures as tables, CSV "
          "files, gnuplot figures and a Markdown report.\n"
          ".PP\n"
          "Nodes talk only through messages that have a latency and a size in bytes; a node "
          "learns that another has failed only when an RPC to it times out. An oracle that "
          "knows the global truth judges whether each lookup returned the right owner or the "
          "data; no protocol uses it to route.\n"
          ".SH COMMANDS\n", f);
    for (const struct help_command *c = help_commands; c->name; c++)
        command(f, c);

    fputs(".SH SCENARIO KEYS\n"
          "A scenario is one YAML file. Every key has a default, and unknown keys are errors. "
          "Durations are written 250us 80ms 30s 5min 2h 1d; rates N/s N/min N/h, or per live "
          "node N/node/min. Any key that holds one value can be set with \\fB\\-\\-set\\fR or "
          "swept (sweep: { KEY: [V1, V2] }). The protocols' own keys follow in PROTOCOL "
          "PARAMETERS.\n", f);
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        const char *def = scn_key_default(k);
        char rest[512] = "";
        if (def[0])
            snprintf(rest, sizeof rest, " (default %s)", def);
        term(f, k->path, rest, k->doc);
    }

    fputs(".SH PROTOCOL PARAMETERS\n"
          "Each protocol's keys go under protocols.NAME in a scenario "
          "(protocols: { chord: { successors: 8 } }); \\fBp2plab list NAME\\fR prints them "
          "too.\n", f);
    for (const struct protocol *const *p = protocol_registry; *p; p++)
        protocol(f, *p);

    fputs(".SH METRICS\n"
          "Every metric of summary.yaml (mean, 95% confidence half\\-width over replicas, n) and "
          "runs.csv (one value per replica). A scenario's plots: entries name them as y.\n", f);
    for (int m = 0; m < M_COUNT; m++)
        term(f, stats_metric_name[m], NULL, stats_metric_doc[m]);

    fputs(".SH FILES\n"
          ".TP\n\\fIDIR\\fR/summary.yaml\n"
          "every metric of every cell, and the resolved scenario: \\fBp2plab run "
          "\\fIDIR\\fB/summary.yaml\\fR runs it again\n"
          ".TP\n\\fIDIR\\fR/runs.csv\n"
          "one row per (cell, replica): protocol, each swept key (a swept duration also in "
          "seconds, \\fIKEY\\fR_s), replica, seed, every metric\n"
          ".TP\n\\fIDIR\\fR/timeseries.csv, hops.csv, counters.csv, gauges.csv, cdf.csv\n"
          "time series, hop histograms, protocol counters and gauges, latency quantiles\n"
          ".TP\n\\fIDIR\\fR/perf.csv\n"
          "wall time, events, events/s and peak RSS of each run: the only file that differs "
          "between two runs of the same scenario and seed\n"
          ".TP\n\\fIDIR\\fR/plots/, \\fIDIR\\fR/report.md\n"
          "the figures (PNG, SVG, the gnuplot script and its data) and the report\n"
          ".TP\n\\fIPREFIX\\fR/share/p2plab/scenarios/\n"
          "the scenarios that come with p2plab (quickstart.yaml, chord.yaml, ...)\n"
          ".TP\n\\fIPREFIX\\fR/share/doc/p2plab/\n"
          "README.md and the documents on validation, teaching and performance\n"
          ".SH EXIT STATUS\n"
          "0 when all went well; 2 for a mistake in the command line or the scenario (one "
          "message with the file, line and column, and nothing written); 1 when a run or "
          "writing its results failed.\n"
          ".SH EXAMPLES\n.nf\n"
          "p2plab check scenarios/quickstart.yaml\n"
          "p2plab run scenarios/quickstart.yaml \\-o results/quickstart\n"
          "p2plab run scenarios/chord.yaml \\-\\-set \'sweep.nodes=[4000]\' \\-\\-set "
          "protocols.chord.successors=8\n"
          "p2plab run results/quickstart/summary.yaml \\-o results/again\n"
          "p2plab plot results/quickstart\n"
          "p2plab list chord\n"
          ".fi\n"
          ".SH SEE ALSO\n"
          ".BR gnuplot (1)\n", f);
}
