"""JSON request bodies and responses handled directly with pydantic.

FastAPI's generic body dependency and response_model re-validation cost more than a whole pick's
quiz work (profiled: ~40% of a pick), so the endpoints parse with `model_validate_json` and
return `ModelResponse` (FastAPI passes Response objects through untouched). The same pydantic
models still document the API in OpenAPI (`body_schema` and `response_model`)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from ..quiz.errors import QuizError, invalid
from .errors import describe_validation

M = TypeVar("M", bound=BaseModel)


class ModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200):
        super().__init__(model.model_dump_json(), status_code=status_code)


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
