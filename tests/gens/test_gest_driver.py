"""How libens drives gest-api generators: call order and sizes, conversions, quirks of
third-party generators, failures."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gest_api import Generator

from libens import (
    VOCS,
    Ensemble,
    ExitCriteria,
    GeneratorError,
    GenSpecs,
    LibeSpecs,
    SimSpecs,
    SpecError,
)
from libens.gens import UniformSample
from libens.gens import driver as driver_module
from libens.gens.driver import DONE, GestSession

VOCS_2D = VOCS(
    variables={"x": [-2.0, 2.0], "y": [-1.0, 1.0]},
    objectives={"f": "MINIMIZE"},
    constants={"c": 3.0},
)


def sphere(p: dict, shift: float = 0.0) -> dict:
    assert isinstance(p["x"], float) and isinstance(p["c"], float)
    return {"f": p["x"] ** 2 + p["y"] ** 2 + shift}


class Recorder(Generator):
    """Uniform points; records every call. Quirks switch on third-party behaviours."""

    returns_id = False

    def __init__(
        self,
        vocs,
        *,
        per_call=None,
        const_obj=False,
        numpy_values=False,
        stop_after=None,
        fail_on=None,
        drop="",
        seed=0,
    ):
        self.vocs = vocs
        self.calls: list[tuple] = []
        self.rng = np.random.default_rng(seed)
        self.per_call, self.const_obj, self.numpy_values = per_call, const_obj, numpy_values
        self.stop_after, self.fail_on, self.drop = stop_after, fail_on, drop
        self.made = 0
        super().__init__(vocs)

    def _validate_vocs(self, vocs):
        pass

    def suggest(self, num_points):
        self.calls.append(("suggest", num_points))
        if self.fail_on == "suggest" and len(self.calls) > 2:
            raise RuntimeError("model diverged")
        n = num_points if self.per_call is None else min(num_points, self.per_call)
        if self.stop_after is not None:
            n = max(0, min(n, self.stop_after - self.made))
        self.made += n
        out = []
        for _ in range(n):
            p = {k: self.rng.uniform(*v.domain) for k, v in self.vocs.variables.items()}
            if not self.numpy_values:
                p = {k: float(v) for k, v in p.items()}
            if self.const_obj:
                p["c"] = self.vocs.constants["c"]  # a Constant object with .value
            p.pop(self.drop, None)
            out.append(p)
        return out

    def ingest(self, results):
        self.calls.append(("ingest", len(results), tuple(sorted(results[0]))))
        if self.fail_on == "ingest":
            raise ValueError("bad data")

    def finalize(self):
        self.calls.append(("finalize",))


class IdGen(Recorder):
    returns_id = True

    def suggest(self, num_points):
        pts = super().suggest(num_points)
        for p in pts:
            p["_id"] = 1000 + len(self.calls) * 100 + pts.index(p)
        return pts


class NeedsData(Recorder):
    """Refuses to suggest before it has seen data."""

    def __init__(self, vocs, **kw):
        self.seen = 0
        super().__init__(vocs, **kw)

    def suggest(self, num_points):
        if not self.seen:
            raise RuntimeError("ingest some data first")
        return super().suggest(num_points)

    def ingest(self, results):
        self.seen += len(results)
        super().ingest(results)


def run(gen, comms="threads", nworkers=2, sim_max=12, simulator=sphere, **gen_kw):
    ens = Ensemble(
        sim_specs=SimSpecs(simulator=simulator, vocs=VOCS_2D),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_2D, **gen_kw),
        exit_criteria=ExitCriteria(sim_max=sim_max),
        libE_specs=LibeSpecs(comms=comms, nworkers=nworkers, disable_log_files=True),
    )
    return ens.run()


def suggests(gen):
    return [c[1] for c in gen.calls if c[0] == "suggest"]


def test_fields_come_from_vocs():
    gen = GenSpecs(generator=Recorder(vocs=VOCS_2D), vocs=VOCS_2D)
    assert gen.outputs == [("x", float), ("y", float), ("c", float)]
    assert gen.persis_in == ["x", "y", "c", "f", "sim_failed"]
    sim = SimSpecs(simulator=sphere, vocs=VOCS_2D)
    assert sim.inputs == ["x", "y", "c"] and sim.outputs == [("f", float)]


@pytest.mark.parametrize("comms", ["local", "threads"])
def test_batch_mode_call_order_and_values(comms):
    gen = Recorder(vocs=VOCS_2D)
    H, _, flag = run(gen, comms=comms, nworkers=3, sim_max=12)
    assert flag == 0
    s = suggests(gen)
    assert s[0] == 3 and all(isinstance(n, int) for n in s)  # first: number of sim workers
    assert all(n == 3 for n in s)  # then as many as came back
    ingests = [c for c in gen.calls if c[0] == "ingest"]
    assert all(c[2] == ("c", "f", "x", "y") for c in ingests)  # exactly the VOCS names
    assert gen.calls[-1] == ("finalize",) and gen.calls.count(("finalize",)) == 1
    done = H[H["sim_ended"]]
    assert np.allclose(done["f"], done["x"] ** 2 + done["y"] ** 2)
    assert np.all(done["c"] == 3.0) and np.all(H["gen_worker"] == 0)


class ThreadRecorder(Recorder):
    """Records which thread each call runs in."""

    quick_suggest = True

    def suggest(self, num_points):
        self.calls.append(("thread", threading.current_thread().name))
        return super().suggest(num_points)

    def ingest(self, results):
        self.calls.append(("thread", threading.current_thread().name))
        super().ingest(results)


@pytest.mark.parametrize("comms", ["local", "threads"])
def test_generator_on_the_manager_runs_in_the_managers_own_loop(comms):
    gen = ThreadRecorder(vocs=VOCS_2D)
    H, _, flag = run(gen, comms=comms, nworkers=2, sim_max=8)
    threads = {c[1] for c in gen.calls if c[0] == "thread"}
    assert flag == 0 and threads == {threading.current_thread().name}
    assert suggests(gen) == [2, 2, 2, 2] and int(H["sim_ended"].sum()) == 8
    assert gen.calls.count(("finalize",)) == 1


def test_a_generator_that_does_not_say_it_is_quick_runs_in_a_thread():
    gen = ThreadRecorder(vocs=VOCS_2D)
    gen.quick_suggest = False
    run(gen, comms="threads", nworkers=2, sim_max=4)
    assert {c[1] for c in gen.calls if c[0] == "thread"} == {"libens-worker-0"}


def test_initial_and_batch_sizes_async():
    gen = Recorder(vocs=VOCS_2D)
    run(gen, nworkers=2, sim_max=20, initial_batch_size=6, batch_size=2, async_return=True)
    s = suggests(gen)
    assert s[0] == 6 and set(s[1:]) == {2}


def test_quirks_constants_as_objects_numpy_scalars_and_fewer_points():
    gen = Recorder(vocs=VOCS_2D, const_obj=True, numpy_values=True, per_call=1)
    H, _, _ = run(gen, nworkers=2, sim_max=8)
    assert H["sim_ended"].sum() >= 8 and np.all(H["c"] == 3.0)
    assert all(n >= 1 for n in suggests(gen))


def test_empty_suggestion_with_nothing_outstanding_ends_the_run():
    gen = Recorder(vocs=VOCS_2D, stop_after=5)
    H, _, flag = run(gen, sim_max=100)
    assert flag == 0 and len(H) == 5 and H["sim_ended"].all()
    assert gen.calls[-1] == ("finalize",)


def test_ids_kept_in_their_own_column_and_returned():
    gen = IdGen(vocs=VOCS_2D)
    H, _, _ = run(gen, sim_max=6)
    assert "_id" in H.dtype.names and np.all(H["_id"] >= 1000)
    ingests = [c for c in gen.calls if c[0] == "ingest"]
    assert all("_id" in c[2] for c in ingests)


def test_H0_results_ingested_before_first_suggest():
    H0 = np.zeros(
        4, dtype=[("x", float), ("y", float), ("c", float), ("f", float), ("sim_ended", bool)]
    )
    H0["x"], H0["c"], H0["f"], H0["sim_ended"] = [0.1, 0.2, 0.3, 0.4], 3.0, 1.0, True
    gen = Recorder(vocs=VOCS_2D)
    ens = Ensemble(
        sim_specs=SimSpecs(simulator=sphere, vocs=VOCS_2D),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_2D),
        exit_criteria=ExitCriteria(sim_max=4),
        H0=H0,
        libE_specs=LibeSpecs(comms="threads", nworkers=2, disable_log_files=True),
    )
    H, _, _ = ens.run()
    assert gen.calls[0] == ("ingest", 4, ("c", "f", "x", "y"))
    assert gen.calls[1][0] == "suggest"


def test_uniform_initial_sample_for_generators_that_need_data():
    gen = NeedsData(vocs=VOCS_2D)
    H, _, _ = run(gen, sim_max=10, initial_batch_size=4, initial_sample_method="uniform")
    assert gen.calls[0] == ("ingest", 4, ("c", "f", "x", "y"))
    assert H["sim_ended"].sum() >= 10


def failing_sim(p: dict) -> dict:
    if p["x"] > 0:
        raise ValueError("negative energy")
    return {"f": p["x"] ** 2}


@pytest.mark.parametrize("policy", ["skip", "nan"])
def test_failed_evaluations_policy(policy):
    gen = Recorder(vocs=VOCS_2D, seed=3)
    ens = Ensemble(
        sim_specs=SimSpecs(simulator=failing_sim, vocs=VOCS_2D),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_2D, failed_results=policy),
        exit_criteria=ExitCriteria(sim_max=16),
        libE_specs=LibeSpecs(
            comms="threads", nworkers=2, on_sim_error="continue", disable_log_files=True
        ),
    )
    H, _, _ = ens.run()
    failed = int(H["sim_failed"].sum())
    ingested = sum(c[1] for c in gen.calls if c[0] == "ingest")
    informed = int(H["gen_informed"].sum())
    assert failed > 0
    assert ingested == (informed - failed if policy == "skip" else informed)


def test_missing_variable_is_an_error_naming_generator_and_field(tmp_path):
    gen = Recorder(vocs=VOCS_2D, drop="y")
    with pytest.raises(GeneratorError, match="Recorder.suggest returned a point without 'y'"):
        run(gen)
    assert gen.calls.count(("finalize",)) == 1


@pytest.mark.parametrize("where", ["suggest", "ingest"])
def test_generator_exception_names_class_call_and_size_and_saves_history(
    where, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    gen = Recorder(vocs=VOCS_2D, fail_on=where)
    ens = Ensemble(
        sim_specs=SimSpecs(simulator=sphere, vocs=VOCS_2D),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_2D),
        exit_criteria=ExitCriteria(sim_max=50),
        libE_specs=LibeSpecs(comms="threads", nworkers=2),
    )
    pattern = (
        r"Recorder\.suggest\(2\) raised RuntimeError"
        if where == "suggest"
        else r"Recorder\.ingest\(2 results\) raised ValueError"
    )
    with pytest.raises(GeneratorError, match=pattern):
        ens.run()
    assert gen.calls.count(("finalize",)) == 1
    saved = np.load(tmp_path / "libE_history_at_abort.npy")
    assert saved["sim_ended"].sum() >= 2


def test_vocs_with_a_name_in_two_categories_is_rejected():
    bad = VOCS(variables={"x": [0, 1]}, objectives={"x": "MINIMIZE"})
    with pytest.raises(SpecError, match="'x' is both in variables and in objectives"):
        GenSpecs(generator=Recorder(vocs=bad), vocs=bad)


def test_generator_on_a_worker_process():
    gen = Recorder(vocs=VOCS_2D)
    ens = Ensemble(
        sim_specs=SimSpecs(simulator=sphere, vocs=VOCS_2D),
        gen_specs=GenSpecs(generator=gen, vocs=VOCS_2D, batch_size=2),
        exit_criteria=ExitCriteria(sim_max=10),
        libE_specs=LibeSpecs(
            comms="local", nworkers=3, gen_on_manager=False, disable_log_files=True
        ),
    )
    H, _, flag = ens.run()
    assert flag == 0 and set(H["gen_worker"]) == {1}
    assert set(H["sim_worker"][H["sim_ended"]]) <= {2, 3}
    assert gen.calls == []  # the worker ran a pickled copy


@pytest.mark.parametrize("comms", ["local", "tcp"])
def test_builtin_optimizers_in_an_ensemble(comms):
    from libens.gens import AsyncCMAES, NelderMead

    vocs = VOCS(
        variables={"x": [-2.0, 2.0], "y": [-1.0, 1.0]},
        objectives={"f": "MINIMIZE"},
        constants={"c": 3.0},
    )
    for gen in (AsyncCMAES(vocs, seed=0), NelderMead(vocs, x0=[1.5, 0.5])):
        H, _, flag = Ensemble(
            sim_specs=SimSpecs(simulator=sphere, vocs=vocs),
            gen_specs=GenSpecs(generator=gen, vocs=vocs, async_return=True),
            exit_criteria=ExitCriteria(sim_max=150),
            libE_specs=LibeSpecs(comms=comms, nworkers=3, disable_log_files=True),
        ).run()
        done = H[H["sim_ended"]]
        assert flag == 0 and len(done) >= 150 and done["f"].min() < 1e-3


class KeywordOnly(Generator):
    """Like third-party generators built as ``Gen(vocs=vocs)``: keyword-only arguments,
    no ids, one point per call, constants as objects with ``.value``."""

    def __init__(self, *, vocs, step: float = 0.5):
        self.vocs, self.step, self.seen = vocs, step, 0
        super().__init__(vocs)

    def _validate_vocs(self, vocs):
        pass

    def suggest(self, num_points):
        return [{"x": -2.0 + self.step * (self.seen % 8), "y": 0.0, "c": VOCS_2D.constants["c"]}]

    def ingest(self, results):
        self.seen += len(results)


def test_keyword_only_constructor_one_point_per_call():
    gen = KeywordOnly(vocs=VOCS_2D)
    H, _, flag = run(gen, nworkers=3, sim_max=9)
    assert flag == 0 and H["sim_ended"].sum() >= 9 and np.all(H["c"] == 3.0)
    assert gen.seen >= 8


def test_rows_become_dicts_of_python_values_whatever_the_fields_hold():
    from libens.sims.simulator import rows_as_dicts

    rows = np.zeros(
        2, dtype=[("a", float), ("n", int), ("ok", bool), ("v", float, 2), ("o", object)]
    )
    rows["a"], rows["n"], rows["ok"] = [1.5, 2.0], [3, 4], [True, False]
    rows["v"][1] = [5.0, 6.0]
    rows["o"] = [np.float64(7.0), "x"]
    plain = rows_as_dicts(rows, ["a", "n", "ok"])  # scalar fields: one conversion for all
    assert plain == [{"a": 1.5, "n": 3, "ok": True}, {"a": 2.0, "n": 4, "ok": False}]
    assert [type(v) for v in plain[0].values()] == [float, int, bool]
    assert rows_as_dicts(rows, ["ok", "a"]) == [{"ok": True, "a": 1.5}, {"ok": False, "a": 2.0}]
    mixed = rows_as_dicts(rows, ["a", "v", "o"])
    assert mixed == [{"a": 1.5, "v": [0.0, 0.0], "o": 7.0}, {"a": 2.0, "v": [5.0, 6.0], "o": "x"}]
    assert type(mixed[0]["o"]) is float
    assert rows_as_dicts(rows, []) == []


class _IngestingSampler(UniformSample):
    """A user's sampler that does look at results."""

    def ingest(self, results: list[dict]) -> None:
        self.seen = [*getattr(self, "seen", []), *results]


