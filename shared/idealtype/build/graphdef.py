"""Minimal reader for frozen TensorFlow GraphDef files (`*.pb`), without TensorFlow or protobuf.

Only what weight conversion needs: every node's name, op, inputs and its constant tensor (the
`value` attribute of `Const` nodes) as a numpy array. The protobuf wire format is simple enough
to walk by hand, which keeps the build extra free of another dependency.

Field numbers (tensorflow/core/framework/*.proto): GraphDef.node=1; NodeDef name=1, op=2,
input=3, attr=5 (map entry key=1, value=2); AttrValue s=2, i=3, f=4, b=5, type=6, tensor=8;
TensorProto dtype=1, tensor_shape=2, tensor_content=4, float_val=5, int_val=7;
TensorShapeProto dim=2; Dim size=1.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# TensorFlow DataType enum -> numpy dtype, for the types frozen inference graphs carry.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_}

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class GraphDefError(ValueError):
    """The file is not a GraphDef this reader understands."""


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    # attributes: scalars (str/bytes, int, float, bool) and tensors (the `value` of a `Const`)
    attrs: dict[str, object] = field(default_factory=dict)

    @property
    def value(self) -> np.ndarray:
        """The constant tensor of a `Const` node."""
        value = self.attrs.get("value")
        if not isinstance(value, np.ndarray):
            raise GraphDefError(f"node {self.name!r} ({self.op}) holds no constant tensor")
        return value


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise GraphDefError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _signed(value: int) -> int:
    """Varint-encoded int32/int64 fields carry negatives as 64-bit two's complement."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value) of one message; length-delimited values are views."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _LENGTH:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise GraphDefError(f"field {number} runs past the end of its message")
            value, pos = buf[pos : pos + size], pos + size
        elif wire == _FIXED32:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        elif wire == _FIXED64:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        else:
            raise GraphDefError(f"unsupported wire type {wire} for field {number}")
        yield number, wire, value


def _shape(buf: memoryview) -> tuple[int, ...]:
    dims = []
    for number, _, dim in _fields(buf):
        if number == 2:
            size = next((v for n, _, v in _fields(dim) if n == 1), 0)
            dims.append(_signed(size))
    return tuple(dims)


def _tensor(buf: memoryview) -> np.ndarray:
    dtype_code, shape, content = 0, (), None
    scalars: list[float | int] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            dtype_code = value
        elif number == 2:
            shape = _shape(value)
        elif number == 4:
            content = bytes(value)
        elif number == 5:  # float_val: packed or one fixed32 per entry
            raw = bytes(value) if wire == _LENGTH else struct.pack("<I", value)
            scalars.extend(np.frombuffer(raw, "<f4").tolist())
        elif number == 7:  # int_val: packed varints or one varint per entry
            if wire == _LENGTH:
                pos = 0
                while pos < len(value):
                    item, pos = _varint(value, pos)
                    scalars.append(_signed(item))
            else:
                scalars.append(_signed(value))
    if dtype_code not in _DTYPES:
        raise GraphDefError(f"unsupported tensor dtype {dtype_code}")
    dtype = np.dtype(_DTYPES[dtype_code]).newbyteorder("<")
    count = int(np.prod(shape)) if shape else 1
    if content is not None:
        array = np.frombuffer(content, dtype=dtype).astype(dtype.newbyteorder("="))
    elif len(scalars) == count:
        array = np.asarray(scalars, dtype=dtype.newbyteorder("="))
    elif len(scalars) == 1:  # TensorFlow stores a splat constant as one value
        array = np.full(count, scalars[0], dtype=dtype.newbyteorder("="))
    else:
        raise GraphDefError(f"tensor of shape {shape} has {len(scalars)} values")
    if array.size != count:
        raise GraphDefError(f"tensor of shape {shape} has {array.size} values")
    return array.reshape(shape)


def _attr_value(buf: memoryview) -> object:
    """Decode the AttrValue kinds inference graphs use; lists and functions come back as None."""
    for number, _, value in _fields(buf):
        if number == 2:
            return bytes(value)
        if number in (3, 6):  # i, type
            return _signed(value)
        if number == 4:
            return struct.unpack("<f", struct.pack("<I", value))[0]
        if number == 5:
            return bool(value)
        if number == 8:
            return _tensor(value)
    return None


def _node(buf: memoryview) -> Node:
    node = Node(name="", op="")
    for number, _, value in _fields(buf):
        if number == 1:
            node.name = bytes(value).decode()
        elif number == 2:
            node.op = bytes(value).decode()
        elif number == 3:
            node.inputs.append(bytes(value).decode())
        elif number == 5:
            entry = {n: v for n, _, v in _fields(value)}
            if 1 in entry and 2 in entry:
                node.attrs[bytes(entry[1]).decode()] = _attr_value(entry[2])
    return node


def read_graphdef(path: str | Path) -> dict[str, Node]:
    """Parse a frozen GraphDef file into {node name: Node}, in file order."""
    buf = memoryview(Path(path).read_bytes())
    nodes = {}
    for number, wire, value in _fields(buf):
        if number == 1 and wire == _LENGTH:
            node = _node(value)
            nodes[node.name] = node
    if not nodes:
        raise GraphDefError(f"{path}: no nodes found; not a GraphDef")
    return nodes
