r"""Exact solution of a finite CMDP by the discounted occupancy-measure linear programme.

For a :class:`~mechsim.cmdp.FiniteCMDP` with ``S`` states, ``A`` actions, ``K`` cost constraints and discount
``gamma``, solve over the occupancy ``x(s, a) >= 0``

.. math::

    \max_x \; \sum_{s,a} r(s,a)\, x(s,a)
    \quad \text{s.t.} \quad
    \sum_a x(s',a) - \gamma \sum_{s,a} P(s'|s,a)\, x(s,a) = \mu_0(s') \;\; \forall s', \qquad
    \sum_{s,a} c_k(s,a)\, x(s,a) \le d_k \;\; \forall k.

``x(s, a)`` is the discounted expected number of visits to ``(s, a)``; values are discounted sums (no
``(1 - gamma)`` factor), exactly as in :mod:`mechsim.cmdp.model`.  The optimal stationary policy is
``pi(a|s) = x(s,a) / sum_b x(s,b)`` (uniform in states the optimal policy never visits); it randomises in at
most ``K`` states.  The duals of the cost rows are the Lagrange multipliers ``lambda* >= 0``: the optimal value
equals ``max_pi [V_r^pi - lambda*.(J^pi - d)]``, and the duals of the flow rows are the optimal state values of
the scalarised MDP with reward ``r - lambda*.c``.

The constraint matrix is assembled column-wise with :mod:`scipy.sparse` (one column per pair ``(s, a)``,
nonzeros = those of ``P`` plus ``S*A`` plus ``K*S*A``) and passed in one call to HiGHS through mechsim's HiGHS
adapter (:class:`mechsim.solvers._highs.HighsModel`);
``backend="linprog"`` uses :func:`scipy.optimize.linprog` (``method="highs"``) instead.  Infeasible limits
raise :class:`~mechsim.errors.InfeasibleError` naming the first constraint that cannot be met (given the
earlier ones) and the best cost achievable for it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mechsim.cmdp.model import FiniteCMDP, _check_cmdp
from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.solvers._highs import HighsModel
from mechsim.validation import check_array, check_choice, check_integer

__all__ = ["CMDPFrontier", "CMDPSolution", "cmdp_frontier", "frontier", "occupancy_lp", "solve_cmdp"]

#: Feasibility tolerance handed to HiGHS (primal and dual).
LP_TOLERANCE = 1e-9
_BACKENDS = ("highspy", "linprog")


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


@dataclass(frozen=True)
class CMDPSolution:
    """Optimal solution of a finite CMDP (discounted-sum units).

    Attributes
    ----------
    policy : ndarray of shape (S, A)
        Optimal stationary policy ``pi(a|s)``; uniform in states with zero occupancy.
    value : float
        Optimal discounted reward ``V_r^*``.
    cost_values : ndarray of shape (K,)
        Discounted costs ``J_k`` of the optimal policy (``<= limits``).
    multipliers : ndarray of shape (K,)
        Lagrange multipliers ``lambda* >= 0`` (duals of the cost rows); ``lambda*_k > 0`` only for binding
        constraints, and ``d value / d limit_k = lambda*_k``.
    occupancy : ndarray of shape (S, A)
        Optimal discounted occupancy ``x(s, a)``; sums to ``1 / (1 - gamma)``.
    lagrangian_values : ndarray of shape (S,)
        Duals of the flow rows: optimal state values of the MDP with reward ``r - lambda*.c``.
    status : str
        Solver status (``"optimal"``).
    backend : str
        ``"highspy"`` or ``"linprog"``.
    build_time, solve_time : float
        Seconds spent assembling the sparse LP and inside the solver.  (``build_seconds`` and
        ``solve_seconds`` are deprecated aliases.)
    iterations : int
        Simplex iterations reported by HiGHS (``-1`` if unknown).
    """

    policy: np.ndarray
    value: float
    cost_values: np.ndarray
    multipliers: np.ndarray
    occupancy: np.ndarray
    lagrangian_values: np.ndarray
    status: str
    backend: str
    build_time: float
    solve_time: float
    iterations: int

    @property
    def build_seconds(self) -> float:
        """Deprecated alias of :attr:`build_time`."""
        _deprecated("CMDPSolution.build_seconds", "build_time")
        return self.build_time

    @property
    def solve_seconds(self) -> float:
        """Deprecated alias of :attr:`solve_time`."""
        _deprecated("CMDPSolution.solve_seconds", "solve_time")
        return self.solve_time

    @property
    def randomised_states(self) -> np.ndarray:
        """Indices of visited states where the optimal policy mixes over two or more actions."""
        visited = self.occupancy.sum(axis=1) > 0
        mixing = (self.policy > 1e-9).sum(axis=1) > 1
        return np.flatnonzero(visited & mixing)


@dataclass(frozen=True)
class CMDPFrontier:
    """Optimal value as a function of one constraint's limit (the others held fixed).

    Attributes
    ----------
    constraint : int
        Index of the constraint whose limit varies.
    limits : ndarray of shape (n,)
        The limits, in the order given.
    value : ndarray of shape (n,)
        Optimal values; ``-inf`` where infeasible (the maximum over an empty set), never NaN.  (``values``
        is a deprecated alias.)
    feasible : ndarray of bool, shape (n,)
    cost_values : ndarray of shape (n, K)
        Discounted costs of the optimal policy at each limit; at infeasible points, the costs of the policy
        that minimises this constraint's cost subject to the others (the least-violating one).
    multipliers : ndarray of shape (n, K)
        Lagrange multipliers at each feasible point (zeros where infeasible).
    min_limit : float
        Smallest feasible limit of this constraint given the others: points with ``limit < min_limit`` are
        infeasible.
    status : tuple of str, length n
        ``"optimal"`` or ``"infeasible"`` at each limit.
    solve_time : float
        Seconds inside HiGHS, over the minimum-cost probe and every point.
    """

    constraint: int
    limits: np.ndarray
    value: np.ndarray
    feasible: np.ndarray
    cost_values: np.ndarray
    multipliers: np.ndarray
    min_limit: float
    status: tuple = ()
    solve_time: float = 0.0

    @property
    def values(self) -> np.ndarray:
        """Deprecated alias of :attr:`value`."""
        _deprecated("CMDPFrontier.values", "value")
        return self.value


# ---------------------------------------------------------------------- assembly
@dataclass(frozen=True)
class _LP:
    """``min c.x  s.t.  row_lower <= M x <= row_upper,  x >= 0`` in CSC form (rows: S flows then K costs)."""

    objective: np.ndarray
    matrix: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    n_flow_rows: int


def occupancy_lp(cmdp: FiniteCMDP) -> tuple[sp.csc_array, np.ndarray]:
    """The occupancy LP's constraint matrix and right-hand sides.

    Returns
    -------
    matrix : scipy.sparse.csc_array of shape (S + K, S*A)
        Rows ``0..S-1`` are the flow equations ``sum_a x(s',a) - gamma sum P(s'|s,a) x(s,a)``, rows ``S + k``
        the cost rows ``c_k . x``; column ``s*A + a`` is the variable ``x(s, a)``.
    rhs : ndarray of shape (S + K,)
        ``mu0`` for the flows (equalities) then the limits ``d`` (upper bounds).
    """
    S, A, K = cmdp.n_states, cmdp.n_actions, cmdp.n_constraints
    n = S * A
    # x(s, a) enters the flow row of its own state with coefficient 1 ...
    outflow = sp.csc_array((np.ones(n), np.repeat(np.arange(S), A), np.arange(n + 1)), shape=(S, n))
    # ... and the flow row of every successor s' with -gamma P(s'|s,a): P^T read column-wise is CSC.
    inflow = cmdp.transition_matrix.T.tocsc()
    flows = (outflow - cmdp.discount * inflow).tocsc()
    if K:
        matrix = sp.vstack([flows, sp.csc_array(cmdp.costs.reshape(K, n))], format="csc")
    else:
        matrix = flows
    matrix.sort_indices()
    return matrix, np.concatenate([cmdp.initial, cmdp.limits])


def _assemble(cmdp: FiniteCMDP) -> _LP:
    matrix, rhs = occupancy_lp(cmdp)
    S, K = cmdp.n_states, cmdp.n_constraints
    lower = np.concatenate([cmdp.initial, np.full(K, -np.inf)])
    return _LP(objective=-cmdp.reward.ravel(), matrix=matrix, row_lower=lower, row_upper=rhs, n_flow_rows=S)


# ---------------------------------------------------------------------- backends
@dataclass
class _Raw:
    """One solve, whichever backend: ``status`` is ``"optimal"``, ``"infeasible"`` or the solver's text."""

    status: str
    x: np.ndarray | None
    row_duals: np.ndarray | None
    objective: float
    seconds: float
    iterations: int


