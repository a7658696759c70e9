/*
 * build_table: the n-grams counted by count.c laid out as the table (see engine.h): contexts
 * renumbered in corpus order, entries grouped by context and ranked, and their links.
 */
#include "engine.h"

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

const char build_table_doc[] = PyDoc_STR(
"build_table(ids, offsets, order, vocab_size) -> (links, count, first, has_bos)\n\n"
"Count the n-grams of the sequences ids[offsets[s]:offsets[s+1]] (int32 ids, int64 offsets), each\n"
"padded with order-1 <s> and ended by </s>, into a table grouped by context. Returns bytearrays:\n"
"links (4 int32 per entry: next id, and the first entry, size and number of the context after it),\n"
"count (int64, per entry), first (int64, contexts + 1), has_bos (uint8, per context: 1 if the\n"
"context holds <s>). The all-<s> context is number 0.");

PyObject *build_table(PyObject *self, PyObject *args) {
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
    if (count_ngrams(&b, ids, offsets, n_seq, width) < 0) goto fail;

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
    ranked *scratch = malloc((size_t)widest_context(first, C) * sizeof *scratch);
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
