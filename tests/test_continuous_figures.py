"""Figure data with the paper's parameters, the plots, and what importing the package pulls in."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ngram_collapse.continuous import figures, plots


def test_import_pulls_in_neither_matplotlib_nor_scipy() -> None:
    code = "import sys, ngram_collapse.continuous; print('matplotlib' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.split() == ["False", "False"]


def test_figure_data_shapes_and_plots(tmp_path: Path) -> None:
    sig = figures.figure2a_data(seed=1)
    assert sig.shape == (25, 2501) and np.all(sig[:, 0] == 1.0) and np.all(sig > 0)
    fig5 = figures.figure5_data(seed=1)
    assert fig5["config"]["trajectories"] == 1000 and len(fig5["generations"]) == 200
    fig13 = figures.figure13_data(seed=1)
    assert [s["config"]["estimator"] for s in fig13.values()] == ["joint-ml", "approx-ml"]
    scatter = figures.figure11_12_data(seed=1)
    assert {k: v.shape for k, v in scatter.items()} == dict.fromkeys(["joint_mu", "joint_sigma", "approx_mu", "approx_sigma"], (100,))
    # both estimators are fitted to the same samples: they share each sample's second moment mu^2 + sigma^2
    np.testing.assert_allclose(scatter["approx_mu"] ** 2 + scatter["approx_sigma"] ** 2,
                               scatter["joint_mu"] ** 2 + scatter["joint_sigma"] ** 2, rtol=1e-12)
    plots.plot_sigma_trajectories(sig, tmp_path / "2a.png")
    plots.plot_prob_above_eps(fig5, tmp_path / "5.png")
    plots.plot_prob_above_eps(list(fig13.values()), tmp_path / "13.png")
    plots.plot_estimator_scatter((scatter["joint_mu"], scatter["joint_sigma"]), (scatter["approx_mu"], scatter["approx_sigma"]), tmp_path / "11.png")
    for name in ("2a", "5", "13", "11"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

