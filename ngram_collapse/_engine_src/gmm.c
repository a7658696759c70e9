/*
 * gmm_joint_ml: the joint maximum-likelihood fit of the symmetric Gaussian mixture, row by row
 * (ngram_collapse.continuous.gmm.joint_ml, whose docstring states the method; docs/theory.md §10.1-10.2).
 *
 * Each row y holds one sample scaled to unit second moment, mean(y^2) = 1. Along sigma^2 = 1 - t^2 the
 * profile log-likelihood rises where f(t) = mean(y tanh(t y / (1 - t^2))) - t > 0. The fit looks for the
 * sign changes of f from + to - on a grid of equally spaced points in (0, 1), refines each one by Newton steps
 * with a bisection safeguard, and keeps the candidate (t = 0 or a root) of highest likelihood. The
 * numpy version of this method, one step for all rows at a time, was the slowest part of Figure 13's
 * simulation; here each row is one short loop.
 */
#include "engine.h"

#define GMM_MAX_ITERATIONS 200
#define GMM_TOL 1e-14

/* tanh(x) from one exp: (1 - e) / (1 + e) with e = exp(-2|x|), to a few ulps; twice as fast as libm's. */
static inline double gmm_tanh(double x) {
    double e = exp(-2.0 * fabs(x)), r = (1.0 - e) / (1.0 + e);
    return x < 0 ? -r : r;
}

/* f(t) and f'(t) for one row. */
static void gmm_score(const double *y, int64_t n, double t, double *f, double *df) {
    double s2 = 1.0 - t * t, a = t / s2, sf = 0.0, sdf = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double th = gmm_tanh(y[i] * a);
        sf += y[i] * th;
        sdf += y[i] * y[i] * (1.0 - th * th);
    }
    *f = sf / (double)n - t;
    *df = (1.0 + t * t) / (s2 * s2) * (sdf / (double)n) - 1.0;
}

/* The log-likelihood (up to a constant) of (mu, sigma^2) = (t, 1 - t^2) for one row. */
static double gmm_loglik(const double *y, int64_t n, double t) {
    double s2 = 1.0 - t * t, a = t / s2, logcosh = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double z = fabs(y[i] * a);
        logcosh += z + log1p(exp(-2.0 * z));
    }
    return -0.5 * (double)n * log(s2) + logcosh - 0.5 * (double)n * (1.0 + t * t) / s2;
}

/* The root of f in (lo, hi), where f(lo) = f_lo > 0 >= f(hi) = f_hi: Newton steps from where the chord
 * crosses 0 (from the middle of the bracket when an end is 0 or 1, where f is only known by its sign,
 * and from `start` = mean|y| in the last bracket when it lies there, since f(t) -> mean|y| - t as
 * t -> 1), bisection whenever a step leaves the bracket. */
static double gmm_root(const double *y, int64_t n, double lo, double hi, double f_lo, double f_hi, double start) {
    double t = (lo > 0.0 && hi < 1.0) ? lo + (hi - lo) * f_lo / (f_lo - f_hi) : 0.5 * (lo + hi);
    if (hi == 1.0 && start > lo && start < 1.0) t = start;
    double root = t;
    for (int it = 0; it < GMM_MAX_ITERATIONS; it++) {
        double f, df;
        gmm_score(y, n, t, &f, &df);
        if (f > 0) lo = t;
        else hi = t;
        double newton = t - f / df; /* NaN or infinite when df = 0: then it is not inside */
        double next = (newton > lo && newton < hi) ? newton : 0.5 * (lo + hi);
        root = f == 0 ? t : next;
        if (fabs(next - t) <= GMM_TOL || hi - lo <= GMM_TOL || f == 0) break;
        t = next;
    }
    return root;
}

/* t for one row: 0, a root of f, or 1 when all |y_i| are equal (collapsed to sigma = 0). The grid has
 * `grid` points edge[1..grid] = j / (grid + 1), with edge[0] = 0 and edge[grid + 1] = 1, and
 * a[j] = edge[j + 1] / (1 - edge[j + 1]^2); value has room for grid + 2 numbers. */
