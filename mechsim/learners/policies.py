r"""Sample-based machinery of the CMDP learners: softmax policies in numpy, episode batches from a
Gymnasium CMDP environment, discounted returns per signal, linear critics and the actor-critic gradient.

Policy: :math:`\pi(a \mid o) = \mathrm{softmax}(W \phi(o))_a` with :math:`W` of shape ``(A, F)``.  The
features :math:`\phi` are the one-hot state for a ``Discrete`` observation space (a tabular softmax) and
``[obs, 1]`` for a ``Box`` (a linear softmax).

Signals: index 0 is the environment reward, :math:`1 + k` the :math:`k`-th entry of ``info["costs"]``
(Safety-Gymnasium convention; an env without ``"costs"`` but with a scalar ``info["cost"]`` has
:math:`K = 1`).  Each signal :math:`i` gets discounted returns-to-go
:math:`G_i(t) = \sum_{u \ge t} \gamma_i^{u-t} x_i(u)` with its own discount, so that per-signal discounts
(TSCAC) need nothing special.  Where the env reports the policy-independent part of its costs in
``info["cost_offsets"]`` (:mod:`mechsim.envs.recommender`: missed-interaction costs ``1 - x`` are ``-x`` plus
an offset whose discounted sum is the same in every session), the returns-to-go that drive the policy
gradient are those of ``costs - cost_offsets``, the signed signals, with the same expected gradient and far
less variance; the episode totals that estimate the constraint values ``J`` are those of the costs.

Actor-critic step (:func:`policy_gradient_step`): for a weighted objective :math:`E[\sum_i w_i G_i]`, one
ridge-regression critic :math:`V_i(s) = \phi(s)^\top \beta_i` per signal is the baseline, the advantage
:math:`\hat A = \sum_i w_i (G_i - V_i(s))` is normalised by its batch standard deviation, and the gradient
with respect to the logits is :math:`(\mathbf 1_a - \pi(\cdot|s)) \hat A` (plus, optionally, the gradient
of the entropy :math:`-\pi (\log \pi + H)`); the optimiser is :class:`mechsim.optim.Adam`.

Episodes are played by :func:`mechsim.rollout.rollout`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from scipy.special import logsumexp

from mechsim.errors import InvalidInstanceError
from mechsim.rollout import rollout
from mechsim.validation import _fail, check_allocation, check_array, check_integer, check_nonnegative

__all__ = ["EpisodeBatch", "SoftmaxPolicy", "collect_episodes", "featurizer", "fit_linear_critic",
           "policy_gradient_step"]


def featurizer(observation_space: gym.Space):
    """Feature map ``phi`` and its dimension for a ``Discrete`` or ``Box`` observation space.

    ``phi(obs)`` maps one observation (or a batch) to a ``(n, F)`` array: the one-hot state for
    ``Discrete(n, start)``, the flattened observation followed by a constant 1 for a ``Box``.
    """
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

    def __post_init__(self):
        weights = check_array("weights", self.weights, ndim=2)
        if 0 in weights.shape:
            raise _fail("weights", "an (A, F) array with A, F >= 1", f"shape {weights.shape}")
        if not isinstance(self.tabular, (bool, np.bool_)):
            raise _fail("tabular", "a bool", f"{type(self.tabular).__name__} {self.tabular!r}")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "tabular", bool(self.tabular))

    def log_probabilities_from_features(self, features: np.ndarray) -> np.ndarray:
        """``log pi(. | o)`` for every row of ``features`` ``(n, F)``; returns ``(n, A)``."""
        features = check_array("features", features, ndim=2)
        if features.shape[1] != self.weights.shape[1]:
            raise _fail("features", f"shape (n, F) with F = {self.weights.shape[1]} (the policy's weights have "
                        f"shape {self.weights.shape})", f"shape {features.shape}")
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
    (discounted returns-to-go per signal, of the costs minus ``info["cost_offsets"]`` where the env reports
    them: the policy-gradient signal), ``steps (N,)`` (time index within the episode),
    ``episode_returns (E, 1+K)`` (discounted totals of the reward and the costs themselves from the first step),
    ``lengths (E,)``.
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
    """Roll out ``n_episodes`` episodes and compute per-signal returns.

    Each episode's reset seed is drawn from ``rng`` when it starts, and actions are sampled from ``rng``
    by inverse CDF, so the batch is a function of the generator's state.

    Parameters
    ----------
    env : gymnasium.Env
        ``Discrete`` actions; ``info["costs"]`` (or a scalar ``info["cost"]``) at every step.
    policy : SoftmaxPolicy
        One row of weights per action of ``env``.
    phi : callable
        The feature map of :func:`featurizer` (``obs -> (1, F)``).
    n_episodes : int
        At least one.
    discounts : array_like of shape (1 + K,)
        Discount of the reward and of each cost, in ``[0, 1]``.
    rng : numpy.random.Generator
    max_steps : int
        Cap on the steps of an episode.
    """
    check_discrete_env(env)
    if not isinstance(policy, SoftmaxPolicy):
        raise _fail("policy", "a SoftmaxPolicy", type(policy).__name__)
    if policy.weights.shape[0] != int(env.action_space.n):
        raise _fail("policy", f"one row of weights per action ({int(env.action_space.n)})",
                    f"weights of shape {policy.weights.shape}")
    if not callable(phi):
        raise _fail("phi", "a feature map obs -> (1, F) array", type(phi).__name__)
    n_episodes = check_integer("n_episodes", n_episodes, minimum=1)
    discounts = check_array("discounts", discounts, ndim=1)
    if discounts.size == 0 or discounts.min() < 0 or discounts.max() > 1:
        raise _fail("discounts", "1 + K discounts in [0, 1] (reward then each cost)", f"{discounts}")
    if not isinstance(rng, np.random.Generator):
        raise _fail("rng", "a numpy.random.Generator", type(rng).__name__)
    max_steps = check_integer("max_steps", max_steps, minimum=1)
    feats, acts, sigs, offs, steps = [], [], [], [], []
    n_actions = policy.weights.shape[0]
    weights = policy.weights
    cumulative_table = np.cumsum(policy.table(), axis=1) if policy.tabular else None

    def choose(env, obs):
        f = phi(obs)[0]
        feats.append(f)
        if cumulative_table is not None:
            cumulative = cumulative_table[int(np.argmax(f))]
        else:
            logits = weights @ f
            cumulative = np.cumsum(np.exp(logits - logits.max()))
        return min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), n_actions - 1)

    def record(t, obs, action, reward, info):
        acts.append(action)
        costs = _costs_from_info(info)
        sigs.append(np.concatenate([[float(reward)], costs]))
        offset = info.get("cost_offsets")
        offs.append(None if offset is None else np.atleast_1d(np.asarray(offset, dtype=float)))
        steps.append(t)

    lengths = rollout(env, choose, n_episodes, seeds=rng, max_steps=max_steps, on_step=record).lengths.tolist()
    signals = np.asarray(sigs, dtype=float)
    if signals.shape[1] != discounts.size:
        raise InvalidInstanceError(
            f"limits/discounts: expected {signals.shape[1] - 1} constraints, as many as the env's info['costs'] "
            f"entries, found {discounts.size - 1}", "limits")
    if any(o is not None for o in offs):
        centred = signals.copy()
        for t, o in enumerate(offs):
            if o is not None:
                if o.shape != (signals.shape[1] - 1,):
                    raise InvalidInstanceError(f"env: expected info['cost_offsets'] to hold {signals.shape[1] - 1} "
                                               f"entries, like info['costs'], found {o.shape}", "env")
                centred[t, 1:] -= o
    else:
        centred = signals
    returns = np.empty_like(signals)
    episode_returns = np.empty((len(lengths), signals.shape[1]))
    end = signals.shape[0]
    for e in range(len(lengths) - 1, -1, -1):
        start = end - lengths[e]
        acc = np.zeros(signals.shape[1])
        raw = np.zeros(signals.shape[1])
        for t in range(end - 1, start - 1, -1):
            acc = centred[t] + discounts * acc
            returns[t] = acc
            raw = signals[t] + discounts * raw if centred is not signals else acc
        episode_returns[e] = raw
        end = start
    return EpisodeBatch(np.asarray(feats), np.asarray(acts, dtype=np.int64), signals, returns,
                        np.asarray(steps), episode_returns, np.asarray(lengths))


def fit_linear_critic(features: np.ndarray, targets: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Ridge regression ``targets ≈ features @ w`` (one column of ``w`` per signal); returns ``w (F, m)``.

    With one-hot features this is the per-state mean return, shrunk towards 0 by ``ridge`` (``>= 0``).
    """
    features = check_array("features", features, ndim=2)
    targets = check_array("targets", targets)
    if targets.ndim not in (1, 2) or targets.shape[0] != features.shape[0]:
        raise _fail("targets", f"shape ({features.shape[0]},) or ({features.shape[0]}, m): one row per row of "
                    "features", f"shape {targets.shape}")
    ridge = check_nonnegative("ridge", ridge)
    gram = features.T @ features
    gram[np.diag_indices_from(gram)] += ridge
    return np.linalg.solve(gram, features.T @ targets)


