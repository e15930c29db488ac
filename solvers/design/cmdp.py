r"""The CMDP occupancy LP as a program, so that users can add their own linear constraints.

.. math::

    \max_{x \ge 0} \; \sum_{s,a} r(s,a)\, x(s,a) \quad\text{s.t.}\quad
    \sum_a x(s',a) - \gamma \sum_{s,a} P(s' \mid s,a)\, x(s,a) = \mu_0(s'), \qquad
    \sum_{s,a} c_k(s,a)\, x(s,a) \le d_k,

the same matrix :func:`mechsim.solvers.cmdp_lp.occupancy_lp` hands HiGHS directly (so the optimum equals
:func:`~mechsim.solvers.cmdp_lp.solve_cmdp`'s), with every cost row divided by its largest coefficient as
``solve_cmdp`` does (HiGHS drops matrix entries below 1e-9).  ``expressions["cost_values"]`` is in the model's
units; ``variables["occupancy"]`` is the ``(S, A)`` discounted occupancy, on which users state per-state
action limits or occupancy caps.  The solution is the stationary policy :math:`\pi(a|s) \propto x(s,a)`; the
audit evaluates it exactly (:func:`mechsim.cmdp.evaluate_policy`) and checks every limit at
``FEASIBILITY_RTOL`` of the constraint's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from mechsim.cmdp.model import FiniteCMDP, _check_cmdp, evaluate_policy
from mechsim.solvers.cmdp_lp import FEASIBILITY_RTOL, _constraint_scales, _policy_from_occupancy, _scaled
from mechsim.solvers.design.program import AuditOutcome, MechanismProgram

__all__ = ["cmdp_program", "PolicySolution"]


@dataclass(frozen=True, eq=False)
class PolicySolution:
    """A CMDP program's solution: the stationary ``policy`` (S, A), the LP's ``occupancy`` (S, A), and the
    policy's exact ``evaluation`` (:class:`mechsim.cmdp.PolicyEvaluation`)."""

    policy: np.ndarray
    occupancy: np.ndarray
    evaluation: object


def cmdp_program(cmdp: FiniteCMDP) -> MechanismProgram:
    """The occupancy LP of ``cmdp`` as a :class:`MechanismProgram`.

    Returns
    -------
    MechanismProgram
        Variable ``"occupancy"`` (S, A); groups ``"flow"`` and ``"limits"``; expressions ``"value"`` and
        ``"cost_values"`` (K,).  ``solve().value`` equals ``solve_cmdp(cmdp).value``.
    """
    _check_cmdp(cmdp)
    S, A, K = cmdp.n_states, cmdp.n_actions, cmdp.n_constraints
    scaled = _scaled(cmdp)
    M = scaled.lp.matrix.tocsr()
    x = cp.Variable(S * A, name="occupancy", nonneg=True)
    occupancy = cp.reshape(x, (S, A), order="C")
    constraints = {"flow": [M[:S] @ x == scaled.lp.row_upper[:S]]}
    cost_values = cp.multiply(scaled.cost_scales, M[S:] @ x) if K else None
    if K:
        constraints["limits"] = [M[S:] @ x <= scaled.lp.row_upper[S:]]
    expressions = {"value": cmdp.reward.ravel() @ x}
    if K:
        expressions["cost_values"] = cost_values
    horizon = 1.0 / (1.0 - cmdp.discount)

    def decode(values, clean_tol):
        occ = np.maximum(np.asarray(values["occupancy"], dtype=float).reshape(S, A), 0.0)
        if clean_tol is not None:
            occ[occ < clean_tol * horizon] = 0.0
        policy = _policy_from_occupancy(occ, tol=1e-12 * horizon)
        return PolicySolution(policy, occ, evaluate_policy(cmdp, policy))

    def audit(solution, atol):
        if not K:
            return AuditOutcome(True, "", solution.evaluation)
        excess = solution.evaluation.cost_values - cmdp.limits
        tol = FEASIBILITY_RTOL * _constraint_scales(cmdp)
        if np.any(excess > tol):
            k = int(np.argmax(excess - tol))
            return AuditOutcome(False, f"the policy's exact discounted cost {solution.evaluation.cost_values[k]:.12g} "
                                       f"of constraint {k} ({cmdp.constraint_names[k]!r}) exceeds its limit "
                                       f"{cmdp.limits[k]:.12g}", solution.evaluation)
        return AuditOutcome(True, "", solution.evaluation)

    # The limit rows are stated divided by the cost scales: their duals, times 1/scale, are the multipliers.
    return MechanismProgram(expressions["value"], "max", {"occupancy": occupancy}, constraints, expressions, decode,
                            audit, "the CMDP occupancy program",
                            dual_scales={"limits": 1.0 / scaled.cost_scales} if K else {})
