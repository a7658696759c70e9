"""The paper's continuous-model figures from the settings table, their plots, and what importing the
package pulls in."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ngram_collapse.continuous import compare_estimators, plots
from ngram_collapse.paper import FIGURES
from ngram_collapse.plot import plot_trajectories
from ngram_collapse.simulate import SIMULATIONS, simulate


def test_import_pulls_in_neither_matplotlib_nor_scipy() -> None:
    code = "import sys, ngram_collapse.continuous; print('matplotlib' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.split() == ["False", "False"]


def run(name: str, seed: int = 1):
    return [simulate(p.model, p.generations, p.trajectories, seed, **p.parameters) for p in FIGURES[name]]


def test_figure_settings_shapes_and_plots(tmp_path: Path) -> None:
    (fig2a,) = run("fig2a")
    sig = fig2a.per_trajectory("sigma")
    assert sig.shape == (25, 2501) and np.all(sig[:, 0] == 1.0) and np.all(sig > 0)
    (fig5,) = run("fig5")
    assert fig5.config["trajectories"] == 1000 and len(fig5.generations) == 201
    fig13 = run("fig13")
    assert [r.config["estimator"] for r in fig13] == ["joint-ml", "approx-ml"]
    (panel,) = FIGURES["fig11_12"]
    p = panel.parameters
    scatter = compare_estimators(p["n"], p["mu0"], p["sigma0"], panel.trajectories, np.random.default_rng(1))
    assert {k: v.shape for k, v in scatter.items()} == dict.fromkeys(["joint_mu", "joint_sigma", "approx_mu", "approx_sigma"], (100,))
    # both estimators are fitted to the same samples: they share each sample's second moment mu^2 + sigma^2
    np.testing.assert_allclose(scatter["approx_mu"] ** 2 + scatter["approx_sigma"] ** 2,
                               scatter["joint_mu"] ** 2 + scatter["joint_sigma"] ** 2, rtol=1e-12)
    plot_trajectories(sig, tmp_path / "2a.png", "Sigma_k")
    plots.plot_prob_above_eps(fig5, tmp_path / "5.png")
    plots.plot_prob_above_eps(fig13, tmp_path / "13.png")
    plots.plot_estimator_scatter((scatter["joint_mu"], scatter["joint_sigma"]), (scatter["approx_mu"], scatter["approx_sigma"]), tmp_path / "11.png")
    for name in ("2a", "5", "13", "11"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_defaults_are_the_papers_settings() -> None:
    """simulate's defaults come from the one table of the paper's settings."""
    for model, figure, index in (("bernoulli", "fig3", 1), ("poisson", "fig4", 0), ("zipf", "fig7", 0),
                                 ("gaussian", "fig5", 0), ("gmm", "fig13", 1)):
        panel = FIGURES[figure][index]
        defaults = SIMULATIONS[model].defaults()
        assert {k: defaults[k] for k in panel.parameters} == dict(panel.parameters)
        assert (defaults["generations"], defaults["trajectories"]) == (panel.generations, panel.trajectories)
