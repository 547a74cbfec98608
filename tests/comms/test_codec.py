"""The byte encoding of messages between processes: every field and array survives."""

import numpy as np
import pytest

from libens.comms.codec import decode, encode
from libens.messages import GenOutput, Result, Stop, Tag, Work, WorkerFailed

ROWS = np.array(
    [([1.0, 2.0], 3.0, 7), ([4.0, 5.0], 6.0, 8)],
    dtype=[("x", float, (2,)), ("f", float), ("sim_id", int)],
)


def test_work_round_trip_keeps_values_dtype_and_writability():
    got = decode(encode(Work(1, ROWS, np.array([7, 8]), {"k": 1}, True, False, {"a": 2})))
    assert isinstance(got, Work)
    assert got.rows.dtype == ROWS.dtype
    np.testing.assert_array_equal(got.rows, ROWS)
    np.testing.assert_array_equal(got.sim_ids, [7, 8])
    assert (got.persis_info, got.persistent, got.active_recv, got.info) == (
        {"k": 1},
        True,
        False,
        {"a": 2},
    )
    got.rows["f"] = 0.0  # a receiver may write into what it got, as with pickled arrays
    assert ROWS["f"].tolist() == [3.0, 6.0]


def test_field_views_strided_and_zero_length_arrays():
    view = ROWS[["f"]]  # a view with a gap before its field
    got = decode(encode(Result(1, 0, view, ROWS["sim_id"][::-1], None, 1.5, 2.5)))
    assert got.rows.dtype.names == ("f",)
    assert got.rows["f"].tolist() == [3.0, 6.0]
    assert got.sim_ids.tolist() == [8, 7]
    assert (got.started, got.ended) == (1.5, 2.5)
    empty = decode(encode(GenOutput(2, ROWS[:0])))
    assert empty.rows.shape == (0,) and empty.rows.dtype == ROWS.dtype


def test_object_arrays_nested_messages_and_plain_values_fall_back_to_pickle():
    objs = np.array([("a", 1.0)], dtype=[("name", object), ("f", float)])
    assert decode(encode(GenOutput(2, objs))).rows["name"][0] == "a"
    inner = Result(1, 0, ROWS, None, None, 0.0, 1.0)
    failed = decode(encode(WorkerFailed(1, "sim", "boom", "tb", np.array([3]), None, inner)))
    assert failed.done.rows["f"].tolist() == [3.0, 6.0] and failed.sim_ids.tolist() == [3]
    assert decode(encode(Stop(Tag.PERSIS_STOP))).tag == Tag.PERSIS_STOP
    assert decode(encode(5)) == 5


@pytest.mark.parametrize("value", [np.float64(2.5), np.arange(6).reshape(2, 3)])
def test_scalars_and_multidimensional_arrays(value):
    got = decode(encode(Work(1, None, value))).sim_ids
    np.testing.assert_array_equal(got, value)
