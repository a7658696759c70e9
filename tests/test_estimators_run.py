"""Smoothed estimators in recursive runs, the vocabulary policies, and held-out perplexity per generation
(the estimators themselves are checked against NLTK in tests/test_smoothing.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ngram_collapse import cli
from ngram_collapse.experiment import run_experiment
from ngram_collapse.smoothing import SmoothedNgram
from ngram_collapse.vocab import Sequences


@pytest.fixture(scope="module")
def slices(valid):
    train = Sequences(valid.ids[:valid.offsets[600]], valid.offsets[:601], valid.vocab)
    heldout = Sequences(valid.ids[valid.offsets[600]:valid.offsets[800]] , valid.offsets[600:801] - valid.offsets[600],
                        valid.vocab)
    return train, heldout


def test_generation0_perplexity_is_the_estimators(slices):
    """The run's perplexity at generation 0 is the evaluation model's perplexity on the held-out text,
    fitted on the corpus: floored kneser-ney for an mle run, the run's own model for a smoothed one."""
    train, heldout = slices
    mle = run_experiment(train, order=3, generations=1, trajectories=1, heldout=heldout)
    floored = SmoothedNgram(3, "kneser-ney", unigram_floor=True).fit(train)
    assert mle.generations[0]["perplexity"] == pytest.approx(floored.perplexity(heldout), rel=1e-12)
    assert mle.generations[0]["heldout_oov_rate"] == pytest.approx(floored.heldout_oov_rate(heldout), rel=1e-12)
    lid = run_experiment(train, order=2, generations=1, trajectories=1, heldout=heldout, estimator="lidstone",
                         gamma=0.2)
    own = SmoothedNgram(2, "lidstone", gamma=0.2).fit(train)
    assert lid.generations[0]["perplexity"] == pytest.approx(own.perplexity(heldout), rel=1e-12)
    laplace = run_experiment(train, order=1, generations=1, trajectories=1, heldout=heldout)  # order 1: laplace
    assert laplace.generations[0]["perplexity"] == pytest.approx(SmoothedNgram(1, "laplace").fit(train).perplexity(heldout))


def test_collapse_raises_perplexity_and_oov(slices):
    train, heldout = slices
    run = run_experiment(train, order=2, generations=4, trajectories=2, seed=3, heldout=heldout)
    assert np.all(np.diff(run.column("perplexity")) > 0) and np.all(np.diff(run.column("heldout_oov_rate")) > 0)
    assert run.per_trajectory("perplexity").shape == (2, 5)


def test_fixed_vocabulary_brings_words_back(slices):
    """Retrained: an absent word is gone for good. Fixed: lidstone keeps probability for every original
    word, so forgotten words return, and words.csv says when."""
    train, _ = slices
    retrained = run_experiment(train, order=2, generations=4, trajectories=2, seed=4, estimator="lidstone", gamma=0.05)
    fixed = run_experiment(train, order=2, generations=4, trajectories=2, seed=4, estimator="lidstone", gamma=0.05,
                           vocabulary="fixed")
    assert all(row[4] == "" for row in retrained.tables["words"].rows())
    returned = [row for row in fixed.tables["words"].rows() if row[4] != ""]
    assert returned and all(row[4] > row[3] for row in returned)
    assert fixed.column("distinct_mean")[-1] > retrained.column("distinct_mean")[-1]


def test_every_estimator_runs_recursively(slices):
    train, heldout = slices
    for estimator, options in (("laplace", {}), ("witten-bell", {}), ("kneser-ney", {"discount": 0.5})):
        run = run_experiment(train, order=2, generations=2, trajectories=1, estimator=estimator, heldout=heldout,
                             **options)
        assert run.config["estimator"] == estimator and len(run.generations) == 3
        assert "bound_lower" not in run.generations[0]  # the corollaries are about mle models
    assert run.generations[0]["perplexity"] is not None  # kneser-ney is scored with its unigram floor
    witten_bell = run_experiment(train, order=2, generations=1, trajectories=1, estimator="witten-bell",
                                 heldout=heldout)
    assert witten_bell.generations[0]["perplexity"] is None  # NLTK's witten-bell gives new words 0: infinite


def test_cli_prints_perplexity_and_writes_the_figure(tmp_path, capsys, data_dir):
    out = tmp_path / "run"
    assert cli.main(["--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "20000", "--order",
                     "3", "--estimator", "kneser-ney", "--eval-corpus", "wikitext-2:valid", "--generations", "2",
                     "--trajectories", "2", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "own kneser-ney model with the unigram floor" in printed
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["k", "distinct"])
    assert lines[header].split()[-5:] == ["perplexity", "sd", "held-out", "OOV", "rate"]  # beside distinct words
    assert [line.split()[0] for line in lines[header + 1:header + 4]] == ["0", "1", "2"]
    assert sorted(p.name for p in out.iterdir()) == ["generations.csv", "perplexity.png", "summary.json",
                                                     "survival.png", "words.csv"]
    rows = json.loads((out / "summary.json").read_text())["generations"]
    assert all(r["perplexity"] > 0 and 0 <= r["heldout_oov_rate"] < 1 for r in rows)


@pytest.mark.parametrize("argv, flag", [
    (["--estimator", "lidstone", "--gamma", "-0.5"], "--gamma"),
    (["--estimator", "lidstone"], "--gamma"),
    (["--estimator", "kneser-ney", "--order", "2", "--discount", "0"], "--discount"),
    (["--estimator", "kneser-ney", "--order", "2", "--discount", "1"], "--discount"),
    (["--estimator", "bayes"], "--estimator"),
    (["--eval-corpus", "/no/such/corpus.txt"], "--eval-corpus"),
    (["--estimator", "kneser-ney"], "--order"),
    (["--vocabulary", "fixed"], "--vocabulary"),
    (["--estimator", "laplace", "--top-k", "3"], "--estimator"),
    (["report", "--estimators", "mle,bayes"], "--estimators"),
])
def test_bad_estimator_values_are_one_line_and_exit_2(argv, flag, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0], err
    assert not out.exists()


def test_report_takes_estimators_as_an_axis(tmp_path, capsys, data_dir):
    out = tmp_path / "r"
    assert cli.main(["report", "--corpus", "wikitext-2:valid", "--data-dir", str(data_dir), "--max-words", "8000",
                     "--orders", "2", "--sampling", "poisson", "--estimators", "mle,lidstone", "--gamma", "0.1",
                     "--eval-corpus", "wikitext-2:valid", "--generations", "2", "--trajectories", "1", "--jobs", "1",
                     "--quiet", "--out", str(out)]) == 0
    rows = (out / "cells.csv").read_text().splitlines()
    assert [r.split(",")[14] for r in rows[1:]] == ["mle", "lidstone"] and all(r.split(",")[15] for r in rows[1:])
    assert "Held-out perplexity" in (out / "report.html").read_text()
