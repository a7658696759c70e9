"""Shared fixtures. The WikiText-2 test data are read from $NGRAM_COLLAPSE_DATA, by default the
``shared/corpora`` folder beside this checkout; nothing here needs the network."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NGRAM_COLLAPSE_DATA") or REPO.parent / "shared" / "corpora")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding ``wikitext-2/{train,valid}.txt``."""
    if not (DATA / "wikitext-2" / "valid.txt").is_file():
        pytest.fail(f"test corpora not found in {DATA}: set NGRAM_COLLAPSE_DATA to the shared corpora folder")
    return DATA


@pytest.fixture(scope="session")
def valid(data_dir):
    """WikiText-2 validation split as Sequences (213,886 words)."""
    from ngram_collapse.corpus import load_sequences

    return load_sequences("wikitext-2:valid", data_dir=data_dir)


@pytest.fixture(scope="session")
def small(valid):
    """The first 300 sequences of the validation split, as lists of words."""
    return [list(s) for s in valid[:300]]


@pytest.fixture
def cli(capsys):
    """The command line run in this process: ``cli(argv)`` -> (exit status, stdout, stderr); the
    arguments may be paths or numbers."""
    from ngram_collapse.cli import main

    def run(argv) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
