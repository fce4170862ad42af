/* stats.h — what a run measures: per-lookup records, running totals, histograms, time series.
 *
 * Lookups are numbered densely from 0; the records of lookups in flight live in a ring indexed
 * by id, which grows when the window of unfinished lookups outgrows it. A lookup issued before
 * the warm-up ends is followed like any other but left out of the run's statistics. */
#ifndef P2PLAB_STATS_H
#define P2PLAB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

/* The run's metrics: enum, YAML/CSV name, and what it means. */
#define STATS_METRICS(X)                                                                       \
    X(M_LOOKUPS, "lookup.count", "lookups issued after the warm-up")                           \
    X(M_SUCCESS, "lookup.success_rate",                                                       \
      "share of judged lookups that found the true owner or the data")                         \
    X(M_HOPS_MEAN, "lookup.hops.mean", "overlay hops of successful lookups, mean")             \
    X(M_HOPS_P50, "lookup.hops.p50", "overlay hops of successful lookups, median")             \
    X(M_HOPS_P99, "lookup.hops.p99", "overlay hops of successful lookups, 99th percentile")    \
    X(M_LAT_MEAN, "lookup.latency_ms.mean", "latency of successful lookups, mean (ms)")        \
    X(M_LAT_P50, "lookup.latency_ms.p50", "latency of successful lookups, median (ms)")        \
    X(M_LAT_P99, "lookup.latency_ms.p99", "latency of successful lookups, 99th pct. (ms)")     \
    X(M_MSGS_MEAN, "lookup.messages.mean", "messages a lookup causes until its deadline, mean") \
    X(M_TIMEOUTS_MEAN, "lookup.timeouts.mean", "RPC timeouts a lookup met before its outcome, mean") \
    X(M_STRETCH_MEAN, "lookup.stretch.mean", "latency / direct RTT to the owner, mean")        \
    X(M_ROUTE_MEAN, "lookup.route_ratio.mean", "route distance / direct distance to the owner, mean") \
    X(M_FAIL_TIMEOUT, "lookup.failures.timeout", "share of judged lookups that timed out")     \
    X(M_FAIL_WRONG, "lookup.failures.wrong_owner",                                            \
      "share answered with a wrong owner or a node without the data")                          \
    X(M_FAIL_NOTFOUND, "lookup.failures.not_found", "share that reported not found")           \
    X(M_FAIL_TTL, "lookup.failures.ttl", "share whose TTL or hop limit expired")               \
    X(M_ORIGIN_LEFT, "lookup.origin_left", "share of lookups whose origin left (not judged)")  \
    X(M_ANSWERABLE, "lookup.answerable", "share of file searches whose file had a live holder")\
    X(M_KEYS_LOST, "keys.lost", "share of the workload's keys no live node holds, mean over "   \
      "the samples after the warm-up (protocols that store data)")                            \
    X(M_MAINT_MSGS, "maint.msgs_per_node_s", "maintenance messages sent per live node per s")  \
    X(M_MAINT_BYTES, "maint.bytes_per_node_s", "maintenance bytes sent per live node per s")   \
    X(M_LOOKUP_BYTES, "lookup.bytes_per_node_s", "lookup bytes sent per live node per s")      \
    X(M_STATE_MEAN, "state.entries.mean", "routing-state entries per live node, mean")         \
    X(M_STATE_MAX, "state.entries.max", "routing-state entries per live node, max")            \
    X(M_LIVE_MEAN, "nodes.live.mean", "live nodes, time average")                              \
    X(M_SERVER_MSGS, "server.msgs_per_s", "messages received per server per second")          \
    X(M_SERVER_STATE, "server.entries.mean", "state entries per server, mean over samples")    \
    X(M_DL_DONE, "download.completed", "downloads completed after the warm-up")               \
    X(M_DL_ABORTED, "download.aborted", "downloads given up by a leaving node")               \
    X(M_DL_MEAN, "download.time_s.mean", "download time of completed downloads, mean (s)")    \
    X(M_DL_P50, "download.time_s.p50", "download time, median (s)")                           \
    X(M_DL_P99, "download.time_s.p99", "download time, 99th percentile (s)")                  \
    X(M_LOAD_MEAN, "load.keys_per_node.mean", "keys owned per live node at the end, mean")     \
    X(M_LOAD_P1, "load.keys_per_node.p1", "keys owned per live node, 1st percentile")          \
    X(M_LOAD_P99, "load.keys_per_node.p99", "keys owned per live node, 99th percentile")       \
    X(M_LOAD_MAX, "load.keys_per_node.max", "keys owned per live node, max")                   \
    X(M_JOINS, "churn.joins", "nodes that came up after t = 0")                                \
    X(M_DEPARTURES, "churn.departures", "nodes that left or crashed")                          \
    X(M_LOST, "net.lost", "messages lost by the network")                                      \
    X(M_TO_DEAD, "net.to_dead", "messages that reached a dead node or a past incarnation")     \
    X(M_DROPPED, "sim.dropped", "timers and RPC timeouts dropped: their node had gone")      \
    X(M_EVENTS, "sim.events", "events processed")

enum metric {
#define STATS_ENUM(id, name, doc) id,
    STATS_METRICS(STATS_ENUM)
#undef STATS_ENUM
    M_COUNT
};

extern const char *const stats_metric_name[M_COUNT];
extern const char *const stats_metric_doc[M_COUNT];
int stats_metric_find(const char *name);          /* index or -1 */

#define STATS_HOPS_MAX 128                        /* histogram bins 0..127; more land in 127 */
#define STATS_GAUGES_MAX 8                        /* a protocol's gauges (PROTO_GAUGES_MAX) */

