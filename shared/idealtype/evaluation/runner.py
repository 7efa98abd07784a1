"""Runs simulated users through a strategy exactly as the API engine does (same strategy
objects, same per-round rng derivation, no HTTP) and scores the recommendations."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..quiz.pool import Pool
from ..quiz.strategies import RoundRecord, Strategy, round_rng
from .metrics import precision_at
from .protocols import Population
from .users import Chooser

K = 7
RANK_DEPTH = 50  # the target's rank is recorded up to here; deeper counts as "not found"


@dataclass
class CellResult:
    """Per-user outcomes of one (strategy, protocol, user model, N, M) cell."""

    rounds_used: np.ndarray  # rounds each quiz took (strategies may finish early)
    checkpoints: tuple[int, ...]  # rounds after which recommendations were scored
    target_rank: dict[int, np.ndarray] = field(default_factory=dict)  # round -> 1-based, 0=absent
    precision: dict[int, np.ndarray] = field(default_factory=dict)  # round -> precision@K
    seconds_per_round: float = 0.0
    seconds_per_rank: float = 0.0


def run_cell(
    strategy: Strategy,
    pool: Pool,
    population: Population,
    chooser: Chooser,
    *,
    choices: int,
    rounds: int,
    seed: int,
    checkpoints: Iterable[int] = (),
    progress=None,
) -> CellResult:
    """Simulate every user of `population` for up to `rounds` rounds of `choices` faces.

    Recommendations are scored after the last round and after each round in `checkpoints`
    (using the history up to that round), which is how "hit@7 within 2× the information bound"
    and the per-round curves are measured."""
    checks = tuple(sorted({r for r in checkpoints if 1 <= r <= rounds} | {rounds}))
    users = len(population.ideals)
    result = CellResult(np.zeros(users, dtype=np.int32), checks)
    depth = K if population.protocol == "type" else RANK_DEPTH
    ranks = {r: np.zeros(users, dtype=np.int32) for r in checks}
    precisions = {r: np.zeros(users) for r in checks}
    round_time = rank_time = 0.0
    rank_calls = 0
    for u in range(users):
        history: list[RoundRecord] = []
        pick_rng = np.random.default_rng([seed, u, 3])
        quiz_seed = int(np.random.default_rng([seed, u, 4]).integers(2**31))
        ideal = population.ideals[u]
        while not strategy.is_done(pool, history, rounds):
            t0 = time.perf_counter()
            shown = strategy.next_round(pool, history, choices, round_rng(quiz_seed, len(history)))
            round_time += time.perf_counter() - t0
            history.append(RoundRecord(tuple(shown), chooser.choose(shown, ideal, pick_rng),
                                       chooser.model.offered_none))
        result.rounds_used[u] = len(history)
        for r in checks:
            t0 = time.perf_counter()
            rows, _ = strategy.rank(pool, history[:r], depth)
            rank_time += time.perf_counter() - t0
            rank_calls += 1
            if population.targets is not None:
                found = np.flatnonzero(rows == population.targets[u])
                ranks[r][u] = found[0] + 1 if len(found) else 0
            else:
                precisions[r][u] = precision_at(rows, population.liked[u], K)
        if progress is not None:
            progress.update(1)
    if population.targets is not None:
        result.target_rank = ranks
    else:
        result.precision = precisions
    result.seconds_per_round = round_time / max(1, int(result.rounds_used.sum()))
    result.seconds_per_rank = rank_time / max(1, rank_calls)
    return result
