"""Session store interface. Writes are conditional on the revision that was read, so two
concurrent submissions of the same round cannot both be accepted."""

from __future__ import annotations

from abc import ABC, abstractmethod

from .model import QuizSession


class SessionNotFound(KeyError):
    """No such session (never created, or expired)."""


class SessionConflict(RuntimeError):
    """The session changed since it was read (a concurrent write won), or the id exists."""


class SessionStore(ABC):
    location: str

    @abstractmethod
    def create(self, session: QuizSession) -> None:
        """Store a new session; SessionConflict if the id already exists."""

    @abstractmethod
    def get(self, session_id: str) -> QuizSession:
        """The stored session; SessionNotFound if missing or expired."""

    @abstractmethod
    def replace(self, session: QuizSession, expected_revision: int) -> None:
        """Write `session` (its `revision` must be expected_revision + 1) only if the stored
        revision is still `expected_revision`; otherwise SessionConflict."""

    def close(self) -> None:
        """Release connections (optional)."""
