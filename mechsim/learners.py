r"""No-regret learners: Hedge, EXP3, regret matching and explore-then-commit.

Setting.  In round :math:`t = 1, \dots, T` a learner picks a distribution :math:`p_t` over :math:`K` actions,
the environment reveals a loss vector :math:`\ell_t \in [0, 1]^K` (full information) or only the loss
:math:`\ell_{t, a_t}` of the sampled action :math:`a_t \sim p_t` (bandit feedback), and the learner's
(expected-loss) regret against the best fixed action in hindsight is

.. math::

    R_T = \sum_{t=1}^T \langle p_t, \ell_t \rangle - \min_{i} \sum_{t=1}^T \ell_{t, i}.

Learners and the guarantees implemented here (each has a ``*_regret_bound`` function):

``Hedge`` (exponential weights, full information)
    :math:`p_{t, i} \propto \exp(-\eta_t L_{t-1, i})` with :math:`L_{t-1}` the cumulative loss.  With the
    horizon known, :math:`\eta = \sqrt{8 \ln K / T}` and :math:`R_T \le \sqrt{T \ln K / 2}` for *every*
    loss sequence; with an explicit fixed rate :math:`R_T \le \ln K / \eta + \eta T / 8`; without a horizon
    the anytime schedule :math:`\eta_t = \sqrt{8 \ln K / t}` gives
    :math:`R_T \le \sqrt{2 T \ln K} + \sqrt{\ln K / 8}` (Cesa-Bianchi and Lugosi 2006, Thms 2.2-2.3).
``Exp3`` (bandit feedback)
    The same exponential weights on importance-weighted loss estimates
    :math:`\tilde\ell_{t, i} = \ell_{t, i} \mathbf 1\{a_t = i\} / p_{t, i}` (unbiased).  Rate
    :math:`\eta = \sqrt{2 \ln K / (T K)}` with a known horizon, pseudo-regret
    :math:`\max_i \mathbb E[\sum_t \ell_{t, a_t} - \ell_{t, i}] \le \sqrt{2 T K \ln K}` against an oblivious
    adversary; anytime :math:`\eta_t = \sqrt{\ln K / (t K)}` gives :math:`2 \sqrt{T K \ln K}` (Bubeck and
    Cesa-Bianchi 2012, Thm 3.1).
``RegretMatching`` (repeated games, utilities)
    Play :math:`\sigma_t \propto (R_{t-1})_+`, the positive part of the cumulative regrets
    :math:`R_{t, i} = \sum_{s \le t} u_{s, i} - \langle \sigma_s, u_s \rangle` (uniform if none is positive).
    Blackwell approachability gives :math:`\max_i R_{T, i} \le \Delta \sqrt{K T}` for utilities in an interval
    of width :math:`\Delta` (Hart and Mas-Colell 2000).  ``plus=True`` is regret matching+ (regrets floored
    at zero after every update), same bound.  In two-player zero-sum self-play the average strategies
    converge to a Nash equilibrium: :func:`regret_matching_self_play` reports the exploitability.
``ExploreThenCommit`` (stochastic bandits, rewards)
    Pull every arm :math:`m` times round-robin, then commit to the arm with the best empirical mean.  The
    default :math:`m = \lceil (T/K)^{2/3} (\ln T)^{1/3} \rceil` balances exploration cost :math:`mK` against
    the commit error: by Hoeffding, with probability :math:`\ge 1 - 2K/T^2` every empirical mean is within
    :math:`\varepsilon = \sqrt{\ln T / m}` of its mean, so the pseudo-regret is at most
    :math:`m(K-1) + 2(T - mK)\varepsilon + 2K/T = O(T^{2/3} K^{1/3} (\ln T)^{1/3})`
    (Lattimore and Szepesvari 2020, ch. 6).

Every learner has a per-round interface (``probabilities``, ``act``, ``update``) and a batch method ``run``
that processes a whole ``(T, K)`` matrix.  ``Hedge.run`` is vectorised (cumulative sums, row-wise softmax, in
memory-bounded chunks); EXP3 and regret matching are inherently sequential, so ``run`` is a tight loop over
plain Python floats (numpy for more than :data:`SMALL_K` actions) with pre-drawn uniforms;
``ExploreThenCommit.run`` is vectorised and :func:`simulate_explore_then_commit` simulates a Bernoulli bandit
in aggregate (binomial draws), in O(K) for any horizon.  For the same seed ``run`` reproduces the per-round
interface exactly (same actions, same floating-point numbers).

Example
-------
>>> import numpy as np
>>> from mechsim.learners import Hedge, hedge_regret_bound
>>> losses = np.random.default_rng(0).random((10_000, 5))
>>> trace = Hedge(5, horizon=10_000, seed=0).run(losses)
>>> bool(trace.regret()[-1] <= hedge_regret_bound(10_000, 5))
True
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from math import fsum
from operator import add, mul

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    as_generator, check_array, check_in_range, check_integer, check_positive, check_probability_vector,
)

__all__ = [
    "Hedge", "Exp3", "RegretMatching", "ExploreThenCommit", "LearnerTrace",
    "SelfPlayResult", "EtcSimulation",
    "regret_matching_self_play", "exploitability", "simulate_explore_then_commit",
    "hedge_regret_bound", "exp3_regret_bound", "regret_matching_regret_bound", "etc_regret_bound",
    "etc_exploration_length", "SMALL_K",
]

#: Up to this many actions the sequential learners keep their state in Python floats (faster per round
#: than numpy's call overhead); above it they use numpy arrays.
SMALL_K = 32

#: EXP3 with a fixed rate rescales its weights when their sum falls below this (avoids underflow).
_RESCALE_BELOW = 1e-100

_CHUNK = 1 << 15  # rows per chunk in the vectorised Hedge path: bounds memory at ~8 * K * 2**15 bytes


# ----------------------------------------------------------------------------------------------------------
# Results and bounds
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LearnerTrace:
    """What a batch ``run`` did, round by round.

    ``x`` below is the matrix given to ``run``: losses for :class:`Hedge` and :class:`Exp3`, utilities for
    :class:`RegretMatching`, rewards for :class:`ExploreThenCommit`.

    Attributes
    ----------
    actions : ndarray of int, shape (T,), or None
        Sampled actions (``None`` when ``run(..., sample_actions=False)``).
    expected : ndarray, shape (T,)
        :math:`\\langle p_t, x_t \\rangle`, the learner's expected loss/utility in each round.
    realised : ndarray, shape (T,), or None
        :math:`x_{t, a_t}` for the sampled actions.
    mean_expected : ndarray, shape (T,), or None
        :math:`\\langle p_t, \\mu \\rangle` when ``run`` was given the mean vector ``mu`` of a stochastic
        environment (for pseudo-regret).
    totals : ndarray, shape (K,)
        Column sums of ``x`` over the run (cumulative loss/utility of each fixed action).
    best_so_far : ndarray, shape (T,)
        ``min`` (losses) or ``max`` (utilities, rewards) over actions of the cumulative column sums after
        each round: the best fixed action in hindsight at every prefix.
    gain : bool
        True if ``x`` holds utilities/rewards (higher is better), False for losses.

    The trace covers this call only: cumulative sums (learner and comparator) start at zero at its first row.
    """

    actions: np.ndarray | None
    expected: np.ndarray
    realised: np.ndarray | None
    mean_expected: np.ndarray | None
    totals: np.ndarray
    best_so_far: np.ndarray
    gain: bool

    def regret(self) -> np.ndarray:
        """Cumulative regret of the expected play against the best fixed action, after each round.

        :math:`\\sum_{s \\le t} \\langle p_s, \\ell_s\\rangle - \\min_i L_{t, i}` for losses, the mirror image for
        utilities.  Shape (T,).
        """
        cum = np.cumsum(self.expected)
        return self.best_so_far - cum if self.gain else cum - self.best_so_far


def _best_so_far(x: np.ndarray, start: np.ndarray, gain: bool) -> tuple[np.ndarray, np.ndarray]:
    """Best cumulative column sum after every row of ``x``, starting from ``start``; and the final sums."""
    best = np.empty(x.shape[0])
    cum = start.copy()
    for lo in range(0, x.shape[0], _CHUNK):
        block = np.cumsum(x[lo:lo + _CHUNK], axis=0) + cum
        best[lo:lo + _CHUNK] = block.max(axis=1) if gain else block.min(axis=1)
        cum = block[-1]
    return best, cum


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
    t = np.asarray(horizon, dtype=float)
    log_k = math.log(n_actions)
    if learning_rate is not None:
        return log_k / learning_rate + learning_rate * t / 8.0
    if anytime:
        return np.sqrt(2.0 * t * log_k) + math.sqrt(log_k / 8.0)
    return np.sqrt(t * log_k / 2.0)


def exp3_regret_bound(horizon, n_actions: int, anytime: bool = False):
    """Pseudo-regret bound of :class:`Exp3` (oblivious adversary, losses in [0, 1]).

    ``sqrt(2 T K ln K)`` for the horizon-tuned rate, ``2 sqrt(T K ln K)`` for the anytime schedule.
    """
    t = np.asarray(horizon, dtype=float)
    c = 2.0 if anytime else math.sqrt(2.0)
    return c * np.sqrt(t * n_actions * math.log(n_actions))


def regret_matching_regret_bound(horizon, n_actions: int, utility_range: float = 1.0):
    """Worst-case bound ``Delta sqrt(K T)`` on the largest cumulative regret of regret matching (and RM+)."""
    return utility_range * np.sqrt(np.asarray(horizon, dtype=float) * n_actions)


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
    ts = np.atleast_1d(np.asarray(horizon))
    out = []
    for t in ts:
        t = int(t)
        m = etc_exploration_length(t, n_arms) if exploration is None else int(exploration)
        commit = max(t - m * n_arms, 0)
        val = m * (n_arms - 1) + 2.0 * commit * math.sqrt(math.log(t) / m) + 2.0 * n_arms / t
        out.append(min(float(t), val))
    out = np.asarray(out)
    return out if np.ndim(horizon) else float(out[0])


# ----------------------------------------------------------------------------------------------------------
# Shared numerical kernels (used by both the per-round and batch paths, so that they agree exactly)
# ----------------------------------------------------------------------------------------------------------

def _softmax_rows(scaled_losses: np.ndarray) -> np.ndarray:
    """Row-wise ``exp(-x) / sum exp(-x)`` after shifting each row by its minimum (no overflow)."""
    z = np.exp(-(scaled_losses - scaled_losses.min(axis=1, keepdims=True)))
    return z / z.sum(axis=1, keepdims=True)


def _sample_rows(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling of one action per row from uniforms in [0, 1)."""
    c = np.cumsum(probs, axis=1)
    idx = (c <= uniforms[:, None] * c[:, -1:]).sum(axis=1)
    # rounding can put the target at the very top: fall back to the last action of positive probability
    last_positive = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum(idx, last_positive)


