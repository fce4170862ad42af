/* scnkeys.c — the scenario keys: one row each, with default, type, range and doc, and the
 * typed reads, defaults, key lists and `p2plab list keys` that the rows drive. */
#include "sim/scnkeys.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* ==== choices and checks ================================================================== */

static const char *const latency_models[] = { "constant", "uniform", "lognormal", "euclidean",
    "matrix" };
static const char *const start_modes[] = { "converged", "join" };
static const char *const dist_kinds[] = { "none", "constant", "exponential", "weibull", "pareto",
    "lognormal" };
static const char *const popularities[] = { "uniform", "zipf" };
static const char *const replications[] = { "uniform", "proportional", "square-root" };

_Static_assert(COUNT(latency_models) == LAT_MATRIX + 1, "latency models follow the enum");
_Static_assert(COUNT(start_modes) == START_JOIN + 1, "start modes follow the enum");
_Static_assert(COUNT(dist_kinds) == DIST_LOGNORMAL + 1, "distributions follow the enum");
_Static_assert(COUNT(popularities) == POP_ZIPF + 1, "popularities follow the enum");
_Static_assert(COUNT(replications) == REPL_SQRT + 1, "replications follow the enum");
_Static_assert(sizeof(enum latency_model) == sizeof(int) && sizeof(enum start_mode) == sizeof(int)
               && sizeof(enum dist_kind) == sizeof(int) && sizeof(enum popularity) == sizeof(int)
               && sizeof(enum replication) == sizeof(int), "SCN_ENUM fields are stored as int");

static const char *run_length(const void *f)
{
    int64_t v = *(const int64_t *)f;
    return v <= 0 || v > SCN_MAX_DURATION_US ? "must be more than 0 and at most 365d" : NULL;
}

static const char *positive_duration(const void *f)
{
    return *(const int64_t *)f <= 0 ? "must be more than 0" : NULL;
}

static const char *latency_mean(const void *f)
{
    int64_t v = *(const int64_t *)f;
    return v <= 0 || v > SCN_MAX_LATENCY_US ? "must be more than 0 and at most 1h" : NULL;
}

static const char *latency_bound(const void *f)
{
    return *(const int64_t *)f > SCN_MAX_LATENCY_US ? "must be at most 1h" : NULL;
}

static const char *sigma_range(const void *f)
{
    double v = *(const double *)f;
    return !(v > 0 && v <= 10) ? "must be more than 0 and at most 10" : NULL;
}

static const char *loss_range(const void *f)
{
    return *(const double *)f >= 1 ? "must be at least 0 and less than 1" : NULL;
}

static const char *zipf_alpha(const void *f)
{
    double v = *(const double *)f;
    return !(v >= 0 && v <= 100) ? "must be between 0 and 100" : NULL;
}

static const char *log_base(const void *f)
{
    double v = *(const double *)f;
    return v != 0 && !(v > 1 && v <= 1e6)
        ? "must be a logarithm base such as 2 or 10, or 0 for a linear axis" : NULL;
}

/* ==== the table =========================================================================== */

#define AT(field) .off = offsetof(struct scenario, field), \
                  .size = sizeof ((struct scenario *)0)->field
#define IN(type, field) .item = true, .off = offsetof(type, field), \
                        .size = sizeof ((type *)0)->field
#define CHOICES(a) .kind = SCN_ENUM, .choices = a, .n_choices = COUNT(a)
#define RANGE(l, h) .kind = SCN_INT, .lo = l, .hi = h

