"""The transport contract (libens/testing/comms.py) on every backend started from Python."""

from __future__ import annotations

import pytest

from libens.comms import registry
from libens.testing import comms as contract

BACKENDS = ["local", "threads", "tcp"]


@pytest.fixture(params=BACKENDS)
def pool(request):
    backend = registry.get(request.param)()
    pool = backend.open_pool(2, contract.echo_worker, inproc_ids=[0])
    yield pool
    contract.stop(pool)


def test_round_trip(pool):
    assert pool.worker_ids == [0, 1, 2]
    contract.check_round_trip(pool)


def test_many_ready(pool):
    contract.check_many_ready(pool)


def test_large_array_bit_exact(pool):
    contract.check_large_array_bit_exact(pool)


def test_idle_timeout(pool):
    contract.check_idle_timeout(pool)


@pytest.mark.parametrize("backend", ["local", "tcp"])
def test_dead_worker_reported_once(backend):
    pool = registry.get(backend)().open_pool(2, contract.echo_worker)
    try:
        contract.check_dead_worker_reported_once(pool, 1)
    finally:
        contract.stop(pool)