def _last_positive(w) -> int:
    return max(i for i, v in enumerate(w) if v > 0)


def _pick(cum: list, u: float, w) -> int:
    """Inverse-CDF sampling: first index whose cumulative weight exceeds ``u * total``."""
    a = bisect_right(cum, u * cum[-1])
    # rounding can put the target at the very top: the last action of positive weight
    return a if a < len(cum) else _last_positive(w)


def _check_matrix(name: str, x, n_actions: int, low: float | None, high: float | None) -> np.ndarray:
    arr = check_array(name, x, ndim=2, shape=(None, n_actions))
    if low is not None or high is not None:
        check_in_range(name, arr, low, high)
    return np.ascontiguousarray(arr)


def _check_mean(name: str, mean, n_actions: int, low=0.0, high=1.0) -> np.ndarray | None:
    if mean is None:
        return None
    arr = check_array(name, mean, ndim=1, shape=(n_actions,))
    return check_in_range(name, arr, low, high) if low is not None or high is not None else arr


# ----------------------------------------------------------------------------------------------------------
# Hedge
# ----------------------------------------------------------------------------------------------------------

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
        for lo in range(0, n, _CHUNK):
            block = x[lo:lo + _CHUNK]
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


# ----------------------------------------------------------------------------------------------------------
# EXP3
# ----------------------------------------------------------------------------------------------------------