const struct scn_key scn_keys[] = {
    { "name", "(file name)", "text", "names the results directory and the plots",
      .kind = SCN_TEXT, .derived = true, AT(name) },
    { "seed", "1", "whole number", "root of every random stream; replicas use seed, seed+1, ...",
      RANGE(0, INT64_MAX), AT(seed) },
    { "duration", "1h", "duration",
      "simulated time; lookups and churn run in [0, duration), at most 365d",
      .kind = SCN_DURATION, .check = run_length, AT(duration_us) },
    { "warmup", "0", "duration",
      "lookups issued before this are left out of the statistics; less than duration",
      .kind = SCN_DURATION, AT(warmup_us) },
    { "sample", "1min", "duration",
      "time-series sampling interval (at most 1000000 samples per run)",
      .kind = SCN_DURATION, .check = positive_duration, AT(sample_us) },
    { "replicas", "1", "whole number",
      "independent runs per cell with seeds seed..seed+replicas-1, 1..1000; results carry 95% "
      "CIs", RANGE(1, 1000), AT(replicas) },
    { "network.latency.model", "constant", "constant|uniform|lognormal|euclidean|matrix",
      "how one-way delays are drawn", CHOICES(latency_models), AT(network.model) },
    { "network.latency.mean", "80ms", "duration", "mean one-way delay (constant: the delay)",
      .kind = SCN_DURATION, .check = latency_mean, AT(network.mean_us) },
    { "network.latency.min", "0.5 x mean", "duration", "uniform: lowest delay",
      .kind = SCN_DURATION, .derived = true, AT(network.min_us) },
    { "network.latency.max", "1.5 x mean", "duration", "uniform: highest delay",
      .kind = SCN_DURATION, .derived = true, .check = latency_bound, AT(network.max_us) },
    { "network.latency.sigma", "0.5", "number", "lognormal: sigma of ln(delay)",
      .kind = SCN_NUMBER, .check = sigma_range, AT(network.sigma) },
    { "network.latency.access", "5ms", "duration",
      "euclidean: mean access-link delay added at each end",
      .kind = SCN_DURATION, .check = latency_bound, AT(network.access_us) },
    { "network.latency.file", "(none)", "path",
      "matrix: file of \"i j ms\" lines, relative to the scenario file; required for model "
      "matrix", .kind = SCN_TEXT, .derived = true, .quiet = true, AT(network.matrix_given) },
    { "network.loss", "0", "fraction", "probability that a message is lost, in [0, 1)",
      .kind = SCN_FRACTION, .check = loss_range, AT(network.loss) },
    { "network.bandwidth", "[ { share: 1, up: 10Mbit/s, down: 10Mbit/s } ]", "list",
      "access-link classes for bulk transfers (BitTorrent blocks): each peer host draws one by "
      "its share when it comes up; a transfer's rate is the smaller of the sender's upload and "
      "the receiver's download, each shared equally among that host's transfers", .kind = SCN_DOC },
    { "network.bandwidth[].share", "1 if there is one class", "fraction",
      "share of the peer hosts in this class, > 0; the shares add up to 1",
      .kind = SCN_FRACTION, .derived = true, IN(struct scn_bw_class, share) },
    { "network.bandwidth[].up", "(required)", "bandwidth",
      "upload capacity, e.g. 1Mbit/s, 512kbit/s, 2MB/s (k, M, G = 1000^n; Ki, Mi = 1024^n)",
      .kind = SCN_BANDWIDTH, .derived = true, IN(struct scn_bw_class, up_Bps) },
    { "network.bandwidth[].down", "(required)", "bandwidth", "download capacity",
      .kind = SCN_BANDWIDTH, .derived = true, IN(struct scn_bw_class, down_Bps) },
    { "network.server_bandwidth", "the first class of network.bandwidth", "mapping",
      "the capacities of the protocol's server hosts (BitTorrent's tracker and initial seeds)", .kind = SCN_DOC },
    { "network.server_bandwidth.up", "the first class's up", "bandwidth",
      "a server's upload capacity",
      .kind = SCN_BANDWIDTH, .derived = true, AT(network.server_bw.up_Bps) },
    { "network.server_bandwidth.down", "the first class's down", "bandwidth",
      "a server's download capacity",
      .kind = SCN_BANDWIDTH, .derived = true, AT(network.server_bw.down_Bps) },
    { "nodes", NULL, "whole number or mapping", "shorthand for nodes.count",
      .alias = "nodes.count", .kind = SCN_DOC },
    { "nodes.count", "1000", "whole number", "nodes at t = 0, 1..100000000",
      RANGE(1, SCN_MAX_NODE_COUNT), AT(nodes.count) },
    { "nodes.start", "converged", "converged|join",
      "converged: routing state built at t = 0; join: every node joins through the introducer",
      CHOICES(start_modes), AT(nodes.start) },
    { "nodes.join_over", "10min", "duration", "start: join spreads the joins uniformly over this",
      .kind = SCN_DURATION, AT(nodes.join_over_us) },
    { "nodes.vnodes", "1", "whole number", "virtual nodes: overlay nodes each host runs, 1..64, with their own identifiers; they share the host's network position and come and go together (Chord's load balancing, SIGCOMM 2001 §6.2); per-node metrics are per host",
      RANGE(1, 64), AT(nodes.vnodes) },
    { "churn.session", "{ dist: none }", "distribution",
      "time a node stays up; none: nodes never leave on their own", .kind = SCN_DOC },
    { "churn.session.dist", "none", "none|constant|exponential|weibull|pareto|lognormal",
      "the distribution's family", CHOICES(dist_kinds), IN(struct dist, kind) },
    { "churn.session.mean", "(derived)", "duration",
      "mean session; give mean or median, not both",
      .kind = SCN_DURATION, .derived = true, IN(struct dist, mean_us) },
    { "churn.session.median", "(derived)", "duration",
      "median session; give mean or median, not both",
      .kind = SCN_DURATION, .derived = true, IN(struct dist, median_us) },
    { "churn.session.shape", "weibull 1, pareto 2, lognormal 1", "number",
      "weibull k (> 0), pareto alpha (> 1), lognormal sigma (> 0)",
      .kind = SCN_NUMBER, .derived = true, IN(struct dist, shape) },
    { "churn.downtime", "{ dist: exponential, mean: 10min } with churn, else none", "distribution",
      "time a departed node stays away before it rejoins", .kind = SCN_DOC },
    { "churn.downtime.dist", "exponential", "none|constant|exponential|weibull|pareto|lognormal",
      "the distribution's family", CHOICES(dist_kinds), IN(struct dist, kind) },
    { "churn.downtime.mean", "10min", "duration", "mean downtime; give mean or median, not both",
      .kind = SCN_DURATION, IN(struct dist, mean_us) },
    { "churn.downtime.median", "(derived)", "duration",
      "median downtime; give mean or median, not both",
      .kind = SCN_DURATION, .derived = true, IN(struct dist, median_us) },
    { "churn.downtime.shape", NULL, "number", "as for churn.session.shape",
      .alias = "churn.session.shape", .kind = SCN_DOC },
    { "churn.crash_fraction", "1", "fraction",
      "share of departures that are crashes (no goodbye); the rest leave gracefully",
      .kind = SCN_FRACTION, AT(churn.crash_fraction) },
    { "churn.events", "[]", "list", "scheduled events, sorted by at", .kind = SCN_DOC },
    { "churn.events[].at", "(required)", "duration", "when, within [0, duration]",
      .kind = SCN_DURATION, .derived = true, IN(struct scn_churn_event, at_us) },
    { "churn.events[].crash", "", "fraction|servers",
      "crash this share of the live nodes at once, e.g. 50%; or the protocol's servers",
      .kind = SCN_FRACTION, IN(struct scn_churn_event, fraction) },
    { "churn.events[].join", "", "whole number", "this many new nodes join at once",
      RANGE(1, SCN_MAX_NODE_COUNT), IN(struct scn_churn_event, count) },
    { "churn.events[].maintenance", "", "off|on",
      "freeze or resume every protocol's periodic maintenance",
      .kind = SCN_BOOL, IN(struct scn_churn_event, on) },
    { "churn.events[].restart", "", "servers",
      "bring crashed servers back, with empty state", .kind = SCN_DOC },
    { "workload.keys", "10000", "whole number", "keys inserted at t = 0, 1..1000000000",
      RANGE(1, 1000000000), AT(workload.keys) },
    { "workload.popularity.dist", "uniform", "uniform|zipf", "which keys lookups ask for",
      CHOICES(popularities), AT(workload.popularity) },
    { "workload.popularity.alpha", "0.8", "number", "zipf exponent, 0..100",
      .kind = SCN_NUMBER, .check = zipf_alpha, AT(workload.alpha) },
    { "workload.lookups.rate", "1/node/min", "rate",
      "lookup arrivals (Poisson): N/s, N/min, N/h, or per live node N/node/min",
      .kind = SCN_RATE, AT(workload.lookups) },
    { "workload.lookup_timeout", "2min", "duration",
      "a lookup still running after this ends as a timeout",
      .kind = SCN_DURATION, .check = positive_duration, AT(workload.lookup_timeout_us) },
    { "workload.files.count", "0", "whole number",
      "files in the catalogue that unstructured systems search (Napster, Gnutella, FastTrack); 0 = none",
      RANGE(0, 100000000), AT(workload.files) },
    { "workload.files.per_node", "20", "whole number",
      "distinct files each node shares (at most the catalogue's size)",
      RANGE(1, 100000), AT(workload.files_per_node) },
    { "workload.files.replication", "proportional", "uniform|proportional|square-root",
      "copies of a file relative to its query popularity q: equal, ∝ q, or ∝ √q (Cohen & Shenker 2002)",
      CHOICES(replications), AT(workload.replication) },
    { "protocols", "(required)", "mapping",
      "the protocols to run side by side, e.g. { chord: {}, pastry: { b: 4 } }", .kind = SCN_DOC },
    { "protocols.NAME.PARAM", "the protocol's default", "per parameter", "see `p2plab list NAME`", .kind = SCN_DOC },
    { "sweep.PATH", "", "list",
      "run every combination: PATH is a key path such as nodes or protocols.chord.successors "
      "(which applies to chord only); the first axis varies slowest", .kind = SCN_DOC },
    { "plots", "[]", "list", "figures drawn after the run", .kind = SCN_DOC },
    { "plots[].x", "(required)", "text", "a swept key path, protocol or time",
      .kind = SCN_TEXT, .derived = true, IN(struct scn_plot, x) },
    { "plots[].y", "(required)", "text", "a metric, e.g. lookup.hops.mean",
      .kind = SCN_TEXT, .derived = true, IN(struct scn_plot, y) },
    { "plots[].by", "protocol", "text",
      "one line per value of: protocol, a swept key path, or none",
      .kind = SCN_TEXT, IN(struct scn_plot, by) },
    { "plots[].logx", "0", "number", "logarithmic x axis of this base; 0 = linear",
      .kind = SCN_NUMBER, .check = log_base, IN(struct scn_plot, logx) },
    { "plots[].logy", "0", "number", "logarithmic y axis of this base; 0 = linear",
      .kind = SCN_NUMBER, .check = log_base, IN(struct scn_plot, logy) },
    { "plots[].title", "", "text", "the figure's title",
      .kind = SCN_TEXT, IN(struct scn_plot, title) },
    { "also", "[]", "list",
      "companion scenarios (paths from this file's folder) run after this one into subfolders "
      "of its results, and shown in its report", .kind = SCN_DOC },
    { "expect", "[]", "list",
      "published figures the results are checked against (report.md, summary.yaml, p2plab "
      "validate)", .kind = SCN_DOC },
    { "expect[].metric", "(required)", "text", "a metric, e.g. lookup.hops.mean",
      .kind = SCN_TEXT, .derived = true, IN(struct scn_expect, metric) },
    { "expect[].cell", "the only cell", "mapping",
      "protocol: NAME and a value of each swept key that has several, e.g. { protocol: chord, "
      "nodes: 1024 }", .kind = SCN_DOC },
    { "expect[].value", "(required)", "number", "the published figure, in the metric's unit",
      .kind = SCN_NUMBER, .derived = true, IN(struct scn_expect, value) },
    { "expect[].tolerance", "(required)", "text",
      "how far p2plab's mean may be from it: relative (10%) or absolute (0.3)",
      .kind = SCN_TEXT, .derived = true, IN(struct scn_expect, tolerance) },
    { "expect[].source", "(required)", "text", "paper, table or figure, and page",
      .kind = SCN_TEXT, .derived = true, IN(struct scn_expect, source) },
    { "expect[].note", "", "text",
      "how the figure was obtained (read off a curve) or why the tolerance is what it is",
      .kind = SCN_TEXT, .quiet = true, IN(struct scn_expect, note) },
    { "quick", "off", "on|off", "one of the scenarios `p2plab validate --quick` runs",
      .kind = SCN_BOOL, AT(quick) },
    { NULL, NULL, NULL, NULL, .kind = SCN_DOC },
};

