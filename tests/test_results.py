"""The one results format: every command's folder has the same summary layout and is read back by the
one reader (issue: one results format)."""
from __future__ import annotations

import csv
import json
import math
import sys

import numpy as np
import pytest

from ngram_collapse import cli, results
from ngram_collapse.errors import InputError
from ngram_collapse.results import TOP_LEVEL, Results, read, rows, spread, trajectory_columns, write_columns

SMALL = ["--generations", "3", "--trajectories", "4", "--seed", "1", "--no-plot", "--quiet"]
COMMANDS = {
    "ngram": ["--order", "2", "--max-words", "5000", *SMALL],
    "bernoulli": ["simulate", "bernoulli", *SMALL],
    "poisson": ["simulate", "poisson", *SMALL],
    "zipf": ["simulate", "zipf", "--m", "50", "--n", "200", *SMALL],
    "gaussian": ["simulate", "gaussian", *SMALL],
    "gmm": ["simulate", "gmm", "--estimator", "joint-ml", *SMALL],
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory, data_dir):
    """A results folder of every kind: a run, each simulate model, and a report cell."""
    root = tmp_path_factory.mktemp("results")
    made = {}
    for kind, argv in COMMANDS.items():
        made[kind] = root / kind
        assert cli.main([*argv, "--out", str(made[kind])]) == 0
    report = root / "report"
    assert cli.main(["report", "--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "3000",
                     "--orders", "1", "--sampling", "poisson", "--jobs", "1", "--generations", "3",
                     "--trajectories", "2", "--quiet", "--out", str(report)]) == 0
    made["report cell"] = report / "wikitext-2_valid-n1-poisson"
    return made


def test_every_kind_has_the_same_top_level_keys_and_rows_from_generation_0(folders):
    for name, folder in folders.items():
        summary = json.loads((folder / "summary.json").read_text())
        assert tuple(summary) == TOP_LEVEL, name
        assert [r["generation"] for r in summary["generations"]] == list(range(summary["config"]["generations"] + 1))
        assert summary["versions"]["numpy"] == np.__version__ and summary["timings"]
        with open(folder / "generations.csv", newline="") as f:
            header = next(csv.reader(f))
        assert header[:2] == ["trajectory", "generation"], name


def test_the_one_reader_reads_every_kind(folders):
    for name, folder in folders.items():
        run = read(folder)
        kind = "ngram" if name == "report cell" else name
        assert run.kind == kind and run.config["generations"] == 3
        trajectories = run.config["trajectories"]
        for column in list(run.trajectories)[2:]:
            assert run.per_trajectory(column).shape == (trajectories, 4)
        df = results.frame(folder)
        assert list(df["generation"]) == [0, 1, 2, 3] and df.attrs["kind"] == kind
        assert len(results.frame(folder, "generations")) == trajectories * 4
    words = results.frame(folders["ngram"], "words")
    assert list(words.columns) == ["word", "count", "trajectory", "forgotten_at", "returned_at", "effective_count",
                                   "sequences"]
    assert words["count"].sum() == 5000 * 4  # every word of the 5,000, once per trajectory


def test_one_name_for_one_quantity(folders):
    """The same quantity has the same key in every kind (ngram and zipf both count distinct words)."""
    ngram, zipf = read(folders["ngram"]), read(folders["zipf"])
    for run in (ngram, zipf):
        mean = run.per_trajectory("distinct_words").mean(axis=0)
        np.testing.assert_allclose(run.column("distinct_mean"), mean)
    for kind in ("bernoulli", "poisson", "zipf", "gaussian", "gmm"):
        run = read(folders[kind])
        value = "prob_above_eps" if kind in ("gaussian", "gmm") else "survival"
        if kind in ("gaussian", "gmm"):
            alive = run.per_trajectory("sigma") > run.config["eps"]
        elif kind == "zipf":
            alive = run.per_trajectory("distinct_words") / run.generations[0]["distinct_mean"]
        else:
            alive = run.per_trajectory("count") > 0
        np.testing.assert_allclose(run.column(value), alive.mean(axis=0))
        np.testing.assert_allclose(run.column("stderr"), alive.std(axis=0, ddof=1) / math.sqrt(alive.shape[0]))


def test_spread_and_rows():
    values = np.array([[1.0, 2.0], [3.0, 6.0]])
    mean, std, stderr = spread(values)
    assert list(mean) == [2.0, 4.0] and std[1] == pytest.approx(math.sqrt(8)) and stderr[1] == pytest.approx(2.0)
    assert spread(values[:1])[1:] == (None, None)
    made = rows({"generation": np.arange(2), "a": mean, "none": None})
    assert made == [{"generation": 0, "a": 2.0, "none": None}, {"generation": 1, "a": 4.0, "none": None}]
    with pytest.raises(ValueError):
        rows({"a": mean})


def test_integer_columns_are_written_exactly(tmp_path):
    rng = np.random.default_rng(0)
    columns = trajectory_columns(x=rng.integers(-10**12, 10**12, (7, 5)), y=rng.integers(0, 3, (7, 5)))
    columns["x"][:3] = [0, -1, 10**17]
    write_columns(tmp_path / "t.csv", columns)
    with open(tmp_path / "t.csv", newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["trajectory", "generation", "x", "y"]
    assert [[int(v) for v in r] for r in got[1:]] == np.stack(list(columns.values()), axis=1).tolist()
    back = results.read_columns(tmp_path / "t.csv")
    assert all(np.array_equal(back[k], columns[k]) for k in columns)


def test_numeric_columns_are_written_as_the_csv_module_writes_them(tmp_path):
    rng = np.random.default_rng(1)
    columns = trajectory_columns(mu=rng.standard_normal((6, 4)) * 10.0 ** rng.integers(-300, 300, (6, 4)),
                                 flag=rng.random((6, 4)) > 0.5)
    columns["mu"][:4] = [math.nan, math.inf, -0.0, 5e-324]
    write_columns(tmp_path / "fast.csv", columns)
    with open(tmp_path / "slow.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(columns))
        w.writerows(zip(*(np.asarray(c).tolist() for c in columns.values())))
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    back = results.read_columns(tmp_path / "fast.csv")
    assert np.array_equal(back["mu"], columns["mu"], equal_nan=True)
    write_columns(tmp_path / "empty.csv", {"x": np.array([]), "y": np.array([], dtype=np.int64)})
    assert (tmp_path / "empty.csv").read_text() == "x,y\n"


def test_versions_are_those_importlib_metadata_finds():
    from importlib.metadata import PackageNotFoundError, version

    def reference(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    found = results.versions()
    assert found["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert {name: found[name] for name in results._PACKAGES} == {name: reference(name) for name in results._PACKAGES}


def test_a_non_finite_summary_is_refused():
    with pytest.raises(InputError, match="survival is inf at generation 1"):
        Results("poisson", {"generations": 1}, rows({"generation": np.arange(2), "survival": [1.0, math.inf]}),
                trajectory_columns(count=np.zeros((1, 2), int)))


def test_reading_a_folder_that_is_not_results(tmp_path):
    (tmp_path / "summary.json").write_text('{"kind": "ngram"}')
    with pytest.raises(InputError, match="not a results folder"):
        read(tmp_path)
