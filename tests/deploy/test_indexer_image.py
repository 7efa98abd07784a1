"""The build job's container image, checked without Docker (none here): the template points at
the Dockerfile, every path it copies exists and survives .dockerignore, its entry point is the
tested handler, and its pinned versions are the ones the tests ran with."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
from pathlib import Path

from .template_rules import load_template

ROOT = Path(__file__).resolve().parents[2]
INDEXER = load_template(ROOT / "template.yaml")["Resources"]["IndexerFunction"]
DOCKERFILE = ROOT / INDEXER["Metadata"]["Dockerfile"]
TEXT = DOCKERFILE.read_text(encoding="utf-8")


def copied_sources() -> list[str]:
    return [m.group(1) for m in re.finditer(r"^COPY\s+(\S+)\s+\S+\s*$", TEXT, re.MULTILINE)]


def sent_by_dockerignore(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins ("!" re-includes); a pattern matching a
    parent folder matches everything under it."""
    included = True
    for rule in rules:
        negate = rule.startswith("!")
        pattern = rule[1:] if negate else rule
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            included = negate
    return included


def test_template_builds_the_image_from_the_repository_root():
    assert INDEXER["Properties"]["PackageType"] == "Image"
    assert INDEXER["Metadata"]["DockerContext"] == "."
    assert DOCKERFILE.is_file()
    assert "FROM public.ecr.aws/lambda/python:3.12" in TEXT


def test_every_copied_path_exists_and_is_in_the_build_context():
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = copied_sources()
    assert "shared/idealtype" in sources and "functions/indexer/handler.py" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert sent_by_dockerignore(source, rules), f"{source} is excluded by .dockerignore"
    assert not sent_by_dockerignore(".venv/bin/python", rules)  # gigabytes stay out


def test_dockerignore_check_can_fail():
    assert not sent_by_dockerignore("shared/idealtype/x.py", ["*", "!functions"])
    assert sent_by_dockerignore("shared/idealtype/x.py", ["*", "!shared/idealtype"])


def test_entry_point_is_the_indexer_handler():
    command = re.search(r'^CMD \["([\w.]+)"\]', TEXT, re.MULTILINE).group(1)
    module, function = command.split(".")
    source = (ROOT / "functions" / "indexer" / f"{module}.py").read_text(encoding="utf-8")
    assert re.search(rf"^def {function}\(event", source, re.MULTILINE)


def test_pinned_versions_are_the_tested_ones():
    pins = dict(re.findall(r"\b([A-Za-z][\w-]*)==([\w.+]+)", TEXT))
    requirements = (ROOT / "infra" / "indexer-requirements.txt").read_text()
    pins |= dict(re.findall(r"^([A-Za-z][\w-]*)==([\w.+]+)", requirements, re.MULTILINE))
    assert {"torch", "torchvision", "facenet-pytorch", "numpy", "pillow"} <= set(pins)
    for name, version in pins.items():
        installed = importlib.metadata.version(name).split("+")[0]
        assert installed == version, f"{name}: image pins {version}, tests ran {installed}"
