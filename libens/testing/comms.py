"""The behavioural contract of a transport backend, as plain functions over a WorkerPool.

``echo_worker`` is the worker side (module level, so any backend can start it); each
``check_*`` function exercises one rule of ``libens.comms.base`` and raises AssertionError
when the backend breaks it.
"""

from __future__ import annotations

import os
import time

import numpy as np

from libens.comms.base import Channel, PeerLost, WorkerPool


def echo_worker(channel: Channel, worker_id: int) -> None:
    """Reply ``(worker_id, msg)`` to every message; ``"die"`` exits the process at once,
    ``None`` ends the loop."""
    while True:
        msg = channel.recv()
        if msg is None:
            return
        if isinstance(msg, str) and msg == "die":
            os._exit(7)
        channel.send((worker_id, msg))


def _collect(pool: WorkerPool, n: int, timeout: float = 20.0) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(out)} of {n} messages arrived"
        out.extend(pool.recv_any(left))
    return out


def check_round_trip(pool: WorkerPool) -> None:
    """Every worker answers, and recv_any returns each message once."""
    ids = pool.worker_ids
    for wid in ids:
        pool.send(wid, ("ping", wid))
    got = _collect(pool, len(ids))
    assert sorted(got) == sorted((w, (w, ("ping", w))) for w in ids)


def check_many_ready(pool: WorkerPool) -> None:
    """Several messages in flight from every worker all arrive, in order per worker."""
    ids = pool.worker_ids
    for k in range(5):
        for wid in ids:
            pool.send(wid, k)
    got = _collect(pool, 5 * len(ids))
    for wid in ids:
        assert [m[1] for w, m in got if w == wid] == list(range(5))


def check_large_array_bit_exact(pool: WorkerPool) -> None:
    """A structured array with a field of 10^6 floats comes back bit for bit."""
    a = np.zeros(2, dtype=[("big", float, 500_000), ("i", int)])
    a["big"] = np.random.default_rng(0).standard_normal((2, 500_000))
    a["i"] = [3, 4]
    wid = pool.worker_ids[-1]
    pool.send(wid, a)
    ((w, reply),) = _collect(pool, 1)
    back: np.ndarray = reply[1]  # type: ignore[index]
    assert w == wid and back.tobytes() == a.tobytes() and back.dtype == a.dtype


def check_idle_timeout(pool: WorkerPool) -> None:
    """With nothing to read, recv_any returns [] after its timeout (and not much later)."""
    t = time.monotonic()
    assert pool.recv_any(0.2) == []
    assert 0.15 <= time.monotonic() - t < 2.0


def check_dead_worker_reported_once(pool: WorkerPool, wid: int) -> None:
    """A worker process that exits is reported as PeerLost exactly once, promptly."""
    pool.send(wid, "die")
    got = _collect(pool, 1, timeout=10.0)
    assert got[0][0] == wid and isinstance(got[0][1], PeerLost)
    assert pool.recv_any(0.3) == []


def stop(pool: WorkerPool) -> None:
    """End every echo worker and close the pool."""
    for wid in pool.worker_ids:
        try:
            pool.send(wid, None)
        except Exception:
            pass
    pool.close(5.0)