@pytest.mark.parametrize(("cls", "told"), [(UniformSample, False), (_IngestingSampler, True)])
def test_a_sampler_is_not_given_results_unless_it_overrides_ingest(cls, told, monkeypatch):
    converted = []
    monkeypatch.setattr(
        driver_module, "rows_as_dicts", lambda rows, names: converted.append(len(rows)) or []
    )
    gen = cls(VOCS_2D, seed=1)
    session = GestSession(GenSpecs(generator=gen, vocs=VOCS_2D), {"sim_workers": 2}, 0)
    first = session.start(None, np.zeros(0, int), 1)
    done = np.zeros(2, dtype=[("x", float), ("y", float), ("f", float)])
    done["x"], done["y"] = first["x"], first["y"]
    after = session.feed(done, np.array([0, 1]), False)
    assert len(first) == len(after) == 2  # as many new points as results came back
    assert session.driver.outstanding == 2
    assert converted == ([2] if told else [])


@pytest.mark.parametrize(("cls", "told"), [(UniformSample, False), (_IngestingSampler, True)])
def test_no_result_field_is_read_for_a_generator_that_learns_nothing(cls, told):
    """Its persis_in is empty, so its work orders carry ids only; what it starts from (H0)
    is read as for any generator."""
    spec = GenSpecs(generator=cls(VOCS_2D, seed=1), vocs=VOCS_2D)
    vocs_names = ["x", "y", "c", "f", "sim_failed"]
    assert spec.persis_in == (vocs_names if told else [])
    assert spec.inputs == [*vocs_names, "sim_ended", "gen_worker"]


def test_a_sampler_given_ids_only_asks_for_as_many_points_as_came_back():
    spec = GenSpecs(generator=UniformSample(VOCS_2D, seed=1), vocs=VOCS_2D)
    session = GestSession(spec, {"sim_workers": 3}, 0)
    first = session.start(None, np.zeros(0, int), 1)
    assert len(first) == 3 and session.driver.outstanding == 3
    after = session.feed(None, np.array([0, 2]), False)
    assert len(after) == 2
    assert session.driver.outstanding == 3
    assert session.feed(None, np.array([1, 3, 4]), True) is DONE
    assert session.driver.outstanding == 0
