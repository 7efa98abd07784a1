"""Paired quality of the served `adaptive` against a variant of its configuration: the same
simulated users (ideals, pick randomness and quiz seeds as in `idealtype eval`, N=4 M=10 by
default) quizzed by each, one score per user, and the mean per-user difference with its 95%
interval.

Why paired: two unpaired runs of 2,000 users differ by ±0.02 in type precision from the users
alone; on the same users the spread of a difference is what the change does to their quizzes
(often ±0.01). This is how the README's "paired" numbers are measured.

    .venv/bin/python bench/quality_ab.py '{"pair_pool": 24}' --protocol type --beta 20
        [--users 2000] [--none-bar 0.1 | --offer-none] [--choices 4] [--rounds 10] [--seed 0]
        [--index DIR] [--out PATH]

--none-bar SHARE: every round offers "none of these", and the person answers it when no face
reaches their bar (the top SHARE of the pool). --offer-none: every round offers it, as the
site's quizzes do, to people without a bar (they always pick a face).

Both sides run at once in two processes. The index (built from the LFW gallery with
`idealtype build`) comes from --index or $IDEALTYPE_LFW_INDEX.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import multiprocessing
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench_index import RESULTS, has_index, write_report

from idealtype.blobstore import open_store
from idealtype.evaluation.metrics import Z95
from idealtype.evaluation.protocols import make_population
from idealtype.evaluation.runner import K, run_cell
from idealtype.evaluation.users import Chooser, luce, offered_none
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies.adaptive import AdaptiveStrategy
from idealtype.quiz.strategies.adaptive_config import DEFAULT


def user_scores(index_location: str, changes: dict, args: argparse.Namespace) -> np.ndarray:
    """Per-user score of adaptive with `changes` to its configuration: type precision@K, or
    1.0 where the target is in the top K."""
    index = load_index(open_store(index_location))
    pool = Pool(index)
    population = make_population(args.protocol, index.centroids, pool.celeb_rows, args.users,
                                 args.seed)
    user = (offered_none(args.beta, args.none_bar) if args.none_bar or args.offer_none
            else luce(args.beta))
    chooser = Chooser(user, index.embeddings, args.seed, index.centroids[pool.celeb_rows])
    result = run_cell(AdaptiveStrategy(replace(DEFAULT, **changes)), pool, population, chooser,
                      choices=args.choices, rounds=args.rounds, seed=args.seed)
    if args.protocol == "type":
        return result.precision[args.rounds]
    rank = result.target_rank[args.rounds]
    return ((rank >= 1) & (rank <= K)).astype(np.float64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="JSON object of AdaptiveConfig fields to change")
    parser.add_argument("--protocol", choices=("type", "target"), default="type")
    parser.add_argument("--beta", type=float, default=math.inf, help="inf or a number")
    parser.add_argument("--none-bar", type=float, default=0.0,
                        help="offer 'none of these', used below the person's top share (0: forced)")
    parser.add_argument("--offer-none", action="store_true",
                        help="offer 'none of these' to people without a bar (they never use it)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--choices", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", default=os.environ.get("IDEALTYPE_LFW_INDEX"))
    parser.add_argument("--out", type=Path, default=RESULTS / "quality_ab.json")
    args = parser.parse_args()
    if not has_index(args.index, "--index"):
        return 2
    changes = json.loads(args.variant)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as workers:
        served, variant = workers.starmap(user_scores, [(args.index, {}, args),
                                                        (args.index, changes, args)])
    diff = variant - served
    half = Z95 * float(diff.std(ddof=1)) / math.sqrt(len(diff))
    metric = f"type precision@{K}" if args.protocol == "type" else f"target hit@{K}"
    user = (f"'none of these' below the top {args.none_bar:g}" if args.none_bar
            else "'none of these' offered, never used" if args.offer_none else "forced")
    print(f"{metric}, β={args.beta:g}, {user}, N={args.choices} M={args.rounds}, "
          f"{args.users} users: served {served.mean():.4f}, variant {variant.mean():.4f}, "
          f"variant − served {diff.mean():+.4f} ±{half:.4f} (95%, paired); "
          f"{int((diff != 0).sum())} users scored differently")
    report = {"variant": changes, "protocol": args.protocol, "metric": metric,
              "beta": "inf" if math.isinf(args.beta) else args.beta, "none_bar": args.none_bar,
              "offer_none": bool(args.none_bar or args.offer_none),
              "choices": args.choices, "rounds": args.rounds, "users": args.users,
              "seed": args.seed, "index": args.index,
              "served_mean": round(float(served.mean()), 4),
              "variant_mean": round(float(variant.mean()), 4),
              "difference": round(float(diff.mean()), 4), "ci95_half_width": round(half, 4),
              "users_changed": int((diff != 0).sum()),
              "seconds": round(time.perf_counter() - started, 1),
              "per_user": {"served": np.round(served, 4).tolist(),
                           "variant": np.round(variant, 4).tolist()}}
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
