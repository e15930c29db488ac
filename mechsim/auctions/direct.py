r"""Direct-revelation mechanisms with quasi-linear utilities over finite type spaces.

Agents :math:`i = 1..n` have private types :math:`t_i \in \{0, \dots, K_i - 1\}` drawn from a joint prior
:math:`f(t)` over profiles :math:`t = (t_1, \dots, t_n)`.  A direct mechanism asks for a report of every type
and chooses an outcome :math:`o \in \{0, \dots, O-1\}` with probability :math:`q(o \mid t)` and a payment
:math:`p_i(t)` *from* each agent (negative: a transfer to it).  Agent :math:`i` of type :math:`s` values
outcome :math:`o` at :math:`u_i(o, s)`, so reporting :math:`s'` when the others report :math:`t_{-i}` gives

.. math::  U_i(s \to s' \mid t_{-i}) = \sum_o q(o \mid s', t_{-i})\, u_i(o, s) - p_i(s', t_{-i}).

The standard constraints (all linear in :math:`q, p`):

- **dominant-strategy IC**: :math:`U_i(s \to s \mid t_{-i}) \ge U_i(s \to s' \mid t_{-i})` for every
  :math:`i, s, s', t_{-i}`;
- **Bayesian IC**: :math:`\bar U_i(s \to s) \ge \bar U_i(s \to s')` with the interim utility
  :math:`\bar U_i(s \to s') = \sum_{t_{-i}} f(t_{-i} \mid s)\, U_i(s \to s' \mid t_{-i})` (types of zero
  probability carry no interim constraint);
- **ex-post IR** :math:`U_i(t_i \to t_i \mid t_{-i}) \ge 0`; **interim IR** :math:`\bar U_i(s \to s) \ge 0`.

Revenue is :math:`\sum_t f(t) \sum_i p_i(t)`, welfare :math:`\sum_t f(t) \sum_o q(o \mid t) \sum_i u_i(o, t_i)`.
:func:`audit_direct` checks *any* mechanism exactly (every agent, true type, misreport and, for dominant
strategies, every profile of the others), naming the worst deviation; :func:`utility_operators` gives the
sparse matrices of :math:`U` that the design layer (:mod:`mechsim.solvers.design`) turns into constraints,
so that the audit and the programs share one definition.

Arrays: ``outcome_probabilities`` has shape ``(K_1, ..., K_n, O)`` and ``payments`` ``(K_1, ..., K_n, n)``;
flattened, profiles are in C order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    PROBABILITY_ATOL,
    check_allocation,
    check_array,
    check_choice,
    check_in_range,
    check_nonnegative,
)

__all__ = [
    "QuasiLinearModel",
    "DirectMechanism",
    "DirectAudit",
    "UtilityOperators",
    "evaluate_direct",
    "audit_direct",
    "utility_operators",
    "INCENTIVES",
    "PARTICIPATION",
]

INCENTIVES = ("bayesian", "dominant")
PARTICIPATION = ("interim", "ex_post", "none")


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class QuasiLinearModel:
    """A finite quasi-linear mechanism-design environment.

    Parameters
    ----------
    valuations : sequence of array_like
        ``valuations[i]`` of shape ``(O, K_i)``: :math:`u_i(o, s)`, agent *i*'s value of outcome *o* at type
        *s*.  Every agent has the same number of outcomes ``O``.
    prior : array_like of shape ``(K_1, ..., K_n)``
        Joint distribution of the type profile (non-negative, summing to 1 within 1e-9).  Use
        :meth:`independent` for independent types.
    outcome_names : sequence of str, optional
        One name per outcome, for messages and reports.
    """

    valuations: tuple
    prior: np.ndarray
    outcome_names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self):
        vals = self.valuations
        if vals is None or isinstance(vals, (str, bytes)) or not hasattr(vals, "__len__") or len(vals) == 0:
            raise InvalidInstanceError(f"valuations: expected a non-empty sequence of (O, K_i) arrays, found "
                                       f"{type(vals).__name__}", "valuations")
        checked = []
        for i, v in enumerate(vals):
            arr = check_array(f"valuations[{i}]", v, ndim=2)
            if arr.shape[0] == 0 or arr.shape[1] == 0:
                raise InvalidInstanceError(f"valuations[{i}]: expected at least one outcome and one type, found "
                                           f"shape {arr.shape}", "valuations")
            if checked and arr.shape[0] != checked[0].shape[0]:
                raise InvalidInstanceError(f"valuations[{i}]: expected {checked[0].shape[0]} outcomes (rows) like "
                                           f"valuations[0], found {arr.shape[0]}", "valuations")
            checked.append(_readonly(arr))
        n_types = tuple(a.shape[1] for a in checked)
        profiles = float(np.prod(n_types, dtype=float))
        check_allocation("valuations", 8.0 * profiles * (checked[0].shape[0] + len(n_types)),
                         f"{profiles:.0f} type profiles' mechanism arrays")
        prior = check_array("prior", self.prior)
        if prior.shape != n_types:
            raise InvalidInstanceError(f"prior: expected shape {n_types} (one axis per agent, as many entries as "
                                       f"its types), found {prior.shape}", "prior")
        check_in_range("prior", prior, low=0.0)
        total = float(prior.sum())
        if abs(total - 1.0) > PROBABILITY_ATOL:
            raise InvalidInstanceError(f"prior: expected a distribution summing to 1 within {PROBABILITY_ATOL:g}, "
                                       f"found sum {total:.12g}", "prior")
        names = self.outcome_names
        O = checked[0].shape[0]
        if names is None:
            names = tuple(f"outcome {o}" for o in range(O))
        else:
            names = tuple(str(x) for x in names)
            if len(names) != O:
                raise InvalidInstanceError(f"outcome_names: expected {O} names, found {len(names)}", "outcome_names")
        object.__setattr__(self, "valuations", tuple(checked))
        object.__setattr__(self, "prior", _readonly(prior))
        object.__setattr__(self, "outcome_names", names)

    @classmethod
    def independent(cls, valuations, priors, outcome_names=None) -> QuasiLinearModel:
        """Independent types: ``priors[i]`` of shape ``(K_i,)`` is agent *i*'s type distribution."""
        if priors is None or isinstance(priors, (str, bytes)) or not hasattr(priors, "__len__"):
            raise InvalidInstanceError(f"priors: expected one probability vector per agent, found {priors!r}",
                                       "priors")
        joint = np.ones(())
        for i, p in enumerate(priors):
            arr = check_in_range(f"priors[{i}]", check_array(f"priors[{i}]", p, ndim=1), low=0.0)
            if abs(float(arr.sum()) - 1.0) > PROBABILITY_ATOL:
                raise InvalidInstanceError(f"priors[{i}]: expected a distribution summing to 1, found sum "
                                           f"{float(arr.sum()):.12g}", "priors")
            joint = np.multiply.outer(joint, arr)
        return cls(valuations, joint, outcome_names)

    @property
    def n_agents(self) -> int:
        return len(self.valuations)

    @property
    def n_types(self) -> tuple[int, ...]:
        return self.prior.shape

    @property
    def n_outcomes(self) -> int:
        return self.valuations[0].shape[0]

    @property
    def n_profiles(self) -> int:
        return int(self.prior.size)

    def marginal(self, agent: int) -> np.ndarray:
        """Agent ``agent``'s type distribution (shape ``(K_i,)``)."""
        axes = tuple(j for j in range(self.n_agents) if j != agent)
        return self.prior.sum(axis=axes)


