"""Map David Sandberg's frozen FaceNet graph (Inception-ResNet-v1, TensorFlow layout) onto
facenet-pytorch's `InceptionResnetV1(classify=False)` state dict.

The frozen graph folded each conv's batch norm into the conv kernel plus a per-channel
`<scope>/Conv2D_bn_offset`; facenet-pytorch keeps a BatchNorm2d after every conv, so that norm
becomes an exact identity plus the offset. Only the bottleneck keeps a real batch norm.
Every constant the graph's layers use must be consumed, and the graph's residual scales must equal
the model's, so a layout mismatch fails loudly instead of producing plausible wrong embeddings.
"""

from __future__ import annotations

import numpy as np
import torch

from idealtype.build.graphdef import Node

ROOT = "InceptionResnetV1"
BN_EPS = 1e-3  # facenet-pytorch's BatchNorm eps (same as the graph's FusedBatchNorm epsilon)

# Layer scopes of the stem, in facenet-pytorch's names.
_STEM = {
    "conv2d_1a": "Conv2d_1a_3x3",
    "conv2d_2a": "Conv2d_2a_3x3",
    "conv2d_2b": "Conv2d_2b_3x3",
    "conv2d_3b": "Conv2d_3b_1x1",
    "conv2d_4a": "Conv2d_4a_3x3",
    "conv2d_4b": "Conv2d_4b_3x3",
}
# Branch convs of each block type: torch sub-path -> TF sub-scope.
_BLOCK35 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_3x3",
    "branch2.0": "Branch_2/Conv2d_0a_1x1",
    "branch2.1": "Branch_2/Conv2d_0b_3x3",
    "branch2.2": "Branch_2/Conv2d_0c_3x3",
}
_BLOCK17 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_1x7",
    "branch1.2": "Branch_1/Conv2d_0c_7x1",
}
_BLOCK8 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_1x3",
    "branch1.2": "Branch_1/Conv2d_0c_3x1",
}
_MIXED_6A = {
    "mixed_6a.branch0": "Mixed_6a/Branch_0/Conv2d_1a_3x3",
    "mixed_6a.branch1.0": "Mixed_6a/Branch_1/Conv2d_0a_1x1",
    "mixed_6a.branch1.1": "Mixed_6a/Branch_1/Conv2d_0b_3x3",
    "mixed_6a.branch1.2": "Mixed_6a/Branch_1/Conv2d_1a_3x3",
}
_MIXED_7A = {
    "mixed_7a.branch0.0": "Mixed_7a/Branch_0/Conv2d_0a_1x1",
    "mixed_7a.branch0.1": "Mixed_7a/Branch_0/Conv2d_1a_3x3",
    "mixed_7a.branch1.0": "Mixed_7a/Branch_1/Conv2d_0a_1x1",
    "mixed_7a.branch1.1": "Mixed_7a/Branch_1/Conv2d_1a_3x3",
    "mixed_7a.branch2.0": "Mixed_7a/Branch_2/Conv2d_0a_1x1",
    "mixed_7a.branch2.1": "Mixed_7a/Branch_2/Conv2d_0b_3x3",
    "mixed_7a.branch2.2": "Mixed_7a/Branch_2/Conv2d_1a_3x3",
}
# Residual stages: torch name, TF scope pattern, block count, branch table, residual scale.
_REPEATS = [
    ("repeat_1.{i}", "Repeat/block35_{n}", 5, _BLOCK35, 0.17),
    ("repeat_2.{i}", "Repeat_1/block17_{n}", 10, _BLOCK17, 0.10),
    ("repeat_3.{i}", "Repeat_2/block8_{n}", 5, _BLOCK8, 0.20),
    ("block8", "Block8", 1, _BLOCK8, 1.0),
]


class GraphLayoutError(ValueError):
    """The graph does not have the Inception-ResNet-v1 layout facenet-pytorch expects."""


class _Constants:
    """Hands out the graph's constants by name and remembers which ones were taken."""

    def __init__(self, nodes: dict[str, Node]):
        self._nodes = nodes
        self.taken: set[str] = set()

    def __call__(self, scope: str) -> np.ndarray:
        name = f"{ROOT}/{scope}"
        if name not in self._nodes:
            raise GraphLayoutError(f"graph has no constant {name!r}")
        self.taken.add(name)
        return self._nodes[name].value

    def untaken_parameters(self) -> list[str]:
        """Weight-like constants no layer consumed (shape/axis helpers are not parameters)."""
        return sorted(
            name
            for name, node in self._nodes.items()
            if node.op == "Const"
            and name not in self.taken
            and name.rsplit("/", 1)[-1] in {"weights", "biases", "Conv2D_bn_offset", "beta"}
        )


