/* scenario.c — resolution: the tree of one sweep point walked against the key table
 * (sim/scnkeys.c) into a struct scenario with every default filled, and the checks that
 * tie keys to each other (warmup < duration, mean or median, shares that add up to 1).
 *
 * The file is loaded by sim/scndoc.c, its sweep read by sim/sweep.c, and the result written
 * back by sim/scnemit.c. Every error is one message at the node it is about (sim/scnerr.c). */
#define _DEFAULT_SOURCE                    /* realpath */
#include "sim/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protocols/protocol.h"
#include "sim/matrix.h"
#include "sim/mem.h"
#include "sim/scncost.h"
#include "sim/scndoc.h"
#include "sim/scnerr.h"
#include "sim/scnkeys.h"
#include "sim/stats.h"
#include "sim/sweep.h"

#define MAX_SAMPLES 1000000           /* duration / sample */
#define LN2 0.69314718055994530942
#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static void fmt_duration(int64_t us, char *buf, size_t len) { units_format_duration(us, buf, len); }

/* ==== the run and the network ============================================================= */

/* The run's top-level numbers, needed by later sections. */
static int resolve_run(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    const struct ytree *at;
    char buf[64], buf2[64];
    snprintf(out->name, sizeof out->name, "%s", c->d->defname);
    if (scn_get(c, root, "name", NULL, out, &at) < 0)
        return -1;
    bool ok = out->name[0] && strcmp(out->name, ".") != 0 && strcmp(out->name, "..") != 0;
    for (const char *p = out->name; *p; p++)
        ok = ok && *p != '/' && *p != '\\' && !iscntrl((unsigned char)*p);
    if (!ok)
        return scn_fail(c, at, "name must be usable as a directory name, such as dht-scaling: "
                        "no \"/\" or control characters (got \"%s\")", at ? at->text : out->name);

    if (scn_get(c, root, "seed", NULL, out, NULL) < 0 ||
        scn_get(c, root, "duration", NULL, out, NULL) < 0 ||
        scn_get(c, root, "warmup", NULL, out, &at) < 0)
        return -1;
    if (out->warmup_us >= out->duration_us) {
        fmt_duration(out->duration_us, buf, sizeof buf);
        return scn_fail(c, at, "warmup must be shorter than duration, %s (got %s)", buf, at->text);
    }

    if (scn_get(c, root, "sample", NULL, out, &at) < 0)
        return -1;
    if (out->duration_us / out->sample_us > MAX_SAMPLES) {
        fmt_duration(out->duration_us, buf, sizeof buf);
        fmt_duration((out->duration_us + MAX_SAMPLES - 1) / MAX_SAMPLES, buf2, sizeof buf2);
        return scn_fail(c, at ? at : ytree_key(root, "duration"), "sample is too short: "
                        "duration %s would take more than %d samples; use sample: %s or more",
                        buf, MAX_SAMPLES, buf2);
    }
    return scn_get(c, root, "replicas", NULL, out, NULL) < 0 ? -1 : 0;
}

#define BW_EXAMPLE "[ { share: 0.5, up: 1Mbit/s, down: 8Mbit/s }, { share: 0.5, up: 10Mbit/s, " \
                   "down: 50Mbit/s } ]"

/* The classes of network.bandwidth from list (given, or the table's default). */
static int resolve_bw_classes(struct scn_ctx *c, const struct ytree *list, struct scn_network *net)
{
    const struct ytree *at;
    if (list->kind != YTREE_SEQ)
        return scn_fail(c, list, "network.bandwidth must be a list of classes such as %s, not %s",
                        BW_EXAMPLE, ytree_kind_name(list));
    if (list->n == 0)
        return scn_fail(c, list, "network.bandwidth needs at least one class, e.g. [ { up: "
                        "10Mbit/s, down: 10Mbit/s } ]; or leave the key out for that default");
    if (list->n > SCN_MAX_BW_CLASSES)
        return scn_fail(c, list->kid[SCN_MAX_BW_CLASSES], "network.bandwidth has more than %d "
                        "classes", SCN_MAX_BW_CLASSES);
    double sum = 0;
    for (size_t i = 0; i < list->n; i++) {
        const struct ytree *item = list->kid[i];
        struct scn_bw_class *k = &net->bw[i];
        char P[64];
        snprintf(P, sizeof P, "network.bandwidth[%zu]", i);
        if (item->kind != YTREE_MAP)
            return scn_fail(c, item, "%s must be a mapping such as { share: 0.5, up: 1Mbit/s, "
                            "down: 8Mbit/s }, not %s", P, ytree_kind_name(item));
        if (scn_check_keys(c, item, "network.bandwidth[]", P) < 0)
            return -1;
        int ru = scn_get(c, item, "network.bandwidth[].up", P, k, NULL);
        if (ru < 0)
            return -1;
        int rd = scn_get(c, item, "network.bandwidth[].down", P, k, NULL);
        if (rd < 0)
            return -1;
        if (ru == 0 || rd == 0)
            return scn_fail(c, item, "%s needs both up: and down:, e.g. { share: 0.5, up: "
                            "1Mbit/s, down: 8Mbit/s }", P);
        k->share = 1;
        int rs = scn_get(c, item, "network.bandwidth[].share", P, k, &at);
        if (rs < 0)
            return -1;
        if (rs == 0 && list->n > 1)
            return scn_fail(c, item, "%s needs share: with several classes, each class gives "
                            "its share of the peers (the shares add up to 1)", P);
        if (rs > 0 && k->share <= 0)
            return scn_fail(c, at, "%s.share must be more than 0 (got %s); drop the class "
                            "instead", P, at->text);
        sum += k->share;
    }
    if (fabs(sum - 1) > 1e-9)
        return scn_fail(c, list, "network.bandwidth: the shares add up to %g; they must add up "
                        "to 1", sum);
    net->n_bw = list->n;
    return 0;
}

/* network.bandwidth: a list of classes whose shares add up to 1 (a lone class may omit its
 * share), by default the table's; network.server_bandwidth: { up, down }, by default the
 * first class. */
static int resolve_bandwidth(struct scn_ctx *c, const struct ytree *nmap, struct scenario *out)
{
    struct scn_network *net = &out->network;
    const struct ytree *list = ytree_get(nmap, "bandwidth"), *smap;
    if (ytree_null(list)) {
        const char *def = scn_key_find("network.bandwidth")->def;
        struct ytree *tree;
        struct ytree_error e;
        if (ytree_parse(def, strlen(def), "the default of network.bandwidth", 0, &tree, &e) != 0)
            return scn_fail(c, NULL, "network.bandwidth: the default does not parse: %s", e.msg);
        int rc = resolve_bw_classes(c, tree, net);
        ytree_free(tree);
        if (rc < 0)
            return -1;
    } else if (resolve_bw_classes(c, list, net) < 0) {
        return -1;
    }
    net->server_bw = net->bw[0];
    net->server_bw.share = 0;
    if (scn_get_map(c, nmap, "server_bandwidth", "network.server_bandwidth",
                    "{ up: 10Mbit/s, down: 10Mbit/s }", &smap) < 0 ||
        scn_check_keys(c, smap, "network.server_bandwidth", "network.server_bandwidth") < 0 ||
        scn_get(c, smap, "network.server_bandwidth.up", NULL, out, NULL) < 0 ||
        scn_get(c, smap, "network.server_bandwidth.down", NULL, out, NULL) < 0)
        return -1;
    return 0;
}

