/*
 * Walking: walk, drawing sequences from a count vector over the table, with the draw tables of
 * draws.c (the hot path of sampling).
 *
 * Lanes. A walk is a chain of dependent memory reads (the entry drawn says where the next draw
 * looks), so LANES sequences are walked at once, in turn, each step in two halves: draw the entry
 * (its link is then fetched from memory), and follow its link (the next context's draw table and
 * total are then fetched, an alias bucket drawn first), so that the reads of one lane overlap the
 * work of the others. Sequence s (numbered as started) records its draws in slot s % SLOTS;
 * sequences are committed to the output in their order, the one that reaches the budget is cut
 * there, and the draws of later ones are dropped. Which uniform numbers go to which sequence
 * depends only on numbers already drawn, so every sequence is still made of fresh independent
 * draws: the output is exactly whole sequences drawn one after another, the last one cut. A
 * sequence other than the first uncommitted one (the head) waits after AHEAD draws, which bounds
 * the memory and the work spent on sequences that a very long head makes useless; the head stops
 * at the budget, and its words are written out every FLUSH draws. LANES, SLOTS and AHEAD decide which
 * uniform numbers go to which sequence: changing them changes the sample of a seed.
 *
 * With integer weights whose context totals fit in 32 bits (counts always do), the draw tables are
 * narrow (engine.h): a context's total beside its cumulative weights, an alias threshold beside its
 * alias, so that a draw reads fewer lines, and fewer bytes stay in cache; the entries drawn, and so
 * the samples, are the same as with the 64-bit tables.
 */
#include "engine.h"

#define LANES 16
#define SLOTS 32 /* a power of 2, >= LANES */
#define AHEAD 16384
#define FLUSH 65536 /* words of an unfinished head kept before they are written out */

typedef struct {
    uint64_t *draws; /* entry << 32 | word, one per step, the last one </s> when finished */
    int64_t len, cap;
    int finished;
} slot_t;

typedef struct {
    int64_t seq;  /* -1: idle */
    int drawn;    /* 1: e is drawn, its link not yet followed */
    int64_t e, lo, n, at;
    uint32_t ctx;
    uint32_t spare; /* alias contexts: 32 random bits left from drawing the bucket */
} lane_t;

/* A uniform integer in [0, n), n >= 1, exactly: Lemire's multiply-and-reject. */
static inline uint64_t bounded(bitgen_t *g, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)g->next_uint64(g->state) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)g->next_uint64(g->state) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Lemire's method on 32-bit halves: a uniform integer in [0, n), 1 <= n < 2**32, from the 32 bits x
 * (uniform), drawing the high halves of new 64-bit outputs when x is rejected. */
