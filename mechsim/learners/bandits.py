"""Bandit learners: EXP3 (adversarial) and explore-then-commit (stochastic); see :mod:`mechsim.learners`."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from operator import mul

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
    _last_positive,
    _sample_rows,
)
from mechsim.learners.bounds import etc_exploration_length
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
)

__all__ = ["Exp3", "ExploreThenCommit", "EtcSimulation", "simulate_explore_then_commit"]



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
        check_allocation("n_actions", 3 * 8.0 * self.n_actions, f"{self.n_actions} actions' float64 state")
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
        return _draw(w, self._rng.random(), self._small)

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
            if total < _core._RESCALE_BELOW:
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
        for lo in range(0, x.shape[0], _core._CHUNK):
            rows = x[lo:lo + _core._CHUNK].tolist()
            us = uniforms[lo:lo + _core._CHUNK].tolist()
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
                    if total < _core._RESCALE_BELOW:
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
        check_allocation("n_arms", 3 * 8.0 * self.n_arms, f"{self.n_arms} actions' float64 state")
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