static int resolve_network(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    struct scn_network *net = &out->network;
    const struct ytree *nmap, *lat, *min_at = NULL, *max_at = NULL, *file_at;
    if (scn_get_map(c, root, "network", "network", "{ latency: { model: constant, mean: 80ms } }",
                    &nmap) < 0 ||
        scn_check_keys(c, nmap, "network", "network") < 0 ||
        scn_get_map(c, nmap, "latency", "network.latency", "{ model: lognormal, mean: 80ms }",
                    &lat) < 0 ||
        scn_check_keys(c, lat, "network.latency", "network.latency") < 0 ||
        scn_get(c, lat, "network.latency.model", NULL, out, NULL) < 0 ||
        scn_get(c, lat, "network.latency.mean", NULL, out, NULL) < 0)
        return -1;
    net->min_us = net->mean_us / 2;
    net->max_us = net->mean_us + net->mean_us / 2;
    if (scn_get(c, lat, "network.latency.min", NULL, out, &min_at) < 0 ||
        scn_get(c, lat, "network.latency.max", NULL, out, &max_at) < 0)
        return -1;
    if (net->min_us > net->max_us) {
        char lo[40], hi[40];
        fmt_duration(net->min_us, lo, sizeof lo);
        fmt_duration(net->max_us, hi, sizeof hi);
        return scn_fail(c, min_at ? min_at : max_at, "network.latency: min (%s) must not exceed "
                        "max (%s)", lo, hi);
    }
    if (scn_get(c, lat, "network.latency.sigma", NULL, out, NULL) < 0 ||
        scn_get(c, lat, "network.latency.access", NULL, out, NULL) < 0 ||
        scn_get(c, lat, "network.latency.file", NULL, out, NULL) < 0)
        return -1;
    file_at = ytree_key(lat, "file");
    if (net->matrix_given[0]) {
        const char *dir = net->matrix_given[0] == '/' ? "" : c->d->dir;
        if ((size_t)snprintf(net->matrix, sizeof net->matrix, "%s%s", dir, net->matrix_given) >=
            sizeof net->matrix)
            return scn_fail(c, file_at, "network.latency.file: the path is too long");
        struct stat st;               /* before opening: a pipe would block the open */
        if (stat(net->matrix, &st) == 0 && !S_ISREG(st.st_mode))
            return scn_fail(c, file_at, "network.latency.file: \"%s\" is %s, not a text file of "
                            "\"i j ms\" lines", net->matrix, S_ISDIR(st.st_mode) ? "a directory"
                            : "a device or a pipe");
        FILE *f = fopen(net->matrix, "r");
        if (!f)
            return scn_fail(c, file_at, "network.latency.file: cannot open \"%s\": %s (a "
                            "relative path is taken from the scenario file's directory%s)",
                            net->matrix, strerror(errno), c->d->summary ? ", here the results "
                            "folder: copy the matrix there or --set network.latency.file=PATH"
                            : "");
        fclose(f);
    } else if (net->model == LAT_MATRIX) {
        const struct ytree *m = ytree_get(lat, "model");
        return scn_fail(c, m, "network.latency: model matrix needs file: a file of \"i j ms\" "
                        "lines, e.g. file: king.txt");
    }
    if (scn_get(c, nmap, "network.loss", NULL, out, NULL) < 0)
        return -1;
    return resolve_bandwidth(c, nmap, out);
}

/* ==== nodes and churn ===================================================================== */

static int resolve_nodes(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    struct scn_nodes *nodes = &out->nodes;
    const struct ytree *v = ytree_get(root, "nodes"), *map;
    if (v && v->kind == YTREE_SCALAR && !ytree_null(v))
        return scn_get(c, root, "nodes", "", out, NULL) < 0 ? -1 : 0;
    if (scn_get_map(c, root, "nodes", "nodes", "{ count: 1000, start: join, join_over: 10min } "
                    "or a number", &map) < 0 ||
        scn_check_keys(c, map, "nodes", "nodes") < 0 ||
        scn_get(c, map, "nodes.count", NULL, out, NULL) < 0 ||
        scn_get(c, map, "nodes.start", NULL, out, NULL) < 0 ||
        scn_get(c, map, "nodes.join_over", NULL, out, NULL) < 0 ||
        scn_get(c, map, "nodes.vnodes", NULL, out, NULL) < 0)
        return -1;
    if ((uint64_t)nodes->count * nodes->vnodes > SCN_MAX_NODE_COUNT)
        return scn_fail(c, ytree_get(map, "vnodes"), "nodes.count x nodes.vnodes must be at most "
                        "%d overlay nodes (got %lld x %lld)", SCN_MAX_NODE_COUNT,
                        (long long)nodes->count, (long long)nodes->vnodes);
    return 0;
}

/* The default shape of a family, from the table's words "weibull 1, pareto 2, lognormal 1";
 * 0 for a family without a shape. */
