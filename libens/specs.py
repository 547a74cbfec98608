"""Pydantic specs of an ensemble, with libEnsemble's field names and meanings.

Specs also answer libEnsemble-style reads (``gen_specs["user"]``, ``sim_specs["in"]``,
``"user" in sim_specs``, ``.get``), so unmodified libEnsemble user functions run on libens.
A bad field raises ``SpecError`` naming the spec, the field and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

import libens.vocs as vocs_fields
from libens.errors import SpecError

FieldSpec = tuple  # ("name", dtype) or ("name", dtype, shape), as in numpy dtype lists


def _explain(model: type[BaseModel], err: ValidationError) -> str:
    lines = [f"invalid {model.__name__}:"]
    known = list(model.model_fields) + [f.alias for f in model.model_fields.values() if f.alias]
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(spec)"
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(e["loc"][0]), known, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known fields: {', '.join(sorted(known))}"
            )
            lines.append(f"  {model.__name__}.{field}: unknown field{hint}")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"  {model.__name__}.{field}: {msg} (got {e.get('input')!r})")
    return "\n".join(lines)


_KEYS: dict[type, dict[str, str]] = {}  # per spec class: field name or alias -> field


class _Spec(BaseModel):
    """Base of all specs: forbids unknown fields, reads like a libEnsemble dict."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise SpecError(_explain(type(self), e)) from None

    @classmethod
    def coerce(cls, value: Any) -> Any:
        """Accept an instance, a dict (libEnsemble style) or None (all defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise SpecError(f"expected {cls.__name__} or a dict, got {type(value).__name__}")

    @classmethod
    def _attr(cls, key: str) -> str:
        keys = _KEYS.get(cls)
        if keys is None:
            keys = {name: name for name in cls.model_fields}
            keys.update({i.alias: n for n, i in cls.model_fields.items() if i.alias})
            _KEYS[cls] = keys
        return keys[key]

    def __getitem__(self, key: str) -> Any:
        try:  # user functions read specs this way once per call: the known keys go first
            return getattr(self, _KEYS[type(self)][key])
        except KeyError:
            return getattr(self, self._attr(key))

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._attr(key), value)

    def __contains__(self, key: object) -> bool:
        try:
            return getattr(self, self._attr(str(key))) is not None
        except KeyError:
            return False

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get`` for libEnsemble-style reads."""
        try:
            value = getattr(self, self._attr(key))
        except KeyError:
            return default
        return default if value is None else value


def input_fields(fields: list[str]) -> Callable[[Callable], Callable]:
    """Declare a user function's input fields on the function itself (libEnsemble's
    decorator): a SimSpecs or GenSpecs without ``inputs`` takes them from it."""
    return _declare("inputs", fields)


def persistent_input_fields(fields: list[str]) -> Callable[[Callable], Callable]:
    """Declare the fields a persistent user function receives while it runs (its specs'
    ``persis_in`` when they leave it out)."""
    return _declare("persis_in", fields)


def output_data(fields: list[FieldSpec]) -> Callable[[Callable], Callable]:
    """Declare a user function's output fields (its specs' ``outputs`` when they leave
    them out), as NumPy field specs such as ``("f", float)``."""
    return _declare("outputs", fields)


def _declare(attribute: str, fields: list) -> Callable[[Callable], Callable]:
    def decorate(func: Callable) -> Callable:
        setattr(func, attribute, list(fields))
        return func

    return decorate


def _fill_from_function(spec: _Spec, func: Callable | None) -> None:
    """Fields a spec leaves out, taken from what its function declares (decorators above)."""
    for attribute in ("inputs", "persis_in", "outputs"):
        declared = getattr(func, attribute, None)
        if declared and not getattr(spec, attribute):
            setattr(spec, attribute, list(declared))


