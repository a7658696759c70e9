/*
 * The compiled kernels of ngram_collapse.table (the extension module ngram_collapse._engine):
 * counting the n-grams of a corpus into a table, drawing sequences from a count vector over that
 * table, and the decoding transforms; the walk of a corpus through its table that
 * ngram_collapse.orders needs; and the joint ML fit of ngram_collapse.continuous.gmm. This header holds what the source files share: the types, the
 * constants, the small helpers the hot loops inline, and the functions of one file that another
 * calls.
 *
 *   buffers.c    arrays in (buffer protocol) and out, large buffers
 *   count.c      counting n-grams into hash tables (the scan of build_table)
 *   table.c      build_table: the counted n-grams laid out as the table
 *   transform.c  transform: the decoding transforms
 *   draws.c      the per-call draw tables of walk (cumulative weights, alias tables)
 *   walk.c       walk: drawing sequences
 *   units.c      units: the walk of a corpus through its table for ngram_collapse.orders
 *   effective.c  effective and sequence_counts: per-id sums for ngram_collapse.orders
 *   gmm.c        gmm_joint_ml: the symmetric mixture's joint ML fit for ngram_collapse.continuous.gmm
 *   module.c     the method table and the module's init function
 *
 * Plain C against the CPython API. Arrays come in through the buffer protocol (numpy arrays,
 * checked for item size and kind); random numbers come from a numpy Generator's bit generator
 * through its "BitGenerator" capsule (the bitgen_t struct of numpy/random/bitgen.h, a stable ABI
 * since numpy 1.17), so no numpy headers are needed to build these files.
 *
 * The table (see table.py for the full description): entries are the distinct (context, next id)
 * pairs of the training data, grouped by context (context c owns entries first[c] .. first[c+1]-1),
 * most frequent first within a context (ties by the smaller id); every context has a </s> entry
 * (id 0), with count 0 if the data never ended a sequence there. An entry's link says which context
 * a walk is in after drawing it.
 */
#ifndef NGRAM_COLLAPSE_ENGINE_H
#define NGRAM_COLLAPSE_ENGINE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

/* Everything declared below is private to the extension (not exported from the shared object). */
#pragma GCC visibility push(hidden)

typedef struct bitgen {
    void *state;
    uint64_t (*next_uint64)(void *st);
    uint32_t (*next_uint32)(void *st);
    double (*next_double)(void *st);
    uint64_t (*next_raw)(void *st);
} bitgen_t;

#define EOS_ID 0
#define BOS_ID 1
#define FIRST_WORD_ID 2
#define NONE UINT32_MAX  /* no context yet / empty hash slot */
#define MAX_ITEMS ((int64_t)INT32_MAX - 1)  /* contexts and entries are numbered by 31-bit integers */

/* An entry's link: its next id, and the context a walk goes to after drawing it (unused after </s>). */
typedef struct {
    int32_t word;
    uint32_t next_lo; /* the next context's first entry */
    uint32_t next_n;  /* its number of entries */
    uint32_t next;    /* its number */
} link_t;

/* ---------------------------------------------------------------------------------------------
 * Buffers (buffers.c)
 */

int get_buffer(PyObject *obj, Py_buffer *view, const char *name, char kind, Py_ssize_t itemsize,
               int writable);
void *big_alloc(size_t size);
void release(Py_buffer *views, int n);
PyObject *new_bytes(Py_ssize_t size, char **data);

static inline Py_ssize_t nitems(const Py_buffer *v) { return v->len / v->itemsize; }

/* The number of entries of the widest context c (entries first[c] .. first[c+1]-1), at least 1: the
 * size of the scratch space a per-context pass needs. */
static inline int64_t widest_context(const int64_t *first, int64_t C) {
    int64_t widest = 1;
    for (int64_t c = 0; c < C; c++)
        if (first[c + 1] - first[c] > widest) widest = first[c + 1] - first[c];
    return widest;
}

/* ---------------------------------------------------------------------------------------------
 * Hashing
 */

