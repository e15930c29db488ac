r"""The hiring LP and the single-agent scoring-rule LP as programs users can constrain (budgets, caps, ...).

:func:`hiring_program` is the correlated mechanism LP of Cacciamani, Castiglioni and Gatti (ICLR 2024) exactly
as :func:`mechsim.solvers.hiring_lp.build_hiring_lp` assembles it for HiGHS, handed to cvxpy as one sparse
matrix with named views of its variables:

- ``phi`` (the recommendation distribution over effort profiles, shape ``n_efforts``),
- ``y`` (``y_i(b, s, \theta) = \phi(b) \gamma_i(b, s, \theta) / \text{scale}``, shape
  ``(n, *n_efforts, *n_signals, n_states)``, where ``scale`` is the largest of the largest cap, the utilities and the
  cost differences: the LP is solved in that unit so that HiGHS's absolute tolerances do not depend on units),

constraint groups ``"normalisation"``, ``"cap"`` (``y_i <= M_i phi``, agent *i*'s own cap), ``"obedience"``
(effort deviations) and
``"truthfulness"`` (misreports, the z-trick rows), and expressions ``"principal_value"`` and
``"expected_payment"`` (the agents' ex-ante expected payments, shape ``(n,)``), both in the instance's units,
as are the duals of every group.  A budget on agent *i* is
``program.add_constraint(program.expressions["expected_payment"][i] <= B, "budget")``, and
``result.duals["budget"]`` is what one more unit of budget is worth to the principal.  Per-agent payment caps
:math:`M_i` need no extra row: :class:`mechsim.hiring.HiringInstance` takes them (``payment_cap=[M_0, M_1]``) and
the ``"cap"`` group then holds :math:`y_i \le M_i \phi` (any other linear constraint on ``phi`` and ``y`` is one
``add_constraint`` away; ``y`` is in units of ``scale``).  The solution is a
:class:`mechsim.hiring.Mechanism` (``gamma = y / phi``) that passes :func:`mechsim.hiring.audit_incentives`.

:func:`scoring_rule_program` is its one-agent case with a fixed recommended effort: the cheapest scoring
rule :math:`g(\hat s, \theta) \in [0, M]` under which exerting effort *k* and reporting truthfully is a best
response (Chen & Yu 2021 call it optimal scoring rule design for information acquisition).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.hiring.audit import audit_incentives
from mechsim.hiring.model import HiringInstance, Mechanism
from mechsim.solvers.design.program import AuditOutcome, MechanismProgram
from mechsim.solvers.hiring_lp import HIGHS_OPTIONS, _recover, build_hiring_lp
from mechsim.validation import check_integer, check_nonnegative

__all__ = ["hiring_program", "scoring_rule_program", "ScoringRule"]


def _row_blocks(instance: HiringInstance) -> dict[str, slice]:
    """Row ranges of the assembled LP's constraint families (normalisation, caps, IC rows, misreport rows)."""
    B = int(np.prod(instance.n_efforts))
    Y = B * int(np.prod(instance.n_signals)) * instance.n_states
    n = instance.n_agents
    n_ic = sum(b * b for b in instance.n_efforts)
    n_mis = sum(b * b * s * s for b, s in zip(instance.n_efforts, instance.n_signals))
    starts = np.cumsum([0, 1, n * Y, n_ic, n_mis])
    return {"normalisation": slice(starts[0], starts[1]), "cap": slice(starts[1], starts[2]),
            "obedience": slice(starts[2], starts[3]), "truthfulness": slice(starts[3], starts[4])}


def _bounded(expr, lower: np.ndarray, upper: np.ndarray) -> list:
    """``lower <= expr <= upper`` with equalities and one-sided rows split out (no infinite bounds to cvxpy)."""
    eq = lower == upper
    out = []
    if np.any(eq):
        out.append(expr[np.flatnonzero(eq)] == lower[eq])
    lo = ~eq & np.isfinite(lower)
    if np.any(lo):
        out.append(expr[np.flatnonzero(lo)] >= lower[lo])
    hi = ~eq & np.isfinite(upper)
    if np.any(hi):
        out.append(expr[np.flatnonzero(hi)] <= upper[hi])
    return out


