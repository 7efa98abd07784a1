"""Request and response bodies. Field names are the API contract (DESIGN.md): add, never rename."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class CreateSession(BaseModel):
    # Bounds are checked against Settings in the endpoint (so config and checks agree).
    choices: int | None = Field(None, description="faces per round (N)")
    rounds: int | None = Field(None, description="rounds (M)")
    strategy: str | None = Field(None, description="one of /api/config strategies")
    pool: dict[str, str] | None = Field(None, description='tag filter, e.g. {"gender": "female"}')
    seed: int | None = Field(None, ge=0, lt=2**63, description="reproduce a quiz")
    none_of_these: bool = Field(True, strict=True,
                                description='offer "none of these" as an answer to a round')


PICK_IMAGE_ID_MAX = 128


class Pick(BaseModel):
    """A round's answer: the picked face's `image_id`, or `none_of_these: true` (when the quiz
    offers it)."""

    round: int = Field(ge=0)
    image_id: str | None = Field(None, min_length=1, max_length=PICK_IMAGE_ID_MAX)
    none_of_these: bool = Field(False, strict=True)

    @model_validator(mode="after")
    def one_answer(self) -> Pick:
        if (self.image_id is None) != self.none_of_these:
            raise ValueError("give either image_id or none_of_these: true")
        return self


class Face(BaseModel):
    image_id: str
    url: str


class Round(BaseModel):
    index: int
    faces: list[Face]


class PickedFace(BaseModel):
    round: int
    image_id: str
    url: str


class SessionCreated(BaseModel):
    session_id: str
    choices: int
    rounds: int
    strategy: str
    pool: dict[str, str] | None
    seed: int
    index_version: str
    done: bool
    none_of_these: bool = Field(description='"none of these" is a valid answer in this quiz')
    round: Round


class SessionState(BaseModel):
    session_id: str
    choices: int
    rounds: int
    strategy: str
    pool: dict[str, str] | None
    index_version: str
    done: bool
    none_of_these: bool = Field(description='"none of these" is a valid answer in this quiz')
    round: Round | None
    picks: list[PickedFace] = Field(description='the picked faces; rounds answered "none of '
                                    'these" have no entry')


class PickAccepted(BaseModel):
    done: bool
    round: Round | None = None


class Recommendation(BaseModel):
    rank: int
    celeb_id: str
    name: str
    url: str = Field(description="the celebrity's most typical face crop")
    similarity: float = Field(
        description="percent 0-100: cosine(celebrity centroid, ideal vector) mapped linearly "
        "from [-1, 1]; 50 = unrelated, 100 = identical direction"
    )
    cosine: float
    picked: bool = Field(description="the user picked a photo of this person during the quiz")


class ResultPick(PickedFace):
    celeb_id: str
    name: str


class Result(BaseModel):
    session_id: str
    index_version: str
    strategy: str
    k: int
    rounds: int = Field(description="rounds the quiz was set to; `rounds_played` is fewer when "
                        "the strategy finished it early (adaptive: once sure of the type)")
    rounds_played: int = Field(description='rounds answered, "none of these" included')
    recommendations: list[Recommendation] = Field(
        description="the k people the quiz's strategy recommends (adaptive: the k most likely to "
        "be among the top 1% of the pool for the user's ideal), listed by similarity"
    )
    picks: list[ResultPick] = Field(description='the picked faces; rounds answered "none of '
                                    'these" have no entry')


class Health(BaseModel):
    status: str
    index_version: str
    celebrities: int
    images: int
    index_reload_error: str | None = Field(
        None, description="why the newest published index was not loaded (old one kept)")


class BoundsOut(BaseModel):
    min: int
    max: int
    default: int


class StrategyOut(BaseModel):
    name: str
    description: str


class Config(BaseModel):
    index_version: str
    celebrities: int
    pools: dict[str, list[str]] = Field(description="tag -> values usable in `pool`")
    pool_sizes: dict[str, dict[str, int]] = Field(description="tag -> value -> celebrities")
    choices: BoundsOut
    rounds: BoundsOut
    k: BoundsOut
    strategies: list[StrategyOut]
    default_strategy: str
