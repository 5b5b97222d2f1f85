"""Tensors on the wire between the Node server and the engine, both directions.

    "PTT1" | uint32 LE header length | header JSON, padded with spaces to a multiple of 8 |
    tensor data, each raw little-endian and padded with zeros to a multiple of 8

The header is {"tensors": [{"name", "type": "float32" | "int64", "dims": [...]}, ...]}; data
follow in the same order. No JSON arrays of floats: a 1.5 MB feature map stays 1.5 MB.
server/engine-client/wire.ts is the other side (test/server/engine-wire.test.ts and
engine.test.ts check them, the second through a real engine).
"""
import json
import struct

import numpy as np

MAGIC = b"PTT1"
CONTENT_TYPE = "application/x-phototype-tensors"
DTYPES = {"float32": np.dtype("<f4"), "int64": np.dtype("<i8")}
NAMES = {v: k for k, v in DTYPES.items()}


class WireError(ValueError):
    """A body that is not in the format above."""


def _pad(n: int) -> int:
    return (8 - n % 8) % 8


def encode(tensors: dict) -> bytes:
    """{name: numpy array} -> bytes."""
    specs, blobs = [], []
    for name, array in tensors.items():
        dtype = np.dtype(array.dtype).newbyteorder("<")
        if dtype not in NAMES:
            raise WireError(f"tensor {name} has type {array.dtype}; the wire carries float32 and int64")
        specs.append({"name": name, "type": NAMES[dtype], "dims": [int(d) for d in array.shape]})
        raw = np.ascontiguousarray(array, dtype=dtype).tobytes()
        blobs.append(raw + b"\0" * _pad(len(raw)))
    header = json.dumps({"tensors": specs}, separators=(",", ":")).encode()
    header += b" " * _pad(8 + len(header))
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, *blobs])


def decode(body: bytes) -> dict:
    """bytes -> {name: numpy array} (read-only views into `body`)."""
    if len(body) < 8 or body[:4] != MAGIC:
        raise WireError("not a tensor body (no PTT1 magic)")
    (length,) = struct.unpack_from("<I", body, 4)
    if 8 + length > len(body):
        raise WireError("header runs past the end of the body")
    try:
        specs = json.loads(body[8 : 8 + length])["tensors"]
    except (ValueError, KeyError, TypeError) as e:
        raise WireError(f"unreadable header: {e}") from None
    out, offset = {}, 8 + length
    for spec in specs:
        dtype = DTYPES.get(spec.get("type"))
        dims = spec.get("dims")
        if dtype is None or not isinstance(dims, list) or not all(isinstance(d, int) and d >= 0 for d in dims):
            raise WireError(f"bad tensor spec {spec!r}")
        count = int(np.prod(dims, dtype=np.int64))
        size = count * dtype.itemsize
        if offset + size > len(body):
            raise WireError(f"tensor {spec.get('name')} runs past the end of the body")
        out[str(spec["name"])] = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(dims)
        offset += size + _pad(size)
    return out
