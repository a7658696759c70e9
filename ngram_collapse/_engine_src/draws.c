/*
 * The draw tables of walk (walk.c), built per call from the weights of that call: narrow (32-bit,
 * engine.h) for integer weights that fit them, else 64-bit.
 *
 * The table's links (static, built once): for every entry, its word, and the first entry, size and
 * number of the context a walk goes to after drawing it. The weights of one call (built per call):
 * in a context of at most SMALL entries, the cumulative weights, searched linearly (entries are
 * ranked most frequent first); in a larger one, an alias table (Walker; Vose's construction),
 * exact in integers: bucket j in [0, n) is drawn uniformly, then v uniformly in [0, total), and the
 * entry is j if v < threshold[j], else alias[j]; entry i is then drawn with probability
 * (threshold[i] + sum over j aliased to i of (total - threshold[j])) / (n total) = weight[i] / total.
 */
#include "engine.h"

/* The alias table of one context (n > SMALL entries from lo), integer weights with total > 0. */
static void alias_int(weight_t *thr, uint32_t *alias, const int64_t *weight, int64_t lo, int64_t n, int64_t total,
                      unsigned __int128 *scaled, uint32_t *small, uint32_t *large) {
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = (unsigned __int128)weight[lo + i] * (uint64_t)n;
        if (scaled[i] < (unsigned __int128)total) small[ns++] = (uint32_t)i;
        else large[nl++] = (uint32_t)i;
    }
    while (ns && nl) {
        uint32_t l = small[--ns], g = large[nl - 1];
        thr[lo + l].i = (int64_t)scaled[l];
        alias[lo + l] = (uint32_t)(lo + g);
        scaled[g] -= (uint64_t)total - (uint64_t)scaled[l];
        if (scaled[g] < (unsigned __int128)total) {
            nl--;
            small[ns++] = g;
        }
    }
    /* exact arithmetic: what is left has exactly `total` each */
    while (ns) thr[lo + small[--ns]].i = total;
    while (nl) thr[lo + large[--nl]].i = total;
}

/* The same with double weights; zero weights go first so that they are always aliased away. */
static void alias_float(weight_t *thr, uint32_t *alias, const double *weight, int64_t lo, int64_t n, double total,
                        double *scaled, uint32_t *small, uint32_t *large) {
    int64_t ns = 0, nl = 0, best = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = weight[lo + i] * (double)n;
        if (weight[lo + i] > weight[lo + best]) best = i;
        if (scaled[i] >= total) large[nl++] = (uint32_t)i;
        else if (scaled[i] > 0.0) small[ns++] = (uint32_t)i;
    }
    for (int64_t i = 0; i < n; i++)
        if (scaled[i] == 0.0) small[ns++] = (uint32_t)i;
    while (ns && nl) {
        uint32_t l = small[--ns], g = large[nl - 1];
        thr[lo + l].f = scaled[l];
        alias[lo + l] = (uint32_t)(lo + g);
        scaled[g] -= total - scaled[l];
        if (scaled[g] < total) {
            nl--;
            small[ns++] = g;
        }
    }
    while (nl) thr[lo + large[--nl]].f = total;
    while (ns) { /* rounding leftovers: accepted, except a zero weight (never drawn) */
        uint32_t l = small[--ns];
        thr[lo + l].f = weight[lo + l] > 0.0 ? total : 0.0;
        alias[lo + l] = (uint32_t)(lo + best);
    }
}

/* The per-call draw tables for the given weights (int64 if !floating, else double): thr (cumulative
 * weights or alias thresholds), alias, and every context's total. Returns 0, or -1 with an exception. */
int build_draws(weight_t *thr, uint32_t *alias, weight_t *totals, const int64_t *first, int64_t C,
                const void *weights, int floating) {
    const int64_t *iw = weights;
    const double *fw = weights;
    int64_t widest = widest_context(first, C);
    void *scaled = malloc((size_t)widest * (floating ? sizeof(double) : sizeof(unsigned __int128)));
    uint32_t *small = malloc((size_t)widest * 4), *large = malloc((size_t)widest * 4);
    if (!scaled || !small || !large) {
        free(scaled); free(small); free(large);
        PyErr_NoMemory();
        return -1;
    }
    for (int64_t c = 0; c < C; c++) {
        int64_t lo = first[c], n = first[c + 1] - lo;
        if (floating) {
            double total = 0.0;
            for (int64_t e = lo; e < lo + n; e++) thr[e].f = total += fw[e];
            totals[c].f = total;
            if (n > SMALL && total > 0.0) alias_float(thr, alias, fw, lo, n, total, scaled, small, large);
        } else {
            int64_t total = 0;
            for (int64_t e = lo; e < lo + n; e++) thr[e].i = total += iw[e];
            totals[c].i = total;
            if (n > SMALL && total > 0) alias_int(thr, alias, iw, lo, n, total, scaled, small, large);
        }
    }
    free(scaled); free(small); free(large);
    return 0;
}

