"""A small gallery with known problems planted in it. Embeddings are synthetic (clustered
random vectors like FaceNet's); face crops are cut from real photos shipped in registry packages
(matplotlib's grace_hopper.jpg, scikit-image's astronaut) so the report shows faces."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.index_format import face_crop_key, load_index, normalize_rows, publish_index
from idealtype.synthetic import make_synthetic_index

N_CELEBS = 24
PER_CELEB = 4


def real_faces() -> list:
    import matplotlib
    import skimage.data
    from PIL import Image

    hopper = Image.open(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg"))
    astronaut = Image.fromarray(skimage.data.astronaut())
    # square boxes around each face (left, top, size)
    return [(hopper.convert("RGB"), (120, 40, 280)), (astronaut, (135, 15, 180))]


def face_crop(faces: list, celeb: int, row: int) -> bytes:
    """A recognisable real face, tinted per celebrity and jittered/flipped per photo."""
    from PIL import Image, ImageOps

    image, (left, top, size) = faces[celeb % len(faces)]
    rng = np.random.default_rng(row)
    dx, dy = (rng.uniform(-0.08, 0.08, 2) * size).astype(int)
    crop = image.crop((left + dx, top + dy, left + dx + size, top + dy + size)).resize((96, 96))
    if row % 2:
        crop = ImageOps.mirror(crop)
    tint = Image.new("RGB", crop.size, tuple(int(v) for v in np.random.default_rng(celeb).integers(0, 255, 3)))
    buf = io.BytesIO()
    Image.blend(crop, tint, 0.3).save(buf, "JPEG", quality=85)
    return buf.getvalue()


@dataclass
class PlantedGallery:
    root: str
    store: LocalBlobStore
    mislabeled_id: str  # a photo of c00003 filed under c00007
    duplicate_ids: tuple[str, str]  # (original under c00010, copy filed under c00011)
    within_ids: tuple[str, str]  # (original, copy) both under c00015
    stranger_id: str  # under c00012, like nobody in the gallery; from a 3-face group photo
    pair_ids: tuple[str, str]  # pair_star's (genuine photo, stranger from a 2-face photo)
    alias_celeb: str  # c00020 under a second name: c00020's last two photos are filed here
    solo_celeb: str  # one photo only
    ghost_celeb: str  # every file skipped by the build: only in report.json
    skipped: list[dict]


@pytest.fixture
def planted_gallery(tmp_path) -> PlantedGallery:
    store = LocalBlobStore(tmp_path / "gallery-index")
    make_synthetic_index(store, N_CELEBS, PER_CELEB, seed=3, with_crops=True)
    clean = load_index(store)
    emb = np.array(clean.embeddings, dtype=np.float32)
    images = [dict(im) for im in clean.images]
    rng = np.random.default_rng(42)

    # 1. a photo of c00003 filed under c00007
    moved = images[3 * PER_CELEB + 1]
    moved["celeb_id"] = "c00007"
    # 2. the same picture under two people: a re-encoded copy (tiny noise) of a c00010 photo
    original = 10 * PER_CELEB
    copy = emb[original] + rng.standard_normal(emb.shape[1]).astype(np.float32) * 0.002
    # 3. the same picture twice under one person
    twin = 15 * PER_CELEB + 2
    twin_copy = emb[twin] + rng.standard_normal(emb.shape[1]).astype(np.float32) * 0.002
    # 4. a celebrity with a single photo (a new face direction)
    solo = rng.standard_normal(emb.shape[1]).astype(np.float32)
    # 5. a photo like nobody in the gallery, where the build picked a face cut by the frame
    stranger = rng.standard_normal(emb.shape[1]).astype(np.float32)
    # 6. a two-photo celebrity whose second photo is a stranger from a group photo
    pair_good, pair_bad = rng.standard_normal((2, emb.shape[1])).astype(np.float32)
    extra = [("dup0copy0000000a", "c00011", copy, {}),
             ("twin0copy000000b", "c00015", twin_copy, {}),
             ("solo000000000000c", "solo_star", solo, {}),
             # 60% of this box lies outside the photo
             ("stranger0000000d", "c00012", stranger, {"faces": 3, "box": [-60, 0, 40, 96]}),
             ("pairgood0000000e", "pair_star", pair_good, {}),
             ("pairbad00000000f", "pair_star", pair_bad, {"faces": 2})]
    for image_id, celeb_id, vector, build_notes in extra:
        images.append({"image_id": image_id, "celeb_id": celeb_id, "source": f"{celeb_id}/{image_id}.jpg",
                       "box": [0, 0, 96, 96], "prob": 0.99, "crop": face_crop_key(image_id),
                       "faces": 1, "size": [96, 96], **build_notes})
        emb = np.vstack([emb, vector[None]])
    # 7. one person under two names
    for row in (20 * PER_CELEB + 2, 20 * PER_CELEB + 3):
        images[row]["celeb_id"] = "c00020_alias"
    # 8. the build report: a celebrity whose only file had no face, and a skipped file of c00002
    skipped = [{"source": "ghost_star/a.jpg", "reason": "no_face"},
               {"source": "c00002/broken.jpg", "reason": "unreadable", "detail": "truncated"}]
    celeb_info = {c["celeb_id"]: {"name": c["name"], "tags": c["tags"]} for c in clean.celebs}
    celeb_info["solo_star"] = {"name": "솔로 스타", "tags": {}}
    publish_index(store, normalize_rows(emb), images, model_id="synthetic", weights_sha256="0" * 64,
                  celeb_info=celeb_info, report={"summary": {}, "skipped": skipped})

    # Crops show who is really in the photo: the moved photo keeps c00003's look (its source
    # folder), and each copy is byte-for-byte its original's crop.
    faces = real_faces()
    crops = {}
    for row, image in enumerate(images[: clean.n_images]):
        crops[image["image_id"]] = face_crop(faces, int(image["source"][1:6]), row)
    crops["dup0copy0000000a"] = crops[images[original]["image_id"]]
    crops["twin0copy000000b"] = crops[images[twin]["image_id"]]
    crops["solo000000000000c"] = face_crop(faces, 99, 999)
    crops["stranger0000000d"] = face_crop(faces, 98, 998)
    crops["pairgood0000000e"] = face_crop(faces, 97, 997)
    crops["pairbad00000000f"] = face_crop(faces, 96, 996)
    for image_id, data in crops.items():
        store.put(face_crop_key(image_id), data, "image/jpeg")
    return PlantedGallery(
        root=str(tmp_path / "gallery-index"),
        store=store,
        mislabeled_id=moved["image_id"],
        duplicate_ids=(images[original]["image_id"], "dup0copy0000000a"),
        within_ids=(images[twin]["image_id"], "twin0copy000000b"),
        stranger_id="stranger0000000d",
        pair_ids=("pairgood0000000e", "pairbad00000000f"),
        alias_celeb="c00020_alias",
        solo_celeb="solo_star",
        ghost_celeb="ghost_star",
        skipped=skipped,
    )
