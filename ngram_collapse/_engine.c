/*
 * The compiled kernels of ngram_collapse.table: counting the n-grams of a corpus into a table,
 * drawing sequences from a count vector over that table, and the decoding transforms; and the walk
 * of a corpus through its table that ngram_collapse.orders needs.
 *
 * Plain C against the CPython API. Arrays come in through the buffer protocol (numpy arrays,
 * checked for item size and kind); random numbers come from a numpy Generator's bit generator
 * through its "BitGenerator" capsule (the bitgen_t struct of numpy/random/bitgen.h, a stable ABI
 * since numpy 1.17), so no numpy headers are needed to build this file.
 *
 * The table (see table.py for the full description): entries are the distinct (context, next id)
 * pairs of the training data, grouped by context (context c owns entries first[c] .. first[c+1]-1),
 * most frequent first within a context (ties by the smaller id); every context has a </s> entry
 * (id 0), with count 0 if the data never ended a sequence there. An entry's link says which context
 * a walk is in after drawing it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

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
 * Buffers
 */

/* Get a C-contiguous buffer of `obj` (read flat) whose items are `itemsize` bytes of kind 'i' (signed
 * integer), 'u' (unsigned integer) or 'f' (float). */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *name, char kind, Py_ssize_t itemsize,
                      int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    char k = strchr("bhilq", *f) ? 'i' : strchr("BHILQ", *f) ? 'u' : strchr("fd", *f) ? 'f' : '?';
    if (view->itemsize != itemsize || k != kind || f[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous array of %zd-byte %s", name, itemsize,
                     kind == 'i' ? "signed integers" : kind == 'u' ? "unsigned integers" : "floats");
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

/* A large buffer for random access: on transparent huge pages where the system offers them, so that
 * random reads do not each miss the TLB. Freed with free(). */
static void *big_alloc(size_t size) {
    if (size < ((size_t)1 << 21)) return malloc(size ? size : 1);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)1 << 21, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

static Py_ssize_t nitems(const Py_buffer *v) { return v->len / v->itemsize; }

static void release(Py_buffer *views, int n) {
    for (int i = 0; i < n; i++)
        if (views[i].obj) PyBuffer_Release(&views[i]);
}

/* ---------------------------------------------------------------------------------------------
 * Counting n-grams: build_table(ids, offsets, order, vocab_size)
 *
 * Two open-addressing hash tables (linear probing, at most half full, grown by doubling): n-grams
 * keyed by (context number, next id), each slot holding its count and the number of the context
 * the n-gram leads to; contexts keyed by their ids, compared id by id (a context is stored as the
 * position in `ids` where it ends and its number of words, the rest being <s>). The scan walks
 * several chunks of the corpus at once (LANES_COUNT), each step fetching the slot its next step
 * will read, so that the memory reads of different chunks overlap; a chunk starts in the context
 * its first position has in the corpus, looked up by its ids, so one long sequence is split like
 * many short ones.
 */

static inline uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

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

static void builder_free(builder *b) {
    free(b->slots);
    free(b->c_end); free(b->c_len); free(b->c_hash); free(b->c_slots);
    memset(b, 0, sizeof *b);
}

static int grow(void **p, int64_t n, size_t size) {
    void *q = realloc(*p, (size_t)n * size);
    if (!q) return -1;
    *p = q;
    return 0;
}

static inline uint64_t slot_of(uint64_t key, uint64_t mask) { return mix64(key) & mask; }

static int ngram_rehash(builder *b, uint64_t size) {
    ngram_slot *s = big_alloc(size * sizeof *s);
    if (!s) return -1;
    for (uint64_t i = 0; i < size; i++) s[i].key = UINT64_MAX;
    uint64_t mask = size - 1;
    for (uint64_t j = 0; b->slots && j <= b->mask; j++) {
        if (b->slots[j].key == UINT64_MAX) continue;
        uint64_t i = slot_of(b->slots[j].key, mask);
        while (s[i].key != UINT64_MAX) i = (i + 1) & mask;
        s[i] = b->slots[j];
    }
    free(b->slots);
    b->slots = s;
    b->mask = mask;
    return 0;
}

/* The slot of the n-gram (ctx, word), created with count 0 if new; NULL on error. */
static ngram_slot *ngram_get(builder *b, uint32_t ctx, int32_t word) {
    uint64_t key = (uint64_t)ctx << 32 | (uint32_t)word;
    uint64_t i = slot_of(key, b->mask);
    for (;;) {
        ngram_slot *s = &b->slots[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) break;
        i = (i + 1) & b->mask;
    }
    if (b->n_ngrams >= MAX_ITEMS) {
        PyErr_SetString(PyExc_ValueError, "too many distinct n-grams (2**31 at most)");
        return NULL;
    }
    if ((uint64_t)(b->n_ngrams + 1) * 2 > b->mask + 1) {
        if (ngram_rehash(b, 2 * (b->mask + 1)) < 0) {
            PyErr_NoMemory();
            return NULL;
        }
        return ngram_get(b, ctx, word);
    }
    b->n_ngrams++;
    b->slots[i].key = key;
    b->slots[i].next = NONE;
    b->slots[i].count = 0;
    return &b->slots[i];
}

static uint64_t context_hash(const int32_t *words, int len) {
    uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)(len + 1);
    for (int t = 0; t < len; t++) h = mix64(h ^ (uint32_t)words[t]);
    return mix64(h);
}

