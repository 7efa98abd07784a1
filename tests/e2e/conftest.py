"""Browser-test fixtures: a small gallery built in tmp, the real `idealtype serve` on a free
port, and Debian's Chromium driven by Python Playwright (never a Playwright browser download)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_ports import free_port

from .gallery import build_gallery

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def gallery_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-person gallery (2 faces each) built for this run, in `index/`."""
    root = tmp_path_factory.mktemp("e2e-gallery")
    build_gallery(root / "index", n_celebs=40, images_per_celeb=2)
    return root


@pytest.fixture(scope="session")
def server_url(gallery_root: Path) -> Iterator[str]:
    """`idealtype serve` on the gallery."""
    root = gallery_root
    port = free_port()
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(root / "index"),
         "--port", str(port), "--frontend", str(REPO / "frontend"),
         "--sessions", str(root / "sessions.sqlite3")],
        stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"idealtype serve exited: {(root / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=1) as response:
                    assert json.load(response)["celebrities"] == 40
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("idealtype serve did not answer within 30 s") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_page(browser, server_url):
    """new_page(locale="en-US", device=DESKTOP) -> a page in a fresh context (own storage)."""
    contexts = []

    def make(locale: str = "en-US", device: dict | None = None):
        context = browser.new_context(locale=locale, base_url=server_url, **(device or DESKTOP))
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.js_errors = errors  # checked by the tests: an uncaught exception fails them
        return page

    yield make
    for context in contexts:
        context.close()
