"""A stand-in for a compiled MPI simulation code: every rank takes part, rank 0 writes the
six-hump camel function of the point given on the command line to ``result.txt`` and the
number of ranks to ``ranks.txt``.

    mpiexec -n 2 python camel_app.py 0.1 -0.7
"""

import os
import sys

x1, x2 = (float(v) for v in sys.argv[1:3])
rank = int(os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK") or 0)
size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE") or "1"
if rank == 0:
    f = (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2
    with open("result.txt", "w") as out:
        out.write(f"{f!r}\n")
    with open("ranks.txt", "w") as out:
        out.write(f"{size}\n")
