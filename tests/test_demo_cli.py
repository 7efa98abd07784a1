"""`idealtype demo`: setup logic, and the hand-off from a cached index to the server (the build
job and the server themselves are tested elsewhere)."""

import json
import subprocess
import sys
import time
import urllib.request

from local_ports import free_port

from idealtype import demo_cli
from idealtype.blobstore import LocalBlobStore
from idealtype.cli import main
from idealtype.synthetic import make_synthetic_index


def make_gallery(root, people=10, photos=3):
    for p in range(people):
        folder = root / f"person_{p:02d}"
        folder.mkdir(parents=True)
        for i in range(photos):
            (folder / f"{i}.jpg").write_bytes(bytes([p, i]) * 10)
    (root / "celebs.csv").write_text("celeb_id,name\nperson_00,Zero\n")


def test_missing_gallery_says_what_to_do(tmp_path, capsys):
    code = main(["demo", "--gallery", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "no gallery folder" in err and "IDEALTYPE_GALLERY" in err and "fetch_lfw_people" in err


def test_subset_takes_every_nth_person_and_caps_photos(tmp_path):
    make_gallery(tmp_path / "g")
    people = demo_cli.subset_gallery(tmp_path / "g", tmp_path / "s", every=3, per_person=2)
    assert people == 4
    folders = sorted(p.name for p in (tmp_path / "s").iterdir() if p.is_dir())
    assert folders == ["person_00", "person_03", "person_06", "person_09"]
    assert all(len(list((tmp_path / "s" / f).iterdir())) == 2 for f in folders)
    assert (tmp_path / "s" / "celebs.csv").read_text().startswith("celeb_id")
    # a second run with other settings replaces the subset instead of mixing in old people
    demo_cli.subset_gallery(tmp_path / "g", tmp_path / "s", every=5, per_person=1)
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.is_dir()) == [
        "person_00", "person_05"]


def test_recipe_changes_when_the_gallery_changes(tmp_path):
    make_gallery(tmp_path / "g", people=2)
    before = demo_cli.recipe_key(tmp_path / "g")
    assert demo_cli.recipe_key(tmp_path / "g") == before
    (tmp_path / "g" / "person_01" / "new.jpg").write_bytes(b"x")
    assert demo_cli.recipe_key(tmp_path / "g") != before


def test_recipe_changes_with_the_build_pipeline_version(tmp_path, monkeypatch):
    from idealtype.build import build_settings

    make_gallery(tmp_path / "g", people=2)
    before = demo_cli.recipe_key(tmp_path / "g")
    monkeypatch.setattr(build_settings, "PIPELINE_VERSION", build_settings.PIPELINE_VERSION + 1)
    assert demo_cli.recipe_key(tmp_path / "g") != before


def test_demo_serves_its_cached_index(tmp_path):
    # The README's main command on its second run: the cached index is reused (no build, so
    # no torch here) and the quiz is served, with serve's own defaults for every option.
    gallery, out = tmp_path / "g", tmp_path / "demo"
    make_gallery(gallery, people=3)
    make_synthetic_index(LocalBlobStore(out / "index"), 30, 1, seed=4, with_crops=True)
    (out / "recipe.sha256").write_text(demo_cli.recipe_key(gallery) + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "idealtype.cli", "demo", "--gallery", str(gallery), "--out",
         str(out), "--full", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError("".join(lines) + proc.stderr.read())
            lines.append(line)
            if line.startswith("Serving on "):
                break
        assert any("reusing the cached demo index" in line for line in lines)
        for _ in range(100):  # the URL is printed just before uvicorn binds
            try:
                health = json.load(urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/health", timeout=2))
                break
            except OSError:
                time.sleep(0.1)
        assert health["celebrities"] == 30
        assert (out / "sessions.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

