r"""Bayesian persuasion with finitely many states and actions (Kamenica & Gentzkow, AER 2011).

A sender commits to a signalling scheme; a receiver who knows the scheme observes the signal, forms a
posterior and takes a best action.  With prior :math:`\mu(s)`, receiver utility :math:`u_R(s, a)` and sender
utility :math:`u_S(s, a)`, the revelation principle lets the sender recommend actions: a *direct* scheme is
:math:`\pi(a \mid s) \ge 0`, :math:`\sum_a \pi(a \mid s) = 1`, and it is *obedient* when following every
recommendation is a best response,

.. math::  \sum_s \mu(s)\, \pi(a \mid s) \big(u_R(s, a) - u_R(s, a')\big) \ge 0 \quad \forall a, a'.

The sender's value of an obedient scheme is :math:`\sum_s \mu(s) \sum_a \pi(a \mid s)\, u_S(s, a)` (Dughmi &
Xu, STOC 2016, for the LP).  :func:`evaluate_scheme` evaluates *any* scheme exactly by letting the receiver
best-respond to each posterior (ties go to the sender, the standard convention); :func:`audit_obedience`
names the recommendation and the deviation that break obedience.  For two states the optimum is the concave
envelope of :math:`\hat v(p)`, the sender's utility at the receiver's best response to the posterior
:math:`p = P(s = 1)`, at the prior (:func:`concavified_value`): :math:`\hat v` is piecewise linear with breaks
where the receiver's best response changes, so the envelope is spanned by its values there and at 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    PROBABILITY_ATOL,
    check_array,
    check_nonnegative,
    check_probability_vector,
    check_stochastic,
)

__all__ = [
    "PersuasionInstance",
    "SignallingScheme",
    "ObedienceAudit",
    "receiver_best_response",
    "evaluate_scheme",
    "audit_obedience",
    "no_information_value",
    "full_information_value",
    "concavified_value",
    "TIE_TOL",
]

#: Receiver utilities within this (relative) tolerance of the best count as ties, broken for the sender.
TIE_TOL = 1e-12


def _readonly(arr) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class PersuasionInstance:
    """A finite persuasion problem.

    Parameters
    ----------
    prior : array_like of shape (S,)
        Distribution of the state.
    sender_utility, receiver_utility : array_like of shape (S, A)
        :math:`u_S(s, a)` and :math:`u_R(s, a)`.
    """

    prior: np.ndarray
    sender_utility: np.ndarray
    receiver_utility: np.ndarray

    def __post_init__(self):
        prior = check_probability_vector("prior", self.prior)
        us = check_array("sender_utility", self.sender_utility, ndim=2)
        ur = check_array("receiver_utility", self.receiver_utility, ndim=2)
        if us.shape[0] != prior.size or us.shape[1] == 0:
            raise InvalidInstanceError(f"sender_utility: expected shape (S, A) = ({prior.size}, A >= 1) for the "
                                       f"prior's {prior.size} states, found {us.shape}", "sender_utility")
        if ur.shape != us.shape:
            raise InvalidInstanceError(f"receiver_utility: expected the shape of sender_utility {us.shape}, found "
                                       f"{ur.shape}", "receiver_utility")
        object.__setattr__(self, "prior", _readonly(prior))
        object.__setattr__(self, "sender_utility", _readonly(us))
        object.__setattr__(self, "receiver_utility", _readonly(ur))

    @property
    def n_states(self) -> int:
        return self.prior.size

    @property
    def n_actions(self) -> int:
        return self.sender_utility.shape[1]


@dataclass(frozen=True, eq=False)
class SignallingScheme:
    """A direct scheme: ``scheme[s, a]`` = probability of recommending ``a`` in state ``s`` (rows sum to 1)."""

    scheme: np.ndarray

    def __post_init__(self):
        arr = check_array("scheme", self.scheme, ndim=2)
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise InvalidInstanceError(f"scheme: expected at least one state and one action, found shape {arr.shape}",
                                       "scheme")
        arr = check_stochastic("scheme", arr, axis=1)
        object.__setattr__(self, "scheme", _readonly(arr))


def _check_instance(instance) -> PersuasionInstance:
    if not isinstance(instance, PersuasionInstance):
        raise InvalidInstanceError(f"instance: expected a PersuasionInstance, found {type(instance).__name__}",
                                   "instance")
    return instance


def _check_scheme(instance: PersuasionInstance, scheme) -> np.ndarray:
    if isinstance(scheme, SignallingScheme):
        arr = scheme.scheme
    elif scheme is None or isinstance(scheme, (str, bytes)):
        raise InvalidInstanceError(f"scheme: expected a SignallingScheme or an (S, A) array, found {scheme!r}",
                                   "scheme")
    else:
        arr = SignallingScheme(scheme).scheme
    if arr.shape != (instance.n_states, instance.n_actions):
        raise InvalidInstanceError(f"scheme: expected shape (S, A) = ({instance.n_states}, {instance.n_actions}), "
                                   f"found {arr.shape}", "scheme")
    return arr


def receiver_best_response(instance: PersuasionInstance, posterior) -> int:
    """The receiver's best action at ``posterior`` (shape (S,)), ties broken for the sender (then lowest index)."""
    instance = _check_instance(instance)
    post = check_probability_vector("posterior", posterior, size=instance.n_states)
    return int(_best_responses(instance, post[None, :])[0])