class Exp3:
    """EXP3 for adversarial bandits with losses in [0, 1] (loss-based importance weighting).

    Parameters
    ----------
    n_actions : int
        Number of arms ``K >= 1``.
    horizon : int, optional
        Known horizon ``T``: rate ``eta = sqrt(2 ln K / (T K))``, pseudo-regret <= ``sqrt(2 T K ln K)``.
        Without it, the anytime rate ``eta_t = sqrt(ln K / (t K))`` (pseudo-regret <= ``2 sqrt(T K ln K)``).
    seed : int or Generator, optional
        Randomness of the arm choices.

    Notes
    -----
    The learner keeps the cumulative importance-weighted loss estimates :attr:`estimated_losses`;
    :meth:`update` must be given the arm that was played this round (the one :meth:`act` returned).
    With a fixed rate only the played arm's weight changes, so the weights are updated multiplicatively
    (``w_a <- w_a exp(-eta l_hat)``, rescaled when their sum gets tiny): O(1) work plus one O(K) sampling
    pass per round.  The anytime rate recomputes ``exp(-eta_t (L_hat - min L_hat))`` every round.
    """

    def __init__(self, n_actions: int, horizon: int | None = None, seed=None):
        self.n_actions = check_integer("n_actions", n_actions, minimum=1)
        self.horizon = None if horizon is None else check_integer("horizon", horizon, minimum=1)
        self._rng = as_generator(seed)
        self._small = self.n_actions <= SMALL_K
        self._log_k = math.log(self.n_actions)
        self._eta = (math.sqrt(2.0 * self._log_k / (self.horizon * self.n_actions))
                     if self.horizon is not None else None)
        self._est = [0.0] * self.n_actions if self._small else np.zeros(self.n_actions)
        # fixed rate: persistent weights proportional to exp(-eta * est)
        if self._eta is None:
            self._w = None
        else:
            self._w = [1.0] * self.n_actions if self._small else np.ones(self.n_actions)
        self.t = 0

    @property
    def estimated_losses(self) -> np.ndarray:
        """Cumulative importance-weighted loss estimates, shape (K,)."""
        return np.array(self._est, dtype=float)

    def rate(self, round_index: int) -> float:
        """Learning rate used in round ``round_index`` (1-based)."""
        if self._eta is not None:
            return self._eta
        return math.sqrt(self._log_k / (round_index * self.n_actions))

    def _weights(self):
        """Current unnormalised weights (list for small K, array otherwise)."""
        if self._w is not None:
            return self._w
        eta = math.sqrt(self._log_k / ((self.t + 1) * self.n_actions))
        if self._small:
            lo = min(self._est)
            return [math.exp(-eta * (c - lo)) for c in self._est]
        return np.exp(-eta * (self._est - self._est.min()))

    def _total(self, w) -> float:
        return list(accumulate(w))[-1] if self._small else float(np.cumsum(w)[-1])

    @property
    def probabilities(self) -> np.ndarray:
        """Distribution over arms in the next round, shape (K,)."""
        w = self._weights()
        return np.array(w, dtype=float) / self._total(w)

    def act(self) -> int:
        """Sample the arm to play."""
        w = self._weights()
        u = self._rng.random()
        if self._small:
            return _pick(list(accumulate(w)), u, w)
        return int(_sample_rows(w[None, :], np.array([u]))[0])

    def update(self, action: int, loss: float) -> None:
        """Observe the loss (in [0, 1]) of the arm played this round."""
        action = check_integer("action", action, minimum=0, maximum=self.n_actions - 1)
        loss = float(check_in_range("loss", check_array("loss", loss, ndim=0), 0.0, 1.0))
        w = self._weights()
        self._learn(action, loss, w, self._total(w))

    def _learn(self, a: int, loss: float, w, total: float) -> None:
        estimate = loss / (w[a] / total)
        self._est[a] += estimate
        if self._w is not None:
            w[a] *= math.exp(-self._eta * estimate)
            if total < _RESCALE_BELOW:
                self._w = [v / total for v in w] if self._small else w / total
        self.t += 1

    def run(self, losses, *, mean_losses=None) -> LearnerTrace:
        """Play ``T`` rounds against an oblivious loss matrix; only the played entries are revealed.

        Equivalent to ``T`` times ``a = act(); update(a, losses[t, a])``, bitwise.  The full matrix is used
        only to record the expected loss ``<p_t, l_t>`` for measurement.

        Parameters
        ----------
        losses : array, shape (T, K), entries in [0, 1]
        mean_losses : array, shape (K,), optional
            Mean losses of a stochastic environment (fills ``trace.mean_expected``).
        """
        x = _check_matrix("losses", losses, self.n_actions, 0.0, 1.0)
        mu = _check_mean("mean_losses", mean_losses, self.n_actions)
        n = x.shape[0]
        uniforms = self._rng.random(n)
        actions = np.empty(n, dtype=np.int64)
        expected = np.empty(n)
        mean_expected = np.empty(n) if mu is not None else None
        best, _ = _best_so_far(x, np.zeros(self.n_actions), gain=False)
        if self._small:
            self._run_small(x, uniforms, actions, expected, mu, mean_expected)
        else:
            for i in range(n):
                w = self._weights()
                total = self._total(w)
                a = int(_sample_rows(w[None, :], uniforms[i:i + 1])[0])
                actions[i] = a
                expected[i] = (w @ x[i]) / total
                if mu is not None:
                    mean_expected[i] = (w @ mu) / total
                self._learn(a, float(x[i, a]), w, total)
        realised = x[np.arange(n), actions]
        return LearnerTrace(actions, expected, realised, mean_expected, x.sum(axis=0), best, gain=False)

    def _run_small(self, x, uniforms, actions, expected, mu, mean_expected) -> None:
        # The statements below are those of act() + update() (same floating-point operations in the same
        # order), inlined to remove per-round call and validation overhead.
        est = self._est
        k = self.n_actions
        log_k = self._log_k
        eta = self._eta
        fixed = eta is not None
        w = self._w
        mu_list = mu.tolist() if mu is not None else None
        exp = math.exp
        t = self.t
        for lo in range(0, x.shape[0], _CHUNK):
            rows = x[lo:lo + _CHUNK].tolist()
            us = uniforms[lo:lo + _CHUNK].tolist()
            picks, values, means = [], [], []
            for row, u in zip(rows, us):
                if not fixed:
                    eta_t = math.sqrt(log_k / ((t + 1) * k))
                    m = min(est)
                    w = [exp(-eta_t * (c - m)) for c in est]
                cum = list(accumulate(w))
                total = cum[-1]
                a = bisect_right(cum, u * total)
                if a == k:
                    a = _last_positive(w)
                picks.append(a)
                values.append(sum(map(mul, w, row)) / total)
                if mu_list is not None:
                    means.append(sum(map(mul, w, mu_list)) / total)
                estimate = row[a] / (w[a] / total)
                est[a] += estimate
                if fixed:
                    w[a] *= exp(-eta * estimate)
                    if total < _RESCALE_BELOW:
                        w = [v / total for v in w]
                t += 1
            hi = lo + len(rows)
            actions[lo:hi] = picks
            expected[lo:hi] = values
            if mu_list is not None:
                mean_expected[lo:hi] = means
        if fixed:
            self._w = w
        self.t = t


