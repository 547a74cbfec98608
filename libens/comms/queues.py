"""Two building blocks for in-process links: a queue whose consumer waits with ``select``
(a deque plus a wake-up pipe), and a Channel end that reads from a ``queue.SimpleQueue``."""

from __future__ import annotations

import collections
import os
import queue
from abc import abstractmethod
from typing import Any

from libens.comms.affinity import waiting
from libens.comms.base import Channel
from libens.errors import ChannelClosed, ChannelTimeout

CLOSED = object()  # put into an inbox: the other side closed the link


class WakeQueue:
    """Producers (any thread) ``post``; the consumer waits on ``fileno()`` with a selector
    and takes everything with ``drain()``."""

    def __init__(self) -> None:
        self._items: collections.deque = collections.deque()
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._rfd, False)

    def post(self, item: Any) -> None:
        self._items.append(item)
        try:
            os.write(self._wfd, b"\0")
        except OSError:
            pass  # the consumer closed the queue

    def fileno(self) -> int:
        return self._rfd

    def drain(self) -> list[Any]:
        try:
            while os.read(self._rfd, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while self._items:
            out.append(self._items.popleft())
        return out

    def close(self) -> None:
        for fd in (self._rfd, self._wfd):
            try:
                os.close(fd)
            except OSError:
                pass


class InboxChannel(Channel):
    """A worker's end that receives from ``inbox``; subclasses say where ``send`` goes."""

    def __init__(self, inbox: queue.SimpleQueue) -> None:
        self.inbox = inbox
        self._peeked: list[Any] = []

    @abstractmethod
    def send(self, msg: Any) -> None: ...

    def recv(self, timeout: float | None = None) -> Any:
        if self._peeked:
            msg = self._peeked.pop()
        else:
            try:
                with waiting:  # a generator in user code waits on the pool's CPU
                    msg = self.inbox.get(timeout=timeout)
            except queue.Empty:
                raise ChannelTimeout(f"no message within {timeout} s") from None
        if msg is CLOSED:
            self._peeked.append(msg)
            raise ChannelClosed("the manager closed the link")
        return msg

    def poll(self, timeout: float = 0.0) -> bool:
        if self._peeked:
            return True
        try:
            self._peeked.append(
                self.inbox.get(timeout=timeout) if timeout else self.inbox.get_nowait()
            )
        except queue.Empty:
            return False
        return True
