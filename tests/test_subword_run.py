"""Subword runs (``--tokenizer bpe``) on the one generation loop: checked against the word-level path and
its theory, invented words, the workflows on text, the results format, the command line and the report.

Statistical tolerance: 4 standard errors of the mean over trajectories, at every generation.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ngram_collapse import results
from ngram_collapse.bounds import corollary2_expected_distinct
from ngram_collapse.corpus import load_sequences, resolve
from ngram_collapse.errors import InputError
from ngram_collapse.experiment import run_experiment
from ngram_collapse.subword import SubwordTokenizer, normalize
from ngram_collapse.subword_model import SubwordSettings, text_lines
from ngram_collapse.subword_run import MEASURED, NOVEL_HEADER, reading_options, run_subword
from ngram_collapse.vocab import Sequences
from helpers import mean_and_se

HUGE = 10**7


@pytest.fixture(scope="module")
def prefix(valid):
    """The first 300 lines of WikiText-2 valid as word Sequences with their own vocabulary."""
    return Sequences.encode(valid[:300])


@pytest.fixture(scope="module")
def whole_words(prefix):
    """Frozen BPE settings large enough that every word of ``prefix`` is one token."""
    most = len(SubwordTokenizer("bpe", HUGE, allow_smaller=True).fit(text_lines(prefix)).vocabulary)
    return SubwordSettings("bpe", most, "frozen")


def per_trajectory(run, column):
    return run.per_trajectory(column).astype(float)


# -- the subword path checked against the word-level one -------------------------------------------
def test_frozen_whole_word_tokenizer_matches_corollary2_as_the_word_level_run_does(prefix, whole_words):
    """Order 1, Poisson sampling, a frozen tokenizer whose tokens are whole words: through text, the
    run is the word-level process, so its original words follow Corollary 2 exactly (docs/theory.md
    §13.3), as the word-level run's do; no word is invented and every word is one subword."""
    settings = dict(order=1, generations=6, trajectories=16, sampling="poisson", seed=11)
    subword = run_subword(prefix, subword=whole_words, **settings)
    word = run_experiment(prefix, **settings)
    expected = corollary2_expected_distinct(prefix.counts(), np.arange(7))
    assert np.allclose(subword.column("expected"), expected) and np.allclose(word.column("expected"), expected)
    for run, column in ((subword, "original_words"), (word, "distinct_words")):
        mean, se = mean_and_se(per_trajectory(run, column))
        assert mean[0] == expected[0]
        z = (mean[1:] - expected[1:]) / se[1:]
        assert np.all(np.abs(z) < 4), z
        wrong = corollary2_expected_distinct(prefix.counts(), np.arange(7) + 1)
        assert np.any(np.abs(mean[1:] - wrong[1:]) / se[1:] > 4)  # the check can fail
    assert np.all(subword.per_trajectory("novel_words") == 0)
    assert np.all(subword.per_trajectory("subwords_per_word") == 1.0)
    assert np.all(subword.per_trajectory("vocabulary_overlap") == 1.0)
    assert np.array_equal(subword.per_trajectory("tokens"), subword.per_trajectory("subword_tokens"))


def test_frozen_whole_word_tokenizer_at_order_3_is_the_word_level_process(prefix, whole_words):
    """Order 3, multinomial sampling: the subword run's original words and the word-level run's
    distinct words have the same law, so their means agree within 4 standard errors of the difference
    at every generation; both keep exactly the corpus's number of words."""
    settings = dict(order=3, generations=5, trajectories=16, sampling="multinomial")
    subword = run_subword(prefix, subword=whole_words, seed=21, **settings)
    word = run_experiment(prefix, seed=22, **settings)
    a, se_a = mean_and_se(per_trajectory(subword, "original_words"))
    b, se_b = mean_and_se(per_trajectory(word, "distinct_words"))
    z = (a[1:] - b[1:]) / np.sqrt(se_a[1:] ** 2 + se_b[1:] ** 2)
    assert np.all(np.abs(z) < 4), z
    assert np.all(a[1:] < a[0] - 100)  # words are lost: a comparison with room to fail
    assert np.all(subword.per_trajectory("tokens") == prefix.num_tokens)
    assert subword.generations[1].keys() >= {"bound_lower", "bound_upper", "predicted", "sequence_limit"}


