r"""Exact evaluation and incentive audit of hiring mechanisms.

Incentive compatibility (obedience and truthful reporting, others obedient and truthful).  Agent
*i*, recommended :math:`b_i` with :math:`\phi_i(b_i) = \sum_{b_{-i}} \phi(b_i, b_{-i}) > 0`, who
instead exerts :math:`b'_i` and reports :math:`\omega(s_i)` for some map :math:`\omega: S_i \to
S_i`, gains

.. math::

    G_i(b_i, b'_i, \omega) = \frac{1}{\phi_i(b_i)} \Big[
        \sum_{b_{-i}} \phi(b) \sum_{s,\theta} q_{(b'_i, b_{-i})}(s,\theta)\,
            \gamma_i(b, (\omega(s_i), s_{-i}), \theta)
        - \sum_{b_{-i}} \phi(b) \sum_{s,\theta} q_b(s,\theta)\, \gamma_i(b, s, \theta)
        - \phi_i(b_i) \big(c_i(b'_i) - c_i(b_i)\big) \Big]

(the expected gain conditional on the recommendation :math:`b_i`).  The mechanism is IC when
:math:`\max G \le` ``atol``.  The maximum over the :math:`|S_i|^{|S_i|}` maps is computed exactly
without enumerating them: the deviation payoff is :math:`\sum_{s_i} f(s_i, \omega(s_i))` with

.. math::  f_{b_i b'_i}(s_i, s'_i) = \sum_{b_{-i}, s_{-i}, \theta} \phi(b)\,
           q_{(b'_i, b_{-i})}((s_i, s_{-i}), \theta)\, \gamma_i(b, (s'_i, s_{-i}), \theta),

so the best map picks :math:`\arg\max_{s'_i} f(s_i, s'_i)` for every true signal separately.  One
matrix product per agent gives every :math:`f` at once.  :func:`audit_incentives_brute_force`
enumerates all maps instead and serves as the test oracle on tiny instances.

Limited liability and the caps are audited alongside: agent *i*'s payments on recommended profiles must lie
in :math:`[0, M_i]` (its own cap, :attr:`~mechsim.hiring.HiringInstance.payment_caps`); the audit reports the
largest excess and whose it is (:attr:`IncentiveAudit.limit_excess`, :attr:`IncentiveAudit.respects_limits`),
without mixing it into ``is_ic`` (an audit can examine mechanisms outside the limited-liability set).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.hiring.model import (
    HiringInstance,
    Mechanism,
    _principal_value,
    check_hiring_instance,
    check_mechanism,
    limit_excess,
)
from mechsim.validation import check_integer, check_nonnegative

__all__ = [
    "IncentiveAudit",
    "evaluate_mechanism",
    "audit_incentives",
    "is_incentive_compatible",
    "audit_incentives_brute_force",
]


def evaluate_mechanism(instance: HiringInstance, mechanism: Mechanism) -> float:
    r"""The principal's expected utility under obedience and truthful reporting, from the arrays.

    .. math::  \sum_b \phi(b) \sum_{s,\theta} q_b(s,\theta)
               \Big[\sum_a \pi(a\mid b,s)\, u(a,\theta) - \sum_i \gamma_i(b,s,\theta)\Big]

    ``mechanism.value`` is ignored.
    """
    _check_pair(instance, mechanism)
    return _principal_value(
        instance, mechanism.recommendation, mechanism.payments, mechanism.decision
    )


@dataclass(frozen=True, eq=False)
class IncentiveAudit:
    """Result of an incentive audit.

    Attributes
    ----------
    max_gain : float
        Largest conditional gain :math:`G_i(b_i, b'_i, \\omega)` (per unit of :math:`\\phi_i(b_i)`)
        over all agents, recommended efforts with positive probability, deviation efforts and
        reporting maps. Never negative: obeying and reporting truthfully is itself a candidate (gain
        0).
    agent : int
        The agent achieving ``max_gain``.
    recommended_effort : int
        Its recommended effort :math:`b_i`.
    deviation_effort : int
        The effort it exerts instead (equal to ``recommended_effort`` for a pure misreport).
    reporting_map : ndarray of int, shape ``(n_signals[agent],)``
        The best reporting map: ``reporting_map[s]`` is reported on observing ``s`` (truthful where
        truth is among the best reports).
    profile : tuple of int
        The recommended profile :math:`(b_i, b_{-i})` with :math:`\\phi(b) > 0` that contributes
        most to the gain (where the deviation hurts the mechanism most).
    gains : tuple of ndarray
        ``gains[i][b, b']``: the best gain of agent *i* recommended ``b`` who exerts ``b'``
        (maximised over reporting maps); ``-inf`` where :math:`\\phi_i(b) = 0` (no constraint).
    atol : float
        Tolerance used for ``is_ic`` and ``respects_limits``.
    is_ic : bool
        ``max_gain <= atol``.
    limit_excess : float
        The most by which a payment on a recommended profile leaves its agent's interval ``[0, M_i]``
        (0 when none does).
    limit_agent : int
        The agent whose payment leaves its interval by ``limit_excess`` (-1 when none does).
    respects_limits : bool
        ``limit_excess <= atol``: limited liability and every agent's own cap hold.
    """

    max_gain: float
    agent: int
    recommended_effort: int
    deviation_effort: int
    reporting_map: np.ndarray
    profile: tuple
    gains: tuple
    atol: float
    is_ic: bool
    limit_excess: float = 0.0
    limit_agent: int = -1
    respects_limits: bool = True

    @property
    def is_truthful_report(self) -> bool:
        """Whether the worst deviation reports truthfully (a pure effort deviation)."""
        return bool(np.array_equal(self.reporting_map, np.arange(self.reporting_map.size)))

    @property
    def effort_margin(self) -> float:
        """``-max gain`` over effort deviations (``b' != b``): the least any effort deviation loses.

        ``inf`` when no agent has an alternative effort.
        """
        worst = -np.inf
        for g in self.gains:
            off = g[~np.eye(g.shape[0], dtype=bool)]
            if off.size:
                worst = max(worst, off.max())
        return float(-worst)

    def __str__(self):
        verdict = "IC" if self.is_ic else "NOT IC"
        limits = "" if self.respects_limits else (
            f"; OUTSIDE LIMITS: agent {self.limit_agent} is paid {self.limit_excess:.3g} outside [0, its cap]")
        return (
            f"{verdict} (atol {self.atol:g}): max gain {self.max_gain:.3g} by agent {self.agent} "
            f"recommended effort {self.recommended_effort}, exerting {self.deviation_effort}, "
            "reporting "
            f"map {self.reporting_map.tolist()}, at profile {self.profile}{limits}"
        )

    __repr__ = __str__


def _check_pair(instance, mechanism) -> None:
    check_mechanism("mechanism", mechanism).check_compatible(check_hiring_instance("instance", instance))


def _agent_axes(n: int, i: int) -> list[int]:
    """Axis order (b_i, b_-i, s_i, s_-i, theta) of a ``(*n_efforts, *n_signals, n_states)``."""
    others = [j for j in range(n) if j != i]
    return [i, *others, n + i, *(n + j for j in others), 2 * n]


def _deviation_tensor(joint: np.ndarray, recommendation: np.ndarray, payments_i: np.ndarray, i: int):
    """``f[b, b', s, s']`` of the module docstring for agent ``i`` and its reshaped ingredients.

    ``joint`` is any non-negative ``(*n_efforts, *n_signals, n_states)`` array (true or estimated),
    ``payments_i`` agent ``i``'s payments of the same shape.
    """
    n = recommendation.ndim
    B, S = joint.shape[i], joint.shape[n + i]
    axes = _agent_axes(n, i)
    R = recommendation.size // B
    q = np.transpose(joint, axes).reshape(B, R, S, -1)  # (b_i, b_-i, s_i, (s_-i, theta))
    weighted = payments_i * recommendation.reshape(recommendation.shape + (1,) * (n + 1))
    pg = np.transpose(weighted, axes).reshape(B, R, S, -1)
    K = q.shape[-1]
    left = np.transpose(q, (0, 2, 1, 3)).reshape(B * S, R * K)  # rows (b', s)
    right = np.transpose(pg, (0, 2, 1, 3)).reshape(B * S, R * K)  # rows (b, s')
    f = (left @ right.T).reshape(B, S, B, S).transpose(2, 0, 1, 3)  # (b, b', s, s')
    return f, q, pg


def _reporting_map(f_row: np.ndarray) -> np.ndarray:
    """Best report per true signal, preferring the truth among (numerically) tied reports."""
    best = f_row.max(axis=1)
    omega = f_row.argmax(axis=1)
    truthful = np.arange(f_row.shape[0])
    tie = f_row[truthful, truthful] >= best - 1e-15 * max(1.0, float(np.abs(best).max(initial=0.0)))
    omega[tie] = truthful[tie]
    return omega


def _finish(instance, mechanism, gains, maps, atol) -> IncentiveAudit:
    """Pick the worst (agent, b, b') and locate the offending profile."""
    n = instance.n_agents
    best = None
    for i, g in enumerate(gains):
        if np.all(np.isneginf(g)):
            continue
        b, p = np.unravel_index(np.argmax(g), g.shape)
        if best is None or g[b, p] > best[0]:
            best = (float(g[b, p]), i, int(b), int(p))
    gain, i, b, p = best
    omega = np.asarray(maps[i][b][p], dtype=int)
    # contribution of each b_-i to the gain, to name the profile where the deviation bites
    axes = _agent_axes(n, i)
    B, S = instance.n_efforts[i], instance.n_signals[i]
    R = instance.n_profiles // B
    q = np.transpose(instance.joint, axes).reshape(B, R, S, -1)
    phi = np.transpose(mechanism.recommendation, axes[:n]).reshape(B, R)
    pay = np.transpose(mechanism.payments[i], axes).reshape(B, R, S, -1)
    dev = (q[p] * pay[b][:, omega]).sum(axis=(1, 2))
    obey = (q[b] * pay[b]).sum(axis=(1, 2))
    contrib = phi[b] * (dev - obey - (instance.costs[i][p] - instance.costs[i][b]))
    contrib = np.where(phi[b] > 0, contrib, -np.inf)
    r = int(np.argmax(contrib))
    others_shape = [instance.n_efforts[j] for j in range(n) if j != i]
    rest = np.unravel_index(r, others_shape) if others_shape else ()
    profile = [0] * n
    profile[i] = b
    for j, v in zip([j for j in range(n) if j != i], rest):
        profile[j] = int(v)
    excess, limit_agent = limit_excess(instance, mechanism)
    return IncentiveAudit(
        max_gain=max(gain, 0.0),
        agent=i,
        recommended_effort=b,
        deviation_effort=p,
        reporting_map=omega,
        profile=tuple(profile),
        gains=tuple(g.copy() for g in gains),
        atol=float(atol),
        is_ic=bool(gain <= atol),
        limit_excess=excess,
        limit_agent=limit_agent,
        respects_limits=bool(excess <= atol),
    )


def audit_incentives(
    instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-7
) -> IncentiveAudit:
    r"""Exact incentive audit over all effort deviations and all reporting maps.

    Computes, for every agent *i*, recommended effort :math:`b_i` with :math:`\phi_i(b_i) > 0` and
    deviation effort :math:`b'_i`, the best conditional gain
    :math:`\max_\omega G_i(b_i, b'_i, \omega)` (module docstring) via the per-signal maximum, in
    :math:`O(|B_i|^2 |S_i|^2 |B_{-i}| |S_{-i}| |\Theta|)` per agent.

    Parameters
    ----------
    instance : HiringInstance
    mechanism : Mechanism
        Any mechanism with matching shapes (payments need not respect the caps: ``respects_limits`` says
        whether agent *i*'s lie in ``[0, M_i]``).
    atol : float, default 1e-7
        A mechanism is reported IC when the largest gain is at most ``atol``, and within its limits when no
        payment leaves them by more than ``atol``.

    Returns
    -------
    IncentiveAudit

    Examples
    --------
    >>> from mechsim.hiring import HiringInstance, Mechanism, audit_incentives
    >>> inst = HiringInstance.random(2, 2, 2, 2, 2, seed=1)
    >>> free_ride = Mechanism.build(inst, [[0, 0], [0, 1.0]], np.zeros((2, 2, 2, 2, 2, 2)))
    >>> audit = audit_incentives(inst, free_ride)   # unpaid effort: everybody shirks
    >>> audit.is_ic, audit.deviation_effort
    (False, 0)
    """
    _check_pair(instance, mechanism)
    atol = check_nonnegative("atol", atol)
    gains, maps = [], []
    for i, (raw, phi_i, f) in enumerate(incentive_rows(
            instance.joint, [instance.cost_differences(i) for i in range(instance.n_agents)],
            mechanism.recommendation, mechanism.payments)):
        B = instance.n_efforts[i]
        recommended = phi_i > 0
        g = np.full((B, B), -np.inf)
        g[recommended] = raw[recommended] / phi_i[recommended, None]
        gains.append(g)
        maps.append([[_reporting_map(f[b, p]) for p in range(B)] for b in range(B)])
    return _finish(instance, mechanism, gains, maps, atol)


def incentive_rows(joint, cost_differences, recommendation, payments):
    r"""The unconditional incentive rows of a mechanism on any (true or estimated) data, agent by agent.

    For agent *i* yields ``(raw, phi_i, f)``: ``raw[b, b'] = \phi_i(b)\, \max_\omega G_i(b, b', \omega)`` (the
    gain of the module docstring times the recommendation probability, so rows with :math:`\phi_i(b) = 0` are
    0), with ``cost_differences[i][b, b'] = c_i(b) - c_i(b')``; :math:`\phi_i`, shape ``(n_efforts_i,)``; and
    the deviation tensor ``f[b, b', s, s']``.  Arrays are taken as given (callers validate them).
    """
    n = recommendation.ndim
    for i in range(n):
        f, _, _ = _deviation_tensor(joint, recommendation, payments[i], i)
        B, S = joint.shape[i], joint.shape[n + i]
        phi_i = recommendation.sum(axis=tuple(j for j in range(n) if j != i))
        diag = np.arange(S)
        truthful = f[np.arange(B), np.arange(B)][:, diag, diag].sum(axis=1)  # (b,)
        deviate = f.max(axis=3).sum(axis=2)  # (b, b')
        # -C[b, b'] = c(b') - c(b) exactly (IEEE subtraction is antisymmetric)
        raw = deviate - truthful[:, None] - phi_i[:, None] * -np.asarray(cost_differences[i])
        yield raw, phi_i, f


def is_incentive_compatible(
    instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-7
) -> bool:
    """``audit_incentives(instance, mechanism, atol).is_ic``."""
    return audit_incentives(instance, mechanism, atol).is_ic


def audit_incentives_brute_force(
    instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-7, max_maps: int = 100_000
) -> IncentiveAudit:
    """The same audit by enumerating every reporting map ``S_i -> S_i`` (test oracle, tiny cases).

    Evaluates the deviation payoff of each (effort, map) directly from the definition, permuting the
    payment tensor along agent *i*'s report axis.  Raises :class:`~mechsim.errors.InvalidInstanceError` (a
    ``ValueError``) if an agent has more than ``max_maps`` maps.
    """
    _check_pair(instance, mechanism)
    atol = check_nonnegative("atol", atol)
    max_maps = check_integer("max_maps", max_maps, minimum=1)
    n = instance.n_agents
    q, phi = instance.joint, mechanism.recommendation
    phi_full = phi.reshape(phi.shape + (1,) * (n + 1))
    gains, maps = [], []
    for i in range(n):
        B, S = instance.n_efforts[i], instance.n_signals[i]
        if S**S > max_maps:
            raise InvalidInstanceError(
                f"instance: agent {i} has {S}^{S} reporting maps, more than max_maps={max_maps}",
                argument="instance",
            )
        others = tuple(j for j in range(2 * n + 1) if j != i)
        phi_i = phi.sum(axis=tuple(j for j in range(n) if j != i))
        pay = mechanism.payments[i]
        c = instance.costs[i]
        obey = (phi_full * q * pay).sum(axis=others)  # (b,) over b_i
        best = np.full((B, B), -np.inf)
        best_map = [[None] * B for _ in range(B)]
        identity = tuple(range(S))
        # truthful first so that ties keep the truthful map
        for omega in [identity] + [
            m for m in itertools.product(range(S), repeat=S) if m != identity
        ]:
            permuted = np.take(pay, omega, axis=n + i)
            for p in range(B):
                q_dev = np.take(q, [p] * B, axis=i)
                value = (phi_full * q_dev * permuted).sum(axis=others)  # (b,)
                for b in range(B):
                    if phi_i[b] > 0:
                        gain = (value[b] - obey[b] - phi_i[b] * (c[p] - c[b])) / phi_i[b]
                        if gain > best[b, p]:
                            best[b, p] = gain
                            best_map[b][p] = np.array(omega)
        gains.append(best)
        maps.append(best_map)
    return _finish(instance, mechanism, gains, maps, atol)