/* ==== rows ================================================================================ */

const struct scn_key *scn_key_find(const char *path)
{
    for (const struct scn_key *k = scn_keys; k->path; k++)
        if (strcmp(k->path, path) == 0)
            return k;
    return NULL;
}

const struct scn_key *scn_key_target(const struct scn_key *k)
{
    const struct scn_key *t = k->alias ? scn_key_find(k->alias) : k;
    if (!t) {
        fprintf(stderr, "p2plab: bug: scenario key %s stands for %s, which has no row\n",
                k->path, k->alias);
        abort();
    }
    return t;
}

const char *scn_key_default(const struct scn_key *k)
{
    return scn_key_target(k)->def;
}

bool scn_key_scalar(const struct scn_key *k)
{
    return scn_key_target(k)->kind != SCN_DOC;
}

/* ==== values ============================================================================== */

int scn_key_parse(const struct scn_key *k, const char *text, void *field, const char **why)
{
    k = scn_key_target(k);
    switch (k->kind) {
    case SCN_DOC:
        *why = "is no single value";
        return -1;
    case SCN_TEXT:
        if (strlen(text) >= k->size) {
            *why = "is too long";
            return -1;
        }
        snprintf(field, k->size, "%s", text);
        break;
    case SCN_INT: {
        int64_t v;
        if (units_int(text, &v, why) != 0)
            return -1;
        if (v < k->lo || v > k->hi) {
            *why = "is out of range";
            return -1;
        }
        if (k->size == sizeof(uint32_t))
            *(uint32_t *)field = (uint32_t)v;
        else
            *(uint64_t *)field = (uint64_t)v;
        break;
    }
    case SCN_DURATION:
        if (units_duration(text, field, why) != 0)
            return -1;
        break;
    case SCN_NUMBER:
        if (units_double(text, field, why) != 0)
            return -1;
        break;
    case SCN_FRACTION:
        if (units_fraction(text, field, why) != 0)
            return -1;
        break;
    case SCN_RATE:
        if (units_rate(text, field, why) != 0)
            return -1;
        break;
    case SCN_BANDWIDTH:
        if (units_bandwidth(text, field, why) != 0)
            return -1;
        break;
    case SCN_BOOL:
        if (units_bool(text, field, why) != 0)
            return -1;
        break;
    case SCN_ENUM: {
        size_t i = 0;
        while (i < k->n_choices && strcmp(text, k->choices[i]) != 0)
            i++;
        if (i == k->n_choices) {
            *why = "is none of the choices";
            return -1;
        }
        *(int *)field = (int)i;
        break;
    }
    }
    *why = k->check ? k->check(field) : NULL;
    return *why ? -2 : 0;
}

