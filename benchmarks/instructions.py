"""Instructions per evaluation of a whole libens workload run (all threads), under callgrind.

    python benchmarks/instructions.py --workload gest --comms threads -n 2

Runs ``workload.py`` twice under ``valgrind --tool=callgrind`` (2,000 and 6,000 evaluations
by default) and prints one JSON line with the difference of the two counts divided by the
difference of evaluations: the exact cost of one evaluation, start-up excluded, repeatable to
about 0.1% (hash seed fixed, OpenBLAS on one thread, address randomization off). Timings
cannot see a 2% change on this shared machine; this can.

Valgrind runs the code about fifty times slower, and libens chooses paths by timing: work
under 100 us runs on the manager's thread, short simulations go out in chunks, tiny user
code stays on the pool's CPU. So the measured run raises those thresholds
(``--as-measured``), which keeps callgrind on the path a real run of a trivial simulation
takes; without that it would count the path of slow simulations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

WORKLOAD = Path(__file__).with_name("workload.py")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", default="gest")
    p.add_argument("--comms", default="threads")
    p.add_argument("-n", "--nworkers", type=int, default=2)
    p.add_argument("--evals", type=int, nargs=2, default=[2000, 6000], metavar=("FEW", "MANY"))
    p.add_argument("--as-measured", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def run_as_measured(a: argparse.Namespace) -> None:
    """The workload with the timing thresholds raised (see the module docstring)."""
    import libens.comms.affinity as affinity
    import libens.manager as manager
    import libens.worker as worker

    worker.TINY_WORK = affinity.TINY_STRETCH = 1.0
    manager.SHORT_SIM_SECONDS = manager.TINY_SIM_SECONDS = 1.0
    sys.argv = [str(WORKLOAD), "--framework", "libens", "--workload", a.workload]
    sys.argv += ["--comms", a.comms, "-n", str(a.nworkers), "--evals", str(a.evals[0])]
    runpy.run_path(str(WORKLOAD), run_name="__main__")


def count(a: argparse.Namespace, evals: int) -> int:
    """Instructions callgrind counts for a run of ``evals`` evaluations."""
    cmd = ["setarch", platform.machine(), "-R", "valgrind", "--tool=callgrind"]
    cmd += ["--callgrind-out-file=/dev/null", sys.executable, __file__, "--as-measured"]
    cmd += ["--workload", a.workload, "--comms", a.comms, "-n", str(a.nworkers)]
    cmd += ["--evals", str(evals), str(evals)]
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or found is None:
        sys.exit(f"callgrind run failed ({' '.join(cmd)}):\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    a = parse()
    if a.as_measured:
        run_as_measured(a)
        return
    if shutil.which("valgrind") is None or shutil.which("setarch") is None:
        sys.exit("needs valgrind and setarch on PATH (Debian: apt install valgrind util-linux)")
    few, many = a.evals
    per_eval = (count(a, many) - count(a, few)) / (many - few)
    result = {"workload": a.workload, "comms": a.comms, "nworkers": a.nworkers}
    print(json.dumps({**result, "instructions_per_eval": round(per_eval)}), flush=True)


if __name__ == "__main__":
    main()
