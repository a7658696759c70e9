"""Section smoothing of scripts/bench.py: order-3 smoothed models (Kneser-Ney, Witten-Bell, Lidstone)
on WikiText-2, their fit, sampler tables, sampling and held-out perplexity, beside NLTK's
KneserNeyInterpolated(3) timed in the same run."""
from __future__ import annotations

import argparse
import time

import numpy as np

from ngram_collapse.output import format_table


_SMOOTHED = (("kneser-ney", {}), ("kneser-ney", {"unigram_floor": True}), ("witten-bell", {}),
             ("lidstone", {"gamma": 0.01}))


def _nltk_kneser_ney(sequences: list[list[str]], heldout: list[tuple[str, ...]], seconds: float,
                     seed: int) -> tuple[float, int, float, float]:
    """NLTK's KneserNeyInterpolated(3) fitted on padded_everygram_pipeline; ``generate`` one word
    per call on a walk from <s> <s> until ``seconds`` have passed (a word in progress is interrupted
    by SIGALRM); ``perplexity`` of ``heldout`` n-grams. Returns (fit s, words generated, generate s,
    perplexity s)."""
    import random
    import signal

    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    start = time.perf_counter()
    model = KneserNeyInterpolated(3)
    model.fit(*padded_everygram_pipeline(3, sequences))
    fit = time.perf_counter() - start

    class Deadline(Exception):
        pass

    def deadline(signum, frame):
        raise Deadline

    previous = signal.signal(signal.SIGALRM, deadline)
    rnd, context, words = random.Random(seed), ["<s>", "<s>"], 0
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        while True:
            word = model.generate(text_seed=context, random_seed=rnd)
            words += 1
            context = ["<s>", "<s>"] if word == "</s>" else [context[-1], word]
    except Deadline:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    generate = time.perf_counter() - start
    start = time.perf_counter()
    model.perplexity(heldout)
    return fit, words, generate, time.perf_counter() - start


def bench_smoothing(args: argparse.Namespace) -> None:
    """Order-3 smoothed models (SmoothedNgram) on wikitext-2/train.txt: fit (the everygram counts),
    the sampler's tables, a sample of the corpus's size, and the perplexity of wikitext-2/valid.txt,
    best of 3 repeats. Sampling walks whole sequences in parallel, so its time grows with the longest
    sequence drawn (lidstone with a small gamma rarely draws </s>: see words/sequence). Beside NLTK's KneserNeyInterpolated(3) on the same sequences in the same run:
    its fit, ``generate`` one word per call from <s> <s> for ``--nltk-seconds``, and ``perplexity`` on
    the first ``--nltk-ngrams`` held-out trigrams."""
    from nltk.lm.preprocessing import pad_both_ends
    from nltk.util import ngrams

    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.smoothing import SmoothedNgram
    from ngram_collapse.vocab import Sequences

    data = load_sequences("wikitext-2", data_dir=args.data_dir)
    valid = load_sequences("wikitext-2:valid", data_dir=args.data_dir)
    heldout = Sequences.encode(valid, data.vocab)
    n, grams = data.num_tokens, heldout.num_tokens + 2 * len(heldout)
    rows: list[list[object]] = []
    kn_rate = kn_ppl = 0.0
    for estimator, kw in _SMOOTHED:
        best = [np.inf] * 4
        for repeat in range(3):
            times = [time.perf_counter()]
            model = SmoothedNgram(3, estimator, **kw).fit(data)
            times.append(time.perf_counter())
            model._sampler()
            times.append(time.perf_counter())
            sample = model.sample(n, np.random.default_rng(repeat))
            times.append(time.perf_counter())
            perplexity = model.perplexity(heldout)
            times.append(time.perf_counter())
            best = [min(b, t1 - t0) for b, t0, t1 in zip(best, times, times[1:])]
        name = estimator + "".join(f" {k}={v}" for k, v in kw.items())
        rows.append([name, f"{best[0] * 1e3:.0f}", f"{best[1] * 1e3:.0f}", f"{best[2] * 1e3:.0f}",
                     f"{n / best[2] / 1e6:.2f}M", f"{n / len(sample):.0f}", f"{best[3] * 1e3:.0f}",
                     f"{grams / best[3] / 1e6:.2f}M", perplexity])
        if (estimator, kw) == _SMOOTHED[0]:
            kn_rate, kn_ppl = n / best[2], grams / best[3]
    print(f"== smoothing, order 3 (wikitext-2/train.txt: {n:,} words; held-out wikitext-2/valid.txt: "
          f"{grams:,} trigrams)")
    print(format_table(["estimator", "fit ms", "tables ms", "sample ms", "sample words/s", "words/sequence",
                        "perplexity ms", "trigrams/s", "perplexity"], rows))
    if args.nltk_seconds > 0:
        trigrams = [g for s in valid for g in ngrams(pad_both_ends(s, n=3), 3)][:args.nltk_ngrams]
        fit, words, generate, ppl = _nltk_kneser_ney(list(data), trigrams, args.nltk_seconds, 0)
        rate = words / generate
        shown = f"{rate:.3g}" if words else f"< {1 / generate:.2g}"
        speedup = f"{kn_rate / rate:,.0f}x" if words else f"> {kn_rate * generate:,.0f}x"
        print(f"NLTK KneserNeyInterpolated(3), same run: fit {fit:.1f} s; generate {words} words in "
              f"{generate:.0f} s ({shown} words/s; ours {speedup} faster); perplexity "
              f"{len(trigrams) / ppl:.3g} trigrams/s on {len(trigrams)} (ours {kn_ppl / (len(trigrams) / ppl):,.0f}x "
              f"faster; NLTK would take {grams * ppl / len(trigrams) / 3600:.1f} h for the held-out set)")