@dataclass(frozen=True, eq=False)
class DirectMechanism:
    """A direct mechanism: outcome probabilities and payments for every reported profile.

    Parameters
    ----------
    outcome_probabilities : array_like of shape ``(K_1, ..., K_n, O)``
        :math:`q(o \\mid t)`; every profile's row is a distribution over outcomes.
    payments : array_like of shape ``(K_1, ..., K_n, n)``
        :math:`p_i(t)`, paid by agent *i* (negative: paid to it).
    """

    outcome_probabilities: np.ndarray
    payments: np.ndarray

    def __post_init__(self):
        q = check_array("outcome_probabilities", self.outcome_probabilities)
        p = check_array("payments", self.payments)
        if q.ndim < 2 or p.ndim != q.ndim or p.shape[:-1] != q.shape[:-1]:
            raise InvalidInstanceError(f"payments: expected shape (K_1, ..., K_n, n) matching outcome_probabilities' "
                                       f"(K_1, ..., K_n, O) = {q.shape}, found {p.shape}", "payments")
        if p.shape[-1] != q.ndim - 1:
            raise InvalidInstanceError(f"payments: expected one payment per agent ({q.ndim - 1}) on the last axis, "
                                       f"found {p.shape[-1]}", "payments")
        check_in_range("outcome_probabilities", q, low=0.0, atol=PROBABILITY_ATOL)
        sums = q.sum(axis=-1)
        bad = np.abs(sums - 1.0) > PROBABILITY_ATOL
        if np.any(bad):
            where = tuple(int(x) for x in np.argwhere(bad)[0])
            raise InvalidInstanceError(f"outcome_probabilities: expected a distribution over outcomes for every "
                                       f"profile, found sum {sums[where]:.12g} at profile {where}",
                                       "outcome_probabilities")
        object.__setattr__(self, "outcome_probabilities", _readonly(q))
        object.__setattr__(self, "payments", _readonly(p))

    def check_compatible(self, model: QuasiLinearModel, name: str = "mechanism") -> None:
        """Raise :class:`InvalidInstanceError` unless the shapes fit ``model``."""
        if not isinstance(model, QuasiLinearModel):
            raise InvalidInstanceError(f"model: expected a QuasiLinearModel, found {type(model).__name__}", "model")
        want = (*model.n_types, model.n_outcomes)
        if self.outcome_probabilities.shape != want:
            raise InvalidInstanceError(f"{name}: expected outcome probabilities of shape {want} for this model, "
                                       f"found {self.outcome_probabilities.shape}", name)


