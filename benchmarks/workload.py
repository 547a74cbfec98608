"""One benchmark run, on libens or libEnsemble (the same script: only the imports differ).

    python benchmarks/workload.py --framework libens --workload persis_batch --comms local -n 2
    mpiexec -n 3 python benchmarks/workload.py --framework libensemble --comms mpi ...

Workloads (trivial simulation f = sum(x**2)):
  batch         non-persistent uniform sampler + give_sim_work_first
  persis_batch  persistent uniform sampler, results returned per batch
  persis_async  persistent uniform sampler, results returned as they arrive
  gest          gest-api UniformSample generator object
  sleep         batch sampler, simulations sleep --sleep seconds (many-worker scale test)
Prints one JSON line (manager only): evals_per_s is measured from the first simulation's
start to the last one's end (start-up is reported separately as first_eval_s, measured
from the start of the script, imports included).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np


def norm_squared(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=sim_specs["out"])
    out["f"] = np.sum(H["x"] ** 2, axis=1)
    return out, persis_info


def gest_sim(H, persis_info, sim_specs, libE_info):
    out = np.zeros(len(H), dtype=sim_specs["out"])
    out["f"] = H["x0"] ** 2 + H["x1"] ** 2
    return out, persis_info


def sleeper(H, persis_info, sim_specs, libE_info):
    time.sleep(sim_specs["user"]["sleep"])
    return norm_squared(H, persis_info, sim_specs, libE_info)


def typical_rate(ended: np.ndarray, window: int = 1000) -> float | None:
    """Median rate of the consecutive ``window``-evaluation stretches of ``ended`` (sorted end
    times): on a shared machine one slow moment moves a single 10k window's rate by 30%
    (a 10k window lasts 0.2 s), the median of ten short ones hardly at all."""
    starts = range(0, len(ended) - window, window)
    rates = [window / (ended[i + window] - ended[i]) for i in starts]
    return round(float(np.median(rates)), 1) if rates else None


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--framework", choices=["libens", "libensemble"], required=True)
    p.add_argument(
        "--workload",
        default="batch",
        choices=["batch", "persis_batch", "persis_async", "gest", "sleep"],
    )
    p.add_argument("--comms", default="local")
    p.add_argument("-n", "--nworkers", type=int, default=2)
    p.add_argument("--evals", type=int, default=10000)
    p.add_argument("--sleep", type=float, default=0.25)
    p.add_argument("--workerID", type=int, default=None)  # libEnsemble tcp workers
    p.add_argument("--server", nargs=3, default=None)
    return p.parse_args()


def main() -> None:
    a = parse()
    t0, c0 = time.perf_counter(), time.process_time()
    if a.framework == "libens":
        from libens import libE
        from libens.alloc import give_sim_work_first, only_persistent_gens
        from libens.gens.sampling import persistent_uniform, uniform_random_sample
        from libens.tools import add_unique_random_streams
    else:
        from libensemble.alloc_funcs.give_sim_work_first import give_sim_work_first
        from libensemble.alloc_funcs.start_only_persistent import only_persistent_gens
        from libensemble.gen_funcs.persistent_sampling import persistent_uniform
        from libensemble.gen_funcs.sampling import uniform_random_sample
        from libensemble.libE import libE
        from libensemble.tools import add_unique_random_streams

    n = a.nworkers
    lb, ub = np.array([-3.0, -2.0]), np.array([3.0, 2.0])
    sim = {
        "sim_f": sleeper if a.workload == "sleep" else norm_squared,
        "in": ["x"],
        "out": [("f", float)],
        "user": {"sleep": a.sleep},
    }
    alloc = {"alloc_f": give_sim_work_first}
    if a.workload in ("batch", "sleep"):
        gen = {
            "gen_f": uniform_random_sample,
            "out": [("x", float, (2,))],
            "user": {"lb": lb, "ub": ub, "gen_batch_size": max(100, 2 * n)},
        }
    elif a.workload == "gest":  # a script imports what it uses: gest-api only here
        if a.framework == "libens":
            from libens.gens import UniformSample
            from libens.vocs import VOCS
        else:
            from gest_api.vocs import VOCS
            from libensemble.gen_classes.sampling import UniformSample
        vocs = VOCS(variables={"x0": [-3.0, 3.0], "x1": [-2.0, 2.0]}, objectives={"f": "MINIMIZE"})
        sim = {"sim_f": gest_sim, "in": ["x0", "x1"], "out": [("f", float)]}
        generator = UniformSample(vocs) if a.framework == "libens" else UniformSample(vocs, 1)
        gen = {"generator": generator, "vocs": vocs, "batch_size": n, "initial_batch_size": n}
        alloc = {"alloc_f": only_persistent_gens}
    else:
        gen = {
            "gen_f": persistent_uniform,
            "persis_in": ["f", "x"],
            "out": [("x", float, (2,))],
            "user": {"lb": lb, "ub": ub, "initial_batch_size": n},
        }
        alloc = {
            "alloc_f": only_persistent_gens,
            "user": {"async_return": a.workload == "persis_async"},
        }
    specs: dict = {"comms": a.comms, "disable_log_files": True}
    if a.framework == "libens":
        specs["save_H_on_completion"] = False
    if a.comms in ("local", "threads", "tcp"):
        specs["nworkers"] = n
    if a.comms == "tcp" and a.framework == "libensemble":
        if a.workerID is not None:
            specs.update(
                workerID=a.workerID, ip=a.server[0], port=int(a.server[1]), authkey=a.server[2]
            )
        else:
            specs.update(
                ip="127.0.0.1",
                worker_cmd=[
                    sys.executable,
                    __file__,
                    *sys.argv[1:],
                    "--workerID",
                    "{workerID}",
                    "--server",
                    "{manager_ip}",
                    "{manager_port}",
                    "{authkey}",
                ],
            )
    persis_info = add_unique_random_streams({}, n + 2)
    H, _, flag = libE(sim, gen, {"sim_max": a.evals}, persis_info, alloc, specs)
    if H is None or (a.comms == "mpi" and len(H) == 0) or a.workerID is not None:
        return
    wall = time.perf_counter() - t0
    ended = np.sort(H["sim_ended_time"][H["sim_ended"]])
    done = len(ended)
    k = min(10000, done // 2)
    rate_first = k / (ended[k] - ended[0]) if k > 1 else None
    rate_last = k / (ended[-1] - ended[-k - 1]) if k > 1 else None
    typical_first = typical_rate(ended[: k + 1])
    typical_last = typical_rate(ended[-k - 1 :])
    ru = resource.getrusage(resource.RUSAGE_SELF)
    start = H["sim_started_time"][H["sim_started"]]
    span = float(ended[-1] - start.min()) if done else 0.0
    print(
        json.dumps(
            {
                "framework": a.framework,
                "workload": a.workload,
                "comms": a.comms,
                "nworkers": n,
                "evals": done,
                "wall_s": round(wall, 4),
                "evals_per_s": round(done / span, 1) if span > 0 else None,
                "manager_cpu_s": round(time.process_time() - c0, 3),
                "manager_peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
                "history_mb": round(H.nbytes / 1e6, 1),
                "first_eval_s": round(float(ended[0]) - (time.time() - wall), 4) if done else None,
                "first_start_s": round(float(start.min()) - (time.time() - wall), 4)
                if done
                else None,
                "rate_first_10k": round(rate_first, 1) if rate_first else None,
                "rate_last_10k": round(rate_last, 1) if rate_last else None,
                "typical_rate_first_10k": typical_first,
                "typical_rate_last_10k": typical_last,
                "exit_flag": int(flag),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
