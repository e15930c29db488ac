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

``solve_cmdp(cmdp, method="lagrange")`` solves the same problem by the Lagrangian dual instead
(:mod:`mechsim.solvers.cmdp_lagrange`): far faster on large models with few constraints, and chosen by
``method="auto"`` there.  Both methods return a :class:`CMDPSolution` only after the same verification
(:mod:`mechsim.solvers._cmdp_common`), with its certificate ``dual_bound`` and ``gap``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mechsim.cmdp.model import FiniteCMDP, _check_cmdp, evaluate_policy, occupancy_measure
from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.solvers._cmdp_common import (
    FEASIBILITY_RTOL,
    CMDPSolution,
    _constraint_scales,
    _deprecated,
    _infeasible_error,
    _policy_from_occupancy,
    _unit_scale,
    _verify,
)
from mechsim.solvers._cmdp_common import (
    OPTIMALITY_RTOL as OPTIMALITY_RTOL,  # re-exported: the certificate tolerance of every method
)
from mechsim.solvers._highs import HighsModel
from mechsim.solvers.cmdp_lagrange import solve_cmdp_lagrange
from mechsim.validation import check_array, check_choice, check_integer

__all__ = ["CMDPFrontier", "CMDPSolution", "cmdp_frontier", "frontier", "occupancy_lp", "solve_cmdp"]

#: Feasibility tolerance handed to HiGHS (primal and dual).
LP_TOLERANCE = 1e-9
_BACKENDS = ("highspy", "linprog")


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
    _check_cmdp(cmdp)
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
#: ``method="auto"`` uses the Lagrangian method (:mod:`mechsim.solvers.cmdp_lagrange`) instead of the LP for
#: models with at most ``LAGRANGE_MAX_CONSTRAINTS`` constraints whose transitions have at least
#: ``LAGRANGE_MIN_NONZEROS`` non-zero probabilities (the LP's size; the interior point's factorisation also
#: fills in with them).  Measured (``benchmarks/bench_cmdp_lagrange.py``, one run, both methods verified):
#: 5 successors per pair and ``A = 10`` -- at 300 states (15 000 non-zeros) the LP is 1.2x (K = 1) to 2.8x
#: (K = 3) faster on banded chains; at 1000 states (50 000) the Lagrangian method is 1.0x (K = 4, 5) to 3.4x
#: (K = 1) faster on banded chains and 6x to 15x on well-mixing ones; dense transitions of 100 x 10 (10^5
#: non-zeros) 6x, 400 x 10 450x.
LAGRANGE_MIN_NONZEROS = 50_000
LAGRANGE_MAX_CONSTRAINTS = 5
_METHODS = ("auto", "simplex", "ipm", "lagrange")


def _highs_model(lp: _LP, method: str = "auto") -> HighsModel:
    """The occupancy LP in one HiGHS instance (bounds and costs can change between warm re-solves)."""
    options = {"primal_feasibility_tolerance": LP_TOLERANCE, "dual_feasibility_tolerance": LP_TOLERANCE,
               "small_matrix_value": 1e-12}
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


def _run_linprog(lp: _LP, method: str = "auto") -> _Raw:
    from scipy.optimize import linprog

    S = lp.n_flow_rows
    m = lp.matrix.tocsr()
    # Rows with an infinite upper bound constrain nothing (the infeasibility diagnosis lifts later limits
    # that way): linprog refuses infinite b_ub, so they are left out.
    keep = S + np.flatnonzero(np.isfinite(lp.row_upper[S:]))
    a_eq, a_ub = m[:S], m[keep]
    start = time.perf_counter()
    res = linprog(lp.objective, A_ub=a_ub if keep.size else None, b_ub=lp.row_upper[keep] if keep.size else None,
                  A_eq=a_eq, b_eq=lp.row_upper[:S], bounds=(0, None),
                  method={"auto": "highs", "simplex": "highs-ds", "ipm": "highs-ipm"}[method],
                  options={"primal_feasibility_tolerance": LP_TOLERANCE,
                           "dual_feasibility_tolerance": LP_TOLERANCE})
    seconds = time.perf_counter() - start
    iterations = int(getattr(res, "nit", -1))
    if res.status == 0:
        duals = np.zeros(m.shape[0])
        duals[:S] = res.eqlin.marginals
        if keep.size:
            duals[keep] = res.ineqlin.marginals
        return _Raw("optimal", np.asarray(res.x), duals, float(res.fun), seconds, iterations)
    if res.status == 2:
        return _Raw("infeasible", None, None, np.nan, seconds, iterations)
    return _Raw(f"linprog status {res.status}: {res.message}", None, None, np.nan, seconds, iterations)


