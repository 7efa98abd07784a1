"""A small but nasty gallery for the build-job tests, made from real faces that ship inside
registry packages (matplotlib's Grace Hopper, scikit-image's astronaut and coffee), plus the
expected outcome of every file."""

from __future__ import annotations

import io
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ASTRONAUT_FOLDER = "우주비행사"  # Korean folder name (written NFD on disk, as macOS does)

# source (NFC) -> expected outcome: "indexed" or the skip reason
EXPECTED = {
    "Grace_Hopper/original.jpg": "indexed",
    "Grace_Hopper/zz_copy_of_original.jpg": "duplicate",
    "Grace_Hopper/flipped.jpg": "indexed",
    "Grace_Hopper/small.jpg": "indexed",
    "Grace_Hopper/crop.jpg": "indexed",
    "Grace_Hopper/grey.jpg": "indexed",
    "Grace_Hopper/cmyk.jpg": "indexed",
    "Grace_Hopper/deep16.png": "indexed",
    "Grace_Hopper/alpha.png": "indexed",
    f"{ASTRONAUT_FOLDER}/astronaut.png": "indexed",
    f"{ASTRONAUT_FOLDER}/astronaut_flipped.jpg": "indexed",
    f"{ASTRONAUT_FOLDER}/astronaut_small.jpg": "indexed",
    f"{ASTRONAUT_FOLDER}/tiny_face.jpg": "face_too_small",
    "Coffee_Cup/coffee.jpg": "no_face",
    "Broken/empty.jpg": "empty_file",
    "Broken/notes.jpg": "not_an_image",
    "Broken/truncated.jpg": "truncated",
    "Broken/bomb.png": "too_many_pixels",
    "Broken/.DS_Store": "hidden_file",
    "README.txt": "not_in_celebrity_folder",
}
EXPECTED_NOTES = {
    "Grace_Hopper/grey.jpg": "greyscale_to_rgb",
    "Grace_Hopper/cmyk.jpg": "cmyk_to_rgb",
    "Grace_Hopper/deep16.png": "16bit_to_8bit",
    "Grace_Hopper/alpha.png": "alpha_flattened",
}
CELEBS_CSV = (
    "folder,name,gender,country\n"
    "Grace_Hopper,Grace Hopper,female,US\n"
    f"{ASTRONAUT_FOLDER},Eileen Collins,female,US\n"
)


def grace_hopper() -> Image.Image:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as stream:
        return Image.open(io.BytesIO(stream.read())).convert("RGB")


def grace_hopper_bytes() -> bytes:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as stream:
        return stream.read()


def astronaut() -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.astronaut())


def coffee() -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.coffee())


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gallery_files() -> dict[str, bytes]:
    """source -> bytes for every file of the test gallery (Korean folder in NFD)."""
    grace, astro = grace_hopper(), astronaut()
    original = grace_hopper_bytes()
    deep = (np.asarray(grace.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    alpha = grace.convert("RGBA")
    alpha.putalpha(Image.linear_gradient("L").resize(grace.size))
    tiny = Image.new("RGB", (400, 400), (128, 128, 128))
    tiny.paste(astro.resize((112, 112)), (150, 150))  # face ~25 px: found, but under 40 px
    truncated = encode(astro, "JPEG", quality=90)
    bomb = Image.new("1", (8000, 6000))  # 48 Mpx, a few KB as PNG
    files = {
        "Grace_Hopper/original.jpg": original,
        "Grace_Hopper/zz_copy_of_original.jpg": original,
        "Grace_Hopper/flipped.jpg": encode(grace.transpose(Image.FLIP_LEFT_RIGHT), "JPEG"),
        "Grace_Hopper/small.jpg": encode(grace.resize((300, 256)), "JPEG"),
        "Grace_Hopper/crop.jpg": encode(grace.crop((80, 40, 480, 440)), "JPEG"),
        "Grace_Hopper/grey.jpg": encode(grace.convert("L"), "JPEG"),
        "Grace_Hopper/cmyk.jpg": encode(grace.convert("CMYK"), "JPEG"),
        "Grace_Hopper/deep16.png": encode(Image.fromarray(deep), "PNG"),
        "Grace_Hopper/alpha.png": encode(alpha, "PNG"),
        f"{ASTRONAUT_FOLDER}/astronaut.png": encode(astro, "PNG"),
        f"{ASTRONAUT_FOLDER}/astronaut_flipped.jpg": encode(
            astro.transpose(Image.FLIP_LEFT_RIGHT), "JPEG"
        ),
        f"{ASTRONAUT_FOLDER}/astronaut_small.jpg": encode(astro.resize((300, 300)), "JPEG"),
        f"{ASTRONAUT_FOLDER}/tiny_face.jpg": encode(tiny, "JPEG"),
        "Coffee_Cup/coffee.jpg": encode(coffee(), "JPEG"),
        "Broken/empty.jpg": b"",
        "Broken/notes.jpg": b"these are notes, not a photo\n",
        "Broken/truncated.jpg": truncated[: len(truncated) // 2],
        "Broken/bomb.png": encode(bomb, "PNG"),
        "Broken/.DS_Store": b"\x00\x00\x00\x01Bud1",
        "README.txt": b"one folder per person\n",
        "celebs.csv": CELEBS_CSV.encode(),
    }
    return {unicodedata.normalize("NFD", key): data for key, data in files.items()}


def assert_same_index(a, b) -> None:
    """Same photos, ids, people, crops; boxes and embeddings equal up to MTCNN's batch-dependent
    float arithmetic (a shard batches other neighbours: a box may move a pixel or two)."""

    def rows(index):
        return [{k: v for k, v in im.items() if k not in ("box", "prob")} for im in index.images]

    assert rows(a) == rows(b)
    assert a.celebs == b.celebs
    for x, y in zip(a.images, b.images):
        np.testing.assert_allclose(x["box"], y["box"], atol=3)
    cosines = (a.embeddings.astype(np.float32) * b.embeddings.astype(np.float32)).sum(1)
    assert cosines.min() > 0.95


@pytest.fixture(scope="session")
def build_gallery(tmp_path_factory) -> Path:
    """The test gallery as a local folder (session-wide; tests must not modify it)."""
    root = tmp_path_factory.mktemp("gallery")
    for key, data in gallery_files().items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
def gallery_copy(build_gallery, tmp_path) -> Path:
    """A private, modifiable copy of the test gallery."""
    return Path(shutil.copytree(build_gallery, tmp_path / "gallery"))
