"""Fixtures for the API tests: a synthetic index with face crops and a TestClient factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from idealtype.api.app import create_app
from idealtype.api.settings import Settings
from idealtype.blobstore import LocalBlobStore
from idealtype.synthetic import make_synthetic_index


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("api-index")
    make_synthetic_index(LocalBlobStore(root), 200, 2, seed=3, with_crops=True)
    return root


@pytest.fixture
def make_client(index_dir, tmp_path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def factory(**overrides) -> TestClient:
        settings = replace(Settings(index=str(index_dir), sessions=str(tmp_path / "s.db")),
                           **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
