r"""What the exact CMDP solvers share: the solution type, the verification rule and its tolerances.

Both exact methods of :func:`mechsim.solvers.cmdp_lp.solve_cmdp` (the occupancy LP in
:mod:`mechsim.solvers.cmdp_lp`, the Lagrangian dual in :mod:`mechsim.solvers.cmdp_lagrange`) return a
:class:`CMDPSolution` only after :func:`_verify` accepted its policy:

- **feasibility**: exact evaluation (:func:`mechsim.cmdp.evaluate_policy`) gives
  ``J_k(pi) <= d_k + FEASIBILITY_RTOL * scale_k`` with ``scale_k = max(|d_k|, max|c_k| / (1 - gamma))``;
- **optimality**: the exact value reaches the Lagrangian dual bound of the returned multipliers,
  ``V_r(pi) >= g(lambda) - OPTIMALITY_RTOL * (max|r| / (1 - gamma) + sum_k lambda_k scale_k)``, where
  ``g(lambda) = max_pi' [V_{r - lambda.c}(pi')] + lambda.d`` is an upper bound on the optimum for every
  ``lambda >= 0`` (weak duality), computed exactly by policy iteration.

``gap = g(lambda) - V_r(pi)`` is then a certificate: the returned policy is within ``gap`` of the optimum.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mechsim import tabular_mdp
from mechsim.cmdp.model import FiniteCMDP, _chain_transitions, evaluate_policy
from mechsim.cmdp.planning import optimal_policy
from mechsim.errors import InfeasibleError

#: Every returned policy meets each limit under exact evaluation (:func:`mechsim.cmdp.evaluate_policy`):
#: ``J_k(pi) <= d_k + FEASIBILITY_RTOL * scale_k`` with ``scale_k = max(|d_k|, max|c_k| / (1 - gamma))``,
#: the largest magnitude a discounted cost of that constraint can have.  The tolerance is relative, so
#: multiplying costs and limits by any power of ten changes nothing.
FEASIBILITY_RTOL = 1e-9
#: Every returned policy is optimal within ``OPTIMALITY_RTOL`` of the scale of the Lagrangian: its exact
#: value is at least the Lagrangian dual bound ``g(lambda) - OPTIMALITY_RTOL * (max|r| / (1 - gamma) +
#: sum_k lambda_k scale_k)``, where ``g(lambda) = max_pi V_{r - lambda.c}(pi) + lambda.d >= OPT`` for any
#: ``lambda >= 0`` is computed exactly by policy iteration with the returned multipliers.
OPTIMALITY_RTOL = 1e-7


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
        ``"highspy"`` or ``"linprog"`` for the LP; ``"policy-iteration"`` for the Lagrangian method.
    build_time, solve_time : float
        Seconds spent assembling the sparse LP and inside the solver (for the Lagrangian method: preparing
        the scaled signals, and the dual search with primal recovery).  (``build_seconds`` and
        ``solve_seconds`` are deprecated aliases.)
    iterations : int
        Simplex iterations reported by HiGHS (``-1`` if unknown); for the Lagrangian method, the number of
        evaluations of the dual function (each an MDP solved exactly by policy iteration).
    dual_bound : float
        ``g(multipliers) = max_pi V_{r - lambda.c}(pi) + lambda.d``, computed exactly by policy iteration: an
        upper bound on the optimal value (weak duality).
    gap : float
        ``dual_bound - value >= 0`` up to round-off: the returned policy is within ``gap`` of the optimum
        (at most ``OPTIMALITY_RTOL`` of the Lagrangian's scale, or the solution is not returned).
    method : str
        Algorithm that produced the solution: ``"simplex"`` or ``"ipm"`` (HiGHS on the occupancy LP;
        ``"+tightened"`` when the limits had to be moved inwards by a few tolerances) or ``"lagrange"``.
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
    dual_bound: float = float("nan")
    gap: float = float("nan")
    method: str = ""

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


def _unit_scale(x: np.ndarray) -> float:
    m = float(np.max(np.abs(x), initial=0.0))
    return m if m > 0 else 1.0


def _constraint_scales(cmdp: FiniteCMDP) -> np.ndarray:
    if cmdp.n_constraints == 0:
        return np.zeros(0)
    peak = np.abs(cmdp.costs).reshape(cmdp.n_constraints, -1).max(axis=1)
    return np.maximum(np.abs(cmdp.limits), peak / (1.0 - cmdp.discount))


def _policy_from_occupancy(occupancy: np.ndarray, tol: float) -> np.ndarray:
    visits = occupancy.sum(axis=1)
    visited = visits > tol
    policy = np.full_like(occupancy, 1.0 / occupancy.shape[1])
    policy[visited] = occupancy[visited] / visits[visited, None]
    return policy


@dataclass(frozen=True)
class _Check:
    ok: bool
    evaluation: object
    lagrangian_values: np.ndarray
    reason: str
    bound: float = float("nan")


def _verify(cmdp: FiniteCMDP, policy: np.ndarray, multipliers: np.ndarray, warm_start=None) -> _Check:
    """Exact evaluation against every limit, and the Lagrangian dual bound of the multipliers.

    ``warm_start`` (integer actions ``(S,)``) starts the policy iteration that computes the bound from a
    policy believed optimal for ``r - lambda.c``: it then evaluates that policy once and stops if no action
    improves (the same stopping rule as from the default start), which costs one linear solve instead of a
    dozen on large models.
    """
    evaluation = evaluate_policy(cmdp, policy)
    scales = _constraint_scales(cmdp)
    excess = evaluation.cost_values - cmdp.limits
    tol = FEASIBILITY_RTOL * scales
    if np.any(excess > tol):
        k = int(np.argmax(excess - tol))
        return _Check(False, evaluation, np.zeros(cmdp.n_states),
                      f"constraint {k} ({cmdp.constraint_names[k]!r}) evaluates to {evaluation.cost_values[k]:.17g} "
                      f"> limit {cmdp.limits[k]:.17g} + tolerance {tol[k]:.3g}")
    signal = cmdp.reward - np.tensordot(multipliers, cmdp.costs, axes=1) if cmdp.n_constraints else cmdp.reward
    unit = _unit_scale(signal)
    # Policy iteration stops on improvements below 1e-10 relative: run it on the signal in units of its peak.
    if warm_start is None:
        _, values = optimal_policy(cmdp, signal / unit)
    else:
        values = tabular_mdp.policy_iteration(_chain_transitions(cmdp), signal / unit, cmdp.discount,
                                              initial_policy=warm_start, atol=1e-10, rtol=1e-10, max_iter=10_000,
                                              validate=False).state_values
    lagrangian_values = unit * values
    bound = float(cmdp.initial @ lagrangian_values + multipliers @ cmdp.limits)
    horizon = 1.0 / (1.0 - cmdp.discount)
    scale = float(np.max(np.abs(cmdp.reward), initial=0.0)) * horizon + float(multipliers @ scales)
    gap = bound - evaluation.value
    if gap > OPTIMALITY_RTOL * max(scale, np.finfo(float).tiny):
        return _Check(False, evaluation, lagrangian_values,
                      f"value {evaluation.value:.17g} is {gap:.3g} below the dual bound {bound:.17g} of its "
                      "multipliers", bound)
    return _Check(True, evaluation, lagrangian_values, "", bound)


def _infeasible_error(cmdp: FiniteCMDP, k: int, best: float, status: str) -> InfeasibleError:
    """The error both methods raise: constraint ``k`` cannot be met given constraints ``0..k-1``, and the
    smallest discounted cost ``best`` of constraint ``k`` (exactly evaluated) under them."""
    name = cmdp.constraint_names[k]
    earlier = f" while constraints 0..{k - 1} hold" if k > 0 else ""
    return InfeasibleError(
        f"CMDP infeasible: constraint {k} ({name!r}) cannot be met: its limit is {cmdp.limits[k]:.6g} but the "
        f"smallest achievable discounted cost{earlier} is {best:.6g}",
        status=status, constraint=k, constraint_name=name, limit=float(cmdp.limits[k]),
        best_achievable=float(best),
    )
