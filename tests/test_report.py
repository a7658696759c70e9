"""Per-word survival (words.csv), its analyses, and the ``report`` command over grids."""
import csv
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ngram_collapse import cli
from ngram_collapse.errors import InputError
from ngram_collapse.report import (Buckets, Cell, Settings, bucket_edges, chosen_generations, expand_grid,
                                   forget_fit, median_time_to_forget, read_cell, run_report, survival_by_count)


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_single_run_writes_words_csv(tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    assert cli.main(["--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "20000",
                     "--generations", "6", "--trajectories", "3", "--sampling", "poisson", "--quiet",
                     "--no-plot", "--out", str(out)]) == 0
    rows = read_rows(out / "words.csv")
    assert rows[0] == ["word", "count", "trajectory", "forgotten_at", "returned_at", "effective_count", "sequences"]
    data = read_cell(out)
    assert len(rows) - 1 == data.counts.size * 3 and data.counts.sum() == 20000
    assert {r[3] for r in rows[1:]} <= {""} | {str(k) for k in range(1, 7)}
    assert {r[4] for r in rows[1:]} == {""}  # a maximum-likelihood model never brings a word back
    # words.csv agrees with generations.csv: distinct words at k = words not yet forgotten at k
    generations = csv.DictReader(open(out / "generations.csv", encoding="utf-8"))
    for row in generations:
        t, k = int(row["trajectory"]), int(row["generation"])
        assert int(row["distinct_words"]) == np.count_nonzero(data.forgotten[:, t] > k)


def test_buckets():
    edges = bucket_edges(1000)
    assert list(edges[:11]) == list(range(1, 12)) and edges[-1] > 1000 and np.all(np.diff(edges) > 0)
    b = Buckets.of(np.array([1, 1, 2, 15, 16, 500]))
    assert list(b.words) == [2, 1, 2, 1] and b.low[0] == b.high[0] == 1 and b.mean_count[2] == 15.5
    assert chosen_generations(40) == [4, 10, 20, 40] and chosen_generations(0) == []


def test_median_is_censored_honestly():
    counts = np.array([1, 1, 5, 5])
    forgotten = np.array([[1.0, 2], [3, np.inf], [np.inf, np.inf], [4, np.inf]])
    result = median_time_to_forget(counts, forgotten, 4)
    # count 1: times 1, 2, 3, inf -> smallest k with half forgotten is 2; count 5: 3 of 4 survive
    assert result["median"][0] == 2 and np.isnan(result["median"][1])
    assert list(result["pairs"]) == [4, 4]


def test_survival_matches_corollary2_and_time_to_forget_is_linear(tmp_path, data_dir):
    """Done-when: wikitext-2:valid, order 1, Poisson sampling: survival per count bucket matches
    1 - exp(-c g_k) within Monte Carlo error (per-word counts are independent Galton-Watson
    processes, so the binomial standard error over (word, trajectory) pairs is exact), and the median
    time to forget grows with the count."""
    cell = Cell("wikitext-2:valid", 1, "poisson")
    settings = Settings(generations=40, trajectories=6, seed=3, corpus_options={"data_dir": str(data_dir)})
    run_report(tmp_path, [cell], settings, progress=False)
    data = read_cell(tmp_path / cell.name)
    result = survival_by_count(data.counts, data.forgotten, [1, 2, 5, 10, 20, 40])
    buckets = result["buckets"]
    pairs = buckets.words * 6
    theory = result["theory"]
    se = np.sqrt(theory * (1 - theory) / pairs)
    tested = (buckets.low <= 30) & (pairs >= 100)
    assert tested.sum() >= 12
    z = np.abs(result["survival"] - theory)[:, tested] / se[:, tested]
    assert z.max() < 4, z
    median = median_time_to_forget(data.counts, data.forgotten, 40)
    slope, rho = forget_fit(median)
    assert slope > 0 and rho > 0.9
    assert np.isfinite(median["median"]).sum() >= 8
    # the linear law: median ~ 2c/ln 2 = 2.885 c (k g_k -> 2 slowly, so allow a margin)
    assert 2.0 < slope < 3.5


GRID = ["report", "--corpus", "wikitext-2:train", "wikitext-2:valid", "--orders", "1,2,3",
        "--sampling", "multinomial,poisson", "--trajectories", "5", "--generations", "10", "--seed", "7"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory, data_dir):
    """The Done-when grid, run once with --jobs 2 (its time is measured by hand, not asserted)."""
    out = tmp_path_factory.mktemp("grid") / "report"
    assert cli.main([*GRID, "--data-dir", str(data_dir), "--jobs", "2", "--quiet", "--out", str(out)]) == 0
    return out


def test_grid_is_complete(grid, capsys):
    out = grid
    rows = read_rows(out / "cells.csv")
    assert rows[0] == ["corpus", "order", "sampling", "trajectories", "generations", "vocab_size",
                       "final_distinct_fraction", "theory_final_fraction", "forget_slope", "workflow",
                       "real_fraction", "temperature", "top_k", "top_p", "estimator", "final_perplexity"]
    assert len(rows) == 13
    for row in rows[1:]:
        cell = Cell(row[0], int(row[1]), row[2])
        assert {p.name for p in (out / cell.name).iterdir()} == {
            "generations.csv", "words.csv", "summary.json", "survival.png"}
        # the paper's observation: the unigram theory stays tight for higher orders too
        assert abs(float(row[6]) - float(row[7])) < 0.02 and float(row[8]) > 0
    assert (out / "report.html").stat().st_size > 10000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_rerun_skips_finished_cells_and_resumes(grid, data_dir, tmp_path, capsys):
    out = grid
    before = (out / "cells.csv").read_text()
    capsys.readouterr()
    assert cli.main([*GRID, "--data-dir", str(data_dir), "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("0 cells run, 12 already finished") and str(out / "report.html") in printed
    assert (out / "cells.csv").read_text() == before
    # an interrupted run: two cells missing and a stale temporary folder left behind
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "wikitext-2_valid-n2-poisson")
    shutil.rmtree(copy / "wikitext-2_valid-n3-multinomial")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = copy / f".wikitext-2_valid-n2-poisson.tmp-{int(dead.stdout)}-x"
    stale.mkdir()
    assert cli.main([*GRID, "--data-dir", str(data_dir), "--jobs", "2", "--quiet", "--out", str(copy)]) == 0
    assert capsys.readouterr().out.startswith("2 cells run, 10 already finished")
    assert not stale.exists()
    assert (copy / "cells.csv").read_text() == before
    # other settings in the same folder are refused rather than mixed
    with pytest.raises(InputError, match="generations"):
        run_report(copy, [Cell("wikitext-2:valid", 1, "poisson")],
                   Settings(generations=3, trajectories=5, seed=7, corpus_options={"data_dir": str(data_dir)}),
                   progress=False)


def test_dask_local_cluster_gives_the_same_cells(grid, data_dir, tmp_path, capsys):
    import distributed  # the test extra installs it: a missing one is a failure, not a skip
    out = grid
    local = {tuple(r[:3]): r for r in read_rows(out / "cells.csv")[1:]}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", protocol="tcp",
                                  dashboard_address=None, processes=True) as cluster:
        port = cluster.scheduler_address.rsplit(":", 1)[1]
        args = ["report", "--corpus", "wikitext-2:valid", "--orders", "1,2,3", "--sampling", "multinomial,poisson",
                "--trajectories", "5", "--generations", "10", "--seed", "7", "--data-dir", str(data_dir),
                "--scheduler", f"dask://127.0.0.1:{port}", "--quiet", "--out", str(tmp_path / "dask")]
        assert cli.main(args) == 0
    rows = read_rows(tmp_path / "dask" / "cells.csv")[1:]
    assert len(rows) == 6 and all(local[tuple(r[:3])] == r for r in rows)


def test_grid_expansion():
    cells = expand_grid(["a", "a"], [1, 2], ["poisson"])
    assert cells == [Cell("a", 1, "poisson"), Cell("a", 2, "poisson")]
    assert Cell("wikitext-2:valid", 1, "poisson").name == "wikitext-2_valid-n1-poisson"
    seed = [Settings(seed=0).run_settings(Cell("a", order, "poisson")).seed.generate_state(4) for order in (1, 1, 2)]
    assert list(seed[0]) == list(seed[1]) != list(seed[2])
    with pytest.raises(InputError, match="share the folder"):
        expand_grid(["a b", "a_b"], [1], ["poisson"])


@pytest.mark.parametrize("args, message", [
    (["--orders", ","], "empty grid"),
    (["--orders", "0"], "order"),
    (["--orders", "x"], "list"),
    (["--sampling", "binomial"], "binomial"),
    (["--scheduler", "dask://127.0.0.1:1"], "127.0.0.1:1"),
    (["--scheduler", "tcp://127.0.0.1:1"], "dask://"),
])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    assert cli.main(["report", "--max-words", "2000", *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_unwritable_out_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["report", "--max-words", "2000", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
