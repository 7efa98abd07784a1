"""Mapper stage, part 2: batched FaceNet embeddings (512-d, L2-normalized)."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

EMBEDDING_DIMS = 512


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class FaceEmbedder:
    def __init__(
        self,
        model: torch.nn.Module,
        *,
        batch_size: int = 32,
        flip_average: bool = False,
        bf16: bool = False,
    ):
        # channels_last: ~20% faster convolutions on CPU, same results to 1e-7.
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.batch_size = batch_size
        # Averaging a face with its mirror image cancels some pose/lighting asymmetry
        # (measured in bench/embedding_quality.py); it doubles the FaceNet cost.
        self.flip_average = flip_average
        # bfloat16 autocast: ~3x faster on CPUs with AVX512-BF16/AMX, embeddings within
        # cosine ~1e-4 of float32 (slower than float32 on CPUs without bf16 support).
        self.bf16 = bf16

    def _forward(self, faces: torch.Tensor) -> np.ndarray:
        out = np.zeros((len(faces), EMBEDDING_DIMS), dtype=np.float32)
        precision = (
            torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        )
        with torch.inference_mode(), precision:
            for start in range(0, len(faces), self.batch_size):
                batch = faces[start : start + self.batch_size]
                batch = batch.contiguous(memory_format=torch.channels_last)
                out[start : start + len(batch)] = self.model(batch).float().numpy()
        return out

    def embed_plain(self, faces: torch.Tensor) -> np.ndarray:
        """(n, 3, 160, 160) standardized crops -> (n, 512) float32 unit rows, no flipping."""
        return unit_rows(self._forward(faces))

    def embed(self, faces: torch.Tensor) -> np.ndarray:
        """Like embed_plain, averaged with the mirror images' embeddings if flip_average."""
        plain = self.embed_plain(faces)
        if not self.flip_average:
            return plain
        return unit_rows(plain + self.embed_plain(torch.flip(faces, [3])))
