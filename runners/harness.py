"""Client side of the serve protocol: readiness, accuracy, single-stream latency, placement.

The harness owns the clock and the labels; the server only sees inputs. Nothing here knows
about Docker: the job code starts the server (in a container, or as a plain process in
tests) and hands this module a socket path and a way to tell whether the server still runs.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np

from runners import footprint_sdk as sdk

# AF_UNIX paths are limited to 107 bytes on Linux; longer ones are reached through the
# folder's /proc/self/fd entry (staging folders can sit deep in a runner's work tree).
_MAX_UNIX_PATH_BYTES = 107
_READY_POLL_S = 0.01
# While a request is out, the harness polls for the reply this long before it sleeps in
# recv() (footprint_sdk.poll_readable): waking a sleeping CPU costs tens of microseconds on
# a virtual machine, as much as a small model. Replies slower than this are waited for
# asleep, where that wake-up is a small part of the latency. Only when the server runs on
# other CPUs (reply_spin_for).
REPLY_SPIN_NS = 2_000_000


class HarnessError(Exception):
    """A failure of the server under test, with a stable `code` and a human `reason`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


def _connect_unix(sock: socket.socket, path: str) -> None:
    if len(os.fsencode(path)) <= _MAX_UNIX_PATH_BYTES:
        sock.connect(path)
        return
    folder, name = os.path.split(path)
    fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{fd}/{name}")
    finally:
        os.close(fd)


class ServeClient:
    """One connection to a server that follows the contract. Not thread-safe."""

    def __init__(
        self,
        sock: socket.socket,
        ready_info: dict,
        *,
        request_timeout_s: float = 30.0,
        reply_spin_ns: int | None = None,
    ) -> None:
        self._sock = sock
        self._reader = sdk.FrameReader(sock)
        self.ready_info = ready_info
        self.request_timeout_s = request_timeout_s
        # How long a request polls for its reply before sleeping (0: it sleeps at once).
        self.reply_spin_ns = reply_spin_for(sock) if reply_spin_ns is None else reply_spin_ns
        self._next_id = 1
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
    ) -> ServeClient:
        """Wait until the server listens on `socket_path` and has sent its ready frame.

        `reply_spin_ns`: see ServeClient; None chooses by placement (reply_spin_for).
        """
        deadline = time.monotonic() + ready_timeout_s
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            last_error = "nothing listens on the socket"
            while True:
                if is_alive is not None and not is_alive():
                    raise HarnessError("serve_exited", "the server exited before it became ready")
                try:
                    _connect_unix(sock, socket_path)
                    break
                # Not listening yet; PermissionError too: the SDK opens the socket's mode
                # to other users just after bind().
                except (FileNotFoundError, ConnectionRefusedError, PermissionError) as exc:
                    last_error = f"{type(exc).__name__}: {exc.strerror}"
                if time.monotonic() >= deadline:
                    raise _not_ready(ready_timeout_s, f"last attempt to connect: {last_error}")
                time.sleep(_READY_POLL_S)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                frame_type, _, payload = sdk.recv_frame(sock)
            except TimeoutError:
                raise _not_ready(ready_timeout_s, "it accepted the connection but sent no ready frame") from None
            except (EOFError, ConnectionError):
                raise HarnessError(
                    "serve_closed", "the server closed the connection before sending its ready frame"
                ) from None
            except sdk.ProtocolError as exc:
                raise HarnessError("serve_protocol_error", f"instead of a ready frame: {exc}") from None
            ready_info = _parse_ready(frame_type, payload)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return cls(sock, ready_info, request_timeout_s=request_timeout_s, reply_spin_ns=reply_spin_ns)

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

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Send one request and return the server's reply array (not yet checked)."""
        request_id = self._send_request(batch, encoded=False)
        return self.decode_reply(request_id, self._await_reply(request_id))

    def exchange(self, payload: bytes) -> tuple[int, bytearray]:
        """One round trip of an encoded batch (sdk.encode_array): (request id, reply payload).

        The latency path: the caller encodes the input before starting its clock and decodes
        the reply (decode_reply) after stopping it, so that the clock covers what the server
        does and the transport, not the harness's own bookkeeping. Failures are those of
        predict(), except a malformed reply array, which decode_reply reports.
        """
        request_id = self._send_request(payload, encoded=True)
        return request_id, self._await_reply(request_id)

    def decode_reply(self, request_id: int, payload: bytearray) -> np.ndarray:
        """The reply array of a payload that exchange() returned for `request_id`."""
        try:
            return sdk.decode_array(payload)
        except sdk.ProtocolError as exc:
            self._fail("serve_protocol_error", f"the reply to request {request_id} is malformed: {exc}")

    def _send_request(self, batch: np.ndarray | bytes, *, encoded: bool) -> int:
        if self._broken is not None:
            raise self._broken
        request_id = self._next_id
        self._next_id += 1
        try:
            # A ProtocolError from here is the caller's (an input dtype outside the contract).
            if encoded:
                sdk.send_frame(self._sock, sdk.REQUEST, request_id, batch)  # type: ignore[arg-type]
            else:
                sdk.send_array(self._sock, sdk.REQUEST, request_id, batch)
        except BlockingIOError:
            self._fail("serve_timeout", f"the server took no request data for {self.request_timeout_s:g} s")
        except (ConnectionError, EOFError) as exc:
            self._fail("serve_closed", f"the connection closed while sending request {request_id}: {exc}")
        return request_id

    def _await_reply(self, request_id: int) -> bytearray:
        """The payload of the reply frame to `request_id`; any other frame fails the client."""
        try:
            frame_type, reply_id, payload = self._reader.recv_frame(spin_ns=self.reply_spin_ns)
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


