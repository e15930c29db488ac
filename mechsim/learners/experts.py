"""Hedge: exponential weights with full information (see :mod:`mechsim.learners` for the maths)."""

from __future__ import annotations

import math

import numpy as np

from mechsim.learners import _core
from mechsim.learners._core import (
    LearnerTrace,
    _best_so_far,
    _check_matrix,
    _check_mean,
    _sample_rows,
    _softmax_rows,
)
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
    check_positive,
)

__all__ = ["Hedge"]



class Hedge:
    """Exponentially weighted average forecaster (Hedge) with full-information losses in [0, 1].

    Parameters
    ----------
    n_actions : int
        Number of actions ``K >= 1``.
    learning_rate : float, optional
        Fixed rate ``eta > 0``.  Overrides ``horizon``-tuning.
    horizon : int, optional
        Known number of rounds ``T``; sets ``eta = sqrt(8 ln K / T)`` (regret <= ``sqrt(T ln K / 2)``).
        Playing past the horizon keeps that rate.
    seed : int or Generator, optional
        Randomness of :meth:`act` (sampling from :attr:`probabilities`).

    Without ``learning_rate`` and ``horizon`` the anytime rate ``eta_t = sqrt(8 ln K / t)`` is used in round
    ``t``.

    Examples
    --------
    >>> h = Hedge(3, horizon=100, seed=1)
    >>> a = h.act()
    >>> h.update([0.0, 1.0, 0.5])
    >>> h.probabilities.round(3)
    array([0.384, 0.285, 0.331])
    """

    def __init__(self, n_actions: int, learning_rate: float | None = None, horizon: int | None = None,
                 seed=None):
        self.n_actions = check_integer("n_actions", n_actions, minimum=1)
        check_allocation("n_actions", 3 * 8.0 * self.n_actions, f"{self.n_actions} actions' float64 state")
        self.horizon = None if horizon is None else check_integer("horizon", horizon, minimum=1)
        if learning_rate is not None:
            learning_rate = check_positive("learning_rate", learning_rate)
        elif self.horizon is not None:
            learning_rate = math.sqrt(8.0 * math.log(self.n_actions) / self.horizon)
        self.learning_rate = learning_rate
        self._rng = as_generator(seed)
        self.cumulative_losses = np.zeros(self.n_actions)
        self.t = 0  # rounds completed

    def _rates(self, start: int, count: int) -> np.ndarray:
        """Rates of rounds ``start + 1 .. start + count`` as a column vector."""
        if self.learning_rate is not None:
            return np.full((count, 1), self.learning_rate)
        rounds = np.arange(start + 1, start + count + 1, dtype=float)
        return np.sqrt(8.0 * math.log(self.n_actions) / rounds)[:, None]

    @property
    def probabilities(self) -> np.ndarray:
        """Distribution played in the next round, shape (K,)."""
        return _softmax_rows(self._rates(self.t, 1) * self.cumulative_losses[None, :])[0]

    def act(self) -> int:
        """Sample an action from :attr:`probabilities`."""
        p = self.probabilities[None, :]
        return int(_sample_rows(p, np.array([self._rng.random()]))[0])

    def update(self, losses) -> None:
        """Observe the loss vector of this round (shape (K,), entries in [0, 1])."""
        x = check_in_range("losses", check_array("losses", losses, ndim=1, shape=(self.n_actions,)), 0.0, 1.0)
        self.cumulative_losses = self.cumulative_losses + x
        self.t += 1

    def run(self, losses, *, mean_losses=None, sample_actions: bool = True) -> LearnerTrace:
        """Play ``T`` rounds against a whole loss matrix at once (vectorised, no per-round Python loop).

        Equivalent to ``T`` times ``act(); update(losses[t])`` and leaves the learner in the same state.

        Parameters
        ----------
        losses : array, shape (T, K), entries in [0, 1]
        mean_losses : array, shape (K,), optional
            Mean loss vector of a stochastic environment; fills ``trace.mean_expected`` for pseudo-regret.
        sample_actions : bool
            Also sample the actions (consumes ``T`` uniforms from the learner's generator).
        """
        x = _check_matrix("losses", losses, self.n_actions, 0.0, 1.0)
        mu = _check_mean("mean_losses", mean_losses, self.n_actions)
        n = x.shape[0]
        uniforms = self._rng.random(n) if sample_actions else None
        expected = np.empty(n)
        mean_expected = np.empty(n) if mu is not None else None
        actions = np.empty(n, dtype=np.int64) if sample_actions else None
        best, _ = _best_so_far(x, np.zeros(self.n_actions), gain=False)
        for lo in range(0, n, _core._CHUNK):
            block = x[lo:lo + _core._CHUNK]
            m = block.shape[0]
            # prefix sums including the carried state: row j is L before round lo + j (sequential adds,
            # hence bitwise equal to the per-round path)
            prefix = np.cumsum(np.vstack([self.cumulative_losses, block]), axis=0)
            probs = _softmax_rows(self._rates(self.t, m) * prefix[:-1])
            expected[lo:lo + m] = (probs * block).sum(axis=1)
            if mu is not None:
                mean_expected[lo:lo + m] = probs @ mu
            if sample_actions:
                actions[lo:lo + m] = _sample_rows(probs, uniforms[lo:lo + m])
            self.cumulative_losses = prefix[-1]
            self.t += m
        realised = x[np.arange(n), actions] if sample_actions else None
        return LearnerTrace(actions, expected, realised, mean_expected, x.sum(axis=0), best, gain=False)
