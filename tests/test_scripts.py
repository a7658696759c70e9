"""Smoke tests of scripts/reproduce_paper.py and scripts/bench.py (speed is measured by bench.py, not here)."""
import csv
import importlib.util
from pathlib import Path

import pytest


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reproduce_paper_writes_png_and_csv(tmp_path):
    reproduce = load("reproduce_paper")
    assert {"fig2b", "fig3", "fig4", "fig7", "fig9"} <= set(reproduce.FIGURES)
    assert reproduce.main(["--out", str(tmp_path), "--only", "fig7,fig2b"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "fig7.csv")))
    assert len(rows) == 20 and {"setting", "generation", "survival", "bound_lower", "exact"} <= set(rows[0])
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
    assert len(rows) == 200
    assert {"setting", "prob_above_eps", "bound_paper", "bound_bertrand", "bound_best"} <= set(rows[0])
    rows = list(csv.DictReader(open(tmp_path / "fig13.csv")))
    assert len(rows) == 400 and len({r["setting"] for r in rows}) == 2
    rows = list(csv.DictReader(open(tmp_path / "fig11_12.csv")))
    assert len(rows) == 100 and list(rows[0]) == ["trial", "joint_mu", "joint_sigma", "approx_mu", "approx_sigma"]


def test_bench_continuous_section(monkeypatch, capsys):
    """The continuous section on Figures 13 and 5 shrunk to 20 trajectories x 5 generations, the loop
    timed on 3 of them: one row per case, each saying what was extrapolated."""
    from ngram_collapse.continuous import figures

    for setting in (figures.FIGURE_13, figures.FIGURE_5):
        monkeypatch.setitem(setting, "trajectories", 20)
        monkeypatch.setitem(setting, "generations", 5)
    assert load("bench").main(["--only", "continuous", "--notebook-trajectories", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "(5 x 20)" in line]
    assert [row.split()[1] for row in rows] == ["joint-ml", "approx-ml", "n=10"]
    assert all(" 3/20 " in row for row in rows)


def test_bench_sections_selectable(capsys):
    bench = load("bench")
    assert {"ngram", "bernoulli", "poisson", "continuous"} <= set(bench.SECTIONS)
    with pytest.raises(SystemExit):
        bench.main(["--only", "nope"])


def test_bench_ngram_section_runs(capsys, data_dir):
    """The n-gram section on the real corpus, without the (slow) NLTK baseline."""
    bench = load("bench")
    assert bench.main(["--only", "ngram", "--nltk-orders", "", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "512,615 words" in out and len([line for line in out.splitlines() if line.strip().startswith(("1 ", "16 "))]) == 2