#: Above this many variables ``S*A``, ``method="auto"`` uses HiGHS's interior point (with crossover to a
#: vertex): measured 2x faster than dual simplex from 300 x 10 models up, 4x at 3000 x 10.
IPM_MIN_VARIABLES = 2_000
_METHODS = ("auto", "simplex", "ipm")


def _highs_model(lp: _LP, method: str = "auto") -> HighsModel:
    """The occupancy LP in one HiGHS instance (bounds and costs can change between warm re-solves)."""
    options = {"primal_feasibility_tolerance": LP_TOLERANCE, "dual_feasibility_tolerance": LP_TOLERANCE}
    if method == "ipm" or (method == "auto" and lp.matrix.shape[1] > IPM_MIN_VARIABLES):
        options.update({"solver": "ipm", "run_crossover": "on"})
    return HighsModel(lp.objective, lp.matrix, lp.row_lower, lp.row_upper, options=options,
                      what="the occupancy LP")


def _run_highs(model: HighsModel) -> _Raw:
    res = model.run()
    if res.optimal:
        return _Raw("optimal", res.x, res.row_duals, res.value, res.solve_time, res.iterations)
    # The occupancy polytope is bounded (sum x = 1/(1-gamma)), so "unbounded or infeasible" is infeasible.
    status = "infeasible" if model.is_infeasible(res) else res.status
    return _Raw(status, None, None, np.nan, res.solve_time, res.iterations)


