r"""Adapters that plug mechsim's environments into reinforcement-learning libraries.

Nothing here imports torch, Stable-Baselines3 or Ray: the adapters are plain Gymnasium / PettingZoo
wrappers, so they work in the core install and with any learner.  The examples in ``examples/`` and the
``rl``-marked tests show them driving Stable-Baselines3, sb3-contrib and RLlib.

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

which with :math:`K_p = K_d = 0` is projected dual (sub)gradient ascent with step :math:`K_i`.  The
multipliers live in one small :class:`LagrangeMultipliers` object shared by every copy of the wrapper, so
all copies of an in-process vector environment (``DummyVecEnv``, ``gymnasium.vector.SyncVectorEnv``)
feed and read the same :math:`\lambda`.  (Subprocess vector environments copy the object into each
worker; use in-process vectorisation with this wrapper.)

**Debate against a fixed opponent** (:class:`DebateVsOpponent`).  A single-agent Gymnasium view of
``mechsim/Debate-v0``: the learner plays one debater, a fixed opponent (exact minimax, greedy, random, or
any policy in :mod:`mechsim.debate.debaters` format) plays the other.  Observations are flat, the legal
reveals are exposed through ``action_masks()`` (sb3-contrib ``MaskablePPO``) and ``info["action_mask"]``,
and every episode reports the exact value of the best response to the opponent,

.. math::  V(S) = \begin{cases} u(S) & |S| = L \\ \max_{f \notin S} V(S \cup f) & \text{learner to move} \\
           \operatorname{op}_{f \notin S} V(S \cup f) & \text{opponent to move} \end{cases}

with op = min for the minimax opponent (then :math:`V(\varnothing)` is the game's minimax value) and the
expectation under the opponent's reveal probabilities otherwise: the most any learner can score.

**One-hot spaces for multi-agent learners** (:class:`OneHotParallelEnv`).  RLlib's default encoders want
``Box`` observations and handle ``Discrete`` actions best; the wrapper one-hot encodes ``Discrete`` /
``MultiDiscrete`` observations of a PettingZoo parallel environment and (optionally) flattens
``MultiDiscrete`` actions into one ``Discrete``.  :func:`hiring_rllib_env` builds the hiring environment
that way.

**Scripted agents** (:class:`ScriptedAgents`).  An incentive audit asks whether *one* agent gains by
deviating while the others obey and report truthfully.  The wrapper lets fixed policies play some agents
inside the environment, so that a learner faces exactly that situation;
:func:`obedient_truthful_hiring_policy` is the hiring agents' obedient, truthful play.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo.utils.env import ParallelEnv

from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator, check_array, check_choice, check_integer

__all__ = [
    "DebateVsOpponent",
    "LagrangeMultipliers",
    "LagrangianReward",
    "OneHotParallelEnv",
    "ScriptedAgents",
    "hiring_rllib_env",
    "obedient_truthful_hiring_policy",
]


# ============================================================================ Lagrangian reward
class LagrangeMultipliers:
    r"""Multipliers :math:`\lambda \ge 0` of a constrained RL problem, updated from finished episodes.

    Parameters
    ----------
    limits : array_like, shape (m,)
        :math:`d_k`, limits on the expected *episode total* of each cost (in the order of the environment's
        ``info["costs"]``).  Floors are negative limits on signed costs (mechsim's recommender: at least
        ``C`` likes per session is ``cost_like <= -C``).
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
            names = tuple(str(n) for n in names)
            if len(names) != m:
                raise InvalidInstanceError(f"names: expected {m} names (one per limit), found {len(names)}",
                                           argument="names")
        self.names = names
        self._lambda = start.copy()
        self._integral = start.copy()      # the I term starts at the initial multipliers
        self._previous: np.ndarray | None = None
        self._pending: list[np.ndarray] = []
        self.history: list[np.ndarray] = []
        self.cost_history: list[np.ndarray] = []
        self.n_episodes = 0

    @staticmethod
    def _gain(name, value, m) -> np.ndarray:
        arr = np.broadcast_to(check_array(name, value), (m,)).astype(float) if np.ndim(value) == 0 \
            else check_array(name, value, shape=(m,))
        if np.any(arr < 0):
            raise InvalidInstanceError(f"{name}: expected non-negative values, found {arr.min()}", argument=name)
        return np.array(arr, dtype=float)

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
        error = j - self.limits
        self._integral = np.maximum(0.0, self._integral + self.ki * error)
        rise = np.zeros_like(j) if self._previous is None else np.maximum(0.0, j - self._previous)
        self._previous = j.copy()
        self._lambda = np.clip(self.kp * error + self._integral + self.kd * rise, 0.0, self.max_value)
        self.history.append(self._lambda.copy())
        self.cost_history.append(j.copy())
        return self.lambdas

    def __repr__(self):
        names = self.names or tuple(f"c{k}" for k in range(self.n_constraints))
        body = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, self._lambda))
        return f"LagrangeMultipliers({body}; {len(self.history)} updates)"