def test_the_runs_reading_round_trips_through_the_tokenizer(data_dir):
    """A subword run reads the corpus as white-space words: its lines are the raw lines normalised,
    and the tokenizer trained on them gives them back exactly after encoding and decoding."""
    spec = str(data_dir / "wikitext-2" / "valid.txt")
    data = load_sequences(spec, **reading_options({"tokenizer": "bpe"}))
    lines = text_lines(data)
    assert lines == normalize(resolve(spec).lines())
    tokenizer = SubwordTokenizer("bpe", 2000).fit(lines)
    assert tokenizer.decode(tokenizer.encode(lines)) == lines


# -- invented words --------------------------------------------------------------------------------
def novel_rows(run):
    return list(run.tables["novel_words"].rows())


def test_subword_models_invent_words_and_word_level_ones_do_not(prefix, whole_words):
    """Order 2 on a small corpus: a subword model spells words the corpus never had (novel_words > 0
    in every generation, listed in novel_words.csv), a word-level one (here: whole-word tokens) none."""
    vocabulary = set(prefix.vocab.words)
    for policy in ("retrained", "frozen"):
        run = run_subword(prefix, order=2, generations=3, trajectories=2, seed=1,
                          subword=SubwordSettings("bpe", 600, policy))
        novel = run.per_trajectory("novel_words")
        assert np.all(novel[:, 0] == 0) and np.all(novel[:, 1:] > 50)
        assert np.all(run.per_trajectory("distinct_words") == run.per_trajectory("original_words") + novel)
        rows = novel_rows(run)
        assert not {r[0] for r in rows} & vocabulary
        for t in range(2):
            mine = [r for r in rows if r[3] == t]
            assert len(mine) == run.per_trajectory("novel_seen")[t, -1] == len({r[0] for r in mine})
            assert [r[1] for r in mine] == sorted(r[1] for r in mine) and {r[1] for r in mine} <= {1, 2, 3}
            assert np.count_nonzero([r[2] for r in mine]) == novel[t, -1]
    word = run_subword(prefix, order=2, generations=3, trajectories=2, seed=1, subword=whole_words)
    assert np.all(word.per_trajectory("novel_words") == 0) and novel_rows(word) == []


def test_original_words_can_come_back(prefix):
    """A word spelt by several subwords can be absent from one generation and spelt again later
    (words.csv's returned_at); a word-level maximum-likelihood model never brings one back."""
    run = run_subword(prefix, order=2, generations=6, trajectories=2, seed=4, subword=SubwordSettings("bpe", 600))
    rows = list(run.tables["words"].rows())
    back = [(r[3], r[4]) for r in rows if r[4] != ""]
    assert back and all(0 < forgotten < returned for forgotten, returned in back)


# -- workflows and the sample size -----------------------------------------------------------------
@pytest.mark.parametrize("workflow, fraction", [("mix-fresh", 0.2), ("mix-fixed", 0.2), ("accumulate", None),
                                                ("accumulate-subsample", None)])
def test_every_workflow_runs_on_text(prefix, workflow, fraction):
    """The workflows combine text as word Sequences: sizes counted in words, as in word-level runs."""
    run = run_subword(prefix, order=2, generations=3, trajectories=2, seed=2, workflow=workflow,
                      real_fraction=fraction, subword=SubwordSettings("bpe", 600))
    tokens = run.per_trajectory("tokens")
    n = prefix.num_tokens
    if workflow == "accumulate":
        assert np.all(tokens == n * np.arange(1, 5))
        assert np.all(run.per_trajectory("original_words") == np.count_nonzero(prefix.counts()))
    elif workflow != "mix-fixed":
        assert np.all(tokens == n)
    assert np.all(run.per_trajectory("novel_words")[:, 1:] > 0)


