"""Builds the compiled kernels of ngram_collapse.table (the rest of the configuration is in pyproject.toml)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("ngram_collapse._engine", ["ngram_collapse/_engine.c"], extra_compile_args=["-O3"])])
