"""A safe way to run a Lava network: timeout, surfaced errors, runtime always released.

Lava's CPU backend runs every Process as an OS process. Three traps make a bare
``proc.run(...); proc.stop()`` risky in scripts and tests:

* an exception inside a ProcessModel is logged by the child process and the main process sees
  only a generic failure, or nothing, unless logging is raised;
* after such an exception ``stop()`` can block forever;
* a run that deadlocks (a Monitor shorter than the run, a mis-wired port) never returns.

:func:`run_lava` therefore builds and runs the network in a forked worker process that leads its
own process group. The parent waits with a timeout, receives the collected results (or the
formatted traceback) through a pipe, and on error or timeout kills the whole group, so nothing is
left running and nothing hangs.

Example
-------
>>> from lava.proc.io.source import RingBuffer as Source
>>> from lava.proc.io.sink import RingBuffer as Sink
>>> import numpy as np
>>> def build():
...     src = Source(data=np.ones((2, 5)))
...     snk = Sink(shape=(2,), buffer=5)
...     src.s_out.connect(snk.a_in)
...     return src, lambda: snk.data.get()
>>> run_lava(build, num_steps=5).shape  # doctest: +SKIP
(2, 5)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait as mp_wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import lava_thesis  # noqa: F401  (applies the Lava compatibility fixes)

TAGS = ("fixed_pt", "floating_pt")
BuildFn = Callable[[], tuple[Any, Callable[[], Any]]]


class LavaRunError(RuntimeError):
    """A Lava run failed; the message carries the traceback from the worker process.

    Parameters
    ----------
    summary : str
        One line saying what failed (e.g. ``"Lava run failed: RuntimeError: boom at step 3"``).
    detail : str, optional
        The worker's traceback(s); ``str(error)`` is the summary followed by it.
    """

    def __init__(self, summary: str, detail: str = "") -> None:
        self.summary = summary
        self.detail = detail
        super().__init__(f"{summary}\n{detail}" if detail else summary)

    def __reduce__(self):
        return (type(self), (self.summary, self.detail))


class LavaTimeoutError(LavaRunError, TimeoutError):
    """A Lava run did not finish within its timeout; its processes were killed."""


def make_run_cfg(tag: str = "fixed_pt", loglevel: int = logging.WARNING, **kwargs: Any):
    """A ``Loihi2SimCfg`` for Lava's CPU simulator with ``select_tag=tag``.

    Extra keyword arguments go to ``Loihi2SimCfg`` (e.g. ``exception_proc_model_map``).
    """
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {TAGS}, got {tag!r}")
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag=tag, loglevel=loglevel, **kwargs)


def _actors(proc) -> list:
    runtime = getattr(proc, "_runtime", None)
    infra = getattr(runtime, "_messaging_infrastructure", None)
    return list(getattr(infra, "actors", None) or [])


def _actor_errors(proc) -> list[str]:
    """Tracebacks of Lava actor processes (one per ProcessModel) that raised."""
    errors = []
    for actor in _actors(proc):
        try:
            exc = actor.exception
        except (OSError, EOFError, ValueError):  # pipe already drained by Lava's own join
            exc = None
        if exc:
            errors.append(f"in {getattr(actor, 'name', 'a Lava process')}:\n{exc[1]}")
    return errors


def _exited(actor) -> bool:
    """True once the actor process has exited, without reaping it (no waitpid: Lava's own
    join must do that, or it sees the child vanish and fails to close it)."""
    try:
        return bool(mp_wait([actor.sentinel], timeout=0))
    except (ValueError, OSError):  # already closed by Lava
        return False


def _watch(conn, proc, lock: threading.Lock, done: threading.Event,
           ran: threading.Event) -> None:
    """Report an exception raised inside a ProcessModel while ``proc.run`` is blocked.

    Lava waits forever when a ProcessModel raises. While the run is in progress no actor
    exits normally, so an exited actor means an error. Once ``run`` has returned (``ran``),
    actors exit during ``stop()`` and the watcher steps aside.
    """
    while not done.wait(0.2):
        if ran.is_set():
            return
        if any(_exited(actor) for actor in _actors(proc)):
            if done.wait(1.0) or ran.is_set():  # the main thread may be handling it
                return
            errors = _with_lock(lock, lambda: _actor_errors(proc)) or [
                "(a Lava process exited with an error)"]
            _send_once(conn, lock, done,
                       ("error", "exception inside a Lava process " + "\n".join(errors)))
            return


def _with_lock(lock: threading.Lock, fn, timeout: float = 2.0):
    """``fn()`` under ``lock``; without it (``None``) if a stuck watcher holds it."""
    if not lock.acquire(timeout=timeout):
        return None
    try:
        return fn()
    finally:
        lock.release()


def _unpicklable(obj: Any, where: str = "result", _path: tuple[int, ...] = ()) -> str:
    """Where in ``obj`` (descending into tuples, lists and dicts) the first object that cannot
    be pickled sits, with its type, e.g. ``"result[1]['w'] (a _thread.lock)"``."""
    path = (*_path, id(obj))
    items: list[tuple[str, Any]] = []
    if isinstance(obj, dict):
        items = [(f"{where}[{key!r}]", value) for key, value in obj.items()]
    elif isinstance(obj, (list, tuple)):
        items = [(f"{where}[{i}]", value) for i, value in enumerate(obj)]
    for name, value in items:
        if id(value) in path:  # a container holding itself: look at its other items
            continue
        try:
            ForkingPickler.dumps(value)
        except Exception:  # noqa: BLE001 - any failure marks the culprit
            return _unpicklable(value, name, path)
    kind = type(obj)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"{where} (a {module}{kind.__qualname__})"


def _pickled(message: tuple[str, Any]) -> bytes:
    """``message`` pickled for the pipe. A result that cannot be pickled becomes an error
    naming the object and the reason (``collect()``'s return value must be picklable)."""
    try:
        return bytes(ForkingPickler.dumps(message))
    except Exception as err:  # noqa: BLE001 - pickling raises many types
        status, payload = message
        if status != "ok":
            raise
        reason = f"{type(err).__name__}: {err}"
        return bytes(ForkingPickler.dumps(("error", (
            f"{traceback.format_exc()}\nthe result of collect() cannot be sent back from "
            f"the Lava worker: {_unpicklable(payload)} cannot be pickled ({reason})"))))


def _send_once(conn, lock: threading.Lock, done: threading.Event, message) -> None:
    """Send the worker's one result unless the watcher already reported an error (the lock
    serialises the two; a watcher stuck on a Lava pipe is not waited for). The message is
    pickled first, so a result that cannot be pickled is reported as an error naming it."""
    data = _pickled(message)
    acquired = lock.acquire(timeout=2.0)
    try:
        if not done.is_set():
            done.set()
            conn.send_bytes(data)
    finally:
        if acquired:
            lock.release()


def _worker(conn, build: BuildFn, num_steps: int, tag: str, cfg_kwargs: dict) -> None:
    os.setsid()  # lead a process group so the parent can kill Lava's children too
    lock, done, ran = threading.Lock(), threading.Event(), threading.Event()
    proc = None
    try:
        from lava.magma.core.run_conditions import RunSteps

        proc, collect = build()
        threading.Thread(target=_watch, args=(conn, proc, lock, done, ran), daemon=True).start()
        proc.run(condition=RunSteps(num_steps=num_steps), run_cfg=make_run_cfg(tag, **cfg_kwargs))
        ran.set()
        result = collect()
        proc.stop()
        _send_once(conn, lock, done, ("ok", result))
    except BaseException:  # report everything, including KeyboardInterrupt in the worker
        message = traceback.format_exc()
        ran.set()  # the watcher steps aside
        # Lava's own error only says "See output above": add the actors' tracebacks.
        errors = _with_lock(lock, lambda: _actor_errors(proc) if proc is not None else [])
        if errors:
            message += "exception inside a Lava process " + "\n".join(errors)
        _send_once(conn, lock, done, ("error", message))
    finally:
        conn.close()


def _last_line(text: str) -> str:
    """The last non-empty line of a traceback text: the exception that ended it."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


_SHM = Path("/dev/shm")


def _group_pids(pgid: int) -> list[int]:
    """PIDs of the live processes in process group ``pgid`` (read from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def _group_shm(pgid: int) -> set[str]:
    """Lava shared-memory segments (``/dev/shm/psm_*``) mapped by the group's processes."""
    names = set()
    for pid in _group_pids(pgid):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        names.update(m.split("/dev/shm/")[1].split()[0] for m in maps.splitlines()
                      if "/dev/shm/psm_" in m)
    return names


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _unlink_shm(names: set[str]) -> None:
    """Remove shared-memory segments that a killed run left behind."""
    for name in names:
        try:
            (_SHM / name).unlink()
        except OSError:
            pass


def step_timeout(num_steps: int, neurons: int) -> float:
    """A wall-clock limit for a Lava CPU run of ``num_steps`` steps of a Diehl & Cook network
    of ``neurons`` excitatory neurons: 5 minutes to build and start, then 50 ms per step per
    400 neurons (at least 400). Lava's simulator takes about 15 ms a step at 400 and 100 ms
    at 6,400 on a 2-core machine, so only a hang reaches the limit, at any size.

    >>> step_timeout(1000, 100), step_timeout(1000, 1600)
    (350.0, 500.0)
    """
    return 300.0 + 0.05 * num_steps * max(1.0, neurons / 400)


def run_lava(
    build: BuildFn,
    num_steps: int,
    *,
    tag: str = "fixed_pt",
    timeout_s: float = 600.0,
    loglevel: int = logging.WARNING,
    **cfg_kwargs: Any,
) -> Any:
    """Build a Lava network, run it for ``num_steps`` and return what ``collect()`` returns.

    Parameters
    ----------
    build:
        Called inside the worker. Returns ``(process, collect)``: any Process of the network
        (the compiler follows its connections) and a function that reads results (e.g. a sink's
        ``data.get()``) after the run; its return value must be picklable.
    num_steps:
        Number of time steps to run (``RunSteps``).
    tag:
        ``"fixed_pt"`` (bit-accurate Loihi models) or ``"floating_pt"``.
    timeout_s:
        Wall-clock limit for build + run + collect. On expiry every process of the run is killed
        and :class:`LavaTimeoutError` is raised.
    loglevel:
        Lava's log level. Lava logs the tracebacks of failed ProcessModels at INFO, so they
        are hidden at the default level; this function returns them in the error instead.
    cfg_kwargs:
        Passed on to ``Loihi2SimCfg``.

    Raises
    ------
    LavaRunError
        When building, running or collecting raised, or ``collect()`` returned something that
        cannot be pickled: ``summary`` names the failure in one line, ``detail`` holds the
        worker's traceback (:class:`LavaTimeoutError` on timeout).
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {TAGS}, got {tag!r}")
    cfg_kwargs = {"loglevel": loglevel, **cfg_kwargs}
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker, args=(send, build, num_steps, tag, cfg_kwargs))
    worker.start()
    send.close()
    deadline = time.monotonic() + timeout_s
    try:
        while not recv.poll(0.2):
            if time.monotonic() > deadline:
                raise LavaTimeoutError(
                    f"Lava run of {num_steps} steps did not finish in {timeout_s:.0f} s; killed"
                )
            if not worker.is_alive() and not recv.poll(0):
                raise LavaRunError(
                    f"Lava worker died (exit code {worker.exitcode}) without a result"
                )
        try:
            status, payload = recv.recv()
        except EOFError as err:
            worker.join(timeout=1)
            raise LavaRunError(f"Lava worker closed its pipe without a result (exit code "
                               f"{worker.exitcode})") from err
        except Exception as err:  # noqa: BLE001 - unpickling raises many types
            raise LavaRunError(f"the Lava run's result cannot be read back: "
                               f"{type(err).__name__}: {err}") from err
        if status != "ok":
            raise LavaRunError(f"Lava run failed: {_last_line(payload)}", detail=payload)
        return payload
    except BaseException:
        # Failure or timeout: kill the worker's whole group (Lava's processes are in it) and
        # remove the shared memory that only this run's processes mapped.
        leftovers = _group_shm(worker.pid)
        _kill_group(worker.pid)
        worker.join(timeout=10)
        _unlink_shm(leftovers)
        raise
    finally:
        recv.close()
        worker.join(timeout=10)  # success: the worker has stopped Lava and is exiting
        if worker.exitcode is None:
            _kill_group(worker.pid)
            worker.join(timeout=10)
