/* scenario.h — one YAML scenario file, resolved into a typed struct with every default filled.
 *
 * The modules behind it: sim/yamltree (the tree with marks), sim/scnerr (messages and hints),
 * sim/scnkeys (the table of keys), sim/scndoc (loading, --set), sim/sweep, sim/scenario
 * (resolution) and sim/scnemit (the resolved echo).
 *
 * Loading keeps the YAML tree with its marks; --set overrides and sweep points are applied to
 * that tree, and each (sweep point, protocol) cell is resolved into a struct scenario. Every
 * error names file:line:column (1-based), echoes the offending line and says what to do. */
#ifndef P2PLAB_SCENARIO_H
#define P2PLAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/param.h"
#include "sim/units.h"

enum dist_kind {
    DIST_NONE,                        /* disabled: e.g. sessions never end */
    DIST_CONSTANT,
    DIST_EXPONENTIAL,
    DIST_WEIBULL,
    DIST_PARETO,
    DIST_LOGNORMAL,
};

/* { dist: weibull, shape: 0.5, median: 30min } — either mean or median is given; the other is
 * derived from the shape by the parser, so both are always set after resolution. */
struct dist {
    enum dist_kind kind;
    int64_t mean_us;
    int64_t median_us;
    double shape;                     /* weibull k, pareto alpha (> 1), lognormal sigma */
    bool by_median;                   /* the user wrote median: (for the resolved echo) */
};

/* One bandwidth class of network.bandwidth: { share: 0.5, up: 1Mbit/s, down: 8Mbit/s }. */
struct scn_bw_class {
    double share;                     /* of the peer hosts, (0, 1] */
    double up_Bps, down_Bps;          /* bytes per second, > 0 */
};

#define SCN_MAX_BW_CLASSES 16

enum latency_model { LAT_CONSTANT, LAT_UNIFORM, LAT_LOGNORMAL, LAT_EUCLIDEAN, LAT_MATRIX };

struct scn_network {
    enum latency_model model;
    int64_t mean_us;                  /* one-way mean (constant: the value) */
    int64_t min_us, max_us;           /* uniform: bounds; default 0.5x and 1.5x the mean */
    double sigma;                     /* lognormal: sigma of ln(delay) */
    int64_t access_us;                /* euclidean: mean per-node access delay, each way */
    char matrix[512];                 /* matrix: file of "i j ms" lines, relative to the scenario
                                         as written; here joined to its directory, ready to open */
    char matrix_given[512];           /* the file: value as written (what scn_emit writes back) */
    double loss;                      /* probability a message is lost, [0, 1) */
    /* access-link capacities (net_transfer, sim/flow.h): each peer host draws one class by
     * its share when it comes up; server hosts take server_bw */
    struct scn_bw_class bw[SCN_MAX_BW_CLASSES];
    size_t n_bw;                      /* >= 1 after resolution; shares sum to 1 */
    struct scn_bw_class server_bw;    /* default: the first class */
};

enum start_mode { START_CONVERGED, START_JOIN };

struct scn_nodes {
    uint32_t count;
    enum start_mode start;
    int64_t join_over_us;             /* START_JOIN: joins spread uniformly over this */
    uint32_t vnodes;                  /* overlay nodes per host (virtual nodes), >= 1 */
};

enum churn_event_kind {
    CHURN_CRASH,                      /* a share of the live nodes crashes at once */
    CHURN_JOIN,                       /* new nodes come up */
    CHURN_MAINTENANCE,                /* periodic maintenance off or on */
    CHURN_CRASH_SERVERS,              /* the protocol's servers crash (crash: servers) */
    CHURN_RESTART_SERVERS,            /* ... and come back with empty state (restart: servers) */
};

struct scn_churn_event {
    int64_t at_us;
    enum churn_event_kind kind;
    double fraction;                  /* CRASH: share of live nodes, [0, 1] */
    uint32_t count;                   /* JOIN: new nodes */
    bool on;                          /* MAINTENANCE: on or off */
};

#define SCN_MAX_EVENTS 64

struct scn_churn {
    struct dist session;              /* time a node stays up */
    struct dist downtime;             /* time a departed slot stays down before rejoining */
    double crash_fraction;            /* of departures, the share that crash (no goodbye) */
    struct scn_churn_event events[SCN_MAX_EVENTS];
    size_t n_events;                  /* sorted by at_us */
};

enum popularity { POP_UNIFORM, POP_ZIPF };

/* How many copies of each file the nodes share, relative to its query popularity q (Cohen &
 * Shenker, "Replication strategies in unstructured peer-to-peer networks", SIGCOMM 2002). */
enum replication { REPL_UNIFORM, REPL_PROPORTIONAL, REPL_SQRT };

struct scn_workload {
    uint32_t keys;                    /* inserted at t = 0 */
    enum popularity popularity;
    double alpha;                     /* zipf exponent */
    struct rate lookups;
    int64_t lookup_timeout_us;        /* a lookup still running after this ends as TIMEOUT */
    uint32_t files;                   /* file catalogue size (searched by unstructured systems) */
    uint32_t files_per_node;          /* distinct files each node shares */
    enum replication replication;     /* how shared copies follow query popularity */
};

struct scn_protocol {
    char name[32];
    struct proto_config cfg;
};

#define SCN_MAX_PROTOCOLS 8
#define SCN_MAX_SWEEP 4
#define SCN_MAX_POINTS 64
#define SCN_MAX_SWEEP_POINTS 4096     /* points in the whole cartesian product */
#define SCN_MAX_PLOTS 32
#define SCN_MAX_ALSO 4

/* A companion scenario: run after this one into a subfolder of its results (the file's name
 * without .yaml), and shown in its report. */