/* alias_int's table for narrow tables, in 64 bits (total < 2**32 and n < 2**31, so weight * n < 2**63),
 * straight to the cells of the context's entries lo .. lo + n - 1 (threshold, alias). */
static void alias_narrow(uint64_t *cell, const uint64_t *weight, int64_t lo, int64_t n, uint64_t total,
                         uint64_t *scaled, uint32_t *small, uint32_t *large) {
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = weight[i] * (uint64_t)n;
        if (scaled[i] < total) small[ns++] = (uint32_t)i;
        else large[nl++] = (uint32_t)i;
    }
    while (ns && nl) {
        uint32_t l = small[--ns], g = large[nl - 1];
        cell[lo + l] = (uint64_t)(lo + g) << 32 | scaled[l];
        scaled[g] -= total - scaled[l];
        if (scaled[g] < total) {
            nl--;
            small[ns++] = g;
        }
    }
    /* exact arithmetic: what is left has exactly `total` each (and is never aliased) */
    while (ns) {
        const uint32_t l = small[--ns];
        cell[lo + l] = (uint64_t)(lo + l) << 32 | total;
    }
    while (nl) {
        const uint32_t g = large[--nl];
        cell[lo + g] = (uint64_t)(lo + g) << 32 | total;
    }
}

/* Fill the narrow tables (see engine.h) for the integer weights. Returns 0; 1 if a weight is
 * negative or a context's total exceeds 32 bits (the tables are then not to be used); -1 with an
 * exception. */
int build_narrow(uint32_t *cum, uint64_t *cell, const int64_t *first, int64_t C, const int64_t *weights) {
    int64_t widest = widest_context(first, C);
    uint64_t *scaled = malloc((size_t)widest * sizeof *scaled);
    uint32_t *small = malloc((size_t)widest * 4), *large = malloc((size_t)widest * 4);
    int result = 0;
    if (!scaled || !small || !large) {
        PyErr_NoMemory();
        result = -1;
        goto done;
    }
    const int64_t D = first[C];
    for (int64_t c = 0; c < C; c++) {
        const int64_t lo = first[c], n = first[c + 1] - lo;
        const uint64_t *w = (const uint64_t *)weights + lo;
        uint32_t *head = cum + lo + c, *entry = head + 1;
        uint64_t total, bits; /* every weight or'ed: beyond 32 bits (or negative) if its high half is not 0 */
        if (n <= 4 && lo + 4 <= D) {
            /* most contexts: without a loop, whose end a branch would often miss; the weights past
             * the context count 0, and the sums written past it are overwritten by the next ones */
            const uint64_t w0 = w[0] & -(uint64_t)(n > 0), w1 = w[1] & -(uint64_t)(n > 1),
                           w2 = w[2] & -(uint64_t)(n > 2), w3 = w[3] & -(uint64_t)(n > 3);
            bits = w0 | w1 | w2 | w3;
            entry[0] = (uint32_t)w0;
            entry[1] = (uint32_t)(w0 + w1);
            entry[2] = (uint32_t)(w0 + w1 + w2);
            entry[3] = (uint32_t)(total = w0 + w1 + w2 + w3);
        } else {
            total = bits = 0;
            for (int64_t i = 0; i < n; i++) {
                bits |= w[i];
                entry[i] = (uint32_t)(total += w[i]);
            }
        }
        if ((bits | total) >> 32) { /* then no running sum overflowed 64 bits either */
            result = 1;
            goto done;
        }
        *head = (uint32_t)total;
        if (n > SMALL && total > 0) alias_narrow(cell, w, lo, n, total, scaled, small, large);
    }
done:
    free(scaled); free(small); free(large);
    return result;
}