# ----------------------------------------------------------------------------------------------------------
# Regret matching
# ----------------------------------------------------------------------------------------------------------

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
        u = self._rng.random()
        if self._small:
            return _pick(list(accumulate(p)), u, p)
        return int(_sample_rows(p[None, :], np.array([u]))[0])

    def update(self, utilities) -> None:
        """Observe the utility of every action this round (shape (K,), finite)."""
        u = check_array("utilities", utilities, ndim=1, shape=(self.n_actions,))
        self._step(u.tolist() if self._small else u)

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
        for lo in range(0, x.shape[0], _CHUNK):
            rows = x[lo:lo + _CHUNK].tolist()
            us = uniforms[lo:lo + _CHUNK].tolist() if uniforms is not None else None
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


def exploitability(strategy_a, strategy_b, payoff_a, payoff_b=None) -> float:
    """Sum over both players of the gain from deviating to a best response (NashConv).

    Player A (rows) maximises ``x^T A y``, player B (columns) maximises ``x^T B y``; ``payoff_b=None`` means
    zero-sum (``B = -A``), where this is the duality gap ``max_i (A y)_i - min_j (x^T A)_j``.  Zero exactly at a
    Nash equilibrium.
    """
    a = check_array("payoff_a", payoff_a, ndim=2)
    b = -a if payoff_b is None else check_array("payoff_b", payoff_b, ndim=2, shape=a.shape)
    x = check_probability_vector("strategy_a", strategy_a, size=a.shape[0])
    y = check_probability_vector("strategy_b", strategy_b, size=a.shape[1])
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
    a = check_array("payoff_a", payoff_a, ndim=2)
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


