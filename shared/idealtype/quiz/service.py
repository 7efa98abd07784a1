"""The quiz service: create a quiz, take picks, produce the result. Transport-agnostic (the
FastAPI layer and the in-process benchmark both call it); numpy + the stores only."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..index_format import GalleryIndex, IndexError_
from ..sessions import QuizSession, SessionConflict, SessionNotFound, SessionStore
from .errors import QuizError, conflict, invalid, not_found
from .pool import Pool, PoolTooSmall
from .strategies import NONE_OF_THESE, RoundRecord, Strategy, get_strategy, round_rng
from .strategies.base import picked_rows

MAX_SESSION_ID_LENGTH = 64
# Quizzes this process wrote last, kept with their history as index rows (see RecentQuizzes).
RECENT_QUIZZES = 1024


class IndexSource(Protocol):
    """What the service needs from the index cache (see idealtype.api.index_cache)."""

    last_error: str | None

    def current(self) -> GalleryIndex: ...

    def version(self, version: str) -> GalleryIndex: ...

    def pool(self, index: GalleryIndex, tags: Mapping[str, str] | None) -> Pool: ...

    def knows_image(self, image_id: str) -> bool: ...


@dataclass
class Quiz:
    """A session together with the index its image ids resolve in."""

    session: QuizSession
    index: GalleryIndex


@dataclass
class QuizResult(Quiz):
    celeb_rows: np.ndarray  # best first
    cosines: np.ndarray
    picked_celebs: set[int]


@dataclass(frozen=True)
class _Recent:
    session: QuizSession  # as this process last wrote it; never mutated
    history: tuple[RoundRecord, ...]  # its rounds as rows of index version `index_version`
    index_version: str


class RecentQuizzes:
    """The quizzes this process wrote last, so the next pick of a quiz can skip the store read
    and the rebuild of its history from image ids (one SELECT, a JSON parse and ~100 lookups in
    the image-id dict per pick). Most useful to the local one-process server; on Lambda a
    container may or may not see a quiz's next pick.

    Only a shortcut, never the truth: a pick from a cached copy still writes conditionally on
    the revision it started from, and whatever the copy leads to rejecting (a stale copy when
    another process or a concurrent request moved the quiz on; a conflict) is decided again
    from the store. Bounded LRU; thread-safe."""

    def __init__(self, capacity: int = RECENT_QUIZZES):
        self.capacity = capacity
        self._entries: dict[str, _Recent] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> _Recent | None:
        with self._lock:
            return self._entries.get(session_id)

    def put(self, entry: _Recent) -> None:
        with self._lock:
            self._entries.pop(entry.session.session_id, None)
            self._entries[entry.session.session_id] = entry
            if len(self._entries) > self.capacity:
                del self._entries[next(iter(self._entries))]

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._entries.pop(session_id, None)


class QuizService:
    def __init__(self, indexes: IndexSource, store: SessionStore, session_ttl_seconds: int):
        self.indexes = indexes
        self.store = store
        self.session_ttl_seconds = session_ttl_seconds
        self.recent = RecentQuizzes()

    def create(
        self,
        *,
        choices: int,
        rounds: int,
        strategy: str,
        pool: Mapping[str, str] | None = None,
        seed: int | None = None,
        offers_none: bool = True,
    ) -> Quiz:
        """Bounds on choices/rounds are the API's job; this checks what needs the index."""
        chosen = self._strategy(strategy)
        index = self.indexes.current()
        quiz_pool = self._pool(index, pool)
        try:
            # A person never appears twice in a quiz, so the pool must hold every face shown.
            quiz_pool.require(choices * rounds)
        except PoolTooSmall as err:
            raise invalid("pool_too_small", str(err)) from None
        now = time.time()
        session = QuizSession(
            session_id=uuid.uuid4().hex,
            index_version=index.version,
            strategy=chosen.name,
            choices=choices,
            rounds=rounds,
            pool=dict(pool) if pool else None,
            # 53 bits: the seed is echoed in JSON and must survive JavaScript's numbers.
            seed=secrets.randbits(53) if seed is None else seed,
            created_at=now,
            expires_at=int(now) + self.session_ttl_seconds,
            offers_none=offers_none,
        )
        shown = chosen.next_round(quiz_pool, [], choices, round_rng(session.seed, 0))
        session.shown.append([index.images[row]["image_id"] for row in shown])
        self.store.create(session)
        self.recent.put(_Recent(session.copy(), (RoundRecord(tuple(shown), None, offers_none),),
                                index.version))
        return Quiz(session, index)

    def get(self, session_id: str) -> Quiz:
        session = self._load(session_id)
        return Quiz(session, self._index_for(session))

    def pick(self, session_id: str, round_index: int, image_id: str | None) -> Quiz:
        """Answers the open round: the picked face's image_id, or None for "none of these"."""
        recent = self.recent.get(session_id)
        if recent is not None and recent.session.expires_at > time.time():
            try:
                return self._pick(recent.session.copy(), recent, round_index, image_id)
            except QuizError:
                # The copy may be stale: let the stored quiz decide (same answers as without
                # the copy: a conflict seen here is a replayed round once re-read).
                self.recent.drop(session_id)
        return self._pick(self._load(session_id), None, round_index, image_id)

    def _pick(self, session: QuizSession, recent: _Recent | None, round_index: int,
              image_id: str | None) -> Quiz:
        open_round = session.open_round
        if open_round is None:
            raise conflict("quiz_done", "this quiz is finished; get its result")
        if round_index != open_round:
            code = "round_replayed" if round_index < open_round else "round_out_of_order"
            raise conflict(code, f"round {round_index} is not open; the open round is {open_round}")
        if image_id is None:
            if not session.offers_none:
                raise invalid("none_not_offered", "this quiz asks for a pick in every round")
        elif image_id not in session.shown[open_round]:
            raise invalid("invalid_pick", f"{image_id!r} is not one of round {open_round}'s faces")
        index = self._index_for(session)
        strategy = self._strategy(session.strategy)
        session.picks.append(image_id)
        if recent is not None and recent.index_version == index.version:
            # The cached rounds plus this pick: the same list _history builds from the ids.
            history = list(recent.history)
            history[-1] = RoundRecord(history[-1].shown, picked_row(index, image_id),
                                      session.offers_none)
        else:
            history = self._history(session, index)
        pool = self._pool(index, session.pool)
        session.done = len(session.picks) >= session.rounds or strategy.is_done(
            pool, history, session.rounds, session.strategy_state
        )
        if not session.done:
            try:
                shown, session.strategy_state = strategy.next_round_state(
                    pool, history, session.choices, round_rng(session.seed, len(history)),
                    session.strategy_state,
                )
            except ValueError:
                # The index changed under the quiz and its pool ran out of unseen people:
                # finish with the picks so far rather than fail.
                session.done = True
            else:
                session.shown.append([index.images[row]["image_id"] for row in shown])
                history.append(RoundRecord(tuple(shown), None, session.offers_none))
        if session.done:
            # This pick shows no new round, so it has time for the result's costly part.
            session.strategy_state = strategy.final_state(pool, history, session.strategy_state)
        expected = session.revision
        session.revision += 1
        session.expires_at = int(time.time()) + self.session_ttl_seconds
        try:
            self.store.replace(session, expected)
        except SessionConflict:
            raise conflict(
                "round_conflict", f"round {round_index} was already answered (concurrent pick)"
            ) from None
        # A copy: the caller gets `session` and may change it.
        self.recent.put(_Recent(session.copy(), tuple(history), index.version))
        return Quiz(session, index)

    def result(self, session_id: str, k: int) -> QuizResult:
        session = self._load(session_id)
        if not session.done:
            raise conflict(
                "quiz_not_done",
                f"the quiz has {len(session.picks)} of {session.rounds} picks; finish it first",
            )
        index = self._index_for(session)
        history = self._history(session, index)
        rows, cosines = self._strategy(session.strategy).rank(
            self._pool(index, session.pool), history, k, state=session.strategy_state
        )
        # The strategy chooses who (adaptive: the k most likely to be the user's type); people
        # read the list by its percent, so it is listed by each person's own similarity.
        by_similarity = np.argsort(-cosines, kind="stable")
        rows, cosines = rows[by_similarity], cosines[by_similarity]
        picked = {int(index.image_celeb[row]) for row in picked_rows(history)}
        return QuizResult(session, index, rows, cosines, picked)

    # -- helpers --------------------------------------------------------------------------

    def _load(self, session_id: str) -> QuizSession:
        if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
            raise not_found(f"no quiz {session_id!r}")
        try:
            return self.store.get(session_id)
        except SessionNotFound:
            raise not_found(f"no quiz {session_id!r} (unknown or expired)") from None

    @staticmethod
    def _strategy(name: str) -> Strategy:
        try:
            return get_strategy(name)
        except KeyError as err:
            raise invalid("unknown_strategy", str(err.args[0])) from None

    def _pool(self, index: GalleryIndex, tags: Mapping[str, str] | None) -> Pool:
        known = pool_values(index)
        for tag, value in (tags or {}).items():
            if value not in known.get(tag, {}):
                raise invalid("unknown_pool", f"no celebrities with {tag}={value!r} in this index")
        return self.indexes.pool(index, tags)

    def _index_for(self, session: QuizSession) -> GalleryIndex:
        """The index the quiz was started on (kept in the cache while quizzes use it). If that
        version is gone, move the quiz to the current index when every face it showed is still
        there (image ids are content hashes, stable across versions); otherwise 409."""
        try:
            return self.indexes.version(session.index_version)
        except IndexError_:
            pass
        current = self.indexes.current()
        if all(i in current.image_row for ids in session.shown for i in ids):
            session.index_version = current.version
            return current
        raise conflict(
            "index_changed",
            "the gallery was updated and this quiz's faces are no longer in it; start a new quiz",
        )

    @staticmethod
    def _history(session: QuizSession, index: GalleryIndex) -> list[RoundRecord]:
        lookup = index.image_row.__getitem__
        picked: list[int | None] = [picked_row(index, i) for i in session.picks]
        picked += [None] * (len(session.shown) - len(picked))
        # tuple.__new__ builds the NamedTuples without its Python-level __new__ (this runs
        # for up to 20 rounds on every pick).
        make = tuple.__new__
        offers_none = session.offers_none
        return [
            make(RoundRecord, (tuple(map(lookup, ids)), row, offers_none))
            for ids, row in zip(session.shown, picked)
        ]


def picked_row(index: GalleryIndex, image_id: str | None) -> int:
    """The history's `picked` for a stored pick (None in the item: "none of these")."""
    return NONE_OF_THESE if image_id is None else index.image_row[image_id]


def pool_values(index: GalleryIndex) -> dict[str, dict[str, int]]:
    """tag -> value -> number of celebrities, for the config endpoint and pool validation.
    Cached on the index object (indexes are immutable)."""
    cached = getattr(index, "_pool_values", None)
    if cached is None:
        counts: dict[str, dict[str, int]] = {}
        for celeb in index.celebs:
            for tag, value in (celeb.get("tags") or {}).items():
                if isinstance(value, str) and value:
                    counts.setdefault(tag, {}).setdefault(value, 0)
                    counts[tag][value] += 1
        cached = {tag: dict(sorted(values.items())) for tag, values in sorted(counts.items())}
        index._pool_values = cached  # type: ignore[attr-defined]
    return cached
