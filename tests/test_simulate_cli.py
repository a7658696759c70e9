"""End-to-end tests of ``ngram-collapse simulate``."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ngram_collapse import cli

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ngram_collapse", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_bernoulli_writes_summary_and_figure(tmp_path, capsys):
    out = tmp_path / "b"
    assert cli.main(["simulate", "bernoulli", "--p0", "0.01", "--n", "100", "--generations", "12",
                     "--trajectories", "400", "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "survival" in printed and "bound_lower" in printed and str(out) in printed
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["kind", "config", "versions", "timings", "generations"] and summary["kind"] == "bernoulli"
    rows = summary["generations"]
    assert [r["generation"] for r in rows] == list(range(13))
    for r in rows:
        assert {"generation", "survival", "stderr", "bound_lower", "bound_upper", "exact"} <= set(r)
        assert r["bound_lower"] <= r["exact"] <= r["bound_upper"]
    assert summary["config"] == {"p0": 0.01, "n": 100, "both_sides": False, "generations": 12,
                                 "trajectories": 400, "workflow": "replace", "real_fraction": None, "seed": 2}
    assert (out / "survival.png").stat().st_size > 1000
    assert (out / "generations.csv").read_text().splitlines()[:2] == ["trajectory,generation,count", "0,0,1"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_both_sides_adds_seddik(tmp_path, capsys):
    out = tmp_path / "b2"
    assert cli.main(["simulate", "bernoulli", "--both-sides", "--generations", "3", "--trajectories", "50",
                     "--out", str(out)]) == 0
    rows = json.loads((out / "summary.json").read_text())["generations"]
    assert all("seddik_lower" in r and "seddik_upper" in r for r in rows)
    assert "seddik_lower" in capsys.readouterr().out


def test_poisson_and_zipf(tmp_path, capsys):
    assert cli.main(["simulate", "poisson", "--lam0", "1", "--n", "10", "--generations", "40",
                     "--trajectories", "200", "--out", str(tmp_path / "p")]) == 0
    printed = capsys.readouterr().out
    assert "of 41 generations shown; all are in summary.json" in printed
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert len(s["generations"]) == 41 and s["kind"] == "poisson"
    assert cli.main(["simulate", "zipf", "--m", "200", "--a", "2", "--b", "5", "--n", "300",
                     "--generations", "4", "--trajectories", "20", "--out", str(tmp_path / "z")]) == 0
    s = json.loads((tmp_path / "z" / "summary.json").read_text())
    assert 0 < s["generations"][-1]["survival"] <= 1 and s["generations"][0]["distinct_mean"] <= 200


@pytest.mark.parametrize("model, args, bounds", [
    ("gaussian", ["--mu0", "0.5"], {"bound_paper", "bound_bertrand", "bound_best"}),
    ("gmm", ["--estimator", "joint-ml"], {"bound_paper"}),
])
def test_continuous_writes_summary_and_figures(tmp_path, capsys, model, args, bounds):
    out = tmp_path / model
    assert cli.main(["simulate", model, "--n", "10", "--sigma0", "1", "--eps", "0.1", *args, "--generations", "15",
                     "--trajectories", "60", "--seed", "3", "--out", str(out)]) == 0
    assert "prob_above_eps" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["generations.csv", "prob_above_eps.png", "summary.json",
                                                     "trajectories.png"]
    assert (out / "prob_above_eps.png").stat().st_size > 1000 and (out / "trajectories.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["kind", "config", "versions", "timings", "generations"] and summary["kind"] == model
    assert summary["config"]["trajectories"] == 60 and summary["config"]["seed"] == 3
    rows = summary["generations"]
    assert [r["generation"] for r in rows] == list(range(16))
    for r in rows:
        assert set(r) == {"generation", "prob_above_eps", "stderr", "sigma_mean", *bounds}
        assert 0 <= r["prob_above_eps"] <= 1 and r["sigma_mean"] > 0


def test_continuous_defaults_are_the_papers_settings():
    from ngram_collapse.simulate import SIMULATIONS

    gaussian, gmm = SIMULATIONS["gaussian"].defaults(), SIMULATIONS["gmm"].defaults()
    assert gaussian == {"n": 10, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1, "generations": 200, "trajectories": 1000}
    assert gmm == {"n": 10, "mu0": 1.0, "sigma0": 1.0, "eps": 0.1, "estimator": "approx-ml", "eta": 2.0,
                   "generations": 200, "trajectories": 500}


def test_default_out_is_under_runs(tmp_path):
    result = run_cli("simulate", "poisson", "--generations", "2", "--trajectories", "10", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.endswith("-simulate-poisson") and (folder / "summary.json").exists()


@pytest.mark.parametrize("args", [
    ["simulate", "bernoulli", "--p0", "1.5"],
    ["simulate", "bernoulli", "--p0", "-0.2"],
    ["simulate", "bernoulli", "--n", "0"],
    ["simulate", "poisson", "--lam0", "-1"],
    ["simulate", "poisson", "--generations", "-3"],
    ["simulate", "poisson", "--trajectories", "0"],
    ["simulate", "zipf", "--sampling", "bogus"],
    ["simulate", "bernoulli", "--p0", "abc"],
    ["simulate", "gaussian", "--n", "1"],
    ["simulate", "gaussian", "--sigma0", "0"],
    ["simulate", "gaussian", "--eps", "-0.1"],
    ["simulate", "gaussian", "--mu0", "inf"],
    ["simulate", "gmm", "--estimator", "em"],
    ["simulate", "gmm", "--eta", "1"],
    ["simulate", "gmm", "--sigma0", "nan"],
    ["simulate", "no-such-model"],
    ["simulate"],
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args):
    out = tmp_path / "o"
    assert cli.main([*args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("ngram-collapse: error:") and captured.err.count("\n") == 1
    assert not out.exists()


def test_unwritable_out_in_a_subprocess(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("simulate", "poisson", "--generations", "2", "--out", str(blocker / "sub"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    result = run_cli("simulate", "poisson", "--generations", "2", "--out", str(blocker))
    assert result.returncode == 2 and "not a folder" in result.stderr


def test_start_up_imports_no_matplotlib():
    code = ("import sys, ngram_collapse.cli, ngram_collapse.simulate, ngram_collapse.plot; "
            "print(any(m in sys.modules for m in ('matplotlib', 'nltk', 'datasets', 'scipy')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("model", ["poisson", "gaussian"])
def test_no_plot_writes_the_summary_only(tmp_path, model):
    result = run_cli("simulate", model, "--generations", "3", "--trajectories", "20", "--no-plot",
                     "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["generations.csv", "summary.json"]


def test_zipf_leaves_out_the_exact_chain_for_large_samples():
    from ngram_collapse.discrete import EXACT_CHAIN_MAX_N
    from ngram_collapse.simulate import simulate

    results = simulate("zipf", generations=2, trajectories=3, n=EXACT_CHAIN_MAX_N + 1)
    assert results.generations[1]["exact"] is None
    assert results.generations[1]["bound_lower"] is not None
