"""The libens error hierarchy: every error a user can see derives from LibensError."""

from __future__ import annotations


class LibensError(Exception):
    """Base class of every libens error."""


class SpecError(LibensError, ValueError):
    """A spec (SimSpecs, GenSpecs, ...) is invalid; the message names the field and the fix."""


class WorkerError(LibensError):
    """A user function raised on a worker, or a worker was lost; carries the remote traceback."""


class GeneratorError(LibensError):
    """A generator (gen_f or gest-api object) failed or broke the generator contract."""


class SimulatorError(LibensError):
    """A simulator returned output that does not match its spec."""


class CalculationTimeout(LibensError):
    """A simulation ran past ``SimSpecs.timeout``."""


class CommError(LibensError):
    """A transport failed: a peer closed, a message could not be sent or decoded."""


class ChannelClosed(CommError):
    """The peer at the other end of a channel is gone."""


class ChannelTimeout(CommError):
    """Nothing arrived on a channel before the timeout."""


class RunDirError(LibensError):
    """A run directory is locked, corrupt or does not match the new run's specs."""


class ResourceError(LibensError):
    """The machine's resources could not be read, or cannot be shared among the workers."""


class ExecutorError(LibensError):
    """An application could not be registered, launched or supervised."""


class TaskFailedToStart(ExecutorError):
    """An application's process could not be started (no such file, not executable, ...)."""


class TaskTimeout(ExecutorError):
    """A task was still running when ``Task.wait``'s timeout passed."""


class RemoteTraceback(Exception):
    """Carries the text of a traceback raised in another process, shown as ``__cause__``."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f"\n\n--- traceback on the worker ---\n{self.tb}"