def _check_pair(model, mechanism) -> None:
    if not isinstance(model, QuasiLinearModel):
        raise InvalidInstanceError(f"model: expected a QuasiLinearModel, found {type(model).__name__}", "model")
    if not isinstance(mechanism, DirectMechanism):
        raise InvalidInstanceError(f"mechanism: expected a DirectMechanism, found {type(mechanism).__name__}",
                                   "mechanism")
    mechanism.check_compatible(model)


@dataclass(frozen=True)
class UtilityOperators:
    """Sparse linear maps from the flat variables ``z = [vec q, vec p]`` to agents' utilities.

    For agent *i*: ``ex_post[i] @ z`` has one row per ``(t_-i, s, s')`` (C order over ``(t_-i, s, s')``,
    others' profile flattened), the utility :math:`U_i(s \\to s' \\mid t_{-i})`; ``interim[i] @ z`` one row
    per ``(s, s')`` with :math:`\\bar U_i(s \\to s')` (rows of zero-probability types are zero).
    ``n_q`` is the length of ``vec q`` (profiles x outcomes), ``n_p`` of ``vec p`` (profiles x agents).
    """

    ex_post: tuple
    interim: tuple
    n_q: int
    n_p: int


def _profile_grid(n_types: tuple[int, ...], agent: int):
    """Flat profile indices ``idx[r, s]`` of ``(s, t_-i = r-th profile of the others)``, shape (R, K_i)."""
    grid = np.arange(int(np.prod(n_types))).reshape(n_types)
    moved = np.moveaxis(grid, agent, -1)
    return moved.reshape(-1, n_types[agent])


