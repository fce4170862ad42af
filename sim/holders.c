/* holders.c — holder counts per workload key: a sorted key array searched by bisection. */
#include "sim/holders.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int holders_init(struct holders *h, const uint64_t *keys, uint32_t n)
{
    *h = (struct holders){ .on = true };
    h->key = malloc((size_t)n * sizeof *h->key + 1);
    h->count = calloc((size_t)n + 1, sizeof *h->count);
    if (!h->key || !h->count) {
        holders_free(h);
        return -1;
    }
    memcpy(h->key, keys, (size_t)n * sizeof *keys);
    qsort(h->key, n, sizeof *h->key, cmp_u64);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || h->key[m - 1] != h->key[i])
            h->key[m++] = h->key[i];
    h->n = m;
    h->lost = m;
    return 0;
}

void holders_free(struct holders *h)
{
    free(h->key);
    free(h->count);
    *h = (struct holders){ 0 };
}

void holders_change(struct holders *h, uint64_t key, int delta)
{
    uint32_t lo = 0, hi = h->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->key[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= h->n || h->key[lo] != key)
        return;
    uint32_t *c = &h->count[lo];
    if (delta > 0) {
        if ((*c)++ == 0)
            h->lost--;
    } else {
        SIM_ASSERT(*c > 0);
        if (--*c == 0)
            h->lost++;
    }
}

double holders_lost_share(const struct holders *h)
{
    return h->on && h->n ? (double)h->lost / h->n : NAN;
}
