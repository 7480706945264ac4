"""``run_lava``'s result channel: a result that cannot be pickled is named in the error (not
reported as a closed pipe), and its errors survive pickling."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import test_lava_run

from lava_thesis.lava_run import LavaRunError, LavaTimeoutError, _unpicklable, run_lava

leak_check = test_lava_run.leak_check  # the fixture: no process or shared memory left behind
_record_pid = test_lava_run._record_pid


def test_unpicklable_result_is_named_in_the_error(leak_check, tmp_path):
    pid_file = tmp_path / "pid"

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        _record_pid(pid_file)
        src = Source(data=np.ones((1, 2)))
        snk = Sink(shape=(1,), buffer=2)
        src.s_out.connect(snk.a_in)
        return src, lambda: {"spikes": snk.data.get(), "extra": [1, threading.Lock()]}

    with pytest.raises(LavaRunError) as info:
        run_lava(build, 2, timeout_s=60)
    assert not isinstance(info.value, LavaTimeoutError)
    summary = info.value.summary
    assert "\n" not in summary
    assert "cannot be pickled" in summary and "closed its pipe" not in summary
    assert "result['extra'][1] (a _thread.lock)" in summary  # which object, and its type
    assert "cannot pickle '_thread.lock' object" in summary  # what pickle said
    leak_check(int(pid_file.read_text()))


def test_unpicklable_part_is_found_in_nested_containers():
    lock = threading.Lock()
    assert _unpicklable(lock) == "result (a _thread.lock)"
    assert _unpicklable((1, [2, {"a": 3, "b": lock}])) == "result[1][1]['b'] (a _thread.lock)"
    loop: list = []
    loop.append(loop)
    loop.append(lock)  # a self-referencing container does not recurse forever
    assert _unpicklable(loop).endswith("[1] (a _thread.lock)")


def test_run_error_pickles_with_its_summary_and_detail():
    for cls in (LavaRunError, LavaTimeoutError):
        err = pickle.loads(pickle.dumps(cls("Lava run failed: X", "Traceback ...\nX")))
        assert type(err) is cls and err.summary == "Lava run failed: X"
        assert str(err) == "Lava run failed: X\nTraceback ...\nX"
