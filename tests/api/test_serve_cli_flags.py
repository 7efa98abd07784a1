"""`idealtype serve --http/--loop`: the chosen uvicorn parser and event loop are the ones the
server process actually runs (their C extensions mapped into it, or not), and a quiz round
trip works on each; an explicit choice that is not installed is a clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_ports import free_port

# Files of the C extensions, as they appear in /proc/<pid>/maps once imported.
EXTENSION_DIRS = {"httptools": "/httptools/parser/", "uvloop": "/uvloop/"}


@contextmanager
def serving(index_dir: Path, tmp_path: Path, *flags: str,
            env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str, str]]:
    """(process, base URL, its printed "uvicorn on ..." stack) of a running `idealtype serve`."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir), "--port",
         str(port), "--sessions", str(tmp_path / f"s{port}.db"), "--frontend", str(tmp_path),
         *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        first = proc.stdout.readline()
        if not first:
            raise AssertionError(proc.stderr.read())
        stack = first.rsplit("; uvicorn on ", 1)[1].strip()
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):  # the URL is printed just before uvicorn binds
            try:
                urllib.request.urlopen(url + "api/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield proc, url, stack
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def play_one_pick(url: str) -> dict:
    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request, timeout=5))

    created = post("api/sessions", {"choices": 4, "rounds": 3})
    face = created["round"]["faces"][0]
    return post(f"api/sessions/{created['session_id']}/picks",
                {"round": created["round"]["index"], "image_id": face["image_id"]})


def loaded_extensions(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name, folder in EXTENSION_DIRS.items() if folder in maps}


def test_each_explicit_stack_runs_what_it_names(index_dir, tmp_path):
    for http, loop, expected in (("h11", "asyncio", set()),
                                 ("httptools", "uvloop", {"httptools", "uvloop"}),
                                 ("h11", "uvloop", {"uvloop"})):
        with serving(index_dir, tmp_path, "--http", http, "--loop", loop) as (proc, url, stack):
            assert stack == f"{http} + {loop}"
            answer = play_one_pick(url)
            assert answer["done"] is False and answer["round"]["index"] == 1
            assert loaded_extensions(proc.pid) == expected


def test_auto_takes_the_c_stack_of_the_local_extra(index_dir, tmp_path):
    # The `local` extra is uvicorn[standard], which installs httptools and uvloop.
    with serving(index_dir, tmp_path) as (proc, url, stack):
        assert stack == "httptools + uvloop"
        play_one_pick(url)
        assert loaded_extensions(proc.pid) == {"httptools", "uvloop"}


def broken_httptools_env(tmp_path: Path) -> dict[str, str]:
    """An environment where `import httptools` fails, as when the package is absent."""
    shadow = tmp_path / "shadow" / "httptools"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('httptools hidden by the test')\n")
    path = os.pathsep.join(filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_auto_falls_back_to_h11_without_httptools(index_dir, tmp_path):
    env = broken_httptools_env(tmp_path)
    with serving(index_dir, tmp_path, "--loop", "asyncio", env=env) as (proc, url, stack):
        assert stack == "h11 + asyncio"
        play_one_pick(url)
        assert loaded_extensions(proc.pid) == set()


def test_explicit_choice_not_installed_explains(index_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--http", "httptools"],
        check=False, capture_output=True, text=True, timeout=60,
        env=broken_httptools_env(tmp_path),
    )
    assert done.returncode == 2
    assert "httptools is not installed" in done.stderr


def test_unknown_choice_is_rejected(index_dir):
    done = subprocess.run(
        [sys.executable, "-m", "idealtype.cli", "serve", "--index", str(index_dir),
         "--loop", "trio"],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'trio'" in done.stderr
