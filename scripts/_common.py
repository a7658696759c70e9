"""What scripts/bench.py and scripts/reproduce_paper.py share: the corpus folder option and the
choice of registered sections with ``--only``."""
from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path


def parse(parser: argparse.ArgumentParser, argv: list[str] | None, registry: Mapping[str, object],
          what: str) -> tuple[argparse.Namespace, list[str]]:
    """Parse ``argv`` (with ``--only`` and ``--data-dir``), fill in the data folder's default, and
    return the arguments and the names chosen from ``registry`` (all by default)."""
    parser.add_argument("--only", help=f"comma-separated {what} (default all: {', '.join(registry)})")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding wikitext-2/train.txt (default $NGRAM_COLLAPSE_DATA, "
                             "else ../shared/corpora beside the repository)")
    args = parser.parse_args(argv)
    if args.data_dir is None:
        args.data_dir = os.environ.get("NGRAM_COLLAPSE_DATA") or str(
            Path(__file__).resolve().parents[2] / "shared" / "corpora")
    names = args.only.split(",") if args.only else list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        parser.error(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(registry)}")
    return args, names
