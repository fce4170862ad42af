/* labels.c — axis labels with units for the metrics (names as in sim/stats.h) and swept keys. */
#include "plots/labels.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *prefix;               /* a metric name, or a prefix ending in '.' */
    const char *label;
    double scale;
} quantities[] = {
    { "lookup.count", "lookups issued", 1 },
    { "lookup.success_rate", "lookups answered rightly (%)", 100 },
    { "lookup.hops.", "lookup path length (overlay hops)", 1 },
    { "lookup.latency_ms.", "lookup latency (ms)", 1 },
    { "lookup.messages.mean", "messages per lookup", 1 },
    { "lookup.timeouts.mean", "RPC timeouts per lookup", 1 },
    { "lookup.stretch.mean", "stretch (latency / direct round trip)", 1 },
    { "lookup.route_ratio.mean", "route distance / direct distance", 1 },
    { "lookup.failures.", "share of judged lookups (%)", 100 },
    { "lookup.origin_left", "share of lookups (%)", 100 },
    { "lookup.answerable", "searches whose file had a live holder (%)", 100 },
    { "keys.lost", "keys no live node holds (%)", 100 },
    { "maint.msgs_per_node_s", "maintenance messages per node (msg/s)", 1 },
    { "maint.bytes_per_node_s", "maintenance traffic per node (bytes/s)", 1 },
    { "lookup.bytes_per_node_s", "lookup traffic per node (bytes/s)", 1 },
    { "state.entries.", "routing-state entries per node", 1 },
    { "nodes.live.mean", "live nodes", 1 },
    { "load.keys_per_node.", "keys per node", 1 },
    { "churn.", "nodes", 1 },
    { "net.", "messages", 1 },
    { "sim.events", "events", 1 },
    { "download.time_s.", "download time (s)", 1 },
    { "download.completed", "downloads completed", 1 },
};

static const char *const stat_words[][2] = {
    { "mean", "mean" }, { "p50", "median" }, { "p99", "99th percentile" }, { "p1", "1st percentile" },
    { "max", "max" }, { "timeout", "timed out" }, { "wrong_owner", "wrong owner" },
    { "not_found", "not found" }, { "ttl", "TTL expired" }, { "joins", "joins" },
    { "departures", "departures" }, { "lost", "lost" }, { "to_dead", "sent to dead nodes" },
};

double plot_metric_label(const char *metric, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof quantities / sizeof quantities[0]; i++) {
        const char *p = quantities[i].prefix;
        size_t n = strlen(p);
        bool family = p[n - 1] == '.';
        if (family ? strncmp(metric, p, n) != 0 : strcmp(metric, p) != 0)
            continue;
        if (!family) {
            snprintf(buf, len, "%s", quantities[i].label);
            return quantities[i].scale;
        }
        /* "lookup latency (ms)" + ".p99" -> "lookup latency, 99th percentile (ms)" */
        const char *stat = metric + n, *word = stat;
        for (size_t k = 0; k < sizeof stat_words / sizeof stat_words[0]; k++)
            if (strcmp(stat, stat_words[k][0]) == 0)
                word = stat_words[k][1];
        const char *unit = strchr(quantities[i].label, '(');
        if (unit)
            snprintf(buf, len, "%.*s, %s %s", (int)(unit - quantities[i].label - 1),
                     quantities[i].label, word, unit);
        else
            snprintf(buf, len, "%s, %s", quantities[i].label, word);
        return quantities[i].scale;
    }
    snprintf(buf, len, "%s", metric);
    return 1;
}

void plot_axis_label(const struct plot_results *r, int axis, char *buf, size_t len)
{
    const struct plot_axis *a = &r->axis[axis];
    if (axis == r->nodes_axis)
        snprintf(buf, len, "nodes (N)");
    else if (a->unit[0])
        snprintf(buf, len, "%s (%s)", a->path, a->unit);
    else
        snprintf(buf, len, "%s", a->path);
}

const char *plot_ts_column(const char *metric)
{
    static const char *const map[][2] = {
        { "lookup.count", "lookups" },
        { "lookup.success_rate", "success_rate" },
        { "lookup.hops.mean", "hops_mean" },
        { "lookup.latency_ms.mean", "latency_ms_mean" },
        { "maint.msgs_per_node_s", "maint_msgs_per_node_s" },
        { "maint.bytes_per_node_s", "maint_bytes_per_node_s" },
        { "lookup.bytes_per_node_s", "lookup_bytes_per_node_s" },
        { "state.entries.mean", "state_entries_mean" },
        { "lookup.timeouts.mean", "timeouts_per_lookup" },
        { "keys.lost", "keys_lost" },
        { "nodes.live.mean", "live_nodes" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(metric, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}
