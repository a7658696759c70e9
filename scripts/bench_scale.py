"""Section scale of scripts/bench.py (run with --scale or --only scale): a 100M-word corpus (the
WikiText-2 prefix repeated), read, fitted and run for two generations at orders 3 and 8, each step in
a new process so that its peak memory is its own; the helpers here are those children and the
readers of a process's memory from /proc."""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ngram_collapse.output import format_table

SCALE_REPEATS = 196  # the WikiText-2 prefix 196 times: 100,472,540 words
SCALE_GENERATIONS = 2  # the second generation holds two samples at once, as the loop does


def _peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/status")


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process, MB: its private pages plus its share of shared ones, so that
    the sum over processes counts every page once."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _scale_read(corpus: str, folder: str) -> dict:
    """Child: read and encode the corpus with load_sequences, save it as arrays for the other children."""
    import json

    from ngram_collapse.corpus import load_sequences

    start = time.perf_counter()
    data = load_sequences(corpus)
    seconds = time.perf_counter() - start
    np.save(Path(folder) / "ids.npy", data.ids)
    np.save(Path(folder) / "offsets.npy", data.offsets)
    (Path(folder) / "vocab.json").write_text(json.dumps(data.vocab.words))
    return {"seconds": seconds, "peak_mb": _peak_rss_mb(), "words": data.num_tokens, "sequences": len(data)}


def _scale_load(folder: str):
    import json

    from ngram_collapse.vocab import Sequences, Vocabulary

    vocab = Vocabulary(json.loads((Path(folder) / "vocab.json").read_text())[2:])
    return Sequences(np.load(Path(folder) / "ids.npy"), np.load(Path(folder) / "offsets.npy"), vocab)


def _scale_generations(model, seed: int) -> list[float]:
    """Run SCALE_GENERATIONS generations as the generation loop does (sample, copy, refit; the words
    present counted as run_trajectory does) and return the seconds of each sample + refit."""
    import copy

    rng = np.random.default_rng(seed)
    size = model.data.num_tokens
    alive = model.data.counts() > 0
    seconds = []
    for _ in range(SCALE_GENERATIONS):
        start = time.perf_counter()
        data = model.sample(size, rng)
        model = copy.copy(model)
        model.fit(data)
        seconds.append(time.perf_counter() - start)
        alive &= data.counts() > 0
        del data
    return seconds


def _scale_trajectory(folder: str, order: int) -> dict:
    """Child: one trajectory in this process: load the corpus ids, fit generation 0, run the generations."""
    from ngram_collapse.ngram import NgramModel

    data = _scale_load(folder)
    loaded = _peak_rss_mb()
    start = time.perf_counter()
    model = NgramModel(order).fit(data)
    fit = time.perf_counter() - start
    fitted = _peak_rss_mb()
    seconds = _scale_generations(model, 0)
    return {"fit": fit, "generations": seconds, "loaded_mb": loaded, "fitted_mb": fitted, "peak_mb": _peak_rss_mb(),
            "entries": model.ngrams.table.num_entries}


def _scale_two_jobs(folder: str, order: int) -> dict:
    """Child: load and fit generation 0, then fork two processes that run a trajectory each on the shared
    model; the peak memory of the three processes together is the largest sum of their PSS, sampled
    every 20 ms (shared pages counted once)."""
    import os
    import pickle

    from ngram_collapse.ngram import NgramModel

    model = NgramModel(order).fit(_scale_load(folder))
    before = _pss_mb(os.getpid())
    children = []
    for seed in (1, 2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker: one trajectory, its times and peak back through the pipe
            os.close(read)
            seconds = _scale_generations(model, seed)
            with os.fdopen(write, "wb") as out:
                pickle.dump({"generations": seconds, "peak_mb": _peak_rss_mb()}, out)
            os._exit(0)
        os.close(write)
        children.append((pid, read))
    peak, running = 0.0, {pid for pid, _ in children}
    while running:
        peak = max(peak, _pss_mb(os.getpid()) + sum(_pss_mb(pid) for pid in running))
        running = {pid for pid in running if os.waitpid(pid, os.WNOHANG) == (0, 0)}
        time.sleep(0.02)
    results = []
    for _, read in children:
        with os.fdopen(read, "rb") as f:
            results.append(pickle.load(f))
    return {"parent_mb": before, "tree_peak_mb": peak, "workers": results}


def _in_child(fn: Callable[..., dict], *args: object) -> dict:
    """Run ``fn(*args)`` in a new process (its own peak memory) and return its result."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def bench_scale(args: argparse.Namespace) -> None:
    """Issue 14's scale: the WikiText-2 prefix repeated 196 times (100M words), written to a temporary
    folder. Reading it (load_sequences, another module's job) is timed apart, in its own process.
    Then, for orders 3 and 8, each in a new process: fitting generation 0 from the corpus ids and two
    generations (sample + refit) of one trajectory, with the process's peak resident memory
    (VmHWM, corpus ids and generation-0 model included); and two trajectories in two forked
    processes sharing generation 0 (as --jobs 2), with the peak of the summed PSS of the three
    processes. Run with --scale or --only scale (minutes, about 3 GB)."""
    import tempfile

    text = (Path(args.data_dir) / "wikitext-2" / "train.txt").read_bytes()
    with tempfile.TemporaryDirectory(prefix="ngram-scale-") as folder:
        corpus = Path(folder) / "wikitext-2-x196.txt"
        with open(corpus, "wb") as f:
            for _ in range(SCALE_REPEATS):
                f.write(text)
        read = _in_child(_scale_read, str(corpus), folder)
        corpus.unlink()
        print(f"== scale ({read['words']:,} words, {read['sequences']:,} sequences: wikitext-2/train.txt "
              f"{SCALE_REPEATS} times)")
        print(f"reading (load_sequences): {read['seconds']:.1f} s, peak {read['peak_mb']:,.0f} MB (its own process)")
        rows: list[list[object]] = []
        for order in (3, 8):
            one = _in_child(_scale_trajectory, folder, order)
            two = _in_child(_scale_two_jobs, folder, order)
            gens = " / ".join(f"{s:.1f}" for s in one["generations"])
            jobs2 = " / ".join(f"{max(w['generations']):.1f}" for w in two["workers"])
            rows.append([order, f"{one['entries']:,}", f"{one['fit']:.1f}", gens,
                         f"{read['words'] / min(one['generations']) / 1e6:.1f}M", f"{one['loaded_mb']:,.0f}",
                         f"{one['fitted_mb']:,.0f}", f"{one['peak_mb']:,.0f}", jobs2, f"{two['parent_mb']:,.0f}",
                         f"{two['tree_peak_mb']:,.0f}", f"{two['tree_peak_mb'] - one['peak_mb']:,.0f}"])
        print(format_table(["order", "table entries", "fit gen 0 s", "generations s", "words/s", "MB corpus loaded",
                            "MB after fit", "peak MB (1 trajectory)", "jobs 2: slowest generation s",
                            "jobs 2: parent PSS MB", "jobs 2: peak PSS MB (3 processes)",
                            "jobs 2 adds MB"], rows))
