"""Client side of the serve protocol: the harness owns the clock, the labels and the ids.

The server only sees inputs. Everything that comes back is hostile until checked: the
socket is opened without following links and only when the container's user owns it, a
reply frame larger than its batch can need is refused from its header, a byte that arrives
before its request was sent fails the run, and every reply is reduced to its predictions as
it arrives (nothing of it is kept). Nothing here knows about Docker: the job code starts the
server and hands this module a socket path and a way to tell whether the server still runs.
The order of the queries, their ids and what is timed are decided by the caller
(runners.schedule); this module times and checks what it is given.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import socket
import stat
import struct
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from runners import footprint_sdk as sdk
from runners.placement import reply_spin_for

_READY_POLL_S = 0.01
# A ready frame is a small JSON object (contract, server words, footprint figures).
READY_MAX_BYTES = 64 * 1024
# dtype string, ndim and up to eight uint32 dimensions: an array's header, generously.
_ARRAY_HEADER_MAX_BYTES = 64
_IDS_AT_ONCE = 4096
# The shared page of a server holds at most this much (docs/submission-contract.md).
PAGE_MAX_BYTES = 16 * 1024 * 1024


class HarnessError(Exception):
    """A failure of the server under test, with a stable `code` and a human `reason`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


def reply_limit_bytes(batch_size: int, num_classes: int) -> int:
    """The largest reply payload a batch can need: float64 scores [B, num_classes] with their
    header (an error frame's text may be up to MAX_ERROR_TEXT_BYTES)."""
    return max(_ARRAY_HEADER_MAX_BYTES + 8 * batch_size * max(1, num_classes), sdk.MAX_ERROR_TEXT_BYTES)


@dataclass(frozen=True)
class PageSize:
    """The slots of a shared page: the largest request and the largest reply it carries."""

    request_bytes: int
    reply_bytes: int


def page_size_for(
    input_shape: Sequence[int], input_dtype: str, *, batch_size: int, num_classes: int
) -> PageSize | None:
    """A page for requests of up to `batch_size` inputs and their replies, or of one input
    when that would exceed PAGE_MAX_BYTES; None when one does not fit either. Larger
    requests travel on the socket."""
    sample_bytes = int(np.prod(input_shape, dtype=np.int64)) * np.dtype(input_dtype).itemsize
    for batch in (max(batch_size, 1), 1):
        size = PageSize(_ARRAY_HEADER_MAX_BYTES + batch * sample_bytes, reply_limit_bytes(batch, num_classes))
        if size.request_bytes + size.reply_bytes <= PAGE_MAX_BYTES:
            return size
    return None


