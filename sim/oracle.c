/* oracle.c — sorted membership and the three key metrics (successor, numeric, XOR).
 *
 * Membership changes are a binary search and a memmove: O(N) bytes moved, a few microseconds
 * at 10^5 nodes, which is far below the cost of the churn event itself. */
#include "sim/oracle.h"

#include <stdlib.h>
#include <string.h>

int oracle_init(struct oracle *o, enum key_metric metric, uint32_t cap)
{
    *o = (struct oracle){ .metric = metric, .cap = cap };
    o->e = malloc((size_t)cap * sizeof *o->e + 1);
    return o->e ? 0 : -1;
}

void oracle_free(struct oracle *o)
{
    free(o->e);
    *o = (struct oracle){ 0 };
}

/* First index whose (id, slot) >= (id, slot). */
static uint32_t lower_bound(const struct oracle *o, uint64_t id, node_t slot)
{
    uint32_t lo = 0, hi = o->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct oracle_entry *m = &o->e[mid];
        if (m->id < id || (m->id == id && m->slot < slot))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void oracle_add(struct oracle *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(o->n < o->cap);
    uint32_t i = lower_bound(o, id, slot);
    memmove(&o->e[i + 1], &o->e[i], (size_t)(o->n - i) * sizeof *o->e);
    o->e[i] = (struct oracle_entry){ id, slot };
    o->n++;
}

void oracle_remove(struct oracle *o, uint64_t id, node_t slot)
{
    uint32_t i = lower_bound(o, id, slot);
    SIM_ASSERT(i < o->n && o->e[i].id == id && o->e[i].slot == slot);
    memmove(&o->e[i], &o->e[i + 1], (size_t)(o->n - i - 1) * sizeof *o->e);
    o->n--;
}

/* Index of the XOR-closest id: descend bit by bit, keeping the sub-range that agrees with key
 * whenever it is not empty (ids sharing a prefix are contiguous in sorted order). */
static uint32_t xor_closest(const struct oracle *o, uint64_t key)
{
    uint32_t lo = 0, hi = o->n;               /* candidates [lo, hi) share the prefix so far */
    uint64_t prefix = 0;
    for (int bit = 63; bit >= 0 && hi - lo > 1; bit--) {
        uint64_t one = prefix | (UINT64_C(1) << bit);
        uint32_t split = lower_bound(o, one, 0);  /* first candidate with this bit set */
        if (split < lo)
            split = lo;
        if (split > hi)
            split = hi;
        bool want_one = (key >> bit) & 1;
        if (want_one ? split < hi : split > lo) {
            if (want_one) {
                lo = split;
                prefix = one;
            } else {
                hi = split;
            }
        } else if (want_one) {
            hi = split;                       /* no id with a 1 here: all have 0 */
        } else {
            lo = split;
            prefix = one;
        }
    }
    return lo;
}

static uint64_t ring_dist(uint64_t a, uint64_t b)
{
    uint64_t d = a - b, e = b - a;
    return d < e ? d : e;
}

node_t oracle_owner(const struct oracle *o, uint64_t key, uint32_t rank)
{
    if (o->n == 0)
        return NODE_NONE;
    if (rank >= o->n)
        rank = o->n - 1;
    switch (o->metric) {
    case KEYS_SUCCESSOR: {
        uint32_t i = lower_bound(o, key, 0);
        return o->e[(i + rank) % o->n].slot;
    }
    case KEYS_NUMERIC: {
        /* the closest, then alternately outwards (numerically closest first) */
        uint32_t succ = lower_bound(o, key, 0) % o->n, pred = (succ + o->n - 1) % o->n;
        for (uint32_t r = 0;; r++) {
            uint64_t ds = ring_dist(o->e[succ].id, key), dp = ring_dist(o->e[pred].id, key);
            bool take_succ = ds < dp || (ds == dp && o->e[succ].id > key);
            if (r == rank)
                return take_succ ? o->e[succ].slot : o->e[pred].slot;
            if (take_succ)
                succ = (succ + 1) % o->n;
            else
                pred = (pred + o->n - 1) % o->n;
        }
    }
    case KEYS_XOR:
        if (rank == 0)
            return o->e[xor_closest(o, key)].slot;
        {
            /* rank r: the r-th smallest XOR distance; replicas are few, so a partial
             * selection over the whole set is acceptable for judging */
            uint64_t last = 0;
            node_t who = NODE_NONE;
            for (uint32_t r = 0; r <= rank; r++) {
                uint64_t best = UINT64_MAX;
                for (uint32_t i = 0; i < o->n; i++) {
                    uint64_t d = o->e[i].id ^ key;
                    if ((r == 0 || d > last) && d <= best) {
                        best = d;
                        who = o->e[i].slot;
                    }
                }
                last = best;
            }
            return who;
        }
    }
    return NODE_NONE;
}

bool oracle_owns(const struct oracle *o, uint64_t key, node_t slot, uint32_t replicas)
{
    for (uint32_t r = 0; r < replicas && r < o->n; r++)
        if (oracle_owner(o, key, r) == slot)
            return true;
    return false;
}