def _kernel(hwio: np.ndarray) -> torch.Tensor:
    """TensorFlow conv kernels are (H, W, in, out); torch wants (out, in, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(hwio.transpose(3, 2, 0, 1)))


def _basic_conv(state: dict, const: _Constants, torch_name: str, tf_scope: str) -> None:
    offset = torch.from_numpy(const(f"{tf_scope}/Conv2D_bn_offset").copy())
    channels = offset.shape[0]
    state[f"{torch_name}.conv.weight"] = _kernel(const(f"{tf_scope}/weights"))
    # Identity batch norm: (x - 0) / sqrt(var + eps) * 1 + offset with var + eps == 1.0 exactly
    # in float32, so the folded conv + offset is reproduced bit for bit.
    state[f"{torch_name}.bn.weight"] = torch.ones(channels)
    state[f"{torch_name}.bn.bias"] = offset
    state[f"{torch_name}.bn.running_mean"] = torch.zeros(channels)
    state[f"{torch_name}.bn.running_var"] = torch.full((channels,), 1.0) - BN_EPS
    state[f"{torch_name}.bn.num_batches_tracked"] = torch.tensor(0)


def _check_scale(const: _Constants, tf_block: str, expected: float) -> None:
    scale = float(const(f"{tf_block}/mul/x"))
    if abs(scale - expected) > 1e-6:
        raise GraphLayoutError(f"{tf_block}: residual scale {scale} in graph, model uses {expected}")


def _bottleneck(state: dict, const: _Constants, nodes: dict[str, Node]) -> None:
    state["last_linear.weight"] = torch.from_numpy(np.ascontiguousarray(const("Bottleneck/weights").T))
    norm = nodes.get(f"{ROOT}/Bottleneck/BatchNorm/cond/FusedBatchNorm_1")
    if norm is None or norm.op != "FusedBatchNorm":
        raise GraphLayoutError("graph has no bottleneck FusedBatchNorm")
    # Inputs: x, scale (gamma), offset (beta), mean, variance.
    gamma, beta, mean, var = (nodes[name.split(":")[0]].value for name in norm.inputs[1:5])
    for name in norm.inputs[1:5]:
        const.taken.add(name.split(":")[0])
    graph_eps = float(norm.attrs.get("epsilon", BN_EPS))
    state["last_bn.weight"] = torch.from_numpy(gamma.copy())
    state["last_bn.bias"] = torch.from_numpy(beta.copy())
    state["last_bn.running_mean"] = torch.from_numpy(mean.copy())
    # Fold any epsilon difference into the variance so sqrt(var + eps) matches the graph.
    state["last_bn.running_var"] = torch.from_numpy(var + np.float32(graph_eps - BN_EPS))
    state["last_bn.num_batches_tracked"] = torch.tensor(0)


def graph_to_state_dict(nodes: dict[str, Node]) -> dict[str, torch.Tensor]:
    """Build facenet-pytorch's InceptionResnetV1(classify=False) state dict from the graph."""
    const = _Constants(nodes)
    state: dict[str, torch.Tensor] = {}
    for torch_name, tf_scope in {**_STEM, **_MIXED_6A, **_MIXED_7A}.items():
        _basic_conv(state, const, torch_name, tf_scope)
    for torch_pattern, tf_pattern, count, branches, scale in _REPEATS:
        for i in range(count):
            torch_block, tf_block = torch_pattern.format(i=i), tf_pattern.format(n=i + 1)
            for torch_branch, tf_branch in branches.items():
                _basic_conv(state, const, f"{torch_block}.{torch_branch}", f"{tf_block}/{tf_branch}")
            state[f"{torch_block}.conv2d.weight"] = _kernel(const(f"{tf_block}/Conv2d_1x1/weights"))
            state[f"{torch_block}.conv2d.bias"] = torch.from_numpy(
                const(f"{tf_block}/Conv2d_1x1/biases").copy()
            )
            _check_scale(const, tf_block, scale)
    _bottleneck(state, const, nodes)
    leftover = const.untaken_parameters()
    if leftover:
        raise GraphLayoutError(f"graph parameters not mapped to the model: {leftover[:5]}")
    return state
