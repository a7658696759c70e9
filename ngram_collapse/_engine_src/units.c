/*
 * Word units: units(...), what ngram_collapse.orders.word_units needs from a walk of the training
 * data through its table (orders.py says what the quantities mean). The standing positions are
 * numbered in text order: sequence s owns positions offsets[s] + s .. offsets[s+1] + s, position
 * offsets[s] + s + i emitting ids[offsets[s] + i], the last one </s>.
 *
 * units() first walks the sequences through the table, LANES_UNITS at once and every step in two
 * halves as in walk() (walk.c), since a step's reads depend on the previous step's: find the
 * position's entry in the current context, by a linear search in a context of at most SEARCH
 * entries (they are ranked most frequent first) or else in a hash table of the entries of the
 * larger contexts, keyed by (context, id) and compared exactly; then follow its link. Then one pass
 * in text order finds the segments, the cycles and the links between occurrences. effective()
 * (effective.c) adds up the effective counts from these and from the probabilities of the routes,
 * which orders.py computes with numpy (its log and exp), so that every result is the numpy
 * formula's to the bit.
 */
#include "engine.h"

#define SEARCH 16
#define LANES_UNITS 16

/* The entries of the contexts of more than SEARCH entries, by (context, id): open addressing, at
 * most half full, a slot holding an entry number (NONE when empty) and its id. */
typedef struct {
    uint32_t entry;
    int32_t word;
} entry_slot_t;

typedef struct {
    entry_slot_t *slot;
    uint64_t mask;
} entry_index;

static inline uint64_t entry_hash(const entry_index *h, int64_t ctx, int32_t word) {
    return mix64((uint64_t)ctx << 32 | (uint32_t)word) & h->mask;
}

/* Fill `h` from the table; -1 when out of memory. */
static int entry_index_build(entry_index *h, const int64_t *first, const link_t *link, int64_t C) {
    int64_t large = 0;
    for (int64_t c = 0; c < C; c++)
        if (first[c + 1] - first[c] > SEARCH) large += first[c + 1] - first[c];
    uint64_t size = 16;
    while (size < 2 * (uint64_t)large) size *= 2;
    h->slot = big_alloc(size * sizeof *h->slot);
    if (!h->slot) return -1;
    for (uint64_t i = 0; i < size; i++) h->slot[i].entry = NONE;
    h->mask = size - 1;
    for (int64_t c = 0; c < C; c++) {
        if (first[c + 1] - first[c] <= SEARCH) continue;
        for (int64_t e = first[c]; e < first[c + 1]; e++) {
            uint64_t i = entry_hash(h, c, link[e].word);
            while (h->slot[i].entry != NONE) i = (i + 1) & h->mask;
            h->slot[i].entry = (uint32_t)e;
            h->slot[i].word = link[e].word;
        }
    }
    return 0;
}

/* The entry of `word` in context ctx (entries lo .. hi-1), or -1 if it has none. */
static inline int64_t entry_of(const entry_index *h, const link_t *link, int64_t ctx, int64_t lo, int64_t hi,
                               int32_t word) {
    if (hi - lo <= SEARCH) {
        for (int64_t e = lo; e < hi; e++)
            if (link[e].word == word) return e;
        return -1;
    }
    for (uint64_t i = entry_hash(h, ctx, word);; i = (i + 1) & h->mask) {
        const entry_slot_t *slot = &h->slot[i];
        if (slot->entry == NONE) return -1;
        if (slot->word == word && slot->entry >= lo && slot->entry < hi) return slot->entry;
    }
}

/* What the text-order pass needs of a position. */
typedef struct {
    int32_t ctx;    /* its context */
    int32_t branch; /* 1 if its context has another entry with a positive count */
} position_t;

typedef struct {
    int64_t s, i, p; /* sequence, index in ids of the next word (its end at </s>), position */
    int64_t ctx, lo, hi, e;
    int found; /* 1: e is found, its link not yet followed */
} units_lane;

/* Start sequence s (which has a position to go) in a lane. */
static void units_start(units_lane *L, int64_t s, const int64_t *offsets, const int64_t *first) {
    L->s = s;
    L->i = offsets[s];
    L->p = offsets[s] + s;
    L->ctx = 0;
    L->lo = first[0];
    L->hi = first[1];
    L->found = 0;
}

/* The walk: every position's context and branch flag, prob and after (see units_doc), and the
 * number of times every entry is drawn (tally). 0, or -1 with an exception. */
