"""`idealtype eval INDEX`: simulate quiz takers on a built index and score strategies.

Writes report.json, report.md and PNG plots to --out. Every cell uses the same simulated users
(fixed seed), so strategies are compared on identical people.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# One BLAS thread per process: these products are small, and on a busy machine multithreaded
# OpenBLAS spins instead of working (measured 7x slower). Must precede the numpy import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

from ..cli_args import at_least

DEFAULT_STRATEGIES = "random,cluster,adaptive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", help="index location (folder or s3://bucket/prefix)")
    parser.add_argument("--version", default=None, help="index version (default: LATEST)")
    parser.add_argument("--out", default="var/eval", help="report folder (default var/eval)")
    parser.add_argument("--users", type=at_least(1), default=500,
                        help="simulated users per cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategies", default=DEFAULT_STRATEGIES,
                        help=f"comma-separated (default {DEFAULT_STRATEGIES}); also variants "
                             "from idealtype.evaluation.strategies.VARIANTS")
    parser.add_argument("--choices", default="2,4,6", help="N values")
    parser.add_argument("--rounds", default="5,10,15", help="M values")
    parser.add_argument("--betas", default="inf,20,10", help="user decisiveness values")
    parser.add_argument("--protocols", default="target,type")
    parser.add_argument("--robustness", default="lapse20,noisy0.5",
                        help="extra user models scored at N=4, M=10, β∈{∞,20} ('' for none); "
                             "none10: offered 'none of these', bar at the top 10%%; bar10: "
                             "the same person made to pick (at random below the bar)")
    parser.add_argument("--extra-protocols", default="type-dirichlet",
                        help="protocols scored only at N=4, M=10, β∈{∞,20} ('' for none); "
                             "type-dirichlet: blends with Dirichlet(1) weights")
    parser.add_argument("--curve", action=argparse.BooleanOptionalAction, default=True,
                        help="score every round of the N=4, longest-M, β=∞ cells")
    parser.add_argument("--pool", default=None, help="tag filter, e.g. gender=female")
    parser.add_argument("--jobs", type=at_least(1), default=1,
                        help="worker processes (cells in parallel)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="reuse finished cells of an interrupted run in --out (same settings)")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the cells finished so far, run nothing")


def command_line() -> str:
    """How this run was started, for the report (`idealtype eval ...` or a bench script)."""
    argv = sys.argv[1:]
    if "eval" in argv:
        return shlex.join(["idealtype", *argv[argv.index("eval"):]])
    return shlex.join([Path(sys.argv[0]).name, *argv])


def parse_list(text: str, kind=str) -> list:
    return [kind(x) for x in text.split(",") if x.strip()]


def user_model(name: str, beta: float):
    from .users import forced_below_bar, lapsing, luce, noisy_perception, offered_none

    if name == "luce":
        return luce(beta)
    if name.startswith("none"):
        return offered_none(beta, float(name[4:]) / 100)
    if name.startswith("bar"):
        return forced_below_bar(beta, float(name[3:]) / 100)
    if name.startswith("lapse"):
        return lapsing(beta, float(name[5:]) / 100)
    if name.startswith("noisy"):
        return noisy_perception(beta, float(name[5:]))
    raise ValueError(f"unknown user model {name!r} (luce, lapseNN, noisyX, noneNN, barNN)")


def argument_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line's numbers and filter, before any index is loaded
    (a quiz needs at least 2 faces a round, a round and a positive β)."""
    if args.pool is not None and "=" not in args.pool:
        return f"--pool wants tag=value, e.g. gender=female, not {args.pool!r}"
    try:
        choices, rounds = parse_list(args.choices, int), parse_list(args.rounds, int)
        betas = parse_list(args.betas, float)
    except ValueError as err:
        return f"--choices, --rounds and --betas are comma-separated numbers ({err})"
    if not choices or min(choices) < 2:
        return "--choices: every N must be at least 2 (faces per round)"
    if not rounds or min(rounds) < 1:
        return "--rounds: every M must be at least 1"
    if not betas or not min(betas) > 0:  # (also catches nan)
        return "--betas: every β must be positive (inf: a perfect chooser)"
    return None


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
    for protocol in parse_list(args.extra_protocols):
        for beta in (float("inf"), 20.0):
            for s in strategies:
                cells.append(Cell(s, protocol, user_model("luce", beta), 4, 10))
    for name in parse_list(args.robustness):
        for beta in (float("inf"), 20.0):
            for protocol in protocols:
                for s in strategies:
                    cells.append(Cell(s, protocol, user_model(name, beta), 4, 10))
    return cells


@dataclass
class CellContext:
    """What every cell needs; built once in the parent, inherited by forked workers."""

    pool: Any
    strategies: dict[str, Any]
    populations: dict[str, Any]
    seed: int
    choosers: dict = field(default_factory=dict)


CONTEXT: CellContext | None = None


