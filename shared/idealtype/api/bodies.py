"""JSON request bodies and responses handled directly by the endpoints.

FastAPI's generic body dependency and response_model re-validation cost more than a whole pick's
quiz work (profiled: ~40% of a pick), so the endpoints parse with pydantic's
`model_validate_json` (the pick endpoint checks the usual well-formed body directly first, see
`pick_fields`) and return `JSONBody` (plain dicts serialized by orjson; FastAPI passes
Response objects through untouched). Building the pydantic response models only to serialize
them cost ~6 us per pick against <1 us for orjson, so the models in `schemas` document the API
in OpenAPI (`body_schema` and `response_model`), and the API tests check every response against
them."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from ..quiz.errors import QuizError, invalid
from .errors import describe_validation
from .schemas import PICK_IMAGE_ID_MAX, Pick

M = TypeVar("M", bound=BaseModel)


class JSONBody(Response):
    media_type = "application/json"

    def __init__(self, content: dict[str, Any], status_code: int = 200):
        super().__init__(orjson.dumps(content), status_code=status_code)


async def read_body(request: Request) -> bytes:
    """The raw body, straight from the ASGI messages (Starlette's `request.body()` goes through
    an async generator, several us of a pick)."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def validate(raw: bytes, model: type[M], *, allow_empty: bool = False) -> M:
    """`model` from a JSON body, or the API's 4xx errors (never a 500)."""
    if not raw.strip():
        if allow_empty:
            return model()
        raise invalid("invalid_request", "a JSON body is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        if any(e.get("type") == "json_invalid" for e in errors):
            raise QuizError(400, "malformed_json", "the request body is not valid JSON") from None
        raise invalid("invalid_request", describe_validation(errors)) from None


async def parse_body(request: Request, model: type[M], *, allow_empty: bool = False) -> M:
    return validate(await read_body(request), model, allow_empty=allow_empty)


def pick_fields(raw: bytes) -> tuple[int, str | None]:
    """(round, image_id or None for "none of these") of a `schemas.Pick` body. The usual
    well-formed body (a picked face) is checked here
    directly (pydantic's model_validate_json plus the model cost ~4 us a pick); anything else
    goes to pydantic, which decides it and words the error, so the contract is the model's."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if type(data) is dict:
        round_index, image_id = data.get("round"), data.get("image_id")
        if (type(round_index) is int and round_index >= 0 and type(image_id) is str
                and 0 < len(image_id) <= PICK_IMAGE_ID_MAX and len(data) == 2):
            return round_index, image_id
    body = validate(raw, Pick)
    return body.round, body.image_id


def body_schema(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting `model` as the JSON request body."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}
