"""Recommendation quality on a real index: the issue's full protocol via `idealtype eval`.

Grid N∈{2,4,6} × M∈{5,10,15} × β∈{∞,20,10}, both protocols, 500 simulated users per cell,
seed 0, robustness user models, strategies random (the original method), cluster and adaptive,
side by side; writes bench/results/quality/{report.json,report.md,*.png} and prints the goals.

    .venv/bin/python bench/quality.py [--index DIR] [--users 500] [--jobs 2] [extra eval flags]

The index defaults to $IDEALTYPE_EVAL_INDEX, else ../var/lfw-index beside the checkout (an
index built from ../shared/data/lfw with `idealtype build`).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path

from idealtype.cli import main as idealtype

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = os.environ.get("IDEALTYPE_EVAL_INDEX") or str(REPO.parent / "var" / "lfw-index")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=DEFAULT_INDEX)
    parser.add_argument("--users", default="500")
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "quality"))
    args, extra = parser.parse_known_args()
    if not (Path(args.index) / "index" / "LATEST").exists() and not args.index.startswith("s3://"):
        print(f"no index at {args.index}: build one from the LFW gallery first, e.g.\n"
              f"  idealtype build ../shared/data/lfw --out {args.index}\n"
              "or pass --index / set IDEALTYPE_EVAL_INDEX", file=sys.stderr)
        return 2
    return idealtype(["eval", args.index, "--out", args.out, "--users", args.users,
                      "--jobs", args.jobs, *extra])


if __name__ == "__main__":
    raise SystemExit(main())
