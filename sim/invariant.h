/* invariant.h — protocol invariants, judged in checked builds (P2PLAB_CHECK) only.
 *
 * At every sample the engine asks the protocol's check_invariants hook to judge its nodes'
 * routing state. The hook is a judge, like the oracle: it may read every node's state, never
 * changes any, never routes, and stops the run at the first broken rule (sim_invariant_fail),
 * naming the node and the rule. Each rule must hold of a correct implementation at that
 * moment: rules that hold only once the overlay has settled (Chord's ring, Pastry's leaf
 * sets) are judged only while sim_invariant_stable says so. To stay cheap, a call judges at
 * most SIM_INVARIANT_NODES nodes, a different window of the live ones at each sample. In
 * other builds the engine's call compiles to nothing. */
#ifndef P2PLAB_INVARIANT_H
#define P2PLAB_INVARIANT_H

#include <stdbool.h>

#include "protocols/protocol.h"
#include "sim/sim.h"

#define SIM_INVARIANT_NODES 128       /* nodes judged per call at most */

#ifndef P2PLAB_CHECK
#define sim_invariants(s) ((void)(s))
#else
/* The engine, at a sample: runs the protocol's check_invariants hook, if it has one. */
void sim_invariants(struct sim *s);

/* For check_invariants only. Has the overlay been undisturbed since t = 0: started converged,
 * no message loss, no churn (no sessions, no scheduled event up to now), maintenance on, and
 * every node that was up at t = 0 still up? */
bool sim_invariant_stable(const struct sim *s);
/* The live nodes to judge at this call: at most SIM_INVARIANT_NODES of them, into out
 * (room for SIM_INVARIANT_NODES), a window that moves on at every sample; returns how many. */
node_t sim_invariant_nodes(const struct sim *s, node_t *out);
/* The live nodes sorted by identifier (then slot), as sim_converge_sorted lays them out at
 * t = 0, at any time: the true ring the rules compare against. */
node_t sim_invariant_sorted(const struct sim *s, struct converge_node *out, node_t max);
/* Stops the run (abort) with the protocol, the time, the node and the broken rule. */
_Noreturn void sim_invariant_fail(const struct sim *s, node_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

#endif
