"""FastAPI app factory. Endpoints and field names follow DESIGN.md's API contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from .. import __version__
from ..blobstore import BlobNotFound, open_store
from ..index_format import GalleryIndex, face_crop_key
from ..quiz.errors import invalid
from ..quiz.recommend import representative_image, similarity_percent
from ..quiz.service import Quiz, QuizService, pool_values
from ..quiz.strategies import available
from ..sessions import open_session_store
from . import schemas
from .bodies import JSONBody, body_schema, parse_body, pick_fields, read_body
from .errors import error_response, install_error_handlers
from .faces import IMAGE_ID, FaceUrlBuilder, FaceUrls
from .index_cache import IndexCache
from .lean_route import LeanRoute
from .settings import Bounds, Settings

ERRORS = {status: {"model": schemas.ErrorResponse} for status in (400, 404, 409, 422, 503)}


def round_out(quiz: Quiz, urls: FaceUrlBuilder) -> dict[str, Any] | None:
    """schemas.Round of the open round (None when the quiz is done)."""
    session = quiz.session
    if session.open_round is None:
        return None
    url_for_id, index = urls.url_for_id, quiz.index
    faces = [{"image_id": i, "url": url_for_id(index, i)} for i in session.shown[session.open_round]]
    return {"index": session.open_round, "faces": faces}


def query_int(request: Request, name: str) -> int | None:
    """An optional integer query parameter (LeanRoute endpoints read their own queries)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid("invalid_request", f"{name}: must be an integer, not {raw!r}") from None


def check_bounds(name: str, value: int | None, bounds: Bounds) -> int:
    if value is None:
        return bounds.default
    if not bounds.minimum <= value <= bounds.maximum:
        raise invalid("out_of_bounds", f"{name} must be {bounds.minimum}..{bounds.maximum}")
    return value


