"""Channels over ``multiprocessing`` connections, and in-process worker threads on a pipe.

Shared by the backends whose manager waits on file descriptors (local, tcp, mpi's
in-process generator): a ``Connection`` is waitable with ``multiprocessing.connection.wait``
and with ``selectors``.
"""

from __future__ import annotations

import select
import threading
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from libens.comms.base import Channel, WorkerMain
from libens.comms.codec import decode, encode
from libens.comms.spin import Spinner
from libens.errors import ChannelClosed, ChannelTimeout


class ConnectionChannel(Channel):
    """A Channel over one end of a ``multiprocessing`` Pipe (or any Connection)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._poller = select.poll()  # one poll object: Connection.poll builds a selector per call
        self._poller.register(conn.fileno(), select.POLLIN)
        self._spinner = Spinner()

    def send(self, msg: Any) -> None:
        try:
            self.conn.send_bytes(encode(msg))
        except (OSError, ValueError) as e:
            raise ChannelClosed(f"peer is gone: {e}") from e

    def recv(self, timeout: float | None = None) -> Any:
        if not self._spinner.wait(self.poll, timeout):
            raise ChannelTimeout(f"no message within {timeout} s")
        try:
            return decode(self.conn.recv_bytes())
        except (EOFError, OSError) as e:
            raise ChannelClosed("peer closed the connection") from e

    def poll(self, timeout: float | None = 0.0) -> bool:
        try:
            return bool(self._poller.poll(None if timeout is None else timeout * 1000.0))
        except (OSError, ValueError):  # a closed link reads as ready: recv then reports it
            return True

    def close(self) -> None:
        if not self.conn.closed:
            self._poller.unregister(self.conn.fileno())
        self.conn.close()


def start_inproc_worker(
    worker_id: int, worker_main: WorkerMain
) -> tuple[Connection, threading.Thread]:
    """Run ``worker_main`` in a daemon thread of this process, linked by a pipe.

    Returns the manager's end of the pipe and the thread.
    """
    manager_end, worker_end = Pipe(duplex=True)

    def main() -> None:
        try:
            worker_main(ConnectionChannel(worker_end), worker_id)
        finally:
            worker_end.close()

    thread = threading.Thread(target=main, name=f"libens-worker-{worker_id}", daemon=True)
    thread.start()
    return manager_end, thread
