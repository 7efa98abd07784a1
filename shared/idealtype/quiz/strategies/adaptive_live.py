"""The particles still worth computing: the `adaptive` posterior's live set, and its copy kept
in the quiz item between picks.

A cold process (on Lambda, the next pick of a quiz often lands on another container)
recomputes every round's likelihood for every particle it still considers:
rounds × (faces − 1) × particles terms, ~4M at N=8, M=20 with all 30,000 particles. After each
round the posterior drops the particles that can no longer matter (`prune`), and the pick
keeps the survivors in the quiz item (`live_state`, a compressed bitmap of a few KB at most),
so the next request, in whatever process, computes the likelihood of the survivors only.

The live set after round k is a function of the history alone (the same rule applied round
after round, from the full set), so a warm process, a cold one starting from the kept set and
one recomputing from scratch (an item without a state, or with a foreign one) reach the same
set and the same posterior.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping, Sequence
from hashlib import blake2b
from typing import Any

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_model import AdaptiveModel
from .base import RoundRecord

# Bump the number when the pruning code or the encoding changes: older states are recomputed.
# (The configuration's knobs are checked by the state's `rule`.) (A string: the result's
# state, adaptive_rank.STATE_FORMAT, is a number.) 2: states carry `rule`.
LIVE_FORMAT = "live/2"


# A round that offered "none of these" is counted as a forced round with this many more
# faces. Its kernels alone (the bar levels, adaptive_none) cost as much as ~5 more faces
# (28,600 particles, N=4: 0.35 ms forced vs 0.83-0.87 ms; N=8: 0.66 vs 1.20-1.23 ms); the
# levels also make every round's pruning step 4x wider, hence 8 (bench/adaptive_latency.py,
# "cold, none offered").
DECLINABLE_EXTRA_FACES = 8


def prune(score: np.ndarray, rounds_done: int, choices: int, cfg: AdaptiveConfig,
          declinable: bool = False) -> np.ndarray:
    """Positions (sorted) of the particles to keep after `rounds_done` rounds, given each one's
    score = max over the decisiveness levels of likelihood × prior (float64, no logs).

    1. Hopeless particles go: more than `prune_gap` nats behind the best at every level.
       Posterior weights below e^-20.7 (1e-9) of the best are already outside the support
       (posterior.support), so such a particle would have to gain ~15 nats on the best one
       in the remaining rounds before it could show up at all.
    2. Within the cost budget: the next request computes rounds_done + 1 rounds over the
       survivors, (rounds_done + 1)·(choices − 1)·survivors terms; above the budget
       (`likelihood_budget` after a round that offered "none of these", `declinable`,
       which counts DECLINABLE_EXTRA_FACES more faces; `forced_likelihood_budget` after a
       forced one) the heaviest survivors are kept, never fewer than the posterior's support
       (the `cfg.support` heaviest particles, which displays and recommendations use). With
       30,000 particles it cuts forced N=4, M=10 quizzes from round 3 on, to ~9,700 by
       round 8, and N=8, M=20 ones to the support from round 6; quizzes that offer "none"
       from round 1 (N=4), to the support by round 6. The particles it drops can gain
       later: on LFW they held up to 2.9% of the unpruned posterior's mass after 10 forced
       rounds of 4 faces (up to 36% when "none" is offered), ~50% after 20 of 8
       (bench/pruning_fidelity.py). Paired on the same simulated people, that cost no
       precision (README, "A smaller budget for forced rounds", "A smaller budget for
       rounds that offer none").
    A rule that would drop less than an eighth of the particles drops none."""
    keep = np.flatnonzero(score >= score.max() * np.exp(-cfg.prune_gap))
    per_round = max(choices - 1, 1) + (DECLINABLE_EXTRA_FACES if declinable else 0)
    budget = cfg.likelihood_budget if declinable else cfg.forced_likelihood_budget
    cap = budget // ((rounds_done + 1) * per_round)
    if len(keep) > cap:
        # To 7/8 of the cap, so the next rounds' (slowly shrinking) caps need no cut.
        # Deterministic for equal input: same scores in the same order give the same set.
        count = max(cfg.support, cap * 7 // 8)
        if len(keep) > count:
            keep = np.sort(keep[np.argpartition(-score[keep], count - 1)[:count]])
    elif len(score) <= cap and len(score) - len(keep) < len(score) // 8:
        # Too few to drop: re-laying out the particles would cost more than it saves.
        keep = np.arange(len(score))
    return keep


def live_rule(cfg: AdaptiveConfig) -> tuple:
    """What decides which particles stay live, besides the model and the history: the user
    model (the likelihoods) and the pruning knobs. The likelihood cache's keys and the kept
    state's `rule` carry it, so a configuration that prunes otherwise (a research variant in
    the same process, or a deploy that changed a budget while quizzes were in flight) never
    takes another's live set."""
    return (cfg.betas, cfg.lapse, cfg.none_bar_shares, cfg.prune_gap, cfg.likelihood_budget,
            cfg.forced_likelihood_budget, cfg.support)


