r"""Episode rollouts: one loop that plays a policy in any Gymnasium environment.

An episode of an environment under a policy is the sequence

.. math::

    o_0 \sim \text{reset}(\text{seed}_e), \qquad a_t = \text{choose}(\text{env}, o_t), \qquad
    (o_{t+1}, r_t, \text{terminated}_t, \text{truncated}_t, \text{info}_t) = \text{step}(a_t),

for :math:`t = 0, 1, \dots` until the environment terminates or truncates the episode, or ``max_steps``
steps have been played.  :func:`rollout` plays ``n_episodes`` such episodes one after the other and calls
``on_step(t, o_t, a_t, r_t, info_t)`` after every step, so that each caller accumulates exactly what it
measures (discounted costs, per-request signal means, the features and returns of a policy-gradient
batch) in its own arithmetic, without a second loop.  The loop itself keeps only the episode lengths and
undiscounted reward totals.

Seeds.  ``seeds`` fixes the reset seed of every episode: ``None`` (never reseed, the environment's
generator continues), an int ``s`` (episode ``e`` resets with ``s + e``), a sequence (one seed per
episode), or a :class:`numpy.random.Generator`, from which each episode's seed is drawn as
``int(rng.integers(2**31 - 1))`` *when the episode starts* -- so that one generator can also drive a
stochastic ``choose`` and the draws interleave deterministically (same generator state, same rollout).

This module is shared infrastructure (layer 0): it imports only numpy and mechsim's errors and validation,
and is used by the sample-based learners (:mod:`mechsim.learners.policies`), the environments' helpers and
the scenarios.

Example
-------
>>> import gymnasium
>>> from mechsim.rollout import rollout
>>> env = gymnasium.make("CartPole-v1")
>>> stats = rollout(env, lambda env, obs: int(obs[2] > 0), 3, seeds=0)
>>> stats.lengths.shape, bool(stats.lengths.min() >= 1)
((3,), True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_allocation, check_integer

__all__ = ["Chooser", "RolloutStats", "rollout"]

#: ``choose(env, obs) -> action``: the policy, given the environment it acts in (oracle baselines read the
#: environment's hidden state through it; learned policies look only at ``obs``).
Chooser = Callable[[Any, Any], Any]

_SEED_BOUND = 2**31 - 1


@dataclass(frozen=True)
class RolloutStats:
    """What :func:`rollout` keeps of the episodes it played.

    Attributes
    ----------
    seeds : ndarray of int64, shape (E,)
        Reset seed of each episode (``-1`` where the episode was reset without a seed).
    lengths : ndarray of int64, shape (E,)
        Steps played in each episode.
    returns : ndarray of float, shape (E,)
        Undiscounted sum of the rewards of each episode.
    """

    seeds: np.ndarray
    lengths: np.ndarray
    returns: np.ndarray

    @property
    def n_steps(self) -> int:
        """Steps played in all episodes together."""
        return int(self.lengths.sum())


def _seed_source(seeds, n_episodes: int) -> Callable[[int], int | None]:
    if seeds is None:
        return lambda e: None
    if isinstance(seeds, np.random.Generator):
        return lambda e: int(seeds.integers(_SEED_BOUND))
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        base = int(seeds)
        if base < 0 or base + n_episodes > 2**63:
            raise InvalidInstanceError(f"seeds: expected a non-negative base seed, found {base}", "seeds")
        return lambda e: base + e
    if isinstance(seeds, (Sequence, np.ndarray)) and not isinstance(seeds, (str, bytes)):
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
            raise InvalidInstanceError(f"seeds: expected integer seeds, found {list(seeds)!r}", "seeds")
        values = [int(s) for s in seeds]
        if any(v < 0 for v in values):
            raise InvalidInstanceError(f"seeds: expected non-negative seeds, found {min(values)}", "seeds")
        if len(values) != n_episodes:
            raise InvalidInstanceError(f"seeds: expected {n_episodes} seeds (one per episode), found {len(values)}",
                                       "seeds")
        return values.__getitem__
    raise InvalidInstanceError(f"seeds: expected None, an int, a sequence of ints or a numpy Generator, found "
                               f"{type(seeds).__name__}", "seeds")


def rollout(env, choose: Chooser, n_episodes: int, *, seeds=None, max_steps: int | None = None,
            on_step: Callable[[int, Any, Any, float, dict], object] | None = None,
            options: dict | None = None) -> RolloutStats:
    """Play ``n_episodes`` episodes of ``env`` with actions ``choose(env, obs)``.

    Parameters
    ----------
    env : gymnasium.Env
        Any environment with the Gymnasium API (``reset(seed=, options=)``, 5-tuple ``step``), wrapped or not.
    choose : callable ``(env, obs) -> action``
        The policy; it receives ``env`` exactly as passed here.
    n_episodes : int
        Episodes to play (``>= 0``).
    seeds : None, int, sequence of int or numpy.random.Generator
        Reset seed of every episode (see the module docstring).
    max_steps : int, optional
        Cap on the steps of an episode (for environments without a time limit); default no cap.
    on_step : callable ``(t, obs, action, reward, info)``, optional
        Called after every step with the step index ``t`` within the episode (``t == 0`` marks a new
        episode), the observation the action was chosen at, the action, the reward and the step's ``info``.
    options : dict, optional
        Passed to every ``reset``.

    Returns
    -------
    RolloutStats
        Seeds, lengths and undiscounted returns of the episodes.
    """
    if not all(callable(getattr(env, name, None)) for name in ("reset", "step")):
        raise InvalidInstanceError(f"env: expected an environment with the Gymnasium API (reset and step), found "
                                   f"{type(env).__name__}", "env")
    if not callable(choose):
        raise InvalidInstanceError(f"choose: expected a callable (env, obs) -> action, found {type(choose).__name__}",
                                   "choose")
    if on_step is not None and not callable(on_step):
        raise InvalidInstanceError(f"on_step: expected None or a callable (t, obs, action, reward, info), found "
                                   f"{type(on_step).__name__}", "on_step")
    if options is not None and not isinstance(options, dict):
        raise InvalidInstanceError(f"options: expected None or a dict, found {type(options).__name__}", "options")
    n_episodes = check_integer("n_episodes", n_episodes, minimum=0)
    check_allocation("n_episodes", 24.0 * n_episodes, f"seeds, lengths and returns of {n_episodes} episodes")
    cap = math.inf if max_steps is None else check_integer("max_steps", max_steps, minimum=1)
    next_seed = _seed_source(seeds, n_episodes)
    used = np.full(n_episodes, -1, dtype=np.int64)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    returns = np.zeros(n_episodes)
    step = env.step
    for e in range(n_episodes):
        seed = next_seed(e)
        if seed is not None:
            used[e] = seed
        obs, _ = env.reset(seed=seed, options=options)
        t, total = 0, 0.0
        while t < cap:
            action = choose(env, obs)
            next_obs, reward, terminated, truncated, info = step(action)
            if on_step is not None:
                on_step(t, obs, action, reward, info)
            total += reward
            t += 1
            obs = next_obs
            if terminated or truncated:
                break
        lengths[e] = t
        returns[e] = total
    return RolloutStats(seeds=used, lengths=lengths, returns=returns)
