"""The worker's end of a link over a ``multiprocessing`` Connection (a pipe for ``local``,
a socket for ``tcp``), waited on with ``poll``."""

from __future__ import annotations

import select
from multiprocessing.connection import Connection
from typing import Any

from libens.comms.base import Channel
from libens.comms.codec import decode, encode
from libens.comms.frames import FrameLink
from libens.comms.spin import Spinner
from libens.errors import ChannelClosed, ChannelTimeout


class ConnectionChannel(Channel):
    """A Channel over one end of a ``multiprocessing`` Pipe (or any Connection)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.link = FrameLink(conn)
        self._poller = select.poll()  # one poll object: Connection.poll builds a selector per call
        self._poller.register(conn.fileno(), select.POLLIN)
        self._spinner = Spinner()

    def send(self, msg: Any) -> None:
        try:
            self.link.send_bytes(encode(msg))
        except (OSError, ValueError) as e:
            raise ChannelClosed(f"peer is gone: {e}") from e

    def recv(self, timeout: float | None = None) -> Any:
        data = self.link.frame()
        if data is None:
            if not self._spinner.wait(self.poll, timeout):
                raise ChannelTimeout(f"no message within {timeout} s")
            try:
                data = self.link.recv_bytes()
            except (EOFError, OSError) as e:
                raise ChannelClosed("peer closed the connection") from e
        return decode(data)

    def poll(self, timeout: float | None = 0.0) -> bool:
        if self.link.buffered():
            return True
        try:
            return bool(self._poller.poll(None if timeout is None else timeout * 1000.0))
        except (OSError, ValueError):  # a closed link reads as ready: recv then reports it
            return True

    def close(self) -> None:
        if not self.conn.closed:
            self._poller.unregister(self.conn.fileno())
        self.conn.close()
