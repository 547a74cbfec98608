"""A worker thread inside the manager's process (e.g. a generator on the manager), linked
without pickling: messages pass by reference, and a wake-up pipe makes the link waitable by
the same selector that waits on the other workers."""

from __future__ import annotations

import queue
import threading
from typing import Any

from libens.comms.base import PeerLost, WorkerMain
from libens.comms.queues import CLOSED, InboxChannel, WakeQueue


class InprocLink:
    """The manager's end: ``send`` to the thread, ``drain`` what it sent (after its fd is
    readable). ``fileno`` makes it usable with ``selectors``."""

    def __init__(self, worker_id: int, worker_main: WorkerMain) -> None:
        self.worker_id = worker_id
        self.to_worker: queue.SimpleQueue = queue.SimpleQueue()
        self.from_worker = WakeQueue()
        self.thread = threading.Thread(
            target=self._main, args=(worker_main,), name=f"libens-worker-{worker_id}", daemon=True
        )
        self.thread.start()

    def _main(self, worker_main: WorkerMain) -> None:
        try:
            worker_main(InprocChannel(self), self.worker_id)
        finally:
            self.from_worker.post(CLOSED)

    def fileno(self) -> int:
        return self.from_worker.fileno()

    def send(self, msg: Any) -> None:
        self.to_worker.put(msg)

    def drain(self) -> list[Any]:
        """Every message the thread sent so far; its end appears as a PeerLost."""
        return [
            PeerLost("its thread ended") if m is CLOSED else m for m in self.from_worker.drain()
        ]

    def close(self, timeout: float) -> None:
        self.to_worker.put(CLOSED)
        self.thread.join(timeout)
        self.from_worker.close()


class InprocChannel(InboxChannel):
    """The worker thread's end of an InprocLink."""

    def __init__(self, link: InprocLink) -> None:
        super().__init__(link.to_worker)
        self.link = link

    def send(self, msg: Any) -> None:
        self.link.from_worker.post(msg)
