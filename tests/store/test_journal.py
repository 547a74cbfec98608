"""The journal format: round trip, torn and corrupt records, readable with NumPy alone."""

from __future__ import annotations

import json
import logging
import struct

import numpy as np
import pytest

from libens.store.journal import Event, Journal, JournalCorrupt, read_journal
from libens.store.replay import replay


def rows(ids, x=0.0):
    r = np.zeros(len(ids), dtype=[("sim_id", np.int64), ("x", float, 2), ("name", "U4")])
    r["sim_id"], r["x"], r["name"] = ids, x, "ab"
    return r


def write(path, *events):
    j = Journal(path)
    j.append(*events)
    j.close()


def test_round_trip(tmp_path):
    path = tmp_path / "j"
    write(path, Event("gen", {}, rows([0, 1], 1.5)))
    write(
        path,
        Event("start", {"w": 3, "t": 2.0}, rows([0])[["sim_id"]].copy()),
        Event("cancel", {}, None),
    )
    events = list(read_journal(path))
    assert [e.kind for e in events] == ["gen", "start", "cancel"]
    assert np.array_equal(events[0].rows, rows([0, 1], 1.5))
    assert events[1].info == {"w": 3, "t": 2.0} and events[2].rows is None


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_last_record_is_dropped_with_a_warning(tmp_path, caplog, damage):
    path = tmp_path / "j"
    write(path, Event("gen", {}, rows([0, 1])), Event("gen", {}, rows([2])))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-7]
    else:
        data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="libens.store"):
        events = list(read_journal(path))
    assert len(events) == 1 and events[0].rows["sim_id"].tolist() == [0, 1]
    assert "dropped a torn last record" in caplog.text


def test_appending_after_a_torn_tail_cuts_it_first(tmp_path, caplog):
    """A run resumed after power loss must not leave garbage in the middle of its journal."""
    path = tmp_path / "j"
    write(path, Event("gen", {}, rows([0, 1])), Event("gen", {}, rows([2])))
    path.write_bytes(path.read_bytes()[:-5])
    with caplog.at_level(logging.WARNING, logger="libens.store"):
        write(path, Event("gen", {}, rows([3])))
    assert "cut the torn tail" in caplog.text
    events = list(read_journal(path))
    assert [e.rows["sim_id"].tolist() for e in events] == [[0, 1], [3]]


def test_corruption_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "j"
    write(path, Event("gen", {}, rows([0])), Event("gen", {}, rows([1])))
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match="is corrupt and is not the last one"):
        list(read_journal(path))


def test_readable_without_libens(tmp_path):
    """The documented format, decoded with struct, json and numpy only."""
    path = tmp_path / "j"
    write(path, Event("gen", {}, rows([4, 5], 2.0)))
    data = path.read_bytes()
    length, _crc = struct.unpack_from("<II", data)
    line, _, body = data[8 : 8 + length].partition(b"\n")
    head = json.loads(line)
    dtype = np.dtype([(n, t, tuple(s)) if s else (n, t) for n, t, s in head["descr"]])
    back = np.frombuffer(body, dtype=dtype, count=head["n"])
    assert head["kind"] == "gen" and back["sim_id"].tolist() == [4, 5]
    assert np.all(back["x"] == 2.0)


def test_replay_applies_events_in_order():
    gen = np.zeros(3, dtype=[("sim_id", np.int64), ("x", float), ("gen_worker", np.int64)])
    gen["sim_id"], gen["x"], gen["gen_worker"] = [0, 1, 2], [1.0, 2.0, 3.0], 5
    end = np.zeros(
        1,
        dtype=[
            ("sim_id", np.int64),
            ("sim_worker", np.int64),
            ("sim_ended_time", float),
            ("sim_failed", bool),
            ("f", float),
        ],
    )
    end["sim_id"], end["sim_worker"], end["sim_ended_time"], end["f"] = 0, 2, 9.0, 4.0
    cancel = np.zeros(1, dtype=[("sim_id", np.int64)])
    cancel["sim_id"] = 2
    H = replay([Event("gen", {}, gen), Event("end", {}, end), Event("cancel", {}, cancel)])
    assert H["x"].tolist() == [1.0, 2.0, 3.0] and set(H["gen_worker"]) == {5}
    assert H["sim_started"].tolist() == [True, False, False]
    assert H["sim_ended"].tolist() == [True, False, False] and H["f"][0] == 4.0
    assert H["sim_worker"][0] == 2 and H["cancel_requested"].tolist() == [False, False, True]
