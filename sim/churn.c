/* churn.c — sampling session and downtime lengths from the scenario's distributions (GSL).
 *
 * Distributions are given by mean or median and a shape; the parser derives the other, and the
 * GSL parameters come from the median where that is exact:
 *   exponential  mean                     weibull    scale = median / ln(2)^(1/k), shape k
 *   pareto       x_m = median / 2^(1/a)   lognormal  mu = ln(median), sigma = shape        */
#include "sim/churn.h"

#include <math.h>

#include <gsl/gsl_randist.h>

int64_t churn_sample(gsl_rng *r, const struct dist *d)
{
    double us;
    switch (d->kind) {
    case DIST_NONE:
        return CHURN_NEVER;
    case DIST_CONSTANT:
        us = (double)d->mean_us;
        break;
    case DIST_EXPONENTIAL:
        us = gsl_ran_exponential(r, (double)d->mean_us);
        break;
    case DIST_WEIBULL:
        us = gsl_ran_weibull(r, (double)d->median_us / pow(log(2.0), 1.0 / d->shape), d->shape);
        break;
    case DIST_PARETO:
        us = gsl_ran_pareto(r, d->shape, (double)d->median_us / pow(2.0, 1.0 / d->shape));
        break;
    case DIST_LOGNORMAL:
        us = gsl_ran_lognormal(r, log((double)d->median_us), d->shape);
        break;
    default:
        return CHURN_NEVER;
    }
    if (!(us < 9.0e18))
        return CHURN_NEVER;
    return us < 1.0 ? 1 : (int64_t)us;
}