def hiring_program(instance: HiringInstance, margin: float = 0.0, *, profile=None) -> MechanismProgram:
    """The correlated hiring LP as a :class:`MechanismProgram` (see the module docstring).

    Parameters
    ----------
    instance : HiringInstance
    margin : float, default 0
        Every effort deviation loses at least ``margin`` per unit of recommendation probability.
    profile : sequence of int, optional
        Recommend this effort profile for sure.

    Returns
    -------
    MechanismProgram
        ``solve().value`` equals ``optimal_mechanism(instance, margin).value`` and ``solve().solution`` is a
        :class:`~mechsim.hiring.Mechanism` that passes the exact incentive audit.
    """
    if not isinstance(instance, HiringInstance):
        raise InvalidInstanceError(f"instance: expected a HiringInstance, found {type(instance).__name__}",
                                   "instance")
    margin = check_nonnegative("margin", margin)
    n = instance.n_agents
    lp = build_hiring_lp(instance.joint, [instance.cost_differences(i) for i in range(n)], instance.utility,
                         instance.payment_caps, margin=margin, profile=profile)
    blocks = _row_blocks(instance)
    if blocks["truthfulness"].stop != lp.n_constraints:  # pragma: no cover - guards the row layout above
        raise InvalidInstanceError("instance: the hiring LP's row layout is not the expected one", "instance")
    # Column bounds as variable bounds, which cvxpy hands HiGHS as bounds rather than as extra rows.
    x = cp.Variable(lp.n_variables, name="x", bounds=[lp.col_lower, np.where(np.isfinite(lp.col_upper),
                                                                              lp.col_upper, np.inf)])
    B = int(np.prod(lp.n_efforts))
    Y = B * int(np.prod(lp.n_signals)) * lp.n_states
    phi = cp.reshape(x[:B], lp.n_efforts, order="C") if n > 1 else x[:B]
    y = cp.reshape(x[B:B + n * Y], (n, Y), order="C")
    A = lp.matrix.tocsr()
    constraints = {}
    for name, rows in blocks.items():
        items = _bounded(A[rows] @ x, lp.row_lower[rows], lp.row_upper[rows])
        if items:
            constraints[name] = items
    q = lp.cost[B:B + Y]                                   # q_b(s, theta), the cost coefficients of each y_i
    # The LP is stated in units of lp.scale (payments and utilities divided by it); the expressions, the
    # objective and the duals are in the instance's units, so users' budgets and caps are too.
    unit = lp.scale
    caps = instance.payment_caps.reshape((n,) + (1,) * (2 * n + 1))   # agent i's cap, against gamma's axes
    expressions = {"principal_value": -unit * (lp.cost @ x), "expected_payment": unit * (y @ q)}

    def decode(values, clean_tol):
        xv = np.asarray(values["x"], dtype=float)
        if clean_tol is not None:
            xv = np.where(np.abs(xv) < clean_tol, 0.0, xv)
        rec, gamma = _recover(lp, xv)
        # payments in the instance's units, agent i's clipped to [0, M_i] (solver round-off only: y_i <= M_i phi)
        return Mechanism.build(instance, rec, np.clip(gamma * unit, 0.0, caps))

    def audit(mechanism, atol):
        report = audit_incentives(instance, mechanism, atol=atol)
        ok = report.is_ic and report.respects_limits and (margin == 0 or report.effort_margin >= margin - atol)
        return AuditOutcome(ok, str(report), report)

    def pin(values, clean_tol):
        rec, _ = _recover(lp, np.where(np.abs(values["x"]) < clean_tol, 0.0, values["x"]))
        return [x[:B] == rec.ravel()]

    return MechanismProgram(expressions["principal_value"], "max", {"x": x, "phi": phi, "y": y}, constraints,
                            expressions, decode, audit, "the hiring program", pin,
                            dual_scales={name: 1.0 / unit for name in constraints if name != "normalisation"},
                            highs_options=dict(HIGHS_OPTIONS))


@dataclass(frozen=True, eq=False)
class ScoringRule:
    """The scoring-rule program's solution: ``rule[s, theta]`` paid on report ``s`` and state ``theta``, the
    induced ``effort``, its ``expected_payment``, and the one-agent hiring ``mechanism`` it defines."""

    rule: np.ndarray
    effort: int
    expected_payment: float
    mechanism: Mechanism


def scoring_rule_program(prior, signal_law, costs, effort: int, payment_cap: float = 1.0,
                         margin: float = 0.0) -> MechanismProgram:
    r"""The cheapest scoring rule that makes one agent exert ``effort`` and report truthfully.

    .. math::

        \min_{g \in [0, M]^{S \times \Theta}} \sum_{s, \theta} \mu(\theta) P(s \mid k, \theta)\, g(s, \theta)
        \quad\text{s.t. effort } k \text{ and truth beat every effort } k' \text{ and reporting map.}

    Parameters
    ----------
    prior : array_like of shape (n_states,)
    signal_law : array_like of shape (n_efforts, n_signals, n_states)
        :math:`P(s \mid k, \theta)`.
    costs : array_like of shape (n_efforts,)
    effort : int
        The effort to induce.
    payment_cap : float
        ``M``.
    margin : float
        Every other effort loses at least ``margin``.

    Returns
    -------
    MechanismProgram
        Minimises ``expressions["expected_payment"]``; ``solve().solution`` is a :class:`ScoringRule` audited by
        the exact hiring audit.
    """
    law = np.asarray(signal_law, dtype=float) if signal_law is not None else signal_law
    instance = HiringInstance(prior, [costs], law, np.zeros((1, np.shape(prior)[0] if np.ndim(prior) else 1)),
                              payment_cap)
    k = check_integer("effort", effort, minimum=0, maximum=instance.n_efforts[0] - 1)
    program = hiring_program(instance, margin, profile=(k,))
    payment = program.expressions["expected_payment"][0]
    base_decode = program.decode
    base_audit = program.audit

    def decode(values, clean_tol):
        mech = base_decode(values, clean_tol)
        rule = np.array(mech.payments[0][k])
        return ScoringRule(rule, k, float(-mech.value), mech)

    def audit(solution, atol):
        return base_audit(solution.mechanism, atol)

    out = program.with_objective(payment, "min")
    out.decode, out.audit, out.name = decode, audit, "the scoring-rule program"
    return out
