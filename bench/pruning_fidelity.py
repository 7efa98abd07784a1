"""What the `adaptive` posterior's live-set pruning (adaptive_live.prune) costs in fidelity: for
simulated quizzes played with a given likelihood budget (`forced_likelihood_budget`, or
`likelihood_budget` for quizzes that offer "none of these"), the posterior mass that the pruned
particles hold in the unpruned posterior after the last pick, and whether the 7 recommendations
change. A smaller budget makes cold requests cheaper (fewer particles to recompute); this is
the other side of that trade.

Quizzes: simulated people (Luce, β ∈ --betas, an ideal drawn from the pool's people), forced
choices, played with the served strategy at the given budget; each is then scored with that
budget and with no pruning at all (every particle), from an empty likelihood cache. With
--offer-none SHARE every round offers "none of these", as the site's quizzes do (their pruning
counts each round as DECLINABLE_EXTRA_FACES more faces), and the people have a bar at the top
SHARE of the pool (0: no bar, they never answer none).

    .venv/bin/python bench/pruning_fidelity.py [--index DIR] [--budgets 300000,1000000]
        [--choices 4] [--rounds 10] [--quizzes 5] [--betas inf,20,10] [--offer-none SHARE]
        [--out PATH]

The index (built from the LFW gallery with `idealtype build`) comes from --index or
$IDEALTYPE_LFW_INDEX. Writes bench/results/pruning_fidelity.json unless --out says otherwise.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the serving entry points do

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
from bench_index import RESULTS, has_index, write_report

from idealtype.blobstore import open_store
from idealtype.evaluation.users import Chooser, luce, offered_none
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, round_rng
from idealtype.quiz.strategies.adaptive import AdaptiveStrategy
from idealtype.quiz.strategies.adaptive_config import DEFAULT
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.adaptive_rank import rank_basis, recommend_from
from idealtype.quiz.strategies.posterior import CACHE, posterior


def quiz_fidelity(pool: Pool, strategy: AdaptiveStrategy, history: list[RoundRecord]) -> dict:
    """The pruned posterior after `history` against the unpruned one."""
    cfg, rows = strategy.cfg, pool.celeb_rows
    model = adaptive_model(pool, cfg)
    everything = dataclasses.replace(cfg, prune_gap=math.inf, likelihood_budget=10**12,
                                     forced_likelihood_budget=10**12)
    CACHE.clear()
    pruned = posterior(model, history, pool.index.embeddings, cfg)
    CACHE.clear()
    full = posterior(model, history, pool.index.embeddings, everything)
    live = len(model.log_prior) if pruned.live is None else len(pruned.live)
    lost = (np.zeros(len(full.ids), dtype=bool) if pruned.live is None
            else ~np.isin(full.ids, pruned.live))
    same = (recommend_from(model, rank_basis(model, pruned, rows, cfg), rows, 7, cfg)[0].tolist()
            == recommend_from(model, rank_basis(model, full, rows, cfg), rows, 7, cfg)[0].tolist())
    return {"live": live, "lost_mass": float(full.weights[lost].sum()),
            "lost_max": float(full.weights[lost].max(initial=0.0)), "same_7": same}


def run(pool: Pool, budget: int, beta: float, choices: int, rounds: int, quizzes: int,
        bar: float | None = None) -> list[dict]:
    """`bar`: None for forced quizzes, else rounds offer "none" to people with this bar."""
    # The budget of the quizzes' kind (the other one is never used in them).
    strategy = AdaptiveStrategy(dataclasses.replace(DEFAULT, likelihood_budget=budget,
                                                    forced_likelihood_budget=budget))
    person = luce(beta) if not bar else offered_none(beta, bar)
    chooser = Chooser(person, pool.index.embeddings, 0, pool.index.centroids[pool.celeb_rows])
    rng = np.random.default_rng([5, choices, rounds])  # the same people for every budget
    out = []
    for q in range(quizzes):
        ideal = pool.index.centroids[pool.celeb_rows[int(rng.integers(len(pool.celeb_rows)))]]
        history: list[RoundRecord] = []
        for r in range(rounds):
            shown = strategy.next_round(pool, history, choices, round_rng(q, r))
            history.append(RoundRecord(tuple(shown), chooser.choose(shown, ideal, rng),
                                       declinable=bar is not None))
        out.append(quiz_fidelity(pool, strategy, history))
        print(f"budget {budget} β={beta:g} quiz {q}: {out[-1]}", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default=os.environ.get("IDEALTYPE_LFW_INDEX"))
    ap.add_argument("--budgets", default="300000,1000000")
    ap.add_argument("--choices", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--quizzes", type=int, default=5)
    ap.add_argument("--betas", default="inf,20,10")
    ap.add_argument("--offer-none", type=float, default=None, metavar="SHARE",
                    help="rounds offer none of these; the people's bar share (0: no bar)")
    ap.add_argument("--out", type=Path, default=RESULTS / "pruning_fidelity.json")
    args = ap.parse_args()
    if not has_index(args.index, "--index"):
        return 2
    pool = Pool(load_index(open_store(args.index)))
    cells = []
    for budget in (int(b) for b in args.budgets.split(",")):
        for beta in (float(b) for b in args.betas.split(",")):
            quizzes = run(pool, budget, beta, args.choices, args.rounds, args.quizzes,
                          args.offer_none)
            lost = [q["lost_mass"] for q in quizzes]
            cells.append({"budget": budget, "beta": "inf" if math.isinf(beta) else beta,
                          "max_lost_mass": max(lost), "median_lost_mass": float(np.median(lost)),
                          "changed_recommendations": sum(not q["same_7"] for q in quizzes),
                          "quizzes": quizzes})
            print(f"budget {budget} β={beta:g}: lost mass median {cells[-1]['median_lost_mass']:.4f} "
                  f"max {cells[-1]['max_lost_mass']:.4f}, recommendations changed in "
                  f"{cells[-1]['changed_recommendations']} of {len(quizzes)}", flush=True)
    write_report(args.out, {"index": args.index, "pool_size": len(pool.celeb_rows),
                            "choices": args.choices, "rounds": args.rounds,
                            "offer_none_bar": args.offer_none, "cells": cells})
    return 0


if __name__ == "__main__":
    sys.exit(main())
