/* trace.c — the lines of a trace (see trace.h). */
#include "sim/trace.h"

#include <inttypes.h>
#include <string.h>

#include "protocols/protocol.h"

static const char *const outcome_name[OUTCOME_COUNT] = {
    [OUTCOME_OK] = "OK", [OUTCOME_WRONG_OWNER] = "WRONG_OWNER", [OUTCOME_NOT_FOUND] = "NOT_FOUND",
    [OUTCOME_TIMEOUT] = "TIMEOUT", [OUTCOME_TTL_EXPIRED] = "TTL_EXPIRED",
    [OUTCOME_ORIGIN_LEFT] = "ORIGIN_LEFT",
};

void trace_init(struct trace *t, const struct trace_opts *o, const struct protocol *p,
                int64_t warmup_us)
{
    *t = (struct trace){ .o = *o, .proto = p, .warmup_us = warmup_us };
    if (t->o.lookups > TRACE_LOOKUPS_MAX)
        t->o.lookups = TRACE_LOOKUPS_MAX;
}

static bool followed(const struct trace *t, uint32_t lookup)
{
    for (uint32_t k = 0; k < t->n_id; k++)
        if (t->id[k] == lookup)
            return true;
    return false;
}

bool trace_wants(const struct trace *t, int64_t now, uint32_t lookup)
{
    if (t->o.window && now >= t->o.from_us && now < t->o.to_us)
        return true;
    return lookup != LOOKUP_NONE && followed(t, lookup);
}

static void stamp(struct trace *t, int64_t now)
{
    fprintf(t->o.out, "%12.6fs  ", (double)now / 1e6);
    t->lines++;
}

static const char *msg_name(const struct trace *t, uint16_t type, char *buf, size_t len)
{
    if (type == MSG_INTRODUCER_REPLY)
        return "INTRODUCER_REPLY";
    if (t->proto->msg_names && type < t->proto->n_msg_names && t->proto->msg_names[type]) {
        /* a table may name its types by their enum constants: "CHORD_MSG_FIND_REQ" */
        const char *name = t->proto->msg_names[type], *tail = strstr(name, "_MSG_");
        return tail ? tail + 5 : name;
    }
    snprintf(buf, len, "type %u", type);
    return buf;
}

void trace_lookup_start(struct trace *t, int64_t now, uint32_t lookup, node_t origin,
                        uint64_t origin_id, uint64_t key)
{
    bool follow = now >= t->warmup_us && t->n_id < t->o.lookups;
    if (follow)
        t->id[t->n_id++] = lookup;
    if (!follow && !(t->o.window && now >= t->o.from_us && now < t->o.to_us))
        return;
    stamp(t, now);
    fprintf(t->o.out, "lookup %" PRIu32 " starts at n%" PRIu32 " [%08" PRIx32 "] for key [%08"
            PRIx32 "]\n", lookup, origin, (uint32_t)(origin_id >> 32), (uint32_t)(key >> 32));
}

void trace_lookup_end(struct trace *t, int64_t now, uint32_t lookup, enum outcome o,
                      uint32_t hops, struct addr answer, int64_t started_us)
{
    if (!trace_wants(t, now, lookup))
        return;
    stamp(t, now);
    fprintf(t->o.out, "lookup %" PRIu32 " ends %s after %.1f ms", lookup, outcome_name[o],
            (double)(now - started_us) / 1e3);
    if (o == OUTCOME_OK || o == OUTCOME_WRONG_OWNER)
        fprintf(t->o.out, ", %" PRIu32 " hops, answer n%" PRIu32, hops, answer.slot);
    fputc('\n', t->o.out);
}

void trace_msg(struct trace *t, int64_t now, const char *what, node_t from, node_t to,
               uint64_t to_id, uint16_t type, uint8_t cat, uint32_t size, uint32_t lookup)
{
    if (!trace_wants(t, now, lookup))
        return;
    char buf[32];
    stamp(t, now);
    fprintf(t->o.out, "%-4s  n%-7" PRIu32 " -> n%-7" PRIu32 " [%08" PRIx32 "]  %-22s %6" PRIu32
            " B  %s", what, from, to, (uint32_t)(to_id >> 32), msg_name(t, type, buf, sizeof buf),
            size, cat == CAT_LOOKUP ? "lookup" : "maint");
    if (lookup != LOOKUP_NONE)
        fprintf(t->o.out, " %" PRIu32, lookup);
    fputc('\n', t->o.out);
}

void trace_timeout(struct trace *t, int64_t now, node_t node, node_t dst, uint16_t type,
                   uint32_t lookup)
{
    if (!trace_wants(t, now, lookup))
        return;
    char buf[32];
    stamp(t, now);
    fprintf(t->o.out, "tmo   n%-7" PRIu32 " no answer from n%" PRIu32 " to %s", node, dst,
            msg_name(t, type, buf, sizeof buf));
    if (lookup != LOOKUP_NONE)
        fprintf(t->o.out, " (lookup %" PRIu32 ")", lookup);
    fputc('\n', t->o.out);
}

void trace_node(struct trace *t, int64_t now, const char *what, node_t n, uint64_t id)
{
    if (!(t->o.window && now >= t->o.from_us && now < t->o.to_us))
        return;
    stamp(t, now);
    fprintf(t->o.out, "node  n%" PRIu32 " [%08" PRIx32 "] %s\n", n, (uint32_t)(id >> 32), what);
}
