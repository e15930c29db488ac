"""Regret matching and RM+ for repeated games, with self-play exploitability; see :mod:`mechsim.learners`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import accumulate
from math import fsum
from operator import add, mul

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.learners import _core
from mechsim.learners._core import (
    SMALL_K,
    LearnerTrace,
    _best_so_far,
    _check_matrix,
    _check_mean,
    _draw,
    _pick,
    _sample_rows,
)
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_integer,
    check_probability_vector,
)

__all__ = ["RegretMatching", "exploitability", "SelfPlayResult", "regret_matching_self_play"]



class RegretMatching:
    """Regret matching (Hart and Mas-Colell) and regret matching+ for repeated games.

    Parameters
    ----------
    n_actions : int
        Number of actions ``K >= 1``.
    plus : bool
        Regret matching+: floor the cumulative regrets at zero after every update.
    seed : int or Generator, optional
        Randomness of :meth:`act`.

    Notes
    -----
    :meth:`update` takes the utility of *every* action this round (full information, e.g. the column of a
    payoff matrix against the opponent's action or mixed strategy); utilities may be any finite numbers.
    :attr:`average_strategy` is the uniform average of the strategies played, the object that converges to
    equilibrium in zero-sum self-play.

    Examples
    --------
    Against a fixed opponent sequence in matching pennies (the row player wins by matching), where the
    opponent plays action 0 in about 70% of the rounds, regret matching learns to play action 0:

    >>> import numpy as np
    >>> payoff = np.array([[1.0, -1.0], [-1.0, 1.0]])
    >>> opponent = (np.random.default_rng(0).random(5000) < 0.3).astype(int)
    >>> rm = RegretMatching(2, seed=0)
    >>> trace = rm.run(payoff[:, opponent].T)   # utilities of both actions in every round
    >>> bool(rm.average_strategy[0] > 0.9)
    True
    """

    def __init__(self, n_actions: int, plus: bool = False, seed=None):
        self.n_actions = check_integer("n_actions", n_actions, minimum=1)
        check_allocation("n_actions", 3 * 8.0 * self.n_actions, f"{self.n_actions} actions' float64 state")
        self.plus = bool(plus)
        self._rng = as_generator(seed)
        self._small = self.n_actions <= SMALL_K
        k = self.n_actions
        self._regrets = [0.0] * k if self._small else np.zeros(k)
        self._strategy_sum = [0.0] * k if self._small else np.zeros(k)
        self.t = 0

    @property
    def regrets(self) -> np.ndarray:
        """Cumulative regrets (floored at zero for RM+), shape (K,)."""
        return np.array(self._regrets, dtype=float)

    def _strategy(self):
        """Current strategy (list for small K, array otherwise)."""
        k = self.n_actions
        if self._small:
            pos = self._regrets if self.plus else [v if v > 0.0 else 0.0 for v in self._regrets]
            s = fsum(pos)
            return [v / s for v in pos] if s > 0.0 else [1.0 / k] * k
        pos = np.maximum(self._regrets, 0.0)
        s = math.fsum(pos)
        return pos / s if s > 0.0 else np.full(k, 1.0 / k)

    @property
    def probabilities(self) -> np.ndarray:
        """Strategy for the next round (proportional to the positive regrets), shape (K,)."""
        return np.array(self._strategy(), dtype=float)

    @property
    def average_strategy(self) -> np.ndarray:
        """Uniform average of the strategies played so far (uniform before the first update)."""
        if self.t == 0:
            return np.full(self.n_actions, 1.0 / self.n_actions)
        return np.array(self._strategy_sum, dtype=float) / self.t

    def act(self) -> int:
        """Sample an action from :attr:`probabilities`."""
        p = self._strategy()
        return _draw(p, self._rng.random(), self._small)

    def update(self, utilities) -> None:
        """Observe the utility of every action this round (shape (K,), finite)."""
        u = check_array("utilities", utilities, ndim=1, shape=(self.n_actions,))
        self._check_no_overflow(u)
        self._step(u.tolist() if self._small else u)

    def _check_no_overflow(self, x: np.ndarray) -> None:
        """Refuse utilities whose cumulative regrets would overflow float64 (they would turn into NaN).

        One round moves a regret by at most ``2 max |u|``, so ``max |R| + 2 sum_t max_i |u_t,i|`` bounds
        every regret of the run.
        """
        with np.errstate(over="ignore"):
            bound = float(np.max(np.abs(self._regrets), initial=0.0)) + 2.0 * float(
                np.sum(np.max(np.abs(x.reshape(-1, self.n_actions)), axis=1)))
        if not np.isfinite(bound):
            raise InvalidInstanceError(
                "utilities: expected values whose cumulative regrets stay finite in float64 (|u| summed over "
                f"rounds below about 1e307), found max |u| = {float(np.max(np.abs(x))):.3g} over "
                f"{x.size // self.n_actions} round(s); rescale the utilities", "utilities")

    def _step(self, u, sigma=None) -> float:
        """One update without validation; returns the expected utility of the strategy played."""
        if sigma is None:
            sigma = self._strategy()
        if self._small:
            value = fsum(map(mul, sigma, u))
            self._regrets = [(ri + ui) - value for ri, ui in zip(self._regrets, u)]
            if self.plus:
                self._regrets = [v if v > 0.0 else 0.0 for v in self._regrets]
            self._strategy_sum = list(map(add, self._strategy_sum, sigma))
        else:
            value = math.fsum(sigma * u)
            self._regrets = self._regrets + u - value
            if self.plus:
                self._regrets = np.maximum(self._regrets, 0.0)
            self._strategy_sum = self._strategy_sum + sigma
        self.t += 1
        return value

    def run(self, utilities, *, mean_utilities=None, sample_actions: bool = True) -> LearnerTrace:
        """Play ``T`` rounds against a fixed sequence of utility vectors (e.g. an opponent's fixed sequence).

        Equivalent, bitwise, to ``T`` times ``act(); update(utilities[t])``.

        Parameters
        ----------
        utilities : array, shape (T, K), finite
        mean_utilities : array, shape (K,), optional
            Mean utilities of a stochastic environment (fills ``trace.mean_expected``).
        sample_actions : bool
            Also sample actions (consumes ``T`` uniforms).
        """
        x = _check_matrix("utilities", utilities, self.n_actions, None, None)
        self._check_no_overflow(x)
        mu = _check_mean("mean_utilities", mean_utilities, self.n_actions, None, None)
        mu_list = mu.tolist() if mu is not None else None
        mean_expected = np.empty(x.shape[0]) if mu is not None else None
        n = x.shape[0]
        uniforms = self._rng.random(n) if sample_actions else None
        actions = np.empty(n, dtype=np.int64) if sample_actions else None
        expected = np.empty(n)
        best, _ = _best_so_far(x, np.zeros(self.n_actions), gain=True)
        if self._small:
            self._run_small(x, uniforms, actions, expected, mu_list, mean_expected)
        else:
            for i in range(n):
                sigma = self._strategy()
                if sample_actions:
                    actions[i] = _sample_rows(sigma[None, :], uniforms[i:i + 1])[0]
                expected[i] = self._step(x[i], sigma)
                if mu is not None:
                    mean_expected[i] = math.fsum(sigma * mu)
        realised = x[np.arange(n), actions] if sample_actions else None
        return LearnerTrace(actions, expected, realised, mean_expected, x.sum(axis=0), best, gain=True)

    def _run_small(self, x, uniforms, actions, expected, mu_list, mean_expected) -> None:
        # The statements below are those of act() + _strategy() + _step() (same floating-point operations
        # in the same order), inlined to remove per-round call overhead.
        k = self.n_actions
        plus = self.plus
        uniform = [1.0 / k] * k
        regrets, strategy_sum = self._regrets, self._strategy_sum
        for lo in range(0, x.shape[0], _core._CHUNK):
            rows = x[lo:lo + _core._CHUNK].tolist()
            us = uniforms[lo:lo + _core._CHUNK].tolist() if uniforms is not None else None
            values, picks, means = [], [], []
            for j, row in enumerate(rows):
                pos = regrets if plus else [v if v > 0.0 else 0.0 for v in regrets]
                total = fsum(pos)
                sigma = [v / total for v in pos] if total > 0.0 else uniform
                if us is not None:
                    picks.append(_pick(list(accumulate(sigma)), us[j], sigma))
                value = fsum(map(mul, sigma, row))
                regrets = [(ri + ui) - value for ri, ui in zip(regrets, row)]
                if plus:
                    regrets = [v if v > 0.0 else 0.0 for v in regrets]
                strategy_sum = list(map(add, strategy_sum, sigma))
                values.append(value)
                if mu_list is not None:
                    means.append(fsum(map(mul, sigma, mu_list)))
            hi = lo + len(rows)
            expected[lo:hi] = values
            if us is not None:
                actions[lo:hi] = picks
            if mu_list is not None:
                mean_expected[lo:hi] = means
        self._regrets, self._strategy_sum = regrets, strategy_sum
        self.t += x.shape[0]


def _check_payoffs(payoff_a) -> np.ndarray:
    a = check_array("payoff_a", payoff_a, ndim=2)
    if a.size == 0:
        raise InvalidInstanceError(f"payoff_a: expected a game with at least one action per player, found shape "
                                   f"{a.shape}", "payoff_a")
    return a


def exploitability(strategy_a, strategy_b, payoff_a, payoff_b=None) -> float:
    """Sum over both players of the gain from deviating to a best response (NashConv).

    Player A (rows) maximises ``x^T A y``, player B (columns) maximises ``x^T B y``; ``payoff_b=None`` means
    zero-sum (``B = -A``), where this is the duality gap ``max_i (A y)_i - min_j (x^T A)_j``.  Zero exactly at a
    Nash equilibrium.
    """
    a = _check_payoffs(payoff_a)
    b = -a if payoff_b is None else check_array("payoff_b", payoff_b, ndim=2, shape=a.shape)
    x = check_probability_vector("strategy_a", strategy_a)
    y = check_probability_vector("strategy_b", strategy_b)
    for name, p, size, axis in (("strategy_a", x, a.shape[0], "rows"), ("strategy_b", y, a.shape[1], "columns")):
        if p.shape != (size,):
            raise InvalidInstanceError(f"{name}: expected shape ({size},), one entry per {axis[:-1]} of payoff_a "
                                       f"({a.shape[0]} rows, {a.shape[1]} columns), found shape {p.shape}", name)
    ay = a @ y
    xb = x @ b
    return float((ay.max() - x @ ay) + (xb.max() - xb @ y))


@dataclass(frozen=True)
class SelfPlayResult:
    """Outcome of :func:`regret_matching_self_play`.

    Attributes
    ----------
    average_a, average_b : ndarray
        Average strategies of the row and column player.
    exploitability : float
        :func:`exploitability` of the average strategy profile (the duality gap in zero-sum games).
    value : float
        Row player's expected payoff ``x_bar^T A y_bar`` under the average profile.
    checkpoints : ndarray of int
        Rounds at which the exploitability was recorded.
    exploitability_curve : ndarray
        Exploitability of the average profile after each checkpoint round.
    """

    average_a: np.ndarray
    average_b: np.ndarray
    exploitability: float
    value: float
    checkpoints: np.ndarray
    exploitability_curve: np.ndarray


def regret_matching_self_play(payoff_a, payoff_b=None, rounds: int = 10_000, *, plus: bool = False,
                              checkpoints=None, initial_strategies=None) -> SelfPlayResult:
    """Two regret matchers play a bimatrix game against each other's mixed strategies.

    Each round both players play their current strategies ``x_t, y_t`` simultaneously and update with the
    expected utility of every action against the opponent's mixed strategy (``A y_t`` and ``B^T x_t``), so
    the dynamics are deterministic.  In two-player zero-sum games the average strategies converge to a Nash
    equilibrium with exploitability ``O(sqrt(K / T))`` (the sum of both players' average regrets bounds
    the duality gap); in general-sum games only the empirical joint play converges (to coarse correlated
    equilibria) and the exploitability of the averages need not vanish.

    Parameters
    ----------
    payoff_a : array, shape (n, m)
        Row player's payoffs.
    payoff_b : array, shape (n, m), optional
        Column player's payoffs; ``None`` for zero-sum (``-payoff_a``).
    rounds : int
        Number of rounds ``T >= 1``.
    plus : bool
        Use regret matching+ for both players.
    checkpoints : array of int, optional
        Rounds at which to record the exploitability (default: about 20 log-spaced rounds up to ``T``).
    initial_strategies : (array, array), optional
        First-round strategies ``(x_1, y_1)``, implemented as initial cumulative regrets equal to them
        (so they also tilt the early rounds).  Default uniform, which is already the equilibrium of
        symmetric games such as rock-paper-scissors: pass an off-equilibrium start to see convergence.

    Returns
    -------
    SelfPlayResult
    """
    a = _check_payoffs(payoff_a)
    b = -a if payoff_b is None else check_array("payoff_b", payoff_b, ndim=2, shape=a.shape)
    rounds = check_integer("rounds", rounds, minimum=1)
    if checkpoints is None:
        checkpoints = np.unique(np.geomspace(1, rounds, num=20).round().astype(int))
    else:
        checkpoints = np.unique(check_array("checkpoints", checkpoints, ndim=1, dtype=np.int64))
        if checkpoints.size and (checkpoints.min() < 1 or checkpoints.max() > rounds):
            raise InvalidInstanceError(f"checkpoints: expected rounds in [1, {rounds}], found "
                                       f"[{checkpoints.min()}, {checkpoints.max()}]", argument="checkpoints")
    n, m = a.shape
    row, col = RegretMatching(n, plus=plus), RegretMatching(m, plus=plus)
    if initial_strategies is not None:
        x0, y0 = initial_strategies
        x0 = check_probability_vector("initial_strategies[0]", x0, size=n)
        y0 = check_probability_vector("initial_strategies[1]", y0, size=m)
        row._regrets = x0.tolist() if row._small else x0.copy()
        col._regrets = y0.tolist() if col._small else y0.copy()
    bt = np.ascontiguousarray(b.T)
    curve = []
    marks = set(int(c) for c in checkpoints)
    for t in range(1, rounds + 1):
        x = np.asarray(row._strategy(), dtype=float)
        y = np.asarray(col._strategy(), dtype=float)
        ua, ub = a @ y, bt @ x
        row._step(ua.tolist() if row._small else ua)
        col._step(ub.tolist() if col._small else ub)
        if t in marks:
            curve.append(exploitability(row.average_strategy, col.average_strategy, a, b))
    xa, yb = row.average_strategy, col.average_strategy
    return SelfPlayResult(xa, yb, exploitability(xa, yb, a, b), float(xa @ a @ yb), checkpoints,
                          np.asarray(curve))