def score_cell(cell) -> dict:
    """Run one cell in this process (the parent or a forked worker) and score it."""
    from .grid import score_row
    from .runner import run_cell
    from .users import Chooser

    ctx = CONTEXT
    um = cell.user_model
    if um not in ctx.choosers:
        ctx.choosers[um] = Chooser(um, ctx.pool.index.embeddings, ctx.seed,
                                   ctx.pool.index.centroids[ctx.pool.celeb_rows])
    result = run_cell(
        ctx.strategies[cell.strategy], ctx.pool, ctx.populations[cell.protocol], ctx.choosers[um],
        choices=cell.choices, rounds=cell.rounds, seed=ctx.seed,
        checkpoints=cell.checkpoints(len(ctx.pool)),
    )
    return score_row(cell, result, len(ctx.pool))


def run_cells(cells: list, users: int, jobs: int, journal: Journal) -> list[dict]:
    """Score all cells, in `jobs` forked processes; rows come back in plan order. Cells already
    in the journal (an interrupted run with the same settings) are not run again."""
    from tqdm import tqdm

    rows: list[dict | None] = [journal.done.get(cell_key(c)) for c in cells]
    todo = [i for i, row in enumerate(rows) if row is None]
    # Longest cells first so the workers finish together.
    todo.sort(key=lambda i: -cells[i].rounds * (cells[i].strategy != "random"))
    with tqdm(total=len(cells) * users, initial=(len(cells) - len(todo)) * users, unit="quiz",
              smoothing=0.05) as bar:

        def finished(i: int, row: dict) -> None:
            rows[i] = row
            journal.add(cell_key(cells[i]), row)
            bar.set_description(describe(cells[i]))
            bar.update(users)

        if jobs <= 1:
            for i in todo:
                finished(i, score_cell(cells[i]))
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as ex:
                futures = {ex.submit(score_cell, cells[i]): i for i in todo}
                for future in as_completed(futures):
                    finished(futures[future], future.result())
    return rows


class Journal:
    """cells.jsonl in the report folder: one line per finished cell, so an interrupted run
    resumes where it stopped (only lines written with the same settings count)."""

    def __init__(self, path: Path, settings: dict, resume: bool):
        self.path, self.settings = path, settings
        self.done: dict[str, dict] = {}
        if resume and path.exists():
            text = path.read_text()
            entries = self.entries(text)
            self.done = {e["key"]: e["row"] for e in entries if e["settings"] == settings}
            if not text.endswith("\n"):  # drop the line being written when the run stopped
                path.write_text("".join(f"{json.dumps(e)}\n" for e in entries))
        elif path.exists():
            path.unlink()

    @staticmethod
    def entries(text: str) -> list[dict]:
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut short by a stopped run
                pass
        return out

    def add(self, key: str, row: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps({"key": key, "settings": self.settings, "row": row}) + "\n")


def cell_key(cell) -> str:
    return describe(cell) + (" curve" if cell.curve else "")


def describe(cell) -> str:
    return f"{cell.strategy} {cell.protocol} {cell.user_model.label} N={cell.choices} M={cell.rounds}"


def run(args: argparse.Namespace) -> int:
    from ..api.settings import Settings
    from ..blobstore import open_store
    from ..index_format import IndexError_, load_index
    from ..quiz.pool import Pool, PoolTooSmall
    from .protocols import liked_count, make_population
    from .report import goal_check, write_report
    from .strategies import resolve

    problem = argument_error(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
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
    global CONTEXT
    CONTEXT = CellContext(
        pool=pool,
        strategies=strategies,
        populations={p: make_population(p, index.centroids, pool.celeb_rows, args.users, args.seed)
                     for p in parse_list(args.protocols) + parse_list(args.extra_protocols)},
        seed=args.seed,
    )
    started = time.time()
    out = Path(args.out)
    fingerprint = {"index": index.version, "users": args.users, "seed": args.seed, "pool": tags}
    journal = Journal(out / "cells.jsonl", fingerprint, args.resume)
    if args.report_only:
        rows = [journal.done[cell_key(c)] for c in cells if cell_key(c) in journal.done]
        print(f"report from {len(rows)} of {len(cells)} cells finished so far", file=sys.stderr)
    else:
        rows = run_cells(cells, args.users, args.jobs, journal)
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
        "cells": {"planned": len(cells), "finished": len(rows)},
        "rows": rows,
        "goals": {s: goal_check(rows, s) for s in parse_list(args.strategies)},
    }
    write_report(report, out)
    print(f"wrote {out / 'report.md'}, {out / 'report.json'} and {len(report['plots'])} plots "
          f"in {report['seconds']:.0f}s")
    for strategy, checks in report["goals"].items():
        met = sum(c["met"] for c in checks)
        values = ", ".join(
            f"{c['protocol']} β={c['beta']} {c['metric']} {c['value']['mean']:.3f}" if c["value"]
            else f"{c['protocol']} β={c['beta']} {c['metric']} –" for c in checks)
        print(f"  {strategy}: {met}/{len(checks)} goals met ({values})")
    return 0
