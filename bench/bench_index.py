"""Indexes for the serving benchmarks, cached under var/bench/ (built once: a 100k-celebrity
index takes a while to publish): the lead's synthetic galleries (independent random directions)
and a FaceNet-like one made from a real LFW index (`lfw_mix_index_dir`)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import (
    IndexNotFound,
    face_crop_key,
    latest_version,
    load_index,
    normalize_rows,
    publish_index,
)
from idealtype.synthetic import GENDERS, make_synthetic_index

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "var" / "bench"
RESULTS = REPO / "bench" / "results"


def synthetic_index_dir(n_celebs: int, images_per_celeb: int, dtype: str = "float32") -> Path:
    """Folder of a published synthetic index (n_celebs x images_per_celeb, 512-d)."""
    root = CACHE / f"synthetic-{n_celebs}x{images_per_celeb}-{dtype}"
    store = LocalBlobStore(root)
    try:
        latest_version(store)
    except IndexNotFound:
        started = time.perf_counter()
        print(f"building synthetic index {root.name} (cached for next runs) ...", flush=True)
        make_synthetic_index(store, n_celebs, images_per_celeb, dtype=dtype)
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def lfw_index_location(flag: str | None) -> str | None:
    """A real (LFW) index for realistic geometry: the --lfw-index flag or $IDEALTYPE_LFW_INDEX
    (a folder as given to `idealtype build --out`); None, with a message, when neither is set."""
    location = flag or os.environ.get("IDEALTYPE_LFW_INDEX")
    if not location:
        print("no LFW index given (--lfw-index or IDEALTYPE_LFW_INDEX): skipping the "
              "FaceNet-like (lfw-mix) gallery", flush=True)
    return location


def has_index(location: str | None, flag: str) -> bool:
    """Whether `location` (a folder as given to `idealtype build --out`, or s3://…) holds a
    built index; when it does not, says so on stderr and how to build one."""
    if location and (location.startswith("s3://") or (Path(location) / "index" / "LATEST").exists()):
        return True
    print((f"no LFW index given ({flag} or IDEALTYPE_LFW_INDEX)" if not location
           else f"no index at {location}")
          + "; build one from the LFW gallery first, e.g.\n"
          "  idealtype build ../shared/data/lfw --out var/lfw-index", file=sys.stderr)
    return False


def lfw_mix_embeddings(lfw_dir: str, n_celebs: int, images_per_celeb: int,
                       seed: int = 0) -> np.ndarray:
    """(n_celebs * images_per_celeb, 512) FaceNet-like embeddings grown from a real index:
    each person is a blend of two real people's centroids (weight of the first in [0.5, 1]),
    each photo that person plus a real photo-minus-own-centroid residual of someone with several
    photos. Keeps the real geometry (LFW's spread of cosines between people, ~0.7 between a
    person's photos, and the ~100-dimensional span of this model's embeddings)."""
    lfw = load_index(LocalBlobStore(lfw_dir))
    centroids = np.asarray(lfw.centroids, dtype=np.float32)
    embeddings = np.asarray(lfw.embeddings, dtype=np.float32)
    residuals = np.concatenate([embeddings[c["rows"]] - centroids[i]
                                for i, c in enumerate(lfw.celebs) if len(c["rows"]) >= 2])
    rng = np.random.default_rng(seed)
    first, second = rng.integers(len(centroids), size=(2, n_celebs))
    weight = rng.uniform(0.5, 1.0, size=(n_celebs, 1)).astype(np.float32)
    people = normalize_rows(weight * centroids[first] + (1 - weight) * centroids[second])
    photos = np.repeat(people, images_per_celeb, axis=0)
    return normalize_rows(photos + residuals[rng.integers(len(residuals), size=len(photos))])


def lfw_mix_index_dir(lfw_dir: str, n_celebs: int, images_per_celeb: int) -> Path:
    """Folder of a published FaceNet-like index (see lfw_mix_embeddings), with the synthetic
    galleries' naming and alternating gender tags so the same pools work."""
    root = CACHE / f"lfw-mix-{n_celebs}x{images_per_celeb}"
    store = LocalBlobStore(root)
    try:
        latest_version(store)
        return root
    except IndexNotFound:
        pass
    started = time.perf_counter()
    print(f"building FaceNet-like index {root.name} from {lfw_dir} (cached for next runs) ...",
          flush=True)
    embeddings = lfw_mix_embeddings(lfw_dir, n_celebs, images_per_celeb)
    images = []
    for row in range(len(embeddings)):
        image_id = f"f{row:015x}"
        celeb = row // images_per_celeb
        images.append({"image_id": image_id, "celeb_id": f"m{celeb:06d}",
                       "source": f"m{celeb:06d}/{row}.jpg", "box": [0, 0, 8, 8], "prob": 1.0,
                       "crop": face_crop_key(image_id)})
    info = {f"m{i:06d}": {"name": f"Blend {i}", "tags": {"gender": GENDERS[i % 2]}}
            for i in range(n_celebs)}
    publish_index(store, embeddings, images, model_id="lfw-mix", weights_sha256="0" * 64,
                  celeb_info=info, report={"summary": {"lfw_mix_of": lfw_dir}})
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def cpu_profile() -> dict:
    """What the CPU gives numpy, so that runs on different machines can be compared: its model,
    the SIMD extensions numpy dispatches to, and one core's speed at what the adaptive strategy
    spends most of its time in (call it with OPENBLAS_NUM_THREADS=1 set): a float32 matrix
    product of a late cold round's shape (133 x 512 by 512 x 6,000) and float32 exp."""
    try:  # numpy 2 (numpy 1 kept it in numpy.core)
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in
             (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
             if line.startswith("model name")]
    model = names[0] if names else platform.processor()
    rng = np.random.default_rng(0)
    a = rng.random((133, 512), dtype=np.float32)
    b = rng.random((6000, 512), dtype=np.float32)
    x = rng.random(100_000, dtype=np.float32)
    out = np.empty_like(x)

    def best_of(fn, repeat: int = 100) -> float:
        fn()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    gemm_s = best_of(lambda: a @ b.T)
    exp_s = best_of(lambda: np.exp(x, out=out))
    return {"model": model,
            "numpy_simd": [name for name in __cpu_dispatch__ if __cpu_features__.get(name)],
            "sgemm_gflops": round(2 * 133 * 512 * 6000 / gemm_s / 1e9, 1),
            "exp_f32_ns": round(exp_s / len(x) * 1e9, 3)}


class SpeedProbe:
    """How fast the core runs right now: ns per element of a float32 exp over a small array
    (~30 µs), taken just before a timed request. On a shared VM the same work can take up to
    ~1.7x as long from one second to the next with no steal time counted (another tenant on
    the core's other hyperthread, clock changes: on the AVX2 VM an exp of 300,000 floats took
    0.42 to 0.73 ms, averaged second by second), and a p95 over minutes mixes those seconds
    in. The probe says which requests ran while the core was at its full speed."""

    def __init__(self, size: int = 16_384):
        self.x = np.random.default_rng(0).random(size, dtype=np.float32)
        self.out = np.empty_like(self.x)

    def __call__(self) -> float:
        np.exp(self.x, out=self.out)  # untimed: brings both arrays back into the cache
        started = time.perf_counter()
        np.exp(self.x, out=self.out)
        return (time.perf_counter() - started) / len(self.x) * 1e9


def full_speed(times: list[float], probes: list[float], reference: float,
               slack: float = 1.1) -> list[float]:
    """The times whose probe (SpeedProbe, same order) was within `slack` of `reference`: the
    core's full speed, e.g. the 10th percentile of the run's probes (its minimum can be one
    lucky probe)."""
    return [t for t, p in zip(times, probes) if p <= reference * slack]


def write_report(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {path}")
