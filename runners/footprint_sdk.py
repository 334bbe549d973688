"""Footprint submitter SDK and wire protocol, contract `footprint.contract/1`.

One file, Python standard library + numpy only: copy it into your image. The protocol is
specified in docs/submission-contract.md; this module is its reference implementation,
used by the harness on the runner too.

    import footprint_sdk
    footprint_sdk.serve(lambda batch: my_model(batch).argmax(axis=1))
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

CONTRACT = "footprint.contract/1"
READY, REQUEST, REPLY, ERROR, SHUTDOWN = 1, 2, 3, 4, 5
FRAME_TYPES = {READY: "ready", REQUEST: "request", REPLY: "reply", ERROR: "error", SHUTDOWN: "shutdown"}
MAX_FRAME_BYTES = 64 * 1024 * 1024  # largest value of the length field
ALLOWED_DTYPES = ("<f4", "<f8", "<f2", "<i8", "<i4", "|u1")
_ITEMSIZE = {d: np.dtype(d).itemsize for d in ALLOWED_DTYPES}
MAX_NDIM = 8
DEFAULT_SOCKET = "/footprint/sock/serve.sock"
MAX_ERROR_TEXT_BYTES = 16 * 1024

_HEADER = struct.Struct(">IBQ")  # length, type, request id
_HEADER_AFTER_LENGTH = 9  # type + request id: counted by the length field
# Below this size one copy into a single buffer is cheaper than a second syscall.
_SMALL_PAYLOAD_BYTES = 64 * 1024

# After each reply the server polls its socket for the next request this long before it
# sleeps in recv(). A sleeping CPU's wake-up costs tens of microseconds on a virtual machine,
# as much as a small model's inference; the harness sends the next query within tens of
# microseconds, so during a latency run the server never sleeps. Bounded: an idle server
# (between phases, or waiting for a slow harness) sleeps after this much polling.
SERVE_SPIN_NS = 2_000_000


class ProtocolError(Exception):
    """A frame or an array that does not follow the contract; the message says how."""


# ---- arrays ------------------------------------------------------------------------------


# The latency path encodes and decodes arrays of a handful of (dtype, shape) pairs, ~10 us
# per round trip in all: their headers are parsed and validated once, then looked up.
_ENCODED_PREFIXES: dict[tuple[np.dtype, tuple[int, ...]], bytes] = {}
_DECODED_PREFIXES: dict[bytes, tuple[np.dtype, tuple[int, ...], int]] = {}
_MAX_CACHED_PREFIXES = 256


def _remember(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _MAX_CACHED_PREFIXES:
        cache.clear()  # a peer cycling through shapes must not grow memory without bound
    cache[key] = value


def _array_parts(a: Any) -> tuple[bytes, bytes | memoryview]:
    """The encoding of `a` as (prefix, data); large data is a view, not a copy."""
    a = np.asarray(a)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)  # keeps 0-d arrays 0-d, unlike calling it unconditionally
    prefix = _ENCODED_PREFIXES.get((a.dtype, a.shape))
    if prefix is None:
        dtype = a.dtype.str
        if dtype not in ALLOWED_DTYPES:
            raise ProtocolError(
                f"arrays of dtype {dtype!r} ({a.dtype}) cannot be sent; convert to one of {', '.join(ALLOWED_DTYPES)}"
            )
        if a.ndim > MAX_NDIM:
            raise ProtocolError(f"array has {a.ndim} dimensions; the contract allows at most {MAX_NDIM}")
        if any(d > 0xFFFFFFFF for d in a.shape):
            raise ProtocolError(f"array shape {a.shape} has a dimension above 2**32 - 1")
        prefix = struct.pack(f">B{len(dtype)}sB{a.ndim}I", len(dtype), dtype.encode(), a.ndim, *a.shape)
        _remember(_ENCODED_PREFIXES, (a.dtype, a.shape), prefix)
    if a.nbytes <= _SMALL_PAYLOAD_BYTES:
        return prefix, a.tobytes()  # copying a few bytes is cheaper than a memoryview
    return prefix, memoryview(a).cast("B")


def encode_array(a: Any) -> bytes:
    """Encode an array: dtype string, ndim, uint32 dimensions, data in C order."""
    prefix, data = _array_parts(a)
    return prefix + data


def _parse_prefix(buf: bytes | bytearray | memoryview, size: int) -> tuple[bytes, tuple]:
    n = buf[0]
    if size < 2 + n:
        raise ProtocolError(f"array payload of {size} bytes is cut inside its dtype string")
    try:
        dtype = bytes(buf[1 : 1 + n]).decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("array dtype string is not ASCII") from None
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"unknown dtype {dtype!r}; the contract allows {', '.join(ALLOWED_DTYPES)}")
    ndim = buf[1 + n]
    if ndim > MAX_NDIM:
        raise ProtocolError(f"array has ndim {ndim}; the contract allows at most {MAX_NDIM}")
    offset = 2 + n + 4 * ndim
    if size < offset:
        raise ProtocolError(f"array payload of {size} bytes is cut inside its {ndim} dimensions")
    shape = struct.unpack_from(f">{ndim}I", buf, 2 + n)
    count = 1
    for d in shape:
        count *= d
    return bytes(buf[:offset]), (np.dtype(dtype), shape, offset + count * _ITEMSIZE[dtype])


def decode_array(buf: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode exactly one array; the array shares `buf`'s memory (writable if `buf` is)."""
    if isinstance(buf, memoryview) and buf.format != "B":
        buf = buf.cast("B")
    size = len(buf)
    if size < 2:
        raise ProtocolError(f"array payload of {size} bytes is too short for a dtype string and ndim")
    n = buf[0]
    offset = 2 + n + 4 * buf[1 + n] if size > 1 + n else size + 1
    known = _DECODED_PREFIXES.get(bytes(buf[:offset])) if offset <= size else None
    if known is None:
        key, known = _parse_prefix(buf, size)
        _remember(_DECODED_PREFIXES, key, known)
    dtype, shape, expected = known
    if size != expected:
        kind = "trailing bytes after" if size > expected else "missing bytes of"
        raise ProtocolError(
            f"array of dtype {dtype.str!r} and shape {list(shape)} needs {expected} bytes, "
            f"the payload has {size} ({kind} the data)"
        )
    return np.ndarray(shape, dtype=dtype, buffer=buf, offset=offset)