void scn_key_defaults(const char *prefix, void *base)
{
    size_t plen = strlen(prefix);
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        if (k->kind == SCN_DOC || k->derived || !k->def[0] || strncmp(k->path, prefix, plen) != 0)
            continue;
        if (plen == 0 ? k->item : !k->item)
            continue;
        const char *why;
        if (scn_key_parse(k, k->def, (char *)base + k->off, &why) != 0) {
            fprintf(stderr, "p2plab: bug: the default of scenario key %s, \"%s\", %s\n", k->path,
                    k->def, why);
            abort();
        }
    }
}

void scn_key_format(const struct scn_key *k, const void *base, char *buf, size_t len)
{
    k = scn_key_target(k);
    const void *f = (const char *)base + k->off;
    switch (k->kind) {
    case SCN_DOC:
        snprintf(buf, len, "%s", "");
        break;
    case SCN_TEXT:
        snprintf(buf, len, "%s", (const char *)f);
        break;
    case SCN_INT:
        snprintf(buf, len, "%" PRIu64, k->size == sizeof(uint32_t) ? *(const uint32_t *)f
                                                                 : *(const uint64_t *)f);
        break;
    case SCN_DURATION:
        units_format_duration(*(const int64_t *)f, buf, len);
        break;
    case SCN_NUMBER:
    case SCN_FRACTION:
        units_format_double(*(const double *)f, buf, len);
        break;
    case SCN_RATE:
        units_format_rate(*(const struct rate *)f, buf, len);
        break;
    case SCN_BANDWIDTH:
        units_format_bandwidth(*(const double *)f, buf, len);
        break;
    case SCN_BOOL:
        snprintf(buf, len, "%s", *(const bool *)f ? "on" : "off");
        break;
    case SCN_ENUM:
        snprintf(buf, len, "%s", k->choices[*(const int *)f]);
        break;
    }
}

