/* scnemit.c — the resolved scenario written back as YAML (libyaml's emitter) for summary.yaml,
 * every key present, so that the summary carries everything needed to re-run.
 *
 * The echo walks the key table (sim/scnkeys.c) in its order: each row that holds one value
 * is written under its parent mappings, opened and closed as the paths change; the rows of
 * lists and distributions are written by the small writers below, one per such row. */
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "sim/scnkeys.h"

/* ==== events ============================================================================== */

static int em_event(yaml_emitter_t *e, yaml_event_t *ev)
{
    return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int em_str(yaml_emitter_t *e, const char *s)
{
    yaml_event_t ev;
    /* text that would read back as null is quoted */
    bool nullish = !s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
                   !strcmp(s, "NULL");
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, -1, 1, 1,
                                 nullish ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return em_event(e, &ev);
}

static int em_open(yaml_emitter_t *e, bool map, bool flow)
{
    yaml_event_t ev;
    if (map)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE
                                                                     : YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE
                                                                      : YAML_BLOCK_SEQUENCE_STYLE);
    return em_event(e, &ev);
}

static int em_close(yaml_emitter_t *e, bool map)
{
    yaml_event_t ev;
    if (map)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    return em_event(e, &ev);
}

static int em_kv(yaml_emitter_t *e, const char *k, const char *v)
{
    return em_str(e, k) || em_str(e, v) ? -1 : 0;
}

/* Row `path`'s value in base, under its own key. */
static int em_row(yaml_emitter_t *e, const char *path, const void *base)
{
    const struct scn_key *k = scn_key_find(path);
    const char *key = strrchr(path, '.');
    char buf[512];
    scn_key_format(k, base, buf, sizeof buf);
    return em_kv(e, key ? key + 1 : path, buf);
}

/* A list item: a flow mapping of the rows under prefix ("plots[]."), in table order. */
static int em_item(yaml_emitter_t *e, const char *prefix, const void *base)
{
    if (em_open(e, true, true))
        return -1;
    for (const struct scn_key *k = scn_keys; k->path; k++)
        if (strncmp(k->path, prefix, strlen(prefix)) == 0 && k->kind != SCN_DOC &&
            em_row(e, k->path, base))
            return -1;
    return em_close(e, true);
}

/* ==== lists and distributions ============================================================= */

static int em_bandwidth(yaml_emitter_t *e, const struct scenario *s)
{
    if (em_str(e, "bandwidth") || em_open(e, false, false))
        return -1;
    for (size_t i = 0; i < s->network.n_bw; i++)
        if (em_item(e, "network.bandwidth[].", &s->network.bw[i]))
            return -1;
    return em_close(e, false);
}

static int em_dist(yaml_emitter_t *e, const char *path, const struct dist *d)
{
    char row[64];
    const char *key = strrchr(path, '.') + 1;
    snprintf(row, sizeof row, "%s.dist", path);
    if (em_str(e, key) || em_open(e, true, true) || em_row(e, row, d))
        return -1;
    bool shaped = d->kind == DIST_WEIBULL || d->kind == DIST_PARETO || d->kind == DIST_LOGNORMAL;
    snprintf(row, sizeof row, "%s.%s", path, d->by_median ? "median" : "mean");
    if (d->kind != DIST_NONE && em_row(e, row, d))
        return -1;
    snprintf(row, sizeof row, "%s.shape", path);
    if (d->kind != DIST_NONE && shaped && em_row(e, row, d))
        return -1;
    return em_close(e, true);
}

static int em_session(yaml_emitter_t *e, const struct scenario *s)
{
    return em_dist(e, "churn.session", &s->churn.session);
}

static int em_downtime(yaml_emitter_t *e, const struct scenario *s)
{
    return em_dist(e, "churn.downtime", &s->churn.downtime);
}