def utility_operators(model: QuasiLinearModel) -> UtilityOperators:
    """The ex-post and interim utility operators of every agent (see :class:`UtilityOperators`)."""
    if not isinstance(model, QuasiLinearModel):
        raise InvalidInstanceError(f"model: expected a QuasiLinearModel, found {type(model).__name__}", "model")
    n, O, P = model.n_agents, model.n_outcomes, model.n_profiles
    n_q, n_p = P * O, P * n
    ex_post, interim = [], []
    for i in range(n):
        K = model.n_types[i]
        idx = _profile_grid(model.n_types, i)            # (R, K): profile of (report s', others r)
        R = idx.shape[0]
        u = model.valuations[i]                           # (O, K): u_i(o, s)
        # Rows (r, s, s'): q(o | s', r) * u_i(o, s) for every o, and -p_i(s', r).
        r_, s_, s2 = np.meshgrid(np.arange(R), np.arange(K), np.arange(K), indexing="ij")
        rows = (r_ * K + s_) * K + s2                     # (R, K, K)
        prof = idx[r_, s2]                                # reported profile
        q_cols = prof[..., None] * O + np.arange(O)       # (R, K, K, O)
        q_vals = np.broadcast_to(u.T[s_], q_cols.shape)    # u_i(o, s): (R, K, K, O)
        p_cols = n_q + prof * n + i
        all_rows = np.concatenate([np.broadcast_to(rows[..., None], q_cols.shape).ravel(), rows.ravel()])
        all_cols = np.concatenate([q_cols.ravel(), p_cols.ravel()])
        all_vals = np.concatenate([q_vals.ravel(), -np.ones(rows.size)])
        keep = all_vals != 0
        E = sp.csr_array((all_vals[keep], (all_rows[keep], all_cols[keep])), shape=(R * K * K, n_q + n_p))
        ex_post.append(E)
        # Interim: weights f(t_-i | s) on the rows (r, s, .) summed over r.
        joint = np.moveaxis(model.prior, i, -1).reshape(R, K)          # f(s, r) laid out (r, s)
        marginal = joint.sum(axis=0)
        cond = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
        W = sp.csr_array((cond[r_, s_].ravel(), ((s_ * K + s2).ravel(), rows.ravel())), shape=(K * K, R * K * K))
        interim.append((W @ E).tocsr())
    return UtilityOperators(tuple(ex_post), tuple(interim), n_q, n_p)


def _flat(mechanism: DirectMechanism) -> np.ndarray:
    return np.concatenate([mechanism.outcome_probabilities.ravel(), mechanism.payments.ravel()])


@dataclass(frozen=True)
class DirectAudit:
    """The worst incentive and participation violations of a direct mechanism.

    Attributes
    ----------
    incentive, participation : str
        What was checked (``"bayesian"``/``"dominant"``; ``"interim"``/``"ex_post"``/``"none"``).
    max_gain : float
        Largest gain of any agent from misreporting (never negative: truth is a candidate).
    agent, true_type, misreport : int
        Where ``max_gain`` is attained.
    others : tuple of int or None
        The others' reported profile of the worst dominant-strategy deviation (None for Bayesian IC).
    max_ir_violation : float
        Largest shortfall of a participation constraint below 0 (0 when none is violated).
    ir_agent, ir_type : int
        Where it is attained (-1 when there is none).
    atol : float
    is_ic : bool
        ``max_gain <= atol``.
    is_ir : bool
        ``max_ir_violation <= atol``.
    """

    incentive: str
    participation: str
    max_gain: float
    agent: int
    true_type: int
    misreport: int
    others: tuple | None
    max_ir_violation: float
    ir_agent: int
    ir_type: int
    atol: float
    is_ic: bool
    is_ir: bool

    def __str__(self) -> str:
        parts = [f"{self.incentive} IC {'holds' if self.is_ic else 'fails'}: max gain {self.max_gain:.3g} "
                 f"(agent {self.agent}, type {self.true_type} reporting {self.misreport}"
                 + (f", others {self.others}" if self.others is not None else "") + ")"]
        if self.participation != "none":
            parts.append(f"{self.participation} IR {'holds' if self.is_ir else 'fails'}: max violation "
                         f"{self.max_ir_violation:.3g}" + (f" (agent {self.ir_agent}, type {self.ir_type})"
                                                           if self.ir_agent >= 0 else ""))
        return "; ".join(parts)


