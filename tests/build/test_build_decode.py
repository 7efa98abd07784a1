import io

import numpy as np
import pytest
from conftest import encode, gallery_files, grace_hopper
from PIL import Image

from idealtype.build.image_decode import BadImage, decode_image


def reason(data: bytes, **kwargs) -> str:
    with pytest.raises(BadImage) as caught:
        decode_image(data, **kwargs)
    return caught.value.reason


def test_bad_files_raise_with_a_reason():
    files = {k.split("/")[-1]: v for k, v in gallery_files().items()}
    assert reason(b"") == "empty_file"
    assert reason(files["notes.jpg"]) == "not_an_image"
    assert reason(files["truncated.jpg"]) == "truncated"
    assert reason(files["bomb.png"]) == "too_many_pixels"


def test_pixel_limit_is_checked_before_decoding():
    small = encode(Image.new("RGB", (100, 100)), "PNG")
    assert decode_image(small, max_pixels=10_000).rgb.size == (100, 100)
    assert reason(small, max_pixels=9_999) == "too_many_pixels"


@pytest.mark.parametrize(
    ("mode", "note"),
    [("L", "greyscale_to_rgb"), ("CMYK", "cmyk_to_rgb"), ("RGB", None), ("P", "p_to_rgb")],
)
def test_modes_become_rgb_with_a_note(mode, note):
    image = grace_hopper().convert(mode)
    decoded = decode_image(encode(image, "TIFF" if mode == "CMYK" else "PNG"))
    assert decoded.rgb.mode == "RGB" and decoded.rgb.size == image.size
    assert decoded.notes == ([note] if note else [])


def test_16bit_png_keeps_its_tones():
    ramp = np.tile(np.linspace(0, 65535, 256), (64, 1)).astype(np.uint16)
    decoded = decode_image(encode(Image.fromarray(ramp), "PNG"))
    rgb = np.asarray(decoded.rgb)
    assert decoded.notes == ["16bit_to_8bit"]
    # a plain convert("L") would clip everything above 255 to white
    assert rgb[:, 0].max() <= 1 and rgb[:, -1].min() >= 254
    assert 120 <= rgb[:, 128].mean() <= 135


def test_alpha_is_flattened_on_white():
    image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    decoded = decode_image(encode(image, "PNG"))
    assert decoded.notes == ["alpha_flattened"]
    assert np.asarray(decoded.rgb)[0, 0].tolist() == [255, 255, 255]


def test_exif_rotation_is_applied_and_noted():
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    decoded = decode_image(buffer.getvalue())
    assert decoded.rgb.size == (20, 40)
    assert decoded.notes == ["exif_rotated"]
