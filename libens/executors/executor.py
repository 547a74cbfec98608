"""Executor: launch registered applications from a user function and supervise them.

The user builds one Executor, registers applications on it and passes it to the ensemble
(``Ensemble(..., executor=exctr)``). Every worker gets its own copy, bound to its id, its
share of the resources and its channel to the manager, as ``libE_info["executor"]``: no
process-wide singleton. ``polling_loop`` waits for a task and stops it on a timeout or when
the manager asks for the task's points to be killed, or stops the run.
"""

from __future__ import annotations

import copy
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from libens.errors import ExecutorError
from libens.executors.task import Task, TaskState
from libens.messages import TASK_FAILED, WORKER_DONE, WORKER_KILL_ON_TIMEOUT
from libens.resources import Resources

# the manager's signal to a running calculation, or None: see Executor.manager_poll
ManagerSignal = Callable[[], int | None]

CALC_TYPES = ("sim", "gen")


@dataclass(frozen=True)
class Application:
    """A registered application: what runs it (``precedent``, e.g. a Python interpreter)
    and its path."""

    name: str
    full_path: str
    calc_type: str | None = None
    desc: str = ""
    precedent: tuple[str, ...] = ()

    def command(self, app_args: str | Sequence[str] | None) -> list[str]:
        return [*self.precedent, self.full_path, *as_args(app_args)]


def as_args(args: str | Sequence[str] | None) -> list[str]:
    """Command-line words from a string (split as a shell would) or a sequence."""
    if args is None:
        return []
    return shlex.split(args) if isinstance(args, str) else [str(a) for a in args]


