r"""Programs for direct-revelation mechanisms over finite type spaces, and the constraint families they use.

For a :class:`~mechsim.auctions.QuasiLinearModel` (types :math:`t`, prior :math:`f`, outcomes :math:`o`,
values :math:`u_i(o, t_i)`), a direct mechanism is :math:`q(o \mid t) \ge 0` with :math:`\sum_o q(o \mid t) = 1`
and payments :math:`p_i(t)` (from agent *i*).  :func:`direct_program` maximises revenue
:math:`\sum_t f(t) \sum_i p_i(t)` (or welfare, or any linear expression) subject to the chosen incentive and
participation constraints.  Each family is **one** sparse matrix constraint on the flat variable
:math:`z = (\mathrm{vec}\, q, \mathrm{vec}\, p)`, built from the same utility operators that
:func:`mechsim.auctions.audit_direct` uses, so the program and the audit share one definition:

=============================  ===========================================================================
builder                        constraint
=============================  ===========================================================================
:func:`bayesian_ic`            :math:`\bar U_i(s \to s) \ge \bar U_i(s \to s')` for every agent, type, report
:func:`dominant_strategy_ic`   :math:`U_i(s \to s \mid t_{-i}) \ge U_i(s \to s' \mid t_{-i})`
:func:`interim_ir`             :math:`\bar U_i(s \to s) \ge 0`
:func:`ex_post_ir`             :math:`U_i(t_i \to t_i \mid t_{-i}) \ge 0`
:func:`limited_liability`      :math:`p_i(t) \le L` (no agent ever pays more than :math:`L`; :math:`L = 0`:
                               the mechanism only pays agents, as a principal hiring them does)
:func:`budget_balance`         :math:`\sum_i p_i(t) \ge 0` for every profile (``"ex_post"``, no deficit),
                               :math:`= 0` (``strict``), or in expectation (``"ex_ante"``)
:func:`payment_caps`           :math:`|p_i(t)| \le c_i`
=============================  ===========================================================================
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from mechsim.auctions.direct import (
    INCENTIVES,
    PARTICIPATION,
    DirectMechanism,
    QuasiLinearModel,
    audit_direct,
    utility_operators,
)
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.design.program import AuditOutcome, MechanismProgram
from mechsim.validation import check_array, check_choice, check_in_range

__all__ = [
    "direct_program",
    "bayesian_ic",
    "dominant_strategy_ic",
    "interim_ir",
    "ex_post_ir",
    "limited_liability",
    "budget_balance",
    "payment_caps",
    "outcome_feasibility",
    "clean_mechanism",
]


def _check_model(model) -> QuasiLinearModel:
    if not isinstance(model, QuasiLinearModel):
        raise InvalidInstanceError(f"model: expected a QuasiLinearModel, found {type(model).__name__}", "model")
    return model


def _truth_minus_deviation(U: sp.csr_array, K: int, rows_per_block: int, keep_types=None) -> sp.csr_array:
    """From utility rows ``(block, s, s')`` build ``U(block, s, s) - U(block, s, s')`` for ``s' != s``."""
    blocks = rows_per_block
    b, s, s2 = np.meshgrid(np.arange(blocks), np.arange(K), np.arange(K), indexing="ij")
    off = s != s2
    if keep_types is not None:
        off &= keep_types[s]
    dev_rows = ((b * K + s) * K + s2)[off]
    truth_rows = ((b * K + s) * K + s)[off]
    return (U[truth_rows] - U[dev_rows]).tocsr()


def _truth_rows(U: sp.csr_array, K: int, blocks: int, keep_types=None) -> sp.csr_array:
    b, s = np.meshgrid(np.arange(blocks), np.arange(K), indexing="ij")
    rows = ((b * K + s) * K + s)
    if keep_types is not None:
        rows = rows[:, keep_types]
    return U[rows.ravel()].tocsr()


def bayesian_ic(model: QuasiLinearModel, z: cp.Expression, ops=None) -> cp.Constraint:
    """Bayesian incentive compatibility of every agent (types of zero probability excepted)."""
    model = _check_model(model)
    ops = ops or utility_operators(model)
    rows = [_truth_minus_deviation(ops.interim[i], model.n_types[i], 1, model.marginal(i) > 0)
            for i in range(model.n_agents)]
    return sp.vstack(rows, format="csr") @ z >= 0