class SimSpecs(_Spec):
    """What a simulation worker runs and which history fields go in and come out."""

    sim_f: Callable | None = None
    simulator: Callable | None = None
    inputs: list[str] = Field(default_factory=list, alias="in")
    persis_in: list[str] = Field(default_factory=list)
    outputs: list[FieldSpec] = Field(default_factory=list, alias="out")
    user: dict[str, Any] = Field(default_factory=dict)
    threaded: bool = False
    vocs: Any = None
    timeout: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> SimSpecs:
        if self.sim_f is None and self.simulator is None:
            raise ValueError(
                "set sim_f (a libEnsemble-style function) or simulator (fn(dict) -> dict)"
            )
        _fill_from_function(self, self.sim_f)
        if self.vocs is not None:
            if not self.inputs:
                self.inputs = vocs_fields.sim_input_names(self.vocs)
            if not self.outputs:
                self.outputs = vocs_fields.sim_output_fields(self.vocs)
        if self.simulator is not None and (not self.inputs or not self.outputs):
            raise ValueError("a simulator needs vocs, or inputs and outputs, to know its fields")
        return self


class GenSpecs(_Spec):
    """What a generator runs (a gen_f, or a gest-api generator object) and its fields."""

    gen_f: Callable | None = None
    generator: Any = None
    inputs: list[str] = Field(default_factory=list, alias="in")
    persis_in: list[str] = Field(default_factory=list)
    outputs: list[FieldSpec] = Field(default_factory=list, alias="out")
    user: dict[str, Any] = Field(default_factory=dict)
    threaded: bool = False
    vocs: Any = None
    batch_size: int = Field(0, ge=0)
    initial_batch_size: int = Field(0, ge=0)
    initial_sample_method: Literal["uniform"] | None = None
    async_return: bool = False
    active_recv_gen: bool = False
    alt_type: bool = False
    batch_evaluate_same_priority: bool = False
    num_active_gens: int = Field(1, ge=1)
    failed_results: Literal["skip", "nan"] = "skip"

    @model_validator(mode="after")
    def _check(self) -> GenSpecs:
        if self.gen_f is not None and self.generator is not None:
            raise ValueError("set either gen_f or generator, not both")
        _fill_from_function(self, self.gen_f)
        if self.generator is not None and self.vocs is None:
            self.vocs = getattr(self.generator, "vocs", None)
            if self.vocs is None:
                raise ValueError("a gest-api generator needs vocs=VOCS(...) to know its fields")
        if self.vocs is not None:
            vocs_fields.check_vocs(self.vocs)
            returns_id = bool(getattr(self.generator, "returns_id", False))
            if not self.outputs:
                self.outputs = vocs_fields.gen_output_fields(self.vocs, returns_id)
            told = vocs_fields.vocs_field_names(self.vocs) + (["_id"] if returns_id else [])
            if self.generator is not None:
                told.append("sim_failed")
            if not self.persis_in and not _learns_nothing(self.generator):
                self.persis_in = told
            if not self.inputs and self.generator is not None:
                self.inputs = [*(self.persis_in or told), "sim_ended", "gen_worker"]
        return self


def _learns_nothing(generator: Any) -> bool:
    """Whether a generator object is given no result fields (``gens.base.learns_nothing``);
    imported only when there is one, so a run of a classic gen_f never imports gest-api."""
    if generator is None:
        return False
    from libens.gens.base import learns_nothing

    return learns_nothing(generator)


class AllocSpecs(_Spec):
    """Which allocation policy decides who does what (None: chosen from the generator kind)."""

    alloc_f: Callable | None = None
    user: dict[str, Any] = Field(default_factory=dict)
    outputs: list[FieldSpec] = Field(default_factory=list, alias="out")


class ExitCriteria(_Spec):
    """When the run ends: the first criterion met stops it."""

    sim_max: int | None = Field(None, ge=0)
    gen_max: int | None = Field(None, ge=0)
    wallclock_max: float | None = Field(None, gt=0)
    stop_val: tuple[str, float] | None = None
    total_sim_max: int | None = Field(None, ge=0)
    cost_max: float | None = Field(None, gt=0)
    cost_field: str = "cost"


