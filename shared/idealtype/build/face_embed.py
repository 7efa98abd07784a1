"""Mapper stage, part 2: batched FaceNet embeddings (512-d, L2-normalized)."""

from __future__ import annotations

import numpy as np
import torch

EMBEDDING_DIMS = 512


class FaceEmbedder:
    def __init__(self, model: torch.nn.Module, *, batch_size: int = 32, flip_average: bool = False):
        # channels_last: ~20% faster convolutions on CPU, same results to 1e-7.
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.batch_size = batch_size
        # Averaging a face with its mirror image cancels some pose/lighting asymmetry
        # (measured in bench/embedding_quality.py); it doubles the FaceNet cost.
        self.flip_average = flip_average

    def embed(self, faces: torch.Tensor) -> np.ndarray:
        """(n, 3, 160, 160) standardized crops -> (n, 512) float32, unit rows."""
        out = np.zeros((len(faces), EMBEDDING_DIMS), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                batch = faces[start : start + self.batch_size].contiguous(
                    memory_format=torch.channels_last
                )
                vectors = self.model(batch)
                if self.flip_average:
                    vectors = vectors + self.model(torch.flip(batch, dims=[3]))
                out[start : start + len(batch)] = vectors.numpy()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