class Executor:
    """Runs registered applications as processes of the worker that submits them."""

    def __init__(self) -> None:
        self.apps: dict[str, Application] = {}
        self.default_app: dict[str, str] = {}  # calc_type -> app name
        self.worker_id: int | None = None
        self.resources: Resources | None = None
        self.tasks: list[Task] = []  # this worker's tasks not seen to end
        self.submitted = 0
        self._signal: ManagerSignal | None = None
        self.manager_signal: int | None = None
        self.call_tasks: list[Task] = []  # the current calculation's

    def register_app(
        self,
        full_path: str | Path,
        app_name: str | None = None,
        calc_type: str | None = None,
        desc: str = "",
        precedent: str | Sequence[str] = "",
    ) -> Application:
        """Register an application under ``app_name`` (default: the file's name); with
        ``calc_type`` ("sim" or "gen") it is also that type's default. A ``.py`` file runs
        with this Python unless ``precedent`` says what runs it."""
        if calc_type is not None and calc_type not in CALC_TYPES:
            raise ExecutorError(
                f"register_app: calc_type={calc_type!r}; use 'sim', 'gen' or leave it out"
            )
        path = str(full_path)
        name = app_name or Path(path).name
        runs_with = tuple(as_args(precedent))
        if not runs_with and path.endswith(".py"):
            runs_with = (sys.executable,)
        app = Application(name, path, calc_type, desc, runs_with)
        self.apps[name] = app
        if calc_type is not None:
            self.default_app[calc_type] = name
        return app

    def get_app(self, app_name: str | None = None, calc_type: str | None = None) -> Application:
        """The application named, or the default of ``calc_type``."""
        if app_name is not None:
            app = self.apps.get(app_name)
            if app is None:
                known = ", ".join(sorted(self.apps)) or "none"
                raise ExecutorError(
                    f"no application registered as {app_name!r} (registered: {known}); "
                    "call register_app before the run starts"
                )
            return app
        if calc_type is not None and calc_type in self.default_app:
            return self.apps[self.default_app[calc_type]]
        raise ExecutorError(
            f"submit needs app_name, or a calc_type with a default application "
            f"(register_app(..., calc_type={calc_type or 'sim'!r})); got calc_type={calc_type!r}"
        )

    def for_worker(self, worker_id: int, resources: Resources | None) -> Executor:
        """This executor's copy for one worker, with its id and its share of the resources
        (the applications are shared, the tasks are its own)."""
        mine = copy.copy(self)
        mine.worker_id, mine.resources = worker_id, resources
        mine.tasks, mine.submitted = [], 0
        mine.bind_call(None)
        return mine

    def __getstate__(self) -> dict:
        """What travels to a worker: applications and settings, not this process's tasks."""
        state = self.__dict__.copy()
        state.update(tasks=[], call_tasks=[], submitted=0, _signal=None, manager_signal=None)
        return state

    def bind_call(self, signal: ManagerSignal | None) -> None:
        """Start a calculation: set how it hears the manager (None: it does not)."""
        self._signal, self.manager_signal = signal, None
        self.call_tasks = []

    def submit(
        self,
        calc_type: str | None = None,
        app_name: str | None = None,
        app_args: str | Sequence[str] | None = None,
        stdout: str | Path | None = None,
        stderr: str | Path | None = None,
        env: dict[str, str] | None = None,
        workdir: str | Path | None = None,
        dry_run: bool = False,
        num_gpus: int | None = None,
        auto_assign_gpus: bool = True,
    ) -> Task:
        """Launch an application; its output goes to ``stdout``/``stderr`` (default
        ``<task name>.out``/``.err`` in ``workdir``, default the current directory).
        It sees the worker's GPUs (``num_gpus``: the first that many) through the GPU
        variable, unless ``auto_assign_gpus=False`` leaves that variable as it is;
        ``dry_run`` returns the task with its command, not started."""
        app = self.get_app(app_name, calc_type)
        command = app.command(app_args)
        return self._launch(
            app, command, stdout, stderr, env, workdir, dry_run, num_gpus, auto_assign_gpus
        )

    def _launch(
        self,
        app: Application,
        command: list[str],
        stdout: str | Path | None,
        stderr: str | Path | None,
        env: dict[str, str] | None,
        workdir: str | Path | None,
        dry_run: bool,
        num_gpus: int | None = None,
        assign_gpus: bool = True,
    ) -> Task:
        where = Path(workdir) if workdir is not None else Path.cwd()
        worker = "" if self.worker_id is None else f"_worker{self.worker_id}"
        name = f"task_{app.name}{worker}_{self.submitted}"
        self.submitted += 1
        task = Task(
            name,
            command,
            where,
            where / (stdout or f"{name}.out"),
            where / (stderr or f"{name}.err"),
            self._environment(env, num_gpus if assign_gpus else None, assign_gpus),
        )
        self.tasks = [t for t in self.tasks if not t.finished]
        self.tasks.append(task)
        self.call_tasks.append(task)
        if not dry_run:
            task.start()
        return task

    def _environment(
        self, extra: dict[str, str] | None, num_gpus: int | None, assign_gpus: bool = True
    ) -> dict[str, str] | None:
        """The task's environment: this process's, the worker's GPUs (the first
        ``num_gpus`` of them if given; not set without ``assign_gpus``), then ``extra``."""
        share = self.resources if assign_gpus else None
        gpus = share.gpu_ids if share is not None else ()
        if num_gpus is not None:
            if num_gpus < 0 or num_gpus > len(gpus):
                who = "this process" if self.worker_id is None else f"worker {self.worker_id}"
                raise ExecutorError(
                    f"submit: num_gpus={num_gpus}, but {who} has {len(gpus)} GPU(s) "
                    f"({', '.join(gpus) or 'none'}); ask for 0 to {len(gpus)}, or run fewer "
                    "workers per node (they share its GPUs)"
                )
            gpus = gpus[:num_gpus]
        hide_or_pick = share is not None and (gpus or num_gpus is not None)
        if not hide_or_pick and not extra:
            return None
        env = dict(os.environ)
        if hide_or_pick and share is not None:
            env[share.gpu_env_var] = ",".join(gpus)
        env.update(extra or {})
        return env

    def manager_poll(self) -> int | None:
        """The manager's signal to this call, if one came: MAN_SIGNAL_KILL (its points are
        to be killed) or MAN_SIGNAL_FINISH (the run is stopping); kept in
        ``manager_signal``. Always None in a persistent call (its messages are
        PersistentSupport's) and outside an ensemble."""
        if self.manager_signal is None and self._signal is not None:
            self.manager_signal = self._signal()
        return self.manager_signal

    def polling_loop(
        self,
        task: Task,
        timeout: float | None = None,
        delay: float = 0.1,
        poll_manager: bool = True,
    ) -> int:
        """Wait for ``task``; kill it after ``timeout`` seconds of running, or when the
        manager signals (checked every ``delay`` seconds). Returns the calculation status
        for the user function to return: WORKER_DONE, TASK_FAILED, WORKER_KILL_ON_TIMEOUT,
        MAN_SIGNAL_KILL or MAN_SIGNAL_FINISH."""
        if task.state is TaskState.CREATED:
            raise ExecutorError(f"task {task.name} was never started (dry_run); nothing to wait")
        while True:
            step = delay
            if timeout is not None:
                step = min(step, max(0.0, timeout - task.runtime))
            if task.wait_for(step):
                return WORKER_DONE if task.success else TASK_FAILED
            if timeout is not None and task.runtime >= timeout:
                task.kill()
                return WORKER_KILL_ON_TIMEOUT
            if poll_manager and (signal := self.manager_poll()) is not None:
                task.kill()
                return signal

    def kill(self, task: Task, grace: float = 5.0) -> None:
        """Kill a task (as ``task.kill``)."""
        task.kill(grace)

    def kill_running(self, grace: float = 1.0, this_call: bool = False) -> None:
        """Kill every task of this worker still running (the worker is ending), or those
        the current calculation started (it raised)."""
        for task in self.call_tasks if this_call else self.tasks:
            task.kill(grace)
