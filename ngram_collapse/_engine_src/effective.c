/*
 * Per-id sums over a corpus in text order for ngram_collapse.orders: effective, the effective counts
 * from what units (units.c) found, and sequence_counts, the number of sequences holding every id.
 */
#include "engine.h"

const char effective_doc[] = PyDoc_STR(
"effective(ids, offsets, cycles, rho, linked, follow, after, same, out)\n\n"
"The effective counts (float64 out, per id, zeroed by the caller) from what units() found, over the\n"
"same P positions: every word occurrence at position p adds 1 - R_p, where R_p is 1 if same[p], else\n"
"after[p] * min(follow[p] + mass[p], 1): follow[p] = follow[k] for the row k of linked (int64, two\n"
"per row) whose first column is p (0 if none), and mass[p] = the sum of rho[k] over the rows\n"
"(a, b) of cycles with a <= p < b, accumulated in text order exactly as numpy's\n"
"cumsum(bincount(a, rho) - bincount(b, rho)). Occurrences add in text order, as numpy's bincount.");

PyObject *effective(PyObject *self, PyObject *args) {
    PyObject *o[9];
    if (!PyArg_ParseTuple(args, "OOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8]))
        return NULL;
    static const char *names[9] = {"ids", "offsets", "cycles", "rho", "linked", "follow", "after", "same", "out"};
    static const char kinds[9] = {'i', 'i', 'i', 'f', 'i', 'f', 'f', 'u', 'f'};
    static const Py_ssize_t sizes[9] = {4, 8, 8, 8, 8, 8, 8, 1, 8};
    Py_buffer v[9] = {{0}};
    for (int k = 0; k < 9; k++)
        if (get_buffer(o[k], &v[k], names[k], kinds[k], sizes[k], k == 8) < 0) {
            release(v, 9);
            return NULL;
        }
    const int32_t *ids = v[0].buf;
    const int64_t *offsets = v[1].buf, *cycles = v[2].buf, *linked = v[4].buf;
    const double *rho = v[3].buf, *follow = v[5].buf, *after = v[6].buf;
    const uint8_t *same = v[7].buf;
    double *out = v[8].buf;
    int64_t N = nitems(&v[0]), S = nitems(&v[1]) - 1, P = N + S, n_cycles = nitems(&v[3]),
            n_linked = nitems(&v[5]), V = nitems(&v[8]);
    int ok = S >= 0 && offsets[0] == 0 && offsets[S] == N && nitems(&v[2]) == 2 * n_cycles &&
             nitems(&v[4]) == 2 * n_linked && nitems(&v[6]) == P && nitems(&v[7]) == P;
    for (int64_t s = 0; ok && s < S; s++) ok = offsets[s] <= offsets[s + 1];
    for (int64_t i = 0; ok && i < N; i++) ok = ids[i] >= 0 && ids[i] < V;
    for (int64_t k = 0; ok && k < 2 * n_cycles; k++) ok = cycles[k] >= 0 && cycles[k] < P;
    for (int64_t k = 0; ok && k < 2 * n_linked; k++) ok = linked[k] >= 0 && linked[k] < P;
    if (!ok) {
        release(v, 9);
        PyErr_SetString(PyExc_ValueError, "effective: inconsistent arguments");
        return NULL;
    }
    struct { double opened, closed, follow; } *route = big_alloc((size_t)P * sizeof *route);
    if (!route) {
        release(v, 9);
        return PyErr_NoMemory();
    }
    memset(route, 0, (size_t)P * sizeof *route);
    for (int64_t k = 0; k < n_cycles; k++) {
        route[cycles[2 * k]].opened += rho[k];
        route[cycles[2 * k + 1]].closed += rho[k];
    }
    for (int64_t k = 0; k < n_linked; k++) route[linked[2 * k]].follow = follow[k];
    double mass = 0.0;
    for (int64_t s = 0, p = 0; s < S; s++, p++) { /* the last position of a sequence emits </s> */
        for (int64_t i = offsets[s]; i < offsets[s + 1]; i++, p++) {
            mass += route[p].opened - route[p].closed;
            double back = route[p].follow;
            back += mass;
            if (back > 1.0) back = 1.0; /* numpy's minimum (a NaN would stay) */
            back *= after[p];
            if (same[p]) back = 1.0;
            out[ids[i]] += 1.0 - back;
        }
        mass += route[p].opened - route[p].closed;
    }
    free(route);
    release(v, 9);
    Py_RETURN_NONE;
}

const char sequence_counts_doc[] = PyDoc_STR(
"sequence_counts(ids, offsets, out)\n\n"
"For every id, the number of the sequences ids[offsets[s]:offsets[s+1]] (int32 ids, int64 offsets)\n"
"that hold it, written to out (int64, one per id; every id must be below its size).");

PyObject *sequence_counts(PyObject *self, PyObject *args) {
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Py_buffer v[3] = {{0}};
    if (get_buffer(o[0], &v[0], "ids", 'i', 4, 0) < 0 || get_buffer(o[1], &v[1], "offsets", 'i', 8, 0) < 0 ||
        get_buffer(o[2], &v[2], "out", 'i', 8, 1) < 0) {
        release(v, 3);
        return NULL;
    }
    const int32_t *ids = v[0].buf;
    const int64_t *offsets = v[1].buf;
    int64_t *out = v[2].buf;
    int64_t N = nitems(&v[0]), S = nitems(&v[1]) - 1, V = nitems(&v[2]);
    int ok = S >= 0 && offsets[0] == 0 && offsets[S] == N;
    for (int64_t s = 0; ok && s < S; s++) ok = offsets[s] <= offsets[s + 1];
    for (int64_t i = 0; ok && i < N; i++) ok = ids[i] >= 0 && ids[i] < V;
    int64_t *last = ok ? malloc((size_t)(V ? V : 1) * 8) : NULL; /* the last sequence holding every id */
    if (last) {
        for (int64_t w = 0; w < V; w++) out[w] = 0, last[w] = -1;
        for (int64_t s = 0; s < S; s++)
            for (int64_t i = offsets[s]; i < offsets[s + 1]; i++)
                if (last[ids[i]] != s) last[ids[i]] = s, out[ids[i]]++;
    }
    int counted = last != NULL;
    free(last);
    release(v, 3);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "sequence_counts: inconsistent arguments");
        return NULL;
    }
    if (!counted) return PyErr_NoMemory();
    Py_RETURN_NONE;
}
