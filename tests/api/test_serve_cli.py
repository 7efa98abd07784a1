"""`idealtype serve` as a real process: prints its URL and serves API, faces and frontend."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from local_ports import free_port

REPO = Path(__file__).resolve().parents[2]


def test_serve_prints_url_and_serves(index_dir, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<title>idealtype</title>")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--port", str(port), "--sessions", str(tmp_path / "s.db"), "--frontend", str(site)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError(proc.stderr.read())
            if line.startswith("Serving on "):
                url = line.split()[2]
        assert url == f"http://127.0.0.1:{port}/"
        for _ in range(100):  # the URL is printed just before uvicorn binds
            try:
                health = json.load(urllib.request.urlopen(url + "api/health", timeout=2))
                break
            except OSError:
                time.sleep(0.1)
        assert health["celebrities"] == 200
        assert b"<title>idealtype</title>" in urllib.request.urlopen(url, timeout=2).read()
        request = urllib.request.Request(url + "api/sessions", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        created = json.load(urllib.request.urlopen(request, timeout=5))
        face_url = created["round"]["faces"][0]["url"]
        assert face_url.startswith(url + "faces/")
        assert urllib.request.urlopen(face_url, timeout=2).read()[:2] == b"\xff\xd8"
        assert (tmp_path / "s.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_without_index_explains(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(tmp_path / "none")],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "idealtype build --out" in done.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (["--port", "99999"], "a TCP port is 1-65535, not '99999'"),
    (["--port", "http"], "a TCP port is 1-65535, not 'http'"),
    (["--log-level", "loud"], "invalid choice: 'loud'"),
    (["--frontend", "no-such-folder"], "no frontend folder at no-such-folder"),
])
def test_serve_refuses_flags_it_cannot_serve_with(index_dir, tmp_path, flags, message):
    # Each used to start: a port out of range hung without a word, a missing frontend
    # served 404 at /, an unknown log level failed inside uvicorn.
    done = subprocess.run(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--sessions", str(tmp_path / "s.db"), *flags],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "Serving on" not in done.stdout