class RequestIds:
    """Request ids nobody can predict: 64-bit draws of a generator seeded from the OS."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        self._rng = rng if rng is not None else np.random.default_rng(secrets.randbits(128))
        self._ids: list[int] = []

    def next(self) -> int:
        if not self._ids:
            self._ids = self._rng.integers(1, 2**64 - 1, size=_IDS_AT_ONCE, dtype=np.uint64).tolist()
        return self._ids.pop()


def _open_socket_inode(folder_fd: int, name: str, expected_uid: int | None) -> int | None:
    """An O_PATH descriptor of the socket `name` in the folder, or None while there is none.

    Never follows a link: a container that plants one (to the Docker socket, to another
    job's server) fails the run. The descriptor pins the inode that was checked, and
    connect() goes through /proc/self/fd/N to that inode, so that nothing can be swapped in
    between the check and the connection.
    """
    try:
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISLNK(st.st_mode):
            raise HarnessError(
                "serve_socket_unsafe",
                f"{name} in the socket folder is a symbolic link, not a socket: the runner does not follow it",
            )
        if not stat.S_ISSOCK(st.st_mode):
            os.close(fd)
            return None  # a stale file the server has not replaced yet; a timeout says the rest
        if expected_uid is not None and st.st_uid != expected_uid:
            raise HarnessError(
                "serve_socket_unsafe",
                f"the socket {name} belongs to uid {st.st_uid}, not to the container's user ({expected_uid})",
            )
        return fd
    except BaseException:
        os.close(fd)
        raise


class ServeClient:
    """One connection to a server that follows the contract. Not thread-safe.

    With a shared page (`page`, the channel the server took at connect()), a request that
    fits its slot and its reply travel through the page; the socket still carries shutdown,
    errors, larger requests and wake frames (docs/submission-contract.md).
    """

    def __init__(
        self,
        sock: socket.socket,
        ready_info: dict,
        *,
        request_timeout_s: float = 30.0,
        reply_spin_ns: int | None = None,
        ids: RequestIds | None = None,
        page: sdk.SharedPage | None = None,
    ) -> None:
        self._sock = sock
        self._reader = sdk.FrameReader(sock)
        self._poll = self._reader.poller.poll
        self.ready_info = ready_info
        self.request_timeout_s = request_timeout_s
        # How long a request polls for its reply before sleeping (0: it sleeps at once).
        self.reply_spin_ns = reply_spin_for(sock) if reply_spin_ns is None else reply_spin_ns
        self._ids = ids or RequestIds()
        self._broken: HarnessError | None = None
        self._page = page
        # The reply slot's (id, length) as this client last read it: any change before the
        # next request is a reply that exists before its request.
        self._reply_seen = (0, 0)
        # Replies read from the page whose wake frame may still come (at most the last two:
        # the server sends a reply's wake before it reads the next request).
        self._late_wakes: deque[int] = deque(maxlen=2)
        # A time before the server's current polling window began (monotonic ns).
        self._server_polls_since_ns = 0

    @property
    def channel(self) -> str:
        """How requests travel: the shared-memory channel's name, or "socket"."""
        return sdk.SHM_CHANNEL if self._page is not None else "socket"

    @classmethod
    def connect(
        cls,
        socket_path: str,
        *,
        ready_timeout_s: float,
        is_alive: Callable[[], bool] | None = None,
        request_timeout_s: float = 30.0,
        reply_spin_ns: int | None = None,
        expected_uid: int | None = None,
        ids: RequestIds | None = None,
        page: PageSize | None = None,
    ) -> ServeClient:
        """Wait until a socket owned by `expected_uid` listens at `socket_path`, connect to it
        (within the ready timeout, also when the server never accepts) and read its ready frame.

        `reply_spin_ns`: see ServeClient; None chooses by placement (reply_spin_for).
        `page`: offer the shared-memory channel with these slots, when the server advertises
        it, this harness polls for replies (a page cannot be waited on asleep) and the CPU
        orders stores as the channel needs (x86-64); else requests travel on the socket.
        """
        deadline = time.monotonic() + ready_timeout_s
        folder, name = os.path.split(socket_path)
        folder_fd = os.open(folder or ".", os.O_PATH | os.O_DIRECTORY)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            last_error = "nothing listens on the socket"
            while True:
                if is_alive is not None and not is_alive():
                    raise HarnessError("serve_exited", "the server exited before it became ready")
                inode = _open_socket_inode(folder_fd, name, expected_uid)
                if inode is not None:
                    try:
                        sock.settimeout(max(0.001, min(1.0, deadline - time.monotonic())))
                        sock.connect(f"/proc/self/fd/{inode}")
                        break
                    # Not listening yet (or its backlog is full); PermissionError too: the SDK
                    # opens the socket's mode to other users just after bind().
                    except (ConnectionRefusedError, PermissionError, BlockingIOError, TimeoutError) as exc:
                        last_error = f"{type(exc).__name__}: {exc.strerror or 'no answer'}"
                    finally:
                        os.close(inode)
                if time.monotonic() >= deadline:
                    raise _not_ready(ready_timeout_s, f"last attempt to connect: {last_error}")
                time.sleep(_READY_POLL_S)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            reader = sdk.FrameReader(sock)
            frame_type, payload = _handshake_frame(
                reader,
                ready_timeout_s,
                silent="it accepted the connection but sent no ready frame",
                closed="before sending its ready frame",
                expected="a ready frame",
                after="its ready frame",
            )
            ready_info = _parse_ready(frame_type, payload)
            if reply_spin_ns is None:
                reply_spin_ns = reply_spin_for(sock)
            shared = None
            if page is not None and reply_spin_ns and channel_offered(ready_info):
                shared = _offer_page(sock, reader, page, ready_timeout_s)
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(folder_fd)
        sock.settimeout(None)
        return cls(
            sock, ready_info, request_timeout_s=request_timeout_s, reply_spin_ns=reply_spin_ns, ids=ids, page=shared
        )

    @property
    def request_timeout_s(self) -> float:
        return self._request_timeout_s

    @request_timeout_s.setter
    def request_timeout_s(self, value: float) -> None:
        # A kernel receive timeout instead of socket.settimeout(): the latter makes every
        # recv a poll() plus a recv(), one more syscall on a path that takes ~10 us.
        self._request_timeout_s = value
        seconds = int(value)
        micros = int((value - seconds) * 1_000_000)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds, micros))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(seconds, micros))

    # -- requests ------------------------------------------------------------------------

    def next_request_id(self) -> int:
        return self._ids.next()

    def ensure_quiet(self, request_id: int) -> None:
        """Fail unless nothing has arrived since the last reply: a byte that is there before
        request `request_id` is sent cannot be its answer (docs/measurement.md)."""
        if self._broken is not None:
            raise self._broken
        page = self._page
        if page is not None:
            slot = page.reply_header()
            if slot != self._reply_seen:
                self._fail(
                    "serve_reply_before_request",
                    f"the shared page's reply slot changed (id {slot[0]}, length {slot[1]}) after the last reply "
                    f"was read and before request {request_id} was sent: a reply cannot exist before its request",
                )
        # A late wake frame may arrive at any moment, also while this looks: each one that is
        # the next frame is dropped, and the socket looked at again.
        while self._reader.buffered_bytes or self._poll(0):
            if not self._drop_late_wake():
                self._fail_not_quiet(request_id)

    def _fail_not_quiet(self, request_id: int) -> NoReturn:
        waiting = self._reader.buffered_bytes
        try:
            waiting += len(self._sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            pass
        except OSError as exc:
            self._fail("serve_closed", f"the connection failed before request {request_id} was sent: {exc}")
        if waiting == 0:
            self._fail("serve_closed", f"the server closed the connection before request {request_id} was sent")
        self._fail(
            "serve_reply_before_request",
            f"{waiting} bytes from the server were waiting before request {request_id} was sent: a reply "
            "cannot exist before its request (the server sends replies ahead, or frames nobody asked for)",
        )

    def exchange(self, payload: bytes, request_id: int, *, max_reply_bytes: int) -> bytearray:
        """One round trip of an encoded batch (sdk.encode_array); returns the reply payload.

        The latency path: the caller checks ensure_quiet(), encodes the input and draws the
        id before starting its clock, and decodes the reply after stopping it, so that the
        clock covers what the server does and the transport, not the harness's bookkeeping.
        """
        page = self._page
        if page is not None:
            if len(payload) <= page.request_capacity:
                return self._exchange_on_page(page, payload, request_id, max_reply_bytes)
            self._server_polls_since_ns = time.monotonic_ns()
        self._send(sdk.REQUEST, request_id, payload)
        return self._await_reply(request_id, max_reply_bytes)

    def _exchange_on_page(
        self, page: sdk.SharedPage, payload: bytes, request_id: int, max_reply_bytes: int
    ) -> bytearray:
        clock = time.monotonic_ns
        sent_ns = clock()
        # The server sends a wake frame for a reply published after half this side's window.
        page.put_request(request_id, payload, sent_ns + self.reply_spin_ns // 2)
        # Decided from this side's clock after the request is in the page: the server polls
        # the page for SERVE_SPIN_NS from after its last reply, which came after the last
        # request was sent. Written within half that window, the request is seen by the
        # server's last look at the page; later, the server may sleep in recv().
        if clock() - self._server_polls_since_ns >= sdk.SERVE_SPIN_NS // 2:
            self._send(sdk.WAKE, request_id)
        self._server_polls_since_ns = sent_ns
        deadline_ns = sent_ns + self.reply_spin_ns
        seen_id = self._reply_seen[0]
        while True:
            if sdk.wait_for_word(page.words, sdk.PAGE_REPLY_ID, seen_id, self._reader, deadline_ns) == sdk.WORD_CHANGED:
                return self._take_page_reply(page, request_id, max_reply_bytes, woken=False)
            frame_type, frame_id, frame = self._recv_frame(request_id, max_reply_bytes, spin_ns=0)
            if frame_type == sdk.WAKE and frame_id == request_id:
                if page.words[sdk.PAGE_REPLY_ID] == seen_id:
                    self._fail(
                        "serve_protocol_error",
                        f"the server sent a wake frame for its reply to request {request_id}, "
                        "but the shared page's reply slot holds no new reply",
                    )
                return self._take_page_reply(page, request_id, max_reply_bytes, woken=True)
            if frame_type == sdk.REPLY and frame_id == request_id:
                return frame  # too large for the page's reply slot: on the socket
            self._unexpected(request_id, frame_type, frame_id, frame)

    def _take_page_reply(
        self, page: sdk.SharedPage, request_id: int, max_reply_bytes: int, *, woken: bool
    ) -> bytearray:
        reply_id = page.words[sdk.PAGE_REPLY_ID]
        if reply_id != request_id:
            self._fail(
                "serve_protocol_error",
                f"the shared page's reply slot names request {reply_id} while request {request_id} is out "
                "(the server wrote something other than its reply there)",
            )
        try:
            payload = page.take_reply(max_reply_bytes)
        except sdk.ProtocolError as exc:
            self._fail("serve_protocol_error", f"while waiting for the reply to request {request_id}: {exc}")
        self._reply_seen = (reply_id, len(payload))
        if not woken:
            self._late_wakes.append(reply_id)
        return payload

    def _drop_late_wake(self) -> bool:
        """Take the next frame off the socket if it is the wake frame of a reply already read
        from the page; False (nothing taken) for anything else, which ensure_quiet judges."""
        if not self._late_wakes:
            return False
        header = self._reader.peek_header()
        if header is None:
            return False
        size, frame_type, frame_id = header
        if frame_type != sdk.WAKE or size or frame_id not in self._late_wakes:
            return False
        self._reader.recv_frame()
        self._late_wakes.remove(frame_id)
        return True

    def _send(self, frame_type: int, request_id: int, payload: bytes = b"") -> None:
        try:
            sdk.send_frame(self._sock, frame_type, request_id, payload)
        except BlockingIOError:
            self._fail("serve_timeout", f"the server took no request data for {self.request_timeout_s:g} s")
        except (ConnectionError, EOFError) as exc:
            self._fail("serve_closed", f"the connection closed while sending request {request_id}: {exc}")

    def predict(self, batch: np.ndarray, *, num_classes: int | None = None) -> np.ndarray:
        """Send one batch (untimed) and return the reply array, its size bounded by what the
        batch can need (`num_classes`; without it only by the protocol's frame limit)."""
        request_id = self.next_request_id()
        self.ensure_quiet(request_id)
        payload = sdk.encode_array(batch)  # a ProtocolError here is the caller's (an input dtype)
        limit = reply_limit_bytes(len(batch), num_classes) if num_classes else sdk.MAX_FRAME_BYTES
        raw = self.exchange(payload, request_id, max_reply_bytes=limit)
        return self.decode_reply(request_id, raw)

    def decode_reply(self, request_id: int, payload: bytearray) -> np.ndarray:
        """The reply array of a payload that exchange() returned for `request_id`."""
        try:
            return sdk.decode_array(payload)
        except sdk.ProtocolError as exc:
            self._fail("serve_protocol_error", f"the reply to request {request_id} is malformed: {exc}")

    def _await_reply(self, request_id: int, max_reply_bytes: int) -> bytearray:
        """The payload of the reply frame to `request_id`; any other frame fails the client."""
        while True:
            frame_type, reply_id, payload = self._recv_frame(request_id, max_reply_bytes, spin_ns=self.reply_spin_ns)
            if frame_type == sdk.REPLY and reply_id == request_id:
                return payload
            self._unexpected(request_id, frame_type, reply_id, payload)

    def _recv_frame(self, request_id: int, max_reply_bytes: int, *, spin_ns: int) -> tuple[int, int, bytearray]:
        try:
            return self._reader.recv_frame(spin_ns=spin_ns, max_payload=max_reply_bytes)
        except BlockingIOError:  # SO_RCVTIMEO expired
            self._fail(
                "serve_timeout", f"the server did not answer request {request_id} within {self.request_timeout_s:g} s"
            )
        except (EOFError, ConnectionError) as exc:
            self._fail("serve_closed", f"the connection closed while waiting for request {request_id}: {exc}")
        except sdk.ProtocolError as exc:
            self._fail("serve_protocol_error", f"while waiting for the reply to request {request_id}: {exc}")

    def _unexpected(self, request_id: int, frame_type: int, frame_id: int, payload: bytearray) -> None:
        """A frame other than the reply to `request_id`: a late wake frame of a reply read
        from the page is dropped; anything else fails the client."""
        if frame_type == sdk.WAKE and frame_id in self._late_wakes:
            self._late_wakes.remove(frame_id)
            return
        if frame_type == sdk.ERROR:
            # Bounded: the text ends up in a result document and on a web page.
            text = bytes(payload[: sdk.MAX_ERROR_TEXT_BYTES]).decode("utf-8", "replace")
            self._fail("serve_error", f"the server reported an error: {text}")
        self._fail(
            "serve_protocol_error",
            f"expected a reply to request {request_id}, got a {sdk.FRAME_TYPES[frame_type]} frame "
            f"for request {frame_id}",
        )

    def _fail(self, code: str, reason: str) -> NoReturn:
        # After any failure the stream position is unknown: refuse further requests.
        self._broken = HarnessError(code, reason)
        raise self._broken

    def shutdown(self) -> None:
        """Ask the server to exit (status 0) and close the connection."""
        try:
            if self._broken is None:
                sdk.send_frame(self._sock, sdk.SHUTDOWN, 0)
        except OSError:
            pass  # the server is already gone; its exit status tells the rest
        finally:
            self.close()

    def close(self) -> None:
        self._sock.close()
        if self._page is not None:
            self._page.close()
            self._page = None

    def __enter__(self) -> ServeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _not_ready(timeout_s: float, detail: str) -> HarnessError:
    return HarnessError(
        "serve_not_ready",
        f"the server did not become ready within {timeout_s:g} s: {detail} "
        f"(it must listen on FOOTPRINT_SOCKET and send a ready frame)",
    )


def _handshake_frame(
    reader: sdk.FrameReader, timeout_s: float, *, silent: str, closed: str, expected: str, after: str
) -> tuple[int, bytearray]:
    """(type, payload) of a frame of the connection's start (the ready frame, the channel
    answer), read within the socket's timeout; nothing may follow it before a request. The
    words say what was awaited: `silent` when nothing came, `closed` how the server went
    away, `expected` what a malformed frame stood instead of, `after` what bytes followed."""
    try:
        frame_type, _, payload = reader.recv_frame(max_payload=READY_MAX_BYTES)
    except TimeoutError:
        raise _not_ready(timeout_s, silent) from None
    except (EOFError, ConnectionError):
        raise HarnessError("serve_closed", f"the server closed the connection {closed}") from None
    except sdk.ProtocolError as exc:
        raise HarnessError("serve_protocol_error", f"instead of {expected}: {exc}") from None
    if reader.buffered_bytes:
        raise HarnessError(
            "serve_reply_before_request",
            f"the server sent {reader.buffered_bytes} bytes after {after} before any request: "
            "a reply cannot exist before its request",
        )
    return frame_type, payload


def channel_offered(ready_info: dict) -> bool:
    """Whether the ready frame advertises the shared-memory channel and this CPU can use it."""
    channels = ready_info.get("channels")
    return isinstance(channels, list) and sdk.SHM_CHANNEL in channels and sdk.channel_supported()


def _offer_page(
    sock: socket.socket, reader: sdk.FrameReader, size: PageSize, timeout_s: float
) -> sdk.SharedPage | None:
    """Pass the server a sealed page and read its answer (within the socket's timeout); the
    page when it took it, None when it declined."""
    page, fd = sdk.SharedPage.create(size.request_bytes, size.reply_bytes)
    try:
        try:
            sdk.send_frame_with_fds(sock, sdk.CHANNEL, 0, json.dumps({"channel": sdk.SHM_CHANNEL}).encode(), [fd])
        finally:
            os.close(fd)  # the server holds its own now; the page stays mapped here
        frame_type, payload = _handshake_frame(
            reader,
            timeout_s,
            silent="it did not answer the offer of the shared-memory channel",
            closed="instead of answering the channel offer",
            expected="an answer to the channel offer",
            after="its channel answer",
        )
        if frame_type != sdk.CHANNEL:
            raise HarnessError(
                "serve_protocol_error",
                f"the server answered the channel offer with a {sdk.FRAME_TYPES[frame_type]} frame",
            )
        try:
            answer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise HarnessError("serve_protocol_error", f"the channel answer is not UTF-8 JSON: {exc}") from None
        if not (isinstance(answer, dict) and answer.get("accepted") is True):
            page.close()
            return None
    except BaseException:
        page.close()
        raise
    return page


def _timeval(seconds: int, micros: int) -> bytes:
    return struct.pack("@ll", seconds, micros)


def _parse_ready(frame_type: int, payload: bytearray) -> dict:
    if frame_type != sdk.READY:
        raise HarnessError(
            "serve_protocol_error",
            f"the server's first frame must be ready (type 1), got {sdk.FRAME_TYPES[frame_type]}",
        )
    try:
        info = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HarnessError("serve_protocol_error", f"the ready frame is not UTF-8 JSON: {exc}") from None
    if not isinstance(info, dict):
        raise HarnessError("serve_protocol_error", "the ready frame must hold a JSON object")
    if info.get("contract") != sdk.CONTRACT:
        raise HarnessError(
            "serve_protocol_error",
            f"the server speaks contract {str(info.get('contract'))[:80]!r}; this runner speaks {sdk.CONTRACT!r}",
        )
    return info


# ---- replies -----------------------------------------------------------------------------


def predictions_from_reply(reply: np.ndarray, batch_size: int, num_classes: int) -> np.ndarray:
    """Class indices (int64, `[B]`) from a reply of indices `[B]` or scores `[B, num_classes]`."""
    kind = reply.dtype.kind
    if reply.ndim == 1 and kind in "iu" and reply.shape[0] == batch_size:
        predictions = reply.astype(np.int64, copy=False)
        if predictions.size and (predictions.min() < 0 or predictions.max() >= num_classes):
            bad = predictions[(predictions < 0) | (predictions >= num_classes)][0]
            raise HarnessError("serve_bad_reply", f"the reply holds class index {bad}, outside [0, {num_classes})")
        return predictions
    if reply.ndim == 2 and kind == "f" and reply.shape == (batch_size, num_classes):
        return reply.argmax(axis=1).astype(np.int64, copy=False)
    raise HarnessError(
        "serve_bad_reply",
        f"for a batch of {batch_size} the reply must be class indices of shape [{batch_size}] "
        f"(integer dtype) or scores of shape [{batch_size}, {num_classes}] (float dtype); "
        f"got shape {list(reply.shape)} of dtype {reply.dtype}",
    )


@dataclass(frozen=True)
class AccuracyResult:
    accuracy: float
    predictions: np.ndarray  # int64, one per test sample, in the split's order


def measure_accuracy(
    client: ServeClient, x: np.ndarray, y: np.ndarray, *, batch_size: int, num_classes: int
) -> AccuracyResult:
    """Accuracy over the whole split `x`, `y`, sent in batches of `batch_size`."""
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"need a non-empty split with one label per input; got {len(x)} inputs, {len(y)} labels")
    parts = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        parts.append(predictions_from_reply(client.predict(batch, num_classes=num_classes), len(batch), num_classes))
    predictions = np.concatenate(parts)
    return AccuracyResult(accuracy=float(np.mean(predictions == y)), predictions=predictions)


# ---- timed queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    """One timed run: a latency per query (ns) and the prediction of each reply."""

    ns: np.ndarray  # int64
    predictions: np.ndarray  # int64, [queries, batch]


def untimed(client: ServeClient, inputs: Sequence[np.ndarray], *, num_classes: int) -> None:
    """Send each input and check its reply's form (warm-up; the bridge before a block)."""
    for batch in inputs:
        predictions_from_reply(client.predict(batch, num_classes=num_classes), len(batch), num_classes)


def time_queries(client: ServeClient, inputs: Sequence[np.ndarray], *, num_classes: int) -> Timed:
    """Send `inputs` one at a time, each timed from its encoded bytes leaving to its whole reply
    being in; each reply is reduced to its predictions once the clock stopped.

    Every input is encoded, its id drawn and the connection checked quiet before the clock
    starts (as MLPerf LoadGen loads samples outside the timed section).
    """
    count = len(inputs)
    batch = len(inputs[0]) if count else 1
    ns = np.empty(count, dtype=np.int64)
    predictions = np.empty((count, batch), dtype=np.int64)
    limit = reply_limit_bytes(batch, num_classes)
    encode, exchange, decode, quiet = sdk.encode_array, client.exchange, client.decode_reply, client.ensure_quiet
    next_id, clock = client.next_request_id, time.perf_counter_ns
    # No garbage collection pause inside a timed query (as timeit does); once after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for k in range(count):
            request_id = next_id()
            payload = encode(inputs[k])
            quiet(request_id)
            t0 = clock()
            raw = exchange(payload, request_id, max_reply_bytes=limit)
            t1 = clock()
            ns[k] = t1 - t0
            predictions[k] = predictions_from_reply(decode(request_id, raw), batch, num_classes)
    finally:
        if collecting:
            gc.enable()
    return Timed(ns=ns, predictions=predictions)
