"""The main command end to end: outputs, reproducibility, and one clear line for every bad input."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import clean_env

SMALL = ["--generations", "2", "--trajectories", "2", "--quiet"]


def test_run_writes_every_output(tmp_path, cli, data_dir):
    out = tmp_path / "run"
    code, stdout, _ = cli(["--corpus", "wikitext-2:valid", "--data-dir", data_dir, "--order", "3",
                           "--max-words", "20000", "--out", out, *SMALL])
    assert code == 0
    assert "bound_lower" in stdout and str(out) in stdout
    rows = list(csv.DictReader(open(out / "generations.csv")))
    assert [r["generation"] for r in rows] == ["0", "1", "2"] * 2
    assert {r["tokens"] for r in rows} == {"20000"}
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["kind", "config", "versions", "timings", "generations"] and summary["kind"] == "ngram"
    assert summary["config"]["order"] == 3 and summary["config"]["corpus"] == "wikitext-2:valid"
    assert [g["generation"] for g in summary["generations"]] == [0, 1, 2]
    assert {"distinct_mean", "distinct_std", "tokens_mean", "bound_lower", "bound_upper"} <= set(summary["generations"][1])
    assert summary["generations"][0]["tokens_mean"] == 20000
    assert summary["generations"][0]["distinct_mean"] == len({r["word"] for r in csv.DictReader(open(out / "words.csv"))})
    assert (out / "survival.png").stat().st_size > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_poisson_run_reports_corollary2(tmp_path, cli):
    code, stdout, _ = cli(["--sampling", "poisson", "--out", tmp_path / "p", "--no-plot", *SMALL])
    assert code == 0
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert "expected" in summary["generations"][1] and "bound_lower" not in summary["generations"][1]
    assert summary["config"]["corpus"] == "python-docs"


def test_same_seed_same_numbers_whatever_the_jobs(tmp_path, cli):
    outs = []
    for name, extra in (("a", []), ("b", []), ("c", ["--jobs", "2"])):
        code, _, _ = cli(["--order", "2", "--seed", "3", "--no-plot", "--out", tmp_path / name, *SMALL, *extra])
        assert code == 0
        outs.append((tmp_path / name / "generations.csv").read_text())
    assert outs[0] == outs[1] == outs[2]
    code, _, _ = cli(["--order", "2", "--seed", "4", "--no-plot", "--out", tmp_path / "d", *SMALL])
    assert (tmp_path / "d" / "generations.csv").read_text() != outs[0]


def bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\u00e9 au lait\n".encode("utf-8") + "na\u00efve\n".encode("latin-1"))
    afile = tmp_path / "file"
    afile.write_text("x")
    return {
        "missing corpus": (["--corpus", tmp_path / "nope.txt"], "no such file"),
        "empty corpus": (["--corpus", empty], "has no words"),
        "binary corpus": (["--corpus", binary], "binary"),
        "undecodable": (["--corpus", latin], "line 2, byte 3: not valid UTF-8"),
        "empty folder": (["--corpus", tmp_path / "sub"], "no .txt files"),
        "order 0": (["--order", "0"], "--order"),
        "order too high": (["--order", "65"], "--order must be in [1, 64], not 65"),
        "negative generations": (["--generations", "-1"], "--generations"),
        "no trajectories": (["--trajectories", "0"], "--trajectories"),
        "not a number": (["--trajectories", "many"], "not an integer"),
        "unknown option": (["--frobnicate"], "unrecognized"),
        "unknown split": (["--corpus", "wikitext-2:dev"], "no split"),
        "out is a file": (["--out", afile], "not a folder"),
        "out unwritable": (["--out", afile / "sub"], "cannot write"),
        "max words 0": (["--max-words", "0"], "--max-words"),
    }


@pytest.mark.parametrize("case", list(bad_inputs(Path("/tmp"))))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, cli):
    (tmp_path / "sub").mkdir()
    argv, message = bad_inputs(tmp_path)[case]
    out_given = "--out" in argv
    argv = [*SMALL, *argv, *([] if out_given else ["--out", tmp_path / "out"])]  # the bad value comes last: it counts
    code, stdout, stderr = cli(argv)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ngram-collapse: error:"), stderr
    assert message in lines[0]
    assert not (tmp_path / "out").exists()


def test_encoding_errors_replace_goes_on(tmp_path, cli):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("na\u00efve words here\nand more words\n".encode("latin-1"))
    code, stdout, _ = cli(["--corpus", latin, "--encoding-errors", "replace", "--no-plot",
                           "--out", tmp_path / "o", *SMALL])
    assert code == 0


def test_offline_registered_corpus_without_local_copy(tmp_path):
    """No local copy and no network: one line that names both ways to fix it, exit 2, no traceback."""
    env = clean_env(NGRAM_COLLAPSE_DATA=str(tmp_path), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                         HF_HOME=str(tmp_path / "hf"))
    proc = subprocess.run([sys.executable, "-m", "ngram_collapse", "--corpus", "wikitext-2:test",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "NGRAM_COLLAPSE_DATA" in lines[0] and "--data-dir" in lines[0] and "network" in lines[0]
    assert not (tmp_path / "out").exists()


def test_main_command_is_light_and_exits_0(tmp_path):
    """`python -m ngram_collapse` on the embedded default: exit 0; nltk, datasets, matplotlib not imported."""
    code = (
        "import sys, runpy\n"
        "sys.argv = ['ngram_collapse', '--no-plot', '--quiet', '--generations', '1', '--out', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('ngram_collapse', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "heavy = [m for m in ('nltk', 'datasets', 'matplotlib', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "o")], capture_output=True, text=True,
                          env=clean_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "summary.json").exists()
