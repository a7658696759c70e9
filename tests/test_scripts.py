"""Smoke tests of scripts/reproduce_paper.py, scripts/predict_orders.py and scripts/bench.py with its sections (scripts/bench_*.py; speed
is measured by bench.py, not here)."""
import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name):
    """Import a script as ``python scripts/NAME.py`` would (its folder first on the import path)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reproduce_paper_writes_png_and_csv(tmp_path):
    reproduce = load("reproduce_paper")
    assert {"fig2b", "fig3", "fig4", "fig6", "fig7", "fig9"} <= set(reproduce.FIGURES)
    assert reproduce.main(["--out", str(tmp_path), "--only", "fig7,fig2b"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "fig7.csv")))
    assert len(rows) == 2 * 11 and {"setting", "generation", "survival", "bound_lower", "exact"} <= set(rows[0])
    assert len(list(csv.reader(open(tmp_path / "fig2b.csv")))) == 1 + 601
    assert (tmp_path / "fig7.png").exists() and (tmp_path / "fig2b.png").exists()
    with pytest.raises(SystemExit):
        reproduce.main(["--out", str(tmp_path), "--only", "fig99"])


def test_reproduce_paper_continuous_figures(tmp_path):
    reproduce = load("reproduce_paper")
    assert reproduce.main(["--out", str(tmp_path), "--only", "fig2a,fig5,fig11_12,fig13"]) == 0
    assert all((tmp_path / f"{name}.png").stat().st_size > 1000 for name in ("fig2a", "fig5", "fig11_12", "fig13"))
    assert len(list(csv.reader(open(tmp_path / "fig2a.csv")))) == 1 + 2501
    rows = list(csv.DictReader(open(tmp_path / "fig5.csv")))
    assert len(rows) == 201
    assert {"setting", "prob_above_eps", "bound_paper", "bound_bertrand", "bound_best"} <= set(rows[0])
    rows = list(csv.DictReader(open(tmp_path / "fig13.csv")))
    assert len(rows) == 2 * 201 and len({r["setting"] for r in rows}) == 2
    rows = list(csv.DictReader(open(tmp_path / "fig11_12.csv")))
    assert len(rows) == 100 and list(rows[0]) == ["trial", "joint_mu", "joint_sigma", "approx_mu", "approx_sigma"]


def test_reproduce_paper_figure6_reduced(tmp_path, data_dir):
    """Figure 6 on the first 20,000 words, 2 generations, orders 1 and 2 (Corollary 1 against the
    simulation is tested statistically in test_experiment.py): the plotted bounds are Corollary 1's
    on that prefix, every word is there at k = 0, and no word comes back once forgotten."""
    from ngram_collapse.bounds import corollary1_bounds
    from ngram_collapse.corpus import load_sequences

    reproduce = load("reproduce_paper")
    reproduce.figure6(tmp_path, 0, data_dir, max_words=20_000, generations=2, orders=(1, 2))
    assert (tmp_path / "fig6.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(open(tmp_path / "fig6.csv")))
    assert [(r["order"], r["generation"]) for r in rows] == [(o, k) for o in "12" for k in "012"]
    counts = load_sequences("wikitext-2:train", data_dir=data_dir, max_words=20_000).counts()
    lower, upper = corollary1_bounds(counts, np.arange(3))
    m = np.count_nonzero(counts)
    for order in "12":
        got = {c: np.array([float(r[c]) for r in rows if r["order"] == order])
               for c in ("distinct_mean_over_m", "bound_lower_over_m", "bound_upper_over_m")}
        np.testing.assert_allclose(got["bound_lower_over_m"], lower / m, rtol=1e-12)
        np.testing.assert_allclose(got["bound_upper_over_m"], upper / m, rtol=1e-12)
        mean = got["distinct_mean_over_m"]
        assert mean[0] == 1.0 and np.all(np.diff(mean) <= 0) and mean[-1] < 1.0


def test_reproduce_paper_figure6_without_corpus(tmp_path, capsys):
    reproduce = load("reproduce_paper")
    out = tmp_path / "out"
    assert reproduce.main(["--out", str(out), "--only", "fig6", "--data-dir", str(tmp_path / "none")]) == 2
    assert "wikitext-2/train.txt" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_reproduce_paper_writes_a_figure_whole_or_not_at_all(tmp_path, monkeypatch):
    reproduce = load("reproduce_paper")

    def broken(out, args):
        (out / "broken.csv").write_text("half")
        raise RuntimeError("interrupted")

    monkeypatch.setitem(reproduce.FIGURES, "broken", broken)
    (tmp_path / "fig7.csv").write_text("earlier run")
    with pytest.raises(RuntimeError):
        reproduce.main(["--out", str(tmp_path), "--only", "broken"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig7.csv"]


def test_bench_continuous_section(monkeypatch, capsys):
    """The continuous section on Figures 13 and 5 shrunk to 20 trajectories x 5 generations, the loop
    timed on 3 of them: one row per case, each saying what was extrapolated."""
    import dataclasses

    bench = load("bench")
    parametric = bench.bench_parametric  # the module whose sections bench.main runs
    shrunk = {name: tuple(dataclasses.replace(p, trajectories=20, generations=5) for p in parametric.FIGURES[name])
              for name in ("fig13", "fig5")}
    monkeypatch.setattr(parametric, "FIGURES", shrunk)
    assert bench.main(["--only", "continuous", "--notebook-trajectories", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "(5 x 20)" in line]
    assert [row.split()[1] for row in rows] == ["joint-ml", "approx-ml", "n=10"]
    assert all(" 3/20 " in row for row in rows)


def test_bench_sections_selectable(capsys):
    bench = load("bench")
    assert {"ngram", "units", "bernoulli", "poisson", "continuous", "subword"} <= set(bench.SECTIONS)
    with pytest.raises(SystemExit):
        bench.main(["--only", "nope"])


def test_bench_ngram_section_runs(capsys, data_dir):
    """The n-gram section on the real corpus, without the (slow) NLTK baseline."""
    bench = load("bench")
    assert bench.main(["--only", "ngram", "--nltk-orders", "", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "512,615 words" in out and len([line for line in out.splitlines() if line.strip().startswith(("1 ", "16 "))]) == 2


def test_bench_units_section_runs(capsys, data_dir):
    bench = load("bench")
    assert bench.main(["--only", "units", "--repeats", "1", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:2] in ("1 ", "2 ", "3 ", "6 ", "8 ", "16")]
    assert "512,615 words" in out and [row[0] for row in rows] == ["1", "2", "3", "6", "8", "16"]


def test_scale_measurements_on_a_small_corpus(tmp_path, data_dir):
    """Reading, one trajectory in a process, and two forked trajectories sharing generation 0 report
    times and memory that make sense: the fork shares the parent's pages (the three processes' summed
    PSS is well below three copies of the parent)."""
    scale = load("bench_scale")
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes((data_dir / "wikitext-2" / "valid.txt").read_bytes() * 2)
    read = scale._scale_read(str(corpus), str(tmp_path))
    assert read["words"] == 2 * 213_886 and read["seconds"] > 0 and read["peak_mb"] > 0
    one = scale._scale_trajectory(str(tmp_path), 3)
    assert len(one["generations"]) == scale.SCALE_GENERATIONS and one["fit"] > 0
    assert one["loaded_mb"] <= one["fitted_mb"] <= one["peak_mb"] and one["entries"] > 0
    two = scale._scale_two_jobs(str(tmp_path), 3)
    assert [len(w["generations"]) for w in two["workers"]] == [scale.SCALE_GENERATIONS] * 2
    assert two["parent_mb"] < two["tree_peak_mb"] < 3 * max(w["peak_mb"] for w in two["workers"])


def test_longline_section_runs(capsys, data_dir):
    bench = load("bench")
    assert bench.main(["--only", "longline", "--repeats", "1", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if "lines " in line or "one line " in line]
    assert "5,126,150 words" in out and rows[1:] == ["3", "3", "8", "8"]


def test_bench_subword_section_runs(capsys, data_dir):
    """The subword section on the real corpus, one repeat per stage and a 1 x 1 run."""
    bench = load("bench")
    assert bench.main(["--only", "subword", "--subword-repeats", "1", "--subword-run", "1x1", "--subword-jobs", "1",
                       "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "512,615 words" in out and "one generation" in out
    assert "retrained run, 1 generations x 1 trajectories, 1 processes" in out


def test_predict_orders_worst_difference_by_hand():
    """Two generations of 100 words, 4 trajectories: observed 80 (sd 2) and 60 (sd 4), predicted 81 and 58."""
    predict = load("predict_orders")
    rows = [{"distinct_mean": 100.0}, {"distinct_mean": 80.0, "distinct_std": 2.0, "bound_lower": 79.0,
                                       "predicted": 81.0, "sequence_limit": 70.0},
            {"distinct_mean": 60.0, "distinct_std": 4.0, "bound_lower": 61.0, "predicted": 58.0, "sequence_limit": 50.0}]
    table = predict.compare(rows, trajectories=4)
    np.testing.assert_allclose(table["se"], [1.0, 2.0])
    assert predict.worst(table, "predicted") == (-2.0, 2, -1.0, 1.0)
    assert predict.worst(table, "corollary") == (-1.0, 1, -1.0, 1.0)
    table = predict.compare(rows, trajectories=4, first=np.array([100.0, 83.0, 61.0]))
    assert predict.worst(table, "first") == (3.0, 1, 3.0, 3.0)


def test_predict_orders_runs(capsys, data_dir):
    predict = load("predict_orders")
    assert predict.main(["--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "20000",
                         "--orders", "1,3", "--sampling", "multinomial,poisson", "--generations", "3",
                         "--trajectories", "3", "--full"]) == 0
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line.startswith("wikitext-2:valid ")]) == 4
    assert "runs within 1 point at every generation" in out and out.count("percent of") == 4
