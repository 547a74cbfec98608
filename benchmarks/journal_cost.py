"""Cost of durability. (1) The cost of one journal record (encode + append of a typical
"end" record) against the manager's cost per evaluation; (2) the same run with and without
a run directory, alternating, median of repeats, split into the per-event journal cost and
the one-off end-of-run work (history.npy, CSV summaries). Prints one JSON line.

    python benchmarks/journal_cost.py [--evals 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from libens import ExitCriteria, GenSpecs, LibeSpecs, SimSpecs, libE
from libens.gens.sampling import uniform_random_sample
from libens.sims import norm_squared
from libens.store import Event, Journal, read_journal
from libens.store.summary import write_all


def record_cost(n: int = 20000) -> float:
    """Microseconds to encode and append one one-point "end" record (no fsync)."""
    import numpy as np

    rows = np.zeros(
        1,
        dtype=[
            ("sim_id", np.int64),
            ("sim_worker", np.int64),
            ("sim_started_time", float),
            ("sim_ended_time", float),
            ("sim_failed", bool),
            ("f", float),
        ],
    )
    d = Path(tempfile.mkdtemp())
    journal = Journal(d / "j")
    t = time.perf_counter()
    for _ in range(n):
        journal.append(Event("end", {}, rows))
    cost = (time.perf_counter() - t) / n * 1e6
    journal.close()
    shutil.rmtree(d)
    return cost


def end_of_run_cost(run_dir: Path) -> float:
    """Seconds for the one-off end-of-run files (history.npy and the CSV summaries)."""
    import numpy as np

    H = np.load(run_dir / "history.npy")
    t = time.perf_counter()
    np.save(run_dir / "again.npy", H)
    write_all(run_dir / "summary2", H, "f")
    return time.perf_counter() - t


def one_run(evals: int, run_dir: Path | None, per_point: bool) -> tuple[float, float]:
    sim = SimSpecs(sim_f=norm_squared, inputs=["x"], outputs=[("f", float)])
    gen = GenSpecs(
        gen_f=uniform_random_sample,
        outputs=[("x", float, 2)],
        user={"lb": [-1, -1], "ub": [1, 1], "gen_batch_size": 500},
    )
    specs = LibeSpecs(
        comms="threads",
        nworkers=2,
        disable_log_files=True,
        save_H_on_completion=False,
        run_dir=run_dir,
        chunk_short_sims=not per_point,
    )
    t, c = time.perf_counter(), time.process_time()
    libE(sim, gen, ExitCriteria(sim_max=evals), libE_specs=specs)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--evals", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    out: dict[str, float | int | str] = {
        "benchmark": "journal_cost",
        "evals": args.evals,
        "journal_us_per_record": round(record_cost(), 2),
    }
    for mode, per_point in (("chunked", False), ("one_point_per_message", True)):
        plain, durable, final = [], [], []
        records = 0
        for _ in range(args.repeat):
            plain.append(one_run(args.evals, None, per_point)[1])
            d = Path(tempfile.mkdtemp())
            durable.append(one_run(args.evals, d / "run", per_point)[1])
            records = sum(1 for _ in read_journal(d / "run" / "journal" / "events.bin"))
            final.append(end_of_run_cost(d / "run"))
            shutil.rmtree(d)
        a, b, e = (statistics.median(x) for x in (plain, durable, final))
        out[f"{mode}_manager_cpu_us_per_eval"] = round(a / args.evals * 1e6, 2)
        out[f"{mode}_journal_records"] = records
        out[f"{mode}_journal_us_per_eval"] = round(max(b - a - e, 0) / args.evals * 1e6, 2)
        out[f"{mode}_end_of_run_s"] = round(e, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
