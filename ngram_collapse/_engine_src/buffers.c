/*
 * Buffers: arrays in through the buffer protocol (checked for item size and kind), large buffers for
 * random access, and bytearrays out.
 */
#include "engine.h"

/* Get a C-contiguous buffer of `obj` (read flat) whose items are `itemsize` bytes of kind 'i' (signed
 * integer), 'u' (unsigned integer) or 'f' (float). */
int get_buffer(PyObject *obj, Py_buffer *view, const char *name, char kind, Py_ssize_t itemsize,
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
void *big_alloc(size_t size) {
    if (size < ((size_t)1 << 21)) return malloc(size ? size : 1);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)1 << 21, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

/* Release the buffers of views[0 .. n) that were got (obj not NULL). */
void release(Py_buffer *views, int n) {
    for (int i = 0; i < n; i++)
        if (views[i].obj) PyBuffer_Release(&views[i]);
}

/* A new bytearray of `size` bytes, its data in *data; NULL with an exception if out of memory. */
PyObject *new_bytes(Py_ssize_t size, char **data) {
    PyObject *o = PyByteArray_FromStringAndSize(NULL, size);
    if (o) *data = PyByteArray_AS_STRING(o);
    return o;
}
