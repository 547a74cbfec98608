"""Module-level user functions for the engine tests (importable by spawned workers)."""

from __future__ import annotations

import os
import time

import numpy as np

from libens.alloc import AllocSupport
from libens.gens import PersistentSupport
from libens.messages import EVAL_GEN_TAG, FINISHED_PERSISTENT_GEN_TAG, PERSIS_STOP, STOP_TAG
from libens.resources import InsufficientFreeResources
from libens.specs import input_fields, output_data, persistent_input_fields

LB, UB = np.array([-3.0, -2.0]), np.array([3.0, 2.0])


def sphere(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=sim_specs["out"])
    out["f"] = np.sum(H["x"] ** 2, axis=1)
    return out, persis_info


def sphere_mixed_precision(H, persis_info, sim_specs, libE_info):
    """f in single precision for odd sim_ids: outputs of one chunk differ in dtype."""
    single = int(libE_info["H_rows"][0]) % 2
    out = np.zeros(len(H), dtype=[("f", np.float32 if single else float)])
    out["f"] = np.sum(H["x"] ** 2, axis=1)
    return out, persis_info


def sphere_three_args(H, persis_info, sim_specs):
    return sphere(H, persis_info, sim_specs, None)[0]


def sphere_with_extra_field(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=[("f", float), ("extra", int)])
    out["f"] = np.sum(H["x"] ** 2, axis=1)
    out["extra"] = 7
    return out, persis_info


def wrong_dtype_sim(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=[("f", "U3")])
    return out, persis_info


def wrong_length_sim(H, persis_info, sim_specs, libE_info):
    return np.zeros(len(H) + 1, dtype=sim_specs["out"]), persis_info


def failing_sim(H, persis_info, sim_specs, libE_info):
    if H["x"][0][0] > 0:
        return 1 / 0
    return sphere(H, persis_info, sim_specs, libE_info)


def dying_sim(H, persis_info, sim_specs, libE_info):
    os._exit(3)


def slow_sim(H, persis_info, sim_specs, libE_info):
    time.sleep(sim_specs["user"].get("delay", 0.5))
    return sphere(H, persis_info, sim_specs, libE_info)


def killable_sim(H, persis_info, sim_specs, libE_info):
    """Returns at once for x[0] < 0; otherwise waits (up to 20 s) for a kill from the manager."""
    out, persis_info = sphere(H, persis_info, sim_specs, libE_info)
    if H["x"][0][0] >= 0:
        libE_info["comm"].poll(20.0)
    return out, persis_info


def batch_gen(H, persis_info, gen_specs, libE_info):
    b = gen_specs["user"]["gen_batch_size"]
    out = np.zeros(b, dtype=gen_specs["out"])
    out["x"] = persis_info["rand_stream"].uniform(LB, UB, (b, 2))
    return out, persis_info


def failing_gen(H, persis_info, gen_specs):
    raise RuntimeError("generator exploded")


def recording_gen(H, persis_info, gen_specs, libE_info):
    """Persistent: sends batches of ``b``; records the size of every result batch it gets and
    the size of the final rows at PERSIS_STOP; stops by itself after ``max_batches``."""
    user = gen_specs["user"]
    b, max_batches = user.get("b", 4), user.get("max_batches", 10**9)
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    rng = np.random.default_rng(libE_info["workerID"])
    sizes, sent = [], 0
    tag, calc_in = None, None
    while sent < max_batches:
        out = np.zeros(b, dtype=gen_specs["out"])
        out["x"] = rng.uniform(LB, UB, (b, 2))
        tag, _, calc_in = ps.send_recv(out)
        sent += 1
        if tag in (STOP_TAG, PERSIS_STOP):
            break
        sizes.append(len(calc_in))
        if user.get("check_own", False):
            assert set(calc_in["gen_worker"]) <= {libE_info["workerID"]}
    persis_info["sizes"] = sizes
    persis_info["final_rows"] = (
        0 if calc_in is None or tag not in (STOP_TAG, PERSIS_STOP) else len(calc_in)
    )
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG


def cancelling_gen(H, persis_info, gen_specs, libE_info):
    """Sends 10 points and cancels the last 5 at once; then waits for the stop."""
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    out = np.zeros(10, dtype=gen_specs["out"])
    out["x"] = np.linspace(LB, UB, 10)
    ps.send(out)
    ps.request_cancel_sim_ids(np.arange(5, 10))
    tag = None
    while tag not in (STOP_TAG, PERSIS_STOP):
        tag, _, _ = ps.recv()
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG


