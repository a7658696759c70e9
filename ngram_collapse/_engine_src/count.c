/*
 * Counting n-grams: the scan of build_table (table.c lays the counts out as the table).
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
#include "engine.h"

void builder_free(builder *b) {
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

/* Count the n-grams of the sequences ids[offsets[s]:offsets[s+1]] (each padded with width <s> and
 * ended by </s>) into b, whose context hash table is then freed (the contexts stay: c_end, c_len).
 * 0, or -1 with an exception; b is to be freed with builder_free either way. */
int count_ngrams(builder *b, const int32_t *ids, const int64_t *offsets, int64_t n_seq, int width) {
    if (builder_init(b, ids, width) < 0) return -1;
    if (context_get(b, 0, 0) < 0) return -1; /* the all-<s> context: number 0 */
    scan_t lanes[LANES_COUNT];
    int64_t seq = 0, pos = n_seq ? offsets[0] : 0;
    int active = 0;
    for (int k = 0; k < LANES_COUNT; k++) {
        int got = next_chunk(b, &lanes[k], offsets, n_seq, &seq, &pos);
        if (got < 0) return -1;
        lanes[k].active = got;
        active += got;
    }
    while (active) {
        for (int k = 0; k < LANES_COUNT; k++) {
            scan_t *L = &lanes[k];
            if (!L->active) continue;
            int32_t w = L->p < L->end ? ids[L->p] : EOS_ID;
            ngram_slot *s = ngram_get(b, L->ctx, w);
            if (!s) return -1;
            s->count++;
            if (w != EOS_ID) {
                if (s->next == NONE) {
                    int64_t len = L->p + 1 - L->a < width ? L->p + 1 - L->a : width;
                    int64_t c = context_get(b, L->p + 1, (int)len);
                    if (c < 0) return -1;
                    s = ngram_get(b, L->ctx, w); /* the table may have grown */
                    s->next = (uint32_t)c;
                }
                L->ctx = s->next;
            }
            if (++L->p == L->stop) {
                int got = next_chunk(b, L, offsets, n_seq, &seq, &pos);
                if (got < 0) return -1;
                if (!got) {
                    L->active = 0;
                    active--;
                }
                continue;
            }
            int32_t w2 = L->p < L->end ? ids[L->p] : EOS_ID;
            __builtin_prefetch(&b->slots[slot_of((uint64_t)L->ctx << 32 | (uint32_t)w2, b->mask)]);
        }
    }
    free(b->c_slots); b->c_slots = NULL;
    free(b->c_hash); b->c_hash = NULL;
    return 0;
}
