"""A synthetic gallery with FaceNet-like geometry, for developing and testing the evaluation
without photos. The lead's `synthetic.py` draws people as independent random directions
(cosine ~0 between people); real FaceNet embeddings are not like that: on LFW, centroids of
different people have cosines from about -0.25 to 0.4 (median ~0.05) around a shared mean face,
photos of the same person about 0.7, and people spread along a few dozen dominant "look"
directions. This generator matches those figures. Strategies that model the posterior behave very differently in
the two geometries, so the evaluation tests use this one."""

from __future__ import annotations

import numpy as np

from ..blobstore import BlobStore
from ..index_format import face_crop_key, normalize_rows, publish_index


def facelike_embeddings(
    n_celebs: int, dims: int = 512, *, seed: int = 0, mean_images: float = 2.2
) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, celeb_of_row). Each person = a shared mean face + a decaying spectrum of
    look factors + an idiosyncratic part; photos per person follow LFW's skew (most people
    have one photo, a few have many), photos of one person have cosine ~0.7."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((dims, dims)))[0].astype(np.float32)
    mean_dir, look_dirs, rest = basis[0], basis[1:65], basis[65:]
    look_scale = 0.6 * np.arange(1, 65, dtype=np.float32) ** -0.6
    people = (
        0.4 * mean_dir
        + (rng.standard_normal((n_celebs, 64)).astype(np.float32) * look_scale) @ look_dirs
        + rng.standard_normal((n_celebs, len(rest))).astype(np.float32) * 0.045 @ rest
    )
    people = normalize_rows(people)
    # About 65% of people have a single photo; the rest a geometric tail (mean_images overall).
    tail = rng.geometric(0.35 / max(mean_images - 0.65, 0.35), size=n_celebs)
    counts = np.where(rng.random(n_celebs) < 0.65, 1, np.minimum(1 + tail, 40))
    celeb_of_row = np.repeat(np.arange(n_celebs), counts)
    noise = rng.standard_normal((len(celeb_of_row), dims)).astype(np.float32) * (0.62 / dims**0.5)
    return normalize_rows(people[celeb_of_row] + noise), celeb_of_row


def make_facelike_index(store: BlobStore, n_celebs: int, *, seed: int = 0) -> str:
    """Publish a facelike index (celeb ids `p00000`…, alternating gender tags) to `store`."""
    embeddings, celeb_of_row = facelike_embeddings(n_celebs, seed=seed)
    images = [
        {
            "image_id": f"f{seed:03x}{row:012x}",
            "celeb_id": f"p{celeb:05d}",
            "source": f"p{celeb:05d}/{row}.jpg",
            "box": [0, 0, 160, 160],
            "prob": 1.0,
            "crop": face_crop_key(f"f{seed:03x}{row:012x}"),
        }
        for row, celeb in enumerate(celeb_of_row)
    ]
    info = {
        f"p{i:05d}": {"name": f"Person {i}", "tags": {"gender": ("female", "male")[i % 2]}}
        for i in range(n_celebs)
    }
    return publish_index(
        store, embeddings, images, model_id="facelike-synthetic", weights_sha256="0" * 64,
        celeb_info=info, report={"summary": {"synthetic": "facelike"}},
    )
