"""The evaluation plan: which cells to run, and turning per-user outcomes into scored rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..quiz.strategies.base import information_bound
from .metrics import hit_at, summarize
from .runner import RANK_DEPTH, CellResult, K
from .users import UserModel


@dataclass(frozen=True)
class Cell:
    strategy: str
    protocol: str
    user_model: UserModel
    choices: int
    rounds: int
    curve: bool = False  # score after every round (for the per-round plot)

    def checkpoints(self, pool_size: int) -> tuple[int, ...]:
        if self.curve:
            return tuple(range(1, self.rounds + 1))
        if self.protocol == "target":  # "hit@7 within twice the information bound"
            return (2 * information_bound(pool_size, self.choices, K),)
        return ()


def beta_label(beta: float) -> str:
    return "inf" if math.isinf(beta) else f"{beta:g}"


def score_row(cell: Cell, result: CellResult, pool_size: int) -> dict:
    """One JSON row: the cell's settings, its metrics with 95% CIs, and its measured cost."""
    bound = information_bound(pool_size, cell.choices, K)
    row = {
        "strategy": cell.strategy,
        "protocol": cell.protocol,
        "user_model": cell.user_model.name,
        "beta": beta_label(cell.user_model.beta),
        "choices": cell.choices,
        "rounds": cell.rounds,
        "information_bound": bound,
        "mean_rounds_used": float(result.rounds_used.mean()),
        "ms_per_round": 1e3 * result.seconds_per_round,
        "ms_per_rank": 1e3 * result.seconds_per_rank,
        "metrics": {},
    }
    final = cell.rounds
    if cell.protocol == "target":
        rank = result.target_rank[final]
        row["metrics"]["hit@1"] = summarize(hit_at(rank, 1))
        row["metrics"][f"hit@{K}"] = summarize(hit_at(rank, K))
        row["metrics"][f"hit@{RANK_DEPTH}"] = summarize(hit_at(rank, RANK_DEPTH))
        capped = np.where(rank == 0, RANK_DEPTH + 1, rank)
        row["metrics"]["median_rank"] = float(np.median(capped))
        if 2 * bound in result.target_rank and 2 * bound <= final:
            row["metrics"][f"hit@{K}_at_2x_bound"] = summarize(hit_at(result.target_rank[2 * bound], K))
        if cell.curve:
            row["curve"] = {
                r: summarize(hit_at(result.target_rank[r], K)) for r in result.checkpoints
            }
    else:
        row["metrics"][f"precision@{K}"] = summarize(result.precision[final])
        if cell.curve:
            row["curve"] = {r: summarize(result.precision[r]) for r in result.checkpoints}
    return row


def headline_metric(row: dict) -> dict:
    return row["metrics"][f"hit@{K}" if row["protocol"] == "target" else f"precision@{K}"]
