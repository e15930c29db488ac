"""Textbook regret guarantees of the no-regret learners (see :mod:`mechsim.learners` for the statements)."""

from __future__ import annotations

import math

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_array, check_in_range, check_integer, check_positive


def _horizons(horizon, integer: bool = False) -> np.ndarray:
    """Horizons as a float array: finite, non-negative (integers >= 1 where the bound needs whole rounds)."""
    if horizon is None or isinstance(horizon, (str, bytes, bool)):
        raise InvalidInstanceError(f"horizon: expected a non-negative number or array of them, found {horizon!r}",
                                   "horizon")
    t = check_in_range("horizon", check_array("horizon", horizon), low=0.0)
    if integer and (np.any(t < 1) or np.any(t != np.round(t))):
        raise InvalidInstanceError(f"horizon: expected integers >= 1, found {horizon!r}", "horizon")
    return t

__all__ = ["hedge_regret_bound", "exp3_regret_bound", "regret_matching_regret_bound", "etc_regret_bound",
           "etc_exploration_length"]


def hedge_regret_bound(horizon, n_actions: int, learning_rate: float | None = None,
                       anytime: bool = False):
    """Worst-case regret bound of :class:`Hedge` for losses in [0, 1].

    Parameters
    ----------
    horizon : int or array of int
        Number of rounds ``T``.
    n_actions : int
        ``K``.
    learning_rate : float, optional
        A fixed rate ``eta``: bound ``ln K / eta + eta T / 8``.
    anytime : bool
        Bound of the anytime schedule ``eta_t = sqrt(8 ln K / t)``: ``sqrt(2 T ln K) + sqrt(ln K / 8)``.
        Default (neither): the horizon-tuned rate, bound ``sqrt(T ln K / 2)``.
    """
    t = _horizons(horizon)
    log_k = math.log(check_integer("n_actions", n_actions, minimum=1))
    if learning_rate is not None:
        learning_rate = check_positive("learning_rate", learning_rate)
        return log_k / learning_rate + learning_rate * t / 8.0
    if anytime:
        return np.sqrt(2.0 * t * log_k) + math.sqrt(log_k / 8.0)
    return np.sqrt(t * log_k / 2.0)


def exp3_regret_bound(horizon, n_actions: int, anytime: bool = False):
    """Pseudo-regret bound of :class:`Exp3` (oblivious adversary, losses in [0, 1]).

    ``sqrt(2 T K ln K)`` for the horizon-tuned rate, ``2 sqrt(T K ln K)`` for the anytime schedule.
    """
    t = _horizons(horizon)
    n_actions = check_integer("n_actions", n_actions, minimum=1)
    c = 2.0 if anytime else math.sqrt(2.0)
    return c * np.sqrt(t * n_actions * math.log(n_actions))


def regret_matching_regret_bound(horizon, n_actions: int, utility_range: float = 1.0):
    """Worst-case bound ``Delta sqrt(K T)`` on the largest cumulative regret of regret matching (and RM+)."""
    t = _horizons(horizon)
    n_actions = check_integer("n_actions", n_actions, minimum=1)
    return check_positive("utility_range", utility_range) * np.sqrt(t * n_actions)


def etc_exploration_length(horizon: int, n_arms: int) -> int:
    """Default number ``m`` of pulls per arm of :class:`ExploreThenCommit`.

    ``m = ceil((T/K)^(2/3) (ln T)^(1/3))``, at least 1 and at most ``max(1, T // K)``.  This equalises the
    exploration cost ``m K`` and the commit-phase cost ``2 T sqrt(ln T / m)`` up to constants, giving
    ``O(T^(2/3) K^(1/3) (ln T)^(1/3))`` pseudo-regret.
    """
    horizon = check_integer("horizon", horizon, minimum=1)
    n_arms = check_integer("n_arms", n_arms, minimum=1)
    m = math.ceil((horizon / n_arms) ** (2.0 / 3.0) * math.log(horizon) ** (1.0 / 3.0))
    return int(min(max(m, 1), max(1, horizon // n_arms)))


def etc_regret_bound(horizon, n_arms: int, exploration=None):
    """Pseudo-regret bound of :class:`ExploreThenCommit` with ``m`` pulls per arm, rewards in [0, 1].

    ``min(T, m (K - 1) + 2 (T - m K)_+ sqrt(ln T / m) + 2 K / T)`` (Hoeffding plus a union bound; see the
    module docstring).  ``exploration`` defaults to :func:`etc_exploration_length` for each horizon.
    """
    ts = np.atleast_1d(_horizons(horizon, integer=True))
    n_arms = check_integer("n_arms", n_arms, minimum=1)
    if exploration is not None:
        exploration = check_integer("exploration", exploration, minimum=1)
    out = []
    for t in ts:
        t = int(t)
        m = etc_exploration_length(t, n_arms) if exploration is None else int(exploration)
        commit = max(t - m * n_arms, 0)
        val = m * (n_arms - 1) + 2.0 * commit * math.sqrt(math.log(t) / m) + 2.0 * n_arms / t
        out.append(min(float(t), val))
    out = np.asarray(out)
    return out if np.ndim(horizon) else float(out[0])
