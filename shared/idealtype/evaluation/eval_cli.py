"""`idealtype eval INDEX`: simulate quiz takers on a built index and score strategies.

Writes report.json, report.md and PNG plots to --out. Every cell uses the same simulated users
(fixed seed), so strategies are compared on identical people.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

# One BLAS thread per process: these products are small, and on a busy machine multithreaded
# OpenBLAS spins instead of working (measured 7x slower). Must precede the numpy import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

DEFAULT_STRATEGIES = "random,cluster,adaptive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", help="index location (folder or s3://bucket/prefix)")
    parser.add_argument("--version", default=None, help="index version (default: LATEST)")
    parser.add_argument("--out", default="var/eval", help="report folder (default var/eval)")
    parser.add_argument("--users", type=int, default=500, help="simulated users per cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategies", default=DEFAULT_STRATEGIES,
                        help=f"comma-separated (default {DEFAULT_STRATEGIES}); also variants "
                             "from idealtype.evaluation.strategies.VARIANTS")
    parser.add_argument("--choices", default="2,4,6", help="N values")
    parser.add_argument("--rounds", default="5,10,15", help="M values")
    parser.add_argument("--betas", default="inf,20,10", help="user decisiveness values")
    parser.add_argument("--protocols", default="target,type")
    parser.add_argument("--robustness", default="lapse20,noisy0.5",
                        help="extra user models scored at N=4, M=10, β∈{∞,20} ('' for none)")
    parser.add_argument("--curve", action=argparse.BooleanOptionalAction, default=True,
                        help="score every round of the N=4, longest-M, β=∞ cells")
    parser.add_argument("--pool", default=None, help="tag filter, e.g. gender=female")


def command_line() -> str:
    """How this run was started, for the report (`idealtype eval ...` or a bench script)."""
    argv = sys.argv[1:]
    if "eval" in argv:
        return shlex.join(["idealtype", *argv[argv.index("eval"):]])
    return shlex.join([Path(sys.argv[0]).name, *argv])


def parse_list(text: str, kind=str) -> list:
    return [kind(x) for x in text.split(",") if x.strip()]


def user_model(name: str, beta: float):
    from .users import lapsing, luce, noisy_perception

    if name == "luce":
        return luce(beta)
    if name.startswith("lapse"):
        return lapsing(beta, float(name[5:]) / 100)
    if name.startswith("noisy"):
        return noisy_perception(beta, float(name[5:]))
    raise ValueError(f"unknown user model {name!r} (luce, lapseNN, noisyX)")


def plan(args: argparse.Namespace) -> list:
    from .grid import Cell

    strategies = parse_list(args.strategies)
    choices, rounds = parse_list(args.choices, int), parse_list(args.rounds, int)
    betas = parse_list(args.betas, float)
    protocols = parse_list(args.protocols)
    cells = []
    for n in choices:
        for m in rounds:
            for beta in betas:
                curve = args.curve and n == 4 and m == max(rounds) and beta == float("inf")
                for protocol in protocols:
                    for s in strategies:
                        cells.append(Cell(s, protocol, user_model("luce", beta), n, m, curve))
    for name in parse_list(args.robustness):
        for beta in (float("inf"), 20.0):
            for protocol in protocols:
                for s in strategies:
                    cells.append(Cell(s, protocol, user_model(name, beta), 4, 10))
    return cells


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..api.settings import Settings
    from ..blobstore import open_store
    from ..index_format import IndexError_, load_index
    from ..quiz.pool import Pool, PoolTooSmall
    from .grid import score_row
    from .protocols import liked_count, make_population
    from .report import goal_check, write_report
    from .runner import run_cell
    from .strategies import resolve
    from .users import Chooser

    try:
        index = load_index(open_store(args.index), args.version)
    except IndexError_ as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    tags = dict([args.pool.split("=", 1)]) if args.pool else None
    pool = Pool(index, tags)
    try:
        strategies = {s: resolve(s) for s in parse_list(args.strategies)}
        cells = plan(args)
        pool.require(max(c.choices * c.rounds for c in cells))
    except (KeyError, ValueError, PoolTooSmall) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    populations = {p: make_population(p, index.centroids, pool.celeb_rows, args.users, args.seed)
                   for p in parse_list(args.protocols)}
    choosers: dict = {}
    rows = []
    started = time.time()
    with tqdm(total=len(cells) * args.users, unit="quiz", smoothing=0.05) as bar:
        for cell in cells:
            um = cell.user_model
            if um not in choosers:
                choosers[um] = Chooser(um, index.embeddings, args.seed)
            bar.set_description(f"{cell.strategy} {cell.protocol} {um.label} N={cell.choices} M={cell.rounds}")
            result = run_cell(
                strategies[cell.strategy], pool, populations[cell.protocol], choosers[um],
                choices=cell.choices, rounds=cell.rounds, seed=args.seed,
                checkpoints=cell.checkpoints(len(pool)), progress=bar,
            )
            rows.append(score_row(cell, result, len(pool)))
    default = Settings().default_strategy
    report = {
        "command": command_line(),
        "index": {"location": str(args.index), "version": index.version,
                  "celebrities": index.n_celebs, "images": index.n_images,
                  "model": index.manifest.get("model", {}).get("id")},
        "settings": {"users": args.users, "seed": args.seed, "pool": tags,
                     "strategies": parse_list(args.strategies), "default_strategy": default,
                     "type_people": 3},
        "pool_size": len(pool),
        "liked_count": liked_count(len(pool)),
        "seconds": round(time.time() - started, 1),
        "rows": rows,
        "goals": goal_check(rows, default),
    }
    out = Path(args.out)
    write_report(report, out)
    print(f"wrote {out / 'report.md'}, {out / 'report.json'} and {len(report['plots'])} plots "
          f"in {report['seconds']:.0f}s")
    for check in report["goals"]:
        value = f"{check['value']['mean']:.3f}" if check["value"] else "–"
        print(f"  {default} {check['protocol']:6s} β={check['beta']:3s} {check['metric']:22s} "
              f"goal ≥ {check['goal']:.2f}: {value} {'met' if check['met'] else 'NOT met'}")
    return 0
