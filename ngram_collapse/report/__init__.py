"""Vocabulary-survival reports: which words are forgotten, and when, over grids of settings.

A word seen c times in the original corpus is still present at generation k with probability
1 - exp(-c g_k) under Poisson sampling (Corollary 2, exact for unigrams); under multinomial sampling the
same sum is Corollary 1's lower bound. Since k g_k -> 2 the median time to forget a word is about
2c / ln 2: linear in its original count (docs/theory.md §6.3).

Three modules, each using only the ones before it:

* :mod:`.analysis` - one cell's words read back: survival by count, median time to forget, slopes;
* :mod:`.page` - the self-contained HTML page;
* :mod:`.grid` - cells, their seeds, running them (local processes or Dask), resuming, and
  rebuilding ``cells.csv`` and ``report.html``.
"""
from .analysis import (CELLS_HEADER, Buckets, CellData, bucket_edges, cell_row, chosen_generations,
                       forget_fit, median_time_to_forget, read_cell, survival_by_count)
from .grid import Cell, ReportRun, Settings, build_report, expand_grid, read_finished, run_cell, run_report

__all__ = ["CELLS_HEADER", "Buckets", "Cell", "CellData", "ReportRun", "Settings", "bucket_edges", "build_report",
           "cell_row", "chosen_generations", "expand_grid", "forget_fit", "read_finished", "median_time_to_forget",
           "read_cell", "run_cell", "run_report", "survival_by_count"]
