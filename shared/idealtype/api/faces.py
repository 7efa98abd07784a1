"""Face crop URLs: the CDN in production, this app's /faces route locally (and as fallback)."""

from __future__ import annotations

import re

from fastapi import Request

from ..index_format import GalleryIndex, face_crop_key

IMAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class FaceUrls:
    def __init__(self, base_url: str | None):
        self.base_url = base_url

    def for_request(self, request: Request) -> FaceUrlBuilder:
        if self.base_url:
            return FaceUrlBuilder(self.base_url + "/")
        # Absolute URL on the host the client called (works behind API Gateway and locally).
        root = str(request.base_url)
        return FaceUrlBuilder(root if root.endswith("/") else root + "/")


class FaceUrlBuilder:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def url(self, index: GalleryIndex, row: int) -> str:
        image = index.images[row]
        return self.prefix + (image.get("crop") or face_crop_key(image["image_id"]))

    def url_for_id(self, index: GalleryIndex, image_id: str) -> str:
        return self.url(index, index.image_row[image_id])
