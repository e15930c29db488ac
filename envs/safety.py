"""Safety-Gymnasium view of a constrained Gymnasium environment.

mechsim's constrained environments return the Gymnasium 5-tuple and put the step cost in ``info["cost"]``
(Safety-Gymnasium's ``SafetyGymnasium2Gymnasium`` convention), one entry per constraint in ``info["costs"]``
and ``info["cost_<name>"]``.  Safety-Gymnasium's costs are non-negative and its constraints read
``E[sum_t cost_t] <= cost_limit``; mechsim's environments follow that convention (the recommender's floors
are costs of missed interactions, :mod:`mechsim.envs.recommender`).

:class:`ToSafetyGymnasium` turns the 5-tuple into the 6-tuple ``(obs, reward, cost, terminated, truncated,
info)`` used by Safety-Gymnasium and OmniSafe learners; ``reset`` is unchanged.  The cost it hands over is
one number per step:

- ``constraint=None``: ``info["cost"]``, which is the cost of the environment's constraint when it has one,
  and (documented by each environment) the sum of the costs when it has several — a learner with one limit
  then bounds the total, so the wrapper warns once;
- ``constraint="like"`` (a name of ``env.unwrapped.constraint_names``) or ``constraint=k`` (an index): that
  one constraint's cost, ``info["costs"][k]``.

A negative or non-finite cost is an error (the learner's constraint would be wrong).  ``info`` is passed
through untouched, so every per-constraint cost remains available.
"""

from __future__ import annotations

import math
import numbers

import gymnasium

from mechsim.envs.signal_wrappers import check_gym_env
from mechsim.errors import InvalidInstanceError

__all__ = ["ToSafetyGymnasium"]


class ToSafetyGymnasium(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Return ``(obs, reward, cost, terminated, truncated, info)`` from ``step``.

    Parameters
    ----------
    env : gymnasium.Env
        An environment whose step ``info`` holds a finite non-negative scalar ``info["cost"]`` (and, to select
        a constraint, the vector ``info["costs"]``).
    constraint : None, str or int, default None
        Which cost to hand over: ``info["cost"]`` (None), or one constraint by name or index.

    Raises
    ------
    InvalidInstanceError
        At construction, for an unknown ``constraint``; from ``step``, if ``info`` has no such cost or it is
        not a finite non-negative number (Safety-Gymnasium's ``Gymnasium2SafetyGymnasium`` would pass a wrong
        constraint on).

    Examples
    --------
    >>> import gymnasium, mechsim
    >>> from mechsim.envs.safety import ToSafetyGymnasium
    >>> env = ToSafetyGymnasium(gymnasium.make("mechsim/Recommender-v0"), constraint="like")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, cost, terminated, truncated, info = env.step(0)
    >>> bool(cost == info["cost_like"] and cost >= 0)
    True
    """

    def __init__(self, env: gymnasium.Env, constraint: str | int | None = None):
        gymnasium.utils.RecordConstructorArgs.__init__(self, constraint=constraint)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        names = tuple(getattr(env.unwrapped, "constraint_names", ()) or ())
        self.constraint = constraint
        self._index = None
        if constraint is None:
            if len(names) > 1:
                gymnasium.logger.warn(f"ToSafetyGymnasium: the environment has {len(names)} constraints {names}; "
                                      "the cost handed over is info['cost'], their sum (pass constraint=<name> to "
                                      "hand over one)")
        elif isinstance(constraint, str):
            if constraint not in names:
                raise InvalidInstanceError(f"constraint: expected None or one of the environment's constraints "
                                           f"{names}, found {constraint!r}", argument="constraint")
            self._index = names.index(constraint)
        elif isinstance(constraint, numbers.Integral) and not isinstance(constraint, bool):
            if names and not 0 <= constraint < len(names):
                raise InvalidInstanceError(f"constraint: expected an index in [0, {len(names)}) of the environment's "
                                           f"constraints {names}, found {constraint}", argument="constraint")
            if constraint < 0:
                raise InvalidInstanceError(f"constraint: expected a non-negative index, found {constraint}",
                                           argument="constraint")
            self._index = int(constraint)
        else:
            raise InvalidInstanceError(f"constraint: expected None, a constraint name or an index, found "
                                       f"{type(constraint).__name__} {constraint!r}", argument="constraint")

    def _cost(self, info: dict) -> float:
        if self._index is None:
            if "cost" not in info:
                raise InvalidInstanceError(
                    "env: expected the step info to hold 'cost' (Safety-Gymnasium convention), found keys "
                    f"{sorted(info)}", argument="env")
            cost, where = info["cost"], "info['cost']"
        else:
            costs = info.get("costs")
            try:
                cost = costs[self._index]
            except (TypeError, IndexError, KeyError):
                raise InvalidInstanceError(f"env: expected the step info to hold 'costs' with an entry "
                                           f"{self._index} (constraint {self.constraint!r}), found "
                                           f"{costs!r}", argument="env") from None
            where = f"info['costs'][{self._index}]"
        try:
            cost = float(cost)
        except (TypeError, ValueError):
            raise InvalidInstanceError(f"env: expected {where} to be a number, found {cost!r}",
                                       argument="env") from None
        if not math.isfinite(cost) or cost < 0:
            raise InvalidInstanceError(f"env: expected a finite, non-negative {where} (Safety-Gymnasium costs are "
                                       f"non-negative, constraints read cost <= limit), found {cost}",
                                       argument="env")
        return cost

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, self._cost(info), terminated, truncated, info