def server_cpus(sock: socket.socket) -> set[int] | None:
    """The CPUs the process at the other end of a Unix socket may run on; None if unknown.

    The peer's pid comes from SO_PEERCRED (in this process's pid namespace: a container's
    server is visible from the runner); None when the peer is not visible (pid 0) or gone.
    """
    try:
        pid, _, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return os.sched_getaffinity(pid) if pid > 0 else None
    except OSError:
        return None


def reply_spin_for(sock: socket.socket) -> int:
    """REPLY_SPIN_NS when the server runs on other CPUs than this thread, else 0.

    Polling only pays when the two sides run at the same time. Sharing a CPU, a polling
    harness competes with the server for it (a yield does not hand the CPU over across
    cgroups, as between the runner and a container), so it sleeps instead. When the
    server's CPUs cannot be read, it sleeps too: the cost of sleeping is known.
    """
    peer = server_cpus(sock)
    if peer is None or peer & os.sched_getaffinity(0):
        return 0
    return REPLY_SPIN_NS


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
    except (UnicodeDecodeError, ValueError) as exc:
        raise HarnessError("serve_protocol_error", f"the ready frame is not UTF-8 JSON: {exc}") from None
    if not isinstance(info, dict):
        raise HarnessError("serve_protocol_error", "the ready frame must hold a JSON object")
    if info.get("contract") != sdk.CONTRACT:
        raise HarnessError(
            "serve_protocol_error",
            f"the server speaks contract {info.get('contract')!r}; this runner speaks {sdk.CONTRACT!r}",
        )
    return info


# ---- accuracy ----------------------------------------------------------------------------


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
        parts.append(predictions_from_reply(client.predict(batch), len(batch), num_classes))
    predictions = np.concatenate(parts)
    return AccuracyResult(accuracy=float(np.mean(predictions == y)), predictions=predictions)


# ---- latency -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyResult:
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float
    queries: int  # timed queries
    warmup_queries: int
    duration_s: float  # wall time of the timed phase
    samples_us: list[float] = field(repr=False)  # every timed query, in issue order
    # Timed replies that disagree with `expected_predictions`; None when not checked.
    prediction_mismatches: int | None = None
    # MLPerf's early-stopping p90 bound (early_stopping_percentile_us); None under 64 queries.
    p90_early_stopping_us: float | None = None