/* Distributions reported whole, as 101 quantiles (0, 0.01, ..., 1) per run: cdf.csv. */
enum stats_cdf { CDF_LATENCY, CDF_DOWNLOAD, CDF_COUNT };
#define STATS_CDF_POINTS 101
extern const char *const stats_cdf_name[CDF_COUNT];      /* "lookup.latency_ms", ... */

/* One interval [i * sample, (i + 1) * sample) of the time series. Lookups are counted in the
 * interval in which they were issued, so a failure shows where its cause was. */
struct ts_bucket {
    uint32_t live;                    /* live nodes at the interval's end */
    uint32_t lookups, judged, ok;
    uint64_t timeouts;                /* RPC timeouts met by the lookups issued here */
    double hops_sum, lat_ms_sum;      /* over ok lookups */
    uint64_t maint_msgs, maint_bytes, lookup_bytes;
    double live_integral_s;           /* node-seconds in the interval */
    double state_mean;                /* routing entries per live node at the interval's end */
    double gauge[STATS_GAUGES_MAX];   /* the protocol's gauges at the interval's end */
    double keys_lost;                 /* share of keys no live node holds, at the interval's
                                         end; NaN unless the protocol stores data */
};

struct lookup_rec {
    uint64_t key;
    int64_t start_us;
    struct addr origin;
    uint32_t msgs, timeouts;
    uint32_t route_steps;             /* route steps delivered (messages sent with out.route) */
    int64_t route_us;                 /* their one-way network delays, summed */
    uint32_t bucket;
    bool active;                      /* no outcome yet */
    bool open;                        /* its messages are still counted (see stats_lookup_retire) */
    bool counted, judged;
    bool answerable;                  /* file searches: someone in the overlay shared it */
};

struct stats {
    struct lookup_rec *ring;          /* records of lookups [base, next_id) */
    uint32_t mask;                    /* ring size - 1 */
    uint32_t base, next_id;
    int64_t warmup_us, end_us, sample_us;

    double *hops, *lat_ms, *stretch;  /* successful counted lookups */
    size_t n_ok, cap_ok;
    double route_sum;                 /* route ratios of successful counted lookups that had one */
    uint64_t n_route;
    uint64_t outcome[OUTCOME_COUNT];
    uint64_t counted, msgs_sum, timeouts_sum;
    uint64_t answerable;              /* counted file searches whose file had a live holder */
    bool files;                       /* lookups are file searches */
    uint64_t hop_hist[STATS_HOPS_MAX];

    uint64_t maint_msgs, maint_bytes, lookup_bytes;  /* in [warmup, end) */
    double live_integral_s;           /* node-seconds in [warmup, end) */
    int64_t live_t;                   /* last change of the live count */
    uint32_t live_n;
    double state_sum, state_max;
    uint32_t state_samples;
    uint64_t joins, departures, lost, to_dead;
    uint64_t dropped;                 /* timers and RPC timeouts of nodes gone or rejoined */

    uint32_t servers;                 /* dedicated server nodes of the protocol */
    uint64_t server_msgs;             /* messages servers received in [warmup, end) */
    double server_state_sum;
    uint32_t server_samples;

    double *dl_s;                     /* completed downloads' times (s) */
    size_t n_dl, cap_dl;
    uint64_t dl_aborted;
    bool downloads;                   /* the protocol started a download: download.* apply */
    double cdf[CDF_COUNT][STATS_CDF_POINTS];  /* filled by stats_finish; NaN when empty */
    double gauge_sum[STATS_GAUGES_MAX];       /* over the samples in (warmup, end] where the
                                                 gauge was defined (not NaN) */
    uint32_t gauge_samples[STATS_GAUGES_MAX];
    double keys_lost_sum;             /* over the samples in (warmup, end] */
    uint32_t keys_lost_samples;

    struct ts_bucket *ts;
    size_t n_ts;
};

int stats_init(struct stats *st, int64_t warmup_us, int64_t end_us, int64_t sample_us);
void stats_free(struct stats *st);

/* A new lookup issued now; returns its id. */
uint32_t stats_lookup_start(struct stats *st, int64_t now, struct addr origin, uint64_t key);
struct lookup_rec *stats_lookup(struct stats *st, uint32_t id);  /* NULL unless active */
/* The outcome of lookup id. Every lookup stays open after its outcome, until
 * stats_lookup_retire at its deadline: a flood goes on after the first hit, a DHT's late replies
 * and acknowledgements are still in flight, and every message a lookup causes is its cost. */
void stats_lookup_end(struct stats *st, uint32_t id, int64_t now, enum outcome o, uint32_t hops,
                      double stretch, double route_ratio);
/* A route step of lookup id (a message sent with out.route) was delivered after delay_us. */
void stats_route_step(struct stats *st, uint32_t id, int64_t delay_us);
void stats_lookup_retire(struct stats *st, uint32_t id);
void stats_message(struct stats *st, int64_t now, uint8_t cat, uint32_t bytes, uint32_t lookup);
void stats_timeout(struct stats *st, uint32_t lookup);
void stats_live(struct stats *st, int64_t now, uint32_t live);   /* the live count changed */
void stats_sample(struct stats *st, int64_t now, uint32_t live, double state_mean, double state_max);
/* The share of keys no live node holds, now (NaN: the protocol stores no data). */
void stats_keys_lost(struct stats *st, int64_t now, double share);
void stats_gauges(struct stats *st, int64_t now, const double *g, uint32_t n);
void stats_server_sample(struct stats *st, int64_t now, double entries_mean);
void stats_server_message(struct stats *st, int64_t now);          /* a server received one */
void stats_download(struct stats *st, int64_t now, int64_t started_us, bool completed);
/* Closes the books at end_us and fills metric[M_COUNT]. */
void stats_finish(struct stats *st, uint64_t events, double metric[M_COUNT]);

#endif
