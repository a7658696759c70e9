"""Smoke tests of the engine's sections of scripts/bench.py: the scale measurements on a small corpus
(the real one is 100M words; speed and memory are measured by bench.py, not here)."""
import importlib.util
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", SCRIPTS / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_measurements_on_a_small_corpus(tmp_path, data_dir):
    """Reading, one trajectory in a process, and two forked trajectories sharing generation 0 report
    times and memory that make sense: the fork shares the parent's pages (the three processes' summed
    PSS is well below three copies of the parent)."""
    bench = load_bench()
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes((data_dir / "wikitext-2" / "valid.txt").read_bytes() * 2)
    read = bench._scale_read(str(corpus), str(tmp_path))
    assert read["words"] == 2 * 213_886 and read["seconds"] > 0 and read["peak_mb"] > 0
    one = bench._scale_trajectory(str(tmp_path), 3)
    assert len(one["generations"]) == bench.SCALE_GENERATIONS and one["fit"] > 0
    assert one["loaded_mb"] <= one["fitted_mb"] <= one["peak_mb"] and one["entries"] > 0
    two = bench._scale_two_jobs(str(tmp_path), 3)
    assert [len(w["generations"]) for w in two["workers"]] == [bench.SCALE_GENERATIONS] * 2
    assert two["parent_mb"] < two["tree_peak_mb"] < 3 * max(w["peak_mb"] for w in two["workers"])


def test_longline_section_runs(capsys, data_dir):
    bench = load_bench()
    assert bench.main(["--only", "longline", "--repeats", "1", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if "lines " in line or "one line " in line]
    assert "5,126,150 words" in out and rows[1:] == ["3", "3", "8", "8"]
