"""TCP specifics: authentication, clients that misbehave, workers that join late or die."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import psutil
import pytest
import userfuncs as uf

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.comms.tcp import TCPComms, client_handshake
from libens.errors import CommError
from libens.testing import comms as contract

TESTS = str(Path(__file__).resolve().parents[1])
GEN = GenSpecs(gen_f=uf.batch_gen, outputs=[("x", float, 2)], user={"gen_batch_size": 4})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_key_and_garbage_clients_are_dropped_and_pool_carries_on(caplog):
    comms = TCPComms(authkey="right-key")
    pool = comms.open_pool(1, contract.echo_worker)
    host, port = comms.address
    try:
        with caplog.at_level(logging.WARNING, logger="libens.comms.tcp"):
            with socket.create_connection((host, port)) as bad:
                with pytest.raises((CommError, ConnectionError)):
                    client_handshake(bad, b"wrong-key")
            with socket.create_connection((host, port)) as junk:
                junk.recv(64)
                junk.sendall(os.urandom(64))
                assert junk.recv(64) == b""  # dropped
            contract.check_round_trip(pool)
        assert sum("dropped connection" in r.message for r in caplog.records) == 2
    finally:
        contract.stop(pool)


def _command_line(process: psutil.Process) -> str:
    """A process's command line; empty for one that has exited meanwhile."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def test_authkey_never_on_the_command_line():
    comms = TCPComms(authkey="s3cret")
    pool = comms.open_pool(1, contract.echo_worker)
    try:
        contract.check_round_trip(pool)  # the worker is up and connected
        lines = [_command_line(p) for p in psutil.Process().children(recursive=True)]
        workers = [line for line in lines if "libens.comms.tcp" in line]
        assert workers
        assert not [line for line in workers if "s3cret" in line]
    finally:
        contract.stop(pool)


def test_worker_started_by_hand_joins_a_running_ensemble(tmp_path):
    port = free_port()
    key_file = tmp_path / "key"
    key_file.write_text("join-key")
    sim = SimSpecs(
        sim_f=uf.slow_sphere, inputs=["x"], outputs=[("f", float)], user={"delay": 0.05}
    )
    result = {}

    def manager():
        result["H"] = libE(
            sim,
            GEN,
            ExitCriteria(sim_max=60),
            libE_specs=LibeSpecs(
                comms="tcp",
                nworkers=1,
                port=port,
                authkey="join-key",
                disable_log_files=True,
                chunk_short_sims=False,
            ),
        )[0]

    t = threading.Thread(target=manager)
    t.start()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS, *sys.path]))
    joiner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "libens.cli",
            "worker",
            "--connect",
            f"127.0.0.1:{port}",
            "--authkey-file",
            str(key_file),
        ],
        env=env,
    )
    t.join(60)
    joiner.wait(30)
    H = result["H"]
    assert joiner.returncode == 0
    assert H["sim_ended"].sum() == 60
    assert {1, 2} <= set(H["sim_worker"][H["sim_ended"]].tolist())


def test_worker_killed_mid_run_has_its_point_requeued(tmp_path):
    sim = SimSpecs(
        sim_f=uf.sigkill_once_sim,
        inputs=["x"],
        outputs=[("f", float)],
        user={"marker": str(tmp_path / "killed")},
    )
    H, _, flag = libE(
        sim,
        GEN,
        ExitCriteria(sim_max=12),
        libE_specs=LibeSpecs(
            comms="tcp", nworkers=3, on_worker_lost="requeue", disable_log_files=True
        ),
    )
    assert flag == 0
    done = H[H["sim_ended"]]
    assert len(done) >= 12 and not done["sim_failed"].any()
    assert np.allclose(done["f"], np.sum(done["x"] ** 2, axis=1))
    assert (tmp_path / "killed").exists()


def test_worker_without_authkey_gets_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "LIBENS_AUTHKEY"}
    out = subprocess.run(
        [sys.executable, "-m", "libens.cli", "worker", "--connect", "127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "--authkey-file" in out.stderr
