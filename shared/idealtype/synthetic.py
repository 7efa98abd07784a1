"""Synthetic galleries for tests and benchmarks: clustered random embeddings, no photos needed."""

from __future__ import annotations

import io

import numpy as np

from .blobstore import BlobStore
from .index_format import face_crop_key, normalize_rows, publish_index

GENDERS = ("female", "male")


def synthetic_embeddings(
    n_celebs: int, images_per_celeb: int, dims: int = 512, *, seed: int = 0, spread: float = 0.65
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (embeddings, celeb_of_row): each celebrity is a random direction and its photos
    are noisy copies of it (noise norm `spread`), so two photos of one person have cosine ~0.7
    like FaceNet's same-person pairs."""
    rng = np.random.default_rng(seed)
    centers = normalize_rows(rng.standard_normal((n_celebs, dims)))
    celeb_of_row = np.repeat(np.arange(n_celebs), images_per_celeb)
    noise = rng.standard_normal((len(celeb_of_row), dims)).astype(np.float32) * spread / dims**0.5
    return normalize_rows(centers[celeb_of_row] + noise), celeb_of_row


def tiny_jpeg(seed: int, size: int = 8) -> bytes:
    """A small solid-colour JPEG so synthetic face URLs resolve to real images (needs Pillow)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 255, 3))).save(buf, "JPEG")
    return buf.getvalue()


def make_synthetic_index(
    store: BlobStore,
    n_celebs: int,
    images_per_celeb: int = 2,
    *,
    dims: int = 512,
    seed: int = 0,
    with_crops: bool = False,
    dtype: str = "float32",
) -> str:
    """Publish a synthetic index (celeb ids `c00000`…, alternating gender tags) to `store`."""
    embeddings, celeb_of_row = synthetic_embeddings(n_celebs, images_per_celeb, dims, seed=seed)
    images = []
    for row, celeb in enumerate(celeb_of_row):
        image_id = f"{seed:04x}{row:012x}"
        images.append(
            {
                "image_id": image_id,
                "celeb_id": f"c{celeb:05d}",
                "source": f"c{celeb:05d}/{row}.jpg",
                "box": [0, 0, 8, 8],
                "prob": 1.0,
                "crop": face_crop_key(image_id),
            }
        )
        if with_crops:
            store.put(face_crop_key(image_id), tiny_jpeg(row), "image/jpeg")
    celeb_info = {
        f"c{i:05d}": {"name": f"Celebrity {i}", "tags": {"gender": GENDERS[i % 2]}}
        for i in range(n_celebs)
    }
    return publish_index(
        store,
        embeddings,
        images,
        model_id="synthetic",
        weights_sha256="0" * 64,
        celeb_info=celeb_info,
        report={"summary": {"synthetic": True}},
        dtype=dtype,
    )
