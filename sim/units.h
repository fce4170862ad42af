/* units.h — numbers as users write them: durations, rates, fractions, whole and real numbers.
 * Every parser checks the end pointer and ERANGE (strtod/strtoll) and returns 0, or -1 with
 * *err pointing at a static message that says what was expected. */
#ifndef P2PLAB_UNITS_H
#define P2PLAB_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_PER_S INT64_C(1000000)

/* A rate of events: either in total or per live node. */
struct rate {
    double per_s;                     /* events per second (per node if per_node) */
    bool per_node;
};

/* "80ms", "30s", "1.5s", "5min", "2h", "1d", "250us"; "0" alone is allowed. Negative → error. */
int units_duration(const char *s, int64_t *us, const char **err);
/* "10/s", "600/min", "3/h", "1/node/min", "0.5/node/s"; "0" alone means none. */
int units_rate(const char *s, struct rate *r, const char **err);
/* "50%" or "0.5", in [0, 1]. */
int units_fraction(const char *s, double *f, const char **err);
int units_int(const char *s, int64_t *v, const char **err);
int units_double(const char *s, double *v, const char **err);
int units_bool(const char *s, bool *v, const char **err);      /* true|false|yes|no|on|off */
/* A bandwidth, stored in bytes per second: "1Mbit/s", "512kbit/s", "1Gbit/s", "100bit/s",
 * "2MB/s", "64kB/s", "10B/s", "1MiB/s", "16KiB/s" (k, M, G are powers of 1000; Ki, Mi, Gi of
 * 1024; bit is 1/8 byte). Must be more than 0. */
int units_bandwidth(const char *s, double *bytes_per_s, const char **err);

/* Canonical spellings, re-readable by the parsers above: "30s", "1h", "1500ms", "2.5min". */
void units_format_duration(int64_t us, char *buf, size_t len);
void units_format_rate(struct rate r, char *buf, size_t len);  /* "1/node/min", "10/s" */
void units_format_bandwidth(double bytes_per_s, char *buf, size_t len);  /* "8Mbit/s" */
/* Shortest "%.17g"-style text that reads back as the same double. */
void units_format_double(double v, char *buf, size_t len);

#endif
