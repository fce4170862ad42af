/* slotset.h — a set of node slots with O(1) insert, remove, membership and uniform choice.
 * Dense array of members plus each slot's position in it (swap-remove keeps it dense). */
#ifndef P2PLAB_SLOTSET_H
#define P2PLAB_SLOTSET_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim.h"

struct slotset {
    node_t *item;                     /* members, dense, in no particular order */
    node_t *pos;                      /* pos[slot] = index in item, or NODE_NONE */
    node_t n;                         /* members */
    node_t cap;                       /* slots the set can hold */
};

int slotset_init(struct slotset *s, node_t cap);
void slotset_free(struct slotset *s);
static inline bool slotset_has(const struct slotset *s, node_t slot) { return s->pos[slot] != NODE_NONE; }
void slotset_add(struct slotset *s, node_t slot);
void slotset_remove(struct slotset *s, node_t slot);

#endif
