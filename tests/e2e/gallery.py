"""A small gallery for the browser tests: synthetic embeddings (clustered like FaceNet's) with
real-looking face crops cut from the two real photos that ship inside registry packages
(matplotlib's grace_hopper.jpg, scikit-image's astronaut), varied per image so the quiz grid
and the composite look like faces. Names mix Korean and Latin script."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageEnhance
from skimage import data as skdata

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import face_crop_key, publish_index
from idealtype.synthetic import GENDERS, synthetic_embeddings

CROP_SIZE = 200
KOREAN_FAMILY = "김이박최정강조윤장임"
KOREAN_GIVEN = ("서연", "민준", "지우", "하은", "도윤", "수아", "예준", "지민", "시우", "유나")
LATIN_NAMES = ("Alex Morgan", "Jamie Lee", "Sam Rivera", "Taylor Chen", "Jordan Park")


def _source_faces() -> list[tuple[Image.Image, tuple[int, int], int]]:
    """(photo, face centre, face size in px) for each real photo."""
    hopper = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
    astronaut = Image.fromarray(skdata.astronaut())
    return [(hopper.convert("RGB"), (262, 225), 270), (astronaut, (225, 108), 200)]


def _face_crop(rng: np.random.Generator, sources: list) -> bytes:
    photo, (cx, cy), size = sources[int(rng.integers(len(sources)))]
    size = int(size * rng.uniform(0.95, 1.15))
    # Jitter the centre but keep the square inside the photo (no black bands at the edges).
    half = size // 2
    cx = min(max(cx + int(rng.uniform(-0.04, 0.04) * size), half), photo.width - half)
    cy = min(max(cy + int(rng.uniform(-0.04, 0.04) * size), half), photo.height - half)
    box = (cx - half, cy - half, cx + half, cy + half)
    crop = photo.crop(box).resize((CROP_SIZE, CROP_SIZE), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.85, 1.15))
    crop = ImageEnhance.Color(crop).enhance(rng.uniform(0.6, 1.3))
    tint = Image.new("RGB", crop.size, tuple(int(v) for v in rng.integers(0, 256, 3)))
    crop = Image.blend(crop, tint, float(rng.uniform(0.0, 0.18)))
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def celeb_name(i: int) -> str:
    if i % 3 == 2:
        return f"{LATIN_NAMES[i % len(LATIN_NAMES)]} {i}"
    return KOREAN_FAMILY[i % len(KOREAN_FAMILY)] + KOREAN_GIVEN[(i // 3) % len(KOREAN_GIVEN)]


def build_gallery(dest: Path, n_celebs: int = 40, images_per_celeb: int = 2, seed: int = 7) -> str:
    """Publish the gallery index (and its face crops) under `dest`; returns the version id."""
    store = LocalBlobStore(dest)
    embeddings, celeb_of_row = synthetic_embeddings(n_celebs, images_per_celeb, seed=seed)
    rng = np.random.default_rng(seed)
    sources = _source_faces()
    images = []
    for row, celeb in enumerate(celeb_of_row):
        image_id = f"e2e{seed:04x}{row:08x}"
        store.put(face_crop_key(image_id), _face_crop(rng, sources), "image/jpeg")
        images.append({
            "image_id": image_id,
            "celeb_id": f"c{celeb:05d}",
            "source": f"c{celeb:05d}/{row}.jpg",
            "box": [0, 0, CROP_SIZE, CROP_SIZE],
            "prob": 1.0,
            "crop": face_crop_key(image_id),
        })
    celeb_info = {
        f"c{i:05d}": {"name": celeb_name(i), "tags": {"gender": GENDERS[i % 2]}}
        for i in range(n_celebs)
    }
    return publish_index(
        store, embeddings, images, model_id="synthetic", weights_sha256="0" * 64,
        celeb_info=celeb_info, report={"summary": {"synthetic": True, "e2e": True}},
    )
