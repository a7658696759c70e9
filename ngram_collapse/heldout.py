"""Held-out evaluation of every generation's model: the perplexity of real text and the share of its
words the generation has forgotten (docs/theory.md §14.4, §14.5, §14.7)."""
from __future__ import annotations

from .ngram import NgramModel
from .settings import RunSettings
from .smoothing import SmoothedNgram
from .vocab import Sequences


def evaluator(model: NgramModel, settings: RunSettings) -> SmoothedNgram:
    """The model that scores held-out text for a generation: a smoothed model itself (kneser-ney with
    the unigram floor, whose absence makes any new word infinitely surprising), or for a maximum-
    likelihood model, whose perplexity is infinite at the first unseen n-gram, the evaluation estimator
    of ``settings`` fitted on the same data (:meth:`RunSettings.evaluator`)."""
    if model.smoothed is not None:
        return model.smoothed.floored() if model.estimator == "kneser-ney" else model.smoothed
    name, options = settings.evaluator()
    return SmoothedNgram(settings.order, name, **options).fit(model.data)


def evaluate(model: NgramModel, settings: RunSettings, heldout: Sequences) -> tuple[float, float]:
    """(perplexity, held-out OOV rate) of one generation's model on ``heldout``: NLTK's perplexity of the
    held-out sequences' padded n-grams (words outside the model's vocabulary are ``<UNK>``), and the
    share of held-out words absent from the generation's data."""
    scorer = evaluator(model, settings)
    return scorer.perplexity(heldout), scorer.heldout_oov_rate(heldout)