def policy_gradient_step(batch: EpisodeBatch, policy: SoftmaxPolicy, coefficients: np.ndarray,
                         entropy: float = 0.0, ridge: float = 1e-3) -> np.ndarray:
    """Actor-critic gradient of ``E[sum_i coefficients_i G_i]`` (+ entropy bonus) w.r.t. the weights.

    One linear critic per signal is fitted to that signal's returns and used as its baseline; the
    advantage is ``sum_i coefficients_i (G_i - V_i(s))``, normalised by its batch standard deviation.
    Returns an array shaped like ``policy.weights``.
    """
    critic = fit_linear_critic(batch.features, batch.returns, ridge)
    adv = (batch.returns - batch.features @ critic) @ coefficients
    scale = adv.std()
    adv = adv / scale if scale > 1e-12 else adv
    logp = policy.log_probabilities_from_features(batch.features)
    probs = np.exp(logp)
    score = -probs
    score[np.arange(batch.actions.size), batch.actions] += 1.0
    grad_logits = score * adv[:, None]
    if entropy > 0:
        # d H / d logits = -p (log p + H)
        ent = -(probs * logp).sum(axis=1, keepdims=True)
        grad_logits += entropy * (-probs * (logp + ent))
    return grad_logits.T @ batch.features / batch.actions.size


