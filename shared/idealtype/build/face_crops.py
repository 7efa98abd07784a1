"""Crops of a detected face: the 160 px model input, and the larger display crop for the quiz."""

from __future__ import annotations

import io

import torch
from facenet_pytorch import extract_face
from PIL import Image

MODEL_INPUT_PX = 160
DISPLAY_PX = 256
# Display crops add 40% of the face box on every side: hair, ears and chin are in the picture,
# which is what people judge a face by (the model's tight 160 px crop looks like a mugshot).
DISPLAY_MARGIN = 0.4
DISPLAY_JPEG_QUALITY = 88


def model_input(
    image: Image.Image, box: tuple[float, float, float, float], margin: int
) -> torch.Tensor:
    """(3, 160, 160) float tensor standardized as (pixel - 127.5) / 128, exactly what
    facenet-pytorch's MTCNN(image_size=160, margin=margin) returns for this box. `margin` is in
    pixels of the 160 px output (facenet-pytorch's convention)."""
    face = extract_face(image, list(box), image_size=MODEL_INPUT_PX, margin=margin)
    return (face - 127.5) / 128.0


def display_square(
    box: tuple[float, float, float, float], size: tuple[int, int], margin: float = DISPLAY_MARGIN
) -> tuple[int, int, int, int]:
    """A square around the face with `margin` × box size on each side, moved (not cut) to stay
    inside the photo; shrunk only if the photo itself is smaller than the square."""
    width, height = size
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    side = min(side, width, height)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left = min(max(cx - side / 2, 0.0), width - side)
    top = min(max(cy - side / 2, 0.0), height - side)
    return round(left), round(top), round(left + side), round(top + side)


def display_crop_jpeg(
    image: Image.Image,
    box: tuple[float, float, float, float],
    *,
    px: int = DISPLAY_PX,
    margin: float = DISPLAY_MARGIN,
) -> bytes:
    square = display_square(box, image.size, margin)
    crop = image.crop(square).resize((px, px), Image.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=DISPLAY_JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
