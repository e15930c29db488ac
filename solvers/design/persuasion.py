r"""The optimal signalling scheme of a Bayesian persuasion problem as a program (Dughmi & Xu, STOC 2016).

.. math::

    \max_\pi \sum_s \mu(s) \sum_a \pi(a \mid s)\, u_S(s, a) \quad \text{s.t.} \quad
    \pi(\cdot \mid s) \in \Delta(A), \quad
    \sum_s \mu(s)\, \pi(a \mid s) \big(u_R(s, a) - u_R(s, a')\big) \ge 0 \;\; \forall a \ne a'.

One sparse matrix constraint holds all :math:`A(A-1)` obedience rows.  The solution is audited with
:func:`mechsim.persuasion.audit_obedience` and evaluated with :func:`mechsim.persuasion.evaluate_scheme`
(the receiver best-responding to every posterior), whose sender value must equal the program's value.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

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
        Variable ``"scheme"`` (S, A); groups ``"feasibility"``, ``"obedience"``; expressions
        ``"sender_value"``, ``"receiver_value"``, ``"recommendation_probability"`` (A,).  ``solve().solution``
        is a :class:`~mechsim.persuasion.SignallingScheme` that passes the obedience audit and whose exact
        sender value (receiver best-responding) equals the program's value within the audit's tolerance.
    """
    inst = prior if isinstance(prior, PersuasionInstance) else PersuasionInstance(prior, sender_utility,
                                                                                  receiver_utility)
    S, A = inst.n_states, inst.n_actions
    mu, us, ur = inst.prior, inst.sender_utility, inst.receiver_utility
    pi = cp.Variable((S, A), name="scheme")
    flat = cp.reshape(pi, (S * A,), order="C")
    # Row (a, a') has coefficient mu(s) (u_R(s, a) - u_R(s, a')) on pi(s, a).
    a, b = np.meshgrid(np.arange(A), np.arange(A), indexing="ij")
    off = a != b
    pairs_a, pairs_b = a[off], b[off]
    s = np.arange(S)
    rows = np.repeat(np.arange(pairs_a.size), S)
    cols = (s[None, :] * A + pairs_a[:, None]).ravel()
    vals = (mu[None, :] * (ur[:, pairs_a] - ur[:, pairs_b]).T).ravel()
    keep = vals != 0
    obedience = sp.csr_array((vals[keep], (rows[keep], cols[keep])), shape=(pairs_a.size, S * A))
    constraints = {"feasibility": [pi >= 0, cp.sum(pi, axis=1) == 1]}
    if pairs_a.size:
        constraints["obedience"] = [obedience @ flat >= 0]
    expressions = {
        "sender_value": cp.sum(cp.multiply(mu[:, None] * us, pi)),
        "receiver_value": cp.sum(cp.multiply(mu[:, None] * ur, pi)),
        "recommendation_probability": mu @ pi,
    }

    def decode(values, clean_tol):
        raw = np.maximum(np.asarray(values["scheme"], dtype=float), 0.0)
        if clean_tol is not None:
            raw[raw < clean_tol] = 0.0
        sums = raw.sum(axis=1, keepdims=True)
        if np.any(sums <= 0):
            raise InvalidInstanceError("scheme: the solver returned a state with no recommendation", "scheme")
        return SignallingScheme(raw / sums)

    def audit(scheme, atol):
        report = audit_obedience(inst, scheme, atol)
        return AuditOutcome(report.is_obedient, str(report), report)

    program = MechanismProgram(expressions["sender_value"], "max", {"scheme": pi}, constraints, expressions, decode,
                               audit, "the persuasion program")
    program.instance = inst
    program.evaluate = lambda scheme: evaluate_scheme(inst, scheme)
    return program
