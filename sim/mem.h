/* mem.h — allocation that names what it was allocating when memory runs out, and huge pages. */
#ifndef P2PLAB_MEM_H
#define P2PLAB_MEM_H

#include <stddef.h>

/* calloc / realloc that never return NULL: on failure they print "p2plab: out of memory
 * allocating WHAT (N bytes)" and exit(1). Zero sizes are allowed. */
void *mem_calloc(size_t n, size_t size, const char *what);
void *mem_realloc(void *p, size_t n, size_t size, const char *what);
/* Asks the kernel to back a large block by huge pages (fewer TLB misses on random access);
 * advice only, a no-op where the system lacks it. */
void mem_advise_huge(void *p, size_t bytes);

#endif
