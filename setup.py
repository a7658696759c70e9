"""Builds the compiled kernels of ngram_collapse.table and .orders (the rest of the configuration is in pyproject.toml)."""
from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-adds, so that the floating-point results are the same on every
# target (ngram_collapse.orders's effective counts are numpy's formula to the bit).
setup(ext_modules=[Extension("ngram_collapse._engine", ["ngram_collapse/_engine.c"],
                             extra_compile_args=["-O3", "-ffp-contract=off"])])
