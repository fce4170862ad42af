/* oracle.c — sorted membership and the key metrics (successor, numeric, XOR, group).
 *
 * A set is a list of sorted chunks (oracle.h). Adding a member finds its chunk by a binary
 * search over the chunks' first members and moves at most one chunk's members; a full chunk is
 * split in two halves first. Removing one moves one chunk's members; an emptied chunk leaves
 * the list, and a chunk under a quarter full takes in its right neighbour when both fit in
 * half a chunk, so that chunks stay large. Either way the ranks of the chunks after it change
 * by one. At 10^6 members that is a few kilobytes moved per change instead of 8 MB on average,
 * which under churn (hundreds of joins and departures per simulated second) was most of the
 * run. The answers depend on the order of the members alone, never on the chunks.
 * KEYS_GROUP keeps one more sorted set per group, so that a group's owner is found without
 * scanning everyone. */
#include "sim/oracle.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

#define ORACLE_BULK_FILL (ORACLE_CHUNK * 3 / 4)   /* members per chunk of a bulk load */

/* ---- a sorted set of chunks ----------------------------------------------------------- */

static inline bool entry_less(uint64_t id, node_t slot, const struct oracle_entry *e)
{
    return id < e->id || (id == e->id && slot < e->slot);
}

static inline bool entry_before(const struct oracle_entry *e, uint64_t id, node_t slot)
{
    return e->id < id || (e->id == id && e->slot < slot);
}

/* The chunk where (id, slot) belongs: the last whose first member is at or below it, or
 * chunk 0. */