# ---- frames ------------------------------------------------------------------------------


def send_frame(sock: socket.socket, frame_type: int, request_id: int, payload: bytes = b"") -> None:
    """Send one frame. `payload` is any bytes-like object."""
    _send(sock, frame_type, request_id, (payload,))


def send_array(sock: socket.socket, frame_type: int, request_id: int, a: Any) -> None:
    """Send one frame whose payload is an encoded array, without copying large data twice."""
    _send(sock, frame_type, request_id, _array_parts(a))


def _send(sock: socket.socket, frame_type: int, request_id: int, parts: tuple) -> None:
    size = sum(len(p) for p in parts)
    if size + _HEADER_AFTER_LENGTH > MAX_FRAME_BYTES:
        raise ProtocolError(f"payload of {size} bytes exceeds the frame limit of {MAX_FRAME_BYTES} bytes")
    header = _HEADER.pack(size + _HEADER_AFTER_LENGTH, frame_type, request_id)
    if size <= _SMALL_PAYLOAD_BYTES:
        sock.sendall(b"".join((header, *parts)))  # one syscall: the latency path
    else:
        sock.sendall(header)
        for part in parts:
            sock.sendall(part)


def _recv_rest(sock: socket.socket, buf: bytearray, got: int, what: str) -> None:
    """Fill `buf` after a first recv_into() returned `got` bytes (0 at a frame boundary)."""
    size = len(buf)
    if got == 0 and what == "header":
        raise EOFError("the peer closed the connection")
    view = memoryview(buf)
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise ConnectionError(f"the connection closed after {got} of {size} bytes of a frame's {what}")
        got += n


def poll_readable(poller: select.poll, spin_ns: int) -> bool:
    """Poll without sleeping until `poller`'s socket is readable or `spin_ns` have passed.

    True when it is readable (data, or the peer closed). Each empty poll yields the CPU
    (sched_yield), so that a peer sharing this CPU still runs: polling then costs a context
    switch per message instead of the rest of a time slice. The caller receives as usual
    afterwards, blocking when the poll gave up.
    """
    if poller.poll(0):
        return True
    clock, poll, yield_cpu = time.perf_counter_ns, poller.poll, os.sched_yield
    deadline = clock() + spin_ns
    while clock() < deadline:
        yield_cpu()
        if poll(0):
            return True
    return False


