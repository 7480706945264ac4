"""``lava_thesis.lava_run.run_lava``: results, surfaced errors, timeouts, nothing left behind.

The ``Boom`` Process lives in ``tests/lava_fixtures/boom`` (not beside this file: Lava's compiler
imports every module in a Process's folder while it searches for ProcessModels).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lava_fixtures.boom.process import Boom  # noqa: E402

from lava_thesis.lava_run import (  # noqa: E402
    LavaRunError,
    LavaTimeoutError,
    make_run_cfg,
    run_lava,
)

SHM = Path("/dev/shm")


# --------------------------------------------------------------------------- process bookkeeping


def _processes() -> dict[int, tuple[str, int, int]]:
    """``pid -> (state, ppid, pgrp)`` for every process in /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
        table[int(entry.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return table


def _alive(table: dict[int, tuple[str, int, int]]) -> dict[int, tuple[str, int, int]]:
    return {pid: row for pid, row in table.items() if row[0] not in ("Z", "X")}


def _group(pgid: int) -> set[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    return {pid for pid, (_, _, pgrp) in _alive(_processes()).items() if pgrp == pgid}


def _descendants(root: int) -> set[int]:
    """Live descendants of ``root``."""
    table = _alive(_processes())
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (_, ppid, _) in table.items() if ppid in frontier} - found
        found |= frontier
    return found


def _shm() -> set[str]:
    return {p.name for p in SHM.glob("psm_*")} if SHM.is_dir() else set()


def _mapped_shm() -> set[str]:
    """``psm_*`` segments that some live process maps (i.e. that another program is using)."""
    names = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            text = maps.read_text()
        except OSError:
            continue
        names.update(
            line.rsplit("/", 1)[-1] for line in text.splitlines() if "/dev/shm/psm_" in line
        )
    return names


def _leaked_shm(before: set[str]) -> set[str]:
    """Segments created since ``before`` that nobody maps any more.

    Lava runs of other programs on this machine may create segments meanwhile; those are mapped
    by their live processes and not counted.
    """
    new = _shm() - before
    return new - _mapped_shm() if new else new


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def leak_check():
    """Yields a function that asserts a run left no process and no shared memory behind.

    Should the assertion fail, teardown kills whatever is left of the run's process group, so a
    failing test does not leave a Lava run going.
    """
    children = set(multiprocessing.active_children())
    descendants = _descendants(os.getpid())
    shm = _shm()
    seen: list[int] = []

    def check(worker_pid: int) -> None:
        seen.append(worker_pid)
        assert worker_pid not in descendants  # the pid file really came from the run's worker
        assert set(multiprocessing.active_children()) <= children
        assert _eventually(lambda: not _group(worker_pid)), (
            f"processes of the run's group are still alive: {_group(worker_pid)}"
        )
        assert _eventually(lambda: _descendants(os.getpid()) <= descendants), (
            f"new child processes left: {_descendants(os.getpid()) - descendants}"
        )
        assert _eventually(lambda: not _leaked_shm(shm)), f"shared memory left: {_leaked_shm(shm)}"

    yield check
    for pgid in seen:
        if _group(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _record_pid(path: Path) -> None:
    """Called inside the worker (it leads the process group of the run)."""
    path.write_text(str(os.getpid()))


# --------------------------------------------------------------------------- networks

WEIGHTS = (10, 12)
VTH = 35
NUM_STEPS = 20


def _lif_build(tag: str):
    def build():
        from lava.proc.dense.process import Dense
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source
        from lava.proc.lif.process import LIF

        # du: the current decays completely each step, so u[t] equals the input of step t.
        du = 4095 if tag == "fixed_pt" else 1.0
        src = Source(data=np.ones((1, NUM_STEPS)))  # one spike every step
        dense = Dense(weights=np.array([[w] for w in WEIGHTS]))
        lif = LIF(shape=(len(WEIGHTS),), du=du, dv=0, vth=VTH)
        snk = Sink(shape=(len(WEIGHTS),), buffer=NUM_STEPS)
        src.s_out.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        lif.s_out.connect(snk.a_in)
        return src, lambda: snk.data.get()

    return build


def _expected_spike_steps(weight: int) -> list[int]:
    """1-based steps at which a LIF with du=full decay, dv=0, bias 0 spikes.

    Dense sends what it received one step earlier, so the LIF gets ``weight`` from step 2 on.
    With the current fully decayed each step (u = weight) and no voltage leak, v grows by
    ``weight`` per step and the neuron spikes (and resets v to 0) once ``v > vth``, i.e. after
    ``k = vth // weight + 1`` inputs. (fixed_pt scales both sides by 2**6, the same inequality.)
    """
    period = VTH // weight + 1
    return list(range(1 + period, NUM_STEPS + 1, period))


def test_expected_spike_steps_by_hand():
    assert _expected_spike_steps(10) == [5, 9, 13, 17]  # 4 inputs: 40 > 35
    assert _expected_spike_steps(12) == [4, 7, 10, 13, 16, 19]  # 3 inputs: 36 > 35


@pytest.mark.parametrize("tag", ["fixed_pt", "floating_pt"])
def test_lif_spike_train_matches_analytic_solution(tag, leak_check, tmp_path):
    pid_file = tmp_path / "pid"
    build = _lif_build(tag)

    def build_and_record():
        _record_pid(pid_file)
        return build()

    spikes = run_lava(build_and_record, NUM_STEPS, tag=tag, timeout_s=60)
    spikes = np.asarray(spikes)
    assert spikes.shape == (len(WEIGHTS), NUM_STEPS)
    for neuron, weight in enumerate(WEIGHTS):
        steps = [int(i) + 1 for i in np.flatnonzero(spikes[neuron])]
        assert steps == _expected_spike_steps(weight), (tag, weight)
    assert set(np.unique(spikes)) == {0, 1}
    leak_check(int(pid_file.read_text()))


# --------------------------------------------------------------------------- errors


def test_build_error_is_reported_with_its_text():
    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        src = Source(data=np.ones((2, 5)))
        snk = Sink(shape=(3,), buffer=5)
        src.s_out.connect(snk.a_in)  # shape mismatch
        return src, lambda: snk.data.get()

    with pytest.raises(LavaRunError) as info:
        run_lava(build, 5, timeout_s=60)
    assert not isinstance(info.value, LavaTimeoutError)
    assert "AssertionError" in str(info.value)
    assert "Shapes (2,) and (3,) are incompatible" in str(info.value)


def test_exception_inside_a_process_model_is_surfaced_and_cleaned_up(leak_check, tmp_path):
    pid_file = tmp_path / "pid"

    def build():
        from lava.proc.io.sink import RingBuffer as Sink

        _record_pid(pid_file)
        boom = Boom(fail_at=3)
        snk = Sink(shape=(1,), buffer=10)
        boom.s_out.connect(snk.a_in)
        return boom, lambda: snk.data.get()

    start = time.monotonic()
    with pytest.raises(LavaRunError) as info:
        run_lava(build, 10, timeout_s=60)
    elapsed = time.monotonic() - start
    assert not isinstance(info.value, LavaTimeoutError)
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert "boom at step 3" in str(info.value)
    assert "boom at step 3" in info.value.summary and "\n" not in info.value.summary
    leak_check(int(pid_file.read_text()))


def test_boom_fixture_runs_clean_when_it_never_fails():
    def build():
        from lava.proc.io.sink import RingBuffer as Sink

        boom = Boom(fail_at=0)
        snk = Sink(shape=(1,), buffer=4)
        boom.s_out.connect(snk.a_in)
        return boom, lambda: snk.data.get()

    out = run_lava(build, 4, tag="floating_pt", timeout_s=60)
    assert np.array_equal(out, np.zeros((1, 4)))


def test_hanging_run_times_out_and_is_killed(leak_check, tmp_path):
    pid_file = tmp_path / "pid"
    timeout_s = 3.0

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        _record_pid(pid_file)
        src = Source(data=np.ones((1, 1)))
        snk = Sink(shape=(1,), buffer=1)
        src.s_out.connect(snk.a_in)
        return src, lambda: snk.data.get()

    # Watch the run's process group while it runs, to know Lava's own processes were there.
    largest_group, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            if pid_file.exists() and pid_file.read_text():
                largest_group[0] = max(largest_group[0], len(_group(int(pid_file.read_text()))))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.monotonic()
    try:
        with pytest.raises(LavaTimeoutError, match="did not finish"):
            run_lava(build, 10**8, timeout_s=timeout_s)  # hours of steps
    finally:
        stop.set()
        watcher.join()
    elapsed = time.monotonic() - start
    assert timeout_s - 0.5 <= elapsed < timeout_s + 5, f"took {elapsed:.1f} s"
    assert isinstance(LavaTimeoutError("x"), TimeoutError)
    assert largest_group[0] >= 3, "Lava's processes never started; the test proves nothing"
    leak_check(int(pid_file.read_text()))


def test_build_that_sleeps_times_out(leak_check, tmp_path):
    pid_file = tmp_path / "pid"

    def build():
        _record_pid(pid_file)
        time.sleep(60)
        raise AssertionError("unreachable")

    start = time.monotonic()
    with pytest.raises(LavaTimeoutError):
        run_lava(build, 5, timeout_s=1)
    assert time.monotonic() - start < 6
    leak_check(int(pid_file.read_text()))


# --------------------------------------------------------------------------- arguments


def _never_called():
    raise AssertionError("build() must not run for invalid arguments")


@pytest.mark.parametrize("num_steps", [0, -1])
def test_non_positive_num_steps_is_a_value_error(num_steps):
    with pytest.raises(ValueError, match="num_steps"):
        run_lava(_never_called, num_steps)


def test_bad_tag_is_a_value_error():
    with pytest.raises(ValueError, match="tag"):
        make_run_cfg("bit_accurate")
    with pytest.raises(ValueError, match="tag"):
        run_lava(_never_called, 5, tag="bit_accurate", timeout_s=30)


def test_make_run_cfg_selects_the_tag():
    from lava.magma.core.run_configs import Loihi2SimCfg

    for tag in ("fixed_pt", "floating_pt"):
        cfg = make_run_cfg(tag)
        assert isinstance(cfg, Loihi2SimCfg)
        assert cfg.select_tag == tag


def test_cleanup_after_a_failure_spares_other_programs_shared_memory():
    from multiprocessing import shared_memory

    name = f"psm_lt{os.getpid()}"
    created = []

    def other_program():  # another user of /dev/shm, active while this run is going on
        from multiprocessing import resource_tracker

        segment = shared_memory.SharedMemory(name=name, create=True, size=64)
        segment.close()
        resource_tracker.unregister(segment._name, "shared_memory")  # the test unlinks it
        created.append(time.monotonic())

    def build():
        from lava.proc.io.sink import RingBuffer as Sink

        time.sleep(0.5)  # the other program creates its segment meanwhile
        boom = Boom(fail_at=2)
        snk = Sink(shape=(1,), buffer=5)
        boom.s_out.connect(snk.a_in)
        return boom, lambda: snk.data.get()

    timer = threading.Timer(0.1, other_program)
    try:
        start = time.monotonic()
        timer.start()
        with pytest.raises(LavaRunError, match="boom at step 2"):
            run_lava(build, 5, timeout_s=60)
        assert created and created[0] > start  # created during the run
        assert (SHM / name).exists()
    finally:
        timer.join()
        (SHM / name).unlink(missing_ok=True)


def test_watcher_sees_an_exit_without_reaping_the_process():
    """The watcher must not waitpid() Lava's actors: their own join() would then fail to
    close them ("Cannot close a process while it is still running")."""
    from lava_thesis.lava_run import _exited

    proc = multiprocessing.get_context("fork").Process(target=time.sleep, args=(0.1,))
    proc.start()
    assert _eventually(lambda: _exited(proc))
    assert proc._popen.returncode is None  # seen through the sentinel, not reaped
    proc.join()
    proc.close()  # raises if the exit status had been reaped behind join's back
