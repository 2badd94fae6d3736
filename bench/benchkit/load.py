"""A small HTTP load generator that runs in its own process, so the load does not share the
server's interpreter: closed loop (N connections, each sends its next request as soon as
the previous answer arrived) or open loop (a fixed rate, whatever the answers take).

Requests are prepared raw (bytes) by the caller; each is sent on a new connection, as
gunicorn's sync workers close the connection after every answer (no keep-alive).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp
import socket
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    index: int
    status: int  # 0: no answer (connection error)
    started: float  # time.time() when the request was sent
    latency: float  # seconds from connect to the last byte of the answer


def _one(host: str, port: int, raw: bytes, timeout: float) -> tuple[int, float]:
    start = time.perf_counter()
    status = 0
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(raw)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        head = b"".join(chunks)[:12]
        if head.startswith(b"HTTP/1."):
            status = int(head[9:12])
    except OSError:
        status = 0
    return status, time.perf_counter() - start


def _closed(
    host: str,
    port: int,
    raws: list[bytes],
    concurrency: int,
    duration: float,
    timeout: float,
    repeat: bool,
) -> list[Result]:
    results: list[Result] = []
    lock = threading.Lock()
    next_index = itertools.count() if repeat else iter(range(len(raws)))
    deadline = time.monotonic() + duration

    def loop() -> None:
        mine = []
        while time.monotonic() < deadline:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            started = time.time()
            status, latency = _one(host, port, raws[index % len(raws)], timeout)
            mine.append(Result(index, status, started, latency))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _open(
    host: str, port: int, raws: list[bytes], rate: float, timeout: float, max_threads: int = 64
) -> list[Result]:
    """Send request i at start + i/rate; a pool of threads keeps up while answers are slow."""
    results: list[Result] = []
    lock = threading.Lock()
    counter = iter(range(len(raws)))
    start = time.monotonic() + 0.05

    def loop() -> None:
        mine = []
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            wait = start + index / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            started = time.time()
            status, latency = _one(host, port, raws[index], timeout)
            mine.append(Result(index, status, started, latency))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=loop) for _ in range(max_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _child(conn, kind: str, args: tuple) -> None:  # type: ignore[no-untyped-def]
    results = _closed(*args) if kind == "closed" else _open(*args)
    conn.send(results)
    conn.close()


def _run(kind: str, args: tuple) -> list[Result]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, kind, args))
    proc.start()
    child.close()
    results = parent.recv()
    proc.join()
    return sorted(results, key=lambda r: r.index)


def closed_loop(
    host: str,
    port: int,
    raws: list[bytes],
    concurrency: int,
    duration: float,
    timeout: float = 30.0,
    repeat: bool = False,
) -> list[Result]:
    """Send raws[0], raws[1], … over `concurrency` connections for `duration` seconds (or
    until the requests run out, unless `repeat`), from a separate process."""
    return _run("closed", (host, port, raws, concurrency, duration, timeout, repeat))


def open_loop(
    host: str, port: int, raws: list[bytes], rate: float, timeout: float = 30.0
) -> list[Result]:
    """Send every request of `raws` at `rate` per second, from a separate process."""
    return _run("open", (host, port, raws, rate, timeout))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `values`; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]
