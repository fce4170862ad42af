/* mem.c — checked allocation and huge-page advice. */
#define _DEFAULT_SOURCE                    /* madvise(MADV_HUGEPAGE) where the system has it */
#include "sim/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

_Noreturn static void out_of_memory(const char *what, size_t n, size_t size)
{
    fprintf(stderr, "p2plab: out of memory allocating %s (%zu x %zu bytes)\n", what, n, size);
    exit(1);
}

void *mem_calloc(size_t n, size_t size, const char *what)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(what, n, size);
    return p;
}

void *mem_realloc(void *p, size_t n, size_t size, const char *what)
{
    if (size && n > SIZE_MAX / size)
        out_of_memory(what, n, size);
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        out_of_memory(what, n, size);
    return q;
}

void mem_advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096;
    if (bytes < ((size_t)4 << 20))
        return;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t b = ((uintptr_t)p + bytes) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);   /* advice only: failure is harmless */
#else
    (void)p;
    (void)bytes;
#endif
}
