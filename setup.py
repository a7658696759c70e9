"""Builds the compiled kernels of ngram_collapse.table, .orders and .continuous.gmm (the rest of the configuration is in pyproject.toml)."""
from setuptools import Extension, setup

# The C sources of ngram_collapse._engine, one file per part (engine.h says which holds what).
ENGINE = "ngram_collapse/_engine_src/"
SOURCES = ["module.c", "buffers.c", "count.c", "table.c", "transform.c", "draws.c", "walk.c", "units.c",
           "effective.c", "gmm.c"]

# -ffp-contract=off: no fused multiply-adds, so that the floating-point results are the same on every
# target (ngram_collapse.orders's effective counts are numpy's formula to the bit).
setup(ext_modules=[Extension("ngram_collapse._engine", [ENGINE + name for name in SOURCES],
                             depends=[ENGINE + "engine.h"],
                             extra_compile_args=["-O3", "-ffp-contract=off"])])
