/*
 * Decoding transforms: transform, the weight of every entry of the table after temperature, top-k
 * and top-p (see NgramModel.sample).
 */
#include "engine.h"

/* ceil(p * total) for 0 < p <= 1 and total >= 1, exactly (p is a dyadic rational). */
static int64_t ceil_fraction(double p, int64_t total) {
    int x;
    double f = frexp(p, &x); /* p = f 2^x, 0.5 <= f < 1 */
    uint64_t mant = (uint64_t)ldexp(f, 53);
    int shift = 53 - x; /* p = mant / 2^shift, shift >= 52 */
    unsigned __int128 prod = (unsigned __int128)mant * (uint64_t)total;
    if (shift >= 128) return prod ? 1 : 0;
    unsigned __int128 q = prod >> shift;
    if ((q << shift) != prod) q += 1;
    return (int64_t)q;
}

const char transform_doc[] = PyDoc_STR(
"transform(counts, first, links, temperature, top_k, top_p, out)\n\n"
"The weight of every entry after the decoding transforms (see NgramModel.sample): top_k 0 and\n"
"top_p 1.0 mean no truncation. With temperature 1, out is int64 and holds the kept counts (exact);\n"
"otherwise out is float64 and holds (count / largest count in the context) ** (1 / temperature)\n"
"for the kept entries. Entries not kept weigh 0.");

PyObject *transform(PyObject *self, PyObject *args) {
    PyObject *o[4];
    double temperature, top_p;
    long long top_k;
    if (!PyArg_ParseTuple(args, "OOOdLdO", &o[0], &o[1], &o[2], &temperature, &top_k, &top_p, &o[3])) return NULL;
    int exact = temperature == 1.0;
    Py_buffer v[4] = {{0}};
    if (get_buffer(o[0], &v[0], "counts", 'i', 8, 0) < 0 || get_buffer(o[1], &v[1], "first", 'i', 8, 0) < 0 ||
        get_buffer(o[2], &v[2], "links", 'i', 4, 0) < 0 ||
        get_buffer(o[3], &v[3], "out", exact ? 'i' : 'f', 8, 1) < 0) {
        release(v, 4);
        return NULL;
    }
    const int64_t *counts = v[0].buf, *first = v[1].buf;
    const link_t *link = v[2].buf;
    int64_t C = nitems(&v[1]) - 1, D = nitems(&v[0]);
    if (C < 0 || nitems(&v[2]) != 4 * D || nitems(&v[3]) != D || first[C] != D) {
        release(v, 4);
        PyErr_SetString(PyExc_ValueError, "transform: inconsistent sizes");
        return NULL;
    }
    int64_t widest = widest_context(first, C);
    ranked *r = malloc((size_t)widest * sizeof *r);
    double *weight = malloc((size_t)widest * sizeof *weight);
    if (!r || !weight) {
        free(r); free(weight);
        release(v, 4);
        return PyErr_NoMemory();
    }
    int truncate = top_k > 0 || top_p < 1.0;
    double inv_t = 1.0 / temperature;
    for (int64_t c = 0; c < C; c++) {
        int64_t lo = first[c], hi = first[c + 1], n = 0, kept;
        for (int64_t e = lo; e < hi; e++)
            if (counts[e] > 0) {
                r[n].count = counts[e];
                r[n].word = link[e].word;
                r[n].entry = (uint32_t)(e - lo);
                n++;
            }
        if (n == 0) { /* never reached by a walk */
            if (exact) for (int64_t e = lo; e < hi; e++) ((int64_t *)v[3].buf)[e] = 0;
            else for (int64_t e = lo; e < hi; e++) ((double *)v[3].buf)[e] = 0.0;
            continue;
        }
        if (truncate) sort_ranked(r, n);
        kept = top_k > 0 && top_k < n ? top_k : n;
        int64_t largest = 0;
        for (int64_t i = 0; i < n; i++) if (r[i].count > largest) largest = r[i].count;
        if (!exact)
            for (int64_t i = 0; i < kept; i++) weight[i] = pow((double)r[i].count / (double)largest, inv_t);
        if (top_p < 1.0) {
            int64_t m = 0;
            if (exact) {
                int64_t total = 0, s = 0;
                for (int64_t i = 0; i < kept; i++) total += r[i].count;
                int64_t need = ceil_fraction(top_p, total);
                while (s < need) s += r[m++].count;
            } else {
                double total = 0.0, s = 0.0;
                for (int64_t i = 0; i < kept; i++) total += weight[i];
                double need = top_p * total;
                while (m < kept && s < need) s += weight[m++];
            }
            kept = m;
        }
        /* the kept weights in entry order, 0 elsewhere */
        if (exact) {
            int64_t *out = (int64_t *)v[3].buf + lo;
            for (int64_t e = 0; e < hi - lo; e++) out[e] = 0;
            for (int64_t i = 0; i < kept; i++) out[r[i].entry] = r[i].count;
        } else {
            double *out = (double *)v[3].buf + lo;
            for (int64_t e = 0; e < hi - lo; e++) out[e] = 0.0;
            for (int64_t i = 0; i < kept; i++) out[r[i].entry] = weight[i];
        }
    }
    free(r);
    free(weight);
    release(v, 4);
    Py_RETURN_NONE;
}
