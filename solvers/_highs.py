r"""The one HiGHS adapter of mechsim's direct solver paths.

A :class:`HighsModel` holds one sparse linear (or mixed-integer) program

.. math::

    \min_x \ (\text{or} \max_x) \;\; c^\top x + c_0
    \quad \text{s.t.} \quad r_\ell \le A x \le r_u, \qquad x_\ell \le x \le x_u,
    \qquad x_j \in \mathbb Z \ (j \in I),

in one ``highspy.Highs`` instance, so that bounds, costs and rows can change between warm re-solves (the
committee families and the CMDP frontier re-solve one model many times).  Infinite bounds may be given as
``numpy.inf``.  :meth:`HighsModel.run` returns a :class:`HighsResult` whatever HiGHS concluded;
:meth:`HighsModel.solve` raises :class:`~mechsim.errors.InfeasibleError` or
:class:`~mechsim.errors.SolverError` (carrying HiGHS's status text) unless the model was solved to
optimality.

The matrix goes through ``passModel``'s array overload, which reads numpy buffers directly: assigning
``HighsLp`` attributes converts element by element and is about ten times slower on the hiring LPs.

HiGHS prints a licence banner from C++ when the first ``Highs`` object of a process is created, straight to
file descriptor 1 (past Python's ``sys.stdout``) and whatever ``output_flag`` says.  :func:`quiet_highs`
therefore makes the first construction with descriptor 1 pointed at ``/dev/null``.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from mechsim.errors import InfeasibleError, SolverError

__all__ = ["HighsModel", "HighsResult", "quiet_highs"]

_BANNER_SILENCED = False


def quiet_highs() -> highspy.Highs:
    """Return a new ``highspy.Highs`` with ``output_flag`` off and no banner on stdout."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        h = highspy.Highs()
    else:
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no usable descriptor 1: nothing to protect
            saved = None
        if saved is None:
            h = highspy.Highs()
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
                try:  # flush C stdio while it still points at /dev/null
                    ctypes.CDLL(None).fflush(None)
                except (OSError, AttributeError, TypeError):  # non-POSIX libc
                    pass
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        _BANNER_SILENCED = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True)
class HighsResult:
    """What one HiGHS run concluded.

    Attributes
    ----------
    status : str
        HiGHS's model status text (``"Optimal"``, ``"Infeasible"``, ``"Time limit reached"``, ...).
    optimal : bool
        Whether the model was solved to optimality; ``x``, ``row_duals`` and ``value`` are set only then.
    x : ndarray or None
        Column values.
    row_duals : ndarray or None
        Row duals (LPs only), in HiGHS's sign convention for the model's sense.
    value : float
        Objective value including the offset ``c_0`` (NaN unless optimal).
    solve_time : float
        Seconds inside ``Highs.run``.
    iterations : int
        Simplex iterations (-1 where HiGHS does not report them).
    mip_dual_bound : float
        Best bound of a MIP (NaN for LPs).
    """

    status: str
    optimal: bool
    x: np.ndarray | None
    row_duals: np.ndarray | None
    value: float
    solve_time: float
    iterations: int
    mip_dual_bound: float = float("nan")


def _bounds(values, size: int, default: float) -> np.ndarray:
    if values is None:
        return np.full(size, default, dtype=np.float64)
    out = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (size,)))
    return np.where(np.isposinf(out), highspy.kHighsInf, np.where(np.isneginf(out), -highspy.kHighsInf, out))