class LibeSpecs(_Spec):
    """How the ensemble runs: comms, workers, outputs and error handling."""

    comms: Literal["local", "threads", "mpi", "tcp"] | None = None
    nworkers: int | None = Field(None, ge=0)
    gen_on_manager: bool | None = None
    gen_workers: list[int] = Field(default_factory=list)
    zero_resource_workers: list[int] = Field(default_factory=list)
    resources: Any = None  # libens.resources.Resources for an executor; None: detect them
    num_resource_sets: int | None = Field(None, ge=1)  # lend sets per simulation (resources.sets)
    gen_num_procs: int = Field(0, ge=0)  # with num_resource_sets: sets lent to generator calls
    gen_num_gpus: int = Field(0, ge=0)
    dedicated_mode: bool = False  # launch nothing on the node the ensemble runs on
    start_method: Literal["fork", "spawn", "forkserver"] | None = None
    threads_on_one_cpu: bool = True
    threads_tiny_on_manager: bool = True
    mpi_comm: Any = None
    ip: str | None = None
    port: int = 0
    authkey: str | None = None
    workers: list[str] = Field(default_factory=list)
    run_dir: Path | None = None
    overwrite: bool = False
    journal_sync: Literal["os", "fsync"] = "os"
    save_every_k_sims: int = Field(0, ge=0)
    save_every_k_gens: int = Field(0, ge=0)
    save_H_on_completion: bool = True
    save_H_and_persis_on_abort: bool = True
    H_file_prefix: str = "libE_history"
    abort_on_exception: bool = True
    kill_canceled_sims: bool = False
    final_gen_send: bool = False
    safe_mode: bool = False
    disable_log_files: bool = False
    progress_interval: float | None = Field(None, gt=0)  # s between progress lines on stderr
    use_persis_return_gen: bool = False
    use_persis_return_sim: bool = False
    worker_timeout: float = Field(5.0, gt=0)
    chunk_short_sims: bool = True
    on_sim_error: Literal["stop", "continue"] = "stop"
    on_worker_lost: Literal["stop", "requeue", "fail"] = "stop"
    max_requeues: int = Field(1, ge=0)
    sim_dirs_make: bool = False
    gen_dirs_make: bool = False
    ensemble_dir_path: Path = Path("ensemble")
    use_worker_dirs: bool = False
    sim_input_dir: Path | None = None
    sim_dir_copy_files: list[Path] = Field(default_factory=list)
    sim_dir_symlink_files: list[Path] = Field(default_factory=list)
    gen_input_dir: Path | None = None
    gen_dir_copy_files: list[Path] = Field(default_factory=list)
    gen_dir_symlink_files: list[Path] = Field(default_factory=list)
    reuse_output_dir: bool = False
    calc_dir_id_width: int = Field(4, ge=1)
    ensemble_copy_back: bool = False

    @field_validator("sim_input_dir", "gen_input_dir")
    @classmethod
    def _input_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                "not a directory; give the directory whose contents each calculation "
                "directory starts with"
            )
        return value.resolve() if value is not None else None

    @field_validator(
        "sim_dir_copy_files",
        "sim_dir_symlink_files",
        "gen_dir_copy_files",
        "gen_dir_symlink_files",
    )
    @classmethod
    def _listed_files_exist(cls, value: list[Path]) -> list[Path]:
        missing = [str(p) for p in value if not p.exists()]
        if missing:
            raise ValueError(f"{', '.join(missing)} does not exist; fix the path or leave it out")
        return [p.resolve() for p in value]

    @model_validator(mode="after")
    def _gen_resources_need_sets(self) -> LibeSpecs:
        if (self.gen_num_procs or self.gen_num_gpus) and self.num_resource_sets is None:
            raise ValueError(
                "gen_num_procs / gen_num_gpus lend resource sets to generator calls; set "
                "num_resource_sets too (without it a generator on a worker launches on "
                "that worker's own share)"
            )
        return self

    def calc_dirs(self, kind: str) -> bool:
        """Whether each ``kind`` ("sim" or "gen") call runs in a directory of its own."""
        fields = ("dirs_make", "input_dir", "dir_copy_files", "dir_symlink_files")
        return any(getattr(self, f"{kind}_{field}") for field in fields)

    @property
    def copy_back_dir(self) -> Path | None:
        """Where calculation directories are copied at the end (``ensemble_copy_back``):
        ``<ensemble dir's name>_back`` in the directory the run starts from."""
        return Path(f"{self.ensemble_dir_path.name}_back") if self.ensemble_copy_back else None

    @property
    def output_dir(self) -> Path:
        """Where history, stats and logs are written."""
        return Path(self.run_dir) if self.run_dir is not None else Path(".")
