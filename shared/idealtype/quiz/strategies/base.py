"""The round-strategy interface. A strategy decides which faces each round shows and may rank
the recommendations. Adding one = one new module in this package that defines a subclass
decorated with `@register` (modules here are discovered automatically).

Contract (pure, numpy only, no I/O, no torch):

- Inputs are index *rows*: `pool.index` is the loaded `GalleryIndex`; image row i is
  `index.embeddings[i]` / `index.images[i]`, its celebrity row is `index.image_celeb[i]`;
  `index.celebs[c]["rows"]` lists celebrity c's image rows; `index.centroids[c]` its normalized
  centroid; `index.clusters[c]` its k-means label. `pool.celeb_rows` (sorted) / `pool.mask` are
  the celebrities the quiz may show (tag filter applied).
- `history` is the quiz so far, oldest first: one `RoundRecord(shown, picked, declinable)` per
  round (`declinable`: the round offered "none of these" as an answer), with
  `shown` = image rows in display order and `picked` = the picked image row (None while that
  round is still open — `next_round` is only called when every round in history is answered),
  or NONE_OF_THESE when the person liked none of the faces (an answer too: the round counts,
  and a strategy may learn from it; `picked_rows` leaves such rounds out).
- `next_round(pool, history, choices, rng)` returns `choices` image rows of `choices`
  *different* celebrities from the pool, none of whom appeared in any earlier round (a person
  never appears twice in one quiz; `shown_celebs(pool, history)` gives the ones to avoid).
  All randomness must come from `rng`; the engine derives it from (quiz seed, round index) with
  `round_rng`, so a quiz is reproducible from its seed and picks.
- `rank(pool, history, k)` returns up to k (celebrity rows, cosine scores in [-1, 1]) best
  first, restricted to the pool. The default ranks pool centroids by cosine to
  `self.estimator.ideal_vector(...)` (the original method: mean of the picked embeddings;
  for normalized centroids this is the same order as Euclidean distance to the mean). The API
  maps the cosine to a percent for people, so an override should keep it a cosine: each
  person's own, even when the strategy orders them by something else (the API lists the k
  by it).
- `is_done(pool, history, rounds, state)` lets a strategy finish early (before `rounds`
  picked rounds; `state` as for `next_round_state`); default: `rounds` rounds picked.
- State kept in the quiz item (optional; JSON-able dicts, None = nothing):
  `next_round_state(pool, history, choices, rng, state)` is what the engine calls for a
  round: the faces plus a state handed back as `state` to the next request (default:
  `next_round`, no state). `final_state(pool, history, state)` runs once, in the pick that
  finishes the quiz; its dict is handed to `rank(..., state=)`, so costly work can leave the
  result request. A missing or foreign state must give the same answer, recomputed from
  `history`.
- Strategies keep no per-quiz state in memory. Anything else is recomputed from `history`
  (at most 20 rounds); per-index/per-pool precomputation goes through `pool.memo(name, fn)`.
  Instances are shared between quizzes and threads, so don't mutate `self` per call.

The simulation harness can drive a strategy without HTTP exactly as the engine does:

    strategy = get_strategy("random")
    history = []
    while not strategy.is_done(pool, history, rounds):
        shown = strategy.next_round(pool, history, choices, round_rng(seed, len(history)))
        history.append(RoundRecord(tuple(shown), picked=choose(shown)))
    rows, scores = strategy.rank(pool, history, k=7)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from hashlib import blake2b
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from ..estimators import Estimator, MeanOfPicks
from ..pool import Pool
from ..recommend import nearest_celebs

# `RoundRecord.picked` of a round answered "none of these" (no image row is negative).
NONE_OF_THESE = -1


class RoundRecord(NamedTuple):
    """One round (immutable; a NamedTuple because the service rebuilds the history on every
    request and a frozen dataclass costs several times more to construct)."""

    shown: tuple[int, ...]  # image rows, display order
    picked: int | None = None  # picked image row, NONE_OF_THESE, or None while the round is open
    declinable: bool = False  # "none of these" was on offer (else the person had to pick)


class _HashedSeed(ISeedSequence):
    """A seed sequence that hands PCG64 a precomputed 256-bit state (what PCG64 asks for)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        return self.words.view(dtype)[:n_words]


def round_rng(seed: int, round_index: int) -> np.random.Generator:
    """The rng for one round: independent of earlier draws, so replaying a quiz (same seed,
    same picks) shows the same faces.

    A PCG64 Generator whose 128-bit state and increment are a BLAKE2b hash of (seed, round):
    as well mixed as `default_rng([seed, round])`'s SeedSequence, at a fifth of its cost
    (SeedSequence does its hashing on numpy scalars: ~7 us per call, ~17 us of a served
    pick with cold caches)."""
    digest = blake2b(b"%d/%d" % (seed, round_index), digest_size=32).digest()
    return np.random.Generator(np.random.PCG64(_HashedSeed(np.frombuffer(digest, np.uint64))))


def picked_rounds(history: Sequence[RoundRecord]) -> list[RoundRecord]:
    """The answered rounds: a face picked, or none of them (NONE_OF_THESE)."""
    return [r for r in history if r.picked is not None]