# ---------------------------------------------------------------------- scaling and verification
@dataclass(frozen=True)
class _Scaled:
    """The occupancy LP with the objective and every row divided by its largest coefficient.

    HiGHS treats matrix entries below ``small_matrix_value`` (1e-9 by default) as zero and its tolerances
    are absolute, so costs of 1e-9 were dropped, rewards of 1e8 stalled the simplex, and the flow row of an
    absorbing state, whose coefficients are ``1 - gamma``, vanished for discounts near 1.  After scaling every
    row's largest coefficient is 1 whatever the units of the model (and HiGHS keeps entries down to 1e-12).
    """

    lp: _LP
    reward_scale: float
    cost_scales: np.ndarray


def _scaled(cmdp: FiniteCMDP) -> _Scaled:
    S, K = cmdp.n_states, cmdp.n_constraints
    lp = _assemble(cmdp)
    reward_scale = _unit_scale(cmdp.reward)
    cost_scales = np.array([_unit_scale(cmdp.costs[k]) for k in range(K)])
    flow_peak = abs(lp.matrix[:S]).max(axis=1).toarray().ravel()
    row_scale = np.concatenate([1.0 / np.where(flow_peak > 0, flow_peak, 1.0), 1.0 / cost_scales])
    matrix = (sp.diags_array(row_scale) @ lp.matrix).tocsc()
    matrix.sort_indices()
    return _Scaled(_LP(lp.objective / reward_scale, matrix, lp.row_lower * row_scale, lp.row_upper * row_scale, S),
                   reward_scale, cost_scales)


# ---------------------------------------------------------------------- solve
def _multipliers(row_duals: np.ndarray, S: int) -> np.ndarray:
    # HiGHS reports duals for "min -r.x"; an active "<= d" row has a non-positive dual, lambda = -dual.
    lam = -np.asarray(row_duals[S:], dtype=float)
    if lam.size and lam.min() < -1e-6 * max(1.0, float(np.abs(lam).max())):
        raise SolverError(f"HiGHS returned a negative multiplier {lam.min():.3g} for a <= constraint",
                          status="dual sign error", multipliers=lam)
    return np.maximum(lam, 0.0)


def _run(lp: _LP, backend: str, method: str) -> _Raw:
    return _run_highs(_highs_model(lp, method)) if backend == "highspy" else _run_linprog(lp, method)


def _tightened(scaled: _Scaled, cmdp: FiniteCMDP, fraction: float) -> _LP:
    """The scaled LP with every limit moved inwards by ``fraction`` of its constraint's scale."""
    S = cmdp.n_states
    upper = scaled.lp.row_upper.copy()
    upper[S:] -= fraction * _constraint_scales(cmdp) / scaled.cost_scales
    return _LP(scaled.lp.objective, scaled.lp.matrix, scaled.lp.row_lower, upper, S)


def _diagnose_infeasible(cmdp: FiniteCMDP, backend: str, status: str) -> InfeasibleError:
    """Find the first constraint that cannot be met given the earlier ones, and its best achievable cost."""
    K = cmdp.n_constraints
    lp = _scaled(cmdp).lp
    S = cmdp.n_states
    best = np.full(K, np.nan)
    worst_gap, worst_k = -np.inf, 0
    scales = _constraint_scales(cmdp)
    for k in range(K):
        upper = lp.row_upper.copy()
        upper[S + k:] = np.inf
        trial = _LP(lp.matrix[[S + k]].toarray().ravel(), lp.matrix, lp.row_lower, upper, S)
        raw = _run(trial, backend, "auto")
        if raw.status != "optimal":
            # Constraints 0..k-1 were feasible together at step k-1, so this cannot happen in exact arithmetic.
            break
        # The exact cost of the least-cost policy, not the LP's objective (which carries its tolerance).
        policy = _policy_from_occupancy(np.maximum(raw.x.reshape(S, cmdp.n_actions), 0.0),
                                        1e-12 / (1.0 - cmdp.discount))
        best[k] = float(evaluate_policy(cmdp, policy).cost_values[k])
        gap = best[k] - cmdp.limits[k]
        if gap > worst_gap:
            worst_gap, worst_k = gap, k
        if gap > FEASIBILITY_RTOL * scales[k]:
            worst_k = k
            break
    return _infeasible_error(cmdp, worst_k, best[worst_k], status)


def _prefers_lagrange(cmdp: FiniteCMDP) -> bool:
    if cmdp.n_constraints > LAGRANGE_MAX_CONSTRAINTS:
        return False
    nonzeros = cmdp.transition_matrix.nnz if cmdp.is_sparse else np.count_nonzero(cmdp.transitions)
    return nonzeros >= LAGRANGE_MIN_NONZEROS


def _first_method(method: str, lp: _LP) -> str:
    if method != "auto":
        return method
    return "ipm" if lp.matrix.shape[1] > IPM_MIN_VARIABLES else "simplex"


