/*
 * The module ngram_collapse._engine: its method table and init function (engine.h says which file
 * holds what).
 */
#include "engine.h"

static PyMethodDef methods[] = {
    {"build_table", build_table, METH_VARARGS, build_table_doc},
    {"transform", transform, METH_VARARGS, transform_doc},
    {"walk", walk, METH_VARARGS, walk_doc},
    {"units", units, METH_VARARGS, units_doc},
    {"effective", effective, METH_VARARGS, effective_doc},
    {"sequence_counts", sequence_counts, METH_VARARGS, sequence_counts_doc},
    {"gmm_joint_ml", gmm_joint_ml, METH_VARARGS, gmm_joint_ml_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_engine", "Compiled kernels of ngram_collapse.table.", -1, methods,
};

PyMODINIT_FUNC PyInit__engine(void) { return PyModule_Create(&module); }