static int units_walk(position_t *at, double *prob, double *after, uint32_t *tally, const entry_index *h,
                      const int64_t *first, const link_t *link, const int64_t *counts, const int64_t *total,
                      int64_t C, const int32_t *ids, const int64_t *offsets, int64_t S) {
    const double P = (double)(offsets[S] + S);
    units_lane lanes[LANES_UNITS];
    int64_t started = 0;
    int active = 0;
    for (; active < LANES_UNITS && started < S; active++) units_start(&lanes[active], started++, offsets, first);
    while (active) {
        for (int k = 0; k < active; k++) {
            units_lane *L = &lanes[k];
            const int end = L->i == offsets[L->s + 1];
            if (!L->found) { /* find the entry */
                L->e = entry_of(h, link, L->ctx, L->lo, L->hi, end ? EOS_ID : ids[L->i]);
                if (L->e < 0) {
                    PyErr_SetString(PyExc_ValueError, "an n-gram of the data has no entry in the table");
                    return -1;
                }
                if (L->i > offsets[L->s]) after[L->p - 1] = 1.0 - (double)total[L->ctx] / P;
                at[L->p].ctx = (int32_t)L->ctx;
                L->found = 1;
                __builtin_prefetch(&link[L->e]);
                __builtin_prefetch(&counts[L->e]);
                __builtin_prefetch(&tally[L->e], 1);
                continue;
            }
            /* follow its link */
            const int64_t count = counts[L->e];
            if (count <= 0) {
                PyErr_SetString(PyExc_ValueError, "an n-gram of the data has count 0");
                return -1;
            }
            tally[L->e]++;
            prob[L->p] = (double)count / (double)total[L->ctx];
            at[L->p].branch = count < total[L->ctx];
            if (end) { /* the lane takes the next sequence, or the last active lane's place */
                after[L->p] = 0.0;
                if (started < S) units_start(L, started++, offsets, first);
                else *L = lanes[--active], k--;
                continue;
            }
            const link_t *l = &link[L->e];
            L->i++;
            L->p++;
            L->ctx = l->next;
            L->lo = l->next_lo;
            L->hi = L->lo + l->next_n;
            L->found = 0;
            if (L->ctx >= C || L->lo != first[L->ctx] || L->hi != first[L->ctx + 1]) {
                PyErr_SetString(PyExc_ValueError, "a link of the table does not lead to a context");
                return -1;
            }
            __builtin_prefetch(&total[L->ctx]);
            if (L->hi - L->lo <= SEARCH) {
                __builtin_prefetch(&link[L->lo]);
            } else {
                const int32_t next = L->i == offsets[L->s + 1] ? EOS_ID : ids[L->i];
                __builtin_prefetch(&h->slot[entry_hash(h, L->ctx, next)]);
            }
        }
    }
    return 0;
}

const char units_doc[] = PyDoc_STR(
"units(first, links, counts, ids, offsets, prob, after, same, cycles, linked, segments, sequences)\n"
"    -> (number of cycles, number of links)\n\n"
"Walk the sequences ids[offsets[s]:offsets[s+1]] (int32 word ids, int64 offsets) through the table\n"
"(first, links) whose entry counts (int64) must be exactly their n-gram counts, and write, for the\n"
"P = words + sequences standing positions p in text order (see above):\n"
"  prob[p] (float64): count of p's n-gram / count of its context;\n"
"  after[p] (float64): 1 - count of the context after p's word / P (0 where p emits </s>);\n"
"  same[p] (uint8): 1 if the next occurrence of p's word is in the same segment, else 0;\n"
"the pairs (int64, two per row, rows in text order of their second column): cycles (room for P\n"
"rows): (a, b), consecutive branch points of one context in one sequence followed by different\n"
"ids; linked (room for one row per word): (a, b), consecutive occurrences of a word in one sequence\n"
"but not in one segment; and per id (int64): segments and sequences, the numbers of distinct\n"
"segments and sequences holding it. A branch point is a position whose context has another entry\n"
"with a positive count; a segment starts at every branch point and at every sequence's start.");