def kill_gen(H, persis_info, gen_specs, libE_info):
    """Sends a quick point (x<0) and a slow one (x>=0); on the quick result, cancels the slow
    one and returns."""
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    out = np.zeros(2, dtype=gen_specs["out"])
    out["x"] = [[-1.0, 0.0], [1.0, 0.0]]
    ps.send_recv(out)
    ps.request_cancel_sim_ids([1])
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG


def active_recv_gen(H, persis_info, gen_specs, libE_info):
    """Sends two batches before receiving anything (allowed with active_recv_gen)."""
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    rng = np.random.default_rng(0)
    for _ in range(2):
        out = np.zeros(3, dtype=gen_specs["out"])
        out["x"] = rng.uniform(LB, UB, (3, 2))
        ps.send(out)
    received = 0
    tag = None
    while tag not in (STOP_TAG, PERSIS_STOP):
        tag, _, calc_in = ps.recv()
        if calc_in is not None:
            received += len(calc_in)
    persis_info["received"] = received
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG


def flaky_sim(H, persis_info, sim_specs, libE_info):
    """Raises for points with x[0] > 1 (the run may continue past it)."""
    if H["x"][0][0] > 1:
        raise ValueError(f"bad point {H['x'][0].tolist()}")
    return sphere(H, persis_info, sim_specs, libE_info)


def _first_to_claim(marker: str) -> bool:
    """True for exactly one caller, in any process: the one whose call creates ``marker``."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def die_once_sim(H, persis_info, sim_specs, libE_info):
    """The first call on worker 1 kills its process; every other call evaluates."""
    if libE_info["workerID"] == 1 and _first_to_claim(sim_specs["user"]["marker"]):
        os._exit(9)
    return sphere(H, persis_info, sim_specs, libE_info)


def meddling_alloc(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info):
    """An allocation policy that (wrongly) writes a reserved field."""
    from libens.alloc import give_sim_work_first

    if len(H):
        H["sim_worker"][0] = 99
    return give_sim_work_first(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info)


def thread_name_sim(H, persis_info, sim_specs, libE_info):
    import threading

    out, persis_info = sphere(H, persis_info, sim_specs, libE_info)
    persis_info.setdefault("threads", []).append(threading.current_thread().name)
    return out, persis_info


def slow_sphere(H, persis_info, sim_specs, libE_info):
    time.sleep(sim_specs["user"].get("delay", 0.05))
    return sphere(H, persis_info, sim_specs, libE_info)


def sigkill_once_sim(H, persis_info, sim_specs, libE_info):
    """The first call anywhere SIGKILLs its own worker process; the others evaluate."""
    import signal

    if _first_to_claim(sim_specs["user"]["marker"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return sphere(H, persis_info, sim_specs, libE_info)


def app_sim(H, persis_info, sim_specs, libE_info):
    """Evaluates a point by running the sum_squares application through the executor; with
    ``kill_slow``, for x[0] >= ``slow_from`` (default 0) it runs the sleeper application
    until the manager kills it and returns polling_loop's status (and the pids) instead."""
    exctr = libE_info["executor"]
    out = np.zeros(1, dtype=sim_specs["out"])
    x = H["x"][0]
    user = sim_specs["user"]
    if user.get("kill_slow") and x[0] >= user.get("slow_from", 0.0):
        task, out["pids"] = start_sleeper(exctr, libE_info)
        out["f"] = exctr.polling_loop(task, delay=0.01)
        return out, persis_info
    task = exctr.submit(calc_type="sim", app_args=[repr(float(v)) for v in x])
    status = exctr.polling_loop(task)
    out["f"] = float(task.read_stdout())
    return out, persis_info, status


def start_sleeper(exctr, libE_info):
    """Starts the sleeper application; returns its task and pids (also written to
    ``pids_<sim_id>.txt``, for runs whose results are not collected)."""
    fifo = f"pids_{libE_info['H_rows'][0]}"
    os.mkfifo(fifo)
    task = exctr.submit(app_name="sleeper", app_args=[fifo, "600"])
    with open(fifo) as f:
        pids = [int(p) for p in f.read().split()]
    with open(f"{fifo}.txt", "w") as f:
        f.write(" ".join(map(str, pids)))
    return task, pids


