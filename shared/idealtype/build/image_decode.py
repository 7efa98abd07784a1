"""Decode gallery files into 8-bit RGB images, robustly.

Anything that cannot become a trustworthy RGB image raises `BadImage` with a short machine
reason (listed in the build report); anything that can be fixed (CMYK, greyscale, 16-bit,
alpha, palette, EXIF rotation) is converted and noted, never silently.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# ~40 megapixels: more than any phone photo, far below what a decompression bomb asks for.
DEFAULT_MAX_PIXELS = 40_000_000


class BadImage(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class DecodedImage:
    rgb: Image.Image  # mode "RGB", EXIF orientation applied
    notes: list[str] = field(default_factory=list)  # conversions made, e.g. "cmyk_to_rgb"


def _sixteen_bit_to_rgb(image: Image.Image) -> Image.Image:
    # PIL's convert("L") clips 16-bit values at 255 (a white image); scale the range instead.
    values = np.asarray(image, dtype=np.float64)
    peak = 65535.0 if values.max() > 255 else 255.0
    grey = np.clip(np.round(values * (255.0 / peak)), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, "L").convert("RGB")


def _flatten_alpha(image: Image.Image) -> Image.Image:
    # Transparent pixels become white (as a browser shows them on a white page), not black.
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def to_rgb(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """Convert any PIL mode to RGB; returns the image and what was done to it."""
    mode = image.mode
    if mode == "RGB":
        return image, []
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        return _sixteen_bit_to_rgb(image), ["16bit_to_8bit"]
    if mode in ("RGBA", "LA", "RGBa", "La", "PA") or (mode == "P" and "transparency" in image.info):
        return _flatten_alpha(image), ["alpha_flattened"]
    if mode == "CMYK":
        return image.convert("RGB"), ["cmyk_to_rgb"]
    if mode in ("L", "1"):
        return image.convert("RGB"), ["greyscale_to_rgb"]
    if mode == "F":
        return _sixteen_bit_to_rgb(image), ["float_to_8bit"]
    return image.convert("RGB"), [f"{mode.lower()}_to_rgb"]


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Bytes of a gallery file -> RGB image. Raises BadImage(reason) for:
    empty_file, not_an_image, too_many_pixels, truncated, unreadable."""
    if not data:
        raise BadImage("empty_file", "0 bytes")
    try:
        with warnings.catch_warnings():
            # PIL warns (rather than raises) between 1x and 2x its own limit; the explicit
            # pixel check below is what decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise BadImage("not_an_image", "format not recognised") from None
    except Image.DecompressionBombError as err:
        raise BadImage("too_many_pixels", str(err)) from None
    except (OSError, ValueError, SyntaxError) as err:
        raise BadImage("unreadable", str(err)) from None
    width, height = image.size
    # Checked from the header, before the pixels are decoded into memory.
    if width * height > max_pixels:
        raise BadImage("too_many_pixels", f"{width}x{height} > {max_pixels} pixels")
    try:
        image.load()
    except OSError as err:
        reason = (
            "truncated" if "truncated" in str(err) or "broken data" in str(err) else "unreadable"
        )
        raise BadImage(reason, str(err)) from None
    except (ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise BadImage("unreadable", str(err)) from None
    notes: list[str] = []
    try:
        orientation = image.getexif().get(0x0112, 1)
        rotated = ImageOps.exif_transpose(image)
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError) as err:
        # A malformed EXIF block must not lose the photo.
        orientation, rotated, notes = 1, image, [f"exif_ignored: {type(err).__name__}"]
    if orientation not in (1, None):
        notes.append("exif_rotated")
    rgb, conversion_notes = to_rgb(rotated)
    return DecodedImage(rgb=rgb, notes=notes + conversion_notes)