def _run_linprog(lp: _LP) -> _Raw:
    from scipy.optimize import linprog

    S = lp.n_flow_rows
    m = lp.matrix.tocsr()
    a_eq, a_ub = m[:S], m[S:]
    start = time.perf_counter()
    res = linprog(lp.objective, A_ub=a_ub if a_ub.shape[0] else None,
                  b_ub=lp.row_upper[S:] if a_ub.shape[0] else None,
                  A_eq=a_eq, b_eq=lp.row_upper[:S], bounds=(0, None), method="highs",
                  options={"primal_feasibility_tolerance": LP_TOLERANCE,
                           "dual_feasibility_tolerance": LP_TOLERANCE})
    seconds = time.perf_counter() - start
    iterations = int(getattr(res, "nit", -1))
    if res.status == 0:
        duals = np.concatenate([res.eqlin.marginals,
                                res.ineqlin.marginals if a_ub.shape[0] else np.zeros(0)])
        return _Raw("optimal", np.asarray(res.x), duals, float(res.fun), seconds, iterations)
    if res.status == 2:
        return _Raw("infeasible", None, None, np.nan, seconds, iterations)
    return _Raw(f"linprog status {res.status}: {res.message}", None, None, np.nan, seconds, iterations)


# ---------------------------------------------------------------------- solve
def _policy_from_occupancy(occupancy: np.ndarray, tol: float) -> np.ndarray:
    visits = occupancy.sum(axis=1)
    visited = visits > tol
    policy = np.full_like(occupancy, 1.0 / occupancy.shape[1])
    policy[visited] = occupancy[visited] / visits[visited, None]
    return policy


def _multipliers(row_duals: np.ndarray, S: int) -> np.ndarray:
    # HiGHS reports duals for "min -r.x"; an active "<= d" row has a non-positive dual, lambda = -dual.
    lam = -np.asarray(row_duals[S:], dtype=float)
    if lam.size and lam.min() < -1e-6 * max(1.0, float(np.abs(lam).max())):
        raise SolverError(f"HiGHS returned a negative multiplier {lam.min():.3g} for a <= constraint",
                          status="dual sign error", multipliers=lam)
    return np.maximum(lam, 0.0)