static double default_shape(const char *family)
{
    const char *def = scn_key_find("churn.session.shape")->def;
    size_t n = strlen(family);
    for (const char *p = def; p && *p; p = strchr(p, ','), p = p ? p + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (strncmp(p, family, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return 0;
}

/* median / mean for a family and shape */
static double median_ratio(enum dist_kind kind, double shape)
{
    switch (kind) {
    case DIST_NONE:
    case DIST_CONSTANT:
        return 1;
    case DIST_EXPONENTIAL:            /* median = mean ln 2 */
        return LN2;
    case DIST_WEIBULL:                /* mean = l G(1 + 1/k), median = l (ln 2)^(1/k) */
        return exp(log(LN2) / shape - lgamma(1 + 1 / shape));
    case DIST_PARETO:                 /* mean = a xm / (a - 1), median = xm 2^(1/a) */
        return pow(2, 1 / shape) * (shape - 1) / shape;
    case DIST_LOGNORMAL:              /* median = e^mu, mean = e^(mu + s^2 / 2) */
        return exp(-shape * shape / 2);
    }
    return 1;
}

/* { dist: NAME, mean|median: DURATION, shape: X } at P ("churn.session"); the value not given
 * is derived. */
static int resolve_dist(struct scn_ctx *c, const struct ytree *parent, const char *key,
                        const char *P, struct dist *out, bool *given)
{
    memset(out, 0, sizeof *out);
    const struct ytree *v = ytree_get(parent, key), *map, *mean_at, *median_at, *shape_at;
    *given = !ytree_null(v);
    if (!*given)
        return 0;
    if (v->kind == YTREE_SCALAR && strcmp(v->text, "none") == 0)
        return 0;                     /* "session: none" reads as { dist: none } */
    char row[64];
    if (scn_get_map(c, parent, key, P, "{ dist: exponential, mean: 30min }", &map) < 0 ||
        scn_check_keys(c, map, P, P) < 0)
        return -1;
    snprintf(row, sizeof row, "%s.dist", P);
    int rc = scn_get(c, map, row, NULL, out, NULL);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return scn_fail(c, map, "%s needs dist: one of none, constant, exponential, weibull, "
                        "pareto, lognormal", P);
    if (out->kind == DIST_NONE)
        return 0;                     /* mean, median and shape mean nothing here */

    struct dist m = { 0 };
    snprintf(row, sizeof row, "%s.mean", P);
    int has_mean = scn_get(c, map, row, NULL, &m, &mean_at);
    if (has_mean < 0)
        return -1;
    snprintf(row, sizeof row, "%s.median", P);
    int has_median = scn_get(c, map, row, NULL, &m, &median_at);
    if (has_median < 0)
        return -1;
    if (has_mean && has_median)
        return scn_fail(c, median_at, "%s: give mean or median, not both", P);
    if (!has_mean && !has_median)
        return scn_fail(c, map, "%s needs a mean or a median, e.g. mean: 30min", P);
    const struct ytree *given_at = has_mean ? mean_at : median_at;
    if ((has_mean ? m.mean_us : m.median_us) <= 0)
        return scn_fail(c, given_at, "%s.%s must be more than 0 (got %s)", P,
                        has_mean ? "mean" : "median", given_at->text);

    const struct scn_key *dist_row = scn_key_find("churn.session.dist");
    m.shape = default_shape(dist_row->choices[out->kind]);
    snprintf(row, sizeof row, "%s.shape", P);
    if (scn_get(c, map, row, NULL, &m, &shape_at) < 0)
        return -1;
    double shape = m.shape;
    if (out->kind == DIST_WEIBULL && !(shape > 0))
        return scn_fail(c, shape_at, "%s.shape must be more than 0 for weibull (got %s)", P,
                        shape_at->text);
    if (out->kind == DIST_PARETO && !(shape > 1))
        return scn_fail(c, shape_at, "%s.shape must be more than 1 for pareto, or the mean is "
                        "infinite (got %s)", P, shape_at->text);
    if (out->kind == DIST_LOGNORMAL && !(shape > 0 && shape <= 10))
        return scn_fail(c, shape_at, "%s.shape (sigma) must be more than 0 and at most 10 for "
                        "lognormal (got %s)", P, shape_at->text);

    double ratio = median_ratio(out->kind, shape);
    double derived = has_mean ? (double)m.mean_us * ratio : (double)m.median_us / ratio;
    if (!isfinite(derived) || derived >= 9.2e18 || derived < 0.5) {
        const struct ytree *blame = shape_at ? shape_at : given_at;
        return scn_fail(c, blame, "%s: with shape %g the %s would be %s; use a %s shape", P,
                        shape, has_mean ? "median" : "mean",
                        derived < 0.5 ? "below 1us" : "beyond 106751991d",
                        out->kind == DIST_LOGNORMAL ? "smaller" : "larger");
    }
    out->mean_us = has_mean ? m.mean_us : llround(derived);
    out->median_us = has_mean ? llround(derived) : m.median_us;
    out->shape = shape;
    out->by_median = has_median;
    return 0;
}

/* The downtime when churn has sessions but no downtime: the table's churn.downtime.* rows. */
static void default_downtime(struct dist *out)
{
    memset(out, 0, sizeof *out);
    scn_key_defaults("churn.downtime.", out);
    out->shape = default_shape(scn_key_find("churn.downtime.dist")->choices[out->kind]);
    out->median_us = llround((double)out->mean_us * median_ratio(out->kind, out->shape));
}

static int resolve_event(struct scn_ctx *c, const struct ytree *item, const char *P,
                         int64_t duration, struct scn_churn_event *e)
{
    const struct ytree *at_at, *which[4];
    static const char *const kinds[] = { "crash", "join", "maintenance", "restart" };
    if (item->kind != YTREE_MAP)
        return scn_fail(c, item, "%s must be a mapping such as { at: 20min, crash: 50%% }, not %s",
                        P, ytree_kind_name(item));
    if (scn_check_keys(c, item, "churn.events[]", P) < 0)
        return -1;
    int rc = scn_get(c, item, "churn.events[].at", P, e, &at_at);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return scn_fail(c, item, "%s needs at: the time of the event, e.g. at: 20min", P);
    if (e->at_us > duration) {
        char d[40];
        fmt_duration(duration, d, sizeof d);
        return scn_fail(c, at_at, "%s.at must be within the run, 0 to %s (got %s)", P, d,
                        at_at->text);
    }
    int n = 0, kind = 0;
    for (int k = 0; k < 4; k++) {
        which[k] = ytree_key(item, kinds[k]);
        if (which[k]) {
            if (n++ == 1)
                return scn_fail(c, which[k], "%s: give one of crash, join, maintenance or "
                                "restart per event (got %s and %s)", P, kinds[kind], kinds[k]);
            kind = k;
        }
    }
    if (n == 0)
        return scn_fail(c, item, "%s needs one of crash: 50%%, join: 100 or maintenance: off", P);
    if (kind == 3) {
        const struct ytree *v = ytree_get(item, "restart");
        if (v->kind != YTREE_SCALAR || strcmp(v->text, "servers") != 0)
            return scn_fail(c, v, "%s.restart takes servers: restart: servers brings the "
                            "protocol's crashed servers back", P);
        e->kind = CHURN_RESTART_SERVERS;
        return 0;
    }
    e->kind = (enum churn_event_kind)kind;
    switch (e->kind) {
    case CHURN_CRASH: {
        const struct ytree *v = ytree_get(item, "crash");
        if (v->kind == YTREE_SCALAR && strcmp(v->text, "servers") == 0) {
            e->kind = CHURN_CRASH_SERVERS;
            return 0;
        }
        return scn_get(c, item, "churn.events[].crash", P, e, NULL) < 0 ? -1 : 0;
    }
    case CHURN_JOIN:
        return scn_get(c, item, "churn.events[].join", P, e, NULL) < 0 ? -1 : 0;
    case CHURN_MAINTENANCE:
        return scn_get(c, item, "churn.events[].maintenance", P, e, NULL) < 0 ? -1 : 0;
    case CHURN_CRASH_SERVERS:
    case CHURN_RESTART_SERVERS:
        break;
    }
    return 0;
}

static int resolve_churn(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    struct scn_churn *ch = &out->churn;
    const struct ytree *map;
    bool session, downtime;
    if (scn_get_map(c, root, "churn", "churn", "{ session: { dist: exponential, mean: 1h } }",
                    &map) < 0 ||
        scn_check_keys(c, map, "churn", "churn") < 0 ||
        resolve_dist(c, map, "session", "churn.session", &ch->session, &session) < 0 ||
        resolve_dist(c, map, "downtime", "churn.downtime", &ch->downtime, &downtime) < 0)
        return -1;
    if (!downtime && ch->session.kind != DIST_NONE)
        default_downtime(&ch->downtime);
    if (scn_get(c, map, "churn.crash_fraction", NULL, out, NULL) < 0)
        return -1;

    const struct ytree *events = ytree_get(map, "events");
    ch->n_events = 0;
    if (ytree_null(events))
        return 0;
    if (events->kind != YTREE_SEQ)
        return scn_fail(c, events, "churn.events must be a list such as "
                        "[ { at: 20min, crash: 50%% } ], not %s", ytree_kind_name(events));
    for (size_t i = 0; i < events->n; i++) {
        char P[64];
        snprintf(P, sizeof P, "churn.events[%zu]", i);
        if (i == SCN_MAX_EVENTS)
            return scn_fail(c, events->kid[i], "churn.events has more than %d events",
                            SCN_MAX_EVENTS);
        struct scn_churn_event e = { 0 };
        if (resolve_event(c, events->kid[i], P, out->duration_us, &e) < 0)
            return -1;
        size_t j = ch->n_events++;    /* insertion sort: stable, events at one time keep order */
        while (j > 0 && ch->events[j - 1].at_us > e.at_us) {
            ch->events[j] = ch->events[j - 1];
            j--;
        }
        ch->events[j] = e;
    }
    return 0;
}

/* ==== workload and protocols ============================================================== */

static int resolve_workload(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    struct scn_workload *w = &out->workload;
    const struct ytree *map, *pop, *lookups, *files;
    if (scn_get_map(c, root, "workload", "workload", "{ keys: 10000, lookups: { rate: "
                    "1/node/min } }", &map) < 0 ||
        scn_check_keys(c, map, "workload", "workload") < 0 ||
        scn_get(c, map, "workload.keys", NULL, out, NULL) < 0 ||
        scn_get_map(c, map, "popularity", "workload.popularity", "{ dist: zipf, alpha: 0.8 }",
                    &pop) < 0 ||
        scn_check_keys(c, pop, "workload.popularity", "workload.popularity") < 0 ||
        scn_get(c, pop, "workload.popularity.dist", NULL, out, NULL) < 0 ||
        scn_get(c, pop, "workload.popularity.alpha", NULL, out, NULL) < 0 ||
        scn_get_map(c, map, "lookups", "workload.lookups", "{ rate: 1/node/min }", &lookups) < 0 ||
        scn_check_keys(c, lookups, "workload.lookups", "workload.lookups") < 0 ||
        scn_get(c, lookups, "workload.lookups.rate", NULL, out, NULL) < 0 ||
        scn_get(c, map, "workload.lookup_timeout", NULL, out, NULL) < 0 ||
        scn_get_map(c, map, "files", "workload.files",
                    "{ count: 10000, per_node: 20, replication: square-root }", &files) < 0 ||
        scn_check_keys(c, files, "workload.files", "workload.files") < 0 ||
        scn_get(c, files, "workload.files.count", NULL, out, NULL) < 0 ||
        scn_get(c, files, "workload.files.per_node", NULL, out, NULL) < 0 ||
        scn_get(c, files, "workload.files.replication", NULL, out, NULL) < 0)
        return -1;
    if (w->files_per_node > w->files && w->files != 0)
        w->files_per_node = w->files;
    return 0;
}

static int resolve_protocols(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    const struct ytree *map;
    const char *names[64];
    size_t n_names = scn_protocol_names(names, COUNT(names));
    int rc = scn_get_map(c, root, "protocols", "protocols", "{ chord: {} }", &map);
    if (rc < 0)
        return -1;
    if (rc == 0 || map->n == 0) {
        return scn_fail(c, rc ? map : ytree_key(root, "protocols"),
                    "no protocols to run: add e.g. \"protocols: { chord: {} }\"");
    }
    out->n_protocols = 0;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct ytree *key = map->kid[i], *params;
        const struct protocol *proto = protocol_find(key->text);
        if (!proto)
            return scn_fail_unknown(c, key, key->text, "protocol", "protocols", names, n_names);
        if (out->n_protocols == SCN_MAX_PROTOCOLS)
            return scn_fail(c, key, "protocols: at most %d protocols per scenario", SCN_MAX_PROTOCOLS);
        struct scn_protocol *sp = &out->protocols[out->n_protocols++];
        snprintf(sp->name, sizeof sp->name, "%s", proto->name);
        char P[64], example[80];
        snprintf(P, sizeof P, "protocols.%s", proto->name);
        snprintf(example, sizeof example, "{ %s: 16 } or {}", proto->params && proto->params[0].name
                 ? proto->params[0].name : "param");
        if (scn_get_map(c, map, key->text, P, example, &params) < 0)
            return -1;
        if (!proto->params || param_defaults(&sp->cfg, proto->params) != 0)
            return scn_fail(c, key, "protocol %s: its parameter table does not load (a bug in "
                        "protocols/%s.c; the test suite checks every table)", proto->name,
                        proto->name);
        const char *pnames[PARAM_MAX];
        for (size_t k = 0; k < sp->cfg.count; k++)
            pnames[k] = proto->params[k].name;
        for (size_t k = 0; params && k + 1 < params->n; k += 2) {
            const struct ytree *pk = params->kid[k], *pv;
            int idx = param_find(proto->params, pk->text);
            if (idx < 0)
                return scn_fail_unknown(c, pk, pk->text, "key", P, pnames, sp->cfg.count);
            char path[128];
            snprintf(path, sizeof path, "%s.%s", P, pk->text);
            if (scn_get_scalar(c, params, pk->text, path, &pv) < 0)
                return -1;
            const char *msg;
            if (param_parse(&proto->params[idx], pv->text, &sp->cfg.v[idx], &msg) != 0)
                return scn_fail_value(c, pv, path, msg);
        }
    }
    return 0;
}

/* ==== rules across sections: what setup and the run would otherwise find =================== */

/* The node a message about the node count points at: nodes (a number) or nodes.count. */
static const struct ytree *count_node(const struct ytree *root)
{
    const struct ytree *v = ytree_get(root, "nodes");
    if (v && v->kind == YTREE_MAP) {
        const struct ytree *k = ytree_get(v, "count");
        return k ? k : ytree_key(root, "nodes");
    }
    return v ? v : NULL;
}

/* "1.5 GiB" */
static void fmt_bytes(double b, char *buf, size_t len)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    while (b >= 1024 && u < 6) {
        b /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* The clock counts whole microseconds: lookups come at most one per microsecond, and a
 * session shorter than one message's trip never lets a node join. */
static int check_rates(struct scn_ctx *c, const struct ytree *root, const struct scenario *out)
{
    if (c->values_only)
        return 0;
    const struct scn_workload *w = &out->workload;
    const struct ytree *rate = ytree_path(root, "workload.lookups.rate");
    double hosts = (double)out->nodes.count;
    for (size_t i = 0; i < out->churn.n_events; i++)
        if (out->churn.events[i].kind == CHURN_JOIN)
            hosts += out->churn.events[i].count;
    double per_s = w->lookups.per_s * (w->lookups.per_node ? hosts : 1);
    if (per_s > 1e6) {
        char given[64];
        units_format_rate(w->lookups, given, sizeof given);
        if (!rate)                    /* the default rate, over very many nodes */
            return scn_fail(c, count_node(root), "nodes: at the default workload.lookups.rate, "
                            "%s, up to %.0f nodes (nodes.count and join events) issue %g lookups a second, more than one a "
                            "microsecond, the clock's resolution: set workload.lookups.rate to "
                            "at most %g/node/s", given, hosts, per_s, 1e6 / hosts);
        if (w->lookups.per_node)
            return scn_fail(c, rate, "workload.lookups.rate: %g lookups a second in all (with up "
                            "to %.0f nodes) is more than one a microsecond, the clock's resolution: "
                            "at most %g/node/s here (got \"%s\")", per_s, hosts, 1e6 / hosts,
                            rate->text);
        return scn_fail(c, rate, "workload.lookups.rate: more than one lookup a microsecond, the "
                        "clock's resolution: at most 1000000/s (got \"%s\")", rate->text);
    }
    const struct dist *sess = &out->churn.session;
    const struct scn_network *net = &out->network;
    if (sess->kind != DIST_NONE && net->model != LAT_MATRIX && sess->mean_us < net->mean_us) {
        char m[40], l[40];
        fmt_duration(sess->mean_us, m, sizeof m);
        fmt_duration(net->mean_us, l, sizeof l);
        const struct ytree *at = ytree_path(root, "churn.session");
        const struct ytree *v = at ? ytree_get(at, sess->by_median ? "median" : "mean") : NULL;
        return scn_fail(c, v ? v : at, "churn.session: a mean session of %s is shorter than one "
                        "message's mean delay, %s (network.latency.mean): a node would leave "
                        "before its join could be answered; give sessions of at least %s",
                        m, l, l);
    }
    return 0;
}

/* What setup and the run check, said here with a place: start: converged needs a converge
 * hook, a file search needs a catalogue, the protocol's own rules (its validate hook), and
 * crash: servers needs a protocol with servers. */
static int check_protocols(struct scn_ctx *c, const struct ytree *root, const struct scenario *out)
{
    const struct ytree *pmap = ytree_get(root, "protocols");
    const struct ytree *nodes = ytree_get(root, "nodes");
    const struct ytree *start = nodes && nodes->kind == YTREE_MAP ? ytree_get(nodes, "start") : NULL;
    bool any_servers = false;
    for (size_t pi = 0; pi < out->n_protocols; pi++) {
        const struct scn_protocol *sp = &out->protocols[pi];
        const struct protocol *p = protocol_find(sp->name);
        const struct ytree *key = ytree_key(pmap, sp->name), *params = ytree_get(pmap, sp->name);
        if (out->nodes.start == START_CONVERGED && !p->converge)
            return scn_fail(c, start ? start : key, "%s cannot start converged: it has no "
                            "converged state to lay down (its state is what the run measures); "
                            "set nodes: { start: join }", sp->name);
        if (p->keys == KEYS_FILES && out->workload.files == 0)
            return scn_fail(c, key, "%s searches a file catalogue: set workload.files.count "
                            "(e.g. workload: { files: { count: 10000, per_node: 20 } })", sp->name);
        if (p->validate) {
            struct proto_env env = {
                .nodes = out->nodes.count * (out->nodes.vnodes ? out->nodes.vnodes : 1),
                .converged = out->nodes.start == START_CONVERGED,
            };
            const char *param = NULL;
            char why[512];
            if (p->validate(&sp->cfg, &env, &param, why, sizeof why) != 0) {
                const struct ytree *at = param && params && params->kind == YTREE_MAP
                                         ? ytree_get(params, param) : NULL;
                return scn_fail(c, at ? at : key, "%s", why);
            }
        }
        any_servers = any_servers || (p->servers && p->servers(&sp->cfg) > 0);
    }
    /* crash: servers is a no-op for a protocol without servers: in a comparison (napster and
     * chord) that is the point; with no server anywhere the event would do nothing at all */
    const struct ytree *events = ytree_path(root, "churn.events");
    for (size_t i = 0; !any_servers && events && events->kind == YTREE_SEQ && i < events->n; i++) {
        const struct ytree *item = events->kid[i];
        const char *kinds[] = { "crash", "restart" };
        for (int k = 0; k < 2; k++) {
            const struct ytree *v = ytree_get(item, kinds[k]);
            if (v && v->kind == YTREE_SCALAR && strcmp(v->text, "servers") == 0)
                return scn_fail(c, v, "churn.events[%zu]: %s: servers, but no protocol here has "
                                "servers (napster's directory, bittorrent's tracker and seeds): "
                                "the event would do nothing; use e.g. crash: 10%% for peers",
                                i, kinds[k]);
        }
    }
    return 0;
}

/* The cost of each cell, before anything is allocated (sim/scncost.h): refuse what cannot fit
 * in this machine's memory or could not finish in a day even at the fastest event rate
 * measured, unless --force. */
static int check_cost(struct scn_ctx *c, const struct ytree *root, const struct scenario *out)
{
    if (scn_cost_forced() || c->values_only)
        return 0;
    double limit = scn_cost_memory_limit();
    for (size_t pi = 0; pi < out->n_protocols; pi++) {
        struct scn_cost k;
        scn_cost(out, pi, &k);
        const char *name = out->protocols[pi].name;
        if (limit > 0 && k.bytes > limit) {
            char need[32], have[32];
            fmt_bytes(k.bytes, need, sizeof need);
            fmt_bytes(limit, have, sizeof have);
            double per = k.proto_per_slot + k.engine_per_slot;
            return scn_fail(c, count_node(root) ? count_node(root) : ytree_key(root, "protocols"),
                            "%s at %llu node slots (nodes.count, join events and servers) needs at least %s (%.0f B per node: %.0f of "
                            "its state, %.0f of the engine's), more than this machine's %s of "
                            "memory: use at most about %.0f nodes, or --force to try anyway",
                            name, (unsigned long long)k.slots, need, per, k.proto_per_slot,
                            k.engine_per_slot, have,
                            (double)k.slots * limit / k.bytes * 0.9);
        }
        double secs = k.events / SCN_COST_EVENTS_PER_S;
        if (secs > SCN_COST_DAY_S) {
            bool churn = k.churn > 2 * k.lookups;
            const struct ytree *at = churn ? ytree_path(root, "churn.session")
                                           : ytree_path(root, "workload.lookups.rate");
            return scn_fail(c, at ? at : ytree_key(root, "duration"),
                            "%s would process at least %.3g events (%.3g lookups, %.3g churn "
                            "departures and returns): more than a day even at %.3g M events/s, "
                            "the fastest measured; shorten duration or lower %s, or --force",
                            name, k.events, k.lookups, k.churn, SCN_COST_EVENTS_PER_S / 1e6,
                            churn ? "the churn (longer sessions)" : "workload.lookups.rate");
        }
    }
    return 0;
}

/* ==== plots and companions ================================================================ */

static bool is_axis(const struct scenario *s, const char *name)
{
    for (size_t a = 0; a < s->n_sweep; a++)
        if (strcmp(scn_canonical_path(s->sweep[a].path), scn_canonical_path(name)) == 0)
            return true;
    return false;
}

/* The metrics timeseries.csv carries (sim/output.c writes them, plots/labels.c maps them to
 * its columns; test_scenario checks the three agree): what an x: time figure can show. */
static const char *const over_time[] = {
    "lookup.count", "lookup.success_rate", "lookup.hops.mean", "lookup.latency_ms.mean",
    "maint.msgs_per_node_s", "maint.bytes_per_node_s", "lookup.bytes_per_node_s",
    "state.entries.mean", "lookup.timeouts.mean", "keys.lost", "nodes.live.mean",
};

bool scn_metric_over_time(const char *metric)
{
    for (size_t i = 0; i < COUNT(over_time); i++)
        if (strcmp(metric, over_time[i]) == 0)
            return true;
    return false;
}

/* y is a metric of runs.csv (p2plab list metrics), and one of timeseries.csv for x: time: a
 * figure the plot module could not draw is refused here rather than silently left out. */
static int check_plot_y(struct scn_ctx *c, const struct ytree *at, const char *P,
                        const struct scn_plot *pl)
{
    char got[64];
    if (stats_metric_find(pl->y) < 0) {
        const char *near = scn_closest(pl->y, stats_metric_name, M_COUNT);
        if (near)
            return scn_fail(c, at, "%s.y: unknown metric \"%s\" (did you mean \"%s\"?)", P,
                            scn_shown(pl->y, got, sizeof got), near);
        return scn_fail(c, at, "%s.y must be a metric such as lookup.hops.mean (p2plab list "
                        "metrics shows them all) (got \"%s\")", P, scn_shown(pl->y, got, sizeof got));
    }
    if (strcmp(pl->x, "time") == 0 && !scn_metric_over_time(pl->y)) {
        char list[512];
        size_t len = 0;
        for (size_t i = 0; i < COUNT(over_time) && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                    over_time[i]);
        return scn_fail(c, at, "%s.y: %s is not sampled over time; with x: time, y is one of %s",
                        P, pl->y, list);
    }
    return 0;
}

static int resolve_plots(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    const struct ytree *plots = ytree_get(root, "plots");
    out->n_plots = 0;
    if (ytree_null(plots))
        return 0;
    if (plots->kind != YTREE_SEQ)
        return scn_fail(c, plots, "plots must be a list such as [ { x: nodes, y: lookup.hops.mean } ], "
                    "not %s", ytree_kind_name(plots));
    for (size_t i = 0; i < plots->n; i++) {
        const struct ytree *item = plots->kid[i], *at;
        char P[32];
        snprintf(P, sizeof P, "plots[%zu]", i);
        if (i == SCN_MAX_PLOTS)
            return scn_fail(c, item, "plots: at most %d plots", SCN_MAX_PLOTS);
        if (item->kind != YTREE_MAP)
            return scn_fail(c, item, "%s must be a mapping such as { x: nodes, y: lookup.hops.mean }, "
                        "not %s", P, ytree_kind_name(item));
        if (scn_check_keys(c, item, "plots[]", P) < 0)
            return -1;
        struct scn_plot *pl = &out->plots[out->n_plots++];
        scn_key_defaults("plots[].", pl);
        int rc = scn_get(c, item, "plots[].x", P, pl, &at);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return scn_fail(c, item, "%s needs x: a swept key path, protocol or time", P);
        if (strcmp(pl->x, "protocol") != 0 && strcmp(pl->x, "time") != 0 && !is_axis(out, pl->x))
            return scn_fail(c, at, "%s.x must be a swept key path (under sweep:), protocol or time "
                        "(got \"%s\")", P, pl->x);
        rc = scn_get(c, item, "plots[].y", P, pl, &at);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return scn_fail(c, item, "%s needs y: a metric such as lookup.hops.mean", P);
        const struct ytree *y_at = at;
        if (scn_get(c, item, "plots[].by", P, pl, &at) < 0)
            return -1;
        if (strcmp(pl->by, "protocol") != 0 && strcmp(pl->by, "none") != 0 && !is_axis(out, pl->by))
            return scn_fail(c, at, "%s.by must be protocol, none or a swept key path (got \"%s\")", P,
                        pl->by);
        if (scn_get(c, item, "plots[].logx", P, pl, NULL) < 0 ||
            scn_get(c, item, "plots[].logy", P, pl, NULL) < 0 ||
            scn_get(c, item, "plots[].title", P, pl, NULL) < 0 ||
            check_plot_y(c, y_at, P, pl) < 0)
            return -1;
    }
    return 0;
}

/* ==== expectations ======================================================================== */

/* "10%" is relative to the figure, "0.3" absolute, in the metric's unit. */
static int read_tolerance(struct scn_ctx *c, const struct ytree *at, const char *P,
                          struct scn_expect *x)
{
    char *end;
    errno = 0;
    double t = strtod(x->tolerance, &end);
    bool pct = *end == '%';
    if (end == x->tolerance || errno || (pct ? end[1] != '\0' : *end != '\0') || !isfinite(t) ||
        t < 0)
        return scn_fail(c, at, "%s.tolerance must be a relative tolerance such as 10%% or an "
                        "absolute one in the metric's unit such as 0.3 (got \"%s\")", P,
                        x->tolerance);
    x->tol = pct ? t / 100 * fabs(x->value) : t;
    return 0;
}

/* The cell an expectation is about: protocol (needed when there are several) and a value of
 * every swept key that has several and bears on that protocol. 0, -1 with the message, or 1
 * when --set has changed the sweep so that the cell is no longer run (the file itself was
 * checked without the overrides first): the figure is then left out, not an error. */
static int read_cell(struct scn_ctx *c, const struct ytree *item, const char *P,
                     const struct scenario *s, struct scn_expect *x)
{
    const struct ytree *cell;
    char path[64], got[64];
    bool overridden = c->d->n_sets > 0;
    snprintf(path, sizeof path, "%s.cell", P);
    if (scn_get_map(c, item, "cell", path, "{ protocol: chord, nodes: 1024 }", &cell) < 0)
        return -1;
    x->proto = s->n_protocols == 1 ? 0 : -1;
    for (size_t a = 0; a < SCN_MAX_SWEEP; a++)
        x->vi[a] = -1;
    for (size_t i = 0; cell && i + 1 < cell->n; i += 2) {
        const struct ytree *k = cell->kid[i], *v = cell->kid[i + 1];
        if (v->kind != YTREE_SCALAR)
            return scn_fail(c, v, "%s.%s must be one value, not %s", path, k->text,
                            ytree_kind_name(v));
        if (strcmp(k->text, "protocol") == 0) {
            x->proto = -1;
            for (size_t p = 0; p < s->n_protocols; p++)
                if (strcmp(s->protocols[p].name, v->text) == 0)
                    x->proto = (int)p;
            if (x->proto < 0)
                return scn_fail(c, v, "%s.protocol: \"%s\" is not one of this scenario's "
                                "protocols (protocols: lists them)", path,
                                scn_shown(v->text, got, sizeof got));
            continue;
        }
        size_t a = 0;
        while (a < s->n_sweep && strcmp(scn_canonical_path(s->sweep[a].path),
                                        scn_canonical_path(k->text)) != 0)
            a++;
        if (a == s->n_sweep && overridden)
            return 1;
        if (a == s->n_sweep)
            return scn_fail(c, k, "%s: \"%s\" is not swept; a cell is named by protocol: and "
                            "the keys under sweep:", path, scn_shown(k->text, got, sizeof got));
        const struct scn_axis *ax = &s->sweep[a];
        size_t j = 0;
        while (j < ax->n_values && strcmp(ax->values[j], v->text) != 0)
            j++;
        if (j == ax->n_values && overridden)
            return 1;
        if (j == ax->n_values) {
            char list[512];
            size_t len = 0;
            for (size_t m = 0; m < ax->n_values && len < sizeof list; m++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", m ? ", " : "",
                                        ax->values[m]);
            return scn_fail(c, v, "%s.%s: %s is not one of the swept values (%s); write it as "
                            "under sweep:", path, k->text, scn_shown(v->text, got, sizeof got),
                            list);
        }
        x->vi[a] = (int)j;
    }
    const struct ytree *at = cell ? cell : item;
    if (x->proto < 0)
        return scn_fail(c, at, "%s needs protocol: NAME, as this scenario runs %zu protocols",
                        path, s->n_protocols);
    for (size_t a = 0; a < s->n_sweep; a++) {
        if (x->vi[a] >= 0)
            continue;
        if (s->sweep[a].n_values > 1 && scn_axis_applies(s->sweep[a].path,
                                                         s->protocols[x->proto].name)) {
            if (overridden)
                return 1;
            return scn_fail(c, at, "%s needs %s: a value of the sweep (it has %zu), e.g. %s: %s",
                            path, s->sweep[a].path, s->sweep[a].n_values, s->sweep[a].path,
                            s->sweep[a].values[0]);
        }
        x->vi[a] = 0;                 /* the only value, or the one the protocol runs at */
    }
    return 0;
}

static int resolve_expect(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    const struct ytree *list = ytree_get(root, "expect"), *at;
    out->n_expect = 0;
    if (scn_get(c, root, "quick", NULL, out, NULL) < 0)
        return -1;
    if (ytree_null(list))
        return 0;
    if (list->kind != YTREE_SEQ)
        return scn_fail(c, list, "expect must be a list such as [ { metric: lookup.hops.mean, "
                        "value: 5.1, tolerance: 10%%, source: \"...\" } ], not %s",
                        ytree_kind_name(list));
    for (size_t i = 0; i < list->n; i++) {
        const struct ytree *item = list->kid[i];
        char P[32];
        snprintf(P, sizeof P, "expect[%zu]", i);
        if (i == SCN_MAX_EXPECT)
            return scn_fail(c, item, "expect: at most %d figures per scenario; split it",
                            SCN_MAX_EXPECT);
        if (item->kind != YTREE_MAP)
            return scn_fail(c, item, "%s must be a mapping such as { metric: lookup.hops.mean, "
                            "value: 5.1, tolerance: 10%%, source: \"...\" }, not %s", P,
                            ytree_kind_name(item));
        if (scn_check_keys(c, item, "expect[]", P) < 0)
            return -1;
        struct scn_expect *x = &out->expect[out->n_expect++];
        scn_key_defaults("expect[].", x);
        static const char *const required[] = { "metric", "value", "tolerance", "source" };
        for (size_t r = 0; r < COUNT(required); r++) {
            char row[32];
            snprintf(row, sizeof row, "expect[].%s", required[r]);
            int rc = scn_get(c, item, row, P, x, &at);
            if (rc < 0)
                return -1;
            if (rc == 0)
                return scn_fail(c, item, "%s needs %s: (an expectation has metric, value, "
                                "tolerance and source)", P, required[r]);
            if (r == 0 && stats_metric_find(x->metric) < 0) {
                char got[64];
                const char *near = scn_closest(x->metric, stats_metric_name, M_COUNT);
                return scn_fail(c, at, "%s.metric: unknown metric \"%s\"%s%s%s (p2plab list "
                                "metrics shows them all)", P,
                                scn_shown(x->metric, got, sizeof got), near ? " (did you mean \"" : "",
                                near ? near : "", near ? "\"?)" : "");
            }
            if (r == 2 && read_tolerance(c, at, P, x) < 0)
                return -1;
        }
        if (scn_get(c, item, "expect[].note", P, x, NULL) < 0)
            return -1;
        int rc = read_cell(c, item, P, out, x);
        if (rc < 0)
            return -1;
        if (rc > 0)
            out->n_expect--;          /* its cell is not run under these overrides */
    }
    return 0;
}

/* A companion is a scenario file other than this one, without companions of its own (they
 * would not be run: companions run one level deep, so a cycle would run a scenario as its own
 * companion). */
static int check_companion(struct scn_ctx *c, const struct ytree *v, size_t i,
                           const struct scn_also *a)
{
    char self[PATH_MAX], other[PATH_MAX];
    if (realpath(c->d->path, self) && realpath(a->path, other) && strcmp(self, other) == 0)
        return scn_fail(c, v, "also[%zu]: \"%s\" is this scenario itself: a companion is "
                        "another scenario, run after this one", i, a->given);
    FILE *f = fopen(a->path, "rb");
    if (!f)
        return 0;
    size_t max = 16u << 20, n;
    char *text = mem_calloc(1, max + 1, "a companion's text");
    n = fread(text, 1, max, f);
    fclose(f);
    struct ytree *tree = NULL;
    struct ytree_error e;
    int rc = 0;
    if (memchr(text, '\0', n) == NULL && ytree_parse(text, n, NULL, 100000, &tree, &e) == 0 &&
        tree && tree->kind == YTREE_MAP && !ytree_null(ytree_get(tree, "also")))
        rc = scn_fail(c, v, "also[%zu]: %s has companions of its own (also:), which would not "
                      "run: companions run one level deep; list them here instead", i, a->given);
    ytree_free(tree);
    free(text);
    return rc;
}

static int resolve_also(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    const struct ytree *list = ytree_get(root, "also");
    out->n_also = 0;
    if (ytree_null(list))
        return 0;
    if (list->kind != YTREE_SEQ)
        return scn_fail(c, list, "also must be a list of scenario files such as "
                    "[ bittorrent-flashcrowd.yaml ], not %s", ytree_kind_name(list));
    for (size_t i = 0; i < list->n; i++) {
        const struct ytree *v = list->kid[i];
        if (i == SCN_MAX_ALSO)
            return scn_fail(c, v, "also: at most %d companion scenarios", SCN_MAX_ALSO);
        if (v->kind != YTREE_SCALAR || ytree_null(v))
            return scn_fail(c, v, "also[%zu] must be the path of a scenario file", i);
        struct scn_also *a = &out->also[out->n_also++];
        if (strlen(v->text) >= sizeof a->given)
            return scn_fail(c, v, "also[%zu]: the path is too long", i);
        snprintf(a->given, sizeof a->given, "%s", v->text);
        const char *base = strrchr(a->given, '/');
        base = base ? base + 1 : a->given;
        size_t len = strlen(base);
        if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
            len -= 5;
        else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
            len -= 4;
        if (len == 0 || len >= sizeof a->folder || base[0] == '.')
            return scn_fail(c, v, "also[%zu]: \"%s\" does not name a scenario file", i, a->given);
        snprintf(a->folder, sizeof a->folder, "%.*s", (int)len, base);
        if (c->d->summary)            /* a rerun: the companion's own results, run with it */
            snprintf(a->path, sizeof a->path, "%s%.*s/summary.yaml", c->d->dir, (int)len, base);
        else
            snprintf(a->path, sizeof a->path, "%s%s", v->text[0] == '/' ? "" : c->d->dir,
                     v->text);
        if (strcmp(a->folder, "plots") == 0)
            return scn_fail(c, v, "also[%zu]: a companion named plots would write its results "
                        "into this scenario's plots/ folder: rename the file", i);
        struct stat st;               /* before opening: a pipe would block the open */
        if (stat(a->path, &st) == 0 && !S_ISREG(st.st_mode))
            return scn_fail(c, v, "also[%zu]: \"%s\" is %s, not a scenario file", i, a->path,
                            S_ISDIR(st.st_mode) ? "a directory" : "a device or a pipe");
        FILE *f = fopen(a->path, "r");
        if (!f)
            return scn_fail(c, v, "also[%zu]: cannot open \"%s\": %s %s", i, a->path,
                            strerror(errno), c->d->summary ? "(a summary's companions are "
                            "run again from their results, in the subfolder of the same name)"
                            : "(a relative path is taken from the scenario file's directory)");
        fclose(f);
        if (check_companion(c, v, i, a) < 0)
            return -1;
        for (size_t k = 0; k + 1 < out->n_also; k++)
            if (strcmp(out->also[k].folder, a->folder) == 0)
                return scn_fail(c, v, "also[%zu]: two companions would share the results folder "
                            "\"%s\"", i, a->folder);
    }
    return 0;
}

/* ==== the whole scenario ================================================================== */

static int resolve_tree(struct scn_ctx *c, const struct ytree *root, struct scenario *out)
{
    scn_key_defaults("", out);
    if (scn_check_keys(c, root, "", "") < 0 ||
        resolve_run(c, root, out) < 0 ||
        resolve_network(c, root, out) < 0 ||
        resolve_nodes(c, root, out) < 0 ||
        resolve_churn(c, root, out) < 0 ||
        resolve_workload(c, root, out) < 0 ||
        resolve_protocols(c, root, out) < 0 ||
        check_rates(c, root, out) < 0 ||
        check_protocols(c, root, out) < 0 ||
        check_cost(c, root, out) < 0)
        return -1;
    const struct scn_doc *d = c->d;
    out->n_sweep = d->n_axes;
    for (size_t a = 0; a < d->n_axes; a++) {
        struct scn_axis *ax = &out->sweep[a];
        snprintf(ax->path, sizeof ax->path, "%s", d->axes[a].key->text);
        ax->n_values = d->axes[a].list->n;
        for (size_t k = 0; k < ax->n_values; k++)
            snprintf(ax->values[k], sizeof ax->values[k], "%s", d->axes[a].list->kid[k]->text);
    }
    return resolve_plots(c, root, out) < 0 || resolve_expect(c, root, out) < 0 ? -1
         : resolve_also(c, root, out);
}

int scn_resolve(const struct scn_doc *d, size_t point, struct scenario *out, char *err,
                size_t errlen)
{
    struct scn_ctx c = { d, err, errlen, false };
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", d->path);
    if (point >= scn_points(d))
        return scn_fail(&c, NULL, "sweep point %zu does not exist (there are %zu)", point,
                        scn_points(d));
    if (scn_sweep_check(&c) != 0)
        return -1;
    struct ytree *tree = scn_sweep_tree(d, point);
    int rc = resolve_tree(&c, tree, out);
    ytree_free(tree);
    out->point = point;
    return rc;
}

/* The value a swept key has in the file itself, which the sweep replaces: nodes: 1000 is
 * nodes.count's. NULL if the file gives none. */
static const struct ytree *base_value(const struct ytree *root, const char *path)
{
    const struct ytree *v = ytree_path(root, path);
    if (!v && strcmp(scn_canonical_path(path), "nodes.count") == 0) {
        v = ytree_get(root, "nodes");
        v = v && v->kind == YTREE_SCALAR ? v : ytree_path(root, "nodes.count");
    }
    return v && v->kind == YTREE_SCALAR && !ytree_null(v) ? v : NULL;
}

/* A swept key's value in the file is never run, but a wrong one is still a mistake (median:
 * banana under a sweep over it): resolve the first point with that value put back, and refuse
 * if the message is about that value. */
static int check_swept_bases(const struct scn_doc *d, struct scenario *s, char *err, size_t errlen)
{
    for (size_t a = 0; a < d->n_axes; a++) {
        const char *path = d->axes[a].key->text;
        const struct ytree *base = base_value(d->root, path), *blocker;
        if (!base)
            continue;
        struct ytree *tree = scn_sweep_tree(d, 0), *value = ytree_copy(base);
        char blocked[256], msg[2048], here[1024];
        if (scn_doc_put(tree, path, value, base, &blocker, blocked, sizeof blocked) != 0)
            ytree_free(value);
        struct scn_ctx c = { d, msg, sizeof msg, true }, h = { d, here, sizeof here, false };
        int rc = resolve_tree(&c, tree, s);
        ytree_free(tree);
        if (rc == 0)
            continue;
        scn_fail(&h, base, "%s", "");
        size_t at = strcspn(here, " ");          /* "FILE:LINE:COL:" */
        if (strncmp(msg, here, at) != 0)
            continue;                             /* about another key: the points say */
        size_t nl = strcspn(msg, "\n");
        snprintf(err, errlen, "%.*s (%s is swept, so this value is never run, but it must be "
                 "valid too: fix it or leave it out)%s", (int)nl, msg, path, msg + nl);
        return -1;
    }
    return 0;
}

int scn_check(const struct scn_doc *d, char *err, size_t errlen)
{
    struct scenario *s = mem_calloc(1, sizeof *s, "a resolved scenario");
    char checked[sizeof s->network.matrix] = "";
    int rc = 0;
    for (size_t p = 0; p < scn_points(d) && rc == 0; p++) {
        rc = scn_resolve(d, p, s, err, errlen);
        if (rc == 0 && p == 0)
            rc = check_swept_bases(d, s, err, errlen);
        if (rc == 0 && s->network.model == LAT_MATRIX && strcmp(checked, s->network.matrix) != 0) {
            struct latency_matrix m;
            rc = matrix_load(s->network.matrix, &m, err, errlen);
            matrix_free(&m);
            snprintf(checked, sizeof checked, "%s", s->network.matrix);
        }
    }
    free(s);
    return rc;
}
