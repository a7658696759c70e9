"""The options several commands share, and the argparse types of every option.

Ranges are the library's to check: these types only convert text to numbers and lists. An option's
``dest`` is the library's parameter name, which is how an error raised by the library is shown as the
flag that sets it.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..output import slug

PROG = "ngram-collapse"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def typed(kind: type, what: str) -> Callable[[str], object]:
    """An argparse type converting to ``kind`` (ranges are the library's to check)."""

    def parse(text: str) -> object:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None

    parse.__name__ = kind.__name__
    return parse


integer = typed(int, "an integer")
number = typed(float, "a number")


def list_of(kind: type) -> Callable[[str], list]:
    """An argparse type: a comma-separated list of ``kind`` (empty items dropped)."""

    def parse(text: str) -> list:
        try:
            return [kind(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__}") from None

    parse.__name__ = f"list of {kind.__name__}"
    return parse


def add_common(p: argparse.ArgumentParser, generations: int | None, trajectories: int | None) -> None:
    """Options every command shares: generations, trajectories, seed, output folder, quiet."""
    p.add_argument("--generations", type=integer, default=generations,
                   help=f"number of retraining rounds K (default {generations})")
    p.add_argument("--trajectories", type=integer, default=trajectories,
                   help=f"independent trajectories (default {trajectories})")
    p.add_argument("--seed", type=integer, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output folder: new or empty (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier run in --out (never other files)")


def add_corpus_options(p: argparse.ArgumentParser) -> None:
    """How a corpus is read and tokenized (every option but ``--corpus`` itself); see :func:`corpus_options`."""
    from ..subword import DEFAULT_VOCAB_SIZE, KINDS
    from ..subword_model import POLICIES
    from ..tokenize import SEGMENTS, TOKENIZERS

    p.add_argument("--data-dir", help="where registered corpora live (default $NGRAM_COLLAPSE_DATA)")
    p.add_argument("--max-words", type=integer, help="keep only the first W words")
    p.add_argument("--tokenizer", choices=TOKENIZERS + KINDS, default="whitespace",
                   help="words (default: whitespace), or bpe: subword tokens of a byte-pair encoding learned from "
                   "the white-space normalised text, the n-gram model runs on them")
    p.add_argument("--subword-vocab-size", type=integer, metavar="V",
                   help=f"bpe: tokens to learn (default {DEFAULT_VOCAB_SIZE})")
    p.add_argument("--tokenizer-policy", choices=POLICIES,
                   help="bpe: retrain the tokenizer on every generation's text (retrained, the default) or keep "
                   "generation 0's (frozen)")
    p.add_argument("--lowercase", action="store_true", help="lower-case the text first")
    p.add_argument("--segment", choices=SEGMENTS, default="line",
                   help="one sequence per line (default) or per sentence (NLTK Punkt)")
    p.add_argument("--encoding-errors", choices=("strict", "replace"), default="strict",
                   help="undecodable bytes: stop with an error (default) or replace them")


def corpus_options(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of :func:`ngram_collapse.corpus.load_sequences` (but the spec) and, for
    a subword tokenizer, its settings (validated, defaults filled in; see
    :meth:`ngram_collapse.subword_model.SubwordSettings.from_options`)."""
    from ..subword_model import SubwordSettings

    options = {"tokenizer": args.tokenizer, "lowercase": args.lowercase, "segment": args.segment,
               "max_words": args.max_words, "data_dir": args.data_dir, "encoding_errors": args.encoding_errors}
    subword = SubwordSettings.from_options({**options, "subword_vocab_size": args.subword_vocab_size,
                                            "tokenizer_policy": args.tokenizer_policy})
    return {**options, **(subword.config() if subword else {})}


def default_out(*parts: object) -> Path:
    """A new folder ``runs/<time>-<parts>`` (never an existing one)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = "-".join(slug(str(p)) for p in parts)
    out = Path("runs") / f"{stamp}-{name}"
    n = 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{stamp}-{name}-{n}"
    return out


def add_estimator(p: argparse.ArgumentParser, axis: bool = False) -> None:
    """The n-gram estimator and how held-out text is scored (``axis``: the estimator is a grid axis)."""
    from ..settings import EVALUATORS, VOCABULARY_POLICIES
    from ..smoothing import ESTIMATORS

    if axis:
        p.add_argument("--estimators", dest="estimator", type=list_of(str),
                       help=f"estimators, comma-separated: a grid axis ({', '.join(ESTIMATORS)}; default mle)")
    else:
        p.add_argument("--estimator", choices=ESTIMATORS, default="mle",
                       help="n-gram estimator (default mle; the others are NLTK's smoothed models)")
    p.add_argument("--gamma", type=number, help="lidstone: the count added to every n-gram")
    p.add_argument("--discount", type=number, default=0.1, help="kneser-ney: the discount d in (0, 1) (default 0.1)")
    p.add_argument("--unigram-floor", action="store_true",
                   help="kneser-ney: discount the unigram level too, giving every vocabulary word some probability")
    p.add_argument("--vocabulary", choices=VOCABULARY_POLICIES, default="retrained",
                   help="smoothed estimators: re-learn the vocabulary from each generation (default) or keep "
                   "the original corpus's (smoothing can then bring a word back)")
    p.add_argument("--eval-estimator", choices=EVALUATORS,
                   help="scores held-out text for mle runs, fitted on each generation's data (default "
                   "kneser-ney with the unigram floor; laplace at order 1)")


def estimator_options(args: argparse.Namespace) -> dict[str, object]:
    """RunSettings fields of :func:`add_estimator`'s options (the estimator aside)."""
    return {"gamma": args.gamma, "discount": args.discount, "unigram_floor": args.unigram_floor,
            "vocabulary": args.vocabulary, "eval_estimator": args.eval_estimator}


def add_regime(p: argparse.ArgumentParser) -> None:
    """What each generation is trained on and how models are sampled (see the README's table)."""
    from ..workflows import WORKFLOWS

    p.add_argument("--workflow", choices=WORKFLOWS, default="replace",
                   help="what each generation is trained on (default replace: the previous generation's sample)")
    p.add_argument("--real-fraction", type=number, metavar="L",
                   help="mix-fresh, mix-fixed: the fraction L in [0, 1] of real data in every generation")
    p.add_argument("--temperature", type=number, default=1.0, metavar="T",
                   help="sample every context's p^(1/T), renormalised (default 1)")
    p.add_argument("--top-k", type=integer, metavar="K", help="sample only the K most probable next words")
    p.add_argument("--top-p", type=number, metavar="P",
                   help="sample only the most probable next words that hold probability P")