def test_short_draws_are_drawn_again(prefix, monkeypatch):
    """A budget of subword tokens too small for the words asked for is drawn again, twice as large:
    the sample still has exactly the corpus's number of words, and the redraws are counted."""
    import ngram_collapse.subword_model as subword_model

    monkeypatch.setattr(subword_model, "_MARGIN", 0.3)
    run = run_subword(prefix, order=3, generations=2, trajectories=1, seed=3, subword=SubwordSettings("bpe", 600))
    assert run.timings["sample_redraws"] >= 2
    assert np.all(run.per_trajectory("tokens") == prefix.num_tokens)


# -- results, determinism, errors ------------------------------------------------------------------
def test_results_do_not_depend_on_jobs(prefix):
    runs = [run_subword(prefix, order=3, generations=2, trajectories=3, seed=5, jobs=jobs,
                        subword=SubwordSettings("bpe", 600)) for jobs in (1, 2)]
    assert runs[0].generations == runs[1].generations
    for name in runs[0].trajectories:
        assert np.array_equal(runs[0].trajectories[name], runs[1].trajectories[name])
    for table in ("words", "novel_words"):
        assert list(runs[0].tables[table].rows()) == list(runs[1].tables[table].rows())


def test_timings_split_by_stage(prefix):
    run = run_subword(prefix, order=2, generations=1, trajectories=2, seed=0, subword=SubwordSettings("bpe", 600))
    stages = ("tokenizer_training", "encoding", "ngram", "decoding", "measures")
    assert all(run.timings[f"{stage}_seconds"] > 0 for stage in stages)
    assert run.timings["sample_redraws"] == 0


def test_bad_settings_name_their_parameter(prefix):
    for kwargs, name in (({"subword_vocab_size": 0}, "subword_vocab_size"),
                         ({"tokenizer_policy": "sometimes"}, "tokenizer_policy"),
                         ({"tokenizer": "unigram"}, "tokenizer")):
        with pytest.raises(InputError) as e:
            SubwordSettings(**kwargs)
        assert e.value.parameter == name and str(e.value).startswith(name)
    with pytest.raises(InputError) as e:
        SubwordSettings.from_options({"tokenizer": "whitespace", "tokenizer_policy": "frozen"})
    assert e.value.parameter == "tokenizer_policy"
    assert SubwordSettings.from_options({"tokenizer": "whitespace"}) is None
    assert SubwordSettings.from_options({"tokenizer": "bpe", "subword_vocab_size": None}) == SubwordSettings()
    with pytest.raises(InputError) as e:
        run_subword(prefix, order=2, generations=1, trajectories=1, subword=SubwordSettings("bpe", HUGE))
    assert e.value.parameter == "subword_vocab_size" and str(e.value).startswith(f"subword_vocab_size={HUGE} ")


SMALL = ["--generations", "2", "--trajectories", "2", "--quiet"]



