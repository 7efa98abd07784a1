from __future__ import annotations

from idealtype.api.settings import DEFAULT_INDEX, DEFAULT_SESSIONS, Settings
from idealtype.sessions import open_session_store
from idealtype.sessions.sqlite import SQLiteSessionStore


def test_embedded_defaults_without_environment():
    settings = Settings.from_env({})
    assert (settings.index, settings.sessions) == (DEFAULT_INDEX, DEFAULT_SESSIONS)
    assert settings.faces_base_url is None and settings.cors_origins == ()
    assert settings.index_recheck_seconds == 300


def test_environment_overrides():
    settings = Settings.from_env({
        "IDEALTYPE_INDEX": "s3://bucket/gallery",
        "IDEALTYPE_SESSIONS": "dynamodb://sessions",
        "IDEALTYPE_FACES_BASE_URL": "https://cdn.example.com/",
        "IDEALTYPE_CORS_ORIGINS": "https://a.example, https://b.example",
        "IDEALTYPE_INDEX_RECHECK_SECONDS": "60",
        "IDEALTYPE_SESSION_TTL_SECONDS": "3600",
        "IDEALTYPE_FRONTEND_DIR": " ",
    })
    assert settings.index == "s3://bucket/gallery"
    assert settings.sessions == "dynamodb://sessions"
    assert settings.faces_base_url == "https://cdn.example.com"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.index_recheck_seconds == 60 and settings.session_ttl_seconds == 3600
    assert settings.frontend_dir is None


def test_session_store_location(tmp_path):
    store = open_session_store(str(tmp_path / "sub" / "s.sqlite3"))
    assert isinstance(store, SQLiteSessionStore) and (tmp_path / "sub" / "s.sqlite3").exists()
