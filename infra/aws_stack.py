"""Small boto3 helpers the deploy scripts share: a stack's outputs and folder → S3 sync.

Used by infra/upload_site.py and infra/start_build.py; runs under the SAM venv's Python (which
has boto3), so deploying needs neither the AWS CLI nor the project's own venv.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Types the browser must get right for ES modules, fonts and the i18n JSON.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/json", ".json")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return guessed + "; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def existing_etags(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """key (relative to prefix) -> ETag without quotes (the MD5 of single-part uploads)."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix):]] = obj["ETag"].strip('"')
    return found


def sync_folder(
    s3: Any,
    folder: Path,
    bucket: str,
    prefix: str = "",
    *,
    delete: bool = False,
    transform: Callable[[str, bytes], bytes] | None = None,
    cache_control: Callable[[str], str] | None = None,
    skip: Callable[[str], bool] | None = None,
) -> dict[str, list[str]]:
    """Upload the files of `folder` whose bytes differ from what S3 has; with `delete`, remove
    objects under `prefix` that the folder no longer has. Returns {"uploaded", "deleted",
    "unchanged"} lists of relative keys."""
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    remote = existing_etags(s3, bucket, prefix)
    report: dict[str, list[str]] = {"uploaded": [], "deleted": [], "unchanged": []}
    local = sorted(p for p in folder.rglob("*") if p.is_file())
    seen = set()
    for path in local:
        key = path.relative_to(folder).as_posix()
        if skip and skip(key):
            continue
        seen.add(key)
        data = path.read_bytes()
        if transform:
            data = transform(key, data)
        if remote.get(key) == _md5(data):
            report["unchanged"].append(key)
            continue
        extra = {"CacheControl": cache_control(key)} if cache_control else {}
        s3.put_object(Bucket=bucket, Key=prefix + key, Body=data, ContentType=content_type(path),
                      **extra)
        report["uploaded"].append(key)
    if delete:
        for key in sorted(set(remote) - seen):
            s3.delete_object(Bucket=bucket, Key=prefix + key)
            report["deleted"].append(key)
    return report