static int em_events(yaml_emitter_t *e, const struct scenario *s)
{
    const struct scn_churn *ch = &s->churn;
    if (em_str(e, "events") || em_open(e, false, ch->n_events == 0))
        return -1;
    for (size_t i = 0; i < ch->n_events; i++) {
        const struct scn_churn_event *ev = &ch->events[i];
        if (em_open(e, true, true) || em_row(e, "churn.events[].at", ev))
            return -1;
        int rc = ev->kind == CHURN_CRASH ? em_row(e, "churn.events[].crash", ev)
               : ev->kind == CHURN_JOIN ? em_row(e, "churn.events[].join", ev)
               : ev->kind == CHURN_CRASH_SERVERS ? em_kv(e, "crash", "servers")
               : ev->kind == CHURN_RESTART_SERVERS ? em_kv(e, "restart", "servers")
               : em_row(e, "churn.events[].maintenance", ev);
        if (rc || em_close(e, true))
            return -1;
    }
    return em_close(e, false);
}

static int em_protocols(yaml_emitter_t *e, const struct scenario *s)
{
    char buf[64];
    if (em_str(e, "protocols") || em_open(e, true, false))
        return -1;
    for (size_t i = 0; i < s->n_protocols; i++) {
        const struct proto_config *cfg = &s->protocols[i].cfg;
        if (em_str(e, s->protocols[i].name) || em_open(e, true, false))
            return -1;
        for (size_t k = 0; k < cfg->count; k++) {
            param_format(&cfg->params[k], cfg->v[k], buf, sizeof buf);
            if (em_kv(e, cfg->params[k].name, buf))
                return -1;
        }
        if (em_close(e, true))
            return -1;
    }
    return em_close(e, true);
}

static int em_sweep(yaml_emitter_t *e, const struct scenario *s)
{
    if (em_str(e, "sweep") || em_open(e, true, s->n_sweep == 0))
        return -1;
    for (size_t a = 0; a < s->n_sweep; a++) {
        if (em_str(e, s->sweep[a].path) || em_open(e, false, true))
            return -1;
        for (size_t k = 0; k < s->sweep[a].n_values; k++)
            if (em_str(e, s->sweep[a].values[k]))
                return -1;
        if (em_close(e, false))
            return -1;
    }
    return em_close(e, true);
}

static int em_plots(yaml_emitter_t *e, const struct scenario *s)
{
    if (em_str(e, "plots") || em_open(e, false, s->n_plots == 0))
        return -1;
    for (size_t i = 0; i < s->n_plots; i++)
        if (em_item(e, "plots[].", &s->plots[i]))
            return -1;
    return em_close(e, false);
}

static int em_also(yaml_emitter_t *e, const struct scenario *s)
{
    if (em_str(e, "also") || em_open(e, false, true))
        return -1;
    for (size_t i = 0; i < s->n_also; i++)
        if (em_str(e, s->also[i].given))
            return -1;
    return em_close(e, false);
}

/* Each expectation as a flow mapping, its cell named by protocol and the swept values that
 * pick it (those of axes with several values that bear on the protocol). */
static int em_expect(yaml_emitter_t *e, const struct scenario *s)
{
    if (s->n_expect == 0)
        return 0;                     /* left out: summaries without expectations stay as they were */
    if (em_str(e, "expect") || em_open(e, false, false))
        return -1;
    for (size_t i = 0; i < s->n_expect; i++) {
        const struct scn_expect *x = &s->expect[i];
        const char *proto = s->protocols[x->proto].name;
        if (em_open(e, true, true) || em_row(e, "expect[].metric", x) || em_str(e, "cell") ||
            em_open(e, true, true) || em_kv(e, "protocol", proto))
            return -1;
        for (size_t a = 0; a < s->n_sweep; a++)
            if (s->sweep[a].n_values > 1 && scn_axis_applies(s->sweep[a].path, proto) &&
                em_kv(e, s->sweep[a].path, s->sweep[a].values[x->vi[a]]))
                return -1;
        if (em_close(e, true) || em_row(e, "expect[].value", x) ||
            em_row(e, "expect[].tolerance", x) || em_row(e, "expect[].source", x) ||
            (x->note[0] && em_row(e, "expect[].note", x)) || em_close(e, true))
            return -1;
    }
    return em_close(e, false);
}

