"""Corpus resolution, reading and tokenizers."""
from __future__ import annotations

import numpy as np
import pytest

import ngram_collapse.corpus as corpus_module
from ngram_collapse.corpus import DEFAULT_CORPUS, load_sequences, registry, resolve
from ngram_collapse.encoder import _NON_ASCII_SPACE
from ngram_collapse.errors import InputError
from ngram_collapse.tokenize import get_tokenizer
from ngram_collapse.vocab import Sequences


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


# --- the block reader against a line-by-line reference --------------------------------------

SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())  # str.split's white space


def reference(path, lowercase=False, max_words=None):
    """The reader as it was: decode line by line, str.split, Sequences.encode."""
    with open(path, "rb") as f:
        lines = (raw.decode("utf-8").rstrip("\r\n") for raw in f)
        seqs = [w for w in ((line.lower() if lowercase else line).split() for line in lines) if w]
    if max_words is not None:
        cut, left = [], max_words
        for words in seqs:
            if left <= 0:
                break
            cut.append(words[:left])
            left -= len(words)
        seqs = cut
    return Sequences.encode(seqs)


def assert_same(a, b):
    assert np.array_equal(a.ids, b.ids)
    assert np.array_equal(a.offsets, b.offsets)
    assert a.vocab.words == b.vocab.words


def tricky_text():
    """White space of every kind, alone and in runs, at line starts and ends; blank and
    white-space-only lines; CRLF; the marker words; final sigma; characters outside the BMP."""
    rng = np.random.default_rng(7)
    words = ["the", "ΟΔΟΣ", "Σ", "<s>", "</s>", "𝔘𝔫𝔦", "naïve", "İstanbul", "a\u200bb", "x"]
    lines = []
    for _ in range(400):
        n = int(rng.integers(0, 8))
        parts = []
        for _ in range(n):
            gap = "".join(rng.choice(list(SPACES), size=int(rng.integers(1, 3))))
            parts.append(gap + str(rng.choice(words)))
        end = ("\r" if rng.random() < 0.2 else "") + (" " if rng.random() < 0.2 else "")
        lines.append("".join(parts) + end)
    return "\n".join(lines)  # no final line end


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
@pytest.mark.parametrize("lowercase", [False, True])
def test_block_reader_matches_line_by_line_split(tmp_path, monkeypatch, block_bytes, lowercase):
    """Blocks smaller than a line, and one block for the whole file."""
    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", block_bytes)
    f = tmp_path / "t.txt"
    f.write_text(tricky_text(), encoding="utf-8")
    assert_same(load_sequences(str(f), lowercase=lowercase), reference(f, lowercase))


def test_wikitext2_train_matches_reference(data_dir, monkeypatch):
    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", 1 << 18)  # several blocks
    path = data_dir / "wikitext-2" / "train.txt"
    data = load_sequences(str(path))
    assert data.num_tokens == 512_615  # README of the shared corpora
    assert_same(data, reference(path))


@pytest.mark.parametrize("max_words", [1, 7, 1000, 5000, 10**9])
def test_max_words_cuts_blocks_and_vocabulary(tmp_path, monkeypatch, max_words):
    """The vocabulary holds the kept words only, even when the cut falls inside a block."""
    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", 4096)
    f = tmp_path / "t.txt"
    f.write_text(tricky_text(), encoding="utf-8")
    assert_same(load_sequences(str(f), max_words=max_words), reference(f, max_words=max_words))
    python = load_sequences(str(f), max_words=max_words, tokenizer="regex")
    assert python.num_tokens == min(max_words, load_sequences(str(f), tokenizer="regex").num_tokens)