def solve_cmdp(cmdp: FiniteCMDP, *, backend: str = "highspy", method: str = "auto") -> CMDPSolution:
    """Solve a finite CMDP exactly, and verify the answer before returning it.

    By default (and with ``method="simplex"`` or ``"ipm"``) with the occupancy-measure LP; with
    ``method="lagrange"`` (and by default on large models with few constraints) by the Lagrangian dual, see
    :func:`mechsim.solvers.cmdp_lagrange.solve_cmdp_lagrange`, verified by the same rule.

    The LP is solved in scaled units (objective and cost rows divided by their largest coefficients), so the
    answer does not depend on the units of rewards, costs and limits.  The returned policy is then evaluated
    exactly (:func:`mechsim.cmdp.evaluate_policy`): it must meet every limit within
    :data:`FEASIBILITY_RTOL` of the constraint's scale, and its value must reach the Lagrangian dual bound of
    the returned multipliers within :data:`OPTIMALITY_RTOL` (computed exactly by policy iteration), which
    certifies optimality.  If either check fails, the LP is solved again with the other HiGHS method and
    then with the limits moved inwards by a few tolerances; if no attempt passes, :class:`SolverError` is
    raised.  A policy that violates a limit is never returned.

    Parameters
    ----------
    cmdp : FiniteCMDP
        The model (dense or sparse transitions); values are discounted sums.
    backend : {"highspy", "linprog"}
        ``"highspy"`` passes the CSC matrix straight to HiGHS (fastest); ``"linprog"`` goes through
        :func:`scipy.optimize.linprog` with ``method="highs"``.
    method : {"auto", "simplex", "ipm", "lagrange"}
        ``"simplex"``, ``"ipm"``: the HiGHS algorithm for the occupancy LP, dual simplex or interior point
        followed by crossover (a vertex solution either way).  ``"lagrange"``: the Lagrangian dual method of
        :func:`mechsim.solvers.cmdp_lagrange.solve_cmdp_lagrange` (a few dozen MDPs solved exactly by policy
        iteration; much faster than the LP on large models with few constraints; ``backend`` plays no part).
        ``"auto"``: with ``backend="highspy"``, the Lagrangian method when ``K <= LAGRANGE_MAX_CONSTRAINTS``
        and the transitions have at least ``LAGRANGE_MIN_NONZEROS`` non-zeros (where it was measured faster),
        otherwise the LP with the interior point above ``IPM_MIN_VARIABLES`` variables and the simplex below;
        with ``backend="linprog"`` always the LP.

    Returns
    -------
    CMDPSolution
        ``value`` and ``cost_values`` are the exact evaluation of ``policy``, ``occupancy`` its exact
        discounted occupancy, ``lagrangian_values`` the exact optimal values of the reward
        ``r - multipliers.c``, ``dual_bound`` the Lagrangian dual bound ``g(multipliers) >= OPT`` and ``gap =
        dual_bound - value`` (the certificate), ``method`` the algorithm used.

    Raises
    ------
    InfeasibleError
        If no policy meets all limits.  ``err.details`` holds ``constraint`` (index of the first constraint
        that cannot be met given constraints ``0..k-1``), ``constraint_name``, ``limit`` and
        ``best_achievable`` (the smallest discounted cost of that constraint, exactly evaluated).
    SolverError
        If HiGHS stops for any other reason, or no solution passes verification; ``err.status`` is the
        solver's status and the message says which check failed.

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
    if method == "lagrange" or (method == "auto" and backend == "highspy" and _prefers_lagrange(cmdp)):
        return solve_cmdp_lagrange(cmdp)
    start = time.perf_counter()
    scaled = _scaled(cmdp)
    build = time.perf_counter() - start
    first = _first_method(method, scaled.lp)
    other = "simplex" if first == "ipm" else "ipm"
    attempts = [(first, 0.0), (other, 0.0), (first, 4 * FEASIBILITY_RTOL), (other, 16 * FEASIBILITY_RTOL)]
    failures, seconds, iterations = [], 0.0, 0
    solved = False
    S, A = cmdp.n_states, cmdp.n_actions
    for how, tighten in attempts:
        lp = scaled.lp if tighten == 0 else _tightened(scaled, cmdp, tighten)
        raw = _run(lp, backend, how)
        seconds += raw.seconds
        iterations += max(raw.iterations, 0)
        label = f"{how}{' with limits tightened' if tighten else ''}"
        if raw.status == "infeasible":
            # The first verdict on the untightened limits (the dual simplex can stop with "Unknown" on an
            # infeasible model, the interior point then says "infeasible").
            if tighten == 0 and not solved:
                error = _diagnose_infeasible(cmdp, backend, raw.status)
                k = error.details["constraint"]
                if error.details["best_achievable"] - cmdp.limits[k] > FEASIBILITY_RTOL * _constraint_scales(cmdp)[k]:
                    raise error
                # The exact diagnosis meets every limit (HiGHS can call a limit that sits at its least achievable
                # cost infeasible): the Lagrangian method, which works on exact policy values, decides.
                return solve_cmdp_lagrange(cmdp)
            failures.append(f"{label}: infeasible")
            continue
        if raw.status != "optimal":
            failures.append(f"{label}: solver status {raw.status!r}")
            continue
        solved = True
        occupancy = np.maximum(raw.x.reshape(S, A), 0.0)  # vertices carry -1e-17 noise
        policy = _policy_from_occupancy(occupancy, tol=1e-12 / (1.0 - cmdp.discount))
        multipliers = _multipliers(raw.row_duals, S) * scaled.reward_scale / scaled.cost_scales
        check = _verify(cmdp, policy, multipliers)
        if not check.ok:
            failures.append(f"{label}: {check.reason}")
            continue
        ev = check.evaluation
        return CMDPSolution(
            policy=policy, value=float(ev.value), cost_values=ev.cost_values, multipliers=multipliers,
            occupancy=occupancy_measure(cmdp, policy), lagrangian_values=check.lagrangian_values,
            status="optimal", backend=backend, build_time=build, solve_time=seconds, iterations=iterations,
            dual_bound=check.bound, gap=check.bound - float(ev.value), method=label.replace(" with limits tightened",
                                                                                            "+tightened"))
    raise SolverError("no solution of the CMDP occupancy LP passed verification (exact evaluation of the policy "
                      "against every limit, and the dual bound of its multipliers): " + "; ".join(failures),
                      status="verification failed", attempts=tuple(failures))


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
    S, A = cmdp.n_states, cmdp.n_actions
    scaled = _scaled(cmdp)
    lp = scaled.lp
    # The smallest feasible limit: minimise c_k subject to the other constraints.
    upper = lp.row_upper.copy()
    upper[S + k] = np.inf
    probe = _run_highs(_highs_model(_LP(lp.matrix[[S + k]].toarray().ravel(), lp.matrix, lp.row_lower, upper, S)))
    if probe.status == "infeasible":
        raise InfeasibleError(
            f"the constraints other than {k} ({cmdp.constraint_names[k]!r}) are infeasible together, so no limit "
            f"of constraint {k} is feasible", status="infeasible", constraint=k)
    if probe.status != "optimal":
        raise SolverError("HiGHS failed on the minimum-cost LP of the frontier", status=probe.status)
    # Exact costs of the least-cost policy (the LP objective carries the solver's tolerance).
    least = evaluate_policy(cmdp, _policy_from_occupancy(np.maximum(probe.x.reshape(S, A), 0.0),
                                                         1e-12 / (1.0 - cmdp.discount)))
    min_limit = float(least.cost_values[k])
    probe_costs = least.cost_values

    model = _highs_model(lp)
    n = limits.size
    values = np.full(n, -np.inf)
    feasible = np.zeros(n, dtype=bool)
    cost_values = np.zeros((n, K))
    multipliers = np.zeros((n, K))
    status = ["infeasible"] * n
    seconds = probe.seconds
    for i in np.argsort(limits, kind="stable"):
        model.change_row_bounds([S + k], -np.inf, float(limits[i]) / scaled.cost_scales[k])
        raw = _run_highs(model)
        seconds += raw.seconds
        if raw.status == "infeasible":
            cost_values[i] = probe_costs
            continue
        if raw.status != "optimal":
            raise SolverError(f"HiGHS failed at limit {limits[i]:.6g} of constraint {k}", status=raw.status)
        point = cmdp.with_limits(np.where(np.arange(K) == k, limits[i], cmdp.limits))
        policy = _policy_from_occupancy(np.maximum(raw.x.reshape(S, A), 0.0), 1e-12 / (1.0 - cmdp.discount))
        lam = _multipliers(raw.row_duals, S) * scaled.reward_scale / scaled.cost_scales
        check = _verify(point, policy, lam)
        if not check.ok:  # the warm re-solve is not trusted: solve this point from scratch, verified
            solution = solve_cmdp(point)
            ev, lam = evaluate_policy(point, solution.policy), solution.multipliers
        else:
            ev = check.evaluation
        feasible[i] = True
        status[i] = "optimal"
        values[i] = float(ev.value)
        cost_values[i] = ev.cost_values
        multipliers[i] = lam
    return CMDPFrontier(constraint=k, limits=limits.copy(), value=values, feasible=feasible,
                        cost_values=cost_values, multipliers=multipliers, min_limit=float(min_limit),
                        status=tuple(status), solve_time=seconds)


#: Short alias of :func:`cmdp_frontier`.
frontier = cmdp_frontier
