"""How the trusted grader and a sandboxed worker talk: framed messages on pipes.

Nothing crosses as a pickle, because unpickling can run code: a message is a
JSON header plus raw ``.npy`` blobs read back with ``allow_pickle=False``.
A student's return value is flattened into plain arrays, numbers, strings and
tuples/lists/dicts of them; anything else crosses as its type name only.

The trusted side reads with :class:`MessageReader`, which holds every message
to bounds fixed here, whatever the worker writes: the header's size and
nesting, the number of blobs and the bytes of the whole message. A blob is
checked against its own ``.npy`` header and decoded once, into a read-only
view, however many times the header refers to it.
"""

import io
import json
import math
import struct

import numpy as np

from ..diagnosis.opaque import Opaque

_LENGTH = struct.Struct("<Q")
MAX_HEADER = 1024 * 1024  # bytes of JSON
MAX_BLOBS = 256  # arrays per message
MAX_MESSAGE = 64 * 1024 * 1024  # header plus blobs; far above any honest result
MAX_DEPTH = 4  # nesting of tuples/lists/dicts the encoder writes (it stops at 3)


class ProtocolError(Exception):
    pass


def write_frame(stream, payload):
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)


def joined(parts):
    """The bytes of ``parts`` (from :func:`frames`) as they go down the pipe."""
    return b"".join(_LENGTH.pack(len(part)) + part for part in parts)


def error_from(raw):
    """A worker's error report, reduced to three short strings whatever it sent, plus the
    paths of changed inputs (inputs.changed_paths) when they have the shape it makes."""
    raw = raw if isinstance(raw, dict) else {}
    error = {"type": str(raw.get("type", "Error"))[:100], "message": str(raw.get("message", ""))[:300],
             "where": str(raw.get("where", ""))[:300]}
    changed = raw.get("changed")
    if isinstance(changed, list) and changed and all(_is_input_path(p) for p in changed[:8]):
        error["changed"] = changed[:8]
    return error


MAX_OUTPUT = 4000  # characters of a test cell's stdout, stderr or value kept


def outcome_from(raw):
    """A worker's report on a test cell it ran (worker.run_test_cell), reduced to short
    strings, a number or None, and an error as error_from makes it, whatever it sent."""
    raw = raw if isinstance(raw, dict) else {}

    def text(key):
        value = raw.get(key)
        return value[:MAX_OUTPUT] if isinstance(value, str) else ""

    number = raw.get("number")
    return {"stdout": text("stdout"), "stderr": text("stderr"),
            "text": text("text") if isinstance(raw.get("text"), str) else None,
            "number": float(number) if type(number) in (int, float) else None,
            "error": error_from(raw["error"]) if raw.get("error") is not None else None}


def _is_input_path(path):
    """[argument index, then keys, indexes or "." for an attribute], short and plain."""
    return (isinstance(path, list) and 0 < len(path) <= 6 and type(path[0]) is int
            and 0 <= path[0] < 10
            and all(type(k) is int or (type(k) is str and len(k) <= 40) for k in path[1:]))


def read_frame(stream):
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None  # the other side closed the pipe
    (length,) = _LENGTH.unpack(head)
    if length > MAX_MESSAGE:
        raise ProtocolError(f"frame of {length} bytes is larger than {MAX_MESSAGE}")
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
    if type(value) is np.ndarray and value.dtype.kind in "biuf" and len(blobs) < MAX_BLOBS:
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