def readable_poller(sock: socket.socket) -> select.poll:
    """A poll object for `sock`'s incoming data, for poll_readable."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return poller


def _parse_header(header: bytes | bytearray | memoryview) -> tuple[int, int, int]:
    """(payload size, type, request id) of a valid 13-byte header; ProtocolError otherwise."""
    length, frame_type, request_id = _HEADER.unpack_from(header)
    if length < _HEADER_AFTER_LENGTH:
        raise ProtocolError(
            f"frame of {length} bytes is shorter than its header ({_HEADER_AFTER_LENGTH} bytes of type and request id)"
        )
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(
            f"frame length {length} exceeds the limit of {MAX_FRAME_BYTES} bytes "
            f"(header bytes {bytes(header[:4]).hex()}: is the peer speaking this protocol?)"
        )
    if frame_type not in FRAME_TYPES:
        raise ProtocolError(f"unknown frame type {frame_type}; expected 1 to 5")
    return length - _HEADER_AFTER_LENGTH, frame_type, request_id


def recv_frame(sock: socket.socket) -> tuple[int, int, bytearray]:
    """Receive one frame as (type, request id, payload), reading no byte past it.

    EOFError: the peer closed between frames. ConnectionError: it closed inside a frame.
    ProtocolError: the header is not valid. The payload is a fresh writable bytearray.
    """
    header = bytearray(_HEADER.size)
    got = sock.recv_into(header)
    if got < _HEADER.size:  # rare: a frame split across reads, or a closed connection
        _recv_rest(sock, header, got, "header")
    size, frame_type, request_id = _parse_header(header)
    payload = bytearray(size)
    if payload:
        got = sock.recv_into(payload)
        if got < len(payload):
            _recv_rest(sock, payload, got, "payload")
    return frame_type, request_id, payload


class FrameReader:
    """Receives the frames of one connection, usually with one recv() per frame.

    recv_frame() reads up to a buffer's worth at once, so that a small frame's header and
    payload come in one system call instead of two (each costs microseconds on the latency
    path); bytes of a following frame stay buffered for the next call. Before a blocking
    receive it polls for `spin_ns` (poll_readable). Same results and errors as recv_frame().
    """

    def __init__(self, sock: socket.socket, *, buffer_bytes: int = _SMALL_PAYLOAD_BYTES) -> None:
        self._sock = sock
        self._poller = readable_poller(sock)
        self._buf = bytearray(max(buffer_bytes, _HEADER.size))
        self._view = memoryview(self._buf)
        self._start = 0  # buffered, unread bytes: _buf[_start:_end]
        self._end = 0

    @property
    def poller(self) -> select.poll:
        """The poll object of this connection's incoming data (see poll_readable)."""
        return self._poller

    @property
    def buffered_bytes(self) -> int:
        """Bytes received and not yet returned as a frame (of a frame that came early)."""
        return self._end - self._start

    def recv_frame(self, *, spin_ns: int = 0, max_payload: int | None = None) -> tuple[int, int, bytearray]:
        """The next frame; with `max_payload`, a larger frame is refused from its header alone,
        before any of its payload is received or memory is set aside for it."""
        header_size = _HEADER.size
        if self._end - self._start < header_size:
            self._fill_header(spin_ns)
        start = self._start
        size, frame_type, request_id = _parse_header(self._view[start : start + header_size])
        if max_payload is not None and size > max_payload:
            raise ProtocolError(
                f"a {FRAME_TYPES[frame_type]} frame of {size} payload bytes, more than the {max_payload} "
                "it can need here"
            )
        begin = start + header_size
        buffered = self._end - begin
        if buffered >= size:  # the whole payload is here: the latency path
            payload = bytearray(self._view[begin : begin + size])
            self._start = begin + size
            if self._start == self._end:
                self._start = self._end = 0
            return frame_type, request_id, payload
        payload = bytearray(size)
        payload[:buffered] = self._view[begin : self._end]
        self._start = self._end = 0
        _recv_rest(self._sock, payload, buffered, "payload")  # large payloads bypass the buffer
        return frame_type, request_id, payload

    def _fill_header(self, spin_ns: int) -> None:
        """Receive until a whole header is buffered."""
        have = self._end - self._start
        if self._start:  # keep the partial header at the front: room for a whole frame after it
            self._buf[:have] = self._view[self._start : self._end]
            self._start, self._end = 0, have
        if have == 0 and spin_ns:
            poll_readable(self._poller, spin_ns)
        while self._end < _HEADER.size:
            n = self._sock.recv_into(self._view[self._end :])
            if n == 0:
                if self._end == 0:
                    raise EOFError("the peer closed the connection")
                raise ConnectionError(
                    f"the connection closed after {self._end} of {_HEADER.size} bytes of a frame's header"
                )
            self._end += n


# ---- server ------------------------------------------------------------------------------


def _error_text(text: str) -> bytes:
    return text.encode("utf-8", "replace")[:MAX_ERROR_TEXT_BYTES]


