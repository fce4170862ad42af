/* oracle.c — sorted membership and the key metrics (successor, numeric, XOR, group).
 *
 * Membership changes are a binary search and a memmove: O(N) bytes moved, a few microseconds
 * at 10^5 nodes, which is far below the cost of the churn event itself. KEYS_GROUP keeps one
 * more sorted set per group, so that a group's owner is found without scanning everyone. */
#include "sim/oracle.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

int oracle_init(struct oracle *o, enum key_metric metric, uint32_t cap)
{
    *o = (struct oracle){ .metric = metric, .all = { .cap = cap } };
    o->all.e = malloc((size_t)cap * sizeof *o->all.e + 1);
    return o->all.e ? 0 : -1;
}

int oracle_set_groups(struct oracle *o, uint32_t k)
{
    SIM_ASSERT(o->all.n == 0 && k > 0);
    free(o->group);
    o->group = calloc(k, sizeof *o->group);
    o->n_groups = o->group ? k : 0;
    return o->group ? 0 : -1;
}

void oracle_free(struct oracle *o)
{
    for (uint32_t g = 0; g < o->n_groups; g++)
        free(o->group[g].e);
    free(o->group);
    free(o->all.e);
    *o = (struct oracle){ 0 };
}

/* First index whose (id, slot) >= (id, slot). */
static uint32_t lower_bound(const struct oracle_set *o, uint64_t id, node_t slot)
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

static void set_add(struct oracle_set *o, uint64_t id, node_t slot, bool bulk)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->e = mem_realloc(o->e, o->cap, sizeof *o->e, "the oracle's group members");
    }
    uint32_t i = bulk ? o->n : lower_bound(o, id, slot);   /* bulk: sorted at the end */
    memmove(&o->e[i + 1], &o->e[i], (size_t)(o->n - i) * sizeof *o->e);
    o->e[i] = (struct oracle_entry){ id, slot };
    o->n++;
}

static int by_id_slot(const void *a, const void *b)
{
    const struct oracle_entry *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static void set_remove(struct oracle_set *o, uint64_t id, node_t slot)
{
    uint32_t i = lower_bound(o, id, slot);
    SIM_ASSERT(i < o->n && o->e[i].id == id && o->e[i].slot == slot);
    memmove(&o->e[i], &o->e[i + 1], (size_t)(o->n - i - 1) * sizeof *o->e);
    o->n--;
}

void oracle_add(struct oracle *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(o->all.n < o->all.cap);
    set_add(&o->all, id, slot, o->bulk);
    if (o->n_groups)
        set_add(&o->group[id % o->n_groups], id, slot, o->bulk);
}

void oracle_bulk_begin(struct oracle *o)
{
    o->bulk = true;
}

void oracle_bulk_end(struct oracle *o)
{
    o->bulk = false;
    qsort(o->all.e, o->all.n, sizeof *o->all.e, by_id_slot);
    for (uint32_t g = 0; g < o->n_groups; g++)
        qsort(o->group[g].e, o->group[g].n, sizeof *o->group[g].e, by_id_slot);
}

void oracle_remove(struct oracle *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(!o->bulk);
    set_remove(&o->all, id, slot);
    if (o->n_groups)
        set_remove(&o->group[id % o->n_groups], id, slot);
}

/* Index of the XOR-closest id: descend bit by bit, keeping the sub-range that agrees with key
 * whenever it is not empty (ids sharing a prefix are contiguous in sorted order). */
static uint32_t xor_closest(const struct oracle_set *o, uint64_t key)
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
        bool have = want_one ? split < hi : split > lo;
        if (have == want_one) {               /* keep the ones */
            lo = split;
            prefix = one;
        } else {                              /* keep the zeros */
            hi = split;
        }
    }
    return lo;
}

static uint64_t ring_dist(uint64_t a, uint64_t b)
{
    uint64_t d = a - b, e = b - a;
    return d < e ? d : e;
}

/* The rank-th numerically closest member of a non-empty set: the closest, then outwards. */
static node_t numeric_owner(const struct oracle_set *o, uint64_t key, uint32_t rank)
{
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

/* The rank-th smallest XOR distance; replicas are few, so for rank > 0 a selection over the
 * whole set is acceptable for judging. */
static node_t xor_owner(const struct oracle_set *o, uint64_t key, uint32_t rank)
{
    if (rank == 0)
        return o->e[xor_closest(o, key)].slot;
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

node_t oracle_owner(const struct oracle *o, uint64_t key, uint32_t rank)
{
    const struct oracle_set *set = &o->all;
    SIM_ASSERT(!o->bulk);
    if (o->metric == KEYS_GROUP) {
        SIM_ASSERT(o->n_groups > 0);
        set = &o->group[key % o->n_groups];
    }
    if (set->n == 0)
        return NODE_NONE;
    if (rank >= set->n)
        rank = set->n - 1;
    switch (o->metric) {
    case KEYS_SUCCESSOR:
        return set->e[(lower_bound(set, key, 0) + rank) % set->n].slot;
    case KEYS_NUMERIC:
    case KEYS_GROUP:
        return numeric_owner(set, key, rank);
    case KEYS_XOR:
        return xor_owner(set, key, rank);
    case KEYS_FILES:
        return NODE_NONE;                     /* files have holders (sim/catalogue.c) */
    }
    return NODE_NONE;
}

/* Members whose XOR distance to key is below d: for every 1-bit b of d, the ids that agree
 * with key ^ d above b and with key at b form one aligned range of 2^b ids. O(64 log N). */
static uint64_t xor_closer(const struct oracle_set *o, uint64_t key, uint64_t d)
{
    uint64_t count = 0, target = key ^ d;
    for (int b = 63; b >= 0; b--) {
        uint64_t bit = UINT64_C(1) << b;
        if (!(d & bit))
            continue;
        uint64_t high = b == 63 ? 0 : (target >> (b + 1)) << (b + 1);
        uint64_t lo = high | (key & bit);
        uint64_t last = lo | (bit - 1);               /* inclusive: lo + 2^b - 1 */
        uint32_t from = lower_bound(o, lo, 0);
        uint32_t to = last == UINT64_MAX ? o->n : lower_bound(o, last + 1, 0);
        count += to - from;
    }
    return count;
}

bool oracle_owns(const struct oracle *o, uint64_t key, node_t slot, uint64_t id,
                 uint32_t replicas)
{
    SIM_ASSERT(!o->bulk);
    if (o->metric == KEYS_XOR && replicas > 1) {
        uint32_t i = lower_bound(&o->all, id, slot);
        if (i >= o->all.n || o->all.e[i].id != id || o->all.e[i].slot != slot)
            return false;
        return xor_closer(&o->all, key, id ^ key) < replicas;
    }
    for (uint32_t r = 0; r < replicas; r++) {
        node_t who = oracle_owner(o, key, r);
        if (who == slot)
            return true;
        if (who == NODE_NONE)
            break;
    }
    return false;
}
