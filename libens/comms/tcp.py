"""TCP comms: the manager listens, workers dial in.

Workers are either launched by the manager on this machine (``nworkers``), or started anywhere
with ``libens worker --connect HOST:PORT`` and join a running ensemble. Every connection
proves it knows the authkey (mutual HMAC-SHA256 challenge) before a single byte is unpickled;
a client that fails, stalls or sends garbage is dropped and logged, and the ensemble carries
on. The authkey never appears on a command line: launched workers get it through the
environment (``LIBENS_AUTHKEY``), users pass a file or the same variable. Without an authkey
a random one is made per run. The manager binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import importlib
import logging
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from libens.comms.base import Comms, WorkerMain, WorkerPool
from libens.comms.inproc import InprocLink
from libens.comms.local import ConnectionPool
from libens.comms.pipes import ConnectionChannel
from libens.comms.queues import WakeQueue
from libens.errors import CommError

logger = logging.getLogger("libens.comms.tcp")

AUTHKEY_ENV = "LIBENS_AUTHKEY"
_IN_WORKER = "LIBENS_TCP_WORKER"
_LAUNCHED = "LIBENS_TCP_LAUNCHED"
_WORKER_MAIN = "LIBENS_WORKER_MAIN"  # module:function the launched workers run
HANDSHAKE_SECONDS = 5.0
_MAGIC = b"libens1"
_NONCE = 32


def _mac(key: bytes, nonce: bytes, role: bytes) -> bytes:
    return hmac.new(key, role + nonce, hashlib.sha256).digest()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed during the handshake")
        buf += chunk
    return buf


def server_handshake(sock: socket.socket, key: bytes) -> None:
    """Manager side: the client proves the key, then the manager proves it too."""
    nonce = secrets.token_bytes(_NONCE)
    sock.sendall(_MAGIC + nonce)
    reply = _recv_exact(sock, 32 + _NONCE)
    if not hmac.compare_digest(reply[:32], _mac(key, nonce, b"worker")):
        raise PermissionError("wrong authkey")
    sock.sendall(_mac(key, reply[32:], b"manager"))


def client_handshake(sock: socket.socket, key: bytes) -> None:
    """Worker side of ``server_handshake``."""
    hello = _recv_exact(sock, len(_MAGIC) + _NONCE)
    if hello[: len(_MAGIC)] != _MAGIC:
        raise CommError("the server at this address is not a libens manager")
    nonce = secrets.token_bytes(_NONCE)
    sock.sendall(_mac(key, hello[len(_MAGIC) :], b"worker") + nonce)
    if not hmac.compare_digest(_recv_exact(sock, 32), _mac(key, nonce, b"manager")):
        raise CommError("the manager failed to prove the authkey; refusing to continue")


class Acceptor:
    """Accepts and authenticates connections in a background thread; authenticated ones are
    queued for the pool, which waits on ``fileno()`` like on any worker."""

    def __init__(self, ip: str, port: int, key: bytes) -> None:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((ip, port))
        self._sock.listen(64)
        self.address = self._sock.getsockname()[:2]
        self._key = key
        self._ready = WakeQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="libens-tcp-accept", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                sock, addr = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(sock, addr), daemon=True).start()

    def _handshake(self, sock: socket.socket, addr: Any) -> None:
        peer = f"{addr[0]}:{addr[1]}"
        try:
            sock.settimeout(HANDSHAKE_SECONDS)
            server_handshake(sock, self._key)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, PermissionError, ConnectionError) as e:
            logger.warning("dropped connection from %s: %s", peer, e)
            sock.close()
            return
        self._ready.post((Connection(sock.detach()), peer))

    def fileno(self) -> int:
        return self._ready.fileno()

    def drain(self) -> list[tuple[Connection, str]]:
        return self._ready.drain()

    def wait(self, n: int, timeout: float) -> list[tuple[Connection, str]]:
        """Block until ``n`` workers authenticated (or the timeout passed)."""
        got: list[tuple[Connection, str]] = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            select.select([self._ready], [], [], left)
            got.extend(self.drain())
        return got

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.close()
        finally:
            self._ready.close()


class _Launched:
    """A worker process this manager started, with the interface ConnectionPool expects."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.name = f"libens-tcp-worker-pid-{popen.pid}"

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def terminate(self) -> None:
        self.popen.terminate()

    def kill(self) -> None:
        self.popen.kill()


def _key_bytes(authkey: str | bytes | None) -> bytes:
    if authkey is None:
        return secrets.token_hex(16).encode()
    return authkey.encode() if isinstance(authkey, str) else authkey


