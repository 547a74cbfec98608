"""Run the transport contract under mpiexec: rank 0 checks, the other ranks echo."""

import sys

from libens.comms.mpi import MPIComms
from libens.testing import comms as contract

comms = MPIComms()
if not comms.is_manager:
    comms.run_worker(contract.echo_worker)
    sys.exit(0)
pool = comms.open_pool(comms.default_nworkers, contract.echo_worker, inproc_ids=[0])
contract.check_round_trip(pool)
contract.check_many_ready(pool)
contract.check_large_array_bit_exact(pool)
contract.check_idle_timeout(pool)
contract.stop(pool)
print("CONTRACT OK", pool.worker_ids, flush=True)