PyObject *units(PyObject *self, PyObject *args) {
    PyObject *o[12];
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                          &o[9], &o[10], &o[11]))
        return NULL;
    static const char *names[12] = {"first", "links", "counts", "ids", "offsets", "prob", "after", "same",
                                    "cycles", "linked", "segments", "sequences"};
    static const char kinds[12] = {'i', 'i', 'i', 'i', 'i', 'f', 'f', 'u', 'i', 'i', 'i', 'i'};
    static const Py_ssize_t sizes[12] = {8, 4, 8, 4, 8, 8, 8, 1, 8, 8, 8, 8};
    Py_buffer v[12] = {{0}};
    for (int k = 0; k < 12; k++)
        if (get_buffer(o[k], &v[k], names[k], kinds[k], sizes[k], k >= 5) < 0) {
            release(v, 12);
            return NULL;
        }
    const int64_t *first = v[0].buf, *counts = v[2].buf, *offsets = v[4].buf;
    const link_t *link = v[1].buf;
    const int32_t *ids = v[3].buf;
    double *prob = v[5].buf, *after = v[6].buf;
    uint8_t *same = v[7].buf;
    int64_t *cycles = v[8].buf, *linked = v[9].buf, *segments = v[10].buf, *sequences = v[11].buf;
    int64_t C = nitems(&v[0]) - 1, D = nitems(&v[2]), N = nitems(&v[3]), S = nitems(&v[4]) - 1, P = N + S,
            V = nitems(&v[10]);
    int ok = C >= 1 && D <= MAX_ITEMS && nitems(&v[1]) == 4 * D && first[0] == 0 && first[C] == D && S >= 0 &&
             offsets[0] == 0 && offsets[S] == N && P < (int64_t)UINT32_MAX && nitems(&v[5]) == P &&
             nitems(&v[6]) == P && nitems(&v[7]) == P && nitems(&v[8]) == 2 * P && nitems(&v[9]) == 2 * N &&
             nitems(&v[11]) == V;
    for (int64_t c = 0; ok && c < C; c++) ok = first[c] <= first[c + 1];
    for (int64_t s = 0; ok && s < S; s++) ok = offsets[s] <= offsets[s + 1];
    if (!ok) {
        release(v, 12);
        PyErr_SetString(PyExc_ValueError, "units: inconsistent arguments");
        return NULL;
    }
    for (int64_t i = 0; i < N; i++)
        if (ids[i] < FIRST_WORD_ID || ids[i] >= V) {
            release(v, 12);
            return PyErr_Format(PyExc_ValueError, "ids[%lld] = %d is not a word id of the vocabulary (2 to %lld)",
                                (long long)i, ids[i], (long long)V - 1);
        }
    PyObject *result = NULL;
    entry_index h = {NULL, 0};
    position_t *at = big_alloc((size_t)P * sizeof *at);
    uint32_t *tally = big_alloc((size_t)D * sizeof *tally);
    int64_t *total = big_alloc((size_t)C * 8), *last_branch = big_alloc((size_t)C * 8); /* per context */
    struct { int64_t at, segment; } *last = malloc((size_t)(V ? V : 1) * sizeof *last); /* every id's last occurrence */
    if (!at || !tally || !total || !last_branch || !last || entry_index_build(&h, first, link, C) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    memset(tally, 0, (size_t)D * sizeof *tally);
    for (int64_t c = 0; c < C; c++) {
        total[c] = 0;
        for (int64_t e = first[c]; e < first[c + 1]; e++) total[c] += counts[e];
    }
    if (units_walk(at, prob, after, tally, &h, first, link, counts, total, C, ids, offsets, S) < 0) goto done;
    for (int64_t e = 0; e < D; e++)
        if (tally[e] != counts[e]) {
            PyErr_SetString(PyExc_ValueError, "the counts differ from those of the data");
            goto done;
        }

    /* In text order: segments, cycles, and every word's previous occurrence. */
    for (int64_t c = 0; c < C; c++) last_branch[c] = -1;
    for (int64_t w = 0; w < V; w++) last[w].at = last[w].segment = -1, segments[w] = sequences[w] = 0;
    memset(same, 0, (size_t)P);
    int64_t p = 0, segment = -1, n_cycles = 0, n_linked = 0;
    for (int64_t s = 0; s < S; s++) {
        const int64_t begin = p; /* the sequence's first position */
        for (int64_t i = offsets[s]; i <= offsets[s + 1]; i++, p++) {
            const int32_t word = i < offsets[s + 1] ? ids[i] : EOS_ID;
            if (at[p].branch || p == begin) segment++;
            if (at[p].branch) {
                const int64_t a = last_branch[at[p].ctx]; /* a < p: if in this sequence, it emits a word */
                if (a >= begin && ids[a - s] != word) {
                    cycles[2 * n_cycles] = a;
                    cycles[2 * n_cycles + 1] = p;
                    n_cycles++;
                }
                last_branch[at[p].ctx] = p;
            }
            if (word == EOS_ID) continue;
            const int64_t a = last[word].at;
            if (a < 0 || last[word].segment != segment) segments[word]++;
            if (a < begin) {
                sequences[word]++;
            } else if (last[word].segment == segment) {
                same[a] = 1;
            } else {
                linked[2 * n_linked] = a;
                linked[2 * n_linked + 1] = p;
                n_linked++;
            }
            last[word].at = p;
            last[word].segment = segment;
        }
    }
    result = Py_BuildValue("LL", (long long)n_cycles, (long long)n_linked);
done:
    free(h.slot);
    free(at); free(tally); free(total); free(last_branch); free(last);
    release(v, 12);
    return result;
}
