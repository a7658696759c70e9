"""Reliability under bad input, kills and faults (the adversarial user's cases, one test each).

Item numbers refer to the issue "Never lose a user's files, never crash on a value".
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ngram_collapse.cli import main as run_main
from helpers import clean_env

SMALL = ["--generations", "1", "--trajectories", "1", "--no-plot", "--quiet"]
REPO = Path(__file__).resolve().parents[1]


def main(argv):
    return run_main([str(a) for a in argv])


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ngram-collapse: error:"), err
    return lines[0]


def env(**extra):
    return clean_env(PYTHONPATH=str(REPO), **extra)


# ------------------------------------------------------------------------------ 1. never lose files

@pytest.mark.parametrize("command", [[], ["simulate", "poisson"]])
def test_a_folder_of_someone_elses_files_is_refused_and_kept(tmp_path, cli, command):
    """Before: --out pointing at a folder holding thesis.tex came back empty, exit 0."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    code, _, err = cli([*command, *SMALL, "--out", out])
    assert code == 2 and "not an earlier output" in one_line(err)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    assert (out / "thesis.tex").read_text() == "years of work"
    code, _, err = cli([*command, *SMALL, "--out", out, "--overwrite"])  # --overwrite does not help
    assert code == 2 and (out / "thesis.tex").read_text() == "years of work"


def test_the_corpus_folder_is_never_the_output(tmp_path, cli):
    """Before: --corpus corpdir --out corpdir deleted the corpus after reading it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "text.txt").write_text("a b c a b\nc a\n")
    code, _, err = cli(["--corpus", corpus, *SMALL, "--out", corpus, "--overwrite"])
    assert code == 2 and "holds the corpus" in one_line(err)
    assert (corpus / "text.txt").read_text() == "a b c a b\nc a\n"


def test_out_dot_is_refused_and_leaves_nothing(tmp_path, cli, monkeypatch):
    """Before: --out . ended in a traceback and left a stray ..old-* folder in the parent."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    code, _, err = cli([*SMALL, "--out", "."])
    assert code == 2 and "current folder" in one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


def test_an_earlier_output_is_replaced_only_whole_and_only_with_overwrite(tmp_path, cli):
    out = tmp_path / "run"
    assert main([*SMALL, "--seed", "1", "--out", out]) == 0
    before = (out / "generations.csv").read_text()
    code, _, err = cli([*SMALL, "--seed", "2", "--out", out])
    assert code == 2 and "--overwrite" in one_line(err)
    assert (out / "generations.csv").read_text() == before
    assert main([*SMALL, "--seed", "2", "--out", out, "--overwrite"]) == 0
    assert (out / "generations.csv").read_text() != before
    assert sorted(p.name for p in out.iterdir()) == ["generations.csv", "summary.json", "words.csv"]
    (out / "my-notes.txt").write_text("added by hand")  # no longer only our files: never replaced
    code, _, err = cli([*SMALL, "--out", out, "--overwrite"])
    assert code == 2 and (out / "my-notes.txt").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*SMALL, "--out", empty]) == 0 and (empty / "summary.json").exists()


def test_stale_temporary_folders_of_killed_runs_are_removed(tmp_path):
    """Before: a kill while writing left a hidden .NAME.tmp-* folder that no later run removed."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".run.tmp-{dead_pid}-abc"
    stale.mkdir()
    (stale / "generations.csv").write_text("half")
    live = tmp_path / f".run.tmp-{os.getppid()}-abc"  # a live process's work is left alone
    live.mkdir()
    assert main([*SMALL, "--out", tmp_path / "run"]) == 0
    assert not stale.exists() and live.exists()


# --------------------------------------------------------------------- 2. values nobody checked

@pytest.mark.parametrize("argv, parameter", [
    (["--generations", "10000000000000"], "--generations"),
    (["--trajectories", "10000000000000"], "--trajectories"),
    (["simulate", "poisson", "--lam0", "inf"], "--lam0"),
    (["simulate", "poisson", "--lam0", "1e300"], "--lam0"),
    (["simulate", "zipf", "--a", "nan"], "--a"),
    (["simulate", "zipf", "--a", "inf"], "--a"),
    (["simulate", "zipf", "--b", "inf"], "--b"),
    (["simulate", "zipf", "--m", "100000000000"], "--m"),
    (["simulate", "zipf", "--trajectories", "100000000000"], "--trajectories"),
    (["simulate", "gaussian", "--generations", "100000000000"], "--generations"),
    (["simulate", "gmm", "--sigma0", "1e300"], "--sigma0"),
    (["simulate", "gmm", "--n", "100000000000"], "--n"),
])
def test_impossible_values_are_one_line_and_nothing_written(argv, parameter, tmp_path, cli):
    """Before: tracebacks, memory exhaustion, or (gmm --sigma0 1e300) a silent wrong answer."""
    out = tmp_path / "out"
    code, _, err = cli([*argv, "--out", out])
    assert code == 2 and one_line(err).startswith(f"ngram-collapse: error: {parameter}")
    assert not out.exists()


def test_an_empty_corpus_name_is_one_line(tmp_path, cli):
    """Before: --corpus "" read every .txt in the current folder, labelled with the embedded corpus's name."""
    out = tmp_path / "out"
    code, _, err = cli(["--corpus", "", "--out", out])
    assert code == 2 and one_line(err) == ("ngram-collapse: error: corpus is empty: give a file, a folder, a registered "
                                           "name or hf:PATH:SPLIT (or nothing for the embedded python-docs)")
    assert not out.exists()


