r"""The optimal signalling scheme of a Bayesian persuasion problem as a program (Dughmi & Xu, STOC 2016).

.. math::

    \max_\pi \sum_s \mu(s) \sum_a \pi(a \mid s)\, u_S(s, a) \quad \text{s.t.} \quad
    \pi(\cdot \mid s) \in \Delta(A), \quad
    \sum_s \mu(s)\, \pi(a \mid s) \big(u_R(s, a) - u_R(s, a')\big) \ge 0 \;\; \forall a \ne a'.

One matrix constraint holds all :math:`A(A-1)` obedience rows, and the prior is a cvxpy ``Parameter``.  The
solution is audited with :func:`mechsim.persuasion.audit_obedience` and evaluated with
:func:`mechsim.persuasion.evaluate_scheme` (the receiver best-responding to every posterior), whose sender
value must equal the program's value.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.persuasion.model import (
    PersuasionInstance,
    SignallingScheme,
    audit_obedience,
    evaluate_scheme,
)
from mechsim.solvers.design.program import AuditOutcome, MechanismProgram

__all__ = ["persuasion_program"]


def persuasion_program(prior, sender_utility=None, receiver_utility=None) -> MechanismProgram:
    """The sender-optimal direct obedient scheme.

    Parameters
    ----------
    prior : array_like of shape (S,), or PersuasionInstance
    sender_utility, receiver_utility : array_like of shape (S, A)

    Returns
    -------
    MechanismProgram
        Variable ``"scheme"`` (S, A); parameter ``"prior"`` (set its ``value`` and solve again for another
        prior); groups ``"feasibility"``, ``"obedience"``; expressions ``"sender_value"``,
        ``"receiver_value"``, ``"recommendation_probability"`` (A,).  ``solve().solution``
        is a :class:`~mechsim.persuasion.SignallingScheme` that passes the obedience audit and whose exact
        sender value (receiver best-responding) equals the program's value within the audit's tolerance.
    """
    inst = prior if isinstance(prior, PersuasionInstance) else PersuasionInstance(prior, sender_utility,
                                                                                  receiver_utility)
    S, A = inst.n_states, inst.n_actions
    us, ur = inst.sender_utility, inst.receiver_utility
    # The prior is a cvxpy Parameter: re-solving for a new prior (program.parameters["prior"].value = ...)
    # reuses the compiled problem (DPP), which is what sweeps over priors want.
    mu = cp.Parameter(S, nonneg=True, name="prior", value=inst.prior)
    pi = cp.Variable((S, A), name="scheme")
    weighted = cp.multiply(mu[:, None], pi)                       # mu(s) pi(a|s)
    Q = weighted.T @ ur                                           # Q[a, a'] = sum_s mu pi(a|s) u_R(s, a')
    constraints = {"feasibility": [pi >= 0, cp.sum(pi, axis=1) == 1]}
    if A > 1:
        constraints["obedience"] = [cp.reshape(cp.diag(Q), (A, 1), order="C") @ np.ones((1, A)) - Q >= 0]
    expressions = {
        "sender_value": cp.sum(cp.multiply(us, weighted)),
        "receiver_value": cp.sum(cp.multiply(ur, weighted)),
        "recommendation_probability": cp.sum(weighted, axis=0),
    }

    def current() -> PersuasionInstance:
        return PersuasionInstance(mu.value, us, ur)

    def decode(values, clean_tol):
        raw = np.maximum(np.asarray(values["scheme"], dtype=float), 0.0)
        if clean_tol is not None:
            raw[raw < clean_tol] = 0.0
        sums = raw.sum(axis=1, keepdims=True)
        if np.any(sums <= 0):
            raise InvalidInstanceError("scheme: the solver returned a state with no recommendation", "scheme")
        return SignallingScheme(raw / sums)

    def audit(scheme, atol):
        report = audit_obedience(current(), scheme, atol)
        return AuditOutcome(report.is_obedient, str(report), report)

    program = MechanismProgram(expressions["sender_value"], "max", {"scheme": pi}, constraints, expressions, decode,
                               audit, "the persuasion program", parameters={"prior": mu})
    program.evaluate = lambda scheme: evaluate_scheme(current(), scheme)
    return program
