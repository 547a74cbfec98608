"""A worker thread inside the manager's process (e.g. a generator on the manager), linked
without pickling: messages pass by reference, and a wake-up pipe makes the link waitable by
the same selector that waits on the other workers."""

from __future__ import annotations

import collections
import os
import queue
import threading
from typing import Any

from libens.comms.base import Channel, PeerLost, WorkerMain
from libens.errors import ChannelClosed, ChannelTimeout

_CLOSED = object()


class InprocLink:
    """The manager's end: ``send`` to the thread, ``drain`` what it sent (after its fd is
    readable). ``fileno`` makes it usable with ``selectors``."""

    def __init__(self, worker_id: int, worker_main: WorkerMain) -> None:
        self.worker_id = worker_id
        self.to_worker: queue.SimpleQueue = queue.SimpleQueue()
        self.from_worker: collections.deque = collections.deque()
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._rfd, False)
        self.thread = threading.Thread(
            target=self._main, args=(worker_main,), name=f"libens-worker-{worker_id}", daemon=True
        )
        self.thread.start()

    def _main(self, worker_main: WorkerMain) -> None:
        try:
            worker_main(InprocChannel(self), self.worker_id)
        finally:
            self.post(_CLOSED)

    def post(self, msg: Any) -> None:
        """Called by the worker thread: queue a message and wake the manager."""
        self.from_worker.append(msg)
        try:
            os.write(self._wfd, b"\0")
        except OSError:
            pass  # the manager closed the link

    def fileno(self) -> int:
        return self._rfd

    def send(self, msg: Any) -> None:
        self.to_worker.put(msg)

    def drain(self) -> list[Any]:
        """Every message the thread sent so far; its end appears as a PeerLost."""
        try:
            while os.read(self._rfd, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while self.from_worker:
            msg = self.from_worker.popleft()
            out.append(PeerLost("its thread ended") if msg is _CLOSED else msg)
        return out

    def close(self, timeout: float) -> None:
        self.to_worker.put(_CLOSED)
        self.thread.join(timeout)
        for fd in (self._rfd, self._wfd):
            try:
                os.close(fd)
            except OSError:
                pass


class InprocChannel(Channel):
    """The worker thread's end of an InprocLink."""

    def __init__(self, link: InprocLink) -> None:
        self.link = link
        self._peeked: list[Any] = []

    def send(self, msg: Any) -> None:
        self.link.post(msg)

    def recv(self, timeout: float | None = None) -> Any:
        if self._peeked:
            msg = self._peeked.pop()
        else:
            try:
                msg = self.link.to_worker.get(timeout=timeout)
            except queue.Empty:
                raise ChannelTimeout(f"no message within {timeout} s") from None
        if msg is _CLOSED:
            self._peeked.append(msg)
            raise ChannelClosed("the manager closed the link")
        return msg

    def poll(self, timeout: float = 0.0) -> bool:
        if self._peeked:
            return True
        try:
            q = self.link.to_worker
            self._peeked.append(q.get(timeout=timeout) if timeout else q.get_nowait())
        except queue.Empty:
            return False
        return True
