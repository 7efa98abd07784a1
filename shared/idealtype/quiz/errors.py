"""Quiz errors carry the HTTP status and the stable machine-readable code the API returns."""

from __future__ import annotations


class QuizError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> QuizError:
    return QuizError(404, "session_not_found", message)


def conflict(code: str, message: str) -> QuizError:
    return QuizError(409, code, message)


def invalid(code: str, message: str) -> QuizError:
    return QuizError(422, code, message)
