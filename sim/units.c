/* units.c — parse and format durations, rates, fractions and plain numbers, against tables of
 * units (as SimGrid's xbt_parse_units does). Durations are whole microseconds; a fraction of a
 * unit is allowed ("1.5s") as long as it comes to whole microseconds. Messages are static and
 * say what was expected; the caller adds where and what it got. */
#include "sim/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DURATION_EXPECTED "expected a duration such as 80ms, 30s, 5min, 2h or 1d"
#define RATE_EXPECTED "expected a rate such as 10/s, 600/min, 3/h or 1/node/min"

struct unit {
    const char *name;
    int64_t us;                       /* microseconds per unit */
};

/* Largest first: the formatter picks the first unit that divides the value. */
static const struct unit duration_units[] = {
    { "d", INT64_C(86400) * US_PER_S },
    { "h", INT64_C(3600) * US_PER_S },
    { "min", INT64_C(60) * US_PER_S },
    { "s", US_PER_S },
    { "ms", INT64_C(1000) },
    { "us", INT64_C(1) },
    { NULL, 0 },
};

/* Rate denominators, in seconds; the formatter prefers the first that gives a whole count. */
static const struct unit rate_units[] = {
    { "s", 1 },
    { "min", 60 },
    { "h", 3600 },
    { NULL, 0 },
};

/* ---- scanning -------------------------------------------------------------------------- */

/* Length of the decimal number at the start of s: [+-] digits [. digits] [e [+-] digits] (the
 * exponent only if allow_exp). 0 if there is no digit. Rejects what strtod would also take but
 * a user did not mean as a number: "inf", "nan", hexadecimal, leading blanks. */
static size_t scan_number(const char *s, bool allow_exp, bool *has_point)
{
    size_t i = 0, digits = 0;
    *has_point = false;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (isdigit((unsigned char)s[i]))
        i++, digits++;
    if (s[i] == '.') {
        *has_point = true;
        i++;
        while (isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (allow_exp && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (isdigit((unsigned char)s[j])) {
            while (isdigit((unsigned char)s[j]))
                j++;
            *has_point = true;          /* an exponent makes it a real number */
            i = j;
        }
    }
    return i;
}

/* Parses the number s[0, n) with strtod; false on ERANGE (overflow or underflow). */
static bool number_value(const char *s, size_t n, double *v)
{
    char buf[128];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    return errno != ERANGE && end == buf + n && isfinite(*v);
}

/* ---- durations -------------------------------------------------------------------------- */

int units_duration(const char *s, int64_t *us, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, false, &point) : 0;
    if (n == 0) {
        *err = DURATION_EXPECTED;
        return -1;
    }
    const char *unit = s + n;
    const struct unit *u = NULL;
    if (*unit) {
        for (u = duration_units; u->name; u++)
            if (strcmp(unit, u->name) == 0)
                break;
        if (!u->name) {
            *err = DURATION_EXPECTED;
            return -1;
        }
    }
    double v;
    if (!number_value(s, n, &v)) {
        *err = "is too large: durations go up to 106751991d";
        return -1;
    }
    if (v == 0) {                     /* "0", "0s", "-0" */
        *us = 0;
        return 0;
    }
    if (!u) {
        *err = "needs a unit: " DURATION_EXPECTED;
        return -1;
    }
    if (v < 0) {
        *err = "must not be negative";
        return -1;
    }
    if (!point) {                     /* exact integer arithmetic, no rounding through double */
        errno = 0;
        long long whole = strtoll(s, NULL, 10);
        if (errno == ERANGE || whole > INT64_MAX / u->us) {
            *err = "is too large: durations go up to 106751991d";
            return -1;
        }
        *us = (int64_t)whole * u->us;
        return 0;
    }
    double x = v * (double)u->us;
    if (!(x < 9223372036854775808.0)) {           /* 2^63 */
        *err = "is too large: durations go up to 106751991d";
        return -1;
    }
    double r = nearbyint(x);
    if (fabs(x - r) > fmax(1e-3, x * 1e-12)) {
        *err = "is finer than a microsecond, the simulator's resolution";
        return -1;
    }
    *us = (int64_t)r;
    return 0;
}

void units_format_duration(int64_t us, char *buf, size_t len)
{
    if (us == 0) {
        snprintf(buf, len, "0");
        return;
    }
    const struct unit *u = duration_units;
    while (us % u->us != 0)
        u++;                          /* "us" divides everything */
    snprintf(buf, len, "%lld%s", (long long)(us / u->us), u->name);
}

/* ---- rates ------------------------------------------------------------------------------ */

int units_rate(const char *s, struct rate *r, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, true, &point) : 0;
    if (n == 0) {
        *err = RATE_EXPECTED;
        return -1;
    }
    double v;
    if (!number_value(s, n, &v)) {
        *err = "is out of range";
        return -1;
    }
    const char *p = s + n;
    if (*p == '\0') {
        if (v == 0) {
            *r = (struct rate){ .per_s = 0, .per_node = false };
            return 0;
        }
        *err = "needs a unit: " RATE_EXPECTED;
        return -1;
    }
    if (*p++ != '/') {
        *err = RATE_EXPECTED;
        return -1;
    }
    bool per_node = strncmp(p, "node/", 5) == 0;
    if (per_node)
        p += 5;
    const struct unit *u;
    for (u = rate_units; u->name; u++)
        if (strcmp(p, u->name) == 0)
            break;
    if (!u->name) {
        *err = RATE_EXPECTED;
        return -1;
    }
    if (v < 0) {
        *err = "must not be negative";
        return -1;
    }
    r->per_s = v / (double)u->us;
    r->per_node = per_node;
    return 0;
}

