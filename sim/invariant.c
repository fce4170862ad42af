/* invariant.c — protocol invariants in checked builds (invariant.h): when to judge, which
 * nodes, and how a broken rule stops the run. */
#include "sim/invariant.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/world.h"

#ifdef P2PLAB_CHECK                  /* other builds: nothing */
void sim_invariants(struct sim *s)
{
    if (!s->proto->check_invariants)
        return;
    node_t was = world_act_as(s, SIM_ACTING_ALL);   /* a judge: it may read every node */
    s->proto->check_invariants(s);
    s->acting = was;
}

bool sim_invariant_stable(const struct sim *s)
{
    const struct scenario *sc = s->sc;
    if (sc->nodes.start != START_CONVERGED || sc->network.loss > 0 ||
        sc->churn.session.kind != DIST_NONE || !s->maintenance)
        return false;
    for (size_t k = 0; k < sc->churn.n_events; k++)
        if (sc->churn.events[k].at_us <= s->eng.now)
            return false;
    return s->alive.n == s->used;     /* nobody has gone down (slots are never handed out again
                                         without a scheduled join, excluded above) */
}

node_t sim_invariant_nodes(const struct sim *s, node_t *out)
{
    node_t live = s->alive.n;
    if (live <= SIM_INVARIANT_NODES) {
        for (node_t k = 0; k < live; k++)
            out[k] = s->alive.item[k];
        return live;
    }
    uint64_t call = (uint64_t)(s->eng.now / (s->sc->sample_us > 0 ? s->sc->sample_us : 1));
    node_t first = (node_t)((call * SIM_INVARIANT_NODES) % live);
    for (node_t k = 0; k < SIM_INVARIANT_NODES; k++)
        out[k] = s->alive.item[(first + k) % live];
    return SIM_INVARIANT_NODES;
}

static int by_id(const void *a, const void *b)
{
    const struct converge_node *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->slot > y->slot) - (x->slot < y->slot);
}

node_t sim_invariant_sorted(const struct sim *s, struct converge_node *out, node_t max)
{
    SIM_ASSERT(s->acting == SIM_ACTING_ALL);                  /* judges only */
    node_t n = s->alive.n < max ? s->alive.n : max;
    for (node_t k = 0; k < n; k++)
        out[k] = (struct converge_node){ .id = s->id[s->alive.item[k]], .slot = s->alive.item[k] };
    qsort(out, n, sizeof *out, by_id);
    return n;
}

_Noreturn void sim_invariant_fail(const struct sim *s, node_t n, const char *fmt, ...)
{
    fprintf(stderr, "p2plab: %s: invariant broken at t = %.6f s: node %u (id %016llx): ",
            s->proto->name, (double)s->eng.now / 1e6, n, (unsigned long long)s->id[n]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}
#endif
