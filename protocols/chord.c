/* chord.c — Chord (Stoica, Morris, Karger, Kaashoek, Balakrishnan, SIGCOMM 2001 / ToN 2003).
 * PLACEHOLDER: parameter table only; the mechanism is being written. */
#include "protocols/protocol.h"

static const struct param chord_params[] = {
    { .name = "successors", .type = PARAM_INT, .def = "16", .min = 1, .max = 64,
      .doc = "successor-list length r; the paper uses r = O(log N) (16)" },
    { .name = "stabilize", .type = PARAM_DURATION, .def = "30s", .min = 0.001, .max = 86400,
      .doc = "mean stabilize period, each round jittered in [0.5, 1.5]x (paper: randomized, 30 s mean)" },
    { .name = "fix_fingers", .type = PARAM_DURATION, .def = "60s", .min = 0.001, .max = 86400,
      .doc = "period of a finger-refresh round that re-looks-up every distinct finger" },
    { .name = "check_predecessor", .type = PARAM_DURATION, .def = "30s", .min = 0.001, .max = 86400,
      .doc = "period of the predecessor liveness ping" },
    { .name = "mode", .type = PARAM_ENUM, .def = "iterative", .choices = "iterative|recursive",
      .doc = "lookup style: the origin asks each hop (iterative) or each hop forwards (recursive)" },
    { .name = "timeout", .type = PARAM_DURATION, .def = "1s", .min = 0.001, .max = 600,
      .doc = "RPC timeout after which a silent node is taken as failed" },
    { .name = "replicas", .type = PARAM_INT, .def = "1", .min = 1, .max = 64,
      .doc = "keys are stored on this many successive successors (1 = no replication)" },
    { .name = NULL },
};

const struct protocol chord_protocol = {
    .name = "chord",
    .summary = "Chord: 64-bit ring, fingers, successor list, stabilization",
    .paper = "Stoica et al., Chord: a scalable peer-to-peer lookup service, SIGCOMM 2001",
    .params = chord_params,
    .keys = KEYS_SUCCESSOR,
};
