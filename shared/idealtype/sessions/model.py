"""One quiz as stored: everything needed to resume it, in one small JSON-able record.

Faces are stored by image_id (a content hash, stable across index versions), not by index row,
so a quiz can move to a newer index that still has its faces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class QuizSession:
    session_id: str
    index_version: str
    strategy: str
    choices: int
    rounds: int
    pool: dict[str, str] | None
    seed: int
    created_at: float
    expires_at: int  # epoch seconds; DynamoDB's TTL attribute
    shown: list[list[str]] = field(default_factory=list)  # image_ids per round, display order
    # Per finished round: the picked image_id, or None for "none of these".
    picks: list[str | None] = field(default_factory=list)
    done: bool = False
    revision: int = 0  # bumped on every write; writes are conditional on the value read
    # What the strategy keeps between requests (Strategy.next_round_state: a few KB for the
    # next pick) and, once the quiz finished, for its result (Strategy.final_state): JSON
    # types only, tens of KB at most; it names the index version it belongs to.
    strategy_state: dict[str, Any] | None = None
    # The quiz offers "none of these" as an answer (quizzes stored before it existed did not).
    offers_none: bool = False

    @property
    def open_round(self) -> int | None:
        """Index of the round waiting for a pick, or None when the quiz is done."""
        return None if self.done else len(self.picks)

    def copy(self) -> QuizSession:
        """A copy whose rounds and picks can be appended to without touching this one (the
        per-round lists themselves are never modified, so they are shared)."""
        clone = object.__new__(QuizSession)
        clone.__dict__.update(self.__dict__)
        clone.shown = self.shown.copy()
        clone.picks = self.picks.copy()
        return clone

    def to_json(self) -> str:
        # vars() rather than dataclasses.asdict(): the fields are already JSON types, and
        # asdict's deep copy was the costliest step of a pick. orjson: every pick reads and
        # writes the session, and the stdlib's json took ~25 us of a pick for the two.
        return orjson.dumps(vars(self)).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> QuizSession:
        data: dict[str, Any] = orjson.loads(text)
        # Fields this code doesn't know (written by a newer release) are dropped rather than
        # refused: after a rollback, quizzes in flight keep working; what the newer release
        # kept there is optional state it recomputes when it is missing.
        unknown = data.keys() - FIELDS
        for name in unknown:
            del data[name]
        return cls(**data)


FIELDS = frozenset(QuizSession.__dataclass_fields__)
