"""The settings of a recursive n-gram run: everything that determines its numbers besides the corpus,
validated once, on construction, before any work."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from . import checks, seeding
from .errors import InputError
from .decoding import Decoding
from .ngram import MAX_ORDER, NgramModel
from .smoothing import ESTIMATORS
from .workflows import SAMPLING_SCHEMES, Workflow

VOCABULARY_POLICIES = ("retrained", "fixed")
#: the estimators that can score held-out text (the smoothed ones)
EVALUATORS = tuple(e for e in ESTIMATORS if e != "mle")
#: bytes held per trajectory and generation (measurements, their copies in the results and the CSV)
_BYTES_PER_GENERATION = 128


@dataclass(frozen=True)
class RunSettings:
    """The settings of a recursive n-gram run (validated on construction).

    Attributes:
        order: n-gram order, 1 to ``MAX_ORDER``.
        generations: K >= 0 retraining rounds.
        trajectories: T >= 1 independent trajectories.
        sampling: ``multinomial`` (Corollary 1) or ``poisson`` (Corollary 2); see
            :func:`ngram_collapse.workflows.next_size`.
        seed: the root seed (see :mod:`ngram_collapse.seeding`); trajectory t draws from its t-th child.
        workflow, real_fraction: what each generation is trained on (:mod:`ngram_collapse.workflows`).
        temperature, top_k, top_p: how the models are sampled (:mod:`ngram_collapse.decoding`; the
            maximum-likelihood estimator only).
        estimator, gamma, discount, unigram_floor: the n-gram estimator (:mod:`ngram_collapse.smoothing`;
            kneser-ney's unigram floor gives every vocabulary word some probability, so that under
            the ``fixed`` vocabulary a lost word can come back).
        vocabulary: ``retrained`` (a smoothed model's vocabulary is its data's words) or ``fixed``
            (the original corpus's words, for every generation: smoothing can bring a word back).
        eval_estimator: the estimator that evaluates a maximum-likelihood run on held-out text
            (fitted on each generation's data; None: kneser-ney with the unigram floor, laplace at
            order 1, where kneser-ney is not defined). A smoothed run is evaluated with its own model.
    """

    order: int = 1
    generations: int = 10
    trajectories: int = 5
    sampling: str = "multinomial"
    seed: seeding.Seed = 0
    workflow: str = "replace"
    real_fraction: float | None = None
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    estimator: str = "mle"
    gamma: float | None = None
    discount: float = 0.1
    unigram_floor: bool = False
    vocabulary: str = "retrained"
    eval_estimator: str | None = None

    def __post_init__(self) -> None:
        checks.integer("order", self.order, 1, MAX_ORDER)
        checks.integer("generations", self.generations, minimum=0)
        checks.integer("trajectories", self.trajectories, minimum=1)
        checks.choice("sampling", self.sampling, SAMPLING_SCHEMES)
        checks.run_size(self.generations, self.trajectories, _BYTES_PER_GENERATION, "the per-generation results")
        object.__setattr__(self, "seed", seeding.seed_sequence(self.seed))
        self.regime, self.decoding, self.model()  # noqa: B018 - each validated here, once, before any work
        checks.choice("vocabulary", self.vocabulary, VOCABULARY_POLICIES)
        if self.vocabulary == "fixed" and self.estimator == "mle":
            raise InputError("vocabulary fixed applies to the smoothed estimators: an mle model never draws a "
                             "word absent from its data", "vocabulary")
        if not self.decoding.plain and self.estimator != "mle":
            raise InputError(f"estimator {self.estimator} is sampled as it is: the decoding transforms (temperature, "
                             "top-k, top-p) apply to the mle estimator", "estimator")
        if self.eval_estimator is not None:
            checks.choice("eval_estimator", self.eval_estimator, EVALUATORS)
            self.evaluator()  # noqa: B018 - e.g. kneser-ney at order 1, lidstone without gamma

    @property
    def regime(self) -> Workflow:
        """The workflow, validated."""
        return Workflow(self.workflow, self.real_fraction)

    @property
    def decoding(self) -> Decoding:
        """The decoding, validated."""
        return Decoding(self.temperature, self.top_k, self.top_p)

    def model(self, vocabulary: Any = None) -> NgramModel:
        """An unfitted model of these settings (``vocabulary``: the mask of the ``fixed`` policy)."""
        return NgramModel(self.order, self.estimator, gamma=self.gamma if self.estimator == "lidstone" else None,
                          discount=self.discount, unigram_floor=self.unigram_floor, vocabulary=vocabulary)

    def evaluator(self) -> tuple[str, dict[str, Any]]:
        """The estimator that evaluates a maximum-likelihood run on held-out text, and its parameters:
        ``eval_estimator``, or by default kneser-ney with the unigram floor (laplace at order 1)."""
        from .smoothing import SmoothedNgram

        name = self.eval_estimator or ("laplace" if self.order == 1 else "kneser-ney")
        options = {"gamma": self.gamma if name == "lidstone" else None, "discount": self.discount,
                   "unigram_floor": name == "kneser-ney"}
        SmoothedNgram(self.order, name, **options)  # validated
        return name, options

    def config(self) -> dict[str, Any]:
        """The settings as JSON values (the seed as :func:`ngram_collapse.seeding.describe` gives it)."""
        return {**asdict(self), "seed": seeding.describe(self.seed)}
