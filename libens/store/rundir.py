"""The run directory: its layout, the lock that keeps a second manager out, and the spec
record that a resumed run must match."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import psutil

from libens.errors import RunDirError

logger = logging.getLogger("libens.store")

SPEC_FILE = "spec.json"
LOCK_FILE = "lock"
GUARD_FILE = ".lock.guard"
JOURNAL = Path("journal") / "events.bin"
HISTORY_FILE = "history.npy"
GENERATOR_FILE = "generator.pkl"
PERSIS_INFO_FILE = "persis_info.pickle"


def spec_diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Human-readable differences between two spec records."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += spec_diff(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"  {prefix}{key}: was {a!r}, now {b!r}")
    return out


class RunDir:
    """Owns ``path`` for one manager: lock taken on ``open``, released on ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    @property
    def exists(self) -> bool:
        return (self.path / SPEC_FILE).exists()

    def open(self, spec: dict[str, Any], overwrite: bool = False) -> bool:
        """Take the lock and check (or write) the spec record. Returns True when the
        directory holds a previous run to resume."""
        if overwrite and self.path.exists():
            self._lock()  # refuse to delete a directory another manager is using
            logger.warning("overwrite=True: deleting the previous run in %s", self.path)
            self._unlock()
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        spec_file = self.path / SPEC_FILE
        if spec_file.exists():
            old = json.loads(spec_file.read_text())
            diff = spec_diff(old, spec)
            if diff:
                self._unlock()
                raise RunDirError(
                    f"run directory {self.path} holds a run with different specs:\n"
                    + "\n".join(diff)
                    + "\nuse another run_dir, or LibeSpecs(overwrite=True) to start afresh"
                )
            return True
        (self.path / JOURNAL).parent.mkdir(parents=True, exist_ok=True)
        tmp = spec_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(spec, indent=2, sort_keys=True))
        os.replace(tmp, spec_file)
        return False

    def lock(self) -> None:
        """Take the lock (RunDirError if another live manager holds it)."""
        self._lock()

    def _lock(self) -> None:
        # the check-and-take-over below is serialized (flock on a guard file), so two
        # managers that find the same stale lock cannot both take it
        with open(self.path / GUARD_FILE, "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                self._take_lock()
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _take_lock(self) -> None:
        lock = self.path / LOCK_FILE
        me = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner(lock)
                if owner is not None and not self._stale(owner):
                    raise RunDirError(
                        f"run directory {self.path} is in use by pid {owner.get('pid')} on "
                        f"host {owner.get('host')} (since "
                        f"{time.ctime(owner.get('started', 0))}); wait for it to finish or "
                        "use another run_dir"
                    ) from None
                logger.warning(
                    "taking over the stale lock of %s (owner %s is gone)", self.path, owner
                )
                lock.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return

    @staticmethod
    def _owner(lock: Path) -> dict | None:
        try:
            return json.loads(lock.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _stale(owner: dict) -> bool:
        if owner.get("host") != socket.gethostname():
            return False  # cannot check another host's processes: assume it is alive
        pid = owner.get("pid")
        if not isinstance(pid, int) or not psutil.pid_exists(pid):
            return True
        try:
            return psutil.Process(pid).create_time() > owner.get("started", 0) + 1
        except psutil.Error:
            return True

    def _unlock(self) -> None:
        (self.path / LOCK_FILE).unlink(missing_ok=True)

    def close(self) -> None:
        self._unlock()
