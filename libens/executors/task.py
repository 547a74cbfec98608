"""Task: one launched application, its state, its output files, and how to stop it.

An application runs in a process group of its own, so that stopping it also stops what it
started (an ``mpiexec`` and its ranks, a shell script's children). Waiting blocks on the
process's pidfd: an exit is seen at once, without polling.
"""

from __future__ import annotations

import math
import os
import select
import signal
import subprocess
import time
from enum import StrEnum
from pathlib import Path
from typing import IO

from libens.errors import TaskFailedToStart, TaskTimeout


class TaskState(StrEnum):
    """Where a task is in its life (libEnsemble's names)."""

    CREATED = "CREATED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    USER_KILLED = "USER_KILLED"


class Task:
    """A launched application: ``poll``/``wait`` for it, ``kill`` it, read its output."""

    def __init__(
        self,
        name: str,
        command: list[str],
        workdir: Path,
        stdout: Path,
        stderr: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.workdir = workdir
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.state = TaskState.CREATED
        self.errcode: int | None = None
        self.submit_time: float | None = None
        self.end_time: float | None = None
        self.process: subprocess.Popen | None = None
        self._pidfd: int | None = None

    def __repr__(self) -> str:
        return f"<Task {self.name} {self.state.value}>"

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.FINISHED, TaskState.FAILED, TaskState.USER_KILLED)

    @property
    def success(self) -> bool:
        return self.state is TaskState.FINISHED

    @property
    def runtime(self) -> float:
        """Seconds since the launch (until the end, once it has ended)."""
        if self.submit_time is None:
            return 0.0
        return (self.end_time or time.time()) - self.submit_time

    def start(self) -> None:
        """Launch the command in its own process group, output to the task's files."""
        self.state = TaskState.FAILED  # until it has started
        try:
            with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
                self.process = self._popen(out, err)
        except OSError as e:
            raise TaskFailedToStart(
                f"task {self.name} cannot write its output ({e}); check that workdir "
                f"{str(self.workdir)!r} exists and that stdout/stderr name files in it"
            ) from e
        self.submit_time = time.time()
        self.state = TaskState.RUNNING
        try:
            self._pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: Popen.wait's own waiting
            self._pidfd = None

    def _popen(self, out: IO[bytes], err: IO[bytes]) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                self.command,
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        except OSError as e:
            raise TaskFailedToStart(
                f"task {self.name} could not start {self.command[0]!r}: {e}; "
                "check the path given to register_app (or the MPI runner) and that it "
                "is executable"
            ) from e

    def poll(self) -> TaskState:
        """Update the state from the process without waiting."""
        if self.process is not None and not self.finished:
            code = self.process.poll()
            if code is not None:
                self._ended(code)
        return self.state

    def wait(self, timeout: float | None = None) -> TaskState:
        """Wait for the task to end; raise TaskTimeout if it is still running after
        ``timeout`` seconds (it keeps running: kill it if it should not)."""
        if not self.wait_for(timeout):
            raise TaskTimeout(f"task {self.name} still running after {timeout} s")
        return self.state

    def wait_for(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds (None: until it ends); True once it has ended."""
        if self.process is None or self.finished:
            return self.finished
        if self._pidfd is not None:
            poller = select.poll()
            poller.register(self._pidfd, select.POLLIN)
            poller.poll(None if timeout is None else max(0, math.ceil(timeout * 1000)))
            return self.poll() is not TaskState.RUNNING
        try:
            self._ended(self.process.wait(timeout))
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self, grace: float = 5.0) -> None:
        """Stop the task and everything it started: SIGTERM to its process group, then
        SIGKILL if it is still there after ``grace`` seconds."""
        if self.process is None or self.poll() is not TaskState.RUNNING:
            return
        group = self.process.pid
        _signal_group(group, signal.SIGTERM)
        if not self.wait_for(grace):
            _signal_group(group, signal.SIGKILL)
            self.wait_for(None)
        _signal_group(group, signal.SIGKILL)  # what outlived the first process of the group
        self.state = TaskState.USER_KILLED

    def read_stdout(self) -> str:
        return self.stdout.read_text() if self.stdout.exists() else ""

    def read_stderr(self) -> str:
        return self.stderr.read_text() if self.stderr.exists() else ""

    def _ended(self, code: int) -> None:
        self.errcode = code
        self.end_time = time.time()
        self.state = TaskState.FINISHED if code == 0 else TaskState.FAILED
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass
