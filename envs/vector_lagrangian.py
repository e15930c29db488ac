r"""The Lagrangian reward over a Gymnasium vector environment: every sub-env's reward becomes r - lambda . c.

:class:`VectorLagrangianReward` is :class:`~mechsim.envs.lagrangian_reward.LagrangianReward` (whose module states
the Lagrangian relaxation and the PID update of the multipliers) for a ``gymnasium.vector.VectorEnv`` such as the
native recommender and sepsis vector envs.  With the sub-env costs :math:`c_{i,t}` (row ``i`` of
``info[cost_key]``, shape ``(N, m)``, or ``(N,)`` for one cost) and offsets :math:`o_{i,t}`, sub-env ``i`` gets

.. math::  r'_{i,t} = r_{i,t} - \lambda^{(i)}_t \cdot (c_{i,t} - o_{i,t})

and every finished episode's cost totals :math:`\sum_t \gamma^t c_{i,t}` are fed to the one shared
:class:`~mechsim.envs.lagrangian_reward.LagrangeMultipliers` (the same object and update API as the single-env
wrapper).

**The same numbers as N single-env wrappers.**  The multipliers a sub-env uses are those a
``SyncVectorEnv`` over ``N`` copies of ``LagrangianReward`` sharing one ``LagrangeMultipliers`` would give it:
``SyncVectorEnv`` steps sub-env 0, then 1, ...; each copy reads :math:`\lambda` before recording its own finished
episode, so sub-env ``i`` sees the updates caused by episodes that ended at this step in sub-envs ``j < i``.  The
wrapper records the step's finished episodes in index order
(:meth:`~mechsim.envs.lagrangian_reward.LagrangeMultipliers.record_episodes`, which says after which of them an
update happened) and gives each sub-env the multipliers after the updates of lower indices, by one
``searchsorted``; the rest is array arithmetic too.  Tested sub-env by sub-env against that ``SyncVectorEnv``.

**Autoreset.**  Next-step autoreset (the native envs' and ``SyncVectorEnv``'s default): the step after a sub-env's
episode ended is its reset; its reward is passed through (0) and its cost totals restart.  ``reset(options=
{"reset_mask": mask})`` restarts the totals of the masked sub-envs only, which is how
:func:`~mechsim.envs.sb3_vector.sb3_vec_env` resets finished sub-envs, so the wrapper works under it.  Disabled
autoreset works the same way; same-step autoreset is refused (the final costs would be in another info layout).

**Infos** gain, as arrays with ``"_key"`` masks: ``reward_unconstrained`` ``(N,)``, ``lambdas`` ``(N, m)`` (the
multipliers used at this step), and ``episode_costs`` ``(N, m)``, masked to the sub-envs whose episode ended.

Examples
--------
>>> import gymnasium, numpy as np, mechsim
>>> from mechsim.envs import LagrangeMultipliers, VectorLagrangianReward
>>> lm = LagrangeMultipliers([99.0], ki=20.0, names=["like"])
>>> base = gymnasium.make_vec("mechsim/Recommender-v0", num_envs=4, constraints=["like"])
>>> envs = VectorLagrangianReward(base, lm, subtract_offsets=True)
>>> obs, info = envs.reset(seed=0)
>>> obs, r, terminated, truncated, info = envs.step(np.zeros(4, dtype=np.int64))
>>> info["lambdas"].shape, r.shape
((4, 1), (4,))
"""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from mechsim.envs.lagrangian_reward import LagrangeMultipliers, check_lagrangian_options
from mechsim.errors import InvalidInstanceError

__all__ = ["VectorLagrangianReward"]


class VectorLagrangianReward(VectorWrapper):
    r"""Replace sub-env ``i``'s reward by :math:`r_i - \lambda \cdot (c_i - o_i)`; update :math:`\lambda` from
    finished episodes (see the module docstring).

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        With next-step or disabled autoreset; ``info[cost_key]`` holds each sub-env's cost vector.
    multipliers, cost_key, update, discount, subtract_offsets
        As :class:`~mechsim.envs.lagrangian_reward.LagrangianReward`.
    """

    def __init__(self, env: VectorEnv, multipliers: LagrangeMultipliers, *, cost_key: str = "costs",
                 update: bool = True, discount: float = 1.0, subtract_offsets: bool = False):
        if not isinstance(env, VectorEnv):
            raise InvalidInstanceError(f"env: expected a gymnasium.vector.VectorEnv, found {type(env).__name__}",
                                       argument="env")
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED):
            raise InvalidInstanceError(f"env: expected a vector env with next-step or disabled autoreset, found "
                                       f"{mode}", argument="env")
        check_lagrangian_options(env, multipliers, cost_key, update, discount, subtract_offsets)
        super().__init__(env)
        self.multipliers = multipliers
        self.cost_key = cost_key
        self.update = bool(update)
        self.discount = float(discount)
        self.subtract_offsets = bool(subtract_offsets)
        N, m = self.num_envs, multipliers.n_constraints
        self._episode_costs = np.zeros((N, m))
        self._weight = np.ones(N)
        self._pending = np.zeros(N, dtype=bool)
        self._next_step = mode is AutoresetMode.NEXT_STEP

    def _costs(self, info) -> np.ndarray:
        N, m = self.num_envs, self.multipliers.n_constraints
        if self.cost_key not in info:
            raise InvalidInstanceError(f"env: expected the step info to hold {self.cost_key!r}, found keys "
                                       f"{sorted(info)}", argument="env")
        c = np.asarray(info[self.cost_key], dtype=float)
        if c.shape == (N,) and m == 1:
            c = c[:, None]
        if c.shape != (N, m) or not np.all(np.isfinite(c)):
            raise InvalidInstanceError(f"env: expected info[{self.cost_key!r}] to hold {N} rows of {m} finite "
                                       f"costs, found shape {c.shape}", argument="env")
        return c

    @staticmethod
    def _masked(info: dict, key: str, value: np.ndarray, mask: np.ndarray) -> None:
        info[key] = value
        info["_" + key] = mask

    def reset(self, *, seed=None, options=None):
        """Reset (all sub-envs, or ``options["reset_mask"]``) and restart their cost totals."""
        obs, info = self.env.reset(seed=seed, options=options)
        mask = options.get("reset_mask") if isinstance(options, dict) else None
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        self._episode_costs[mask] = 0.0
        self._weight[mask] = 1.0
        self._pending[mask] = False
        info = dict(info)
        self._masked(info, "lambdas", np.tile(self.multipliers.lambdas, (self.num_envs, 1)), mask.copy())
        return obs, info

    def step(self, actions):
        """Step every sub-env, penalise its reward, feed finished episodes to the multipliers."""
        obs, reward, terminated, truncated, info = self.env.step(actions)
        N = self.num_envs
        costs = self._costs(info)
        pending = self._pending
        if pending.any():  # reset steps (next-step autoreset) restart their totals and are not accumulated
            live = ~pending
            self._episode_costs[pending] = 0.0
            self._weight[pending] = 1.0
            step_costs = np.where(live[:, None], costs, 0.0)
        else:
            live, step_costs = None, costs
        if self.discount == 1.0:
            self._episode_costs += step_costs
        else:
            self._episode_costs += self._weight[:, None] * step_costs
            if live is None:
                self._weight *= self.discount
            else:
                self._weight[live] *= self.discount
        done = np.asarray(terminated) | np.asarray(truncated)
        if live is not None:
            done &= live
        lam = self.multipliers.lambdas
        ends = np.flatnonzero(done)
        if ends.size and self.update:
            # SyncVectorEnv's order: sub-env j uses the multipliers after the updates caused by the episodes
            # that ended at this step in sub-envs i < j (each copy reads them before recording its own).
            updated = self.multipliers.record_episodes(self._episode_costs[ends])
            if updated.any():
                stack = np.vstack([lam, *self.multipliers.history[-int(updated.sum()):]])
                lambdas = stack[np.searchsorted(ends[updated], np.arange(N), side="left")]
            else:
                lambdas = np.broadcast_to(lam, (N, lam.size)).copy()
        else:
            lambdas = np.broadcast_to(lam, (N, lam.size)).copy()
        penalised = costs
        if self.subtract_offsets and "cost_offsets" in info:
            penalised = costs - np.asarray(info["cost_offsets"], dtype=float).reshape(costs.shape)
        reward = np.asarray(reward, dtype=float)
        out = reward - np.einsum("ij,ij->i", lambdas, penalised)
        if live is not None:
            out = np.where(live, out, reward)
        info = dict(info)
        everyone = np.ones(N, dtype=bool)
        self._masked(info, "reward_unconstrained", reward.copy(), everyone)
        self._masked(info, "lambdas", lambdas, everyone.copy())
        self._masked(info, "episode_costs", np.where(done[:, None], self._episode_costs, 0.0), done.copy())
        self._pending = done.copy() if self._next_step else np.zeros(N, dtype=bool)
        return obs, out, terminated, truncated, info
