"""Shared fixtures: every test runs in its own temporary directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["local", "threads", "tcp"])
def comms(request) -> str:
    """The on-one-machine comms every engine behaviour is tested against."""
    return request.param