def create_app(settings: Settings | None = None, *, service: QuizService | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    blobs = open_store(settings.index)
    if service is None:
        indexes = IndexCache(blobs, settings.index_recheck_seconds)
        service = QuizService(indexes, open_session_store(settings.sessions),
                              settings.session_ttl_seconds)
    face_urls = FaceUrls(settings.faces_base_url)
    app = FastAPI(
        title="idealtype",
        version=__version__,
        description="Pick the faces you like; get the celebrities who match your ideal type.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=3600,
        )

    # The API endpoints are `async def` although they block briefly (SQLite/DynamoDB, numpy):
    # their work is mostly well under a millisecond, less than the thread-pool hops FastAPI
    # makes per sync endpoint (measured in process: a pick took 1.05 ms as a sync endpoint,
    # 0.47 ms as async). On Lambda one container serves one request at a time, so nothing
    # waits behind them; locally a 100k-celebrity result holds the loop for a few ms (~25 ms
    # on a gallery without low-rank structure, where the search is a full scan).
    # LeanRoute: no per-request dependency solving (see lean_route.py); responses are dicts
    # shaped like the `schemas` models (which document them), serialized by orjson. Set on the
    # app's own router rather than via include_router: an included router is matched as a
    # nested router, which walks its routes twice per request.
    app.router.route_class = LeanRoute

    @app.get("/api/health", response_model=schemas.Health, responses=ERRORS)
    async def health() -> Response:
        index = service.indexes.current()
        return JSONBody({
            "status": "ok", "index_version": index.version, "celebrities": index.n_celebs,
            "images": index.n_images, "index_reload_error": service.indexes.last_error,
        })

    @app.get("/api/config", response_model=schemas.Config, responses=ERRORS)
    async def config() -> Response:
        index = service.indexes.current()
        sizes = pool_values(index)

        def bounds(b: Bounds) -> dict[str, int]:
            return {"min": b.minimum, "max": b.maximum, "default": b.default}

        return JSONBody({
            "index_version": index.version,
            "celebrities": index.n_celebs,
            "pools": {tag: list(values) for tag, values in sizes.items()},
            "pool_sizes": sizes,
            "choices": bounds(settings.choices),
            "rounds": bounds(settings.rounds),
            "k": bounds(settings.k),
            "strategies": [{"name": s.name, "description": s.description}
                           for s in available().values()],
            "default_strategy": settings.default_strategy,
        })

    @app.post("/api/sessions", status_code=201, response_model=schemas.SessionCreated,
              responses=ERRORS,
              openapi_extra=body_schema(schemas.CreateSession, required=False))
    async def create_session(request: Request) -> Response:
        # An empty POST starts a quiz with the defaults.
        body = await parse_body(request, schemas.CreateSession, allow_empty=True)
        quiz = service.create(
            choices=check_bounds("choices", body.choices, settings.choices),
            rounds=check_bounds("rounds", body.rounds, settings.rounds),
            strategy=body.strategy or settings.default_strategy,
            pool=body.pool or None,
            seed=body.seed,
            offers_none=body.none_of_these,
        )
        s = quiz.session
        return JSONBody({
            "session_id": s.session_id, "choices": s.choices, "rounds": s.rounds,
            "strategy": s.strategy, "pool": s.pool, "seed": s.seed,
            "index_version": s.index_version, "done": s.done, "none_of_these": s.offers_none,
            "round": round_out(quiz, face_urls.for_request(request)),
        }, status_code=201)

    @app.get("/api/sessions/{session_id}", response_model=schemas.SessionState, responses=ERRORS)
    async def get_session(session_id: str, request: Request) -> Response:
        quiz = service.get(session_id)
        urls = face_urls.for_request(request)
        s = quiz.session
        return JSONBody({
            "session_id": s.session_id, "choices": s.choices, "rounds": s.rounds,
            "strategy": s.strategy, "pool": s.pool, "index_version": s.index_version,
            "done": s.done, "none_of_these": s.offers_none, "round": round_out(quiz, urls),
            "picks": [{"round": n, "image_id": i, "url": urls.url_for_id(quiz.index, i)}
                      for n, i in enumerate(s.picks) if i is not None],
        })

    @app.post("/api/sessions/{session_id}/picks", response_model=schemas.PickAccepted,
              responses=ERRORS, openapi_extra=body_schema(schemas.Pick))
    async def pick(session_id: str, request: Request) -> Response:
        round_index, image_id = pick_fields(await read_body(request))
        quiz = service.pick(session_id, round_index, image_id)
        return JSONBody({"done": quiz.session.done,
                         "round": round_out(quiz, face_urls.for_request(request))})

    @app.get("/api/sessions/{session_id}/result", response_model=schemas.Result,
             responses=ERRORS, openapi_extra={"parameters": [{
                 "name": "k", "in": "query", "required": False,
                 "description": "how many recommendations",
                 "schema": {"type": "integer", "minimum": settings.k.minimum,
                            "maximum": settings.k.maximum, "default": settings.k.default},
             }]})
    async def result(session_id: str, request: Request) -> Response:
        k = check_bounds("k", query_int(request, "k"), settings.k)
        outcome = service.result(session_id, k)
        index, urls = outcome.index, face_urls.for_request(request)
        recommendations = []
        for rank, (row, cosine) in enumerate(zip(outcome.celeb_rows.tolist(),
                                                 outcome.cosines.tolist()), 1):
            celeb = index.celebs[row]
            recommendations.append({
                "rank": rank, "celeb_id": celeb["celeb_id"], "name": celeb["name"],
                "url": urls.url(index, representative_image(index, row)),
                "similarity": similarity_percent(cosine), "cosine": round(cosine, 4),
                "picked": row in outcome.picked_celebs,
            })
        return JSONBody({
            "session_id": session_id, "index_version": index.version,
            "strategy": outcome.session.strategy, "k": k, "rounds": outcome.session.rounds,
            "rounds_played": len(outcome.session.picks), "recommendations": recommendations,
            "picks": [pick_out(index, urls, n, i) for n, i in enumerate(outcome.session.picks)
                      if i is not None],
        })

    app.router.route_class = APIRoute

    @app.get("/faces/{image_id}.jpg", include_in_schema=False)
    def face(image_id: str) -> Response:
        # Only faces of a loaded index version are served: unknown ids never reach the blob
        # store (on S3 a missing key without s3:ListBucket is an AccessDenied, not a 404).
        if not IMAGE_ID.match(image_id) or not service.indexes.knows_image(image_id):
            return error_response(404, "not_found", "no such face")
        try:
            data = blobs.get(face_crop_key(image_id))
        except BlobNotFound:
            return error_response(404, "not_found", "no such face")
        # Crops are content-addressed (the id is a hash of the source), so they never change.
        return Response(data, media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    if settings.frontend_dir and Path(settings.frontend_dir).is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=settings.frontend_dir, html=True), name="frontend")
    return app


def pick_out(index: GalleryIndex, urls: FaceUrlBuilder, n: int, image_id: str) -> dict[str, Any]:
    """schemas.ResultPick of round n's pick."""
    row = index.image_row[image_id]
    celeb = index.celebs[int(index.image_celeb[row])]
    return {"round": n, "image_id": image_id, "url": urls.url(index, row),
            "celeb_id": celeb["celeb_id"], "name": celeb["name"]}