def latency_percentile_us(sorted_us: np.ndarray, percent: int) -> float:
    """MLPerf LoadGen's rule: the sample at index floor(n * p) of the sorted latencies.

    No interpolation: every figure is a latency that was observed.
    """
    n = len(sorted_us)
    return float(sorted_us[min(n - 1, n * percent // 100)])


# MLPerf LoadGen's early-stopping settings for single-stream (loadgen/results.cc).
EARLY_STOPPING_CONFIDENCE = 0.99


def _binomial_cdf_terms(n: int, q: float) -> Iterator[float]:
    """P(X <= t) for t = 0, 1, ... n, X ~ Binomial(n, q), in log space (no overflow at large n)."""
    log_q, log_p = math.log(q), math.log1p(-q)
    log_n_factorial = math.lgamma(n + 1)
    total = 0.0
    for x in range(n + 1):
        log_pmf = log_n_factorial - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * log_q + (n - x) * log_p
        total += math.exp(log_pmf)
        yield total


def early_stopping_overlatency_count(n: int, percentile: float, confidence: float) -> int | None:
    """How many of `n` queries may lie above the early-stopping bound; None if n is too small.

    LoadGen treats each query as a Bernoulli trial that beats the true `percentile` latency
    with probability `percentile`. Allowing `t` queries above a latency bound, the bound holds
    for the true percentile at `confidence` when P(X <= t) < 1 - confidence for
    X ~ Binomial(n, 1 - percentile) (LoadGen's `odds(h = n - t, t)`). That probability grows
    with t: the largest passing t >= 1 is LoadGen's t (it stops at the first failing one).
    For p90 at 0.99 the smallest n with a passing t = 1 is 64.
    """
    if not 0.0 < percentile < 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError(f"percentile and confidence must lie in (0, 1), got {percentile}, {confidence}")
    if n < 2:
        return None
    allowed = None
    for t, cdf in enumerate(_binomial_cdf_terms(n, 1.0 - percentile)):
        if t == 0:
            continue
        if cdf >= 1.0 - confidence:
            break
        allowed = t
    return allowed


def early_stopping_percentile_us(
    sorted_us: Sequence[float] | np.ndarray, percentile: float = 0.90, confidence: float = EARLY_STOPPING_CONFIDENCE
) -> float | None:
    """MLPerf LoadGen's early-stopping estimate of a latency percentile (single-stream).

    An upper bound on the true `percentile` latency, held with `confidence`: the latency at
    sorted index n - t, t from early_stopping_overlatency_count (so t - 1 highest latencies
    are discarded). `sorted_us` must be sorted ascending. None below the minimum query count
    (64 for p90 at 0.99).
    """
    n = len(sorted_us)
    t = early_stopping_overlatency_count(n, percentile, confidence)
    if t is None:
        return None
    return float(sorted_us[n - t])


def measure_latency(
    client: ServeClient,
    x: np.ndarray,
    *,
    warmup_queries: int,
    warmup_s: float,
    min_queries: int,
    min_duration_s: float,
    seed: int,
    expected_predictions: np.ndarray | None = None,
    num_classes: int | None = None,
    around_timed: contextlib.AbstractContextManager | None = None,
) -> LatencyResult:
    """Single-stream latency: batch-1 queries, one at a time, each timed by the harness.

    Warm-up runs until both `warmup_queries` and `warmup_s` are reached, then timed queries
    until both `min_queries` and `min_duration_s` are. Samples come from `x` in a seeded
    permutation, cycled. With `expected_predictions` (from the accuracy run) and
    `num_classes`, every timed reply is checked after the timed phase, so that a server
    cannot answer the timed run with a cheaper model. `around_timed` (e.g. an energy
    meter) is entered just before the first timed query and left just after the last one:
    warm-up and the prediction check stay outside it.
    """
    if len(x) == 0:
        raise ValueError("need at least one input to time")
    order = np.random.default_rng(seed).permutation(len(x))
    # Batch-1 views (x[i:i+1] of a C-contiguous array): no copy of the split.
    samples = [x[i : i + 1] for i in order]
    n_samples = len(samples)
    # The clock runs from sending a query's encoded bytes until the reply frame is in:
    # encoding the input and decoding the reply are the harness's own work and happen
    # outside it (as MLPerf LoadGen's sample loading and response handling do).
    encode, exchange, decode = sdk.encode_array, client.exchange, client.decode_reply
    clock = time.perf_counter_ns

    done = 0
    warmup_ns = int(warmup_s * 1e9)
    start = clock()
    while done < warmup_queries or clock() - start < warmup_ns:
        decode(*exchange(encode(samples[done % n_samples])))  # the timed path, untimed
        done += 1
    warmup_done = done

    check = expected_predictions is not None
    timed_ns: list[int] = []
    replies: list[np.ndarray] = []
    min_ns = int(min_duration_s * 1e9)
    with around_timed if around_timed is not None else contextlib.nullcontext():
        start = clock()
        while True:
            payload = encode(samples[done % n_samples])
            t0 = clock()
            request_id, raw = exchange(payload)
            t1 = clock()
            reply = decode(request_id, raw)  # a malformed reply fails the run here, as before
            timed_ns.append(t1 - t0)
            if check:
                replies.append(reply)
            done += 1
            if len(timed_ns) >= min_queries and t1 - start >= min_ns:
                break
        duration_s = (clock() - start) / 1e9

    mismatches = None
    if check:
        if num_classes is None:
            raise ValueError("checking predictions needs num_classes")
        mismatches = 0
        for k, reply in enumerate(replies):
            index = order[(warmup_done + k) % n_samples]
            predicted = predictions_from_reply(reply, 1, num_classes)[0]
            mismatches += int(predicted != expected_predictions[index])

    samples_us = np.asarray(timed_ns, dtype=np.float64) / 1000.0
    sorted_us = np.sort(samples_us)
    return LatencyResult(
        p50_us=latency_percentile_us(sorted_us, 50),
        p90_us=latency_percentile_us(sorted_us, 90),
        p99_us=latency_percentile_us(sorted_us, 99),
        mean_us=float(samples_us.mean()),
        queries=len(timed_ns),
        warmup_queries=warmup_done,
        duration_s=duration_s,
        samples_us=samples_us.tolist(),
        prediction_mismatches=mismatches,
        p90_early_stopping_us=early_stopping_percentile_us(sorted_us, 0.90),
    )


# ---- audits: caching probe ---------------------------------------------------------------

# A repeated sample answered this much faster than fresh ones looks like a reply cache.
CACHE_SUSPECT_RATIO = 0.8


@dataclass(frozen=True)
class CachingProbe:
    repeated_p50_us: float  # median latency of the same sample sent again and again
    fresh_p50_us: float  # median latency of samples sent once each
    queries: int  # of each kind

    @property
    def ratio(self) -> float:
        """repeated / fresh median latency: about 1 for a server that computes every reply."""
        return self.repeated_p50_us / self.fresh_p50_us

    @property
    def cache_suspected(self) -> bool:
        return self.ratio < CACHE_SUSPECT_RATIO


def _unseen(sample: np.ndarray, k: int) -> np.ndarray:
    """`sample` moved by k + 1 ulps in its largest element: an input no server has seen yet.

    The timed run has already sent every test input, so a server that remembers inputs would
    answer them all from memory; a nudge that no model's timing notices (the largest
    element, never a zero turned into a slow subnormal) makes the input new to any cache.
    """
    copy = np.array(sample, copy=True)
    if copy.dtype.kind != "f" or copy.size == 0:
        return copy
    flat = copy.reshape(-1)
    j = int(np.argmax(np.abs(flat)))
    value = flat[j]
    for _ in range(k + 1):
        value = np.nextafter(value, np.inf)
    flat[j] = value
    return copy


def probe_caching(client: ServeClient, x: np.ndarray, *, queries: int = 64, seed: int = 0) -> CachingProbe:
    """Send one sample `queries` times interleaved with `queries` unseen samples, each timed.

    Interleaving keeps both kinds under the same conditions (caches, frequency, neighbours):
    only a server that remembers inputs answers the repeated one measurably faster. The
    fresh samples are test inputs nudged by a few ulps (see _unseen), so that a reply cache
    filled by the timed run cannot answer them.
    """
    if len(x) < 2:
        raise ValueError("the caching probe needs at least two inputs")
    order = np.random.default_rng(seed + 1).permutation(len(x))
    repeated = x[order[0] : order[0] + 1]
    fresh = [_unseen(x[order[1 + k % (len(x) - 1)] : order[1 + k % (len(x) - 1)] + 1], k) for k in range(queries)]
    clock = time.perf_counter_ns
    repeated_ns: list[int] = []
    fresh_ns: list[int] = []
    client.predict(repeated)  # the first sight of it is not a repeat
    # Which of the pair goes first is a seeded coin flip: a query right after another one
    # can be systematically faster or slower (a poll window, a wake-up), and a fixed order
    # would read that as a cache.
    first_is_repeated = np.random.default_rng(seed + 2).random(queries) < 0.5
    for k in range(queries):
        pair = ((repeated, repeated_ns), (fresh[k], fresh_ns))
        for batch, times in pair if first_is_repeated[k] else pair[::-1]:
            payload = sdk.encode_array(batch)  # timed as measure_latency times
            t0 = clock()
            request_id, raw = client.exchange(payload)
            times.append(clock() - t0)
            client.decode_reply(request_id, raw)
    return CachingProbe(
        repeated_p50_us=float(np.median(repeated_ns)) / 1000.0,
        fresh_p50_us=float(np.median(fresh_ns)) / 1000.0,
        queries=queries,
    )


# ---- offline throughput ------------------------------------------------------------------


@dataclass(frozen=True)
class ThroughputResult:
    batch_size: int
    samples_per_s: float
    batches: int  # timed batches
    duration_s: float


def measure_throughput(
    client: ServeClient,
    x: np.ndarray,
    *,
    batch_size: int,
    min_duration_s: float = 1.0,
    min_batches: int = 64,
    warmup_batches: int = 2,
    num_classes: int | None = None,
    around_timed: contextlib.AbstractContextManager | None = None,
) -> ThroughputResult:
    """Offline throughput: batches of `batch_size` back to back until both minimums are met.

    The harness sends the next batch when the previous reply arrived (one connection, as the
    contract has it), so the figure includes one round trip per batch: small against a
    large batch. Inputs cycle through `x` (tiled when the batch is larger than `x`). With
    `num_classes`, every reply must hold one answer per input (predictions_from_reply), so
    that a server cannot answer a batch with less work than the batch asks for.
    `around_timed` is entered just before the first timed batch and left just after the
    last one (warm-up and the reply check stay outside it).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if len(x) == 0:
        raise ValueError("need at least one input")
    # Every batch starts inside x and may run past its end into the next copy.
    pool = np.concatenate([x] * (1 + -(-batch_size // len(x))))
    batches = [np.ascontiguousarray(pool[s : s + batch_size]) for s in range(0, len(x), batch_size)]
    for k in range(warmup_batches):
        client.predict(batches[k % len(batches)])
    clock = time.perf_counter_ns
    done = 0
    min_ns = int(min_duration_s * 1e9)
    replies = []
    with around_timed if around_timed is not None else contextlib.nullcontext():
        start = clock()
        while True:
            reply = client.predict(batches[done % len(batches)])
            if num_classes is not None:
                replies.append(reply)  # checked after the clock stops
            done += 1
            elapsed = clock() - start
            if done >= min_batches and elapsed >= min_ns:
                break
    duration_s = elapsed / 1e9
    for reply in replies:
        predictions_from_reply(reply, batch_size, num_classes)  # type: ignore[arg-type]
    return ThroughputResult(
        batch_size=batch_size, samples_per_s=done * batch_size / duration_s, batches=done, duration_s=duration_s
    )


# ---- placement ---------------------------------------------------------------------------


def parse_cpuset(text: str) -> set[int]:
    """CPUs of a cpuset string such as "0-1,3" (the syntax of docker --cpuset-cpus)."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(v) for v in part.split("-", 1))
                if low > high or low < 0:
                    raise ValueError
                cpus.update(range(low, high + 1))
            else:
                cpu = int(part)
                if cpu < 0:
                    raise ValueError
                cpus.add(cpu)
        except ValueError:
            raise ValueError(f"invalid cpuset {text!r}: expected e.g. '1' or '0-1,3'") from None
    return cpus


PLACEMENT_APART = "harness on one CPU outside the container's cpuset; both sides poll while they wait"
PLACEMENT_SHARED = "harness on the container's CPUs (the runner has no other); the harness sleeps while it waits"


def harness_cpus(container_cpus: set[int], allowed: set[int]) -> tuple[set[int], str]:
    """The CPUs the harness pins itself to while it measures a container, and the policy.

    One CPU outside the container's cpuset when the runner may use one (the lowest, so
    that every run of a hardware class is placed alike): the harness's work between queries
    then neither delays the server nor evicts the model from its CPU's caches, and since
    both sides poll while they wait (footprint_sdk.SERVE_SPIN_NS, REPLY_SPIN_NS) neither
    pays a sleeping CPU's wake-up. Without such a CPU, the container's CPUs (those of
    `allowed`, so that pinning cannot fail); the harness then sleeps while it waits
    (reply_spin_for), as a poller would take the CPU from the model.
    """
    if not container_cpus:
        raise ValueError("the container's cpuset is empty")
    outside = sorted(allowed - container_cpus)
    if outside:
        return {outside[0]}, PLACEMENT_APART
    return (container_cpus & allowed) or set(allowed), PLACEMENT_SHARED


def pin_current_process(cpus: set[int]) -> set[int]:
    """Pin the calling thread (and threads it starts later) to `cpus`; return the old set."""
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    return previous
