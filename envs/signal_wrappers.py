r"""Wrappers for constrained environments that report their costs in ``info["costs"]``.

Both follow the cost convention of mechsim's constrained environments (Safety-Gymnasium's, on the Gymnasium
5-tuple): every step's ``info["costs"]`` is the vector :math:`c_t \in \mathbb R^K` of the constraints
:math:`E[\sum_t \gamma^t c_{k,t}] \le d_k` (non-negative costs), and ``info["cost"]`` the single constraint's
cost (the sum of the costs when there are several).

:class:`ScaleRewardAndCosts`
    Rewards and costs in the learner's units: :math:`r'_t = \alpha r_t`, :math:`c'_{k,t} = \beta_k c_{k,t}`
    with :math:`\alpha, \beta_k > 0`.  Positive scaling changes no optimal policy of the CMDP once the limits
    are scaled alike (:math:`d'_k = \beta_k d_k`), and lets one set of step sizes fit signals of very
    different magnitudes (watch time in seconds, likes at 1 % per request).
:class:`EpisodeRecorder`
    Keeps, for every episode that passes through it, the totals :math:`\sum_t x_t` of chosen ``info``
    entries and the episode length, so that per-iteration curves of a learner that rolls out its own
    episodes (the sample-based CMDP learners) can be read afterwards: :meth:`EpisodeRecorder.batch_means`
    gives :math:`\sum_{e \in b} \sum_t x_{e,t} / \sum_{e \in b} T_e` per batch :math:`b` of consecutive
    episodes.

Both inherit :class:`gymnasium.utils.RecordConstructorArgs`, so an environment made with
``gymnasium.make`` keeps them in its ``spec``.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_integer

__all__ = ["EpisodeRecorder", "ScaleRewardAndCosts", "check_gym_env"]


def check_gym_env(env, name: str = "env") -> gymnasium.Env:
    """Raise :class:`~mechsim.errors.InvalidInstanceError` unless ``env`` is a Gymnasium environment."""
    if not isinstance(env, gymnasium.Env):
        raise InvalidInstanceError(f"{name}: expected a gymnasium.Env, found {type(env).__name__}", argument=name)
    return env


def _positive_scale(name: str, value) -> float | np.ndarray:
    arr = np.asarray(value, dtype=float) if np.ndim(value) else None
    if arr is None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value) or value <= 0:
            raise InvalidInstanceError(f"{name}: expected a finite number > 0, found {value!r}", argument=name)
        return float(value)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InvalidInstanceError(f"{name}: expected a number or a 1-d array of finite numbers > 0, found {arr!r}",
                                   argument=name)
    return arr


class ScaleRewardAndCosts(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Multiply the reward by ``reward_scale`` and ``info["costs"]`` by ``cost_scale`` (learner units).

    Parameters
    ----------
    env : gymnasium.Env
        Reports ``info["costs"]`` at every step.
    reward_scale : float, default 1
        :math:`\\alpha > 0`.
    cost_scale : float or array_like of shape (K,), default 1
        :math:`\\beta > 0`, one number for every constraint or one per constraint.

    Notes
    -----
    ``info["cost"]``, if present, becomes the sum of the scaled costs (the scaled cost itself for one
    constraint, as the environments define it); the per-constraint entries
    ``info["cost_<name>"]`` and the infos returned by ``reset`` keep the environment's units.  Limits given
    to a learner on the wrapped env are in scaled units.

    Examples
    --------
    >>> from mechsim.envs.recommender import RecommenderEnv
    >>> env = ScaleRewardAndCosts(RecommenderEnv(constraints=["like"], cost_mode="expected"),
    ...                           reward_scale=0.1, cost_scale=100.0)
    >>> _ = env.reset(seed=0)
    >>> _, reward, _, _, info = env.step(0)
    >>> raw = RecommenderEnv(constraints=["like"], cost_mode="expected")
    >>> _ = raw.reset(seed=0)
    >>> _, raw_reward, _, _, raw_info = raw.step(0)
    >>> bool(reward == raw_reward * 0.1 and info["costs"][0] == raw_info["costs"][0] * 100.0)
    True
    """

    def __init__(self, env: gymnasium.Env, reward_scale=1.0, cost_scale=1.0):
        gymnasium.utils.RecordConstructorArgs.__init__(self, reward_scale=reward_scale, cost_scale=cost_scale)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        self.reward_scale = _positive_scale("reward_scale", reward_scale)
        self.cost_scale = _positive_scale("cost_scale", cost_scale)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if "costs" not in info:
            raise InvalidInstanceError(f"env: expected the step info to hold 'costs', found keys {sorted(info)}",
                                       argument="env")
        info = dict(info)
        costs = info["costs"] * self.cost_scale
        info["costs"] = costs
        if "cost" in info:
            info["cost"] = float(np.sum(costs))
        return obs, reward * self.reward_scale, terminated, truncated, info


