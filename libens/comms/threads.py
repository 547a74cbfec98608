"""Thread comms: every worker is a thread of the manager's process; messages are passed by
reference through queues (no pickling). Workers' user functions share the GIL."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from typing import Any

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
    ) -> None:
        self._inboxes = inboxes
        self._manager_inbox = manager_inbox
        self._threads = threads

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


class ThreadComms(Comms):
    """Workers as threads in this process."""

    def __init__(self, **_: Any) -> None:
        pass

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        manager_inbox: queue.SimpleQueue = queue.SimpleQueue()
        inboxes: dict[int, queue.SimpleQueue] = {}
        threads = []
        for wid in [*inproc_ids, *range(1, nworkers + 1)]:
            inboxes[wid] = queue.SimpleQueue()
            channel = QueueChannel(wid, inboxes[wid], manager_inbox)

            def main(channel: QueueChannel = channel, wid: int = wid) -> None:
                try:
                    worker_main(channel, wid)
                except BaseException as e:  # a worker thread must never vanish silently
                    manager_inbox.put((wid, PeerLost(f"worker thread ended: {e!r}")))
                    raise

            t = threading.Thread(target=main, name=f"libens-worker-{wid}", daemon=True)
            t.start()
            threads.append(t)
        return ThreadPool(inboxes, manager_inbox, threads)
