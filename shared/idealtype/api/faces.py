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
        # Read straight from the ASGI scope: Starlette's request.base_url parses a URL object
        # per call, a measurable part of a pick.
        scope = request.scope
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if host is None:
            server_host, port = scope.get("server") or ("localhost", None)
            host = f"{server_host}:{port}" if port else server_host
        root_path = scope.get("root_path", "").rstrip("/")
        return FaceUrlBuilder(f"{scope.get('scheme', 'http')}://{host}{root_path}/")


class FaceUrlBuilder:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def url(self, index: GalleryIndex, row: int) -> str:
        image = index.images[row]
        return self.prefix + (image.get("crop") or face_crop_key(image["image_id"]))

    def url_for_id(self, index: GalleryIndex, image_id: str) -> str:
        return self.url(index, index.image_row[image_id])