# ----------------------------------------------------------------------------------------------------------
# Explore-then-commit
# ----------------------------------------------------------------------------------------------------------

class ExploreThenCommit:
    """Explore-then-commit for stochastic bandits with rewards in [0, 1].

    Rounds ``0 .. m K - 1`` pull arm ``t mod K``; afterwards the learner commits to the arm with the highest
    empirical mean reward (ties broken uniformly at random with ``seed``).

    Parameters
    ----------
    n_arms : int
        Number of arms ``K >= 1``.
    horizon : int
        Horizon ``T`` used to tune the exploration length.
    seed : int or Generator, optional
        Randomness of the tie-break at commit time.
    exploration : int, optional
        Pulls per arm ``m``; default :func:`etc_exploration_length` ``(T, K)``.
    """

    def __init__(self, n_arms: int, horizon: int, seed=None, *, exploration: int | None = None):
        self.n_arms = check_integer("n_arms", n_arms, minimum=1)
        self.horizon = check_integer("horizon", horizon, minimum=1)
        self.exploration = (etc_exploration_length(self.horizon, self.n_arms) if exploration is None
                            else check_integer("exploration", exploration, minimum=1))
        self._rng = as_generator(seed)
        self.reward_sums = np.zeros(self.n_arms)
        self.counts = np.zeros(self.n_arms, dtype=np.int64)
        self.committed_arm: int | None = None
        self.t = 0

    @property
    def exploration_rounds(self) -> int:
        """``m K``: number of round-robin exploration rounds."""
        return self.exploration * self.n_arms

    def _commit(self) -> int:
        means = np.where(self.counts > 0, self.reward_sums / np.maximum(self.counts, 1), -np.inf)
        best = np.flatnonzero(means == means.max())
        self.committed_arm = int(best[0] if best.size == 1 else self._rng.choice(best))
        return self.committed_arm

    def act(self) -> int:
        """Arm for the current round."""
        if self.t < self.exploration_rounds:
            return self.t % self.n_arms
        return self.committed_arm if self.committed_arm is not None else self._commit()

    @property
    def probabilities(self) -> np.ndarray:
        """Point mass on the arm of the current round, shape (K,)."""
        p = np.zeros(self.n_arms)
        p[self.act()] = 1.0
        return p

    def update(self, arm: int, reward: float) -> None:
        """Observe the reward (in [0, 1]) of the arm played this round."""
        arm = check_integer("arm", arm, minimum=0, maximum=self.n_arms - 1)
        reward = float(check_in_range("reward", check_array("reward", reward, ndim=0), 0.0, 1.0))
        self.reward_sums[arm] += reward
        self.counts[arm] += 1
        self.t += 1

    def run(self, rewards, *, mean_rewards=None) -> LearnerTrace:
        """Play ``T`` rounds against a reward matrix (vectorised); only played entries are used.

        Equivalent, bitwise, to ``T`` times ``a = act(); update(a, rewards[t, a])``.

        Parameters
        ----------
        rewards : array, shape (T, K), entries in [0, 1]
        mean_rewards : array, shape (K,), optional
            Mean rewards (fills ``trace.mean_expected`` for pseudo-regret).
        """
        x = _check_matrix("rewards", rewards, self.n_arms, 0.0, 1.0)
        mu = _check_mean("mean_rewards", mean_rewards, self.n_arms)
        n = x.shape[0]
        actions = np.empty(n, dtype=np.int64)
        n_explore = int(np.clip(self.exploration_rounds - self.t, 0, n))
        if n_explore:
            arms = np.arange(self.t, self.t + n_explore) % self.n_arms
            actions[:n_explore] = arms
            got = x[np.arange(n_explore), arms]
            # sequential per-arm accumulation in round order, as update() does
            for arm in range(self.n_arms):
                sel = got[arms == arm]
                if sel.size:
                    self.reward_sums[arm] = np.cumsum(np.concatenate([[self.reward_sums[arm]], sel]))[-1]
                    self.counts[arm] += sel.size
            self.t += n_explore
        if n > n_explore:
            arm = self.committed_arm if self.committed_arm is not None else self._commit()
            actions[n_explore:] = arm
            got = x[n_explore:, arm]
            self.reward_sums[arm] = np.cumsum(np.concatenate([[self.reward_sums[arm]], got]))[-1]
            self.counts[arm] += n - n_explore
            self.t += n - n_explore
        realised = x[np.arange(n), actions]
        best, _ = _best_so_far(x, np.zeros(self.n_arms), gain=True)
        mean_expected = mu[actions] if mu is not None else None
        return LearnerTrace(actions, realised.copy(), realised, mean_expected, x.sum(axis=0), best, gain=True)