def serve(
    predict_fn: Callable[[np.ndarray], Any],
    *,
    socket_path: str | None = None,
    info: str | None = None,
    footprint: dict[str, int] | None = None,
) -> None:
    """Serve `predict_fn` to the harness until it shuts down or disconnects.

    `predict_fn` gets a batch `[B, *input.shape]` and returns class indices `[B]` or scores
    `[B, num_classes]`. If it raises, the harness receives the error text and this process
    exits with status 1: a broken model fails the run with its own message.

    `footprint` optionally declares the model's footprint figures, sent in the READY frame:
    any of `params_total`, `params_nonzero`, `flops_dense`, `flops_nonzero` (FLOPs = 2 x
    multiply-accumulates, one batch-1 forward pass), `artifact_bytes`, `artifact_gzip_bytes`;
    non-negative numbers. An own-runtime submission's figures are published as `declared`.

    Between requests this process polls its socket for up to SERVE_SPIN_NS (2 ms) after
    each reply, yielding the CPU between polls, and then sleeps in recv(): during a latency
    run its CPU stays busy, so that no query pays a sleeping CPU's wake-up.
    """
    if footprint is not None and not isinstance(footprint, dict):
        raise TypeError(f"footprint must be a dict of figures, not {type(footprint).__name__}")
    # Encoded before the socket exists: a figure JSON cannot carry fails here, with its name.
    ready_payload = json.dumps(
        {"contract": CONTRACT, "server": info or "footprint_sdk", **({"footprint": footprint} if footprint else {})},
        allow_nan=False,
    ).encode()
    path = socket_path or os.environ.get("FOOTPRINT_SOCKET") or DEFAULT_SOCKET
    if os.path.lexists(path):
        os.unlink(path)  # stale file from an earlier start: bind() would fail on it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    # The harness runs as another user than the container; the folder itself is private.
    os.chmod(path, 0o666)
    listener.listen(1)
    conn, _ = listener.accept()
    listener.close()
    with conn:
        send_frame(conn, READY, 0, ready_payload)
        reader = FrameReader(conn)
        while True:
            try:
                frame_type, request_id, payload = reader.recv_frame(spin_ns=SERVE_SPIN_NS)
            except (EOFError, ConnectionError):
                return  # the harness went away: nothing left to answer
            except ProtocolError as exc:
                _fail(conn, 0, f"the server received a malformed frame: {exc}")
            if frame_type == SHUTDOWN:
                return
            if frame_type != REQUEST:
                _fail(conn, request_id, f"the server expected a request, got a {FRAME_TYPES[frame_type]} frame")
            try:
                batch = decode_array(payload)
            except ProtocolError as exc:
                _fail(conn, request_id, f"the server received a malformed request: {exc}")
            try:
                result = np.asarray(predict_fn(batch))
            except Exception as exc:
                traceback.print_exc()
                _fail(conn, request_id, f"predict failed: {type(exc).__name__}: {exc}")
            try:
                send_array(conn, REPLY, request_id, result)
            except ProtocolError as exc:
                _fail(conn, request_id, f"predict returned a reply that cannot be sent: {exc}")


def _fail(conn: socket.socket, request_id: int, text: str) -> NoReturn:
    print(text, file=sys.stderr, flush=True)
    try:
        send_frame(conn, ERROR, request_id, _error_text(text))
    except OSError:
        pass  # the harness is gone; the exit status and the log still say why
    raise SystemExit(1)


# ---- compress helpers --------------------------------------------------------------------


def read_task(path: str = "/footprint/in/task.json") -> dict:
    """The task of the `compress` phase (see the contract for its fields)."""
    with open(path, encoding="utf-8") as f:
        task = json.load(f)
    if not isinstance(task, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return task


def write_method(name: str, *, out_dir: str = "/footprint/out", **fields: Any) -> str:
    """Write `method.json` (name and any other fields) and return its path."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("method.json needs a non-empty `name`")
    text = json.dumps({"name": name, **fields}, indent=2, allow_nan=False)
    if len(text.encode()) > 1024 * 1024:
        raise ValueError(f"method.json would be {len(text.encode())} bytes; the limit is 1 MiB")
    path = os.path.join(out_dir, "method.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return path


def threads() -> int:
    """How many threads the job gives this container (env FOOTPRINT_THREADS, default 1)."""
    raw = os.environ.get("FOOTPRINT_THREADS", "1")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"FOOTPRINT_THREADS={raw!r} is not an integer") from None
    if value < 1:
        raise ValueError(f"FOOTPRINT_THREADS={value} must be at least 1")
    return value