def dominant_strategy_ic(model: QuasiLinearModel, z: cp.Expression, ops=None) -> cp.Constraint:
    """Dominant-strategy incentive compatibility: truth is a best report against every profile of reports."""
    model = _check_model(model)
    ops = ops or utility_operators(model)
    rows = [_truth_minus_deviation(ops.ex_post[i], model.n_types[i], model.n_profiles // model.n_types[i])
            for i in range(model.n_agents)]
    return sp.vstack(rows, format="csr") @ z >= 0


def interim_ir(model: QuasiLinearModel, z: cp.Expression, ops=None) -> cp.Constraint:
    """Interim individual rationality: every type expects a non-negative utility from participating."""
    model = _check_model(model)
    ops = ops or utility_operators(model)
    rows = [_truth_rows(ops.interim[i], model.n_types[i], 1, model.marginal(i) > 0) for i in range(model.n_agents)]
    return sp.vstack(rows, format="csr") @ z >= 0


def ex_post_ir(model: QuasiLinearModel, z: cp.Expression, ops=None) -> cp.Constraint:
    """Ex-post individual rationality: a non-negative utility at every profile."""
    model = _check_model(model)
    ops = ops or utility_operators(model)
    rows = [_truth_rows(ops.ex_post[i], model.n_types[i], model.n_profiles // model.n_types[i])
            for i in range(model.n_agents)]
    return sp.vstack(rows, format="csr") @ z >= 0


def _payments(model: QuasiLinearModel, z: cp.Expression) -> cp.Expression:
    n_q = model.n_profiles * model.n_outcomes
    return cp.reshape(z[n_q:], (model.n_profiles, model.n_agents), order="C")


def _per_agent(name: str, value, n: int) -> np.ndarray:
    arr = check_array(name, value)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidInstanceError(f"{name}: expected a number or one per agent ({n},), found shape {arr.shape}", name)
    return arr


def limited_liability(model: QuasiLinearModel, z: cp.Expression, liability=0.0) -> cp.Constraint:
    """No agent ever pays more than ``liability`` (a number or one per agent): ``p_i(t) <= L_i``."""
    model = _check_model(model)
    cap = _per_agent("liability", liability, model.n_agents)
    return _payments(model, z) <= cap[None, :]


def budget_balance(model: QuasiLinearModel, z: cp.Expression, kind: str = "ex_post",
                   strict: bool = False) -> cp.Constraint:
    """The mechanism runs no deficit: ``sum_i p_i(t) >= 0`` at every profile (``kind="ex_post"``) or in
    expectation (``"ex_ante"``); ``strict=True`` asks for equality."""
    model = _check_model(model)
    check_choice("kind", kind, ("ex_post", "ex_ante"))
    total = cp.sum(_payments(model, z), axis=1)
    if kind == "ex_ante":
        total = model.prior.ravel() @ total
    return total == 0 if strict else total >= 0


def payment_caps(model: QuasiLinearModel, z: cp.Expression, cap) -> list:
    """``|p_i(t)| <= cap_i`` (a number or one per agent, non-negative)."""
    model = _check_model(model)
    c = check_in_range("cap", _per_agent("cap", cap, model.n_agents), low=0.0)
    p = _payments(model, z)
    return [p <= c[None, :], p >= -c[None, :]]


def outcome_feasibility(model: QuasiLinearModel, z: cp.Expression) -> list:
    """``q(. | t)`` is a distribution over outcomes at every profile."""
    model = _check_model(model)
    P, O = model.n_profiles, model.n_outcomes
    rows = sp.csr_array((np.ones(P * O), (np.repeat(np.arange(P), O), np.arange(P * O))), shape=(P, z.shape[0]))
    return [z[:P * O] >= 0, rows @ z == 1]


def clean_mechanism(model: QuasiLinearModel, q: np.ndarray, p: np.ndarray, clean_tol: float | None) -> DirectMechanism:
    """A :class:`DirectMechanism` from raw solver values: clip round-off, and with ``clean_tol`` drop outcome
    probabilities below it (renormalising) and zero payments smaller than it."""
    q = np.maximum(np.asarray(q, dtype=float).reshape(model.n_profiles, model.n_outcomes), 0.0)
    p = np.asarray(p, dtype=float).reshape(model.n_profiles, model.n_agents).copy()
    if clean_tol is not None:
        q[q < clean_tol] = 0.0
        p[np.abs(p) < clean_tol] = 0.0
    sums = q.sum(axis=1, keepdims=True)
    q = np.divide(q, sums, out=np.full_like(q, 1.0 / model.n_outcomes), where=sums > 0)
    return DirectMechanism(q.reshape(*model.n_types, model.n_outcomes), p.reshape(*model.n_types, model.n_agents))


def direct_program(model: QuasiLinearModel, *, incentive: str = "bayesian", participation: str = "interim",
                   objective: str = "revenue", name: str = "the direct-mechanism program") -> MechanismProgram:
    """The optimal direct mechanism of a quasi-linear model, as a :class:`MechanismProgram`.

    Parameters
    ----------
    model : QuasiLinearModel
    incentive : {"bayesian", "dominant"}
    participation : {"interim", "ex_post", "none"}
    objective : {"revenue", "welfare"}
        Maximised; any other linear objective through ``with_objective``.

    Returns
    -------
    MechanismProgram
        ``variables``: ``"outcome_probabilities"`` (P, O) and ``"payments"`` (P, n) (profiles in C order);
        ``constraints``: ``"feasibility"``, ``"incentive"``, ``"participation"``; ``expressions``:
        ``"revenue"``, ``"welfare"``, ``"expected_payment"`` (n,).  ``solve().solution`` is a
        :class:`~mechsim.auctions.DirectMechanism` that passes :func:`~mechsim.auctions.audit_direct`.
    """
    model = _check_model(model)
    check_choice("incentive", incentive, INCENTIVES)
    check_choice("participation", participation, PARTICIPATION)
    check_choice("objective", objective, ("revenue", "welfare"))
    P, O, n = model.n_profiles, model.n_outcomes, model.n_agents
    ops = utility_operators(model)
    z = cp.Variable(ops.n_q + ops.n_p, name="z")
    q = cp.reshape(z[:ops.n_q], (P, O), order="C")
    p = cp.reshape(z[ops.n_q:], (P, n), order="C")
    f = model.prior.ravel()
    # Welfare coefficients: sum_i u_i(o, t_i) at every profile, (P, O).
    total_value = np.zeros((P, O))
    for i, u in enumerate(model.valuations):
        own = np.indices(model.n_types)[i].ravel()
        total_value += u[:, own].T
    expressions = {
        "revenue": f @ cp.sum(p, axis=1),
        "welfare": cp.sum(cp.multiply(f[:, None] * total_value, q)),
        "expected_payment": f @ p,
    }
    constraints = {"feasibility": outcome_feasibility(model, z),
                   "incentive": [bayesian_ic(model, z, ops) if incentive == "bayesian"
                                 else dominant_strategy_ic(model, z, ops)]}
    if participation == "interim":
        constraints["participation"] = [interim_ir(model, z, ops)]
    elif participation == "ex_post":
        constraints["participation"] = [ex_post_ir(model, z, ops)]

    def decode(values, clean_tol):
        zv = values["z"]
        return clean_mechanism(model, zv[:ops.n_q], zv[ops.n_q:], clean_tol)

    def audit(mechanism, atol):
        report = audit_direct(model, mechanism, incentive=incentive, participation=participation, atol=atol)
        return AuditOutcome(report.is_ic and report.is_ir, str(report), report)

    def pin(values, clean_tol):
        rounded = clean_mechanism(model, values["z"][:ops.n_q], values["z"][ops.n_q:], clean_tol)
        return [z[:ops.n_q] == rounded.outcome_probabilities.ravel()]

    return MechanismProgram(expressions[objective], "max", {"z": z, "outcome_probabilities": q, "payments": p},
                            constraints, expressions, decode, audit, name, pin)
