/* scncost.c — a cell's cost before it runs: bytes per node slot from the protocol's state size
 * and the engine's own records (what run_cell allocates at setup), and a lower bound on events
 * (two per lookup: its issue and its deadline; two per churn cycle: a departure and a return).
 * Both are lower bounds: tables that grow during the run (pools, vectors) are not counted. */
#include "sim/scncost.h"

#include <unistd.h>

#include "protocols/kelips_internal.h"
#include "protocols/protocol.h"
#include "sim/engine.h"
#include "sim/oracle.h"
#include "sim/queue.h"
#include "sim/slotset.h"

static bool forced;

void scn_cost_force(bool force) { forced = force; }
bool scn_cost_forced(void) { return forced; }

double scn_cost_memory_limit(void)
{
    if (forced)
        return 0;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

void scn_cost(const struct scenario *sc, size_t pi, struct scn_cost *out)
{
    *out = (struct scn_cost){ 0 };
    const struct protocol *p = protocol_find(sc->protocols[pi].name);
    if (!p)
        return;
    const struct proto_config *cfg = &sc->protocols[pi].cfg;
    uint64_t hosts = sc->nodes.count;
    for (size_t i = 0; i < sc->churn.n_events; i++)
        if (sc->churn.events[i].kind == CHURN_JOIN)
            hosts += sc->churn.events[i].count;
    uint32_t vnodes = sc->nodes.vnodes ? sc->nodes.vnodes : 1;
    out->slots = hosts * vnodes + (p->servers ? p->servers(cfg) : 0);

    /* as run_cell_with sizes them */
    size_t state = p->state_size ? p->state_size(cfg) : p->node_state_size;
    state = state ? (state + 7) & ~(size_t)7 : 8;
    double rec = (double)sizeof(struct event);   /* timers and deadlines: header-only records */
    double columns = sizeof(uint64_t) + sizeof(uint32_t) + sizeof(int64_t)   /* id, inc, dl_start */
                     + 2 * 2 * sizeof(node_t)                                 /* alive, ready */
                     + sizeof(struct oracle_entry);
    double events = 4 * rec;          /* the header pool's start; the queue grows as it fills */
    out->proto_per_slot = (double)state;
    if (p == &kelips_protocol)        /* its tables live outside the slab and grow with N */
        out->proto_per_slot = kelips_node_estimate(cfg, sc->nodes.count, sc->workload.keys);
    out->engine_per_slot = columns + events;

    /* the workload and the churn over [0, duration) */
    double dur_s = (double)sc->duration_us / 1e6;
    double per_s = sc->workload.lookups.per_s * (sc->workload.lookups.per_node ? (double)sc->nodes.count : 1);
    out->lookups = per_s * dur_s;
    double in_flight = per_s * (double)sc->workload.lookup_timeout_us / 1e6;  /* deadline events */
    if (sc->churn.session.kind != DIST_NONE) {
        double cycle_s = (double)sc->churn.session.mean_us / 1e6;
        if (sc->churn.downtime.kind != DIST_NONE)
            cycle_s += (double)sc->churn.downtime.mean_us / 1e6;
        double per_node = cycle_s > 0 ? dur_s / cycle_s : dur_s * 1e6;
        if (sc->churn.downtime.kind == DIST_NONE && per_node > 1)
            per_node = 1;             /* a departed node never returns */
        out->churn = 2 * per_node * (double)sc->nodes.count;   /* hosts come and go */
    }
    out->events = 2 * out->lookups + out->churn;
    out->bytes = (double)out->slots * (out->proto_per_slot + out->engine_per_slot) +
                 in_flight * (rec + sizeof(struct qkey));
}