def leaving_app_sim(H, persis_info, sim_specs, libE_info):
    """Starts the sleeper application and returns without waiting: the worker must stop it
    when the run ends."""
    out = np.zeros(1, dtype=sim_specs["out"])
    _, out["pids"] = start_sleeper(libE_info["executor"], libE_info)
    return out, persis_info


def stuck_app_sim(H, persis_info, sim_specs, libE_info):
    """Starts the sleeper application and waits for it without listening to the manager
    (only SimSpecs.timeout ends the call)."""
    task, _ = start_sleeper(libE_info["executor"], libE_info)
    task.wait()


def hosts_sim(H, persis_info, sim_specs, libE_info):
    """Returns the hosts of the MPI command line the worker's executor would run."""
    task = libE_info["executor"].submit(calc_type="sim", dry_run=True)
    out = np.zeros(1, dtype=sim_specs["out"])
    out["hosts"] = task.command[task.command.index("-hosts") + 1]
    return out, persis_info


def where_sim(H, persis_info, sim_specs, libE_info):
    """Reports the directory it ran in (parent/name) and which input files it found there;
    leaves an output file behind."""
    out = np.zeros(1, dtype=sim_specs["out"])
    here = os.getcwd()
    out["dir"] = os.path.join(os.path.basename(os.path.dirname(here)), os.path.basename(here))
    out["found"] = ",".join(
        name for name in ("params.in", "data.txt", "mesh.dat") if os.path.exists(name)
    )
    with open("out.txt", "w") as f:
        f.write(str(libE_info["H_rows"][0]))
    return out, persis_info


def team_sim(H, persis_info, sim_specs, libE_info):
    """Reports the resource sets it was lent, their cores and GPUs, and (with an executor)
    the process count and GPU list of the MPI launch its worker would run on them."""
    out = np.zeros(1, dtype=sim_specs["out"])
    team = libE_info.get("rset_team", [])
    out["team"] = -1
    out["team"][0, : len(team)] = team
    share = libE_info.get("resources")
    out["cores"] = share.cores_per_node if share is not None else 0
    out["gpus"] = ",".join(share.gpu_ids) if share is not None else ""
    exctr = libE_info.get("executor")
    if exctr is not None:
        task = exctr.submit(calc_type="sim", dry_run=True)
        out["procs"] = int(task.command[task.command.index("-n") + 1])
        out["gpu_env"] = (task.env or {}).get("CUDA_VISIBLE_DEVICES", "")
    return out, persis_info


def team_gen(H, persis_info, gen_specs, libE_info):
    """Persistent: sends batches of ``b`` points that carry the resource sets this
    generator was lent (``gen_team``) and their cores, until it is stopped."""
    ps = PersistentSupport(libE_info, EVAL_GEN_TAG)
    rng = np.random.default_rng(libE_info["workerID"])
    team = libE_info.get("rset_team", [])
    b = gen_specs["user"].get("b", 2)
    tag = None
    while tag not in (STOP_TAG, PERSIS_STOP):
        out = np.zeros(b, dtype=gen_specs["out"])
        out["x"] = rng.uniform(LB, UB, (b, 2))
        out["gen_team"] = -1
        out["gen_team"][:, : len(team)] = team
        out["gen_cores"] = libE_info["resources"].cores_per_node
        tag, _, _ = ps.send_recv(out)
    return None, persis_info, FINISHED_PERSISTENT_GEN_TAG


@input_fields(["x"])
@output_data([("f", float)])
def declared_sphere(H, persis_info, sim_specs, libE_info):
    """sphere, with its fields declared on the function (libEnsemble's decorators)."""
    return sphere(H, persis_info, sim_specs, libE_info)


@persistent_input_fields(["x", "f", "gen_worker"])
@output_data([("x", float, 2)])
def declared_recording_gen(H, persis_info, gen_specs, libE_info):
    """recording_gen, with its fields declared on the function."""
    return recording_gen(H, persis_info, gen_specs, libE_info)


def rset_alloc(W, H, sim_specs, gen_specs, alloc_specs, persis_info, libE_info):
    """libEnsemble's way with resource sets: give points to idle workers until sim_work
    says too few sets are free."""
    support = AllocSupport(W, True, persis_info, libE_info)
    Work = {}
    for wid in support.avail_worker_ids():
        ids = support.take_points(H)
        if not len(ids):
            break
        try:
            Work[wid] = support.sim_work(wid, H, sim_specs["in"], ids, persis_info.get(wid))
        except InsufficientFreeResources:
            break
    return Work, persis_info
