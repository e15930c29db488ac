r"""A Lagrangian reward wrapper: any unconstrained learner becomes a constrained one.

**Lagrangian reward** (:class:`LagrangianReward`, :class:`LagrangeMultipliers`).  For a constrained MDP

.. math::  \max_\pi\ E_\pi\Big[\sum_t r_t\Big] \quad\text{s.t.}\quad
           J_k(\pi) = E_\pi\Big[\sum_t c_{k,t}\Big] \le d_k, \qquad k = 1..m,

the Lagrangian relaxation :math:`\max_\pi \min_{\lambda \ge 0} E[\sum_t r_t - \lambda \cdot c_t] + \lambda
\cdot d` is solved by any unconstrained learner trained on the reward :math:`r_t - \lambda \cdot c_t` while
the multipliers move against the constraint violation measured on finished episodes.  With the episode
cost totals :math:`\hat J` averaged over a batch of episodes, the error :math:`e = \hat J - d` drives a PID
controller (Stooke, Achiam & Abbeel 2020)

.. math::  I \leftarrow \max(0, I + K_i e), \qquad
           \lambda = \min\big(\lambda_{\max}, \max(0,\ K_p e + I + K_d \max(0, \hat J - \hat J_{prev}))\big),

which with :math:`K_p = K_d = 0` is projected dual (sub)gradient ascent with step :math:`K_i`.  The update
is the one :class:`~mechsim.learners.multipliers.PIDController` of mechsim, which the CMDP learners of
:mod:`mechsim.learners.lagrangian` use as well.  The multipliers live in one small
:class:`LagrangeMultipliers` object shared by every copy of the wrapper, so all copies of an in-process
vector environment (``DummyVecEnv``, ``gymnasium.vector.SyncVectorEnv``) feed and read the same
:math:`\lambda`.  (Subprocess vector environments copy the object into each
worker; use in-process vectorisation with this wrapper.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import gymnasium
import numpy as np

from mechsim.envs.signal_wrappers import check_gym_env
from mechsim.errors import InvalidInstanceError
from mechsim.learners.multipliers import PIDController, check_gains
from mechsim.validation import check_array, check_integer

__all__ = ["LagrangeMultipliers", "LagrangianReward"]


class LagrangeMultipliers:
    r"""Multipliers :math:`\lambda \ge 0` of a constrained RL problem, updated from finished episodes.

    Parameters
    ----------
    limits : array_like, shape (m,)
        :math:`d_k`, limits on the expected *episode total* of each cost (in the order of the environment's
        ``info["costs"]``).  Costs are non-negative (Safety-Gymnasium's convention); a floor is a limit on
        missed interactions (mechsim's recommender: at least ``C`` likes per session of ``max_steps``
        requests is ``cost_like <= max_steps - C``, :func:`mechsim.envs.recommender.session_slots`).
    ki : float or array_like, default 0.05
        Integral gain: the dual-ascent step per unit of violation.
    kp, kd : float or array_like, default 0
        Proportional and derivative gains (PID Lagrangian); zero gives plain projected dual ascent.
    initial : float or array_like, default 0
        Starting multipliers.
    max_value : float, default inf
        Upper bound on every multiplier (keeps the penalised reward bounded).
    batch_episodes : int, default 1
        Episodes averaged into :math:`\hat J` before each update (more episodes: less noisy steps).
    names : sequence of str, optional
        Constraint names (for display).

    Attributes
    ----------
    lambdas : ndarray, shape (m,)
        Current multipliers (a copy).
    history : list of ndarray
        Multipliers after each update.
    cost_history : list of ndarray
        :math:`\hat J` used at each update.
    n_episodes : int
        Episodes recorded so far.

    Examples
    --------
    >>> lm = LagrangeMultipliers([1.0], ki=0.5)
    >>> _ = lm.record_episode([3.0]); lm.lambdas    # violated by 2: lambda grows by 0.5 * 2
    array([1.])
    >>> _ = lm.record_episode([0.0]); lm.lambdas    # slack 1: it shrinks by 0.5, never below 0
    array([0.5])
    """

    def __init__(self, limits, *, ki=0.05, kp=0.0, kd=0.0, initial=0.0, max_value: float = math.inf,
                 batch_episodes: int = 1, names: Sequence[str] | None = None):
        self.limits = check_array("limits", limits, ndim=1)
        m = self.limits.size
        if m == 0:
            raise InvalidInstanceError("limits: expected at least one constraint, found an empty array",
                                       argument="limits")
        self.ki = self._gain("ki", ki, m)
        self.kp = self._gain("kp", kp, m)
        self.kd = self._gain("kd", kd, m)
        start = self._gain("initial", initial, m)
        if not (isinstance(max_value, (int, float, np.integer, np.floating)) and max_value > 0):
            raise InvalidInstanceError(f"max_value: expected a positive number, found {max_value!r}",
                                       argument="max_value")
        self.max_value = float(max_value)
        if np.any(start > self.max_value):
            raise InvalidInstanceError(f"initial: expected values <= max_value={self.max_value}, found "
                                       f"{start.max()}", argument="initial")
        self.batch_episodes = check_integer("batch_episodes", batch_episodes, minimum=1)
        if names is not None:
            if not isinstance(names, (tuple, list)):
                raise InvalidInstanceError(f"names: expected a sequence of {m} names, found {type(names).__name__}",
                                           argument="names")
            names = tuple(str(n) for n in names)
            if len(names) != m:
                raise InvalidInstanceError(f"names: expected {m} names (one per limit), found {len(names)}",
                                           argument="names")
        self.names = names
        self._lambda = start.copy()
        # The I term starts at the initial multipliers.
        self._controller = PIDController(m, kp=self.kp, ki=self.ki, kd=self.kd, initial=start,
                                         max_value=self.max_value)
        self._pending: list[np.ndarray] = []
        self.history: list[np.ndarray] = []
        self.cost_history: list[np.ndarray] = []
        self.n_episodes = 0

    @staticmethod
    def _gain(name, value, m) -> np.ndarray:
        return check_gains(name, value, m)

    @property
    def n_constraints(self) -> int:
        return self.limits.size

    @property
    def lambdas(self) -> np.ndarray:
        return self._lambda.copy()

    def record_episode(self, episode_costs) -> bool:
        """Record one finished episode's cost totals; update when a batch is complete.

        Returns True if the multipliers changed (an update happened).
        """
        costs = check_array("episode_costs", episode_costs, shape=(self.n_constraints,))
        return self._record(costs.copy())

    def record_episodes(self, episode_costs) -> np.ndarray:
        """Record several finished episodes (rows of ``episode_costs``, shape (k, m), k >= 1) in order, as ``k`` calls
        of :meth:`record_episode` would; returns a bool array: True for the rows after which an update
        happened."""
        rows = check_array("episode_costs", episode_costs, ndim=2)
        if rows.shape[0] == 0 or rows.shape[1] != self.n_constraints:
            raise InvalidInstanceError(f"episode_costs: expected one or more rows of {self.n_constraints} costs, "
                                       f"found shape {rows.shape}", argument="episode_costs")
        return np.array([self._record(row) for row in rows.copy()], dtype=bool)

    def _record(self, costs: np.ndarray) -> bool:
        self.n_episodes += 1
        self._pending.append(costs)
        if len(self._pending) < self.batch_episodes:
            return False
        self.update(np.mean(self._pending, axis=0))
        self._pending = []
        return True

    def update(self, mean_costs) -> np.ndarray:
        """One PID / dual-ascent step from the mean episode costs ``mean_costs``; returns the new lambdas."""
        j = check_array("mean_costs", mean_costs, shape=(self.n_constraints,))
        self._lambda = self._controller.update(j, self.limits)
        self.history.append(self._lambda.copy())
        self.cost_history.append(j.copy())
        return self.lambdas

    def __repr__(self):
        names = self.names or tuple(f"c{k}" for k in range(self.n_constraints))
        body = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, self._lambda))
        return f"LagrangeMultipliers({body}; {len(self.history)} updates)"


def check_lagrangian_options(env, multipliers, cost_key, update, discount, subtract_offsets) -> None:
    """The argument checks of :class:`LagrangianReward`, shared with its vector form
    (:class:`~mechsim.envs.vector_lagrangian.VectorLagrangianReward`)."""
    if not isinstance(cost_key, str):
        raise InvalidInstanceError(f"cost_key: expected the info key of the costs (a str), found "
                                   f"{type(cost_key).__name__} {cost_key!r}", argument="cost_key")
    for name, flag in (("update", update), ("subtract_offsets", subtract_offsets)):
        if not isinstance(flag, (bool, np.bool_)):
            raise InvalidInstanceError(f"{name}: expected a bool, found {type(flag).__name__} {flag!r}",
                                       argument=name)
    if not isinstance(multipliers, LagrangeMultipliers):
        raise InvalidInstanceError(f"multipliers: expected a LagrangeMultipliers, found "
                                   f"{type(multipliers).__name__}", argument="multipliers")
    names = getattr(env.unwrapped, "constraint_names", None)
    if names is not None and len(names) != multipliers.n_constraints:
        raise InvalidInstanceError(
            f"multipliers: expected {len(names)} limits (the environment's constraints {tuple(names)}), "
            f"found {multipliers.n_constraints}", argument="multipliers")
    if isinstance(discount, bool) or not isinstance(discount, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(discount) <= 1.0:
        raise InvalidInstanceError(f"discount: expected a number in [0, 1], found {discount!r}",
                                   argument="discount")


class LagrangianReward(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    r"""Replace the reward by :math:`r_t - \lambda \cdot (c_t - o_t)` and update :math:`\lambda` at episode ends.

    :math:`o_t` is the environment's ``info["cost_offsets"]`` (zero when it reports none); see
    ``subtract_offsets``.

    Parameters
    ----------
    env : gymnasium.Env
        A constrained environment whose step ``info[cost_key]`` holds the cost vector (mechsim's
        recommender: ``info["costs"]`` in the order of ``constraint_names``) or a scalar cost.
    multipliers : LagrangeMultipliers
        Shared by every copy of the wrapper (pass the same object to each copy).
    cost_key : str, default "costs"
        Where the costs are in ``info``.
    update : bool, default True
        Feed finished episodes to ``multipliers`` (set False for evaluation copies).
    discount : float in [0, 1], default 1
        :math:`\gamma` of the episode cost totals fed to ``multipliers``, :math:`\sum_t \gamma^t c_t`
        (1: undiscounted totals); for a discounted constraint give the recommender the same ``cost_discount``.
    subtract_offsets : bool, default False
        Penalise :math:`c_t - o_t` instead of :math:`c_t` when the environment reports the policy-independent
        part of its costs in ``info["cost_offsets"]`` (mechsim's recommender: ``1`` per request and the
        leaving charge for floors, so that :math:`c - o = -x`, the signed interaction, and the reward is
        :math:`r_t + \lambda x_t`, the Lagrangian of the floor, with far less variance).  The multipliers are
        always fed the costs themselves.

    Notes
    -----
    The wrapper records its constructor arguments (``gymnasium.utils.RecordConstructorArgs``), so an env made
    with ``gymnasium.make`` keeps it in its ``spec`` and ``gymnasium.make(env.spec)`` rebuilds it around the
    *same* ``multipliers`` object.  ``info`` gains ``"reward_unconstrained"`` (the original reward),
    ``"lambdas"`` (the multipliers used for this step) and, at the end of an episode, ``"episode_costs"`` (the
    cost totals of the episode, discounted by ``discount``).  Wrap the environment in a ``Monitor`` *before*
    this wrapper to log the original return.

    Examples
    --------
    >>> import gymnasium, mechsim
    >>> from mechsim.envs import LagrangeMultipliers, LagrangianReward
    >>> lm = LagrangeMultipliers([99.0], ki=20.0, names=["like"])  # at least one like in 100 requests
    >>> base = gymnasium.make("mechsim/Recommender-v0", constraints=["like"])
    >>> env = LagrangianReward(base, lm, subtract_offsets=True)
    >>> obs, info = env.reset(seed=0)
    >>> obs, r, terminated, truncated, info = env.step(0)
    >>> penalised = info["costs"] - info["cost_offsets"]   # the signed interaction: -like
    >>> bool(r == info["reward_unconstrained"] - info["lambdas"] @ penalised)
    True
    """

    def __init__(self, env: gymnasium.Env, multipliers: LagrangeMultipliers, *, cost_key: str = "costs",
                 update: bool = True, discount: float = 1.0, subtract_offsets: bool = False):
        gymnasium.utils.RecordConstructorArgs.__init__(self, multipliers=multipliers, cost_key=cost_key,
                                                       update=update, discount=discount,
                                                       subtract_offsets=subtract_offsets)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        check_lagrangian_options(env, multipliers, cost_key, update, discount, subtract_offsets)
        self.multipliers = multipliers
        self.cost_key = cost_key
        self.update = bool(update)
        self.discount = float(discount)
        self.subtract_offsets = bool(subtract_offsets)
        self._episode_costs = np.zeros(multipliers.n_constraints)
        self._weight = 1.0

    def _costs(self, info) -> np.ndarray:
        if self.cost_key not in info:
            raise InvalidInstanceError(f"env: expected the step info to hold {self.cost_key!r}, found keys "
                                       f"{sorted(info)}", argument="env")
        c = np.atleast_1d(np.asarray(info[self.cost_key], dtype=float))
        if c.shape != (self.multipliers.n_constraints,) or not np.all(np.isfinite(c)):
            raise InvalidInstanceError(
                f"env: expected info[{self.cost_key!r}] to hold {self.multipliers.n_constraints} finite costs, "
                f"found {c!r}", argument="env")
        return c

    def reset(self, *, seed=None, options=None):
        self._episode_costs = np.zeros(self.multipliers.n_constraints)
        self._weight = 1.0
        obs, info = self.env.reset(seed=seed, options=options)
        info = dict(info)
        info["lambdas"] = self.multipliers.lambdas
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        costs = self._costs(info)
        lambdas = self.multipliers.lambdas
        if self.discount == 1.0:
            self._episode_costs += costs
        else:
            self._episode_costs += self._weight * costs
            self._weight *= self.discount
        info = dict(info)
        info["reward_unconstrained"] = float(reward)
        info["lambdas"] = lambdas
        if terminated or truncated:
            info["episode_costs"] = self._episode_costs.copy()
            if self.update:
                self.multipliers.record_episode(self._episode_costs)
        penalised = costs
        if self.subtract_offsets and "cost_offsets" in info:
            penalised = costs - np.asarray(info["cost_offsets"], dtype=float)
        return obs, float(reward) - float(lambdas @ penalised), terminated, truncated, info