def _diagnose_infeasible(cmdp: FiniteCMDP, backend: str, status: str) -> InfeasibleError:
    """Find the first constraint that cannot be met given the earlier ones, and its best achievable cost."""
    K = cmdp.n_constraints
    lp = _assemble(cmdp)
    S = cmdp.n_states
    best = np.full(K, np.nan)
    worst_gap, worst_k = -np.inf, 0
    for k in range(K):
        upper = lp.row_upper.copy()
        upper[S + k:] = np.inf
        trial = _LP(cmdp.costs[k].ravel(), lp.matrix, lp.row_lower, upper, S)
        raw = _run_highs(_highs_model(trial)) if backend == "highspy" else _run_linprog(trial)
        if raw.status != "optimal":
            # Constraints 0..k-1 were feasible together at step k-1, so this cannot happen in exact arithmetic.
            break
        best[k] = raw.objective
        gap = best[k] - cmdp.limits[k]
        if gap > worst_gap:
            worst_gap, worst_k = gap, k
        if gap > LP_TOLERANCE * max(1.0, abs(cmdp.limits[k])) * 10:
            worst_k = k
            break
    k = worst_k
    name = cmdp.constraint_names[k]
    earlier = f" while constraints 0..{k - 1} hold" if k > 0 else ""
    return InfeasibleError(
        f"CMDP infeasible: constraint {k} ({name!r}) cannot be met: its limit is {cmdp.limits[k]:.6g} but the "
        f"smallest achievable discounted cost{earlier} is {best[k]:.6g}",
        status=status, constraint=k, constraint_name=name, limit=float(cmdp.limits[k]),
        best_achievable=float(best[k]),
    )


def solve_cmdp(cmdp: FiniteCMDP, *, backend: str = "highspy", method: str = "auto") -> CMDPSolution:
    """Solve a finite CMDP exactly with the occupancy-measure LP.

    Parameters
    ----------
    cmdp : FiniteCMDP
        The model (dense or sparse transitions); values are discounted sums.
    backend : {"highspy", "linprog"}
        ``"highspy"`` passes the CSC matrix straight to HiGHS (fastest); ``"linprog"`` goes through
        :func:`scipy.optimize.linprog` with ``method="highs"``.
    method : {"auto", "simplex", "ipm"}
        HiGHS algorithm for the ``"highspy"`` backend: dual simplex, or interior point followed by
        crossover (a vertex solution either way); ``"auto"`` picks the interior point above
        ``IPM_MIN_VARIABLES`` variables.

    Returns
    -------
    CMDPSolution

    Raises
    ------
    InfeasibleError
        If no policy meets all limits.  ``err.details`` holds ``constraint`` (index of the first constraint
        that cannot be met given constraints ``0..k-1``), ``constraint_name``, ``limit`` and
        ``best_achievable`` (the smallest discounted cost of that constraint).
    SolverError
        If HiGHS stops for any other reason; ``err.status`` is its model status.

    Examples
    --------
    >>> import numpy as np
    >>> from mechsim.cmdp import FiniteCMDP
    >>> m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    >>> sol = solve_cmdp(m)
    >>> round(sol.value, 9), sol.policy.round(9).tolist(), round(float(sol.multipliers[0]), 9)
    (5.0, [[0.5, 0.5]], 1.0)
    """
    _check_cmdp(cmdp)
    check_choice("backend", backend, _BACKENDS)
    check_choice("method", method, _METHODS)
    start = time.perf_counter()
    lp = _assemble(cmdp)
    if backend == "highspy":
        model = _highs_model(lp, method)
        build = time.perf_counter() - start
        raw = _run_highs(model)
    else:
        build = time.perf_counter() - start
        raw = _run_linprog(lp)
    return _finish(cmdp, raw, backend, build)