def sample_discounts(discount, n_signals: int, name: str = "discount") -> np.ndarray:
    """Per-signal discounts ``(n_signals,)`` from one number or one per signal, each in ``[0, 1)``."""
    expected = f"a number in [0, 1) or {n_signals} of them (reward then each cost)"
    if discount is None or isinstance(discount, (bool, np.bool_, str, bytes)):
        raise _fail(name, expected, f"{type(discount).__name__} {discount!r}")
    arr = check_array(name, discount, finite=False)
    if arr.ndim == 0 or arr.shape == (1,):
        arr = np.full(n_signals, float(arr.reshape(-1)[0]))
    if arr.shape != (n_signals,) or not np.all((arr >= 0) & (arr < 1)):
        raise _fail(name, expected, f"{np.asarray(discount)!r}")
    return arr


def check_batch_size(name: str, n_iterations: int, n_signals: int) -> int:
    """``n_iterations`` checked to be a positive integer whose per-iteration records fit in memory."""
    n_iterations = check_integer(name, n_iterations, minimum=1)
    check_allocation(name, 8.0 * n_iterations * (1 + 2 * n_signals), f"{n_iterations} rows of training records")
    return n_iterations


def check_discrete_env(env) -> None:
    """Raise unless ``env`` is a Gymnasium env with a ``Discrete`` action space."""
    if not isinstance(env, (gym.Env, gym.Wrapper)):
        raise InvalidInstanceError(f"env: expected a gymnasium.Env, found {type(env).__name__}", "env")
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise InvalidInstanceError(
            f"env.action_space: expected Discrete, found {type(env.action_space).__name__}", "env")


def sample_setup(env, discounts: np.ndarray, max_steps: int | None):
    """``(phi, F, A, tabular, max_steps)`` shared by the sample learners; the episode cap defaults to
    ``ceil(10 / (1 - max gamma))`` steps, where ``gamma^H < 5e-5``."""
    phi, F = featurizer(env.observation_space)
    A = int(env.action_space.n)
    tabular = isinstance(env.observation_space, gym.spaces.Discrete)
    if max_steps is None:
        max_steps = int(np.ceil(10.0 / (1.0 - discounts.max())))
    return phi, F, A, tabular, max_steps