def face_rounds(history: Sequence[RoundRecord]) -> list[RoundRecord]:
    """The rounds answered with a face (not "none of these")."""
    return [r for r in history if r.picked is not None and r.picked != NONE_OF_THESE]


def picked_rows(history: Sequence[RoundRecord]) -> list[int]:
    """The picked faces' image rows (rounds answered "none of these" have none)."""
    return [r.picked for r in face_rounds(history)]


def shown_celebs(pool: Pool, history: Sequence[RoundRecord]) -> set[int]:
    """Celebrity rows already shown in this quiz (never to be shown again)."""
    rows = [row for r in history for row in r.shown]
    return set(pool.index.image_celeb[rows].tolist()) if rows else set()


def without(rows: np.ndarray, avoid: set[int]) -> np.ndarray:
    """The values of `rows` (integers) that are not in `avoid`, in order. np.isin costs
    ~0.1-0.5 ms on a few hundred values on numpy 2 (Python-level checks around a sort of
    both arrays), several times a round; a binary search in the sorted `avoid` ~0.03 ms."""
    if not avoid or not len(rows):
        return rows
    taken = np.sort(np.fromiter(avoid, dtype=rows.dtype, count=len(avoid)))
    found = taken[np.minimum(np.searchsorted(taken, rows), len(taken) - 1)]
    return rows[found != rows]


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) for a few hundred integers, in about half its time on numpy 2."""
    values = np.sort(values)
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def random_images_of(pool: Pool, celeb_rows: Sequence[int], rng: np.random.Generator) -> list[int]:
    """One uniformly chosen image row of each celebrity (one rng call for all of them)."""
    celebs = pool.index.celebs
    picks = rng.random(len(celeb_rows))
    out = []
    for celeb, u in zip(celeb_rows, picks.tolist()):
        rows = celebs[celeb]["rows"]
        out.append(int(rows[int(u * len(rows))]))
    return out


def sample_unused(
    candidates: np.ndarray, count: int, avoid: set[int], rng: np.random.Generator
) -> list[int]:
    """`count` distinct values of `candidates` not in `avoid`, uniformly at random.

    Rejection sampling while `avoid` is a small part of `candidates` (the usual case: a quiz
    shows at most 160 people), so a round costs O(count) even in a 100k-celebrity pool."""
    if len(candidates) < 4 * (len(avoid) + count):
        rest = without(candidates, avoid)
        if len(rest) < count:
            raise ValueError(f"only {len(rest)} unused people left, {count} needed")
        return [int(c) for c in rng.choice(rest, size=count, replace=False)]
    taken = set(avoid)
    chosen: list[int] = []
    n = len(candidates)
    while len(chosen) < count:
        # Draw a batch per rng call (numpy calls dominate at this size); rejections are rare.
        # Uniform floats scaled to an index: rng.integers costs ~5 us per call, rng.random <1.
        draws = (rng.random(2 * count) * n).astype(np.intp)
        for c in candidates[np.minimum(draws, n - 1)].tolist():
            if c not in taken:
                taken.add(c)
                chosen.append(c)
                if len(chosen) == count:
                    break
    return chosen


class Strategy(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    estimator: Estimator = MeanOfPicks()

    @abstractmethod
    def next_round(
        self,
        pool: Pool,
        history: Sequence[RoundRecord],
        choices: int,
        rng: np.random.Generator,
    ) -> list[int]:
        """Image rows for the next round (see the module docstring for the contract)."""

    def rank(
        self, pool: Pool, history: Sequence[RoundRecord], k: int,
        state: Mapping[str, Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        ideal = self.estimator.ideal_vector(pool.index, picked_rows(history))
        return nearest_celebs(pool.index, ideal, k, pool.mask)

    def is_done(self, pool: Pool, history: Sequence[RoundRecord], rounds: int,
                state: Mapping[str, Any] | None = None) -> bool:
        return len(picked_rounds(history)) >= rounds

    def next_round_state(
        self, pool: Pool, history: Sequence[RoundRecord], choices: int,
        rng: np.random.Generator, state: Mapping[str, Any] | None = None,
    ) -> tuple[list[int], dict[str, Any] | None]:
        """`next_round` plus a JSON-able state for the quiz item: `state` is what the previous
        pick returned (None when missing); the returned one replaces it."""
        return self.next_round(pool, history, choices, rng), None

    def final_state(self, pool: Pool, history: Sequence[RoundRecord],
                    state: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        return None


def information_bound(pool_size: int, choices: int, k: int = 7) -> int:
    """⌈log_N(G/k)⌉: rounds a noiseless user needs at least to land a target in a top-k list."""
    if pool_size <= k:
        return 0
    return math.ceil(math.log(pool_size / k) / math.log(choices) - 1e-12)


STRATEGIES: dict[str, Strategy] = {}
S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Class decorator: make a strategy available by its `name` (API, config, simulation)."""
    if cls.name in STRATEGIES:
        raise ValueError(f"strategy {cls.name!r} registered twice")
    STRATEGIES[cls.name] = cls()
    return cls
