"""The error contract: every error is `{"error": {"code", "message"}}` with a 4xx status for
bad input (never a 500), 503 while no index can be loaded."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..index_format import IndexError_
from ..quiz.errors import QuizError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def describe_validation(errors: Sequence[Any]) -> str:
    parts = []
    for item in list(errors)[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QuizError)
    async def quiz_error(_: Request, err: QuizError) -> JSONResponse:
        return error_response(err.status, err.code, err.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in err.errors()):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        return error_response(422, "invalid_request", describe_validation(err.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(err.status_code, f"http_{err.status_code}")
        return error_response(err.status_code, code, str(err.detail))

    @app.exception_handler(IndexError_)
    async def index_error(_: Request, err: IndexError_) -> JSONResponse:
        log.error("index unavailable: %s", err)
        return error_response(503, "index_unavailable", f"the gallery index is unavailable: {err}")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
