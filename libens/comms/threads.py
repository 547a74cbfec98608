"""Thread comms: every worker is a thread of the manager's process; messages are passed by
reference through queues (no pickling). Workers' user functions share the GIL. The
framework code of all the threads runs on one CPU (``affinity``): hand-overs cost less."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from typing import Any

from libens.comms.affinity import CorePlacement
from libens.comms.base import Comms, PeerLost, WorkerMain, WorkerPool
from libens.comms.queues import CLOSED, InboxChannel


class QueueChannel(InboxChannel):
    """A worker's end: its own inbox, and the manager's shared inbox tagged with its id."""

    def __init__(
        self, worker_id: int, inbox: queue.SimpleQueue, outbox: queue.SimpleQueue
    ) -> None:
        super().__init__(inbox)
        self.worker_id = worker_id
        self.outbox = outbox

    def send(self, msg: Any) -> None:
        self.outbox.put((self.worker_id, msg))


class ThreadPool(WorkerPool):
    """All workers post to one manager inbox, so waiting on all of them is one ``get``."""

    def __init__(
        self,
        inboxes: dict[int, queue.SimpleQueue],
        manager_inbox: queue.SimpleQueue,
        threads: list[threading.Thread],
        placement: CorePlacement | None,
    ) -> None:
        self._inboxes = inboxes
        self._manager_inbox = manager_inbox
        self._threads = threads
        self._placement = placement

    @property
    def worker_ids(self) -> list[int]:
        return sorted(self._inboxes)

    def send(self, worker_id: int, msg: Any) -> None:
        self._inboxes[worker_id].put(msg)

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        inbox = self._manager_inbox
        try:
            out = [inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not inbox.empty():  # only the manager takes from its inbox
            out.append(inbox.get_nowait())
        return out

    def close(self, timeout: float = 5.0) -> None:
        for inbox in self._inboxes.values():
            inbox.put(CLOSED)
        for t in self._threads:
            t.join(timeout)
        if self._placement is not None:
            self._placement.leave()


class ThreadComms(Comms):
    """Workers as threads in this process."""

    def __init__(self, threads_on_one_cpu: bool = True, **_: Any) -> None:
        self.one_cpu = threads_on_one_cpu

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        placement = CorePlacement.here() if self.one_cpu else None  # the manager's CPU
        if placement is not None:
            placement.join()
        try:
            return self._start(nworkers, worker_main, inproc_ids, placement)
        except BaseException:
            if placement is not None:
                placement.leave()
            raise

    @staticmethod
    def _start(
        nworkers: int,
        worker_main: WorkerMain,
        inproc_ids: Iterable[int],
        placement: CorePlacement | None,
    ) -> ThreadPool:
        manager_inbox: queue.SimpleQueue = queue.SimpleQueue()
        inboxes: dict[int, queue.SimpleQueue] = {}
        threads = []
        for wid in [*inproc_ids, *range(1, nworkers + 1)]:
            inboxes[wid] = queue.SimpleQueue()
            channel = QueueChannel(wid, inboxes[wid], manager_inbox)

            def main(channel: QueueChannel = channel, wid: int = wid) -> None:
                if placement is not None:
                    placement.join()
                try:
                    worker_main(channel, wid)
                except BaseException as e:  # a worker thread must never vanish silently
                    manager_inbox.put((wid, PeerLost(f"worker thread ended: {e!r}")))
                    raise

            t = threading.Thread(target=main, name=f"libens-worker-{wid}", daemon=True)
            t.start()
            threads.append(t)
        return ThreadPool(inboxes, manager_inbox, threads, placement)