class LagrangianReward(gymnasium.Wrapper):
    r"""Replace the reward by :math:`r_t - \lambda \cdot c_t` and update :math:`\lambda` at episode ends.

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

    Notes
    -----
    ``info`` gains ``"reward_unconstrained"`` (the original reward), ``"lambdas"`` (the multipliers used for
    this step) and, at the end of an episode, ``"episode_costs"`` (the cost totals of the episode).  Wrap
    the environment in a ``Monitor`` *before* this wrapper to log the original return.

    Examples
    --------
    >>> import gymnasium, mechsim
    >>> from mechsim.envs.rl import LagrangeMultipliers, LagrangianReward
    >>> lm = LagrangeMultipliers([-1.0], ki=20.0, names=["like"])  # at least one like per session
    >>> env = LagrangianReward(gymnasium.make("mechsim/Recommender-v0", constraints=["like"]), lm)
    >>> obs, info = env.reset(seed=0)
    >>> obs, r, terminated, truncated, info = env.step(0)
    >>> bool(r == info["reward_unconstrained"] - info["lambdas"] @ info["costs"])
    True
    """

    def __init__(self, env: gymnasium.Env, multipliers: LagrangeMultipliers, *, cost_key: str = "costs",
                 update: bool = True):
        super().__init__(env)
        if not isinstance(multipliers, LagrangeMultipliers):
            raise InvalidInstanceError(f"multipliers: expected a LagrangeMultipliers, found "
                                       f"{type(multipliers).__name__}", argument="multipliers")
        names = getattr(env.unwrapped, "constraint_names", None)
        if names is not None and len(names) != multipliers.n_constraints:
            raise InvalidInstanceError(
                f"multipliers: expected {len(names)} limits (the environment's constraints {tuple(names)}), "
                f"found {multipliers.n_constraints}", argument="multipliers")
        self.multipliers = multipliers
        self.cost_key = cost_key
        self.update = bool(update)
        self._episode_costs = np.zeros(multipliers.n_constraints)

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
        obs, info = self.env.reset(seed=seed, options=options)
        info = dict(info)
        info["lambdas"] = self.multipliers.lambdas
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        costs = self._costs(info)
        lambdas = self.multipliers.lambdas
        self._episode_costs += costs
        info = dict(info)
        info["reward_unconstrained"] = float(reward)
        info["lambdas"] = lambdas
        if terminated or truncated:
            info["episode_costs"] = self._episode_costs.copy()
            if self.update:
                self.multipliers.record_episode(self._episode_costs)
        return obs, float(reward) - float(lambdas @ costs), terminated, truncated, info


# ============================================================================ debate vs a fixed opponent
class _UniformPolicy:
    """Reveals a uniformly random unrevealed feature (the debaters' ``probabilities`` format)."""

    def probabilities(self, features, revealed, own_decision, other_decision):
        free = ~np.asarray(revealed, dtype=bool)
        return free / free.sum(axis=1, keepdims=True)