class TCPComms(Comms):
    """Manager side of TCP comms (see the module docstring)."""

    def __init__(
        self,
        ip: str | None = None,
        port: int = 0,
        authkey: str | bytes | None = None,
        join_timeout: float = 60.0,
        **_: Any,
    ) -> None:
        self.ip = ip or "127.0.0.1"
        self.port = port
        self.key = _key_bytes(authkey)
        self.join_timeout = join_timeout
        self.address: tuple[str, int] | None = None

    def open_pool(
        self, nworkers: int, worker_main: WorkerMain, inproc_ids: Iterable[int] = ()
    ) -> WorkerPool:
        if os.environ.get(_IN_WORKER):
            raise CommError(
                "this script started an ensemble while a tcp worker imported it; put the "
                'ensemble under `if __name__ == "__main__":` so workers can import the script'
            )
        acceptor = Acceptor(self.ip, self.port, self.key)
        self.address = acceptor.address
        host, port = acceptor.address
        env = dict(
            os.environ,
            **{
                AUTHKEY_ENV: self.key.decode(),
                _IN_WORKER: "1",
                _LAUNCHED: "1",
                _WORKER_MAIN: f"{worker_main.__module__}:{worker_main.__qualname__}",
            },
        )
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        main = sys.modules.get("__main__")
        main_path = getattr(main, "__file__", None)
        if main_path:
            env["LIBENS_MAIN_PATH"] = os.path.abspath(main_path)
        launched = [
            _Launched(
                subprocess.Popen(
                    [sys.executable, "-m", "libens.comms.tcp", "--connect", f"{host}:{port}"],
                    env=env,
                )
            )
            for _ in range(nworkers)
        ]
        joined = acceptor.wait(nworkers, self.join_timeout)
        if len(joined) < nworkers:
            for p in launched:
                p.kill()
            acceptor.close()
            raise CommError(
                f"only {len(joined)} of {nworkers} tcp workers joined within "
                f"{self.join_timeout} s at {host}:{port}"
            )
        conns = {}
        for wid, (conn, _) in enumerate(joined, start=1):
            conn.send(wid)
            conns[wid] = conn
        inproc = {wid: InprocLink(wid, worker_main) for wid in inproc_ids}
        logger.info("tcp manager at %s:%d with %d workers", host, port, nworkers)
        return ConnectionPool(conns, {}, launched, inproc, joins=acceptor)


def connect_and_run(
    address: str, authkey: str | bytes, worker_main: WorkerMain, timeout: float = 30.0
) -> None:
    """Worker side: dial ``HOST:PORT``, authenticate, receive a worker id, serve work."""
    host, _, port = address.rpartition(":")
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    client_handshake(sock, _key_bytes(authkey))
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Connection(sock.detach())
    worker_id = conn.recv()
    try:
        worker_main(ConnectionChannel(conn), worker_id)
    finally:
        conn.close()


def read_authkey(authkey_file: str | None) -> str:
    """The authkey from a file, else from ``LIBENS_AUTHKEY``; an error says how to give it."""
    if authkey_file:
        return Path(authkey_file).read_text().strip()
    key = os.environ.get(AUTHKEY_ENV)
    if not key:
        raise CommError(f"no authkey: pass --authkey-file FILE or set {AUTHKEY_ENV}")
    return key


def worker_cli(argv: list[str] | None = None) -> int:
    """``libens worker --connect HOST:PORT [--authkey-file FILE]``."""
    p = argparse.ArgumentParser(prog="libens worker")
    p.add_argument("--connect", required=True, metavar="HOST:PORT")
    p.add_argument("--authkey-file", default=None)
    args = p.parse_args(argv)
    os.environ[_IN_WORKER] = "1"
    if os.environ.get(_LAUNCHED):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the manager that launched us stops us
    main_path = os.environ.get("LIBENS_MAIN_PATH")
    if main_path and os.path.exists(main_path):
        from multiprocessing.spawn import import_main_path

        try:
            import_main_path(main_path)  # so functions defined in the user's script unpickle
        except Exception as e:
            logger.warning("could not import the manager's script %s: %s", main_path, e)
    module, _, name = os.environ.get(_WORKER_MAIN, "libens.worker:run_worker").partition(":")
    worker_main = getattr(importlib.import_module(module), name)
    connect_and_run(args.connect, read_authkey(args.authkey_file), worker_main)
    return 0


if __name__ == "__main__":
    sys.exit(worker_cli())
