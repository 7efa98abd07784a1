"""Configuration from the environment, with embedded defaults for local development.

IDEALTYPE_INDEX                  index location: local folder or s3://bucket/prefix
                                 (the DEST given to `idealtype build --out`)   [var/index]
IDEALTYPE_SESSIONS               SQLite file path or dynamodb://table  [var/sessions.sqlite3]
IDEALTYPE_FACES_BASE_URL         CDN base URL for face crops (the blob store root, so a crop is
                                 <base>/faces/<image_id>.jpg); unset = served by this app
IDEALTYPE_CORS_ORIGINS           comma-separated allowed origins ("*" for any); unset = no CORS
IDEALTYPE_INDEX_RECHECK_SECONDS  how often LATEST is re-read                    [300]
IDEALTYPE_SESSION_TTL_SECONDS    how long an untouched quiz is kept             [172800]
IDEALTYPE_FRONTEND_DIR           a folder to serve at / (local server only)     [unset]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_INDEX = "var/index"
DEFAULT_SESSIONS = "var/sessions.sqlite3"


@dataclass(frozen=True)
class Bounds:
    minimum: int
    maximum: int
    default: int


@dataclass(frozen=True)
class Settings:
    index: str = DEFAULT_INDEX
    sessions: str = DEFAULT_SESSIONS
    faces_base_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    index_recheck_seconds: float = 300.0
    session_ttl_seconds: int = 2 * 24 * 3600
    frontend_dir: str | None = None
    choices: Bounds = field(default=Bounds(2, 8, 4))
    rounds: Bounds = field(default=Bounds(3, 20, 10))
    k: Bounds = field(default=Bounds(1, 20, 7))
    # adaptive beats the original random+mean by far in bench/quality.py (issue 6 note)
    default_strategy: str = "adaptive"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        origins = get("IDEALTYPE_CORS_ORIGINS")
        return cls(
            index=get("IDEALTYPE_INDEX") or DEFAULT_INDEX,
            sessions=get("IDEALTYPE_SESSIONS") or DEFAULT_SESSIONS,
            faces_base_url=(get("IDEALTYPE_FACES_BASE_URL") or "").rstrip("/") or None,
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip())
            if origins
            else (),
            index_recheck_seconds=float(get("IDEALTYPE_INDEX_RECHECK_SECONDS") or 300),
            session_ttl_seconds=int(get("IDEALTYPE_SESSION_TTL_SECONDS") or 2 * 24 * 3600),
            frontend_dir=get("IDEALTYPE_FRONTEND_DIR"),
        )
