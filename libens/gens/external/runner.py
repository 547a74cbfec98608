"""Run an external generator program once: a fresh directory with input.json, the program
with that directory as its first argument, results.json read back. Timeouts kill the whole
process group; the environment and working directory are the caller's choice."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libens.errors import GeneratorError


class ExternalGeneratorError(GeneratorError):
    """An external generator program failed or returned something invalid."""


@dataclass
class Program:
    """How to start the program (``command`` as a list, or a string: split like a shell
    would, or run by ``/bin/sh`` only when ``shell=True``)."""

    command: list[str] | str
    shell: bool = False
    env: dict[str, str] | None = None
    cwd: str | None = None
    timeout: float = 60.0
    keep_dirs: bool = False

    @property
    def name(self) -> str:
        return self.command if isinstance(self.command, str) else " ".join(self.command)

    def argv(self, workdir: Path) -> list[str] | str:
        if self.shell:
            text = self.command if isinstance(self.command, str) else shlex.join(self.command)
            return f"{text} {shlex.quote(str(workdir))}"
        cmd = shlex.split(self.command) if isinstance(self.command, str) else list(self.command)
        return [*cmd, str(workdir)]

    def run(self, payload: dict[str, Any]) -> Any:
        """Write input.json, run the program, return the parsed results.json."""
        workdir = Path(tempfile.mkdtemp(prefix="libens-extgen-"))
        try:
            (workdir / "input.json").write_text(json.dumps(payload))
            self._execute(workdir)
            out = workdir / "results.json"
            if not out.exists():
                raise ExternalGeneratorError(
                    f"generator program {self.name!r} wrote no results.json in its directory "
                    "(the first argument)"
                )
            try:
                return json.loads(out.read_text())
            except ValueError as e:
                raise ExternalGeneratorError(
                    f"generator program {self.name!r} wrote invalid JSON to results.json: {e}"
                ) from None
        finally:
            if not self.keep_dirs:
                shutil.rmtree(workdir, ignore_errors=True)

    def _execute(self, workdir: Path) -> None:
        env = dict(os.environ) if self.env is None else dict(self.env)
        proc = subprocess.Popen(
            self.argv(workdir),
            shell=self.shell,
            env=env,
            cwd=self.cwd or workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the program and every child it started
            proc.communicate()
            raise ExternalGeneratorError(
                f"generator program {self.name!r} ran longer than its timeout of "
                f"{self.timeout} s and was killed (with its children)"
            ) from None
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-10:]
            raise ExternalGeneratorError(
                f"generator program {self.name!r} exited with code {proc.returncode}; "
                "end of its stderr:\n  " + "\n  ".join(tail)
            )