class DebateVsOpponent(gymnasium.Env):
    r"""Single-agent Gymnasium view of ``mechsim/Debate-v0``: the learner against a fixed opponent.

    Parameters
    ----------
    debate_kwargs : dict, optional
        Keyword arguments of :class:`mechsim.envs.debate.raw_env` (default: the demonstration game).
    opponent : {"minimax", "greedy", "random"} or policy, default "minimax"
        The other debater.  ``"minimax"`` plays an exact minimax move (lowest feature index among optimal
        ones); ``"greedy"`` is :class:`mechsim.debate.debaters.GreedyDebater`; ``"random"`` reveals a
        uniformly random unrevealed feature; any object with
        ``probabilities(features (F,), revealed (n,F), own_decision, other_decision) -> (n,F)``
        (the :mod:`mechsim.debate.debaters` format) is sampled.
    learner : {0, 1}, default 0
        Which debater the learner plays (``debater_0`` argues the first decision).
    compute_value : bool, default True
        Compute the exact best-response value of each episode (``info["best_response_value"]``); this
        solves the game tree, cheap for small games (C(F, L) leaves).
    illegal_action : {"lose", "raise"}, default "lose"
        Revealing an already revealed feature: ``"lose"`` ends the episode with reward -1 and
        ``info["illegal_action"] = True`` (the convention of PettingZoo's ``TerminateIllegalWrapper``, so that
        unmasked learners and Gymnasium's checker can act freely); ``"raise"`` raises ``ValueError``.

    Spaces
    ------
    observation : ``Box`` float32 ``[x (F), revealed (F), one-hot own decision (D), one-hot other decision
    (D), learner moves first (1)]``.  Both decisions are part of the game's public description (the judge
    compares them), so the learner sees the opponent's decision too.
    action : ``Discrete(F)``, the feature to reveal; legal ones are ``action_masks()`` (bool) and
    ``info["action_mask"]`` (int8).

    Reward: 0 until the last reveal, then the judge outcome for the learner in {-1, 0, 1}.  When the
    opponent moves first, its first reveal happens inside ``reset``.  Info at the end: ``"outcome"``,
    ``"evidence"`` and ``"best_response_value"`` (the most any policy can expect in this episode against this
    opponent; the minimax value of the game for ``opponent="minimax"``).

    Examples
    --------
    >>> from mechsim.envs.rl import DebateVsOpponent
    >>> env = DebateVsOpponent(opponent="random")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_masks().sum() in (7, 8)
    ((25,), True)
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, debate_kwargs: dict | None = None, opponent="minimax", learner: int = 0,
                 compute_value: bool = True, illegal_action: str = "lose", render_mode: str | None = None):
        from mechsim.envs.debate import raw_env

        kwargs = dict(debate_kwargs or {})
        if "render_mode" in kwargs:
            raise InvalidInstanceError("debate_kwargs: expected no render_mode (pass it to DebateVsOpponent), "
                                       "found one", argument="debate_kwargs")
        self.game = raw_env(**kwargs)
        self.learner = int(check_choice("learner", learner, (0, 1)))
        self.render_mode = check_choice("render_mode", render_mode, (None, "ansi"))
        self.compute_value = bool(compute_value)
        self.illegal_action = check_choice("illegal_action", illegal_action, ("lose", "raise"))
        self._opponent_kind, self._opponent_policy = self._check_opponent(opponent)
        F, D = self.game.n_features, self.game.n_decisions
        self._F, self._D = F, D
        low = np.concatenate([np.full(F, -np.inf), np.zeros(F + 2 * D + 1)]).astype(np.float32)
        high = np.concatenate([np.full(F, np.inf), np.ones(F + 2 * D + 1)]).astype(np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = spaces.Discrete(F)
        self._agents = self.game.possible_agents
        self._me = self._agents[self.learner]
        self._done = True

    def _check_opponent(self, opponent):
        if isinstance(opponent, str):
            kind = check_choice("opponent", opponent, ("minimax", "greedy", "random"))
            if kind == "greedy":
                from mechsim.debate.debaters import GreedyDebater
                return kind, GreedyDebater(self.game.judge)
            if kind == "random":
                return kind, _UniformPolicy()
            return kind, None
        if not callable(getattr(opponent, "probabilities", None)):
            raise InvalidInstanceError("opponent: expected 'minimax', 'greedy', 'random' or an object with "
                                       f"probabilities(), found {type(opponent).__name__}", argument="opponent")
        return "policy", opponent

    # ------------------------------------------------------------------ exact game tree
    def _leaves(self) -> dict[int, float]:
        """Judge outcome for the learner on every evidence set of size L, keyed by bit mask (one batch)."""
        F, L = self._F, self._L
        sets = list(itertools.combinations(range(F), L))
        masks = np.zeros((len(sets), F), dtype=bool)
        for row, chosen in enumerate(sets):
            masks[row, list(chosen)] = True
        n = len(sets)
        x = np.broadcast_to(self._x, (2 * n, F))
        decisions = np.repeat(np.asarray(self._decisions, dtype=np.int64), n)
        s = np.asarray(self.game.judge.score(x, np.concatenate([masks, masks]), decisions), dtype=float)
        u = np.sign(s[:n] - s[n:])
        if self.learner == 1:
            u = -u
        bits = masks.astype(np.int64) @ (1 << np.arange(F, dtype=np.int64))
        return dict(zip(bits.tolist(), u.tolist()))

    def _opponent_probs(self, mask_bits: int) -> np.ndarray:
        revealed = np.array([[(mask_bits >> f) & 1 for f in range(self._F)]], dtype=bool)
        own, other = self._decisions[1 - self.learner], self._decisions[self.learner]
        p = np.asarray(self._opponent_policy.probabilities(self._x, revealed, own, other), dtype=float)[0]
        if p.shape != (self._F,) or not np.all(np.isfinite(p)) or p.min() < 0 or abs(p.sum() - 1) > 1e-9 \
                or p[revealed[0]].max(initial=0.0) > 1e-12:
            raise InvalidInstanceError("opponent: expected probabilities over unrevealed features summing to 1, "
                                       f"found {p!r}", argument="opponent")
        return p

    def _value(self, mask_bits: int, depth: int) -> float:
        """Best-response value for the learner from the evidence set ``mask_bits`` (memoised)."""
        memo = self._memo
        if mask_bits in memo:
            return memo[mask_bits]
        if depth == self._L:
            v = self._leaf_values[mask_bits]
        else:
            children = {f: self._value(mask_bits | (1 << f), depth + 1)
                        for f in range(self._F) if not (mask_bits >> f) & 1}
            if self._mover(depth) == self.learner:
                v = max(children.values())
            elif self._opponent_kind == "minimax":
                v = min(children.values())
            else:
                p = self._opponent_probs(mask_bits)
                v = float(sum(p[f] * val for f, val in children.items()))
        memo[mask_bits] = v
        return v

    def _mover(self, depth: int) -> int:
        return self._first_mover if depth % 2 == 0 else 1 - self._first_mover

    # ------------------------------------------------------------------ gymnasium API
    def _obs(self) -> np.ndarray:
        F, D = self._F, self._D
        o = np.zeros(2 * F + 2 * D + 1, dtype=np.float32)
        o[:F] = self._x
        o[F:2 * F] = self._revealed
        o[2 * F + self._decisions[self.learner]] = 1.0
        o[2 * F + D + self._decisions[1 - self.learner]] = 1.0
        o[-1] = float(self._first_mover == self.learner)
        return o

    def action_masks(self) -> np.ndarray:
        """Legal reveals (bool, ``(F,)``): the features not yet revealed."""
        return ~self._revealed

    def _info(self) -> dict:
        return {"action_mask": (~self._revealed).astype(np.int8)}

    def _opponent_move(self) -> None:
        bits = self._bits
        if self._opponent_kind == "minimax":
            depth = len(self.game.evidence)
            best, move = math.inf, -1
            for f in range(self._F):
                if not (bits >> f) & 1:
                    v = self._value(bits | (1 << f), depth + 1)
                    if v < best:
                        best, move = v, f
        else:
            p = self._opponent_probs(bits)
            move = int(self._rng.choice(self._F, p=p))
        self._reveal(move)

    def _reveal(self, f: int) -> None:
        self.game.step(f)
        self._revealed[f] = True
        self._bits |= 1 << f

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        game_seed = int(self.np_random.integers(2**63))
        self._rng = as_generator(int(self.np_random.integers(2**63)))
        self.game.reset(seed=game_seed)
        self._x = self.game.current_features
        self._decisions = self.game.current_decisions
        self._L = self.game.n_evidence
        self._first_mover = self.game.infos[self._me]["first_mover"]
        self._revealed = np.zeros(self._F, dtype=bool)
        self._bits = 0
        self._memo: dict[int, float] = {}
        if self.compute_value or self._opponent_kind == "minimax":
            self._leaf_values = self._leaves()
        self._done = False
        if self.compute_value or self._opponent_kind == "minimax":
            self._start_value = self._value(0, 0)
        if self.game.agent_selection != self._me:
            self._opponent_move()
        info = self._info()
        if self.compute_value:
            info["best_response_value"] = self._start_value
        return self._obs(), info

    def step(self, action):
        if self._done:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset() first")
        if isinstance(action, np.ndarray) and action.shape in ((), (1,)):
            action = action.reshape(()).item()
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or not 0 <= action < self._F:
            raise InvalidInstanceError(f"action: expected a feature index in [0, {self._F}), found {action!r}",
                                       argument="action")
        if self._revealed[action] and self.illegal_action == "lose":
            self._done = True
            info = self._info()
            info.update(outcome=-1.0, evidence=self.game.evidence, illegal_action=True)
            if self.compute_value:
                info["best_response_value"] = self._start_value
            return self._obs(), -1.0, True, False, info
        if self._revealed[action]:
            raise InvalidInstanceError(f"action: expected an unrevealed feature (see action_masks()), found "
                                       f"{action}, which is already revealed", argument="action")
        self._reveal(int(action))
        if not self.game.terminations[self._me]:
            self._opponent_move()
        info = self._info()
        reward = 0.0
        if self.game.terminations[self._me]:
            self._done = True
            reward = float(self.game.infos[self._me]["outcome"])
            info.update(outcome=reward, evidence=self.game.evidence)
            if self.compute_value:
                info["best_response_value"] = self._start_value
        return self._obs(), reward, self._done, False, info

    def render(self):
        if self.render_mode != "ansi":
            return None
        self.game.render_mode = "ansi"
        try:
            return self.game.render()
        finally:
            self.game.render_mode = None


# ============================================================================ one-hot parallel envs
def _one_hot_layout(space, name):
    if isinstance(space, spaces.Discrete):
        return np.array([int(space.n)]), np.array([int(space.start)])
    if isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return np.asarray(space.nvec, dtype=np.int64), np.asarray(space.start, dtype=np.int64)
    raise InvalidInstanceError(f"{name}: expected a Discrete or one-dimensional MultiDiscrete space, found {space}",
                               argument=name)


class OneHotParallelEnv(ParallelEnv):
    """PettingZoo parallel wrapper: one-hot ``Box`` observations, optionally flat ``Discrete`` actions.

    Parameters
    ----------
    env : pettingzoo.ParallelEnv
        Every agent's observation space must be ``Discrete`` or 1-D ``MultiDiscrete``; so must the action
        spaces when ``flatten_actions`` is True.
    flatten_actions : bool, default True
        Replace a ``MultiDiscrete(nvec)`` action by ``Discrete(prod(nvec))`` (row-major, as
        ``numpy.unravel_index``).

    Notes
    -----
    An observation ``(o_1, ..., o_k)`` becomes the concatenation of the one-hot vectors of each component
    (float32, ``sum(nvec)`` entries).  Infos, rewards, terminations and truncations pass through unchanged.
    """

    def __init__(self, env: ParallelEnv, flatten_actions: bool = True):
        self.env = env
        self.metadata = dict(getattr(env, "metadata", {}))
        self.possible_agents = list(env.possible_agents)
        self.render_mode = getattr(env, "render_mode", None)
        self.flatten_actions = bool(flatten_actions)
        self._obs_layout, self._obs_spaces, self._act_spaces, self._act_nvec = {}, {}, {}, {}
        for a in self.possible_agents:
            nvec, start = _one_hot_layout(env.observation_space(a), f"observation_space({a!r})")
            offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
            self._obs_layout[a] = (offsets - start, int(nvec.sum()))
            self._obs_spaces[a] = spaces.Box(0.0, 1.0, shape=(int(nvec.sum()),), dtype=np.float32)
            act = env.action_space(a)
            if self.flatten_actions and isinstance(act, spaces.MultiDiscrete):
                anvec, astart = _one_hot_layout(act, f"action_space({a!r})")
                self._act_nvec[a] = (tuple(int(v) for v in anvec), astart)
                self._act_spaces[a] = spaces.Discrete(int(np.prod(anvec)))
            else:
                self._act_spaces[a] = act

    @property
    def agents(self):
        return self.env.agents

    @property
    def unwrapped(self):
        return self.env.unwrapped

    def observation_space(self, agent):
        return self._obs_spaces[agent]

    def action_space(self, agent):
        return self._act_spaces[agent]

    def encode(self, agent, observation) -> np.ndarray:
        """One-hot encoding of a raw observation of ``agent``."""
        shift, size = self._obs_layout[agent]
        out = np.zeros(size, dtype=np.float32)
        out[np.asarray(observation, dtype=np.int64).reshape(-1) + shift] = 1.0
        return out

    def decode_action(self, agent, action):
        """The wrapped environment's action for a (possibly flat) action of ``agent``."""
        if agent not in self._act_nvec:
            return action
        nvec, start = self._act_nvec[agent]
        a = int(np.asarray(action).reshape(()))
        if not 0 <= a < self._act_spaces[agent].n:
            raise InvalidInstanceError(f"actions[{agent!r}]: expected an integer in [0, "
                                       f"{self._act_spaces[agent].n}), found {action!r}", argument="actions")
        return np.asarray(np.unravel_index(a, nvec), dtype=np.int64) + start

    def encode_action(self, agent, components) -> int:
        """The flat action of ``agent`` for the wrapped environment's ``MultiDiscrete`` action ``components``."""
        nvec, start = self._act_nvec[agent]
        return int(np.ravel_multi_index(tuple(np.asarray(components, dtype=np.int64) - start), nvec))

    def reset(self, seed=None, options=None):
        obs, infos = self.env.reset(seed=seed, options=options)
        return {a: self.encode(a, o) for a, o in obs.items()}, infos

    def step(self, actions):
        raw = {a: self.decode_action(a, act) for a, act in actions.items()}
        obs, rewards, terms, truncs, infos = self.env.step(raw)
        return {a: self.encode(a, o) for a, o in obs.items()}, rewards, terms, truncs, infos

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()

    def state(self):
        return self.env.state()


