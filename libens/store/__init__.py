"""Durable runs: the run directory, its append-only journal, resume, summaries, clean-up."""

from libens.store.journal import Event, Journal, read_journal
from libens.store.recorder import RunStore
from libens.store.replay import load_history, replay
from libens.store.rundir import RunDir, spec_diff

__all__ = [
    "Event",
    "Journal",
    "RunDir",
    "RunStore",
    "load_history",
    "read_journal",
    "replay",
    "spec_diff",
]