static double gmm_fit_row(const double *y, int64_t n, int grid, const double *edge, const double *a,
                          double *value) {
    double abs_mean = 0.0, m4 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        abs_mean += fabs(y[i]);
        m4 += y[i] * y[i] * y[i] * y[i];
    }
    abs_mean /= (double)n;
    if (abs_mean >= 1.0 - GMM_TOL) return 1.0;
    value[0] = 3.0 - m4 / (double)n; /* f ~ (3 - m4) t^3 / 6 just above 0 */
    /* y tanh(y a) = |y| tanh(|y| a): one pass over the row, the grid's sums side by side */
    for (int j = 1; j <= grid; j++) value[j] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double ay = fabs(y[i]);
        for (int j = 0; j < grid; j++) value[j + 1] += ay * gmm_tanh(ay * a[j]);
    }
    for (int j = 1; j <= grid; j++) value[j] = value[j] / (double)n - edge[j];
    value[grid + 1] = -1.0; /* f tends to mean|y| - 1 <= 0 at 1-, where it is not defined */
    double best_t = 0.0, best = -INFINITY;
    for (int j = 0; j <= grid; j++) {
        if (!(value[j] > 0 && value[j + 1] <= 0)) continue;
        double t = gmm_root(y, n, edge[j], edge[j + 1], value[j], value[j + 1], abs_mean);
        double ll = gmm_loglik(y, n, t);
        if (ll >= best) { /* equal likelihoods: the larger root */
            best = ll;
            best_t = t;
        }
    }
    return best > gmm_loglik(y, n, 0.0) ? best_t : 0.0;
}

const char gmm_joint_ml_doc[] = PyDoc_STR(
"gmm_joint_ml(y, grid, out)\n\n"
"For every row of y (float64, shape (rows, n) read flat, each row scaled to mean(y^2) = 1), the t in\n"
"[0, 1] of the symmetric mixture's joint ML fit (mu, sigma) = (t, sqrt(1 - t^2)), looking for roots on\n"
"`grid` interior points (1 to 10,000); written to out (float64, shape (rows,)).");

PyObject *gmm_joint_ml(PyObject *self, PyObject *args) {
    PyObject *o[2];
    int grid;
    if (!PyArg_ParseTuple(args, "OiO", &o[0], &grid, &o[1])) return NULL;
    if (grid < 1 || grid > 10000) {
        PyErr_SetString(PyExc_ValueError, "gmm_joint_ml: grid must be between 1 and 10,000");
        return NULL;
    }
    Py_buffer v[2] = {{0}};
    if (get_buffer(o[0], &v[0], "y", 'f', 8, 0) < 0 || get_buffer(o[1], &v[1], "out", 'f', 8, 1) < 0) {
        release(v, 2);
        return NULL;
    }
    const double *y = v[0].buf;
    double *out = v[1].buf;
    int64_t rows = nitems(&v[1]), size = nitems(&v[0]);
    if (rows == 0 || size == 0 || size % rows != 0) {
        release(v, 2);
        PyErr_SetString(PyExc_ValueError, "gmm_joint_ml: y must hold rows * n values with n >= 1");
        return NULL;
    }
    int64_t n = size / rows;
    double *work = malloc((size_t)(3 * grid + 4) * sizeof(double));
    if (!work) {
        release(v, 2);
        return PyErr_NoMemory();
    }
    double *edge = work, *a = work + grid + 2, *value = work + 2 * grid + 2;
    edge[0] = 0.0;
    edge[grid + 1] = 1.0;
    for (int j = 1; j <= grid; j++) {
        double g = (double)j / (grid + 1);
        edge[j] = g;
        a[j - 1] = g / (1.0 - g * g);
    }
    Py_BEGIN_ALLOW_THREADS
    for (int64_t r = 0; r < rows; r++) out[r] = gmm_fit_row(y + r * n, n, grid, edge, a, value);
    Py_END_ALLOW_THREADS
    free(work);
    release(v, 2);
    Py_RETURN_NONE;
}
