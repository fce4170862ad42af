/* bench.h — `p2plab bench`: benchmarks of the simulator itself (PHOLD, scale). */
#ifndef P2PLAB_BENCH_H
#define P2PLAB_BENCH_H

/* argv[0] is "bench"; argv[1], if any, names the benchmark. With no name, lists them.
 * Returns the process exit status: 0, or 2 for a bad command line. */
int bench_main(int argc, char **argv);

#endif