class HighsModel:
    """A sparse LP or MILP held in one quiet HiGHS instance.

    Parameters
    ----------
    cost : array_like, shape (n,)
    matrix : scipy sparse matrix, shape (m, n)
    row_lower, row_upper : array_like, shape (m,)
        Row bounds (``-inf`` / ``inf`` for one-sided rows).
    col_lower, col_upper : array_like, shape (n,), optional
        Column bounds; default ``0 <= x < inf``.
    integrality : array_like of bool, shape (n,), optional
        True marks an integer column.  Without it the model is an LP.
    maximise : bool
        Maximise instead of minimise.
    offset : float
        Constant ``c_0`` added to the objective.
    options : dict, optional
        HiGHS options set before the first run (``{"presolve": "off", ...}``).
    what : str
        The model's name in error messages (``"the hiring LP"``).
    """

    def __init__(self, cost, matrix, row_lower, row_upper, col_lower=None, col_upper=None, *,
                 integrality=None, maximise: bool = False, offset: float = 0.0, options: dict | None = None,
                 what: str = "the LP"):
        self.what = what
        self.h = quiet_highs()
        csc = sp.csc_array(matrix)
        csc.sort_indices()
        n_row, n_col = csc.shape
        self.n_cols = int(n_col)
        self.is_mip = integrality is not None and bool(np.any(integrality))
        flags = (np.zeros(n_col, dtype=np.int32) if integrality is None
                 else np.ascontiguousarray(np.asarray(integrality, dtype=bool), dtype=np.int32))
        status = self.h.passModel(
            int(n_col), int(n_row), int(csc.nnz), int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize), float(offset),
            np.ascontiguousarray(cost, dtype=np.float64),
            _bounds(col_lower, n_col, 0.0), _bounds(col_upper, n_col, highspy.kHighsInf),
            _bounds(row_lower, n_row, -highspy.kHighsInf), _bounds(row_upper, n_row, highspy.kHighsInf),
            csc.indptr[:-1].astype(np.int32), csc.indices.astype(np.int32),
            np.ascontiguousarray(csc.data, dtype=np.float64),
            # The array overload reads n_col integrality flags whatever the model: zeros mean continuous.
            flags,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS rejected {what}", status="model error")
        self.set_options(options or {})

    @property
    def n_rows(self) -> int:
        """Current number of rows."""
        return int(self.h.getNumRow())

    def set_options(self, options: dict) -> None:
        """Set HiGHS options; an unknown name or a bad value raises :class:`SolverError`."""
        for key, value in options.items():
            if self.h.setOptionValue(key, value) == highspy.HighsStatus.kError:
                raise SolverError(f"HiGHS rejected option {key}={value!r} for {self.what}", status="option error")

    def change_row_bounds(self, rows, lower, upper) -> None:
        """Set the bounds of ``rows`` (``-inf`` / ``inf`` allowed)."""
        rows = np.ascontiguousarray(rows, dtype=np.int32)
        self.h.changeRowsBounds(int(rows.size), rows, _bounds(lower, rows.size, -np.inf),
                                _bounds(upper, rows.size, np.inf))

    def change_costs(self, cost) -> None:
        """Replace the whole cost vector."""
        cost = np.ascontiguousarray(cost, dtype=np.float64)
        self.h.changeColsCost(int(cost.size), np.arange(cost.size, dtype=np.int32), cost)

    def add_rows(self, lower, upper, matrix) -> np.ndarray:
        """Append the rows of sparse ``matrix`` with bounds ``lower <= matrix x <= upper``; return their indices."""
        csr = sp.csr_array(matrix)
        csr.sort_indices()
        first = self.n_rows
        n = int(csr.shape[0])
        self.h.addRows(n, _bounds(lower, n, -np.inf), _bounds(upper, n, np.inf), int(csr.nnz),
                       csr.indptr[:-1].astype(np.int32), csr.indices.astype(np.int32),
                       np.ascontiguousarray(csr.data, dtype=np.float64))
        return np.arange(first, first + n, dtype=np.int32)

    def set_start(self, x) -> None:
        """Pass a (feasible) starting point, e.g. a MIP start."""
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(x, dtype=float).tolist()
        sol.value_valid = True
        self.h.setSolution(sol)

    def run(self) -> HighsResult:
        """Run HiGHS from the current state (warm after an earlier run) and report what it concluded."""
        t0 = time.perf_counter()
        self.h.run()
        elapsed = time.perf_counter() - t0
        model_status = self.h.getModelStatus()
        info = self.h.getInfo()
        iterations = int(getattr(info, "simplex_iteration_count", -1))
        bound = float(getattr(info, "mip_dual_bound", np.nan)) if self.is_mip else float("nan")
        status = self.h.modelStatusToString(model_status)
        if model_status == highspy.HighsModelStatus.kOptimal:
            sol = self.h.getSolution()
            duals = None if self.is_mip else np.asarray(sol.row_dual, dtype=float)
            return HighsResult(status, True, np.asarray(sol.col_value, dtype=float), duals,
                               float(info.objective_function_value), elapsed, iterations, bound)
        return HighsResult(status, False, None, None, float("nan"), elapsed, iterations, bound)

    def is_infeasible(self, result: HighsResult) -> bool:
        """Whether ``result`` says the model has no feasible point (or is unbounded-or-infeasible)."""
        return result.status in (self.h.modelStatusToString(highspy.HighsModelStatus.kInfeasible),
                                 self.h.modelStatusToString(highspy.HighsModelStatus.kUnboundedOrInfeasible))

    def solve(self) -> HighsResult:
        """:meth:`run`, raising :class:`InfeasibleError` / :class:`SolverError` unless solved to optimality."""
        result = self.run()
        if result.optimal:
            return result
        if self.is_infeasible(result):
            raise InfeasibleError(f"{self.what} has no feasible solution", status=result.status)
        raise SolverError(f"HiGHS did not solve {self.what} to optimality", status=result.status)