static inline uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* ---------------------------------------------------------------------------------------------
 * Counting (count.c): the n-grams of a corpus in an open-addressing hash table, and its contexts.
 */

typedef struct {
    uint64_t key;  /* ctx << 32 | next id; UINT64_MAX when empty */
    uint32_t next; /* the context after the n-gram; NONE until known (and for </s>) */
    uint32_t count;
} ngram_slot;

typedef struct {
    uint32_t hash; /* high bits of the context's hash */
    uint32_t ctx;  /* NONE when empty */
} context_slot;

typedef struct {
    const int32_t *ids;
    int width; /* order - 1: words in a full context */
    int64_t n_ngrams;
    ngram_slot *slots;
    uint64_t mask;
    /* contexts: words ids[end - len .. end) after width - len <s> */
    int64_t n_contexts, cap_contexts;
    int64_t *c_end;
    uint8_t *c_len;
    uint64_t *c_hash;
    context_slot *c_slots;
    uint64_t c_mask;
} builder;

int count_ngrams(builder *b, const int32_t *ids, const int64_t *offsets, int64_t n_seq, int width);
void builder_free(builder *b);

/* ---------------------------------------------------------------------------------------------
 * Ranking: entries most frequent first, ties by the smaller id (table.c, transform.c).
 */

typedef struct {
    int64_t count;
    int32_t word;
    uint32_t entry;
} ranked;

static inline int ranked_before(const ranked *a, const ranked *b) {
    return a->count > b->count || (a->count == b->count && a->word < b->word);
}

static inline int cmp_ranked(const void *a, const void *b) {
    return ranked_before(b, a) - ranked_before(a, b);
}

static inline void sort_ranked(ranked *r, int64_t n) {
    if (n > 24) {
        qsort(r, (size_t)n, sizeof *r, cmp_ranked);
        return;
    }
    for (int64_t i = 1; i < n; i++) { /* insertion sort */
        ranked x = r[i];
        int64_t j = i;
        while (j > 0 && ranked_before(&x, &r[j - 1])) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Draw tables (draws.c, used by walk.c): in a context of at most SMALL entries, the cumulative
 * weights; in a larger one, an alias table. Narrow (32-bit) tables when the weights allow.
 */

#define SMALL 8

typedef union {
    int64_t i;
    double f;
} weight_t;

int build_draws(weight_t *thr, uint32_t *alias, weight_t *totals, const int64_t *first, int64_t C,
                const void *weights, int floating);

/* Narrow draw tables, for integer weights whose every context total fits in 32 bits (counts always
 * do: build_table refuses 2**32 words and sequences): `cum`, C + D 32-bit values in the table's
 * order, context c's total at first[c] + c followed by its entries' cumulative weights (entry e of
 * context c at e + c + 1), so that a draw in a small context reads one line; and in a context of
 * more than SMALL entries, `cell`, per entry (D of them, the others not written), its alias
 * threshold (low 32 bits) and its alias (high 32 bits), read at once. The values are those of
 * build_draws, so a walk draws the same entries from either. */
int build_narrow(uint32_t *cum, uint64_t *cell, const int64_t *first, int64_t C, const int64_t *weights);

/* ---------------------------------------------------------------------------------------------
 * The module's functions and their docstrings (module.c lists them).
 */

PyObject *build_table(PyObject *self, PyObject *args);
PyObject *transform(PyObject *self, PyObject *args);
PyObject *walk(PyObject *self, PyObject *args);
PyObject *units(PyObject *self, PyObject *args);
PyObject *effective(PyObject *self, PyObject *args);
PyObject *sequence_counts(PyObject *self, PyObject *args);
PyObject *gmm_joint_ml(PyObject *self, PyObject *args);

extern const char build_table_doc[], transform_doc[], walk_doc[], units_doc[], effective_doc[],
    sequence_counts_doc[], gmm_joint_ml_doc[];

#pragma GCC visibility pop

#endif
