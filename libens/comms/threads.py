"""Thread comms: every worker is a thread of the manager's process; messages are passed by
reference through queues (no pickling). Workers' user functions share the GIL. The
framework code of all the threads runs on one CPU (``affinity``): hand-overs cost less.

A worker may offer to take work on the manager's thread (``let_sender_handle``): work that
its recent calls say takes less than a hand-over between threads then runs at once, in the
worker's state, and its reply comes back from the next ``recv_any``. Under the GIL a tiny
call on another thread runs no sooner; passing it there and back only adds two hand-overs.
A call run there that waits on its channel (a sim_f listening for a kill) would wait for
the very thread it blocks: it is answered at once, and the worker's offer is withdrawn.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from typing import Any

from libens.comms.affinity import CorePlacement
from libens.comms.base import Channel, Comms, PeerLost, SenderHandler, WorkerMain, WorkerPool
from libens.comms.queues import CLOSED, InboxChannel
from libens.errors import ChannelTimeout

logger = logging.getLogger("libens.comms.threads")


class QueueChannel(InboxChannel):
    """A worker's end: its own inbox, and the manager's shared inbox tagged with its id."""

    def __init__(
        self,
        worker_id: int,
        inbox: queue.SimpleQueue,
        outbox: queue.SimpleQueue,
        sender_may_handle: bool = True,
    ) -> None:
        super().__init__(inbox)
        self.worker_id = worker_id
        self.outbox = outbox
        self.sender_may_handle = sender_may_handle
        self.sender_handler: SenderHandler | None = None

    def send(self, msg: Any) -> None:
        self.outbox.put((self.worker_id, msg))

    def let_sender_handle(self, handler: SenderHandler) -> Channel | None:
        if not self.sender_may_handle:
            return None
        self.sender_handler = handler
        return SenderSideChannel(self)


class SenderSideChannel(Channel):
    """The worker's channel as a call run on the manager's thread sees it. Nothing can come
    while that thread is busy with the call, and the worker's own thread owns the inbox: a
    wait is answered at once, and the worker's offer is withdrawn (its calls then run on
    its own thread, where messages can reach them)."""

    def __init__(self, channel: QueueChannel) -> None:
        self.channel = channel

    def send(self, msg: Any) -> None:
        self.channel.send(msg)

    def recv(self, timeout: float | None = None) -> Any:
        self._withdraw()
        raise ChannelTimeout(
            f"worker {self.channel.worker_id}: this call runs on the manager's thread (tiny "
            "work, LibeSpecs.threads_tiny_on_manager), where no message can arrive; the "
            "worker's next calls run on its own thread"
        )

    def poll(self, timeout: float = 0.0) -> bool:
        if timeout:
            self._withdraw()
        return False

    def _withdraw(self) -> None:
        if self.channel.sender_handler is not None:
            self.channel.sender_handler = None
            logger.info(
                "worker %d: a call waited for messages on the manager's thread; its calls "
                "run on its own thread from now on",
                self.channel.worker_id,
            )


class ThreadPool(WorkerPool):
    """All workers post to one manager inbox, so waiting on all of them is one ``get``."""

    def __init__(
        self,
        channels: dict[int, QueueChannel],
        manager_inbox: queue.SimpleQueue,
        threads: list[threading.Thread],
        placement: CorePlacement | None,
    ) -> None:
        self._channels = channels
        self._manager_inbox = manager_inbox
        self._handled: list[tuple[int, Any]] = []  # replies of messages handled here
        self._threads = threads
        self._placement = placement

    @property
    def worker_ids(self) -> list[int]:
        return sorted(self._channels)

    def send(self, worker_id: int, msg: Any) -> None:
        channel = self._channels[worker_id]
        handler = channel.sender_handler
        if handler is not None:
            reply = handler(msg)
            if reply is not None:
                self._handled.append((worker_id, reply))
                return
        channel.inbox.put(msg)

    def recv_any(self, timeout: float | None = None) -> list[tuple[int, Any]]:
        inbox = self._manager_inbox
        if self._handled:
            out, self._handled = self._handled, []
        else:
            try:
                out = [inbox.get(timeout=timeout)]
            except queue.Empty:
                return []
        while not inbox.empty():  # only the manager takes from its inbox
            out.append(inbox.get_nowait())
        return out

    def close(self, timeout: float = 5.0) -> None:
        for channel in self._channels.values():
            channel.inbox.put(CLOSED)
        for t in self._threads:
            t.join(timeout)
        if self._placement is not None:
            self._placement.leave()


class ThreadComms(Comms):
    """Workers as threads in this process."""

    def __init__(
        self, threads_on_one_cpu: bool = True, threads_tiny_on_manager: bool = True, **_: Any
    ) -> None:
        self.one_cpu = threads_on_one_cpu
        self.tiny_on_manager = threads_tiny_on_manager

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        placement = CorePlacement.here() if self.one_cpu else None  # the manager's CPU
        if placement is not None:
            placement.join()
        try:
            return self._start(nworkers, worker_main, inproc_ids, placement, self.tiny_on_manager)
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
        tiny_on_manager: bool,
    ) -> ThreadPool:
        manager_inbox: queue.SimpleQueue = queue.SimpleQueue()
        channels: dict[int, QueueChannel] = {}
        threads = []
        for wid in [*inproc_ids, *range(1, nworkers + 1)]:
            channel = channels[wid] = QueueChannel(
                wid, queue.SimpleQueue(), manager_inbox, tiny_on_manager
            )

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
        return ThreadPool(channels, manager_inbox, threads, placement)