/* ==== reading ============================================================================= */

size_t scn_key_children(const char *path, char (*names)[SCN_KEY_NAME], size_t max)
{
    size_t plen = strlen(path), n = 0;
    for (const struct scn_key *k = scn_keys; k->path && n < max; k++) {
        const char *seg = k->path;
        if (plen) {
            if (strncmp(seg, path, plen) != 0 || seg[plen] != '.')
                continue;
            seg += plen + 1;
        }
        size_t len = strcspn(seg, ".");
        if (len >= 2 && strncmp(seg + len - 2, "[]", 2) == 0)
            len -= 2;
        snprintf(names[n], SCN_KEY_NAME, "%.*s", (int)len, seg);
        size_t i = 0;
        while (i < n && strcmp(names[i], names[n]) != 0)
            i++;
        n += i == n;
    }
    return n;
}

int scn_check_keys(struct scn_ctx *c, const struct ytree *map, const char *path,
                   const char *shown)
{
    if (!map || map->kind != YTREE_MAP)
        return 0;
    char names[32][SCN_KEY_NAME];
    const char *keys[32];
    size_t n = scn_key_children(path, names, COUNT(names));
    for (size_t i = 0; i < n; i++)
        keys[i] = names[i];
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        size_t k = 0;
        while (k < n && strcmp(map->kid[i]->text, keys[k]) != 0)
            k++;
        if (k == n)
            return scn_fail_unknown(c, map->kid[i], map->kid[i]->text, "key", shown, keys, n);
    }
    return 0;
}

