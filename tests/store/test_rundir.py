"""The run directory: lock, stale locks, spec mismatch, overwrite."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from libens.errors import RunDirError
from libens.store.rundir import RunDir

SPEC = {"sim": {"function": "f", "outputs": ["('f', '<f8')"]}, "alloc": "a"}


def test_second_manager_is_refused_with_owner_in_message(tmp_path):
    first = RunDir(tmp_path / "run")
    assert first.open(SPEC) is False
    with pytest.raises(
        RunDirError,
        match=rf"in use by pid {os.getpid()} on host "
        rf"{socket.gethostname()}",
    ):
        RunDir(tmp_path / "run").open(SPEC)
    first.close()
    assert RunDir(tmp_path / "run").open(SPEC) is True


def test_stale_lock_is_taken_over(tmp_path, caplog):
    run = tmp_path / "run"
    RunDir(run).open(SPEC)  # never closed: its lock stays
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (run / "lock").write_text(
        json.dumps({"host": socket.gethostname(), "pid": int(dead), "started": 0})
    )
    assert RunDir(run).open(SPEC) is True
    assert "stale lock" in caplog.text


def test_spec_mismatch_shows_the_difference_and_overwrite_starts_afresh(tmp_path, caplog):
    run = tmp_path / "run"
    d = RunDir(run)
    d.open(SPEC)
    (run / "marker").write_text("old")
    d.close()
    changed = {**SPEC, "sim": {"function": "g", "outputs": SPEC["sim"]["outputs"]}}
    with pytest.raises(RunDirError, match=r"sim.function: was 'f', now 'g'"):
        RunDir(run).open(changed)
    assert RunDir(run).open(changed, overwrite=True) is False
    assert not (run / "marker").exists()
    assert "deleting the previous run" in caplog.text
