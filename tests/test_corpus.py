"""Corpus resolution, reading and tokenizers."""
from __future__ import annotations

import pytest

from ngram_collapse.corpus import DEFAULT_CORPUS, load_sequences, registry, resolve
from ngram_collapse.errors import InputError
from ngram_collapse.tokenize import get_tokenizer


def test_registry_lists_wikitext():
    entries = registry()
    assert {"wikitext-2", "wikitext-2-raw"} <= set(entries)
    assert entries["wikitext-2"]["hub_splits"]["valid"] == "validation"


def test_registered_name_reads_the_local_copy(data_dir):
    corpus = resolve("wikitext-2", data_dir)
    assert corpus.files == (data_dir / "wikitext-2" / "train.txt",)
    data = load_sequences("wikitext-2:valid", data_dir=data_dir)
    assert data.num_tokens == 213_886  # README of the shared corpora: whitespace words
    assert len(data) == sum(1 for line in open(data_dir / "wikitext-2" / "valid.txt", encoding="utf-8") if line.split())


def test_environment_variable_is_the_default_data_dir(data_dir, monkeypatch):
    monkeypatch.setenv("NGRAM_COLLAPSE_DATA", str(data_dir))
    assert resolve("wikitext-2:valid").files == (data_dir / "wikitext-2" / "valid.txt",)


def test_missing_local_copy_falls_back_to_the_hub(tmp_path):
    corpus = resolve("wikitext-2:test", tmp_path)
    assert corpus.files == () and corpus.hub == ("Salesforce/wikitext", "wikitext-2-v1", "test", "text")


def test_embedded_default_is_real_prose():
    data = load_sequences(None)
    assert resolve(None).name == DEFAULT_CORPUS
    assert data.num_tokens > 50_000 and len(data.vocab) > 5_000
    assert data.vocab.lookup("the") is not None


def test_folder_reads_txt_files_in_order(tmp_path):
    (tmp_path / "b.txt").write_text("three four\n")
    (tmp_path / "a.txt").write_text("one two\n\nfive\n")
    (tmp_path / "ignored.md").write_text("not read\n")
    assert list(load_sequences(str(tmp_path))) == [["one", "two"], ["five"], ["three", "four"]]


def test_max_words_cuts_the_last_sequence(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("a b c\nd e f\n")
    data = load_sequences(str(f), max_words=4)
    assert list(data) == [["a", "b", "c"], ["d"]]


@pytest.mark.parametrize("name, lowercase, expected", [
    ("whitespace", False, ["Hello,", "World!", "It's", "2024."]),
    ("whitespace", True, ["hello,", "world!", "it's", "2024."]),
    ("regex", False, ["hello", "world", "it", "s", "2024"]),
    ("treebank", False, ["Hello", ",", "World", "!", "It", "'s", "2024", "."]),
    ("toktok", True, ["hello", ",", "world", "!", "it", "'", "s", "2024", "."]),
])
def test_tokenizers(name, lowercase, expected):
    assert get_tokenizer(name, lowercase)("Hello, World! It's 2024.") == expected


def test_unknown_tokenizer():
    with pytest.raises(InputError):
        get_tokenizer("bpe")


def test_sentence_segmentation_splits_lines(tmp_path, data_dir):
    """Punkt, trained on the corpus itself, splits WikiText paragraphs into sentences."""
    with open(data_dir / "wikitext-2" / "valid.txt", encoding="utf-8") as f:
        paragraphs = [line for line in f if len(line.split()) > 50][:100]
    (tmp_path / "p.txt").write_text("".join(paragraphs), encoding="utf-8")
    by_line = load_sequences(str(tmp_path / "p.txt"))
    by_sentence = load_sequences(str(tmp_path / "p.txt"), segment="sentence")
    assert len(by_line) == 100
    assert len(by_sentence) > 300
    # the text is pre-tokenized: Punkt only cuts between words, except where it splits a "word." token
    assert abs(by_sentence.num_tokens - by_line.num_tokens) < 0.01 * by_line.num_tokens
