"""A stand-in MPI application: prints the rank and size the MPI launcher gave it, in one
write (so the lines of two ranks cannot interleave)."""

import os

rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE")
os.write(1, f"rank {rank} of {size}\n".encode())