static int em_quick(yaml_emitter_t *e, const struct scenario *s)
{
    return s->quick ? em_kv(e, "quick", "on") : 0;
}

/* The rows written by hand, with everything under them. */
static const struct {
    const char *path;
    int (*write)(yaml_emitter_t *, const struct scenario *);
} writers[] = {
    { "network.bandwidth", em_bandwidth },
    { "churn.session", em_session },
    { "churn.downtime", em_downtime },
    { "churn.events", em_events },
    { "protocols", em_protocols },
    { "sweep.PATH", em_sweep },
    { "plots", em_plots },
    { "also", em_also },
    { "expect", em_expect },
    { "quick", em_quick },
};

/* Mappings written inline, { up: 10Mbit/s, down: 10Mbit/s }; the others are blocks. */
static const char *const flow_maps[] = { "network.server_bandwidth", "workload.popularity",
                                         "workload.lookups", "workload.files" };

/* ==== the walk ============================================================================ */

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* Whether `path` lies under `dir` ("" holds everything). */
static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return n == 0 || (strncmp(path, dir, n) == 0 && (path[n] == '.' || path[n] == '['));
}

/* Closes the open mappings until `open` is a prefix of `parent`, then opens down to it. */
static int em_move(yaml_emitter_t *e, char *open, size_t len, const char *parent)
{
    while (open[0] && !(strcmp(open, parent) == 0 || under(parent, open))) {
        char *dot = strrchr(open, '.');
        *(dot ? dot : open) = '\0';
        if (em_close(e, true))
            return -1;
    }
    while (strcmp(open, parent) != 0) {
        size_t n = strlen(open);
        const char *seg = parent + n + (n ? 1 : 0);
        size_t seglen = strcspn(seg, ".");
        snprintf(open + n, len - n, "%s%.*s", n ? "." : "", (int)seglen, seg);
        bool flow = false;
        for (size_t i = 0; i < COUNT(flow_maps); i++)
            flow = flow || strcmp(open, flow_maps[i]) == 0;
        if (em_str(e, open + strlen(open) - seglen) || em_open(e, true, flow))
            return -1;
    }
    return 0;
}

int scn_emit(const struct scenario *s, void *emitter)
{
    yaml_emitter_t *e = emitter;
    char open[128] = "", parent[128];
    const char *skip = NULL;          /* a written row: the rows under it are done */
    if (em_open(e, true, false))
        return -1;
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        if (skip && under(k->path, skip))
            continue;
        skip = NULL;
        size_t w = 0;
        while (w < COUNT(writers) && strcmp(writers[w].path, k->path) != 0)
            w++;
        if (w < COUNT(writers)) {
            const char *dot = strrchr(k->path, '.');   /* sweep.PATH writes sweep: at the top */
            bool top = !dot || strcmp(k->path, "sweep.PATH") == 0;
            snprintf(parent, sizeof parent, "%.*s", top ? 0 : (int)(dot - k->path), k->path);
            if (em_move(e, open, sizeof open, parent) || writers[w].write(e, s))
                return -1;
            skip = k->path;
            continue;
        }
        if (k->kind == SCN_DOC || k->alias || k->item)
            continue;
        char buf[512];
        scn_key_format(k, s, buf, sizeof buf);
        if (k->quiet && !buf[0])
            continue;
        const char *dot = strrchr(k->path, '.');
        snprintf(parent, sizeof parent, "%.*s", dot ? (int)(dot - k->path) : 0, k->path);
        if (em_move(e, open, sizeof open, parent) || em_kv(e, dot ? dot + 1 : k->path, buf))
            return -1;
    }
    if (em_move(e, open, sizeof open, ""))
        return -1;
    return em_close(e, true);
}
