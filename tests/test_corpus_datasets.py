"""Datasets as corpora: folders saved by ``datasets``, parquet and jsonl, written by the tests
themselves; and the Hugging Face hub when it cannot be reached (never the network)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from ngram_collapse.corpus import load_sequences, resolve
from ngram_collapse.errors import InputError

ROWS = [" = Title = \n", "\n", " first line of text , with words .\n", "two\nlines in one row\n",
        "", "last row without line end"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache of ``datasets`` (where it converts parquet / jsonl) inside the test's folder."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def as_text(tmp_path):
    """The same rows as a text file, one row per line: the reference reading."""
    f = tmp_path / "rows.txt"
    f.write_text("\n".join(ROWS), encoding="utf-8")
    return load_sequences(str(f))


def same(a, b):
    return (np.array_equal(a.ids, b.ids) and np.array_equal(a.offsets, b.offsets)
            and a.vocab.words == b.vocab.words)


def test_save_to_disk_folders(tmp_path, cache, as_text):
    import datasets

    rows = datasets.Dataset.from_dict({"text": ROWS, "n": list(range(len(ROWS)))})
    datasets.DatasetDict({"train": rows, "test": rows.select([2])}).save_to_disk(tmp_path / "dict")
    rows.save_to_disk(tmp_path / "one")
    assert same(load_sequences(str(tmp_path / "dict")), as_text)  # split train by default
    assert same(load_sequences(f"hf:{tmp_path / 'dict'}:train"), as_text)
    assert list(load_sequences(f"hf:{tmp_path / 'dict'}::test:text")) == [ROWS[2].split()]
    assert same(load_sequences(str(tmp_path / "one")), as_text)
    with pytest.raises(InputError, match="has no split 'valid' \\(choose from train, test\\)"):
        load_sequences(f"hf:{tmp_path / 'dict'}:valid")
    with pytest.raises(InputError, match="field 'n' holds .*int64.*, not text"):
        load_sequences(f"hf:{tmp_path / 'dict'}::train:n")
    with pytest.raises(InputError, match=r"has no text field 'body' \(fields: text, n\)"):
        load_sequences(f"hf:{tmp_path / 'dict'}::train:body")


def test_parquet_and_jsonl(tmp_path, cache, as_text):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "pq").mkdir()
    pq.write_table(pa.table({"content": ROWS}), tmp_path / "pq" / "train.parquet")
    with open(tmp_path / "rows.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": row}) + "\n" for row in ROWS)
    assert same(load_sequences(f"hf:{tmp_path / 'pq'}::train:content"), as_text)
    assert same(load_sequences(str(tmp_path / "rows.jsonl")), as_text)
    assert resolve(str(tmp_path / "rows.jsonl")).hub == (str(tmp_path / "rows.jsonl"), None, None, "text")
    with pytest.raises(InputError, match=r"no text field 'text' \(fields: content\); name one as hf:.*pq::train:"):
        load_sequences(str(tmp_path / "pq"))


def test_dataset_held_in_memory(tmp_path, cache, monkeypatch, as_text):
    import datasets

    datasets.Dataset.from_dict({"text": ROWS}).save_to_disk(tmp_path / "one")
    monkeypatch.setattr(datasets.config, "IN_MEMORY_MAX_SIZE", 1 << 30)
    assert not datasets.load_from_disk(str(tmp_path / "one")).cache_files
    assert same(load_sequences(str(tmp_path / "one")), as_text)


def test_max_words_and_blocks_across_rows(tmp_path, cache, monkeypatch, as_text):
    import datasets

    import ngram_collapse.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", 8)
    datasets.Dataset.from_dict({"text": ROWS}).save_to_disk(tmp_path / "one", num_shards=3)
    assert len(list((tmp_path / "one").glob("*.arrow"))) == 3
    assert same(load_sequences(str(tmp_path / "one")), as_text)
    first_five = [["=", "Title", "="], ["first", "line"]]
    assert list(load_sequences(str(tmp_path / "one"), max_words=5)) == first_five


@pytest.mark.parametrize("damage", ["truncated arrow", "bad state.json", "truncated parquet", "bad jsonl",
                                    "empty jsonl", "not parquet"])
def test_damaged_datasets_are_one_line_errors(tmp_path, cache, damage):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    if damage in ("truncated arrow", "bad state.json"):
        spec = tmp_path / "saved"
        datasets.Dataset.from_dict({"text": ROWS * 100}).save_to_disk(spec)
        if damage == "truncated arrow":
            arrow = next(spec.glob("*.arrow"))
            arrow.write_bytes(arrow.read_bytes()[:-200])
        else:
            (spec / "state.json").write_text("{not json")
    elif damage == "truncated parquet":
        spec = tmp_path / "train.parquet"
        pq.write_table(pa.table({"text": ROWS}), spec)
        spec.write_bytes(spec.read_bytes()[:-20])
    elif damage == "not parquet":
        spec = tmp_path / "train.parquet"
        spec.write_bytes(b"\0\1 not a parquet file")
    else:
        spec = tmp_path / "rows.jsonl"
        spec.write_text('{"text": "a b"}\n{"text": "c d"\n' if damage == "bad jsonl" else "")
    with pytest.raises(InputError) as e:
        load_sequences(str(spec))
    assert "\n" not in str(e.value) and str(spec.name) in str(e.value)


def test_wikitext_rows_read_like_the_local_file(tmp_path, cache, data_dir):
    """The hub's rows of WikiText (one line each, with its line end) read as the local copy."""
    import datasets

    with open(data_dir / "wikitext-2" / "valid.txt", encoding="utf-8") as f:
        rows = [line for line in f]
    hub_like = datasets.DatasetDict({"validation": datasets.Dataset.from_dict({"text": rows})})
    hub_like.save_to_disk(tmp_path / "wt")
    local = load_sequences("wikitext-2:valid", data_dir=data_dir)
    assert same(load_sequences(f"hf:{tmp_path / 'wt'}:validation"), local)


# --- the hub, unreachable -----------------------------------------------------------------------

@pytest.fixture
def silent_endpoint():
    """An HTTP endpoint that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def run_cli(tmp_path, corpus, endpoint):
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": endpoint,
           "NGRAM_COLLAPSE_DATA": str(tmp_path / "data")}
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("HF_DATASETS_OFFLINE", None)
    start = time.monotonic()
    command = [sys.executable, "-m", "ngram_collapse", "--corpus", corpus, "--out", str(tmp_path / "out")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - start


@pytest.mark.parametrize("endpoint", ["silent", "http://127.0.0.1:9"])  # never answers; refused
def test_unreachable_hub_fails_fast_with_one_line(tmp_path, silent_endpoint, endpoint):
    endpoint = silent_endpoint if endpoint == "silent" else endpoint
    done, seconds = run_cli(tmp_path, "hf:nobody/nothing:train", endpoint)
    assert done.returncode == 2 and seconds < 5
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"the Hugging Face hub ({endpoint}) cannot be reached" in done.stderr
    assert "save_to_disk" in done.stderr


def test_registered_corpus_without_network_names_the_local_copy(tmp_path, silent_endpoint):
    done, seconds = run_cli(tmp_path, "wikitext-103:valid", silent_endpoint)
    assert done.returncode == 2 and seconds < 10
    assert done.stderr.count("\n") == 1
    assert f"put a copy at {tmp_path / 'data' / 'wikitext-103' / 'valid.txt'}" in done.stderr
