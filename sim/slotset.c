/* slotset.c — dense slot sets with swap-remove. */
#include "sim/slotset.h"

#include <stdlib.h>
#include <string.h>

int slotset_init(struct slotset *s, node_t cap)
{
    s->item = malloc((size_t)cap * sizeof *s->item + 1);
    s->pos = malloc((size_t)cap * sizeof *s->pos + 1);
    s->n = 0;
    s->cap = cap;
    if (!s->item || !s->pos) {
        slotset_free(s);
        return -1;
    }
    memset(s->pos, 0xff, (size_t)cap * sizeof *s->pos);
    return 0;
}

void slotset_free(struct slotset *s)
{
    free(s->item);
    free(s->pos);
    s->item = s->pos = NULL;
    s->n = s->cap = 0;
}

void slotset_add(struct slotset *s, node_t slot)
{
    SIM_ASSERT(slot < s->cap && s->pos[slot] == NODE_NONE);
    s->pos[slot] = s->n;
    s->item[s->n++] = slot;
}

void slotset_remove(struct slotset *s, node_t slot)
{
    SIM_ASSERT(slot < s->cap && s->pos[slot] != NODE_NONE);
    node_t i = s->pos[slot], last = s->item[--s->n];
    s->item[i] = last;
    s->pos[last] = i;
    s->pos[slot] = NODE_NONE;
}
