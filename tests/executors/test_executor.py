"""Executor and Task: launching applications, their output, failures, timeouts and kills."""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import psutil
import pytest

from libens.errors import ExecutorError, TaskFailedToStart, TaskTimeout
from libens.executors import Executor, TaskState
from libens.messages import (
    MAN_SIGNAL_KILL,
    TASK_FAILED,
    WORKER_DONE,
    WORKER_KILL_ON_TIMEOUT,
)
from libens.resources import Resources

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def exctr() -> Executor:
    e = Executor()
    e.register_app(APPS / "sum_squares.py", calc_type="sim")
    e.register_app(APPS / "sleeper.py", app_name="sleeper")
    return e


def started_sleeper(exctr: Executor, tmp_path: Path, seconds: float = 600):
    """A running sleeper task and the pids of it and its child, read once it has started
    (it writes them to a FIFO: opening it for reading waits for the writer)."""
    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    task = exctr.submit(app_name="sleeper", app_args=[str(fifo), str(seconds)])
    pids = [int(p) for p in fifo.read_text().split()]
    return task, pids


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (or is a zombie) within ``within`` seconds. A signal
    is delivered when the process next runs, so a kill's grandchildren may take a moment."""
    deadline = time.monotonic() + within
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def test_submit_runs_the_app_and_keeps_its_output(exctr, tmp_path):
    task = exctr.submit(calc_type="sim", app_args="3 4")
    assert exctr.polling_loop(task) == WORKER_DONE
    assert task.state is TaskState.FINISHED and task.success and task.errcode == 0
    assert float(task.read_stdout()) == 25.0
    assert task.stdout == tmp_path / f"{task.name}.out" and task.stdout.exists()
    assert task.command == [sys.executable, str(APPS / "sum_squares.py"), "3", "4"]
    assert task.runtime > 0


def test_output_files_and_workdir_can_be_named(exctr, tmp_path):
    (tmp_path / "run").mkdir()
    task = exctr.submit(calc_type="sim", app_args=[1, 2], stdout="f.txt", workdir="run")
    task.wait()
    assert (tmp_path / "run" / "f.txt").read_text().strip() == "5.0"


def test_failing_app_reports_task_failed(exctr, tmp_path):
    task = exctr.submit(calc_type="sim", app_args="not-a-number")
    assert exctr.polling_loop(task) == TASK_FAILED
    assert task.state is TaskState.FAILED and task.errcode == 1
    assert "ValueError" in task.read_stderr()


def test_timeout_kills_the_app_and_what_it_started(exctr, tmp_path):
    task, pids = started_sleeper(exctr, tmp_path)
    assert exctr.polling_loop(task, timeout=0.2, delay=0.05) == WORKER_KILL_ON_TIMEOUT
    assert task.state is TaskState.USER_KILLED and task.finished and not task.success
    assert all(gone(p) for p in pids)


def test_wait_with_timeout_raises_and_leaves_it_running(exctr, tmp_path):
    task, pids = started_sleeper(exctr, tmp_path)
    with pytest.raises(TaskTimeout, match=task.name):
        task.wait(timeout=0.05)
    assert task.poll() is TaskState.RUNNING and psutil.pid_exists(pids[0])
    exctr.kill_running()
    assert task.state is TaskState.USER_KILLED and all(gone(p) for p in pids)


def test_manager_signal_kills_the_task(exctr, tmp_path):
    mine = exctr.for_worker(3, None)
    signals = iter([None, MAN_SIGNAL_KILL])
    mine.bind_call(lambda: next(signals))
    task, pids = started_sleeper(mine, tmp_path)
    assert task.name.startswith("task_sleeper_worker3_")
    assert mine.polling_loop(task, delay=0.01) == MAN_SIGNAL_KILL
    assert mine.manager_signal == MAN_SIGNAL_KILL
    assert task.state is TaskState.USER_KILLED and all(gone(p) for p in pids)
    mine.bind_call(None)
    assert mine.manager_poll() is None


def test_worker_copy_has_its_own_tasks_and_gpus(exctr, tmp_path):
    share = Resources(nodes=("n1",), cores_per_node=4, gpu_ids=("2", "3"))
    mine = exctr.for_worker(1, share)
    task = mine.submit(calc_type="sim", app_args="1", dry_run=True)
    assert task.state is TaskState.CREATED and mine.tasks == [task] and exctr.tasks == []
    assert task.env is not None and task.env["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert exctr.submit(calc_type="sim", dry_run=True).env is None
    with pytest.raises(ExecutorError, match="never started"):
        mine.polling_loop(task)


def test_executor_travels_without_its_tasks(exctr, tmp_path):
    task = exctr.submit(calc_type="sim", app_args="2")
    task.wait()
    copy = pickle.loads(pickle.dumps(exctr))
    assert copy.tasks == [] and copy.submitted == 0 and set(copy.apps) == set(exctr.apps)
    assert exctr.tasks == [task]


def test_num_gpus_picks_or_hides_the_workers_gpus(exctr):
    mine = exctr.for_worker(2, Resources(nodes=("n1",), cores_per_node=4, gpu_ids=("4", "5")))
    assert (
        mine.submit(calc_type="sim", num_gpus=1, dry_run=True).env["CUDA_VISIBLE_DEVICES"] == "4"
    )
    assert mine.submit(calc_type="sim", num_gpus=0, dry_run=True).env["CUDA_VISIBLE_DEVICES"] == ""
    with pytest.raises(ExecutorError, match=r"num_gpus=3, but worker 2 has 2 GPU\(s\) \(4, 5\)"):
        mine.submit(calc_type="sim", num_gpus=3, dry_run=True)


def test_unknown_app_and_bad_calc_type_are_named(exctr):
    with pytest.raises(ExecutorError, match=r"'nope' \(registered: sleeper, sum_squares.py\)"):
        exctr.submit(app_name="nope")
    with pytest.raises(ExecutorError, match="calc_type='gen'"):
        exctr.submit(calc_type="gen")
    with pytest.raises(ExecutorError, match="calc_type='simulation'; use 'sim'"):
        exctr.register_app(APPS / "sum_squares.py", calc_type="simulation")


def test_missing_program_fails_to_start_with_its_name(tmp_path):
    exctr = Executor()
    exctr.register_app(tmp_path / "no_such_app", app_name="ghost")
    with pytest.raises(TaskFailedToStart, match="no_such_app.*register_app"):
        exctr.submit(app_name="ghost")
    assert exctr.tasks[0].state is TaskState.FAILED


def test_missing_workdir_is_named(exctr, tmp_path):
    with pytest.raises(TaskFailedToStart, match="workdir '.*nowhere' exists"):
        exctr.submit(calc_type="sim", workdir=tmp_path / "nowhere")


def test_precedent_runs_the_app(tmp_path):
    script = tmp_path / "hello.sh"
    script.write_text("echo hello $1\n")
    exctr = Executor()
    exctr.register_app(script, precedent="sh", calc_type="sim")
    task = exctr.submit(calc_type="sim", app_args="you")
    task.wait()
    assert task.read_stdout() == "hello you\n"
