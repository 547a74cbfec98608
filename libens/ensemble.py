"""Ensemble and libE(): validate the specs, start the comms, run the manager, return results."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from libens.alloc import give_sim_work_first, only_persistent_gens
from libens.comms import registry
from libens.comms.inline import InlinePool
from libens.errors import SpecError
from libens.history import History, build_dtype
from libens.manager import Manager, RunSpecs
from libens.outputs import OutputFiles
from libens.specs import AllocSpecs, ExitCriteria, GenSpecs, LibeSpecs, SimSpecs
from libens.tools import add_unique_random_streams, save_libE_output
from libens.tools import parse_args as _parse_args
from libens.userfuncs import func_name
from libens.worker import run_worker

if TYPE_CHECKING:
    from libens.executors import Executor
    from libens.store import RunStore

Results = tuple[np.ndarray | None, dict, int]
logger = logging.getLogger("libens")


class _SpecAttribute:
    """An Ensemble attribute holding one spec: a dict (libEnsemble style) assigned to it is
    turned into its spec class at once, so a misspelled field fails where it is set."""

    def __init__(self, cls: Any, none_is_default: bool = True) -> None:
        self.cls, self.none_is_default = cls, none_is_default

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, ens: Any, owner: type | None = None) -> Any:
        return self if ens is None else getattr(ens, self.slot)

    def __set__(self, ens: Any, value: Any) -> None:
        keep_none = value is None and not self.none_is_default
        setattr(ens, self.slot, None if keep_none else self.cls.coerce(value))


class Ensemble:
    """One ensemble run: specs in, ``(H, persis_info, exit_flag)`` out (as libEnsemble).

    Specs are given here or assigned as attributes before ``run()`` (libEnsemble's object
    style); ``parse_args=True`` reads ``--comms``, ``-n`` and the rest of
    ``libens.tools.parse_args`` from the command line, and those fill what the
    ``libE_specs`` assigned later leave out. After ``run()`` the results are also kept as
    ``H``, ``persis_info`` and ``flag``.
    """

    sim_specs = _SpecAttribute(SimSpecs, none_is_default=False)
    gen_specs = _SpecAttribute(GenSpecs, none_is_default=False)
    exit_criteria = _SpecAttribute(ExitCriteria)
    alloc_specs = _SpecAttribute(AllocSpecs)
    _libE_specs: LibeSpecs  # behind the libE_specs property

    def __init__(
        self,
        sim_specs: SimSpecs | dict | None = None,
        gen_specs: GenSpecs | dict | None = None,
        exit_criteria: ExitCriteria | dict | None = None,
        libE_specs: LibeSpecs | dict | None = None,
        alloc_specs: AllocSpecs | dict | None = None,
        persis_info: dict | None = None,
        H0: np.ndarray | None = None,
        executor: Executor | None = None,
        parse_args: bool = False,
    ) -> None:
        self.sim_specs = sim_specs
        self.gen_specs = gen_specs
        self.exit_criteria = exit_criteria
        self.alloc_specs = alloc_specs
        self.persis_info = persis_info
        self.H0 = H0
        self.executor = executor
        self.H: np.ndarray | None = None
        self.flag: int | None = None
        self.extra_args: dict[str, Any] = {}
        self._command_line: dict[str, Any] = {}
        self._nworkers = 0  # known from the command line, MPI or a run; else from the specs
        self.is_manager = True
        if parse_args:
            self._nworkers, self.is_manager, self._command_line, self.extra_args = _parse_args()
        self.libE_specs = libE_specs
        if not parse_args and _comms(self._libE_specs) == "mpi":
            backend = registry.get("mpi")(**_comms_options(self._libE_specs))
            self.is_manager = backend.is_manager
            self._nworkers = backend.default_nworkers or 0

    @property
    def nworkers(self) -> int:
        """The run's workers: from the command line or MPI, else ``LibeSpecs.nworkers``,
        else one per core (what ``run`` starts)."""
        return self._nworkers or _nworkers(self._libE_specs, None)

    @nworkers.setter
    def nworkers(self, value: int) -> None:
        """Set the number of workers (also ``libE_specs.nworkers``), as libEnsemble does."""
        self._nworkers = value
        self._libE_specs = self._libE_specs.model_copy(update={"nworkers": value})

    @property
    def libE_specs(self) -> LibeSpecs:
        return self._libE_specs

    @libE_specs.setter
    def libE_specs(self, value: LibeSpecs | dict | None) -> None:
        """Set the run's LibeSpecs; what ``parse_args`` read fills the fields they leave
        out (so ``ensemble.libE_specs = LibeSpecs(sim_dirs_make=True)`` keeps
        ``--comms`` and ``-n``)."""
        specs = LibeSpecs.coerce(value)
        unset = {k: v for k, v in self._command_line.items() if k not in specs.model_fields_set}
        self._libE_specs = specs.model_copy(update=unset) if unset else specs

    def from_toml(self, path: str | Path) -> None:
        """Set the specs a TOML file gives (libEnsemble's layout, ``libens.specfile``);
        fields the file leaves out keep their values."""
        self._read_specs(path)

    def from_json(self, path: str | Path) -> None:
        """As ``from_toml``, from a JSON file."""
        self._read_specs(path)

    def from_yaml(self, path: str | Path) -> None:
        """As ``from_toml``, from a YAML file (needs PyYAML)."""
        self._read_specs(path)

    def _read_specs(self, path: str | Path) -> None:
        from libens.specfile import load_spec_file

        for section, fields in load_spec_file(path).items():
            current = getattr(self, section)
            if current is None:
                setattr(self, section, fields)
                continue
            named = {_field_name(current, k): v for k, v in fields.items()}
            setattr(self, section, {**current.model_dump(exclude_unset=True), **named})

    def ready(self) -> bool:
        """True when the specs a run needs are set (sim_specs; the rest have defaults)."""
        return self.sim_specs is not None

    def add_random_streams(self, num_streams: int = 0, seed: int | str | None = "") -> dict:
        """Give ``persis_info`` a NumPy random stream for the manager and each worker
        (``num_streams`` workers, default ``nworkers``), as libEnsemble's method does."""
        self.persis_info = add_unique_random_streams(
            self.persis_info if self.persis_info is not None else {},
            (num_streams or self.nworkers) + 1,
            seed,
        )
        return self.persis_info

    def save_output(self, basename: str, append_attrs: bool = True) -> str | None:
        """Save the run's ``H`` and ``persis_info`` next to the run's other outputs, named
        after ``basename`` (usually ``__file__``) as libEnsemble names them; on the manager
        only. Returns the history file's path."""
        if not self.is_manager or self.H is None:
            return None
        return save_libE_output(
            self.H,
            self.persis_info or {},
            basename,
            self.nworkers,
            dest_path=self.libE_specs.output_dir,
            append_attrs=append_attrs,
        )

    def run(self) -> Results:
        """Run the ensemble; on worker-only processes (MPI ranks > 0) serve work and return."""
        self.H, self.persis_info, self.flag = self._run()
        return self.H, self.persis_info, self.flag

    def _run(self) -> Results:
        if self.sim_specs is None:
            raise SpecError(
                "Ensemble needs sim_specs: SimSpecs(sim_f=...) or SimSpecs(simulator=...)"
            )
        libE = self.libE_specs
        executor = _checked_executor(self.executor, libE)
        comms = _comms(libE)
        backend = registry.get(comms)(**_comms_options(libE))
        self.is_manager = backend.is_manager
        if not backend.is_manager:
            backend.run_worker(run_worker)
            return None, self.persis_info or {}, 0
        nworkers = self._nworkers = _nworkers(libE, backend.default_nworkers)
        if self.sim_specs.timeout is not None and comms == "threads":
            raise SpecError(
                "SimSpecs.timeout needs worker processes (comms local, tcp or mpi); "
                "a thread cannot be stopped"
            )
        gen_on_manager = _gen_on_manager(libE, self.gen_specs)
        _check_calc_dirs(libE, comms, gen_on_manager)
        _check_fresh_ensemble_dir(libE)
        dtype = self._dtype()
        store, H0 = self._open_store(libE)
        try:
            hist = History(dtype, H0)
            self._check_fields(hist.dtype)
            if store is not None and H0 is self.H0 and hist.n:
                store.generated(hist.H, np.arange(hist.n))  # the user's H0, journaled once
        except BaseException:
            if store is not None:
                store.close()
            raise
        persis_info = self.persis_info
        if persis_info is None:
            persis_info = add_unique_random_streams({}, nworkers + 1)
        specs = RunSpecs(
            self.sim_specs,
            self.gen_specs,
            self.alloc_specs,
            self.exit_criteria,
            libE,
            self._alloc_f(),
            executor,
        )
        outputs = OutputFiles(
            libE.output_dir,
            libE.H_file_prefix,
            save_on_completion=libE.save_H_on_completion and store is None,
            save_on_abort=libE.save_H_and_persis_on_abort and store is None,
            log_files=not libE.disable_log_files,
        )
        inline = gen_on_manager and _quick_generator(self.gen_specs)
        try:
            pool = backend.open_pool(
                nworkers, run_worker, [0] if gen_on_manager and not inline else []
            )
            if inline:  # suggest/ingest as plain calls between the manager's events
                from libens.gens.inline import InlineGenerator

                pool = InlinePool(pool, {0: InlineGenerator(0).handle})
        except BaseException:
            outputs.close()
            if store is not None:
                store.close()
            raise
        gen_workers = [0] if gen_on_manager else libE.gen_workers
        return Manager(pool, hist, specs, persis_info, outputs, gen_workers, store).run()

    def _open_store(self, libE: LibeSpecs) -> tuple[RunStore | None, np.ndarray | None]:
        """With ``run_dir``: open (or resume) the run directory. Returns the store and the
        rows to start from: the journaled history when resuming, else the user's H0."""
        if libE.run_dir is None:
            return None, self.H0
        from libens.store import RunStore  # only durable runs pay for importing it

        store, previous = RunStore.open(
            libE.run_dir, self.spec_record(), libE.overwrite, libE.journal_sync
        )
        if previous is None:
            return store, self.H0
        if self.H0 is not None:
            logger.warning(
                "resuming %s: the H0 given is ignored (its rows are in the journal)", libE.run_dir
            )
        logger.info(
            "resuming %s: %d points, %d evaluated",
            libE.run_dir,
            len(previous),
            int(previous["sim_ended"].sum()),
        )
        return store, previous

    def spec_record(self) -> dict[str, Any]:
        """What a resumed run must share with the run it continues (not the budget)."""
        sim = self.sim_specs
        record: dict[str, Any] = {
            "sim": {
                "function": func_name(sim.sim_f or sim.simulator),
                "inputs": list(sim.inputs),
                "outputs": _field_strings(sim.outputs),
            },
            "alloc": func_name(self._alloc_f()),
        }
        gen = self.gen_specs
        if gen is not None:
            record["gen"] = {
                "function": func_name(gen.gen_f if gen.gen_f is not None else gen.generator),
                "outputs": _field_strings(gen.outputs),
                "persis_in": list(gen.persis_in),
            }
            if gen.vocs is not None:
                record["vocs"] = _sorted_lists(json.loads(gen.vocs.model_dump_json()))
        return record

    def _dtype(self) -> np.dtype:
        lists = [self.sim_specs.outputs, self.alloc_specs.outputs]
        if self.gen_specs is not None:
            lists.insert(0, self.gen_specs.outputs)
        try:
            return build_dtype(*lists)
        except TypeError as e:
            raise SpecError(
                f"an outputs entry is not a valid NumPy field spec: {e}; "
                "use ('name', type) or ('name', type, shape)"
            ) from e

    def _alloc_f(self) -> Any:
        if self.alloc_specs.alloc_f is not None:
            return self.alloc_specs.alloc_f
        if self.gen_specs is not None and self.gen_specs.generator is not None:
            return only_persistent_gens
        return give_sim_work_first

    def _check_fields(self, dtype: np.dtype) -> None:
        names = set(dtype.names or ())
        for f in self.sim_specs.inputs:
            if f not in names:
                raise SpecError(
                    f"SimSpecs.inputs names {f!r}, which no generator output or H0 "
                    "field provides; add it to gen_specs.outputs or fix the name"
                )
        if self.gen_specs is not None:
            sim_out = {s[0] for s in self.sim_specs.outputs}
            for field_list, label in (
                (self.gen_specs.inputs, "inputs"),
                (self.gen_specs.persis_in, "persis_in"),
            ):
                for f in field_list:
                    if f not in names and f not in sim_out:
                        raise SpecError(
                            f"GenSpecs.{label} names {f!r}, which is not a field of the "
                            "history; declare it in sim_specs.outputs or fix the name"
                        )


def _field_strings(fields: list[tuple]) -> list[str]:
    return [str(np.dtype([tuple(f)]).descr[0]) for f in fields]


def _sorted_lists(value: Any) -> Any:
    """Sets serialize in arbitrary order: sort lists of scalars so records compare equal."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        if all(isinstance(v, int | float | str) for v in items):
            return sorted(items, key=lambda v: (str(type(v)), v))
        return items
    return value


def _comms_options(libE: LibeSpecs) -> dict[str, Any]:
    return {
        "start_method": libE.start_method,
        "threads_on_one_cpu": libE.threads_on_one_cpu,
        "threads_tiny_on_manager": libE.threads_tiny_on_manager,
        "mpi_comm": libE.mpi_comm,
        "ip": libE.ip,
        "port": libE.port,
        "authkey": libE.authkey,
        "nworkers": libE.nworkers,
        "workers": libE.workers,
    }


def _nworkers(libE: LibeSpecs, implied: int | None) -> int:
    if implied is not None:
        return implied
    if libE.nworkers is not None:
        return libE.nworkers
    return max(1, (os.cpu_count() or 2))


def _gen_on_manager(libE: LibeSpecs, gen_specs: GenSpecs | None) -> bool:
    """Explicit setting, else True for gest-api generator objects (their state then stays in
    the caller's object and needs no pickling), else False."""
    if gen_specs is None:
        return False
    if libE.gen_on_manager is not None:
        return libE.gen_on_manager
    return gen_specs.generator is not None


def _field_name(spec: Any, key: str) -> str:
    """A spec's field name for ``key`` (libEnsemble's ``in``/``out`` become
    ``inputs``/``outputs``); unknown keys stay, for the spec to refuse by name."""
    try:
        return type(spec)._attr(key)
    except KeyError:
        return key


def _comms(libE: LibeSpecs) -> str:
    """The run's comms: as given, else MPI under an MPI launcher, else local processes."""
    return libE.comms or ("mpi" if registry.launched_under_mpi() else "local")


def _checked_executor(executor: Any, libE: LibeSpecs) -> Executor | None:
    """The run's executor (a libens Executor or None), and resources it can use."""
    if executor is None and libE.resources is None:
        return None
    from libens.executors import Executor
    from libens.resources import Resources

    if executor is not None and not isinstance(executor, Executor):
        raise SpecError(
            f"executor is a {type(executor).__name__}; pass a libens.executors.Executor "
            "or MPIExecutor (with its applications registered), or leave it out"
        )
    if libE.resources is not None and not isinstance(libE.resources, Resources):
        raise SpecError(
            f"LibeSpecs.resources is a {type(libE.resources).__name__}; give a "
            "libens.resources.Resources(nodes=..., cores_per_node=...) or leave it out "
            "to detect them"
        )
    return executor


def _check_calc_dirs(libE: LibeSpecs, comms: str, gen_on_manager: bool) -> None:
    """Calls in directories of their own change the working directory of their process."""
    dirs = [kind for kind in ("sim", "gen") if libE.calc_dirs(kind)]
    if dirs and comms == "threads":
        raise SpecError(
            f"LibeSpecs.{dirs[0]}_dirs_make (or its input files) needs worker processes: a "
            "thread cannot have a working directory of its own; use comms 'local', 'mpi' or "
            "'tcp', or leave the calculation directories out"
        )
    if libE.ensemble_copy_back and not dirs:
        raise SpecError(
            "LibeSpecs.ensemble_copy_back=True copies calculation directories back, but the "
            "run makes none; set sim_dirs_make=True (or gen_dirs_make), or leave it out"
        )
    if "gen" in dirs and gen_on_manager:
        raise SpecError(
            "LibeSpecs.gen_dirs_make (or gen input files) needs the generator on a worker: "
            "set gen_on_manager=False, or leave the generator directories out"
        )


def _check_fresh_ensemble_dir(libE: LibeSpecs) -> None:
    """Earlier calculation directories are not overwritten, unless the run resumes (its run
    directory exists) or the user allows it."""
    resuming = libE.run_dir is not None and Path(libE.run_dir).exists() and not libE.overwrite
    if not (libE.calc_dirs("sim") or libE.calc_dirs("gen")) or libE.reuse_output_dir or resuming:
        return
    for field, path in (
        ("ensemble_dir_path", Path(libE.ensemble_dir_path)),
        ("ensemble_copy_back", libE.copy_back_dir),
    ):
        if path is not None and path.is_dir() and any(path.iterdir()):
            raise SpecError(
                f"{str(path)!r} (LibeSpecs.{field}) already holds calculation "
                "directories; choose another ensemble_dir_path, remove it, or set "
                "reuse_output_dir=True"
            )


def _quick_generator(gen_specs: GenSpecs | None) -> bool:
    """A gest-api generator that says its ``suggest`` is quick (``quick_suggest = True``, as
    the built-ins do) runs inside the manager's loop; any other runs in a thread, so the
    manager keeps recording results and handing out points while it thinks."""
    generator = gen_specs.generator if gen_specs is not None else None
    return generator is not None and bool(getattr(generator, "quick_suggest", False))


def libE(
    sim_specs: SimSpecs | dict,
    gen_specs: GenSpecs | dict | None,
    exit_criteria: ExitCriteria | dict,
    persis_info: dict | None = None,
    alloc_specs: AllocSpecs | dict | None = None,
    libE_specs: LibeSpecs | dict | None = None,
    H0: np.ndarray | None = None,
    executor: Executor | None = None,
) -> Results:
    """Run an ensemble with libEnsemble's call signature (plus the ``executor`` whose copy
    each worker's user functions get as ``libE_info["executor"]``).

    Returns ``(H, persis_info, exit_flag)``.
    """
    return Ensemble(
        sim_specs, gen_specs, exit_criteria, libE_specs, alloc_specs, persis_info, H0, executor
    ).run()