@dataclass(frozen=True)
class EtcSimulation:
    """Outcome of :func:`simulate_explore_then_commit`.

    Attributes
    ----------
    exploration : int
        Pulls per arm ``m``.
    pulls : ndarray of int, shape (K,)
        Total pulls of each arm over the horizon.
    empirical_means : ndarray, shape (K,)
        Empirical mean reward of each arm at commit time (NaN-free: arms never explored cannot occur).
    committed_arm : int or None
        Arm committed to (None if the horizon ended during exploration).
    pseudo_regret : float
        ``sum_t (max_i mu_i - mu_{a_t})``.
    """

    exploration: int
    pulls: np.ndarray
    empirical_means: np.ndarray
    committed_arm: int | None
    pseudo_regret: float


def simulate_explore_then_commit(means, horizon: int, seed=None, *, exploration: int | None = None
                                 ) -> EtcSimulation:
    """Explore-then-commit on a Bernoulli bandit, simulated in aggregate in O(K) time for any horizon.

    The exploration rewards of arm ``i`` are summarised by one ``Binomial(n_i, mu_i)`` draw (the sufficient
    statistic), so the law of the committed arm and of the pseudo-regret equals that of
    :class:`ExploreThenCommit` played round by round (the random streams differ).

    Parameters
    ----------
    means : array, shape (K,)
        Bernoulli reward means in [0, 1].
    horizon : int
        ``T``.
    seed : int or Generator, optional
    exploration : int, optional
        Pulls per arm; default :func:`etc_exploration_length`.
    """
    mu = check_in_range("means", check_array("means", means, ndim=1), 0.0, 1.0)
    if mu.size == 0:
        raise InvalidInstanceError("means: expected at least one arm, found an empty array", argument="means")
    k = mu.size
    horizon = check_integer("horizon", horizon, minimum=1)
    m = etc_exploration_length(horizon, k) if exploration is None else check_integer("exploration",
                                                                                     exploration, minimum=1)
    rng = as_generator(seed)
    n_explore = min(horizon, m * k)
    explore_pulls = np.full(k, n_explore // k) + (np.arange(k) < n_explore % k)
    successes = rng.binomial(explore_pulls, mu)
    emp = successes / np.maximum(explore_pulls, 1)
    gaps = mu.max() - mu
    regret = float(explore_pulls @ gaps)  # plain float, not a numpy scalar
    pulls = explore_pulls.copy()
    committed = None
    if horizon > n_explore:
        cand = np.where(explore_pulls > 0, emp, -np.inf)
        best = np.flatnonzero(cand == cand.max())
        committed = int(best[0] if best.size == 1 else rng.choice(best))
        pulls[committed] += horizon - n_explore
        regret += (horizon - n_explore) * float(gaps[committed])
    return EtcSimulation(m, pulls, emp, committed, regret)
