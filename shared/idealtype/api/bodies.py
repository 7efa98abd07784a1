"""JSON request bodies and responses handled directly by the endpoints.

FastAPI's generic body dependency and response_model re-validation cost more than a whole pick's
quiz work (profiled: ~40% of a pick), so the endpoints parse with pydantic's
`model_validate_json` and return `JSONBody` (plain dicts serialized by orjson; FastAPI passes
Response objects through untouched). Building the pydantic response models only to serialize
them cost ~6 us per pick against <1 us for orjson, so the models in `schemas` document the API
in OpenAPI (`body_schema` and `response_model`), and the API tests check every response against
them."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from ..quiz.errors import QuizError, invalid
from .errors import describe_validation

M = TypeVar("M", bound=BaseModel)


class JSONBody(Response):
    media_type = "application/json"

    def __init__(self, content: dict[str, Any], status_code: int = 200):
        super().__init__(orjson.dumps(content), status_code=status_code)


async def parse_body(request: Request, model: type[M], *, allow_empty: bool = False) -> M:
    raw = await request.body()
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


def body_schema(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting `model` as the JSON request body."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}