def _array(blob):
    """The array a ``.npy`` blob holds, as a read-only view; its header must describe
    a plain numeric array of exactly the bytes that follow."""
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(stream)
    except (ValueError, OSError, SyntaxError, TypeError) as error:
        raise ProtocolError(f"unreadable array: {error}") from error
    if any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError(f"an array's header has the impossible shape {shape!r}")
    count = math.prod(shape)
    if dtype.kind not in "biuf" or dtype.hasobject or count * dtype.itemsize != len(blob) - stream.tell():
        raise ProtocolError("an array's header does not match its data")
    array = np.frombuffer(blob, dtype=dtype, count=count, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C")


def decode(description, blobs, decoded=None, depth=0):
    """The value ``description`` stands for; ``decoded`` caches arrays by blob number."""
    decoded = {} if decoded is None else decoded
    if type(description) is not dict or depth > MAX_DEPTH:
        raise ProtocolError("malformed value description")
    kind = description.get("kind")
    if kind == "array":
        index = description.get("blob")
        if type(index) is not int or not 0 <= index < len(blobs):
            raise ProtocolError("a value refers to a missing blob")
        if index not in decoded:
            decoded[index] = _array(blobs[index])
        return decoded[index]
    if kind == "plain":
        return description.get("value")
    if kind in ("tuple", "list"):
        if type(description.get("items", [])) is not list:
            raise ProtocolError("malformed value description")
        items = [decode(d, blobs, decoded, depth + 1) for d in description.get("items", [])]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        if type(description.get("items", {})) is not dict:
            raise ProtocolError("malformed value description")
        return {str(k): decode(d, blobs, decoded, depth + 1)
                for k, d in dict(description.get("items", {})).items()}
    return Opaque(str(description.get("type", "object"))[:100])


def frames(header, values=()):
    """The frames of one message: header dict and values (encoded into header['values'])."""
    blobs = []
    header = dict(header, values=[encode(v, blobs) for v in values], blobs=len(blobs))
    return [json.dumps(header).encode(), *blobs]


def send(stream, header, values=()):
    """Send a message; a result too large to cross raises ProtocolError before
    anything is written, so the stream stays in step."""
    parts = frames(header, values)
    if sum(map(len, parts)) > MAX_MESSAGE or len(parts[0]) > MAX_HEADER:
        raise ProtocolError(f"the result is larger than the {MAX_MESSAGE >> 20} MiB that can "
                            "be sent back")
    for part in parts:
        write_frame(stream, part)
    stream.flush()


def receive(stream):
    """The next (header, values) pair, or None when the stream ended (the worker's side)."""
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


class MessageReader:
    """Messages from bytes fed in as they arrive, each within this module's bounds.

    ``feed`` takes what was read from the pipe; ``message`` returns the next
    complete (header, values) pair or None, and raises ProtocolError on anything
    out of bounds, after which the stream cannot be trusted to be in step."""

    def __init__(self):
        self.buffer = bytearray()
        self.header, self.blobs, self.size = None, [], 0

    def wanted(self):
        """How many more bytes the message being read needs at least (a read size)."""
        if len(self.buffer) < _LENGTH.size:
            return _LENGTH.size - len(self.buffer)
        (length,) = _LENGTH.unpack_from(self.buffer)
        return max(1, _LENGTH.size + length - len(self.buffer))

    def feed(self, data):
        self.buffer += data

    def _frame(self, limit):
        if len(self.buffer) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self.buffer)
        if length > limit:
            raise ProtocolError(f"a frame of {length} bytes is over the limit of {limit}")
        if len(self.buffer) < _LENGTH.size + length:
            return None
        frame = bytes(self.buffer[_LENGTH.size:_LENGTH.size + length])
        del self.buffer[:_LENGTH.size + length]
        self.size += _LENGTH.size + length
        return frame

    def message(self):
        if self.header is None:
            payload = self._frame(MAX_HEADER)
            if payload is None:
                return None
            try:
                header = json.loads(payload)
                count = header.get("blobs", 0)
            except (ValueError, RecursionError, AttributeError) as error:
                raise ProtocolError(f"unreadable header: {error}") from error
            if type(count) is not int or not 0 <= count <= MAX_BLOBS:
                raise ProtocolError(f"a message announced {count!r} blobs")
            self.header = header
        while len(self.blobs) < self.header["blobs"]:
            blob = self._frame(MAX_MESSAGE - self.size)
            if blob is None:
                return None
            self.blobs.append(blob)
        header, blobs = self.header, self.blobs
        self.header, self.blobs, self.size = None, [], 0
        descriptions = header.get("values", [])
        if type(descriptions) is not list:
            raise ProtocolError("malformed values")
        decoded = {}
        try:
            return header, [decode(d, blobs, decoded) for d in descriptions]
        except RecursionError as error:
            raise ProtocolError("values nested too deeply") from error
        except ProtocolError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever a forged frame trips, it is forged
            raise ProtocolError(f"malformed values: {type(error).__name__}") from error