struct scn_also {
    char given[256];                  /* as written, relative to the scenario's folder */
    char path[768];                   /* as opened */
    char folder[128];                 /* the results subfolder */
};

/* One swept parameter: a YAML path and its values, as written. */
struct scn_axis {
    char path[128];                   /* "nodes", "churn.session.median", "protocols.chord.successors" */
    char values[SCN_MAX_POINTS][64];
    size_t n_values;
};

/* plots: - { x: nodes, y: lookup.hops.mean, by: protocol, logx: 2 } — drawn by the plot module. */
struct scn_plot {
    char x[128];                      /* a swept path as written in sweep:, "protocol" or "time" */
    char y[128];                      /* a metric name, "lookup.hops.mean" (not checked here) */
    char by[128];                     /* one line per: "protocol" (default), a swept path, "none" */
    double logx, logy;                /* logarithmic axis of this base (> 1); 0 = linear */
    char title[256];                  /* "" = the plot module makes one up */
};

/* expect: - { metric: lookup.hops.mean, cell: { protocol: chord, nodes: 1024 }, value: 5.1,
 *             tolerance: 10%, source: "Stoica et al., ToN 2003, Fig. 10(a)" }
 * A published figure the scenario is checked against: judged after the run (sim/expect.c),
 * reported in summary.yaml and report.md, and by `p2plab validate`. */
#define SCN_MAX_EXPECT 32
struct scn_expect {
    char metric[64];                  /* a metric of runs.csv */
    int proto;                        /* the cell: an index into protocols[] */
    int vi[SCN_MAX_SWEEP];            /* and a value index on each sweep axis */
    double value;                     /* the paper's figure */
    char tolerance[24];               /* as written: "10%" (relative) or "0.3" (absolute) */
    double tol;                       /* the allowed distance from value, in the metric's unit */
    char source[256];                 /* paper, table or figure, page */
    char note[256];                   /* how it was read, or why the tolerance */
};

struct scenario {
    char name[128];
    char file[512];                   /* where it came from */
    uint64_t seed;
    int64_t duration_us;              /* lookups and churn run in [0, duration) */
    int64_t warmup_us;                /* lookups issued before this are not in the statistics */
    int64_t sample_us;                /* time-series sampling interval */
    uint32_t replicas;
    struct scn_network network;
    struct scn_nodes nodes;
    struct scn_churn churn;
    struct scn_workload workload;
    struct scn_protocol protocols[SCN_MAX_PROTOCOLS];
    size_t n_protocols;
    struct scn_axis sweep[SCN_MAX_SWEEP];
    size_t n_sweep;
    size_t point;                     /* which sweep point this is, 0 .. scn_points() - 1 */
    struct scn_plot plots[SCN_MAX_PLOTS];
    size_t n_plots;
    struct scn_also also[SCN_MAX_ALSO];
    size_t n_also;
    struct scn_expect expect[SCN_MAX_EXPECT];
    size_t n_expect;
    bool quick;                       /* one of `p2plab validate --quick`'s scenarios */
};

struct scn_doc;                       /* the loaded YAML tree with marks */

/* Loads and validates the file (every cell is resolved once, so any error surfaces here).
 * On error returns NULL and writes one message, "file:line:col: error: ...\n   >>> line"
 * (no trailing newline; the message says what to do), into err. scn_load_string takes the
 * text itself; `name` stands for the file in messages, the default name and relative paths. */
struct scn_doc *scn_load(const char *path, char *err, size_t errlen);
struct scn_doc *scn_load_string(const char *text, const char *name, char *err, size_t errlen);
void scn_free(struct scn_doc *d);

/* Applies "key.path=value" (from --set) to the tree before resolution; 0 or -1 with err.
 * The value is read as YAML ("[1, 2]", "{ dist: exponential, mean: 1h }" work); mappings on
 * the way are created. Only malformed assignments fail here: call scn_check after the last
 * scn_set to validate the result (errors then name "--set KEY=VALUE" as their place). */
int scn_set(struct scn_doc *d, const char *assignment, char *err, size_t errlen);
/* Resolves every sweep point (and reads a latency matrix file once) to surface any error. */
int scn_check(const struct scn_doc *d, char *err, size_t errlen);

/* Whether a swept key path bears on a protocol: a protocol parameter axis
 * ("protocols.gnutella.ttl") bears only on its own protocol, every other axis on all. */
bool scn_axis_applies(const char *path, const char *protocol);
/* Whether point p is a cell to run for `protocol`: every axis that does not bear on it sits
 * at its first value (the other values would repeat the same run). */
bool scn_point_runs(const struct scn_doc *d, size_t point, const struct scenario *base,
                    const char *protocol);

/* Whether timeseries.csv carries the metric, so that a figure with x: time can show it. */
bool scn_metric_over_time(const char *metric);

/* The sweep: the number of points (cartesian product of the axes; 1 without a sweep). */
size_t scn_points(const struct scn_doc *d);
/* Resolves sweep point `point` into `out` (every default filled). 0 or -1 with err. */
int scn_resolve(const struct scn_doc *d, size_t point, struct scenario *out, char *err, size_t errlen);
/* The value of axis `axis` at sweep point `point`, as written ("1024"). */
const char *scn_point_value(const struct scn_doc *d, size_t point, size_t axis);

/* Emits the resolved scenario as a YAML mapping (libyaml emitter), every key present, so that
 * the summary carries everything needed to re-run. `emitter` is a yaml_emitter_t *. */
int scn_emit(const struct scenario *s, void *emitter);

/* The scenario keys, their defaults and docs (for `p2plab list keys` and the README) are
 * the table in sim/scnkeys.h. */

#endif
