"""Workers that run inside the manager's own loop: a message to one is handled at once, and
its replies come back from the next ``recv_any``, with no thread, queue or wake-up between.

Used for a gest-api generator on the manager: its ``suggest`` and ``ingest`` are plain calls
made between two events, so each round with it costs two function calls instead of two
hand-overs to a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from libens.comms.base import WorkerPool

Handler = Callable[[Any], list[Any]]  # a message in, the worker's replies out


class InlinePool(WorkerPool):
    """``pool``'s workers plus ``inline`` ones (worker id -> handler)."""

    def __init__(self, pool: WorkerPool, inline: dict[int, Handler]) -> None:
        self.pool = pool
        self.inline = inline
        self._replies: list[tuple[int, Any]] = []

    @property
    def worker_ids(self) -> list[int]:
        return sorted([*self.pool.worker_ids, *self.inline])

    def send(self, worker_id: int, msg: Any) -> None:
        handler = self.inline.get(worker_id)
        if handler is None:
            self.pool.send(worker_id, msg)
        else:
            self._replies.extend((worker_id, reply) for reply in handler(msg))

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        if self._replies:
            out, self._replies = self._replies, []
            return out
        return self.pool.recv_any(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.pool.close(timeout)
