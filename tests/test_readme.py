"""The README's library example runs as written (on the test corpora)."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_library_example_runs(monkeypatch, data_dir):
    monkeypatch.setenv("NGRAM_COLLAPSE_DATA", str(data_dir))
    (example,) = python_blocks(README.read_text(encoding="utf-8").split("## Library", 1)[1].split("\n## ", 1)[0])
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    run = namespace["run"]
    assert [row["generation"] for row in run.generations] == list(range(11))
    assert namespace["sample"].num_tokens == 1000
    assert 0 < namespace["model"].prob("of", ["the", "end"]) <= 1


def test_the_tests_the_docs_cite_exist():
    """Every ``tests/test_*.py::name`` that README.md and docs/ cite (also the ``::name`` that follow
    one in the same sentence) names a test function of that file."""
    root = README.parent
    missing = []
    for doc in [README, *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"(tests/test_\w+\.py)((?:[`,\s]*(?:and\s+)?`?::\w+`?)*)", text):
            source = (root / match.group(1)).read_text(encoding="utf-8")
            missing += [f"{doc.name}: {match.group(1)}::{name}" for name in re.findall(r"::(\w+)", match.group(2))
                        if not re.search(rf"^def {name}\(", source, flags=re.M)]
    assert missing == []