def audit_direct(model: QuasiLinearModel, mechanism: DirectMechanism, *, incentive: str = "bayesian",
                 participation: str = "interim", atol: float = 1e-7) -> DirectAudit:
    """Exact incentive and participation audit of a direct mechanism.

    Parameters
    ----------
    model : QuasiLinearModel
    mechanism : DirectMechanism
    incentive : {"bayesian", "dominant"}
    participation : {"interim", "ex_post", "none"}
    atol : float
        Tolerance of ``is_ic`` / ``is_ir`` (in utility units).

    Returns
    -------
    DirectAudit
        The worst deviation over every agent, true type, misreport (and others' profile for dominant
        strategies), and the worst participation shortfall.
    """
    _check_pair(model, mechanism)
    check_choice("incentive", incentive, INCENTIVES)
    check_choice("participation", participation, PARTICIPATION)
    atol = check_nonnegative("atol", atol)
    ops = utility_operators(model)
    z = _flat(mechanism)
    best = (0.0, 0, 0, 0, None)
    worst_ir = (0.0, -1, -1)
    for i in range(model.n_agents):
        K = model.n_types[i]
        if incentive == "dominant":
            U = (ops.ex_post[i] @ z).reshape(-1, K, K)        # (R, s, s')
        else:
            U = (ops.interim[i] @ z).reshape(1, K, K)
            U[:, model.marginal(i) <= 0, :] = 0.0               # no interim constraint for impossible types
        truth = np.einsum("rss->rs", U)
        gain = U - truth[..., None]                             # (R, s, s')
        flat = int(np.argmax(gain))
        r, s, s2 = np.unravel_index(flat, gain.shape)
        if gain[r, s, s2] > best[0]:
            others = None
            if incentive == "dominant":
                shape = tuple(k for j, k in enumerate(model.n_types) if j != i)
                others = tuple(int(x) for x in np.unravel_index(int(r), shape)) if shape else ()
            best = (float(gain[r, s, s2]), i, int(s), int(s2), others)
        if participation != "none":
            if participation == "ex_post":
                own = np.einsum("rss->rs", (ops.ex_post[i] @ z).reshape(-1, K, K))
            else:
                own = np.einsum("ss->s", (ops.interim[i] @ z).reshape(K, K))[None, :]
                own = np.where(model.marginal(i)[None, :] > 0, own, 0.0)
            r, s = np.unravel_index(int(np.argmin(own)), own.shape)
            if -own[r, s] > worst_ir[0]:
                worst_ir = (float(-own[r, s]), i, int(s))
    return DirectAudit(incentive, participation, best[0], best[1], best[2], best[3], best[4], worst_ir[0],
                       worst_ir[1], worst_ir[2], atol, best[0] <= atol, worst_ir[0] <= atol)


def evaluate_direct(model: QuasiLinearModel, mechanism: DirectMechanism) -> dict:
    """Exact expected revenue, welfare, payments and utilities of a direct mechanism under truthful reports.

    Returns
    -------
    dict
        ``revenue`` (float), ``welfare`` (float, the agents' total expected value of the outcome),
        ``expected_payments`` (n,), ``expected_values`` (n,) and ``utilities`` (n,) = values - payments.
    """
    _check_pair(model, mechanism)
    f = model.prior
    q = mechanism.outcome_probabilities
    values = np.empty(model.n_agents)
    for i, u in enumerate(model.valuations):
        # u_i(o, t_i) broadcast over the profile grid
        shape = [1] * model.n_agents + [model.n_outcomes]
        shape[i] = model.n_types[i]
        ui = np.moveaxis(u, 0, -1).reshape(shape)
        values[i] = float(np.sum(f[..., None] * q * ui))
    payments = np.tensordot(f, mechanism.payments, axes=model.n_agents)
    return {"revenue": float(payments.sum()), "welfare": float(values.sum()), "expected_payments": payments,
            "expected_values": values, "utilities": values - payments}
