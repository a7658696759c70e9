"""The exact, vectorised sampler of the smoothed n-gram models (:class:`~ngram_collapse.smoothing.SmoothedNgram`):
the next word is drawn from q(w | h) = p(w | h) / sum_{v in S} p(v | h) over S, the vocabulary's words and
``</s>``, a mixture drawn level first (see :class:`SmoothedSampler`, and docs/theory.md §14).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .everygrams import ROOT, Everygrams, count_everygrams
from .vocab import BOS_ID, EOS_ID


@dataclass
class SmoothedSampler:
    """Exact, vectorised draws from q(w | h) = p(w | h) / sum_{v in S} p(v | h).

    Why it is exact. Every estimator's p(. | h), restricted to S, is a finite mixture whose parts are
    drawn with integers. A walk stands on the longest suffix c of its history that is a seen gram
    (at most n-1 tokens): NLTK's probability after the full context equals the one after c, since
    every longer context has no continuation (alpha = 0, gamma = 1). At c:

    * interpolated models: p(w | c) = alpha_c(w) + gamma_c p(w | c[1:]), so
      q(. | c) = (A_c a_c + gamma_c R_{c[1:]} q(. | c[1:])) / R_c with A_c = sum_{w in S} alpha_c(w),
      a_c = alpha_c / A_c on S, and R_c = A_c + gamma_c R_{c[1:]} the S-mass of p(. | c) (R is
      computed once per context, shortest first). So: stay at this level with probability
      A_c / R_c and draw from a_c, else move to c[1:] and repeat (the unigram level always stays).
      This is the chain rule of the mixture, hence exact; alpha_c needs no normalisation to 1, so
      kneser-ney's over-unity contexts (quirk 4) are drawn exactly too.
    * Each alpha_c on S is itself drawn from at most three parts, each an integer draw:
      witten-bell: alpha_c(w) proportional to c(c w) (X);
      kneser-ney: max(x - d, 0) with x = c(c w) at the top level, N1+(. c w) below, an integer;
      for x >= 1 it is (x - 1) + (1 - d): X with integer weights x - 1, and Y uniform over the
      continuations with x >= 1, weighted (1 - d) each; the floored unigram level adds U, uniform
      over S, of mass |S| d K / N1+(. .) / |V| with K = |{v : N1+(. v) > 0}|;
      lidstone (one level, the full context): c(h w) + gamma is X (counts) plus U (gamma |S|);
      a context of n-1 tokens never seen (the walk stands on a shorter one) is U alone.
    * An integer draw picks uniformly among the sum of the weights of a slice laid out as repeated
      gram ids (``rep``), so it costs one uniform and one gather; the part and the level are chosen
      from per-context thresholds (float64, hence exact to the resolution of a double).

    After the draw, the walk moves to the longest seen suffix of (history, w): the drawn gram's
    own id when drawn at the walk's own level (its suffix at the top), otherwise found by looking
    up (suffix of the history, w) in the sorted keys, longest first.

    At order 1 NLTK's model has no ``</s>`` (quirk 1) and could never end a sequence: the sampler
    uses the same estimator on counts with one ``<s>`` and one ``</s>`` per sequence (the convention
    of :class:`~ngram_collapse.ngram.NgramModel` at order 1).

    Attributes:
        counts: the everygrams the sampler walks on (the model's, or at order 1 the padded ones).
        thresholds: float64 (contexts, 3): cumulative probabilities of parts X, Y, U; above the
            last, move to the shorter context.
        base, size: int64 (2 * contexts,): where part X (2c) and Y (2c + 1) of context c start in
            ``rep`` and their total integer weight.
        rep: int64, gram ids repeated by their integer weights, then one padding 0.
        next_context: int64 (grams,): where a walk that drew gram g at its own level stands next.
        length: int64 (grams,): the number of tokens of each gram.
        uniform: int64 (|S|,), the token ids of S.
        start: the gram id of n-1 ``<s>``.
    """

    order: int
    counts: Everygrams
    thresholds: NDArray[np.float64]
    base: NDArray[np.int64]
    size: NDArray[np.int64]
    rep: NDArray[np.int64]
    next_context: NDArray[np.int64]
    length: NDArray[np.int64]
    uniform: NDArray[np.int64]
    start: int

    @classmethod
    def build(cls, model: Any) -> SmoothedSampler:
        """The sampler of a fitted :class:`~ngram_collapse.smoothing.SmoothedNgram`."""
        n, d = model.order, model.discount
        E = model.counts
        if n == 1:  # quirk 1: count one <s> and one </s> per sequence
            E = count_everygrams(model.data, 1, 1, model._to_token, model._width)
        in_s = np.zeros(model._width, dtype=bool)
        in_s[model._to_token[model.member]] = True
        in_s[[EOS_ID]] = True
        in_s[[BOS_ID, model.unk_id]] = False
        uniform = np.flatnonzero(in_s).astype(np.int64)
        grams, contexts = E.grams, int(E.offsets[n])
        length = E.length(np.arange(grams))
        g_len = length[1:]
        s_w = in_s[E.token[1:grams]].astype(np.int64)  # 1 if a gram's last token is in S
        ctx_len, total, types = length[:contexts], E.total[:contexts], E.types[:contexts]
        x = np.zeros(grams - 1, dtype=np.int64)
        y = np.zeros(grams - 1, dtype=np.int64)
        unit_x, unit_y, mass_u, down = (np.zeros(contexts) for _ in range(4))
        seen = total > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            if model.estimator in ("lidstone", "laplace"):
                x[g_len == n] = E.count[1:grams][g_len == n]
                top = ctx_len == n - 1
                unit_x[top] = 1.0
                mass_u[top] = model.gamma * uniform.size
                mass_u[~top] = 1.0
            elif model.estimator == "witten-bell":
                x[:] = E.count[1:grams]
                gam = types / (types + total)
                unit_x[:] = np.where(seen, (1.0 - gam) / total, 0.0)
                down[:] = np.where(seen, gam, 1.0)
                unit_x[ROOT], down[ROOT] = 1.0 / total[ROOT], 0.0
            else:  # kneser-ney
                raw = np.where(g_len == n, E.count[1:grams], E.left[1:grams])
                x[:] = np.maximum(raw - 1, 0)
                y[:] = raw >= 1
                den = np.where(ctx_len == n - 1, total, E.left_total[:contexts]).astype(float)
                unit_x[:] = np.where(seen, 1.0 / den, 0.0)
                unit_y[:] = np.where(seen, (1.0 - d) / den, 0.0)
                down[:] = np.where(seen, d * types / den, 1.0)
                down[ROOT] = 0.0
                if not model.unigram_floor:
                    uni = g_len == 1
                    x[uni], y[uni] = raw[uni], 0
                else:
                    mass_u[ROOT] = uniform.size * (d * E.continued_words / den[ROOT] / model.vocab_size)
        x *= s_w
        y *= s_w
        parent = E.prefix[1:grams]
        sum_x = np.rint(np.bincount(parent, weights=x, minlength=contexts)).astype(np.int64)
        sum_y = np.bincount(parent, weights=y, minlength=contexts).astype(np.int64)
        mass_x, mass_y = unit_x * sum_x, unit_y * sum_y
        own = mass_x + mass_y + mass_u
        reach = np.zeros(contexts)  # R_c, the S-mass of p(. | c)
        reach[ROOT] = own[ROOT]
        for ell in range(1, n):
            at = slice(int(E.offsets[ell]), int(E.offsets[ell + 1]))
            reach[at] = own[at] + down[at] * reach[E.suffix[at]]
        thresholds = np.column_stack([mass_x, mass_x + mass_y, own]) / reach[:, None]
        first = np.searchsorted(parent, np.arange(contexts))
        cum_x = np.concatenate(([0], np.cumsum(x)))
        cum_y = np.concatenate(([0], np.cumsum(y)))
        ids = np.arange(1, grams, dtype=np.int64)
        rep = np.concatenate([np.repeat(ids, x), np.repeat(ids, y), [0]])
        base = np.column_stack([cum_x[first], cum_y[first] + cum_x[-1]]).ravel()
        size = np.column_stack([sum_x, sum_y]).ravel()
        next_context = np.where(length == n, E.suffix[:grams], np.arange(grams))
        next_context[ROOT] = ROOT
        start = ROOT
        for _ in range(n - 1):
            start = int(E.lookup(np.array([start]), np.array([BOS_ID]))[0])
        return cls(n, E, thresholds, base, size, rep, next_context, length, uniform, start)

    def step(self, state: NDArray[np.int64], rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """One word for every walk.

        Args:
            state: shape (W,), the gram id each walk stands on (its longest seen suffix).
            rng: the random generator.

        Returns:
            (tokens, next states), both shape (W,).
        """
        u = rng.random((2, state.size))
        part = (self.thresholds[state] <= u[0, :, None]).sum(axis=1)
        redo = part >= 2  # a uniform draw or a move down: look up where the walk stands next
        at = state
        if redo.any():
            down = (part == 3).nonzero()[0]
            if down.size:
                at = state.copy()
            while down.size:  # the level: move to the shorter context, draw again
                at[down] = self.counts.suffix[at[down]]
                again = (self.thresholds[at[down]] <= rng.random(down.size)[:, None]).sum(axis=1)
                part[down] = again
                down = down[again == 3]
        slot = 2 * at + np.minimum(part, 1)
        gram = self.rep[self.base[slot] + (u[1] * self.size[slot]).astype(np.int64)]
        token = self.counts.token[gram]
        nxt = self.next_context[gram]
        redo = redo.nonzero()[0]
        if redo.size:
            unif = redo[part[redo] == 2]
            token[unif] = self.uniform[(u[1, unif] * self.uniform.size).astype(np.int64)]
            gram[unif] = ROOT
            nxt[redo] = self._longest_suffix(state[redo], gram[redo], token[redo])
        return token, nxt

    def _longest_suffix(self, state: NDArray[np.int64], gram: NDArray[np.int64],
                        token: NDArray[np.int64]) -> NDArray[np.int64]:
        """The longest seen suffix (<= n-1 tokens) of (history, token), for walks that drew ``gram``
        (a seen suffix of it, the empty gram for a uniform draw) below their own level."""
        E, n = self.counts, self.order
        old = self.length[state]
        known = self.length[gram]
        want = np.minimum(old + 1, n - 1)  # a longer suffix needs a seen history suffix one shorter
        prefix = np.where(old == want - 1, state, E.suffix[state])
        out = self.next_context[gram]
        todo = (want > known).nonzero()[0]
        while todo.size:
            g = E.lookup(prefix[todo], token[todo])
            hit = g >= 0
            out[todo[hit]] = g[hit]
            todo = todo[~hit]
            want[todo] -= 1
            prefix[todo] = E.suffix[prefix[todo]]
            todo = todo[want[todo] > known[todo]]
        return out

    def walk(self, batch: int, budget: int, rng: np.random.Generator) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """Walk ``batch`` sequences from the start to ``</s>`` together.

        A walk stops early once the walks before it and itself are sure to hold ``budget`` words
        (their lengths so far are lower bounds): it is then not needed, or it is the one the
        budget cuts and already has the words that will be kept.

        Returns:
            (ids, lengths): the words of the sequences one after another (int32) and the number of
            words of each (shape (batch,); a stopped walk's words so far).
        """
        state = np.full(batch, self.start, dtype=np.int64)
        active = np.arange(batch)
        before = np.zeros(batch, dtype=np.int64)  # words of the finished walks before each active one
        lengths = np.zeros(batch, dtype=np.int64)
        walks, tokens = [], []
        t = 0
        while active.size:
            token, state = self.step(state, rng)
            ended = token == EOS_ID
            walks.append(active[~ended].astype(np.int32))
            tokens.append(token[~ended].astype(np.int32))
            if ended.any():
                lengths[active[ended]] = t
                before += np.cumsum(ended * t) - ended * t
                live = ~ended
                active, state, before = active[live], state[live], before[live]
            t += 1
            bound = before + t * np.arange(1, active.size + 1)
            cut = int(np.searchsorted(bound, budget))
            if cut < active.size:
                lengths[active[cut:]] = t
                active, state, before = active[:cut], state[:cut], before[:cut]
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        steps = np.repeat(np.arange(len(walks)), [w.size for w in walks])
        ids = np.empty(int(offsets[-1]), dtype=np.int32)
        ids[offsets[np.concatenate(walks)] + steps] = np.concatenate(tokens)
        return ids, lengths
