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
    """One connection to a server that follows the contract. Not thread-safe."""

    def __init__(
        self,
        sock: socket.socket,
        ready_info: dict,
        *,
        request_timeout_s: float = 30.0,
        reply_spin_ns: int | None = None,
        ids: RequestIds | None = None,
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
    ) -> ServeClient:
        """Wait until a socket owned by `expected_uid` listens at `socket_path`, connect to it
        (within the ready timeout, also when the server never accepts) and read its ready frame.

        `reply_spin_ns`: see ServeClient; None chooses by placement (reply_spin_for).
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
            try:
                frame_type, _, payload = reader.recv_frame(max_payload=READY_MAX_BYTES)
            except TimeoutError:
                raise _not_ready(ready_timeout_s, "it accepted the connection but sent no ready frame") from None
            except (EOFError, ConnectionError):
                raise HarnessError(
                    "serve_closed", "the server closed the connection before sending its ready frame"
                ) from None
            except sdk.ProtocolError as exc:
                raise HarnessError("serve_protocol_error", f"instead of a ready frame: {exc}") from None
            if reader.buffered_bytes:
                raise HarnessError(
                    "serve_reply_before_request",
                    f"the server sent {reader.buffered_bytes} bytes after its ready frame before any request: "
                    "a reply cannot exist before its request",
                )
            ready_info = _parse_ready(frame_type, payload)
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(folder_fd)
        sock.settimeout(None)
        return cls(sock, ready_info, request_timeout_s=request_timeout_s, reply_spin_ns=reply_spin_ns, ids=ids)

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
        if not self._reader.buffered_bytes and not self._poll(0):
            return
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
        try:
            sdk.send_frame(self._sock, sdk.REQUEST, request_id, payload)
        except BlockingIOError:
            self._fail("serve_timeout", f"the server took no request data for {self.request_timeout_s:g} s")
        except (ConnectionError, EOFError) as exc:
            self._fail("serve_closed", f"the connection closed while sending request {request_id}: {exc}")
        return self._await_reply(request_id, max_reply_bytes)

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
        try:
            frame_type, reply_id, payload = self._reader.recv_frame(
                spin_ns=self.reply_spin_ns, max_payload=max_reply_bytes
            )
        except BlockingIOError:  # SO_RCVTIMEO expired
            self._fail(
                "serve_timeout", f"the server did not answer request {request_id} within {self.request_timeout_s:g} s"
            )
        except (EOFError, ConnectionError) as exc:
            self._fail("serve_closed", f"the connection closed while waiting for request {request_id}: {exc}")
        except sdk.ProtocolError as exc:
            self._fail("serve_protocol_error", f"while waiting for the reply to request {request_id}: {exc}")
        if frame_type == sdk.REPLY and reply_id == request_id:
            return payload
        if frame_type == sdk.ERROR:
            # Bounded: the text ends up in a result document and on a web page.
            text = bytes(payload[: sdk.MAX_ERROR_TEXT_BYTES]).decode("utf-8", "replace")
            self._fail("serve_error", f"the server reported an error: {text}")
        self._fail(
            "serve_protocol_error",
            f"expected a reply to request {request_id}, got a {sdk.FRAME_TYPES[frame_type]} frame "
            f"for request {reply_id}",
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