def test_a_huge_bernoulli_sample_runs_without_the_exact_chain(tmp_path):
    """Before: simulate bernoulli --n 1e10 exhausted memory building the exact chain."""
    out = tmp_path / "b"
    assert main(["simulate", "bernoulli", "--n", "10000000000", "--generations", "3", "--trajectories", "20",
                 "--no-plot", "--out", out]) == 0
    rows = json.loads((out / "summary.json").read_text())["generations"]
    assert all(r["exact"] is None and 0 <= r["bound_lower"] <= 1 for r in rows)


# ----------------------------------------------------------------------------------- 3. processes

def children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def default_ctrl_c():
    """In the child: Ctrl-C handled as in a terminal's foreground job, even when the tests themselves
    run with SIGINT ignored (started in the background by a shell without job control, or by nohup),
    which the child would otherwise inherit and keep, as every Unix program does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def long_run(tmp_path, data_dir, report=False):
    """A run (or a report of 6 cells) with 2 worker processes that would take minutes; returns it and
    its workers once both run."""
    command = ["report", "--orders", "1,2,3"] if report else ["--no-plot"]
    argv = [sys.executable, "-m", "ngram_collapse", *command, "--corpus", "wikitext-2:valid", "--data-dir",
            str(data_dir), "--generations", "500", "--trajectories", "4", "--jobs", "2", "--quiet",
            "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    time.sleep(0.5)
    return proc, children(proc.pid)


def wait_gone(pids, seconds):
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def test_sigkill_of_the_parent_takes_the_workers_with_it(tmp_path, data_dir):
    """Before: SIGKILL of a run with --jobs 2 left its workers running, orphaned."""
    proc, workers = long_run(tmp_path, data_dir)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert wait_gone(workers, 5) == []


@pytest.mark.parametrize("how, status, word", [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_sigterm_and_ctrl_c_stop_within_two_seconds(tmp_path, data_dir, how, status, word):
    """Before: SIGTERM left the workers running; Ctrl-C took 9 to 11 s to exit. Ctrl-C goes to the whole
    foreground process group, as a terminal sends it."""
    proc, workers = long_run(tmp_path, data_dir)
    start = time.monotonic()
    if how == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - start
    assert proc.returncode == status and err.strip() == f"ngram-collapse: {word}; nothing half-written was kept"
    assert took < 2.0, took
    assert wait_gone(workers, 2) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------- 4. Dask

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report_argv(data_dir, out, scheduler, *extra):
    return [sys.executable, "-m", "ngram_collapse", "report", "--corpus", "wikitext-2:valid", "--data-dir",
            str(data_dir), "--max-words", "30000", "--orders", "1,2,3", "--sampling", "multinomial,poisson",
            "--generations", "30", "--trajectories", "3", "--quiet", "--scheduler", scheduler, "--out", str(out),
            *extra]


def test_a_scheduler_lost_mid_grid_is_one_line_and_a_rerun_resumes(tmp_path, data_dir):
    """Before: 55 lines with 3 tracebacks and exit 1."""
    port = free_port()
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env(), start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", f"tcp://127.0.0.1:{port}", "--nworkers",
                               "1", "--nthreads", "1", "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env(), start_new_session=True)
    out = tmp_path / "report"
    try:
        proc = subprocess.Popen(report_argv(data_dir, out, f"dask://127.0.0.1:{port}"), env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any(p.is_dir() and not p.name.startswith(".") for p in out.glob("wikitext*")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(scheduler.pid, signal.SIGKILL)
        lost = time.monotonic()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and "rerun the same command to resume" in one_line(err)
        assert time.monotonic() - lost < 25  # the client's reconnect timeout, then one line
    finally:
        for p in (worker, scheduler):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    kept = sorted(p.name for p in out.glob("wikitext*"))
    assert kept
    local = subprocess.run([a for a in report_argv(data_dir, out, "x") if a not in ("--scheduler", "x")],
                           env=env(), capture_output=True, text=True, timeout=300)
    assert local.returncode == 0 and local.stdout.startswith(f"{6 - len(kept)} cells run, {len(kept)} already")


class Server:
    """A TCP service on localhost that is not Dask: it answers with HTTP, or never answers."""

    def __init__(self, answer: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.answer, self.held = answer, []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.answer:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 64)


@pytest.mark.parametrize("answer", [True, False], ids=["answers", "silent"])
def test_a_service_that_is_not_dask_is_one_line(tmp_path, data_dir, answer):
    """Before: a MemoryError traceback (a service that answers) or a silent hang of over 120 s."""
    server = Server(answer)
    start = time.monotonic()
    proc = subprocess.run(report_argv(data_dir, tmp_path / "r", f"dask://127.0.0.1:{server.port}"), env=env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not a Dask scheduler" in one_line(proc.stderr)
    assert time.monotonic() - start < 20  # 10 s to answer, plus start-up
    server.sock.close()


def test_a_scheduler_without_workers_is_one_line(tmp_path, data_dir):
    import distributed  # the test extra installs it: a missing one is a failure, not a skip
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", protocol="tcp", dashboard_address=None,
                                  processes=True) as cluster:
        port = cluster.scheduler_address.rsplit(":", 1)[1]
        start = time.monotonic()
        proc = subprocess.run(report_argv(data_dir, tmp_path / "r", f"dask://127.0.0.1:{port}"), env=env(),
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no worker joined" in one_line(proc.stderr)
    assert time.monotonic() - start < 20


def test_a_bad_scheduler_address_is_refused_even_with_nothing_to_run(tmp_path, data_dir, cli):
    """Before: --scheduler garbage was accepted when no cell was left to run."""
    out = tmp_path / "r"
    base = ["report", "--max-words", "2000", "--generations", "1", "--trajectories", "1", "--quiet", "--out", out]
    assert main(base) == 0
    code, _, err = cli([*base, "--scheduler", "garbage"])
    assert code == 2 and "dask://HOST:PORT" in one_line(err)


# ------------------------------------------------------------------------------------ 5. reports

def test_a_second_report_on_the_same_folder_refuses_naming_the_first(tmp_path, data_dir):
    """Before: two reports on one --out both ran every unfinished cell (and once crashed)."""
    proc, _ = long_run(tmp_path, data_dir, report=True)
    try:
        second = subprocess.run([sys.executable, "-m", "ngram_collapse", "report", "--out", str(tmp_path / "out"),
                                 "--quiet"], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and f"PID {proc.pid}" in one_line(second.stderr)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)


def test_report_with_no_generations(tmp_path, cli):
    """Before: report --generations 0 crashed building the page after writing cells.csv."""
    code, out, _ = cli(["report", "--max-words", "3000", "--generations", "0", "--jobs", "1", "--quiet",
                        "--out", tmp_path / "r"])
    assert code == 0 and (tmp_path / "r" / "report.html").stat().st_size > 1000


@pytest.mark.parametrize("damaged", ["summary.json", "words.csv"])
def test_a_damaged_cell_is_run_again(tmp_path, cli, damaged):
    """Before: a truncated summary.json or words.csv in a finished cell made the rerun crash."""
    out = tmp_path / "r"
    argv = ["report", "--max-words", "3000", "--generations", "3", "--trajectories", "2", "--jobs", "1",
            "--quiet", "--out", out]
    assert main(argv) == 0
    before = (out / "cells.csv").read_text()
    cell = out / "python-docs-n1-poisson"
    text = (cell / damaged).read_text()
    (cell / damaged).write_text(text[: len(text) // 2])
    code, printed, _ = cli(argv)
    assert code == 0 and "python-docs-n1-poisson: was damaged" in printed and "1 cells run, 1 already" in printed
    assert (out / "cells.csv").read_text() == before
    if damaged == "words.csv":
        assert (cell / damaged).read_text() == text
    else:  # the same numbers; only the timings differ
        again = json.loads((cell / damaged).read_text())
        assert {**again, "timings": None} == {**json.loads(text), "timings": None}
