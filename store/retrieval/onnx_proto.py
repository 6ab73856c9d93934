"""Just enough of ONNX's protobuf encoding to write a small graph without the ``onnx`` package.

``import onnx`` costs ~0.25 s at start-up (protobuf, its checker and helpers); the emotion
head's graph (:mod:`store.retrieval.emotion_onnx`) needs only nodes with int/float/ints
attributes, tensors as raw little-endian bytes and typed inputs/outputs. Field numbers are
those of onnx/onnx.proto (proto2: repeated scalars unpacked); tests/test_emotion_onnx.py
reads the bytes back with ``onnx`` and checks the model.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

FLOAT, INT64, BOOL = 1, 7, 9  # TensorProto.DataType
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64, np.dtype(np.bool_): BOOL}
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64: two's complement, ten bytes
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def _bytes(num: int, value: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(value)) + value


def _str(num: int, value: str) -> bytes:
    return _bytes(num, value.encode("utf-8"))


def _float(num: int, value: float) -> bytes:
    return _varint(num << 3 | 5) + struct.pack("<f", value)


def tensor(name: str, array: np.ndarray) -> bytes:
    """A TensorProto: dims, data type, name, raw data."""
    a = np.asarray(array)  # (not ascontiguousarray: it makes a scalar one-dimensional)
    if a.dtype not in _DTYPES:
        raise TypeError(f"unsupported tensor type {a.dtype}")
    return (b"".join(_int(1, d) for d in a.shape) + _int(2, _DTYPES[a.dtype])
            + _str(8, name) + _bytes(9, a.astype(a.dtype.newbyteorder("<")).tobytes(order="C")))


def _attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise TypeError(f"unsupported attribute {name}={value!r}")
    if isinstance(value, float):
        return _str(1, name) + _float(2, value) + _int(20, _ATTR_FLOAT)
    if isinstance(value, int):
        return _str(1, name) + _int(3, value) + _int(20, _ATTR_INT)
    return _str(1, name) + b"".join(_int(8, int(v)) for v in value) + _int(20, _ATTR_INTS)


def _value_info(name: str, elem_type: int, shape: Sequence[int | str]) -> bytes:
    dims = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in shape)
    tensor_type = _int(1, elem_type) + _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


@dataclass
class Graph:
    """Nodes, initializers, inputs and outputs, in the order added."""

    name: str
    _nodes: list[bytes] = field(default_factory=list)
    _inits: list[bytes] = field(default_factory=list)
    _inputs: list[bytes] = field(default_factory=list)
    _outputs: list[bytes] = field(default_factory=list)

    def node(self, op: str, inputs: Sequence[str], output: str,
             **attrs: int | float | Sequence[int]) -> str:
        """Add a node named as its one output; returns the output's name."""
        self._nodes.append(b"".join(_str(1, i) for i in inputs) + _str(2, output)
                           + _str(3, output) + _str(4, op)
                           + b"".join(_bytes(5, _attribute(k, v))
                                      for k, v in sorted(attrs.items())))
        return output

    def const(self, name: str, array: np.ndarray) -> str:
        self._inits.append(tensor(name, array))
        return name

    def input(self, name: str, elem_type: int, shape: Sequence[int | str]) -> str:
        self._inputs.append(_value_info(name, elem_type, shape))
        return name

    def output(self, name: str, elem_type: int, shape: Sequence[int | str]) -> str:
        self._outputs.append(_value_info(name, elem_type, shape))
        return name

    def model(self, *, opset: int, ir_version: int, producer: str) -> bytes:
        """The serialized ModelProto."""
        graph = (b"".join(_bytes(1, n) for n in self._nodes) + _str(2, self.name)
                 + b"".join(_bytes(5, t) for t in self._inits)
                 + b"".join(_bytes(11, v) for v in self._inputs)
                 + b"".join(_bytes(12, v) for v in self._outputs))
        return (_int(1, ir_version) + _str(2, producer) + _bytes(7, graph)
                + _bytes(8, _str(1, "") + _int(2, opset)))