def _finish(cmdp: FiniteCMDP, raw: _Raw, backend: str, build: float) -> CMDPSolution:
    S, A = cmdp.n_states, cmdp.n_actions
    if raw.status == "infeasible":
        raise _diagnose_infeasible(cmdp, backend, raw.status)
    if raw.status != "optimal":
        raise SolverError("HiGHS did not solve the CMDP occupancy LP", status=raw.status)
    # HiGHS vertices can carry -1e-17 noise; occupancies are non-negative by construction.
    occupancy = np.maximum(raw.x.reshape(S, A), 0.0)
    horizon = 1.0 / (1.0 - cmdp.discount)
    policy = _policy_from_occupancy(occupancy, tol=1e-12 * horizon)
    flat = occupancy.ravel()
    cost_values = cmdp.costs.reshape(cmdp.n_constraints, cmdp.n_states * cmdp.n_actions) @ flat
    return CMDPSolution(
        policy=policy, value=float(cmdp.reward.ravel() @ flat), cost_values=cost_values,
        multipliers=_multipliers(raw.row_duals, S), occupancy=occupancy,
        lagrangian_values=-np.asarray(raw.row_duals[:S], dtype=float), status="optimal", backend=backend,
        build_time=build, solve_time=raw.seconds, iterations=raw.iterations,
    )


def cmdp_frontier(cmdp: FiniteCMDP, constraint: int, limits) -> CMDPFrontier:
    """Optimal value as a function of one constraint's limit: ``v(d) = max {V_r : J_k <= d, others fixed}``.

    One HiGHS model is built once; each limit changes one row bound and re-solves from the previous
    optimal basis (limits are visited in increasing order).  ``v`` is concave and non-decreasing in ``d``,
    with slope the multiplier ``lambda*_k``.

    Parameters
    ----------
    cmdp : FiniteCMDP
    constraint : int
        Index ``k`` of the constraint whose limit varies.
    limits : array_like of shape (n,)
        Limits at which to solve.

    Returns
    -------
    CMDPFrontier
        Infeasible points have ``feasible = False`` and value ``-inf`` (never NaN).
    """
    _check_cmdp(cmdp)
    K = cmdp.n_constraints
    if K == 0:
        raise InvalidInstanceError("cmdp: expected a CMDP with at least one constraint, found none", "cmdp")
    k = check_integer("constraint", constraint, minimum=0, maximum=K - 1)
    limits = check_array("limits", limits, ndim=1)
    S = cmdp.n_states
    lp = _assemble(cmdp)
    # The smallest feasible limit: minimise c_k subject to the other constraints.
    upper = lp.row_upper.copy()
    upper[S + k] = np.inf
    probe = _run_highs(_highs_model(_LP(cmdp.costs[k].ravel(), lp.matrix, lp.row_lower, upper, S)))
    if probe.status == "infeasible":
        raise InfeasibleError(
            f"the constraints other than {k} ({cmdp.constraint_names[k]!r}) are infeasible together, so no limit "
            f"of constraint {k} is feasible", status="infeasible", constraint=k)
    if probe.status != "optimal":
        raise SolverError("HiGHS failed on the minimum-cost LP of the frontier", status=probe.status)
    min_limit = probe.objective
    probe_costs = cmdp.costs.reshape(K, cmdp.n_states * cmdp.n_actions) @ np.maximum(probe.x, 0.0)

    model = _highs_model(lp)
    n = limits.size
    values = np.full(n, -np.inf)
    feasible = np.zeros(n, dtype=bool)
    cost_values = np.zeros((n, K))
    multipliers = np.zeros((n, K))
    status = ["infeasible"] * n
    seconds = probe.seconds
    for i in np.argsort(limits, kind="stable"):
        model.change_row_bounds([S + k], -np.inf, float(limits[i]))
        raw = _run_highs(model)
        seconds += raw.seconds
        if raw.status == "infeasible":
            cost_values[i] = probe_costs
            continue
        if raw.status != "optimal":
            raise SolverError(f"HiGHS failed at limit {limits[i]:.6g} of constraint {k}", status=raw.status)
        x = np.maximum(raw.x, 0.0)
        feasible[i] = True
        status[i] = "optimal"
        values[i] = float(cmdp.reward.ravel() @ x)
        cost_values[i] = cmdp.costs.reshape(K, cmdp.n_states * cmdp.n_actions) @ x
        multipliers[i] = _multipliers(raw.row_duals, S)
    return CMDPFrontier(constraint=k, limits=limits.copy(), value=values, feasible=feasible,
                        cost_values=cost_values, multipliers=multipliers, min_limit=float(min_limit),
                        status=tuple(status), solve_time=seconds)


#: Short alias of :func:`cmdp_frontier`.
frontier = cmdp_frontier
