"""FrameLink: Connection's wire format, read through a buffer (libens.comms.frames)."""

from __future__ import annotations

import os
import threading
from multiprocessing import Pipe

import pytest

from libens.comms.frames import FrameLink


def test_frames_match_connections_own_format_both_ways():
    a, b = Pipe()
    FrameLink(a).send_bytes(b"to a Connection")
    assert b.recv_bytes() == b"to a Connection"
    b.send_bytes(b"from a Connection")
    assert FrameLink(a).recv_bytes() == b"from a Connection"


def test_one_read_takes_every_waiting_message_and_keeps_them_in_order():
    a, b = Pipe()
    for i in range(5):
        b.send_bytes(b"m%d" % i)
    link = FrameLink(a)
    link.fill()
    assert [link.frame() for _ in range(6)] == [b"m0", b"m1", b"m2", b"m3", b"m4", None]
    assert not link.buffered()


def test_a_message_split_across_reads_comes_out_whole():
    a, b = Pipe()
    link = FrameLink(a)
    wire = (7).to_bytes(4, "big") + b"partial"
    b.send_bytes(b"x")  # a frame first, so the pipe holds header bytes of the next one
    os.write(b.fileno(), wire[:6])
    link.fill()
    assert link.frame() == b"x"
    assert link.frame() is None and link.buffered()  # half a message: not returned
    os.write(b.fileno(), wire[6:])
    link.fill()
    assert link.frame() == b"partial"


def test_large_messages_stream_through_the_pipe():
    a, b = Pipe()
    big = bytes(range(256)) * 20_000  # 5 MB: far more than a pipe holds
    sender = threading.Thread(target=FrameLink(b).send_bytes, args=(big,))
    sender.start()
    got = FrameLink(a).recv_bytes()
    sender.join()
    assert got == big


def test_a_closed_end_reads_as_eof():
    a, b = Pipe()
    b.close()
    with pytest.raises(EOFError):
        FrameLink(a).recv_bytes()
