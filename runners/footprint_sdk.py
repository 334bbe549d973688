"""Footprint submitter SDK and wire protocol, contract `footprint.contract/1`.

One file, Python standard library + numpy only: copy it into your image. The protocol is
specified in docs/submission-contract.md; this module is its reference implementation,
used by the harness on the runner too.

    import footprint_sdk
    footprint_sdk.serve(lambda batch: my_model(batch).argmax(axis=1))
"""

from __future__ import annotations

import array
import fcntl
import json
import mmap
import os
import platform
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
READY, REQUEST, REPLY, ERROR, SHUTDOWN, CHANNEL, WAKE = 1, 2, 3, 4, 5, 6, 7
FRAME_TYPES = {
    READY: "ready",
    REQUEST: "request",
    REPLY: "reply",
    ERROR: "error",
    SHUTDOWN: "shutdown",
    CHANNEL: "channel",
    WAKE: "wake",
}
MAX_FRAME_BYTES = 64 * 1024 * 1024  # largest value of the length field
ALLOWED_DTYPES = ("<f4", "<f8", "<f2", "<i8", "<i4", "|u1")
_ITEMSIZE = {d: np.dtype(d).itemsize for d in ALLOWED_DTYPES}
MAX_NDIM = 8
DEFAULT_SOCKET = "/footprint/sock/serve.sock"
MAX_ERROR_TEXT_BYTES = 16 * 1024

