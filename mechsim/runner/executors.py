"""Executors that run scenario cells: in-process, a local process pool, or Ray.

Every executor has one method, ``run(fn, tasks, heartbeat=None)``, which takes a module-level function and a
list of argument tuples and yields ``(index, outcome)`` pairs in completion order, where ``outcome`` is
``("ok", value, seconds)`` or ``("error", message, seconds)``.  Errors are returned, not raised, so that the
runner can save every finished cell before reporting the failures.  While it waits, an executor calls
``heartbeat(running)`` about once every :data:`HEARTBEAT_SECONDS` (and before each cell it runs itself) with
the indices of the tasks running now, or ``None`` where it cannot tell; the runner shows them beside the
progress bar, so that a long cell does not look like a hung run.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from mechsim.errors import MechsimError

__all__ = ["SerialExecutor", "LocalExecutor", "RayExecutor", "make_executor", "call_cell"]

Outcome = tuple[str, object, float]
Heartbeat = Callable[[list[int] | None], None] | None

#: How often (seconds) a waiting executor calls its heartbeat.
HEARTBEAT_SECONDS = 1.0


def call_cell(fn: Callable, args: tuple, single_threaded: bool = False) -> Outcome:
    """Run ``fn(*args)`` and capture its value or its traceback, with the elapsed seconds.

    With ``single_threaded`` the BLAS/OpenMP pools are limited to one thread: several workers each running
    a multi-threaded BLAS on the same cores are many times slower than one thread each.
    """
    start = time.perf_counter()
    try:
        if single_threaded:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1):
                value = fn(*args)
        else:
            value = fn(*args)
    except Exception:  # noqa: BLE001 - the runner reports every failure with its traceback
        return ("error", traceback.format_exc(), time.perf_counter() - start)
    return ("ok", value, time.perf_counter() - start)


class SerialExecutor:
    """Runs cells one after another in this process (``--workers 1``); easiest to debug."""

    name = "serial"

    def run(self, fn: Callable, tasks: Sequence[tuple], heartbeat: Heartbeat = None
            ) -> Iterator[tuple[int, Outcome]]:
        for i, args in enumerate(tasks):
            if heartbeat is not None:
                heartbeat([i])
            yield i, call_cell(fn, args)

    def close(self) -> None:
        pass


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker once the run that spawned it is gone.

    A run killed by a signal cannot shut its pool down, and its spawned workers would otherwise go on
    computing cells nobody will collect (seen: two orphans held both cores for an hour).
    """
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="mechsim-parent-watch", daemon=True).start()


class LocalExecutor:
    """A local process pool (spawned workers, so no state leaks from the parent process)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def run(self, fn: Callable, tasks: Sequence[tuple], heartbeat: Heartbeat = None
            ) -> Iterator[tuple[int, Outcome]]:
        if not tasks:
            return
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=ctx,
                                 initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
            pending = {pool.submit(call_cell, fn, args, True): i for i, args in enumerate(tasks)}
            try:
                while pending:
                    done, _ = wait(pending, timeout=HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED)
                    if not done and heartbeat is not None:
                        heartbeat(sorted(i for fut, i in pending.items() if fut.running()))
                    for fut in done:
                        i = pending.pop(fut)
                        try:
                            outcome = fut.result()
                        except Exception:  # noqa: BLE001 - e.g. a worker died or the result did not pickle
                            outcome = ("error", traceback.format_exc(), 0.0)
                        yield i, outcome
            finally:
                for fut in pending:
                    fut.cancel()

    def close(self) -> None:
        pass


class RayExecutor:
    """Runs cells as Ray tasks, on a local Ray instance or on the cluster at ``address``.

    Parameters
    ----------
    address : str, optional
        Address of a running Ray cluster (``"auto"``, ``"ray://host:10001"``, ...).  ``None`` starts a
        local instance, which is shut down again by :meth:`close`.
    workers : int, optional
        CPUs of the local instance (ignored when connecting to a cluster).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            import ray
        except ImportError as exc:
            raise MechsimError(
                "backend 'ray' needs the ray extra: pip install 'mechsim[ray]'") from exc
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if address is None:
                kwargs["num_cpus"] = workers or os.cpu_count() or 1
            ray.init(address=address, **kwargs)
            self._started = True

    def run(self, fn: Callable, tasks: Sequence[tuple], heartbeat: Heartbeat = None
            ) -> Iterator[tuple[int, Outcome]]:
        ray = self._ray
        remote = ray.remote(num_cpus=1)(call_cell)
        pending = {remote.remote(fn, args, True): i for i, args in enumerate(tasks)}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=HEARTBEAT_SECONDS)
                if not done and heartbeat is not None:
                    heartbeat(None)  # Ray does not say which tasks have started
                for ref in done:
                    i = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception:  # noqa: BLE001 - a worker crash surfaces here
                        outcome = ("error", traceback.format_exc(), 0.0)
                    yield i, outcome
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(backend: str = "local", workers: int | None = None, address: str | None = None):
    """Build the executor for ``backend`` in ``{"local", "ray"}`` (``workers=1`` with local = serial)."""
    if backend == "local":
        if address is not None:
            raise MechsimError("--address is only meaningful with --backend ray")
        if workers == 1:
            return SerialExecutor()
        return LocalExecutor(workers)
    if backend == "ray":
        return RayExecutor(address=address, workers=workers)
    raise MechsimError(f"backend: expected 'local' or 'ray', found {backend!r}")