class ScriptedAgents(ParallelEnv):
    """PettingZoo parallel wrapper in which fixed policies play some of the agents.

    Parameters
    ----------
    env : pettingzoo.ParallelEnv
    policies : dict
        ``{agent: policy}``; ``policy(observation) -> action`` is called with the agent's raw observation at
        every step while the agent is alive.  These agents disappear from the wrapper's ``possible_agents``,
        ``agents`` and returned dictionaries; the remaining agents are the learners.
    """

    def __init__(self, env: ParallelEnv, policies: dict):
        unknown = [a for a in policies if a not in env.possible_agents]
        if unknown:
            raise InvalidInstanceError(f"policies: expected agents among {env.possible_agents}, found {unknown}",
                                       argument="policies")
        if not all(callable(p) for p in policies.values()):
            raise InvalidInstanceError("policies: expected callables observation -> action", argument="policies")
        self.env = env
        self.policies = dict(policies)
        self.metadata = dict(getattr(env, "metadata", {}))
        self.render_mode = getattr(env, "render_mode", None)
        self.possible_agents = [a for a in env.possible_agents if a not in self.policies]
        if not self.possible_agents:
            raise InvalidInstanceError("policies: expected at least one agent left to learn, found none",
                                       argument="policies")
        self._scripted_obs: dict = {}

    @property
    def agents(self):
        return [a for a in self.env.agents if a not in self.policies]

    @property
    def unwrapped(self):
        return self.env.unwrapped

    def observation_space(self, agent):
        return self.env.observation_space(agent)

    def action_space(self, agent):
        return self.env.action_space(agent)

    def _split(self, d: dict):
        self._scripted_obs.update({a: v for a, v in d.items() if a in self.policies})
        return {a: v for a, v in d.items() if a not in self.policies}

    def reset(self, seed=None, options=None):
        self._scripted_obs = {}
        obs, infos = self.env.reset(seed=seed, options=options)
        return self._split(obs), {a: v for a, v in infos.items() if a not in self.policies}

    def step(self, actions):
        full = dict(actions)
        for a in self.env.agents:
            if a in self.policies:
                full[a] = self.policies[a](self._scripted_obs[a])
        obs, rewards, terms, truncs, infos = self.env.step(full)
        keep = lambda d: {a: v for a, v in d.items() if a not in self.policies}
        return self._split(obs), keep(rewards), keep(terms), keep(truncs), keep(infos)

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()


