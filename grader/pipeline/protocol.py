"""How the trusted grader and a sandboxed worker talk: framed messages on pipes.

Nothing crosses as a pickle, because unpickling can run code: a message is a
JSON header plus raw ``.npy`` blobs read back with ``allow_pickle=False``.
A student's return value is flattened into plain arrays, numbers, strings and
tuples/lists/dicts of them; anything else crosses as its type name only.
"""

import io
import json
import struct

import numpy as np

from ..diagnosis.opaque import Opaque

_LENGTH = struct.Struct("<Q")
MAX_FRAME = 512 * 1024 * 1024  # far above any honest result; a liar's length is refused


class ProtocolError(Exception):
    pass


def write_frame(stream, payload):
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)


def read_frame(stream):
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None  # the other side closed the pipe
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes is larger than {MAX_FRAME}")
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return payload


def _array_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def encode(value, blobs, depth=0):
    """A JSON-able description of ``value``; its arrays are appended to ``blobs``."""
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        blobs.append(_array_bytes(value))
        return {"kind": "array", "blob": len(blobs) - 1}
    if isinstance(value, (bool, int, float, str, type(None))) and type(value) in (
        bool, int, float, str, type(None)
    ):
        return {"kind": "plain", "value": value}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"kind": "plain", "value": value.item()}
    if depth < 3 and type(value) in (tuple, list):
        return {"kind": type(value).__name__, "items": [encode(v, blobs, depth + 1) for v in value]}
    if depth < 3 and type(value) is dict and all(type(k) is str for k in value):
        return {"kind": "dict", "items": {k: encode(v, blobs, depth + 1) for k, v in value.items()}}
    return {"kind": "opaque", "type": type(value).__name__}


def decode(description, blobs):
    kind = description["kind"]
    if kind == "array":
        return np.load(io.BytesIO(blobs[description["blob"]]), allow_pickle=False)
    if kind == "plain":
        return description["value"]
    if kind in ("tuple", "list"):
        items = [decode(d, blobs) for d in description["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: decode(d, blobs) for k, d in description["items"].items()}
    return Opaque(description.get("type", "object"))


def send(stream, header, values=()):
    """Send a header dict and values; values are encoded into header['values']."""
    blobs = []
    header = dict(header, values=[encode(v, blobs) for v in values], blobs=len(blobs))
    write_frame(stream, json.dumps(header).encode())
    for blob in blobs:
        write_frame(stream, blob)
    stream.flush()


def receive(stream):
    """The next (header, values) pair, or None when the stream ended."""
    payload = read_frame(stream)
    if payload is None:
        return None
    header = json.loads(payload)
    blobs = []
    for _ in range(int(header.get("blobs", 0))):
        blob = read_frame(stream)
        if blob is None:
            return None
        blobs.append(blob)
    return header, [decode(d, blobs) for d in header.get("values", [])]