int scn_get_map(struct scn_ctx *c, const struct ytree *map, const char *key, const char *path,
                const char *example, const struct ytree **out)
{
    const struct ytree *v = ytree_get(map, key);
    *out = NULL;
    if (ytree_null(v))
        return 0;
    if (v->kind != YTREE_MAP) {
        char got[64];
        if (v->kind == YTREE_SCALAR)
            return scn_fail(c, v, "%s must be a mapping such as %s (got \"%s\")", path, example,
                            scn_shown(v->text, got, sizeof got));
        return scn_fail(c, v, "%s must be a mapping such as %s, not %s", path, example,
                        ytree_kind_name(v));
    }
    *out = v;
    return 1;
}

int scn_get_scalar(struct scn_ctx *c, const struct ytree *map, const char *key,
                   const char *path, const struct ytree **out)
{
    const struct ytree *v = ytree_get(map, key);
    *out = v;
    if (!v)
        return 0;
    if (v->kind != YTREE_SCALAR)
        return scn_fail(c, v, "%s must be a single value, not %s", path, ytree_kind_name(v));
    if (ytree_null(v))                /* point at the key: an empty value has no place */
        return scn_fail(c, ytree_key(map, key), "%s has no value: give one or remove the key",
                        path);
    return 1;
}

/* "must be one of a, b, c (got "x"; did you mean "y"?)" */
static int fail_choice(struct scn_ctx *c, const struct ytree *v, const char *path,
                       const struct scn_key *k)
{
    char list[256], got[64];
    size_t len = 0;
    for (size_t i = 0; i < k->n_choices && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                k->choices[i]);
    const char *near = scn_closest(v->text, k->choices, k->n_choices);
    if (near)
        return scn_fail(c, v, "%s must be one of %s (got \"%s\"; did you mean \"%s\"?)", path,
                        list, scn_shown(v->text, got, sizeof got), near);
    return scn_fail(c, v, "%s must be one of %s (got \"%s\")", path, list,
                    scn_shown(v->text, got, sizeof got));
}