static uint32_t chunk_of(const struct oracle_set *o, uint64_t id, node_t slot)
{
    uint32_t lo = 0, hi = o->n_chunks;        /* first chunk whose first member > (id, slot) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (!entry_less(id, slot, &o->first[mid]))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* First place in chunk c whose (id, slot) >= (id, slot). */
static uint32_t chunk_lower_bound(const struct oracle_set *o, uint32_t c, uint64_t id, node_t slot)
{
    const struct oracle_entry *e = o->chunk[c];
    uint32_t lo = 0, hi = o->len[c];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (entry_before(&e[mid], id, slot))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index (over the whole set) whose (id, slot) >= (id, slot). */
static uint32_t lower_bound(const struct oracle_set *o, uint64_t id, node_t slot)
{
    if (o->n_chunks == 0)
        return 0;
    uint32_t c = chunk_of(o, id, slot);
    return o->rank[c] + chunk_lower_bound(o, c, id, slot);
}

/* The member of index i < n. */
static const struct oracle_entry *at(const struct oracle_set *o, uint32_t i)
{
    uint32_t lo = 0, hi = o->n_chunks;        /* the last chunk whose rank <= i */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (o->rank[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return &o->chunk[lo][i - o->rank[lo]];
}

/* Opens a place for a chunk at index c of the list (room members allocated, none held). */
static void chunk_open(struct oracle_set *o, uint32_t c, uint32_t room)
{
    if (o->n_chunks == o->cap_chunks) {
        uint32_t cap = o->cap_chunks ? 2 * o->cap_chunks : 4;
        o->chunk = mem_realloc(o->chunk, cap, sizeof *o->chunk, "the oracle's members");
        o->len = mem_realloc(o->len, cap, sizeof *o->len, "the oracle's members");
        o->room = mem_realloc(o->room, cap, sizeof *o->room, "the oracle's members");
        o->rank = mem_realloc(o->rank, cap, sizeof *o->rank, "the oracle's members");
        o->first = mem_realloc(o->first, cap, sizeof *o->first, "the oracle's members");
        o->cap_chunks = cap;
    }
    uint32_t after = o->n_chunks - c;
    memmove(&o->chunk[c + 1], &o->chunk[c], after * sizeof *o->chunk);
    memmove(&o->len[c + 1], &o->len[c], after * sizeof *o->len);
    memmove(&o->room[c + 1], &o->room[c], after * sizeof *o->room);
    memmove(&o->rank[c + 1], &o->rank[c], after * sizeof *o->rank);
    memmove(&o->first[c + 1], &o->first[c], after * sizeof *o->first);
    o->chunk[c] = mem_realloc(NULL, room, sizeof **o->chunk, "the oracle's members");
    o->len[c] = 0;
    o->room[c] = room;
    o->rank[c] = c ? o->rank[c - 1] + o->len[c - 1] : 0;
    o->n_chunks++;
}

/* Takes chunk c out of the list (its members are accounted for elsewhere). */
static void chunk_close(struct oracle_set *o, uint32_t c)
{
    free(o->chunk[c]);
    uint32_t after = o->n_chunks - c - 1;
    memmove(&o->chunk[c], &o->chunk[c + 1], after * sizeof *o->chunk);
    memmove(&o->len[c], &o->len[c + 1], after * sizeof *o->len);
    memmove(&o->room[c], &o->room[c + 1], after * sizeof *o->room);
    memmove(&o->rank[c], &o->rank[c + 1], after * sizeof *o->rank);
    memmove(&o->first[c], &o->first[c + 1], after * sizeof *o->first);
    o->n_chunks--;
}

/* Splits the full chunk c into two halves, c and c + 1. */
static void chunk_split(struct oracle_set *o, uint32_t c)
{
    uint32_t half = o->len[c] / 2, rest = o->len[c] - half;
    chunk_open(o, c + 1, ORACLE_CHUNK);
    memcpy(o->chunk[c + 1], o->chunk[c] + half, rest * sizeof **o->chunk);
    o->len[c] = half;
    o->len[c + 1] = rest;
    o->rank[c + 1] = o->rank[c] + half;
    o->first[c + 1] = o->chunk[c + 1][0];
}

static void set_insert(struct oracle_set *o, uint64_t id, node_t slot)
{
    if (o->n_chunks == 0)
        chunk_open(o, 0, 16);
    uint32_t c = chunk_of(o, id, slot);
    if (o->len[c] == ORACLE_CHUNK) {
        chunk_split(o, c);
        if (!entry_less(id, slot, &o->first[c + 1]))
            c++;
    }
    if (o->len[c] == o->room[c]) {
        uint32_t room = 2 * o->room[c] < ORACLE_CHUNK ? 2 * o->room[c] : ORACLE_CHUNK;
        o->chunk[c] = mem_realloc(o->chunk[c], room, sizeof **o->chunk, "the oracle's members");
        o->room[c] = room;
    }
    uint32_t i = chunk_lower_bound(o, c, id, slot);
    struct oracle_entry *e = o->chunk[c];
    memmove(&e[i + 1], &e[i], (size_t)(o->len[c] - i) * sizeof *e);
    e[i] = (struct oracle_entry){ id, slot };
    o->len[c]++;
    if (i == 0)
        o->first[c] = e[0];
    for (uint32_t k = c + 1; k < o->n_chunks; k++)
        o->rank[k]++;
    o->n++;
}

static void set_add(struct oracle_set *o, uint64_t id, node_t slot, bool bulk)
{
    if (!bulk) {
        set_insert(o, id, slot);
        return;
    }
    if (o->bulk_n == o->bulk_cap) {               /* sorted into chunks at the end */
        o->bulk_cap = o->bulk_cap ? o->bulk_cap * 2 : 16;
        o->bulk = mem_realloc(o->bulk, o->bulk_cap, sizeof *o->bulk, "the oracle's members");
    }
    o->bulk[o->bulk_n++] = (struct oracle_entry){ id, slot };
    o->n++;
}

static int by_id_slot(const void *a, const void *b)
{
    const struct oracle_entry *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The end of a bulk load: members added before it (in chunks) and during it (appended) are
 * sorted together and cut into chunks three quarters full. */
static void set_bulk_end(struct oracle_set *o)
{
    uint32_t n = o->n, k = 0;
    struct oracle_entry *all = mem_realloc(NULL, n ? n : 1, sizeof *all, "the oracle's members");
    for (uint32_t c = 0; c < o->n_chunks; c++) {
        memcpy(all + k, o->chunk[c], o->len[c] * sizeof *all);
        k += o->len[c];
    }
    SIM_ASSERT(k + o->bulk_n == n);
    memcpy(all + k, o->bulk, o->bulk_n * sizeof *all);
    free(o->bulk);
    o->bulk = NULL;
    o->bulk_n = o->bulk_cap = 0;
    while (o->n_chunks)
        chunk_close(o, o->n_chunks - 1);
    qsort(all, n, sizeof *all, by_id_slot);
    for (uint32_t from = 0; from < n; from += ORACLE_BULK_FILL) {
        uint32_t m = n - from < ORACLE_BULK_FILL ? n - from : ORACLE_BULK_FILL;
        uint32_t c = o->n_chunks;
        chunk_open(o, c, m);                  /* grows when a member joins it */
        memcpy(o->chunk[c], all + from, m * sizeof *all);
        o->len[c] = m;
        o->rank[c] = from;
        o->first[c] = all[from];
    }
    free(all);
}

static void set_remove(struct oracle_set *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(o->n_chunks > 0);
    uint32_t c = chunk_of(o, id, slot);
    uint32_t i = chunk_lower_bound(o, c, id, slot);
    struct oracle_entry *e = o->chunk[c];
    SIM_ASSERT(i < o->len[c] && e[i].id == id && e[i].slot == slot);
    memmove(&e[i], &e[i + 1], (size_t)(o->len[c] - i - 1) * sizeof *e);
    o->len[c]--;
    for (uint32_t k = c + 1; k < o->n_chunks; k++)
        o->rank[k]--;
    o->n--;
    if (o->len[c] == 0) {
        chunk_close(o, c);
        return;
    }
    if (i == 0)
        o->first[c] = e[0];
    /* a small chunk takes in its right neighbour when both fit in half a chunk */
    if (o->len[c] < ORACLE_CHUNK / 4 && c + 1 < o->n_chunks &&
        o->len[c] + o->len[c + 1] <= ORACLE_CHUNK / 2) {
        uint32_t m = o->len[c] + o->len[c + 1];
        if (m > o->room[c]) {
            o->chunk[c] = mem_realloc(o->chunk[c], ORACLE_CHUNK, sizeof **o->chunk,
                                      "the oracle's members");
            o->room[c] = ORACLE_CHUNK;
        }
        memcpy(o->chunk[c] + o->len[c], o->chunk[c + 1], o->len[c + 1] * sizeof **o->chunk);
        o->len[c] = m;
        chunk_close(o, c + 1);
    }
}

static void set_free(struct oracle_set *o)
{
    for (uint32_t c = 0; c < o->n_chunks; c++)
        free(o->chunk[c]);
    free(o->chunk);
    free(o->len);
    free(o->room);
    free(o->rank);
    free(o->first);
    free(o->bulk);
    *o = (struct oracle_set){ 0 };
}

/* ---- membership ------------------------------------------------------------------------ */

int oracle_init(struct oracle *o, enum key_metric metric, uint32_t cap)
{
    *o = (struct oracle){ .metric = metric, .cap = cap };
    return 0;
}

int oracle_set_groups(struct oracle *o, uint32_t k)
{
    SIM_ASSERT(o->all.n == 0 && k > 0);
    for (uint32_t g = 0; g < o->n_groups; g++)
        set_free(&o->group[g]);
    free(o->group);
    o->group = calloc(k, sizeof *o->group);
    o->n_groups = o->group ? k : 0;
    return o->group ? 0 : -1;
}

void oracle_free(struct oracle *o)
{
    for (uint32_t g = 0; g < o->n_groups; g++)
        set_free(&o->group[g]);
    free(o->group);
    set_free(&o->all);
    *o = (struct oracle){ 0 };
}

void oracle_add(struct oracle *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(o->all.n < o->cap);
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
    set_bulk_end(&o->all);
    for (uint32_t g = 0; g < o->n_groups; g++)
        set_bulk_end(&o->group[g]);
}

void oracle_remove(struct oracle *o, uint64_t id, node_t slot)
{
    SIM_ASSERT(!o->bulk);
    set_remove(&o->all, id, slot);
    if (o->n_groups)
        set_remove(&o->group[id % o->n_groups], id, slot);
}

/* ---- the metrics ------------------------------------------------------------------------ */
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
        const struct oracle_entry *es = at(o, succ), *ep = at(o, pred);
        uint64_t ds = ring_dist(es->id, key), dp = ring_dist(ep->id, key);
        bool take_succ = ds < dp || (ds == dp && es->id > key);
        if (r == rank)
            return take_succ ? es->slot : ep->slot;
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
        return at(o, xor_closest(o, key))->slot;
    uint64_t last = 0;
    node_t who = NODE_NONE;
    for (uint32_t r = 0; r <= rank; r++) {
        uint64_t best = UINT64_MAX;
        for (uint32_t c = 0; c < o->n_chunks; c++)
            for (uint32_t i = 0; i < o->len[c]; i++) {
                uint64_t d = o->chunk[c][i].id ^ key;
                if ((r == 0 || d > last) && d <= best) {
                    best = d;
                    who = o->chunk[c][i].slot;
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
        return at(set, (lower_bound(set, key, 0) + rank) % set->n)->slot;
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
        if (i >= o->all.n || at(&o->all, i)->id != id || at(&o->all, i)->slot != slot)
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