static int context_rehash(builder *b, uint64_t size) {
    context_slot *s = malloc(size * sizeof *s);
    if (!s) return -1;
    for (uint64_t i = 0; i < size; i++) s[i].ctx = NONE;
    uint64_t mask = size - 1;
    for (int64_t c = 0; c < b->n_contexts; c++) {
        uint64_t i = b->c_hash[c] & mask;
        while (s[i].ctx != NONE) i = (i + 1) & mask;
        s[i].hash = (uint32_t)(b->c_hash[c] >> 32);
        s[i].ctx = (uint32_t)c;
    }
    free(b->c_slots);
    b->c_slots = s;
    b->c_mask = mask;
    return 0;
}

/* The context made of the `len` words ending before ids[end] (after width - len <s>), created
 * with its </s> n-gram if new; -1 on error. */
static int64_t context_get(builder *b, int64_t end, int len) {
    const int32_t *words = b->ids + end - len;
    uint64_t h = context_hash(words, len);
    uint32_t high = (uint32_t)(h >> 32);
    uint64_t i = h & b->c_mask;
    for (;;) {
        context_slot *s = &b->c_slots[i];
        if (s->ctx == NONE) break;
        if (s->hash == high && b->c_len[s->ctx] == len &&
            memcmp(b->ids + b->c_end[s->ctx] - len, words, (size_t)len * 4) == 0)
            return s->ctx;
        i = (i + 1) & b->c_mask;
    }
    int64_t c = b->n_contexts;
    if (c >= MAX_ITEMS) {
        PyErr_SetString(PyExc_ValueError, "too many distinct contexts (2**31 at most)");
        return -1;
    }
    if (c == b->cap_contexts) {
        int64_t cap = 2 * b->cap_contexts;
        if (grow((void **)&b->c_end, cap, 8) || grow((void **)&b->c_len, cap, 1) ||
            grow((void **)&b->c_hash, cap, 8)) {
            PyErr_NoMemory();
            return -1;
        }
        b->cap_contexts = cap;
    }
    b->c_end[c] = end;
    b->c_len[c] = (uint8_t)len;
    b->c_hash[c] = h;
    b->n_contexts = c + 1;
    b->c_slots[i].hash = high;
    b->c_slots[i].ctx = (uint32_t)c;
    if ((uint64_t)b->n_contexts * 2 > b->c_mask + 1 && context_rehash(b, 2 * (b->c_mask + 1)) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (!ngram_get(b, (uint32_t)c, EOS_ID)) return -1;
    return c;
}

static int builder_init(builder *b, const int32_t *ids, int width) {
    memset(b, 0, sizeof *b);
    b->ids = ids;
    b->width = width;
    b->cap_contexts = 4096;
    b->c_end = malloc(4096 * 8); b->c_len = malloc(4096); b->c_hash = malloc(4096 * 8);
    if (!b->c_end || !b->c_len || !b->c_hash || ngram_rehash(b, 8192) < 0 || context_rehash(b, 8192) < 0) {
        builder_free(b);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Entries ranked most frequent first, ties by the smaller id. */
typedef struct {
    int64_t count;
    int32_t word;
    uint32_t entry;
} ranked;

static inline int ranked_before(const ranked *a, const ranked *b) {
    return a->count > b->count || (a->count == b->count && a->word < b->word);
}

static int cmp_ranked(const void *a, const void *b) {
    return ranked_before(b, a) - ranked_before(a, b);
}

static void sort_ranked(ranked *r, int64_t n) {
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

static PyObject *new_bytes(Py_ssize_t size, char **data) {
    PyObject *o = PyByteArray_FromStringAndSize(NULL, size);
    if (o) *data = PyByteArray_AS_STRING(o);
    return o;
}

#define LANES_COUNT 16
#define CHUNK 4096 /* words per chunk of a sequence */

typedef struct {
    int64_t a, p, stop, end; /* sequence start, next step, chunk end (steps p < stop), sequence end */
    uint32_t ctx;
    int active;
} scan_t;

/* The next chunk of the corpus for a lane (its first context looked up by its ids): 0 when the
 * corpus is done, -1 on error. */
static int next_chunk(builder *b, scan_t *L, const int64_t *offsets, int64_t n_seq, int64_t *seq, int64_t *pos) {
    while (*seq < n_seq && *pos > offsets[*seq + 1]) { /* the sequence's </s> step is done */
        (*seq)++;
        if (*seq < n_seq) *pos = offsets[*seq];
    }
    if (*seq >= n_seq) return 0;
    int64_t a = offsets[*seq], end = offsets[*seq + 1];
    L->a = a;
    L->end = end;
    L->p = *pos;
    L->stop = *pos + CHUNK < end + 1 ? *pos + CHUNK : end + 1;
    *pos = L->stop;
    int64_t len = L->p - a < b->width ? L->p - a : b->width;
    int64_t c = len == 0 && L->p == a ? 0 : context_get(b, L->p, (int)len);
    if (c < 0) return -1;
    L->ctx = (uint32_t)c;
    L->active = 1;
    return 1;
}

/* The new number of every context when they are numbered by their end position (unique for contexts
 * of at least one word; the all-<s> context, ending at 0, stays 0): an LSD radix sort on 11-bit
 * digits. NULL when out of memory. */
static uint32_t *contexts_in_order(const int64_t *end, int64_t C) {
    uint32_t *order = malloc((size_t)C * 4), *other = malloc((size_t)C * 4), *renumber = malloc((size_t)C * 4);
    if (!order || !other || !renumber) {
        free(order); free(other); free(renumber);
        return NULL;
    }
    int64_t largest = 0;
    for (int64_t c = 0; c < C; c++) {
        order[c] = (uint32_t)c;
        if (end[c] > largest) largest = end[c];
    }
    for (int shift = 0; shift < 64 && (largest >> shift) > 0; shift += 11) {
        int64_t count[2049] = {0};
        for (int64_t i = 0; i < C; i++) count[((end[order[i]] >> shift) & 2047) + 1]++;
        for (int d = 0; d < 2048; d++) count[d + 1] += count[d];
        for (int64_t i = 0; i < C; i++) other[count[(end[order[i]] >> shift) & 2047]++] = order[i];
        uint32_t *t = order;
        order = other;
        other = t;
    }
    for (int64_t i = 0; i < C; i++) renumber[order[i]] = (uint32_t)i;
    free(order);
    free(other);
    return renumber;
}

PyDoc_STRVAR(build_table_doc,
"build_table(ids, offsets, order, vocab_size) -> (links, count, first, has_bos)\n\n"
"Count the n-grams of the sequences ids[offsets[s]:offsets[s+1]] (int32 ids, int64 offsets), each\n"
"padded with order-1 <s> and ended by </s>, into a table grouped by context. Returns bytearrays:\n"
"links (4 int32 per entry: next id, and the first entry, size and number of the context after it),\n"
"count (int64, per entry), first (int64, contexts + 1), has_bos (uint8, per context: 1 if the\n"
"context holds <s>). The all-<s> context is number 0.");

static PyObject *build_table(PyObject *self, PyObject *args) {
    PyObject *ids_obj, *offsets_obj;
    int order;
    long long vocab_size;
    if (!PyArg_ParseTuple(args, "OOiL", &ids_obj, &offsets_obj, &order, &vocab_size)) return NULL;
    if (order < 1 || order > 255) return PyErr_Format(PyExc_ValueError, "order must be 1 to 255, not %d", order);
    Py_buffer v[2] = {{0}};
    if (get_buffer(ids_obj, &v[0], "ids", 'i', 4, 0) < 0 ||
        get_buffer(offsets_obj, &v[1], "offsets", 'i', 8, 0) < 0) {
        release(v, 2);
        return NULL;
    }
    const int32_t *ids = v[0].buf;
    const int64_t *offsets = v[1].buf;
    int64_t n_ids = nitems(&v[0]), n_seq = nitems(&v[1]) - 1;
    int width = order - 1;
    builder b;
    PyObject *result = NULL;
    uint32_t *perm = NULL, *renumber = NULL;
    int64_t *first = NULL;
    if (n_seq < 0 || offsets[0] != 0 || offsets[n_seq] != n_ids) {
        PyErr_SetString(PyExc_ValueError, "offsets must start at 0 and end at len(ids)");
        release(v, 2);
        return NULL;
    }
    if (n_ids + n_seq >= (int64_t)UINT32_MAX) { /* then no count exceeds 32 bits */
        PyErr_SetString(PyExc_ValueError, "too many words and sequences to count (2**32 at most)");
        release(v, 2);
        return NULL;
    }
    for (int64_t s = 0; s < n_seq; s++)
        if (offsets[s + 1] < offsets[s]) {
            PyErr_SetString(PyExc_ValueError, "offsets must be non-decreasing");
            release(v, 2);
            return NULL;
        }
    for (int64_t p = 0; p < n_ids; p++)
        if (ids[p] < FIRST_WORD_ID || ids[p] >= vocab_size) {
            PyErr_Format(PyExc_ValueError, "ids[%lld] = %d is not a word id of the vocabulary (2 to %lld)",
                         (long long)p, ids[p], vocab_size - 1);
            release(v, 2);
            return NULL;
        }
    if (builder_init(&b, ids, width) < 0) {
        release(v, 2);
        return NULL;
    }
    if (context_get(&b, 0, 0) < 0) goto fail; /* the all-<s> context: number 0 */
    {
        scan_t lanes[LANES_COUNT];
        int64_t seq = 0, pos = n_seq ? offsets[0] : 0;
        int active = 0;
        for (int k = 0; k < LANES_COUNT; k++) {
            int got = next_chunk(&b, &lanes[k], offsets, n_seq, &seq, &pos);
            if (got < 0) goto fail;
            lanes[k].active = got;
            active += got;
        }
        while (active) {
            for (int k = 0; k < LANES_COUNT; k++) {
                scan_t *L = &lanes[k];
                if (!L->active) continue;
                int32_t w = L->p < L->end ? ids[L->p] : EOS_ID;
                ngram_slot *s = ngram_get(&b, L->ctx, w);
                if (!s) goto fail;
                s->count++;
                if (w != EOS_ID) {
                    if (s->next == NONE) {
                        int64_t len = L->p + 1 - L->a < width ? L->p + 1 - L->a : width;
                        int64_t c = context_get(&b, L->p + 1, (int)len);
                        if (c < 0) goto fail;
                        s = ngram_get(&b, L->ctx, w); /* the table may have grown */
                        s->next = (uint32_t)c;
                    }
                    L->ctx = s->next;
                }
                if (++L->p == L->stop) {
                    int got = next_chunk(&b, L, offsets, n_seq, &seq, &pos);
                    if (got < 0) goto fail;
                    if (!got) {
                        L->active = 0;
                        active--;
                    }
                    continue;
                }
                int32_t w2 = L->p < L->end ? ids[L->p] : EOS_ID;
                __builtin_prefetch(&b.slots[slot_of((uint64_t)L->ctx << 32 | (uint32_t)w2, b.mask)]);
            }
        }
    }
    free(b.c_slots); b.c_slots = NULL;
    free(b.c_hash); b.c_hash = NULL;

    /* Contexts renumbered in the order of their first position in the corpus (the lanes created them
     * interleaved), so that a walk along the corpus's n-grams reads the table in order. */
    int64_t D = b.n_ngrams, C = b.n_contexts;
    renumber = contexts_in_order(b.c_end, C);
    if (!renumber) { PyErr_NoMemory(); goto fail; }

    /* The n-grams out of the hash table, grouped by context (counting sort), every context's slice
     * ranked most frequent first: a walk's linear search then stops early. */
    first = calloc((size_t)C + 1, 8);
    perm = malloc((size_t)(D ? D : 1) * 4);
    if (!first || !perm) { PyErr_NoMemory(); goto fail; }
    for (uint64_t j = 0; j <= b.mask; j++)
        if (b.slots[j].key != UINT64_MAX) first[renumber[b.slots[j].key >> 32] + 1]++;
    for (int64_t c = 0; c < C; c++) first[c + 1] += first[c];
    {
        int64_t *cursor = malloc((size_t)C * 8);
        if (!cursor) { PyErr_NoMemory(); goto fail; }
        memcpy(cursor, first, (size_t)C * 8);
        for (uint64_t j = 0; j <= b.mask; j++)
            if (b.slots[j].key != UINT64_MAX) perm[cursor[renumber[b.slots[j].key >> 32]]++] = (uint32_t)j;
        free(cursor);
    }
    int64_t widest = 0;
    for (int64_t c = 0; c < C; c++)
        if (first[c + 1] - first[c] > widest) widest = first[c + 1] - first[c];
    ranked *scratch = malloc((size_t)(widest ? widest : 1) * sizeof *scratch);
    if (!scratch) { PyErr_NoMemory(); goto fail; }
    for (int64_t c = 0; c < C; c++) {
        int64_t lo = first[c], n = first[c + 1] - lo;
        for (int64_t i = 0; i < n; i++) {
            const ngram_slot *s = &b.slots[perm[lo + i]];
            scratch[i].entry = perm[lo + i];
            scratch[i].word = (int32_t)(uint32_t)s->key;
            scratch[i].count = s->count;
        }
        sort_ranked(scratch, n);
        for (int64_t i = 0; i < n; i++) perm[lo + i] = scratch[i].entry;
    }
    free(scratch);

    char *pl, *pc, *pf, *ph;
    PyObject *o_link = new_bytes(D * (Py_ssize_t)sizeof(link_t), &pl), *o_count = new_bytes(D * 8, &pc),
             *o_first = new_bytes((C + 1) * 8, &pf), *o_bos = new_bytes(C, &ph);
    if (o_link && o_count && o_first && o_bos) {
        link_t *link = (link_t *)pl;
        int64_t *count = (int64_t *)pc;
        for (int64_t i = 0; i < D; i++) {
            const ngram_slot *s = &b.slots[perm[i]];
            uint32_t c = s->next == NONE ? 0 : renumber[s->next];
            link[i].word = (int32_t)(uint32_t)s->key;
            if (link[i].word == EOS_ID) {
                link[i].next_lo = link[i].next_n = link[i].next = 0;
            } else {
                link[i].next_lo = (uint32_t)first[c];
                link[i].next_n = (uint32_t)(first[c + 1] - first[c]);
                link[i].next = c;
            }
            count[i] = s->count;
        }
        memcpy(pf, first, (size_t)(C + 1) * 8);
        for (int64_t c = 0; c < C; c++) ph[renumber[c]] = b.c_len[c] < width;
        result = PyTuple_Pack(4, o_link, o_count, o_first, o_bos);
    }
    Py_XDECREF(o_link); Py_XDECREF(o_count); Py_XDECREF(o_first); Py_XDECREF(o_bos);
fail:
    free(perm);
    free(renumber);
    free(first);
    builder_free(&b);
    release(v, 2);
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding transforms
 */

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

PyDoc_STRVAR(transform_doc,
"transform(counts, first, links, temperature, top_k, top_p, out)\n\n"
"The weight of every entry after the decoding transforms (see NgramModel.sample): top_k 0 and\n"
"top_p 1.0 mean no truncation. With temperature 1, out is int64 and holds the kept counts (exact);\n"
"otherwise out is float64 and holds (count / largest count in the context) ** (1 / temperature)\n"
"for the kept entries. Entries not kept weigh 0.");

static PyObject *transform(PyObject *self, PyObject *args) {
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
    int64_t widest = 1;
    for (int64_t c = 0; c < C; c++)
        if (first[c + 1] - first[c] > widest) widest = first[c + 1] - first[c];
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

/* ---------------------------------------------------------------------------------------------
 * Walking
 *
 * The table's links (static, built once): for every entry, its word, and the first entry, size and
 * number of the context a walk goes to after drawing it. The weights of one call (built per call):
 * in a context of at most SMALL entries, the cumulative weights, searched linearly (entries are
 * ranked most frequent first); in a larger one, an alias table (Walker; Vose's construction),
 * exact in integers: bucket j in [0, n) is drawn uniformly, then v uniformly in [0, total), and the
 * entry is j if v < threshold[j], else alias[j]; entry i is then drawn with probability
 * (threshold[i] + sum over j aliased to i of (total - threshold[j])) / (n total) = weight[i] / total.
 */

#define SMALL 8

typedef union {
    int64_t i;
    double f;
} weight_t;

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
static int build_draws(weight_t *thr, uint32_t *alias, weight_t *totals, const int64_t *first, int64_t C,
                       const void *weights, int floating) {
    const int64_t *iw = weights;
    const double *fw = weights;
    int64_t widest = 1;
    for (int64_t c = 0; c < C; c++)
        if (first[c + 1] - first[c] > widest) widest = first[c + 1] - first[c];
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

/* Lanes. A walk is a chain of dependent memory reads (the entry drawn says where the next draw
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
 * at the budget, and its words are written out every FLUSH draws. */
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
        if (n > 8) __builtin_prefetch(&thr[lo + 8]);
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

PyDoc_STRVAR(walk_doc,
"walk(first, links, weights, start, budget, bitgen, ids, counts, expected) -> offsets\n\n"
"Draw sequences one after another from context `start` until `budget` words are written to ids\n"
"(int32, size >= budget), the last sequence cut there, every step drawing an entry of the current\n"
"context with probability weight / total. links is the table's (D, 4) int32 array (word, next\n"
"context's first entry, size, number); weights are int64 (exact integer draws) or float64.\n"
"Every drawn entry of the output is counted in counts (int64, zeroed by the caller); the cut\n"
"sequence's last standing position counts its context's </s> entry. Returns the sequence offsets\n"
"(bytearray of int64, sequences + 1 of them); `expected` sequences is a first guess of their number.");

static PyObject *walk(PyObject *self, PyObject *args) {
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
    int64_t cap = expected > 16 ? expected + 1 : 17;
    weight_t *thr = big_alloc((size_t)D * sizeof *thr);
    uint32_t *alias = big_alloc((size_t)D * sizeof *alias);
    weight_t *totals = big_alloc((size_t)C * sizeof *totals);
    int64_t *offsets = malloc((size_t)cap * 8);
    slot_t slots[SLOTS] = {{0}};
    lane_t lanes[LANES];
    PyObject *result = NULL;
    int stuck = 0;
    if (!thr || !alias || !totals || !offsets) {
        PyErr_NoMemory();
        goto done;
    }
    if (build_draws(thr, alias, totals, first, C, v[2].buf, floating) < 0) goto done;
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
                enter(L, thr, alias, totals, g, s_lo, s_n, (uint32_t)start);
                continue;
            }
            slot_t *S = &slots[L->seq & (SLOTS - 1)];
            if (!L->drawn) {
                if (L->seq == head ? committed + S->len >= budget : S->len >= AHEAD) continue;
                int64_t e = draw(L, thr, alias, totals, g, floating);
                if (e < 0) {
                    stuck = 1;
                    goto done;
                }
                __builtin_prefetch(&link[e]);
                __builtin_prefetch(&counts[e], 1);
                L->e = e;
                L->drawn = 1;
                continue;
            }
            if (S->len == S->cap) {
                int64_t grown_cap = S->cap ? 2 * S->cap : 256;
                uint64_t *grown = realloc(S->draws, (size_t)grown_cap * 8);
                if (!grown) {
                    PyErr_NoMemory();
                    goto done;
                }
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
                enter(L, thr, alias, totals, g, l->next_lo, l->next_n, l->next);
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
                if (eos == end) {
                    stuck = 1;
                    goto done;
                }
                counts[eos]++;
                for (int k = 0; k < LANES; k++)
                    if (lanes[k].seq == head) lanes[k].seq = -1;
            }
            committed += take;
            pending -= words;
            if (++nseq == cap) {
                cap *= 2;
                int64_t *grown = realloc(offsets, (size_t)cap * 8);
                if (!grown) {
                    PyErr_NoMemory();
                    goto done;
                }
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
    char *out;
    result = new_bytes((nseq + 1) * 8, &out);
    if (result) memcpy(out, offsets, (size_t)(nseq + 1) * 8);
done:
    if (stuck)
        PyErr_SetString(PyExc_ValueError, "walk: reached a context with no weight or no </s> entry (the "
                        "weights are not counts of sequences over a table of build_table)");
    for (int i = 0; i < SLOTS; i++) free(slots[i].draws);
    free(thr);
    free(alias);
    free(totals);
    free(offsets);
    release(v, 5);
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * Word units: units(...) and effective(...)
 *
 * What ngram_collapse.orders.word_units needs, from a walk of the training data through its table
 * (orders.py says what the quantities mean). The standing positions are numbered in text order:
 * sequence s owns positions offsets[s] + s .. offsets[s+1] + s, position offsets[s] + s + i
 * emitting ids[offsets[s] + i], the last one </s>.
 *
 * units() first walks the sequences through the table, LANES_UNITS at once and every step in two
 * halves as in walk(), since a step's reads depend on the previous step's: find the position's
 * entry in the current context, by a linear search in a context of at most SEARCH entries (they are
 * ranked most frequent first) or else in a hash table of the entries of the larger contexts, keyed
 * by (context, id) and compared exactly; then follow its link. Then one pass in text order finds
 * the segments, the cycles and the links between occurrences. effective() adds up the effective
 * counts from these and from the probabilities of the routes, which orders.py computes with numpy
 * (its log and exp), so that every result is the numpy formula's to the bit.
 */

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

PyDoc_STRVAR(units_doc,
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

static PyObject *units(PyObject *self, PyObject *args) {
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

PyDoc_STRVAR(effective_doc,
"effective(ids, offsets, cycles, rho, linked, follow, after, same, out)\n\n"
"The effective counts (float64 out, per id, zeroed by the caller) from what units() found, over the\n"
"same P positions: every word occurrence at position p adds 1 - R_p, where R_p is 1 if same[p], else\n"
"after[p] * min(follow[p] + mass[p], 1): follow[p] = follow[k] for the row k of linked (int64, two\n"
"per row) whose first column is p (0 if none), and mass[p] = the sum of rho[k] over the rows\n"
"(a, b) of cycles with a <= p < b, accumulated in text order exactly as numpy's\n"
"cumsum(bincount(a, rho) - bincount(b, rho)). Occurrences add in text order, as numpy's bincount.");

static PyObject *effective(PyObject *self, PyObject *args) {
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

PyDoc_STRVAR(sequence_counts_doc,
"sequence_counts(ids, offsets, out)\n\n"
"For every id, the number of the sequences ids[offsets[s]:offsets[s+1]] (int32 ids, int64 offsets)\n"
"that hold it, written to out (int64, one per id; every id must be below its size).");

static PyObject *sequence_counts(PyObject *self, PyObject *args) {
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

static PyMethodDef methods[] = {
    {"build_table", build_table, METH_VARARGS, build_table_doc},
    {"transform", transform, METH_VARARGS, transform_doc},
    {"walk", walk, METH_VARARGS, walk_doc},
    {"units", units, METH_VARARGS, units_doc},
    {"effective", effective, METH_VARARGS, effective_doc},
    {"sequence_counts", sequence_counts, METH_VARARGS, sequence_counts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_engine", "Compiled kernels of ngram_collapse.table.", -1, methods,
};

PyMODINIT_FUNC PyInit__engine(void) { return PyModule_Create(&module); }