_HEADER = struct.Struct(">IBQ")  # length, type, request id
_FD = array.array("i")  # a file descriptor as SCM_RIGHTS carries it
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
        raise ProtocolError(f"unknown frame type {frame_type}; expected 1 to {len(FRAME_TYPES)}")
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

    With `max_fds`, the first frame may carry up to that many file descriptors (SCM_RIGHTS,
    the shared-memory channel's offer); take_fds() hands them over. Later frames are
    received without ancillary data, as a descriptor sent with them is closed by the kernel.
    """

    def __init__(self, sock: socket.socket, *, buffer_bytes: int = _SMALL_PAYLOAD_BYTES, max_fds: int = 0) -> None:
        self._sock = sock
        self._poller = readable_poller(sock)
        self._buf = bytearray(max(buffer_bytes, _HEADER.size))
        self._view = memoryview(self._buf)
        self._start = 0  # buffered, unread bytes: _buf[_start:_end]
        self._end = 0
        self._max_fds = max_fds
        self._fds: list[int] = []

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
        self._max_fds = 0  # descriptors come with the first frame only
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
            n = self._recv_into(self._view[self._end :])
            if n == 0:
                if self._end == 0:
                    raise EOFError("the peer closed the connection")
                raise ConnectionError(
                    f"the connection closed after {self._end} of {_HEADER.size} bytes of a frame's header"
                )
            self._end += n

    def _recv_into(self, view: memoryview) -> int:
        if not self._max_fds:
            return self._sock.recv_into(view)
        size, ancillary, _, _ = self._sock.recvmsg_into([view], socket.CMSG_SPACE(self._max_fds * _FD.itemsize))
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array(_FD.typecode)
                fds.frombytes(data[: len(data) - len(data) % _FD.itemsize])
                self._fds.extend(fds)
        return size

    def take_fds(self) -> list[int]:
        """The descriptors that came with the first frame (the caller closes them)."""
        fds, self._fds = self._fds, []
        return fds

    def peek_header(self) -> tuple[int, int, int] | None:
        """(payload size, type, request id) of the next frame when its whole header is here,
        without taking it and without waiting; None otherwise, or when the header is not
        valid (recv_frame() then says why)."""
        buffered = self._end - self._start
        if buffered >= _HEADER.size:
            head: bytes | memoryview = self._view[self._start : self._start + _HEADER.size]
        elif buffered:
            return None
        else:
            try:
                head = self._sock.recv(_HEADER.size, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except OSError:
                return None
            if len(head) < _HEADER.size:
                return None
        try:
            return _parse_header(head)
        except ProtocolError:
            return None


# ---- shared-memory channel ---------------------------------------------------------------
#
# docs/submission-contract.md, "The shared-memory channel". The harness creates a memory
# file, seals it against shrinking and growing, and passes it in a channel frame; after that
# a request whose bytes fit its slot travels through the page instead of the socket, and its
# reply back. The page is an array of native 64-bit words followed by two byte slots:
#
#   word 0 magic, 1 request slot bytes, 2 reply slot bytes        written by the harness first
#   word 8 request id, 9 request length, 10 notify-after (ns)     the harness's cache line
#   word 16 reply id, 17 reply length                             the server's cache line
#   byte PAGE_REQUEST_DATA: the request slot; then, 64-aligned, the reply slot
#
# Each side writes the payload and its length, then the id word; the other reads the id
# word, then the length, then the payload. x86 keeps stores in order and loads in order
# (TSO), which is why the channel is offered there only. An id word is one aligned 8-byte
# store (memoryview "Q" items); a reader copies a payload once and checks the copy.

SHM_CHANNEL = "shm/1"
PAGE_MAGIC = int.from_bytes(b"FPSHM\x001\x00", "little")
PAGE_MAGIC_WORD, PAGE_REQUEST_CAPACITY, PAGE_REPLY_CAPACITY = 0, 1, 2
PAGE_REQUEST_ID, PAGE_REQUEST_LENGTH, PAGE_NOTIFY_AFTER_NS = 8, 9, 10
PAGE_REPLY_ID, PAGE_REPLY_LENGTH = 16, 17
PAGE_REQUEST_DATA = 192
_CACHE_LINE = 64
PAGE_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
# Word checks between two looks at the socket while waiting on the page: a look (poll and
# yield, ~2 us here) is kept off the path of most page messages, and a socket frame (a
# shutdown, an error, a request too large for the page) still waits only microseconds.
_PAGE_CHECKS = 256
WORD_CHANGED, SOCKET_READABLE, WAIT_OVER = 1, 2, 0


def channel_supported() -> bool:
    """Whether this machine orders a page's stores as the channel needs (x86-64 only)."""
    return platform.machine() in ("x86_64", "AMD64")


def _reply_data_offset(request_capacity: int) -> int:
    return -(-(PAGE_REQUEST_DATA + request_capacity) // _CACHE_LINE) * _CACHE_LINE


def page_bytes(request_capacity: int, reply_capacity: int) -> int:
    """The size of a page with these slots, in whole memory pages."""
    size = _reply_data_offset(request_capacity) + reply_capacity
    return -(-size // mmap.PAGESIZE) * mmap.PAGESIZE


class SharedPage:
    """The shared-memory channel's page, mapped. The harness creates it (create); the server
    maps the descriptor it was passed (attach). Capacities are each side's own copies: what
    the other side writes in the page is never used as a bound."""

    def __init__(self, mm: mmap.mmap, request_capacity: int, reply_capacity: int) -> None:
        self._mm = mm
        self._view = memoryview(mm)
        self.words = self._view.cast("Q")
        self.request_capacity = request_capacity
        self.reply_capacity = reply_capacity
        self._reply_data = _reply_data_offset(request_capacity)

    @classmethod
    def create(cls, request_capacity: int, reply_capacity: int) -> tuple[SharedPage, int]:
        """A new page and its descriptor, sealed so that nobody can shrink or grow it (a
        mapped file that shrinks kills its reader with SIGBUS) nor change its seals."""
        size = page_bytes(request_capacity, reply_capacity)
        fd = os.memfd_create("footprint-serve", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(fd, size)
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, PAGE_SEALS)
            if fcntl.fcntl(fd, fcntl.F_GET_SEALS) & PAGE_SEALS != PAGE_SEALS:
                raise OSError("the shared page's seals did not take")
            page = cls(mmap.mmap(fd, size), request_capacity, reply_capacity)
        except BaseException:
            os.close(fd)
            raise
        page.words[PAGE_REQUEST_CAPACITY] = request_capacity
        page.words[PAGE_REPLY_CAPACITY] = reply_capacity
        page.words[PAGE_MAGIC_WORD] = PAGE_MAGIC
        return page, fd

    @classmethod
    def attach(cls, fd: int) -> SharedPage:
        """Map a page the harness passed; ProtocolError when it is not one."""
        size = os.fstat(fd).st_size
        if size < PAGE_REQUEST_DATA or size % 8:
            raise ProtocolError(f"the shared page of {size} bytes is too small or not whole words")
        mm = mmap.mmap(fd, size)
        words = memoryview(mm).cast("Q")
        magic, request_capacity, reply_capacity = (
            words[PAGE_MAGIC_WORD],
            words[PAGE_REQUEST_CAPACITY],
            words[PAGE_REPLY_CAPACITY],
        )
        words.release()
        if magic != PAGE_MAGIC or _reply_data_offset(request_capacity) + reply_capacity > size:
            mm.close()
            raise ProtocolError("the shared page does not follow the channel's layout")
        return cls(mm, request_capacity, reply_capacity)

    # -- the harness's side

    def put_request(self, request_id: int, payload: bytes, notify_after_ns: int) -> None:
        """Write a request (at most request_capacity bytes) and publish its id last."""
        size = len(payload)
        self._view[PAGE_REQUEST_DATA : PAGE_REQUEST_DATA + size] = payload
        words = self.words
        words[PAGE_REQUEST_LENGTH] = size
        words[PAGE_NOTIFY_AFTER_NS] = notify_after_ns
        words[PAGE_REQUEST_ID] = request_id

    def reply_header(self) -> tuple[int, int]:
        """(id, length) of the reply slot as it is now."""
        return self.words[PAGE_REPLY_ID], self.words[PAGE_REPLY_LENGTH]

    def take_reply(self, max_bytes: int) -> bytearray:
        """A copy of the reply slot's payload; its length is read once and checked against
        `max_bytes` and the slot before a byte is copied (ProtocolError)."""
        size = self.words[PAGE_REPLY_LENGTH]
        limit = min(max_bytes, self.reply_capacity)
        if size > limit:
            raise ProtocolError(
                f"a reply of {size} payload bytes in the shared page, more than the {limit} it can need here"
            )
        start = self._reply_data
        return bytearray(self._view[start : start + size])

    # -- the server's side

    def take_request(self) -> tuple[int, bytearray, int]:
        """(id, a copy of the payload, notify-after ns) of the request in the page."""
        words = self.words
        request_id, size, notify_after_ns = (
            words[PAGE_REQUEST_ID],
            words[PAGE_REQUEST_LENGTH],
            words[PAGE_NOTIFY_AFTER_NS],
        )
        if size > self.request_capacity:
            raise ProtocolError(f"a request of {size} bytes in a slot of {self.request_capacity}")
        return request_id, bytearray(self._view[PAGE_REQUEST_DATA : PAGE_REQUEST_DATA + size]), notify_after_ns

    def put_reply(self, request_id: int, parts: tuple) -> bool:
        """Write a reply and publish its id last; False (nothing written) when it does not fit."""
        size = sum(len(p) for p in parts)
        if size > self.reply_capacity:
            return False
        offset = self._reply_data
        view = self._view
        for part in parts:
            view[offset : offset + len(part)] = part
            offset += len(part)
        words = self.words
        words[PAGE_REPLY_LENGTH] = size
        words[PAGE_REPLY_ID] = request_id
        return True

    def close(self) -> None:
        self.words.release()
        self._view.release()
        self._mm.close()


def wait_for_word(words: memoryview, index: int, old: int, reader: FrameReader, deadline_ns: int) -> int:
    """Spin until `words[index]` differs from `old` (WORD_CHANGED), a frame is waiting on the
    reader's socket (SOCKET_READABLE), or time.monotonic_ns() passed `deadline_ns` (WAIT_OVER).

    The word is looked at once more after the deadline has passed: a peer that decides from
    its own clock whether to send a wake frame (it wrote before half the window was over, so
    this side still looks) relies on it. The CPU is yielded at each look at the socket.
    """
    if reader.buffered_bytes:
        return SOCKET_READABLE
    poll, clock, yield_cpu, checks = reader.poller.poll, time.monotonic_ns, os.sched_yield, range(_PAGE_CHECKS)
    while True:
        for _ in checks:
            if words[index] != old:
                return WORD_CHANGED
        if poll(0):
            return SOCKET_READABLE
        if clock() >= deadline_ns:
            return WORD_CHANGED if words[index] != old else WAIT_OVER
        yield_cpu()


def send_frame_with_fds(sock: socket.socket, frame_type: int, request_id: int, payload: bytes, fds: list[int]) -> None:
    """Send one small frame with file descriptors attached to its first byte (SCM_RIGHTS)."""
    frame = _HEADER.pack(len(payload) + _HEADER_AFTER_LENGTH, frame_type, request_id) + payload
    sent = socket.send_fds(sock, [frame], fds)
    if sent < len(frame):
        sock.sendall(frame[sent:])


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
    run its CPU stays busy, so that no query pays a sleeping CPU's wake-up. On x86-64 it
    offers the harness the shared-memory channel (docs/submission-contract.md); once taken,
    it polls the shared page the same way, and the socket now and then.
    """
    if footprint is not None and not isinstance(footprint, dict):
        raise TypeError(f"footprint must be a dict of figures, not {type(footprint).__name__}")
    # Encoded before the socket exists: a figure JSON cannot carry fails here, with its name.
    ready_payload = json.dumps(
        {
            "contract": CONTRACT,
            "server": info or "footprint_sdk",
            **({"footprint": footprint} if footprint else {}),
            **({"channels": [SHM_CHANNEL]} if channel_supported() else {}),
        },
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
        _answer_requests(conn, predict_fn)


def _answer_requests(conn: socket.socket, predict_fn: Callable[[np.ndarray], Any]) -> None:
    """Answer the harness's requests, through the shared page once it offered one, until it
    shuts down or goes away."""
    reader = FrameReader(conn, max_fds=1)
    page: SharedPage | None = None
    last_id = 0  # of the last request taken from the page
    while True:
        if page is not None:
            # The page first, for SERVE_SPIN_NS; then asleep in recv() until a frame comes
            # (a wake frame: the harness wrote to the page after the window it counts on).
            if (
                wait_for_word(page.words, PAGE_REQUEST_ID, last_id, reader, time.monotonic_ns() + SERVE_SPIN_NS)
                == WORD_CHANGED
            ):
                last_id = _answer_from_page(conn, page, predict_fn)
                continue
        try:
            frame_type, request_id, payload = reader.recv_frame(spin_ns=0 if page else SERVE_SPIN_NS)
        except (EOFError, ConnectionError):
            return  # the harness went away: nothing left to answer
        except ProtocolError as exc:
            _fail(conn, 0, f"the server received a malformed frame: {exc}")
        if frame_type == REQUEST:
            result = _predict(conn, predict_fn, request_id, payload)
            _send_reply(conn, request_id, result, None)
        elif frame_type == SHUTDOWN:
            return
        elif frame_type == WAKE:
            continue  # the page holds a request (or held one this loop took already)
        elif frame_type == CHANNEL and page is None:
            page = _accept_channel(conn, payload, reader.take_fds())
        else:
            _fail(conn, request_id, f"the server expected a request, got a {FRAME_TYPES[frame_type]} frame")


def _answer_from_page(conn: socket.socket, page: SharedPage, predict_fn: Callable[[np.ndarray], Any]) -> int:
    """Answer the request in the page; its id."""
    try:
        request_id, payload, notify_after_ns = page.take_request()
    except ProtocolError as exc:
        _fail(conn, 0, f"the server received a malformed request: {exc}")
    result = _predict(conn, predict_fn, request_id, payload)
    # Past notify-after the harness may have stopped polling the page and sleep on the
    # socket. The clock is read after the reply was published: a reply published before
    # that time is seen by the harness's last look at the page.
    if _send_reply(conn, request_id, result, page) and time.monotonic_ns() >= notify_after_ns:
        send_frame(conn, WAKE, request_id)
    return request_id


def _predict(
    conn: socket.socket, predict_fn: Callable[[np.ndarray], Any], request_id: int, payload: bytearray
) -> np.ndarray:
    try:
        batch = decode_array(payload)
    except ProtocolError as exc:
        _fail(conn, request_id, f"the server received a malformed request: {exc}")
    try:
        return np.asarray(predict_fn(batch))
    except Exception as exc:
        traceback.print_exc()
        _fail(conn, request_id, f"predict failed: {type(exc).__name__}: {exc}")


def _send_reply(conn: socket.socket, request_id: int, result: np.ndarray, page: SharedPage | None) -> bool:
    """The reply in the page when there is one and it fits its slot (True), else on the socket."""
    try:
        parts = _array_parts(result)
        if page is not None and page.put_reply(request_id, parts):
            return True
        _send(conn, REPLY, request_id, parts)
        return False
    except ProtocolError as exc:
        _fail(conn, request_id, f"predict returned a reply that cannot be sent: {exc}")


def _accept_channel(conn: socket.socket, payload: bytearray, fds: list[int]) -> SharedPage | None:
    """Map the page the harness offers and say whether this server takes it."""
    page, reason = None, ""
    try:
        offer = json.loads(payload.decode("utf-8"))
        if not isinstance(offer, dict) or offer.get("channel") != SHM_CHANNEL or len(fds) != 1:
            reason = f"expected an offer of {SHM_CHANNEL} with one descriptor"
        elif not channel_supported():
            reason = f"the channel needs x86-64, this is {platform.machine()}"
        else:
            page = SharedPage.attach(fds[0])
    except (UnicodeDecodeError, ValueError, OSError, ProtocolError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    finally:
        for fd in fds:
            os.close(fd)  # a mapping outlives its descriptor
    answer = {"channel": SHM_CHANNEL, "accepted": page is not None, **({"reason": reason} if reason else {})}
    send_frame(conn, CHANNEL, 0, json.dumps(answer).encode())
    return page


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