def test_cli_writes_the_results_format(tmp_path, data_dir, cli):
    out = tmp_path / "run"
    argv = ["--tokenizer", "bpe", "--subword-vocab-size", "800", "--corpus", "wikitext-2:valid", "--data-dir",
            data_dir, "--max-words", "15000", "--order", "3", "--out", out, *SMALL]
    code, stdout, _ = cli([*argv, "--keep-text"])
    assert code == 0 and "BPE 800 tokens (retrained)" in stdout and "novel seen" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == list(results.TOP_LEVEL) and summary["kind"] == "subword"
    config = summary["config"]
    assert (config["tokenizer"], config["subword_vocab_size"], config["tokenizer_policy"]) == ("bpe", 800, "retrained")
    assert config["corpus"] == "wikitext-2:valid" and config["max_words"] == 15000
    assert {f"{stage}_seconds" for stage in ("tokenizer_training", "encoding", "ngram", "decoding")} <= set(
        summary["timings"])
    row = summary["generations"][2]
    assert {"distinct_mean", "distinct_std", "original_words", "original_words_std", "novel_words",
            "novel_seen", "distinct_subwords", "vocabulary_overlap", "subwords_per_word",
            "bound_lower", "bound_upper", "predicted"} <= set(row)
    with open(out / "generations.csv", encoding="utf-8") as f:
        generations = list(csv.DictReader(f))
    assert list(generations[0]) == ["trajectory", "generation", *MEASURED]
    with open(out / "novel_words.csv", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == NOVEL_HEADER
    with open(out / "words.csv", encoding="utf-8") as f:
        assert next(csv.reader(f))[:5] == ["word", "count", "trajectory", "forgotten_at", "returned_at"]
    with open(out / "text.csv", encoding="utf-8", newline="") as f:
        text = list(csv.DictReader(f))
    for g in generations[1:]:
        lines = [r["line"] for r in text if (r["trajectory"], r["generation"]) == (g["trajectory"], g["generation"])]
        if g["generation"] != "0":
            assert sum(len(line.split()) for line in lines) == int(g["tokens"]) == 15000
    assert (out / "survival.png").stat().st_size > 10_000
    run = results.read(out)
    assert run.kind == "subword" and results.frame(out, "novel_words").shape[1] == 4
    code, _, _ = cli([*argv, "--overwrite", "--no-plot"])  # a subword run replaces its own results
    assert code == 0 and not (out / "text.csv").exists()


def bad_subword_inputs(tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\t\n\n")
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("the cat sat on the mat\nthe dog sat\n")
    return {
        "empty after cleaning": (["--tokenizer", "bpe", "--corpus", blank], "has no words"),
        "too small for the vocabulary": (["--tokenizer", "bpe", "--corpus", tiny], "--subword-vocab-size=8000 is too large"),
        "smaller than the alphabet": (["--tokenizer", "bpe", "--corpus", tiny, "--subword-vocab-size", "3"],
                                      "--subword-vocab-size=3 is smaller than the alphabet"),
        "vocabulary 0": (["--tokenizer", "bpe", "--subword-vocab-size", "0"], "--subword-vocab-size must be >= 1"),
        "size without bpe": (["--subword-vocab-size", "100"], "--subword-vocab-size applies to a subword tokenizer"),
        "policy without bpe": (["--tokenizer-policy", "frozen"], "--tokenizer-policy applies to a subword tokenizer"),
        "text without bpe": (["--keep-text"], "--keep-text applies to a subword run"),
        "unknown policy": (["--tokenizer", "bpe", "--tokenizer-policy", "never"], "invalid choice"),
    }


@pytest.mark.parametrize("case", list(bad_subword_inputs(__import__("pathlib").Path("/tmp"))))
def test_bad_subword_input_is_one_line_exit_2_and_nothing_written(case, tmp_path, cli):
    argv, message = bad_subword_inputs(tmp_path)[case]
    code, _, stderr = cli([*SMALL, *argv, "--out", tmp_path / "out"])
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ngram-collapse: error:"), stderr
    assert message in lines[0]
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_report_runs_subword_cells(tmp_path, data_dir, cli):
    out = tmp_path / "report"
    argv = ["report", "--tokenizer", "bpe", "--subword-vocab-size", "600", "--tokenizer-policy", "frozen",
            "--corpus", "wikitext-2:valid", "--data-dir", data_dir, "--max-words", "8000", "--orders", "2,3",
            "--sampling", "multinomial", "--jobs", "1", "--out", out, *SMALL]
    code, stdout, _ = cli(argv)
    assert code == 0 and "2 cells run" in stdout
    cell = json.loads((out / "wikitext-2_valid-n2-multinomial" / "summary.json").read_text())
    assert cell["kind"] == "subword" and cell["config"]["tokenizer_policy"] == "frozen"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Invented words per generation" in page and "Tokenizer drift per generation" in page
    code, stdout, _ = cli(argv)
    assert code == 0 and "0 cells run, 2 already finished" in stdout
    code, _, stderr = cli([*argv[:4], "800", *argv[5:]])  # the same folder, another vocabulary
    assert code == 2 and "subword_vocab_size=600" in stderr
