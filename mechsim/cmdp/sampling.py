r"""Sample-based machinery shared by the learners: softmax policies in numpy, episode collection from a
Gymnasium CMDP environment, discounted returns per signal, and linear critics (the optimiser is :class:`mechsim.optim.Adam`).

Policy: ``pi(a | o) = softmax(W phi(o))_a`` with ``W`` of shape ``(A, F)``.  The features ``phi`` are the
one-hot state for a ``Discrete`` observation space (a tabular softmax) and ``[obs, 1]`` for a ``Box``
(a linear softmax).

Signals: index 0 is the environment reward, ``1 + k`` the ``k``-th entry of ``info["costs"]`` (Safety-
Gymnasium convention; an env without ``"costs"`` but with a scalar ``info["cost"]`` has ``K = 1``).  Each
signal ``i`` gets discounted returns-to-go ``G_i(t) = sum_{u >= t} gamma_i^{u-t} x_i(u)`` with its own
discount, so that per-signal discounts (TSCAC) need nothing special.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from scipy.special import logsumexp

from mechsim.errors import InvalidInstanceError

__all__ = ["EpisodeBatch", "SoftmaxPolicy", "collect_episodes", "featurizer", "fit_linear_critic"]


def featurizer(observation_space: gym.Space):
    """Feature map ``phi`` and its dimension for a ``Discrete`` or ``Box`` observation space."""
    if isinstance(observation_space, gym.spaces.Discrete):
        n, start = int(observation_space.n), int(observation_space.start)

        def phi(obs):
            idx = np.asarray(obs, dtype=np.int64).reshape(-1) - start
            out = np.zeros((idx.size, n))
            out[np.arange(idx.size), idx] = 1.0
            return out

        return phi, n
    if isinstance(observation_space, gym.spaces.Box):
        dim = int(np.prod(observation_space.shape))

        def phi(obs):
            arr = np.asarray(obs, dtype=float).reshape(-1, dim)
            return np.hstack([arr, np.ones((arr.shape[0], 1))])

        return phi, dim + 1
    raise InvalidInstanceError(
        f"env.observation_space: expected Discrete or Box, found {type(observation_space).__name__}",
        "env")


@dataclass(frozen=True)
class SoftmaxPolicy:
    """``pi(a | o) = softmax(weights @ phi(o))``.

    Attributes
    ----------
    weights : ndarray of shape (A, F)
    tabular : bool
        True when ``phi`` is the one-hot state (``Discrete`` observations): then ``table()`` is the policy.
    """

    weights: np.ndarray
    tabular: bool

    def log_probabilities_from_features(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weights.T
        return logits - logsumexp(logits, axis=1, keepdims=True)

    def table(self) -> np.ndarray:
        """The ``(S, A)`` policy table (tabular policies only)."""
        if not self.tabular:
            raise InvalidInstanceError("policy: expected a tabular softmax policy, found a linear one", "policy")
        logits = self.weights.T
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))


@dataclass(frozen=True)
class EpisodeBatch:
    """Transitions of several episodes, flattened in time order.

    ``features (N, F)``, ``actions (N,)``, ``signals (N, 1+K)`` (reward, costs), ``returns (N, 1+K)``
    (discounted returns-to-go per signal), ``steps (N,)`` (time index within the episode),
    ``episode_returns (E, 1+K)`` (discounted totals from the first step), ``lengths (E,)``.
    """

    features: np.ndarray
    actions: np.ndarray
    signals: np.ndarray
    returns: np.ndarray
    steps: np.ndarray
    episode_returns: np.ndarray
    lengths: np.ndarray


def _costs_from_info(info: dict) -> np.ndarray:
    if "costs" in info:
        return np.atleast_1d(np.asarray(info["costs"], dtype=float))
    if "cost" in info:
        return np.atleast_1d(np.asarray(info["cost"], dtype=float))
    raise InvalidInstanceError('env: expected info["costs"] (or info["cost"]) in every step, found neither', "env")


def collect_episodes(env: gym.Env, policy: SoftmaxPolicy, phi, n_episodes: int, discounts: np.ndarray,
                     rng: np.random.Generator, max_steps: int) -> EpisodeBatch:
    """Roll out ``n_episodes`` episodes (each reset seeded from ``rng``) and compute per-signal returns."""
    feats, acts, sigs, steps, lengths = [], [], [], [], []
    n_actions = policy.weights.shape[0]
    if policy.tabular:
        cumulative_table = np.cumsum(policy.table(), axis=1)
    for _ in range(n_episodes):
        obs, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        length = 0
        for t in range(max_steps):
            f = phi(obs)[0]
            if policy.tabular:
                cumulative = cumulative_table[int(np.argmax(f))]
            else:
                logits = policy.weights @ f
                cumulative = np.cumsum(np.exp(logits - logits.max()))
            action = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                         n_actions - 1)
            obs, reward, terminated, truncated, info = env.step(action)
            feats.append(f)
            acts.append(action)
            sigs.append(np.concatenate([[float(reward)], _costs_from_info(info)]))
            steps.append(t)
            length += 1
            if terminated or truncated:
                break
        lengths.append(length)
    signals = np.asarray(sigs, dtype=float)
    if signals.shape[1] != discounts.size:
        raise InvalidInstanceError(
            f"limits/discounts: expected {signals.shape[1] - 1} constraints, as many as the env's info['costs'] "
            f"entries, found {discounts.size - 1}", "limits")
    returns = np.empty_like(signals)
    episode_returns = np.empty((len(lengths), signals.shape[1]))
    end = signals.shape[0]
    for e in range(len(lengths) - 1, -1, -1):
        start = end - lengths[e]
        acc = np.zeros(signals.shape[1])
        for t in range(end - 1, start - 1, -1):
            acc = signals[t] + discounts * acc
            returns[t] = acc
        episode_returns[e] = acc
        end = start
    return EpisodeBatch(np.asarray(feats), np.asarray(acts, dtype=np.int64), signals, returns,
                        np.asarray(steps), episode_returns, np.asarray(lengths))


def fit_linear_critic(features: np.ndarray, targets: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Ridge regression ``targets ≈ features @ w`` (one column of ``w`` per signal); returns ``w (F, m)``.

    With one-hot features this is the per-state mean return, shrunk towards 0 by ``ridge``.
    """
    gram = features.T @ features
    gram[np.diag_indices_from(gram)] += ridge
    return np.linalg.solve(gram, features.T @ targets)