def history_digest(rounds: Sequence[RoundRecord]) -> str:
    """Identifies a quiz's picked rounds (shown faces and picks, as index rows; -3 marks a
    round that offered "none of these", so forced rounds keep the digests they had)."""
    flat = [row for r in rounds for row in
            (*r.shown, -1 if r.picked is None else r.picked, *((-3,) if r.declinable else ()), -2)]
    return blake2b(np.asarray(flat, dtype=np.int64).tobytes(), digest_size=8).hexdigest()


def rule_digest(cfg: AdaptiveConfig) -> str:
    """Short identifier of live_rule(cfg), for the kept state."""
    return blake2b(repr(live_rule(cfg)).encode(), digest_size=8).hexdigest()


def live_state(model: AdaptiveModel, cfg: AdaptiveConfig, rounds: Sequence[RoundRecord],
               live: np.ndarray | None) -> dict[str, Any]:
    """JSON-able copy of the live set after `rounds` (picked rounds): zlib'd bitmap over the
    model's particles, base64 (≤ ~5 KB at 30,000 particles; a few dozen bytes while every
    particle lives), keyed to the model (index version, pool, hypotheses), the pruning rule
    of `cfg` (live_rule) and the rounds."""
    bits = np.ones(len(model.log_prior), dtype=bool)
    if live is not None:
        bits[:] = False
        bits[live] = True
    packed = zlib.compress(np.packbits(bits).tobytes(), 6)
    return {"format": LIVE_FORMAT, "model": model.key, "rule": rule_digest(cfg),
            "rounds": len(rounds), "history": history_digest(rounds),
            "live": base64.b64encode(packed).decode()}


def live_from_state(model: AdaptiveModel, cfg: AdaptiveConfig, state: Mapping[str, Any] | None,
                    rounds: Sequence[RoundRecord]) -> tuple[int, np.ndarray] | None:
    """(k, live set after the first k rounds) from a state written by `live_state` for a
    prefix of `rounds`; None when there is none, it belongs to another model, pruning rule or
    quiz, or it does not decode (the caller then starts from every particle)."""
    if not state or state.get("format") != LIVE_FORMAT or state.get("model") != model.key:
        return None
    if state.get("rule") != rule_digest(cfg):
        return None
    k = state.get("rounds")
    if not isinstance(k, int) or not 0 < k <= len(rounds):
        return None
    if state.get("history") != history_digest(rounds[:k]):
        return None
    n = len(model.log_prior)
    try:
        packed = zlib.decompress(base64.b64decode(state["live"], validate=True))
    except (KeyError, TypeError, ValueError, binascii.Error, zlib.error):
        return None
    if len(packed) != (n + 7) // 8:
        return None
    live = np.flatnonzero(np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n))
    return (k, live) if len(live) else None