def test_pyarrow_white_space_is_str_split_on_every_code_point():
    """The white-space tokenizer splits with pyarrow's ascii_split_whitespace, after replacing
    _NON_ASCII_SPACE by spaces: together they split where str.split does (at c.isspace())."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    space = np.array([c.isspace() for c in chars])
    text = pa.array(["a" + c + "b" for c in chars], pa.large_string())
    ascii_ = pc.list_value_length(pc.ascii_split_whitespace(text)).to_numpy() == 2
    other = pc.match_substring_regex(text, _NON_ASCII_SPACE).to_numpy(zero_copy_only=False)
    replaced = pc.replace_substring_regex(text, _NON_ASCII_SPACE, " ")
    both = pc.list_value_length(pc.ascii_split_whitespace(replaced)).to_numpy() == 2
    assert space.sum() == len(SPACES) == 29
    assert np.array_equal(ascii_ | other, space) and not np.any(ascii_ & other)
    assert np.array_equal(both, space)


def test_lines_are_the_file_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", 16)
    f = tmp_path / "t.txt"
    f.write_bytes(b"one two\r\n\nthree four five six seven\nlast")
    assert list(resolve(str(f)).lines()) == ["one two", "", "three four five six seven", "last"]


# --- errors: one line, never a traceback --------------------------------------------------------

@pytest.mark.parametrize("block_bytes", [8, 1 << 20])
def test_undecodable_and_binary_lines_are_located(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(corpus_module, "BLOCK_BYTES", block_bytes)
    body = [b"fine words here", b"more fine words", b"caf\xc3\xa9 ok", b"bad \xff byte", b"nul \0 byte"]
    f = tmp_path / "t.txt"
    f.write_bytes(b"\n".join(body) + b"\n")
    with pytest.raises(InputError, match=r"line 4, byte 5: not valid UTF-8"):
        load_sequences(str(f))
    with pytest.raises(InputError, match=r"line 5 has NUL bytes"):
        load_sequences(str(f), encoding_errors="replace")  # replaced bytes go on, NUL bytes do not
    f.write_bytes(b"\n".join([*body[:3], b"\xff and \0 on one line"]))
    with pytest.raises(InputError, match=r"line 4 has NUL bytes"):
        load_sequences(str(f))
    f.write_bytes(b"\n".join(body[:4]) + b"\n")
    replaced = load_sequences(str(f), encoding_errors="replace")
    assert list(replaced)[-1] == ["bad", "\ufffd", "byte"]


def test_empty_spec_is_refused():
    for spec in ("", "  "):
        with pytest.raises(InputError, match="corpus is empty"):
            resolve(spec)


@pytest.mark.parametrize("content, message", [
    (None, "no such file or folder"),
    (b"", "has no words"),
    (b" \n\t\n", "has no words"),
    (b"\x7fELF\x02\x01\x01\0\0\0\0", "line 1 has NUL bytes"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "line 1, byte 1: not valid UTF-8"),
])
def test_missing_empty_and_binary_files(tmp_path, content, message):
    f = tmp_path / "c.txt"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_sequences(str(f))


def test_folder_with_nothing_to_read(tmp_path):
    (tmp_path / "notes.md").write_text("a b c\n")
    with pytest.raises(InputError, match="no .txt files and is not a dataset folder"):
        load_sequences(str(tmp_path))


# --- registry and specs -----------------------------------------------------------------------

def test_wikitext103_is_registered_like_wikitext2(tmp_path):
    entries = registry()
    for name, config in (("wikitext-103", "wikitext-103-v1"), ("wikitext-103-raw", "wikitext-103-raw-v1")):
        assert entries[name]["hub_config"] == config
        corpus = resolve(f"{name}:valid", tmp_path)
        assert corpus.hub == ("Salesforce/wikitext", config, "validation", "text")
        assert corpus.local_hint == str(tmp_path / name / "valid.txt")
        (tmp_path / name).mkdir()
        (tmp_path / name / "valid.txt").write_text("a b\n")
        assert resolve(f"{name}:valid", tmp_path).files == (tmp_path / name / "valid.txt",)


@pytest.mark.parametrize("spec, hub", [
    ("hf:user/data:train", ("user/data", None, "train", "text")),
    ("hf:user/data:cfg:validation", ("user/data", "cfg", "validation", "text")),
    ("hf:user/data:cfg:test:body", ("user/data", "cfg", "test", "body")),
    ("hf:user/data::train:body", ("user/data", None, "train", "body")),
])
def test_hub_specs(spec, hub):
    assert resolve(spec).hub == hub and resolve(spec).name == spec


@pytest.mark.parametrize("spec", ["hf:", "hf:user/data", "hf::train", "hf:user/data:cfg:train:body:x",
                                  "hf:user/data:cfg::body", "hf:user/data:cfg:train:"])
def test_bad_hub_specs(spec):
    with pytest.raises(InputError, match=r"expected hf:PATH\[:CONFIG\]:SPLIT\[:FIELD\]"):
        resolve(spec)


# --- sentences and progress -------------------------------------------------------------------

def test_punkt_budget_counts_characters_and_long_lines_are_cut(monkeypatch, data_dir):
    """Punkt is trained on at most PUNKT_TRAINING_CHARS characters in pieces of at most
    PUNKT_PIECE_CHARS, and splits no text longer than PUNKT_PIECE_CHARS, even from one line."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    from ngram_collapse import tokenize

    monkeypatch.setattr(tokenize, "PUNKT_TRAINING_CHARS", 50_000)
    monkeypatch.setattr(tokenize, "PUNKT_PIECE_CHARS", 10_000)
    trained, split = [], []
    train, tokenize_text = PunktTrainer.train, PunktSentenceTokenizer.tokenize
    monkeypatch.setattr(PunktTrainer, "train",
                        lambda self, text, **kw: (trained.append(text), train(self, text, **kw))[1])
    monkeypatch.setattr(PunktSentenceTokenizer, "tokenize",
                        lambda self, text, **kw: (split.append(text), tokenize_text(self, text, **kw))[1])
    with open(data_dir / "wikitext-2" / "valid.txt", encoding="utf-8") as f:
        line = " ".join(line.strip() for line in f if len(line.split()) > 50)  # one line, ~1M chars
    splitter = tokenize.sentence_splitter(iter([line, "never read"]))
    assert 45_000 < sum(map(len, trained)) <= 50_000 and max(map(len, trained)) <= 10_000
    assert "".join(trained) == line[:sum(map(len, trained))]
    sentences = list(tokenize.segment([line], str.split, splitter))
    assert max(map(len, split)) <= 10_000 and "".join(split) == line
    assert "".join(w for s in sentences for w in s) == "".join(line.split())  # Punkt may cut "@.@"
    full_stops = line.split().count(".")
    assert 0.9 * full_stops < len(sentences) < 1.1 * full_stops + len(split)


def test_progress_bar_only_when_asked_and_on_a_terminal(tmp_path, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    f = tmp_path / "t.txt"
    f.write_text("a b c\nd e\n")
    cases = ((True, Terminal(), True), (False, Terminal(), False), (True, io.StringIO(), False))
    for progress, stderr, shown in cases:
        monkeypatch.setattr(sys, "stderr", stderr)
        load_sequences(str(f), progress=progress)
        assert ("words/s" in stderr.getvalue()) == shown
