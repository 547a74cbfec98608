"""Launch and supervise applications from user functions (subprocesses, MPI runs)."""

from libens.executors.executor import Application, Executor
from libens.executors.mpi import MPIExecutor, detect_runner
from libens.executors.task import Task, TaskState

__all__ = ["Application", "Executor", "MPIExecutor", "Task", "TaskState", "detect_runner"]