int scn_get(struct scn_ctx *c, const struct ytree *map, const char *path, const char *parent,
            void *base, const struct ytree **at)
{
    const struct scn_key *row = scn_key_find(path);
    if (!row) {
        fprintf(stderr, "p2plab: bug: no scenario key %s in the table\n", path);
        abort();
    }
    const struct scn_key *k = scn_key_target(row);
    const char *key = strrchr(path, '.');
    key = key ? key + 1 : path;
    char shown[256];
    if (!parent) {
        snprintf(shown, sizeof shown, "%s", path);
    } else if (parent[0]) {
        snprintf(shown, sizeof shown, "%s.%s", parent, key);
    } else {
        snprintf(shown, sizeof shown, "%s", key);
    }
    const struct ytree *v;
    int rc = scn_get_scalar(c, map, key, shown, &v);
    if (at)
        *at = v;
    if (rc <= 0)
        return rc;
    void *field = (char *)base + k->off;
    const char *why;
    switch (k->kind) {
    case SCN_TEXT:
        if (strlen(v->text) >= k->size)
            return scn_fail(c, v, "%s is too long: at most %zu characters", shown, k->size - 1);
        break;
    case SCN_INT: {
        int64_t n;
        if (units_int(v->text, &n, &why) != 0)
            return scn_fail_value(c, v, shown, why);
        if (n < k->lo || n > k->hi)
            return scn_fail(c, v, "%s must be between %" PRId64 " and %" PRId64 " (got %s)",
                            shown, k->lo, k->hi, v->text);
        break;
    }
    case SCN_ENUM: {
        size_t i = 0;
        while (i < k->n_choices && strcmp(v->text, k->choices[i]) != 0)
            i++;
        if (i == k->n_choices)
            return fail_choice(c, v, shown, k);
        break;
    }
    default:
        break;
    }
    rc = scn_key_parse(k, v->text, field, &why);
    if (rc == -2)
        return scn_fail(c, v, "%s %s (got %s)", shown, why, v->text);
    return rc < 0 ? scn_fail_value(c, v, shown, why) : 1;
}

/* ==== listing ============================================================================= */

void scn_keys_print(FILE *f, bool markdown)
{
    if (markdown)
        fputs("| key | default | meaning |\n|---|---|---|\n", f);
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        const char *def = scn_key_default(k);
        if (markdown && def[0])
            fprintf(f, "| `%s` | `%s` | %s |\n", k->path, def, k->doc);
        else if (markdown)
            fprintf(f, "| `%s` | — | %s |\n", k->path, k->doc);
        else
            fprintf(f, "  %-32s %-14s %s\n", k->path, def, k->doc);
    }
}