def obedient_truthful_hiring_policy(observation) -> np.ndarray:
    """Hiring agent that exerts the recommended effort and reports its signal: ``(recommended, signal)``.

    ``observation`` is the raw ``(phase, recommended, exerted, signal)`` of ``mechsim/Hiring-v0``.
    """
    _, recommended, _, signal = (int(v) for v in observation)
    return np.array([recommended, signal], dtype=np.int64)


def hiring_rllib_env(config: dict | None = None) -> OneHotParallelEnv:
    """``mechsim/Hiring-v0`` with one-hot observations and flat ``Discrete(E_i * S_i)`` actions.

    ``config`` holds keyword arguments of :class:`mechsim.envs.hiring.HiringParallelEnv` (``instance``,
    ``mechanism``, ``max_cycles``, ``cost_timing``) and optionally ``"learners"``: the agents that learn
    (default all); the others obey and report truthfully (:func:`obedient_truthful_hiring_policy`), which
    is the situation an incentive audit considers.  Made for RLlib's ``register_env``::

        from ray.rllib.env import ParallelPettingZooEnv
        register_env("hiring", lambda cfg: ParallelPettingZooEnv(hiring_rllib_env(cfg)))

    A flat action ``k`` means ``(effort, report) = divmod(k, S_i)``.
    """
    from mechsim.envs.hiring import HiringParallelEnv

    kwargs = dict(config or {})
    learners = kwargs.pop("learners", None)
    env = HiringParallelEnv(**kwargs)
    if learners is not None:
        learners = [learners] if isinstance(learners, str) else list(learners)
        unknown = [a for a in learners if a not in env.possible_agents]
        if unknown or not learners:
            raise InvalidInstanceError(f"learners: expected a non-empty subset of {env.possible_agents}, found "
                                       f"{learners}", argument="learners")
        scripted = {a: obedient_truthful_hiring_policy for a in env.possible_agents if a not in learners}
        if scripted:
            env = ScriptedAgents(env, scripted)
    return OneHotParallelEnv(env, flatten_actions=True)