def _best_responses(instance: PersuasionInstance, posteriors: np.ndarray) -> np.ndarray:
    """Sender-preferred best responses to each row of ``posteriors`` (m, S)."""
    ur = posteriors @ instance.receiver_utility                       # (m, A)
    us = posteriors @ instance.sender_utility
    best = ur.max(axis=1, keepdims=True)
    scale = np.maximum(np.abs(instance.receiver_utility).max(), np.finfo(float).tiny)
    tied = ur >= best - TIE_TOL * scale
    return np.argmax(np.where(tied, us, -np.inf), axis=1)


def evaluate_scheme(instance: PersuasionInstance, scheme) -> dict:
    """Exact sender and receiver values of any scheme, the receiver best-responding to every posterior.

    Returns
    -------
    dict
        ``sender_value``, ``receiver_value``, and ``actions`` (the receiver's action after each
        recommendation; -1 for recommendations never sent).
    """
    instance = _check_instance(instance)
    pi = _check_scheme(instance, scheme)
    joint = instance.prior[:, None] * pi                              # (S, A): P(s, a recommended)
    mass = joint.sum(axis=0)
    sent = mass > 0
    actions = np.full(instance.n_actions, -1)
    sender = receiver = 0.0
    if np.any(sent):
        posteriors = (joint[:, sent] / mass[sent]).T                  # (m, S)
        br = _best_responses(instance, posteriors)
        actions[sent] = br
        sender = float(np.sum(joint[:, sent] * instance.sender_utility[:, br]))
        receiver = float(np.sum(joint[:, sent] * instance.receiver_utility[:, br]))
    return {"sender_value": sender, "receiver_value": receiver, "actions": actions}


@dataclass(frozen=True)
class ObedienceAudit:
    """Worst obedience violation: recommended ``action``, better ``deviation``, ``max_gain`` (in prior-weighted
    utility units, i.e. the gain times the probability of the recommendation); ``is_obedient`` at ``atol``."""

    max_gain: float
    action: int
    deviation: int
    atol: float
    is_obedient: bool

    def __str__(self) -> str:
        if self.is_obedient:
            return f"obedient (max gain {self.max_gain:.3g})"
        return (f"not obedient: recommended action {self.action}, the receiver gains {self.max_gain:.3g} by "
                f"taking {self.deviation}")


def audit_obedience(instance: PersuasionInstance, scheme, atol: float = 1e-7) -> ObedienceAudit:
    """Exact obedience audit of a direct scheme over every recommendation and deviation."""
    instance = _check_instance(instance)
    pi = _check_scheme(instance, scheme)
    atol = check_nonnegative("atol", atol)
    joint = instance.prior[:, None] * pi                              # (S, A)
    Q = joint.T @ instance.receiver_utility                            # Q[a, a'] = sum_s mu pi(a|s) u_R(s, a')
    gain = Q - np.diag(Q)[:, None]
    a, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    g = max(float(gain[a, b]), 0.0)
    return ObedienceAudit(g, int(a), int(b), atol, g <= atol)


def no_information_value(instance: PersuasionInstance) -> float:
    """Sender's value when nothing is revealed (the receiver acts on the prior)."""
    instance = _check_instance(instance)
    return evaluate_scheme(instance, np.eye(instance.n_actions)[np.zeros(instance.n_states, dtype=int)])[
        "sender_value"]


def full_information_value(instance: PersuasionInstance) -> float:
    """Sender's value when the state is revealed (sender-preferred ties)."""
    instance = _check_instance(instance)
    br = _best_responses(instance, np.eye(instance.n_states))
    return float(instance.prior @ instance.sender_utility[np.arange(instance.n_states), br])


def concavified_value(instance: PersuasionInstance) -> float:
    """Optimal sender value for two states: the concave envelope of ``v_hat`` at the prior (closed form)."""
    instance = _check_instance(instance)
    if instance.n_states != 2:
        raise InvalidInstanceError(f"instance: expected two states for the concavification formula, found "
                                   f"{instance.n_states}", "instance")
    u0, u1 = instance.receiver_utility
    points = {0.0, 1.0}
    A = instance.n_actions
    for a in range(A):                                    # where two actions' lines cross in p in [0, 1]
        for b in range(a + 1, A):
            slope = (u1[a] - u0[a]) - (u1[b] - u0[b])
            if slope != 0:
                p = (u0[b] - u0[a]) / slope
                if 0.0 <= p <= 1.0:
                    points.add(float(p))
    ps = np.array(sorted(points))
    posts = np.stack([1 - ps, ps], axis=1)
    br = _best_responses(instance, posts)
    vals = posts @ instance.sender_utility
    vhat = vals[np.arange(ps.size), br]
    p0 = float(instance.prior[1])
    best = -np.inf
    for i in range(ps.size):                               # the best chord over the prior
        for j in range(i, ps.size):
            lo, hi = ps[i], ps[j]
            if lo <= p0 + PROBABILITY_ATOL and p0 - PROBABILITY_ATOL <= hi:
                if hi - lo <= 0:
                    v = vhat[i]
                else:
                    w = min(max((p0 - lo) / (hi - lo), 0.0), 1.0)
                    v = (1 - w) * vhat[i] + w * vhat[j]
                best = max(best, v)
    return float(best)
