/* churn.h — session and downtime processes: when each node comes and goes. */
#ifndef P2PLAB_CHURN_H
#define P2PLAB_CHURN_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "sim/scenario.h"

#define CHURN_NEVER INT64_MAX

/* One draw from d, in microseconds (at least 1); CHURN_NEVER for DIST_NONE. */
int64_t churn_sample(gsl_rng *r, const struct dist *d);

#endif
