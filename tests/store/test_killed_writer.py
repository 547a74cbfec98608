"""A journal writer SIGKILLed mid-loop loses no batch it reported committed, repeats none."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np

from libens.store.journal import read_journal

BATCH = 7
WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from libens.store.journal import Event, Journal

    journal = Journal(sys.argv[1])
    k = 0
    while True:
        rows = np.zeros({batch}, dtype=[("sim_id", np.int64), ("f", float)])
        rows["sim_id"] = np.arange(k * {batch}, (k + 1) * {batch})
        rows["f"] = rows["sim_id"] * 0.5
        journal.append(Event("end", {{"batch": k}}, rows))
        k += 1
        print(k, flush=True)
    """
).format(batch=BATCH)


def test_sigkilled_writer_keeps_every_committed_batch_exactly_once(tmp_path):
    path = tmp_path / "events.bin"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        committed = 0
        for line in proc.stdout:
            committed = int(line)
            if committed >= 200:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    events = list(read_journal(path))
    batches = [e.info["batch"] for e in events]
    assert batches == list(range(len(batches)))  # in order, none twice, none missing
    assert len(batches) >= committed
    ids = np.concatenate([e.rows["sim_id"] for e in events])
    assert np.array_equal(ids, np.arange(len(batches) * BATCH))
    assert np.array_equal(np.concatenate([e.rows["f"] for e in events]), ids * 0.5)
