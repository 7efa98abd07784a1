"""The pick body's shortcut (well-formed bodies checked without pydantic) decides exactly as the
documented `schemas.Pick` model does."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from idealtype.api.bodies import pick_fields
from idealtype.api.schemas import Pick
from idealtype.quiz.errors import QuizError

BODIES = [
    {"round": 0, "image_id": "a"}, {"round": 7, "image_id": "a" * 128},
    {"round": 3, "image_id": "x", "extra": [1]}, {"round": 2**62, "image_id": "é"},
    {"round": "3", "image_id": "a"}, {"round": 3.0, "image_id": "a"}, {"round": True, "image_id": "a"},
    {"round": -1, "image_id": "a"}, {"round": 0, "image_id": ""}, {"round": 0, "image_id": "a" * 129},
    {"round": 0, "image_id": 5}, {"round": None, "image_id": "a"}, {"round": 0}, {}, [0, "a"],
    "text", None,
]


@pytest.mark.parametrize("body", BODIES)
def test_pick_fields_agree_with_the_model(body):
    raw = orjson.dumps(body)
    try:
        model = Pick.model_validate_json(raw)
    except ValidationError:
        with pytest.raises(QuizError) as info:
            pick_fields(raw)
        assert (info.value.status, info.value.code) == (422, "invalid_request")
    else:
        assert pick_fields(raw) == (model.round, model.image_id)


@pytest.mark.parametrize("raw", [b'{"round": 0, "image_id": "a"', b"", b"  ", b"\xff"])
def test_malformed_pick_bodies_are_4xx(raw):
    with pytest.raises(QuizError) as info:
        pick_fields(raw)
    assert 400 <= info.value.status < 500
