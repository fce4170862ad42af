/* bench_scale.h — `p2plab bench scale`: CPU time and peak memory of whole runs against N, one
 * process per (protocol, N), as a table (scale.csv, scale.md) and log-log figures. */
#ifndef P2PLAB_BENCH_SCALE_H
#define P2PLAB_BENCH_SCALE_H

/* argv[0] is "scale". Returns the exit status: 0; 1 when a run failed or a file could not be
 * written; 2 for a bad command line or scenario (then nothing is created). */
int scale_main(int argc, char **argv);

#endif