static inline uint32_t bounded_half(bitgen_t *g, uint32_t x, uint32_t n) {
    uint64_t m = (uint64_t)x * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (0u - n) % n;
        while (low < threshold) {
            m = (g->next_uint64(g->state) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Enter context (lo, n, ctx): draw an alias bucket now and fetch what the draw will read. */
static inline void enter(lane_t *L, const weight_t *thr, const uint32_t *alias, const weight_t *totals,
                         bitgen_t *g, int64_t lo, int64_t n, uint32_t ctx) {
    L->lo = lo;
    L->n = n;
    L->ctx = ctx;
    __builtin_prefetch(&totals[ctx]);
    if (n > SMALL) { /* the bucket from the high half of a 64-bit output, the low half kept for the draw */
        uint64_t x = g->next_uint64(g->state);
        L->at = lo + bounded_half(g, (uint32_t)(x >> 32), (uint32_t)n);
        L->spare = (uint32_t)x;
        __builtin_prefetch(&thr[L->at]);
        __builtin_prefetch(&alias[L->at]);
    } else {
        L->at = lo;
        __builtin_prefetch(&thr[lo]);
    }
}

/* Draw in the lane's context: the entry, or -1 if the context has no weight (impossible for the
 * counts of sequences over a closed table). */
static inline int64_t draw(const lane_t *L, const weight_t *thr, const uint32_t *alias, const weight_t *totals,
                           bitgen_t *g, int floating) {
    int64_t e = L->at;
    weight_t total = totals[L->ctx];
    if (floating) {
        double u;
        if (!(total.f > 0.0)) return -1;
        do u = g->next_double(g->state) * total.f; while (u >= total.f);
        if (L->n > SMALL) {
            if (!(u < thr[e].f)) e = alias[e];
        } else {
            while (thr[e].f <= u) e++;
        }
    } else {
        if (total.i <= 0) return -1;
        if (L->n > SMALL && total.i <= UINT32_MAX) {
            if (bounded_half(g, L->spare, (uint32_t)total.i) >= thr[e].i) e = alias[e];
            return e;
        }
        int64_t u = (int64_t)bounded(g, (uint64_t)total.i);
        if (L->n > SMALL) {
            if (u >= thr[e].i) e = alias[e];
        } else {
            while (thr[e].i <= u) e++;
        }
    }
    return e;
}

/* enter() with the narrow tables (engine.h): the same draws, fetching the context's total, whose line
 * holds its first entries (the most frequent), and the bucket's cell, or the last entry's line. */
static inline void enter_narrow(lane_t *L, const uint32_t *cum, const uint64_t *cell, const link_t *link,
                                bitgen_t *g, int64_t lo, int64_t n, uint32_t ctx) {
    L->lo = lo;
    L->n = n;
    L->ctx = ctx;
    __builtin_prefetch(&cum[lo + ctx]);
    if (n > SMALL) {
        uint64_t x = g->next_uint64(g->state);
        L->at = lo + bounded_half(g, (uint32_t)(x >> 32), (uint32_t)n);
        L->spare = (uint32_t)x;
        __builtin_prefetch(&cell[L->at]);
        __builtin_prefetch(&link[L->at]);
    } else {
        __builtin_prefetch(&cum[lo + ctx + n]);
        __builtin_prefetch(&link[lo]);
    }
}

/* draw() with the narrow tables: the same uniform numbers and the same entry. */
static inline int64_t draw_narrow(const lane_t *L, const uint32_t *cum, const uint64_t *cell, bitgen_t *g) {
    const uint32_t *head = cum + L->lo + L->ctx, total = *head;
    if (total == 0) return -1;
    if (L->n > SMALL) {
        const uint64_t c = cell[L->at];
        return bounded_half(g, L->spare, total) < (uint32_t)c ? L->at : (int64_t)(c >> 32);
    }
    /* the first two entries (nearly always one of them: they are the most frequent) without a
     * branch, which would often miss */
    const uint64_t u = bounded(g, total);
    const unsigned two = (unsigned)(head[1] > u) | (unsigned)(head[1 + (L->n > 1)] > u) << 1;
    if (two) return L->lo + __builtin_ctz(two);
    int64_t i = 3;
    while (head[i] <= u) i++;
    return L->lo + i - 1;
}

/* The draw tables of one call: narrow (cum and cell), or else the 64-bit ones (thr, alias, totals). */
typedef struct {
    const uint32_t *cum, *alias;
    const uint64_t *cell;
    const weight_t *thr, *totals;
    int floating;
} tables_t;

/* What a walk writes beside ids and counts: the slots of its sequences and their offsets. */
typedef struct {
    slot_t slots[SLOTS];
    int64_t *offsets, cap, nseq;
} output_t;

/* The walk of walk() with the given tables (narrow or not), inlined once for each so that the loop
 * tests neither. 0, 1 if stuck, or -1 with an exception. */
static inline __attribute__((always_inline)) int run(const tables_t *t, const int narrow, const int64_t *first,
                                                     const link_t *link, int64_t start, int64_t budget, bitgen_t *g,
                                                     int32_t *ids, int64_t *counts, output_t *out) {
    const uint32_t *cum = t->cum, *alias = t->alias;
    const uint64_t *cell = t->cell;
    const weight_t *thr = t->thr, *totals = t->totals;
    const int floating = t->floating;
    slot_t *slots = out->slots;
    lane_t lanes[LANES];
    int64_t cap = out->cap, *offsets = out->offsets;
    const int64_t s_lo = first[start], s_n = first[start + 1] - s_lo;
    for (int k = 0; k < LANES; k++) lanes[k].seq = -1;
    int64_t committed = 0, nseq = 0, head = 0, next_seq = 0, pending = 0; /* pending: words of started,
                                                                             uncommitted sequences */
    offsets[0] = 0;
    while (committed < budget) {
        for (int k = 0; k < LANES; k++) {
            lane_t *L = &lanes[k];
            if (L->seq < 0) {
                if (next_seq == head + SLOTS || committed + pending >= budget) continue;
                L->seq = next_seq++;
                slot_t *S = &slots[L->seq & (SLOTS - 1)];
                S->len = 0;
                S->finished = 0;
                L->drawn = 0;
                if (narrow) enter_narrow(L, cum, cell, link, g, s_lo, s_n, (uint32_t)start);
                else enter(L, thr, alias, totals, g, s_lo, s_n, (uint32_t)start);
                continue;
            }
            slot_t *S = &slots[L->seq & (SLOTS - 1)];
            if (!L->drawn) {
                if (L->seq == head ? committed + S->len >= budget : S->len >= AHEAD) continue;
                int64_t e = narrow ? draw_narrow(L, cum, cell, g) : draw(L, thr, alias, totals, g, floating);
                if (e < 0) goto stuck;
                __builtin_prefetch(&link[e]);
                __builtin_prefetch(&counts[e], 1);
                L->e = e;
                L->drawn = 1;
                continue;
            }
            if (S->len == S->cap) {
                int64_t grown_cap = S->cap ? 2 * S->cap : 256;
                uint64_t *grown = realloc(S->draws, (size_t)grown_cap * 8);
                if (!grown) goto no_memory;
                S->draws = grown;
                S->cap = grown_cap;
            }
            const link_t *l = &link[L->e];
            S->draws[S->len++] = (uint64_t)L->e << 32 | (uint32_t)l->word;
            counts[L->e]++; /* taken back below if the draw is not part of the output */
            L->drawn = 0;
            if (l->word == EOS_ID) {
                S->finished = 1;
                L->seq = -1;
            } else {
                pending++;
                if (narrow) enter_narrow(L, cum, cell, link, g, l->next_lo, l->next_n, l->next);
                else enter(L, thr, alias, totals, g, l->next_lo, l->next_n, l->next);
            }
        }
        /* commit the head while it is finished or has reached the budget; a long unfinished head
         * is written out as it goes (all its words so far are in the output) */
        while (head < next_seq && committed < budget) {
            slot_t *S = &slots[head & (SLOTS - 1)];
            int64_t words = S->len - S->finished;
            if (!S->finished && committed + words < budget) {
                if (words >= FLUSH) {
                    for (int64_t i = 0; i < words; i++) ids[committed + i] = (int32_t)(uint32_t)S->draws[i];
                    committed += words;
                    pending -= words;
                    S->len = 0;
                }
                break;
            }
            int64_t take = words < budget - committed ? words : budget - committed;
            for (int64_t i = 0; i < take; i++) ids[committed + i] = (int32_t)(uint32_t)S->draws[i];
            if (!S->finished || take < words) { /* cut: count the </s> entry of the context reached */
                for (int64_t i = take; i < S->len; i++) counts[S->draws[i] >> 32]--;
                const link_t *last = &link[S->draws[take - 1] >> 32];
                int64_t eos = last->next_lo, end = eos + last->next_n;
                while (eos < end && link[eos].word != EOS_ID) eos++;
                if (eos == end) goto stuck;
                counts[eos]++;
                for (int k = 0; k < LANES; k++)
                    if (lanes[k].seq == head) lanes[k].seq = -1;
            }
            committed += take;
            pending -= words;
            if (++nseq == cap) {
                cap *= 2;
                int64_t *grown = realloc(offsets, (size_t)cap * 8);
                if (!grown) goto no_memory;
                offsets = grown;
            }
            offsets[nseq] = committed;
            head++;
        }
    }
    for (int64_t seq = head; seq < next_seq; seq++) { /* started after the cut: dropped */
        slot_t *S = &slots[seq & (SLOTS - 1)];
        for (int64_t i = 0; i < S->len; i++) counts[S->draws[i] >> 32]--;
    }
    out->offsets = offsets;
    out->nseq = nseq;
    return 0;
no_memory:
    out->offsets = offsets;
    PyErr_NoMemory();
    return -1;
stuck:
    out->offsets = offsets;
    return 1;
}

const char walk_doc[] = PyDoc_STR(
"walk(first, links, weights, start, budget, bitgen, ids, counts, expected) -> offsets\n\n"
"Draw sequences one after another from context `start` until `budget` words are written to ids\n"
"(int32, size >= budget), the last sequence cut there, every step drawing an entry of the current\n"
"context with probability weight / total. links is the table's (D, 4) int32 array (word, next\n"
"context's first entry, size, number); weights are int64 (exact integer draws) or float64.\n"
"Every drawn entry of the output is counted in counts (int64, zeroed by the caller); the cut\n"
"sequence's last standing position counts its context's </s> entry. Returns the sequence offsets\n"
"(bytearray of int64, sequences + 1 of them); `expected` sequences is a first guess of their number.");

PyObject *walk(PyObject *self, PyObject *args) {
    PyObject *o[5], *capsule;
    long long start, budget, expected;
    if (!PyArg_ParseTuple(args, "OOOLLOOOL", &o[0], &o[1], &o[2], &start, &budget, &capsule, &o[3], &o[4],
                          &expected))
        return NULL;
    bitgen_t *g = PyCapsule_GetPointer(capsule, "BitGenerator");
    if (!g) return NULL;
    Py_buffer v[5] = {{0}};
    if (get_buffer(o[0], &v[0], "first", 'i', 8, 0) < 0 || get_buffer(o[1], &v[1], "links", 'i', 4, 0) < 0) {
        release(v, 2);
        return NULL;
    }
    if (PyObject_GetBuffer(o[2], &v[2], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        release(v, 2);
        return NULL;
    }
    int floating = v[2].format && strchr(v[2].format, 'd') != NULL;
    PyBuffer_Release(&v[2]);
    v[2].obj = NULL;
    if (get_buffer(o[2], &v[2], "weights", floating ? 'f' : 'i', 8, 0) < 0 ||
        get_buffer(o[3], &v[3], "ids", 'i', 4, 1) < 0 || get_buffer(o[4], &v[4], "counts", 'i', 8, 1) < 0) {
        release(v, 5);
        return NULL;
    }
    const int64_t *first = v[0].buf;
    const link_t *link = v[1].buf;
    int32_t *ids = v[3].buf;
    int64_t *counts = v[4].buf;
    int64_t C = nitems(&v[0]) - 1, D = nitems(&v[2]);
    if (C < 1 || nitems(&v[1]) != 4 * D || nitems(&v[4]) != D || first[C] != D || start < 0 || start >= C ||
        budget < 0 || budget > nitems(&v[3])) {
        release(v, 5);
        PyErr_SetString(PyExc_ValueError, "walk: inconsistent arguments");
        return NULL;
    }
    output_t out = {.cap = expected > 16 ? expected + 1 : 17};
    out.offsets = malloc((size_t)out.cap * 8);
    tables_t t = {.floating = floating};
    uint32_t *cum = NULL, *alias = NULL;
    uint64_t *cell = NULL;
    weight_t *thr = NULL, *totals = NULL;
    PyObject *result = NULL;
    int status = -1, narrow = 0;
    if (!out.offsets) {
        PyErr_NoMemory();
        goto done;
    }
    if (!floating) { /* narrow tables if the weights fit */
        cum = big_alloc((size_t)(C + D) * sizeof *cum);
        cell = big_alloc((size_t)D * sizeof *cell);
        if (!cum || !cell) {
            PyErr_NoMemory();
            goto done;
        }
        int misfit = build_narrow(cum, cell, first, C, v[2].buf);
        if (misfit < 0) goto done;
        narrow = !misfit;
        if (misfit) {
            free(cum), free(cell);
            cum = NULL, cell = NULL;
        }
    }
    if (!narrow) {
        thr = big_alloc((size_t)D * sizeof *thr);
        alias = big_alloc((size_t)D * sizeof *alias);
        totals = big_alloc((size_t)C * sizeof *totals);
        if (!thr || !alias || !totals) {
            PyErr_NoMemory();
            goto done;
        }
        if (build_draws(thr, alias, totals, first, C, v[2].buf, floating) < 0) goto done;
    }
    t.cum = cum, t.cell = cell, t.alias = alias, t.thr = thr, t.totals = totals;
    status = narrow ? run(&t, 1, first, link, start, budget, g, ids, counts, &out)
                    : run(&t, 0, first, link, start, budget, g, ids, counts, &out);
    if (status == 0) {
        char *bytes;
        result = new_bytes((out.nseq + 1) * 8, &bytes);
        if (result) memcpy(bytes, out.offsets, (size_t)(out.nseq + 1) * 8);
    }
done:
    if (status == 1)
        PyErr_SetString(PyExc_ValueError, "walk: reached a context with no weight or no </s> entry (the "
                        "weights are not counts of sequences over a table of build_table)");
    for (int i = 0; i < SLOTS; i++) free(out.slots[i].draws);
    free(cum);
    free(cell);
    free(alias);
    free(thr);
    free(totals);
    free(out.offsets);
    release(v, 5);
    return result;
}
