"""How high type precision@7 can go on our simulator and index: the original `random`, the served
`adaptive` and the cheating `reference-triples` (knows the simulator's prior of equal-weight
triples and its β) side by side on the same simulated users and choices (type protocol, N=4,
M=10, β=∞ and β=20, seed 0). Issue 6's goals are 0.50 (β=∞) / 0.38 (β=20); its author's
cheating reference reached about 0.51 (β=∞) on their simulator.

    .venv/bin/python bench/type_ceiling.py [--index DIR] [--users 100] [--seed 0]
        [--betas inf,20] [--out PATH]

One β per process (--betas inf / --betas 20, each with its own --out) runs both at once on
two cores; the first U simulated users are the same whatever --users.

The index (built from the LFW gallery with `idealtype build`) comes from --index or
$IDEALTYPE_LFW_INDEX. Writes bench/results/type_ceiling.{json,md} unless --out says otherwise;
the committed runs are bench/results/type_ceiling_500users_{inf,20}.{json,md} (--users 500,
one β each, e.g. `--betas 20 --out bench/results/type_ceiling_500users_20`; ~70 minutes
with both at once on this machine's two cores).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from bench_index import has_index
from tqdm import tqdm

from idealtype.blobstore import open_store
from idealtype.evaluation.cheating_reference import ReferenceTriplesStrategy
from idealtype.evaluation.metrics import summarize
from idealtype.evaluation.protocols import make_population
from idealtype.evaluation.runner import K, run_cell
from idealtype.evaluation.strategies import resolve
from idealtype.evaluation.users import Chooser, luce
from idealtype.index_format import load_index
from idealtype.quiz.pool import Pool

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = os.environ.get("IDEALTYPE_LFW_INDEX")
STRATEGIES = ("random", "adaptive", "reference-triples")
GOALS = {math.inf: 0.50, 20.0: 0.38}  # issue 6, type precision@7 at N=4, M=10
CHOICES, ROUNDS = 4, 10


def beta_label(beta: float) -> str:
    return "∞" if math.isinf(beta) else f"{beta:g}"


def strategy_for(name: str, beta: float):
    # The reference is told the simulator's β (part of what it cheats with).
    return ReferenceTriplesStrategy(beta=beta) if name == "reference-triples" else resolve(name)


def fmt(s: dict) -> str:
    return f"{s['mean']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"


def markdown(report: dict) -> str:
    lines = [
        (f"# Type precision@{K} ceiling (N={CHOICES}, M={ROUNDS}, {report['users']} users, "
        f"seed {report['seed']}, {report['pool_size']} people)"),
        "",
        ("Mean with 95% CI; same simulated users and choice rng for every strategy. "
        "`reference-triples` cheats: it knows the simulator's prior (equal-weight blends of "
        "three pool people) and β."),
        "",
        "| β | goal | " + " | ".join(STRATEGIES) + " | reference − adaptive (paired) |",
        "|---|---|" + "---|" * len(STRATEGIES) + "---|",
    ]
    for row in report["rows"]:
        cells = [fmt(row["precision"][name]) for name in STRATEGIES]
        lines.append(f"| {row['beta']} | {row['goal']:.2f} | " + " | ".join(cells)
                     + f" | {fmt(row['reference_minus_adaptive'])} |")
    lines += ["", "Seconds per round / per ranking:", ""]
    for row in report["rows"]:
        timing = ", ".join(f"{n} {t['seconds_per_round']:.3f} / {t['seconds_per_rank']:.3f}"
                           for n, t in row["timing"].items())
        lines.append(f"- β={row['beta']}: {timing}")
    lines += ["", f"Total run time {report['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=DEFAULT_INDEX)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--betas", default="inf,20",
                        help="comma-separated, of inf and 20 (one per process runs them in parallel)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "type_ceiling"),
                        help="output path without extension (.json and .md are written)")
    args = parser.parse_args()
    if not has_index(args.index, "--index"):
        return 2
    betas = tuple(float(b) for b in args.betas.split(","))
    if any(b not in GOALS for b in betas):
        print(f"--betas: each of {', '.join(beta_label(b) for b in GOALS)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    index = load_index(open_store(args.index))
    pool = Pool(index)
    population = make_population("type", index.centroids, pool.celeb_rows, args.users, args.seed)
    rows = []
    for beta in betas:
        chooser = Chooser(luce(beta), index.embeddings, args.seed)
        precision, timing = {}, {}
        for name in STRATEGIES:
            with tqdm(total=args.users, desc=f"β={beta_label(beta)} {name}", file=sys.stderr) as bar:
                result = run_cell(strategy_for(name, beta), pool, population, chooser,
                                  choices=CHOICES, rounds=ROUNDS, seed=args.seed, progress=bar)
            precision[name] = result.precision[ROUNDS]
            timing[name] = {"seconds_per_round": result.seconds_per_round,
                            "seconds_per_rank": result.seconds_per_rank}
        rows.append({
            "beta": beta_label(beta),
            "goal": GOALS[beta],
            "precision": {n: summarize(v) for n, v in precision.items()},
            "reference_minus_adaptive": summarize(precision["reference-triples"] - precision["adaptive"]),
            "per_user": {n: np.round(v, 4).tolist() for n, v in precision.items()},
            "timing": timing,
        })
    report = {
        "protocol": "type", "choices": CHOICES, "rounds": ROUNDS, "k": K, "users": args.users,
        "seed": args.seed, "index": args.index, "index_version": index.version,
        "pool_size": len(pool), "rows": rows, "seconds": time.perf_counter() - started,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    table = markdown(report)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