void units_format_rate(struct rate r, char *buf, size_t len)
{
    const char *node = r.per_node ? "node/" : "";
    if (r.per_s == 0 && !r.per_node) {
        snprintf(buf, len, "0");
        return;
    }
    for (const struct unit *u = rate_units; u->name; u++) {
        double n = r.per_s * (double)u->us;
        if (n == nearbyint(n) && n / (double)u->us == r.per_s) {
            char num[40];
            units_format_double(n, num, sizeof num);
            snprintf(buf, len, "%s/%s%s", num, node, u->name);
            return;
        }
    }
    char num[40];                     /* no whole count in any unit: exact per second */
    units_format_double(r.per_s, num, sizeof num);
    snprintf(buf, len, "%s/%ss", num, node);
}

/* ---- fractions, numbers, booleans -------------------------------------------------------- */

int units_fraction(const char *s, double *f, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, true, &point) : 0;
    double v;
    if (n == 0 || (s[n] != '\0' && strcmp(s + n, "%") != 0)) {
        *err = "expected a fraction such as 50% or 0.5";
        return -1;
    }
    if (!number_value(s, n, &v)) {
        *err = "is out of range";
        return -1;
    }
    if (s[n] == '%')
        v /= 100;
    if (!(v >= 0 && v <= 1)) {
        *err = "must be between 0 and 1 (0% to 100%)";
        return -1;
    }
    *f = v;
    return 0;
}

int units_int(const char *s, int64_t *v, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, false, &point) : 0;
    if (n == 0 || point || s[n] != '\0') {
        bool real;
        size_t m = s ? scan_number(s, true, &real) : 0;
        bool exp = m > 0 && s[m] == '\0' && (strchr(s, 'e') || strchr(s, 'E'));
        *err = exp ? "must be a whole number written in digits, such as 1000000, not with an "
                     "exponent" : "must be a whole number";
        return -1;
    }
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno == ERANGE) {
        *err = "is out of range";
        return -1;
    }
    *v = (int64_t)x;
    return 0;
}

/* ---- bandwidths ----------------------------------------------------------------------------- */

#define BANDWIDTH_EXPECTED "expected a bandwidth such as 512kbit/s, 10Mbit/s, 1Gbit/s or 2MB/s"

struct bw_unit {
    const char *name;
    double bytes;                     /* bytes per second per unit */
};

/* The formatter tries these in order and takes the first that gives a whole number. */
static const struct bw_unit bw_units[] = {
    { "Gbit/s", 1e9 / 8 }, { "Mbit/s", 1e6 / 8 }, { "kbit/s", 1e3 / 8 }, { "bit/s", 1.0 / 8 },
    { "GB/s", 1e9 }, { "MB/s", 1e6 }, { "kB/s", 1e3 }, { "GiB/s", 1073741824.0 },
    { "MiB/s", 1048576.0 }, { "KiB/s", 1024.0 }, { "B/s", 1.0 }, { NULL, 0 },
};

int units_bandwidth(const char *s, double *bytes_per_s, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, true, &point) : 0;
    double v;
    if (n == 0) {
        *err = BANDWIDTH_EXPECTED;
        return -1;
    }
    if (!number_value(s, n, &v)) {
        *err = "is out of range";
        return -1;
    }
    const struct bw_unit *u = bw_units;
    while (u->name && strcmp(s + n, u->name) != 0)
        u++;
    if (!u->name) {
        *err = s[n] ? BANDWIDTH_EXPECTED : "needs a unit: " BANDWIDTH_EXPECTED;
        return -1;
    }
    double b = v * u->bytes;
    if (!(b > 0)) {
        *err = "must be more than 0";
        return -1;
    }
    if (!(b <= 1e15)) {
        *err = "is too large: at most 8000Tbit/s (1e15 B/s)";
        return -1;
    }
    *bytes_per_s = b;
    return 0;
}

void units_format_bandwidth(double bytes_per_s, char *buf, size_t len)
{
    for (const struct bw_unit *u = bw_units; u->name; u++) {
        double n = bytes_per_s / u->bytes;
        if (n >= 1 && n == nearbyint(n) && n < 1e15 && n * u->bytes == bytes_per_s) {
            snprintf(buf, len, "%.0f%s", n, u->name);
            return;
        }
    }
    char num[40];                     /* no whole count in any unit: exact bytes per second */
    units_format_double(bytes_per_s, num, sizeof num);
    snprintf(buf, len, "%sB/s", num);
}

int units_double(const char *s, double *v, const char **err)
{
    bool point;
    size_t n = s ? scan_number(s, true, &point) : 0;
    if (n == 0 || s[n] != '\0') {
        *err = "must be a number";
        return -1;
    }
    if (!number_value(s, n, v)) {
        *err = "is out of range";
        return -1;
    }
    return 0;
}

int units_bool(const char *s, bool *v, const char **err)
{
    static const char *const words[][2] = {
        { "true", "false" }, { "yes", "no" }, { "on", "off" },
    };
    for (size_t i = 0; s && i < sizeof words / sizeof words[0]; i++)
        for (int k = 0; k < 2; k++)
            if (strcasecmp(s, words[i][k]) == 0) {
                *v = k == 0;
                return 0;
            }
    *err = "must be true or false (or yes/no, on/off)";
    return -1;
}

void units_format_double(double v, char *buf, size_t len)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* "1e+05" reads back, but a whole number below 10^15 is plainer written out. */
    if (strchr(tmp, 'e') && fabs(v) >= 1 && fabs(v) < 1e15)
        snprintf(tmp, sizeof tmp, "%.0f", v);
    snprintf(buf, len, "%s", tmp);
}