class EpisodeRecorder(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Record the per-episode totals of ``info[key]`` for each key, and the episode lengths.

    Every ``reset`` starts a new episode record, so the recorder sees every episode a learner plays on it.
    The totals of one episode form one row: the entries of ``keys[0]``, then those of ``keys[1]``, ...
    (:attr:`columns` maps each key to its slice); the sizes are read from the first step's ``info``.

    Parameters
    ----------
    env : gymnasium.Env
    keys : sequence of str, default ("signals", "costs")
        ``info`` entries (numbers or 1-d arrays) to total.

    Examples
    --------
    >>> from mechsim.envs.recommender import RecommenderEnv
    >>> env = EpisodeRecorder(RecommenderEnv(max_steps=5, constraints=["like"]))
    >>> for seed in range(4):
    ...     _ = env.reset(seed=seed)
    ...     done = False
    ...     while not done:
    ...         *_, terminated, truncated, _ = env.step(0)
    ...         done = terminated or truncated
    >>> env.episode_totals().shape, env.columns["costs"], env.batch_means(2).shape
    ((4, 8), slice(7, 8, None), (2, 8))
    """

    def __init__(self, env: gymnasium.Env, keys: Sequence[str] = ("signals", "costs")):
        gymnasium.utils.RecordConstructorArgs.__init__(self, keys=keys)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        if not isinstance(keys, (tuple, list)) or not all(isinstance(k, str) for k in keys) or not len(keys):
            raise InvalidInstanceError(f"keys: expected a non-empty sequence of info keys, found {keys!r}",
                                       argument="keys")
        self.keys = tuple(keys)
        self.columns: dict[str, slice] = {}
        self._width = None
        self._totals: list[np.ndarray | None] = []
        self._lengths: list[int] = []

    def _layout(self, info: dict) -> None:
        start = 0
        for key in self.keys:
            if key not in info:
                raise InvalidInstanceError(f"env: expected the step info to hold {key!r}, found keys {sorted(info)}",
                                           argument="env")
            size = np.size(info[key])
            self.columns[key] = slice(start, start + size)
            start += size
        self._width = start

    def reset(self, *, seed=None, options=None):
        self._totals.append(None)
        self._lengths.append(0)
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        out = self.env.step(action)
        info = out[4]
        row = self._totals[-1]
        if row is None:
            if self._width is None:
                self._layout(info)
            row = self._totals[-1] = np.zeros(self._width)
        for key, where in self.columns.items():
            row[where] += info[key]
        self._lengths[-1] += 1
        return out

    @property
    def n_episodes(self) -> int:
        """Episodes started so far."""
        return len(self._lengths)

    @property
    def lengths(self) -> np.ndarray:
        """Steps of every episode, ``(E,)``."""
        return np.array(self._lengths, dtype=np.int64)

    def episode_totals(self) -> np.ndarray:
        """Totals of every episode, ``(E, width)`` (zeros for an episode with no step yet)."""
        width = self._width or 0
        rows = [np.zeros(width) if row is None else row for row in self._totals]
        return np.array(rows).reshape(len(rows), width)

    def batch_means(self, episodes_per_batch: int) -> np.ndarray:
        """Per-step means over consecutive batches of ``episodes_per_batch`` episodes, ``(n_batches, width)``.

        Row ``b`` is the totals of episodes ``b E .. (b + 1) E - 1`` summed, divided by their summed lengths;
        an incomplete last batch is left out.
        """
        E = check_integer("episodes_per_batch", episodes_per_batch, minimum=1)
        totals, lengths = self.episode_totals(), self.lengths
        T = len(lengths) // E
        totals = totals[:T * E].reshape(T, E, totals.shape[1]).sum(axis=1)
        steps = lengths[:T * E].reshape(T, E).sum(axis=1)
        return totals / steps[:, None]
