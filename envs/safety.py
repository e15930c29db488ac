"""Safety-Gymnasium view of a constrained Gymnasium environment.

mechsim's constrained environments return the Gymnasium 5-tuple and put the step cost in ``info["cost"]``
(Safety-Gymnasium's ``SafetyGymnasium2Gymnasium`` convention).  :class:`ToSafetyGymnasium` turns that back
into the 6-tuple ``(obs, reward, cost, terminated, truncated, info)`` used by Safety-Gymnasium and OmniSafe
learners; ``reset`` is unchanged.  ``info`` is passed through untouched, so per-constraint costs
(``info["cost_<name>"]``, ``info["costs"]``) remain available.
"""

from __future__ import annotations

import math

import gymnasium

from mechsim.errors import InvalidInstanceError

__all__ = ["ToSafetyGymnasium"]


class ToSafetyGymnasium(gymnasium.Wrapper):
    """Return ``(obs, reward, cost, terminated, truncated, info)`` from ``step``.

    Parameters
    ----------
    env : gymnasium.Env
        An environment whose step ``info`` holds a finite scalar ``info["cost"]``.

    Raises
    ------
    ValueError
        From ``step``, if ``info`` has no ``"cost"`` or it is not a finite number (as Safety-Gymnasium's
        ``Gymnasium2SafetyGymnasium`` does).

    Examples
    --------
    >>> import gymnasium, mechsim
    >>> from mechsim.envs.safety import ToSafetyGymnasium
    >>> env = ToSafetyGymnasium(gymnasium.make("mechsim/Recommender-v0"))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, cost, terminated, truncated, info = env.step(0)
    """

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if "cost" not in info:
            raise InvalidInstanceError(
                "env: expected the step info to hold 'cost' (Safety-Gymnasium convention), found keys "
                f"{sorted(info)}", argument="env")
        cost = info["cost"]
        try:
            cost = float(cost)
        except (TypeError, ValueError):
            raise InvalidInstanceError(f"env: expected info['cost'] to be a number, found {cost!r}",
                                       argument="env") from None
        if not math.isfinite(cost):
            raise InvalidInstanceError(f"env: expected a finite info['cost'], found {cost}", argument="env")
        return obs, reward, cost, terminated, truncated, info
