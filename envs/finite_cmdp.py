"""A Gymnasium environment that simulates any :class:`~mechsim.cmdp.FiniteCMDP`.

Observation: the state index (``Discrete(S)``); action: ``Discrete(A)``.  ``reset`` draws ``s0 ~ initial``;
``step(a)`` returns the reward ``r(s, a)``, draws ``s' ~ P(. | s, a)`` and reports the costs in Safety-
Gymnasium style: ``info["costs"]`` (array ``(K,)`` in the CMDP's constraint order), ``info["cost_<name>"]``
per constraint and ``info["cost"]``: the cost of the constraint when ``K = 1``, the sum of the costs when
``K > 1`` (0 when ``K = 0``).  The costs are the model's ``c_k(s, a)``; Safety-Gymnasium learners expect them
non-negative (:class:`~mechsim.envs.safety.ToSafetyGymnasium` refuses a negative one).  A model with signed
costs has the same constrained optimum after the shift ``c_k - m_k >= 0``, ``d_k - m_k / (1 - gamma)``
(``m_k = min c_k``), because every policy's discounted occupancy sums to ``1 / (1 - gamma)``; this holds for
the infinite-horizon values the learners estimate, not for truncated episode totals.

Episodes end with ``terminated=True`` on entering one of
``terminal_states`` (optional) and are truncated after ``max_episode_steps`` (default ``ceil(10 / (1 -
gamma))``, where ``gamma^H < 5e-5``, so Monte Carlo discounted returns lose almost nothing to truncation).

Sample-based learners (:mod:`mechsim.learners.lagrangian`, :mod:`mechsim.learners.tscac`) run on this env,
and their results are checked against the exact occupancy-LP optimum (:mod:`mechsim.solvers.cmdp_lp`) of the
same CMDP.

Example
-------
>>> import numpy as np
>>> from mechsim.cmdp import FiniteCMDP
>>> from mechsim.envs.finite_cmdp import FiniteCMDPEnv
>>> env = FiniteCMDPEnv(FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.5))
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(0)
>>> reward, info["costs"].tolist(), env.max_episode_steps
(1.0, [1.0], 20)

The environment is not registered with Gymnasium: it needs a model (``gymnasium.make`` cannot build it with
defaults).  Rendering: ``"ansi"`` (the time and state as text) or ``"rgb_array"`` (that text as a frame).
"""

from __future__ import annotations

import re
from typing import ClassVar

import gymnasium as gym
import numpy as np

from mechsim.cmdp.model import FiniteCMDP, _check_cmdp
from mechsim.envs._template import check_render_mode, text_frame
from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_integer

__all__ = ["FiniteCMDPEnv"]


class FiniteCMDPEnv(gym.Env):
    """Gymnasium simulator of a finite CMDP (costs in ``info``; limits live in the learner's config).

    Parameters
    ----------
    cmdp : FiniteCMDP
    max_episode_steps : int, optional
        Truncation horizon; default ``ceil(10 / (1 - gamma))``.
    terminal_states : sequence of int, optional
        Entering one of them terminates the episode (absorbing states of the model).
    render_mode : None, "ansi" or "rgb_array"
    """

    metadata: ClassVar[dict] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, cmdp: FiniteCMDP, max_episode_steps: int | None = None, terminal_states=(),
                 render_mode: str | None = None):
        _check_cmdp(cmdp)
        render_mode = check_render_mode(render_mode, self.metadata)
        self.cmdp = cmdp
        self.constraint_names = cmdp.constraint_names
        S, A = cmdp.n_states, cmdp.n_actions
        if max_episode_steps is None:
            max_episode_steps = int(np.ceil(10.0 / (1.0 - cmdp.discount)))
        self.max_episode_steps = check_integer("max_episode_steps", max_episode_steps, minimum=1)
        terminal = np.zeros(S, dtype=bool)
        if isinstance(terminal_states, (str, bytes)) or not isinstance(terminal_states, (tuple, list, np.ndarray)):
            raise InvalidInstanceError(f"terminal_states: expected a sequence of state indices, found "
                                       f"{type(terminal_states).__name__} {terminal_states!r}", "terminal_states")
        for s in terminal_states:
            terminal[check_integer("terminal_states", int(s) if isinstance(s, np.integer) else s,
                                   minimum=0, maximum=S - 1)] = True
        self._terminal = terminal
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Discrete(S)
        self.action_space = gym.spaces.Discrete(A)
        matrix = cmdp.transition_matrix
        self._indptr, self._indices = matrix.indptr, matrix.indices
        self._cumulative = np.empty_like(matrix.data)
        for row in range(S * A):  # cumulative sums within each row, for inverse-CDF sampling
            lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
            self._cumulative[lo:hi] = np.cumsum(matrix.data[lo:hi])
        self._cost_keys = tuple("cost_" + re.sub(r"\W+", "_", name).strip("_") for name in cmdp.constraint_names)
        self._cumulative_initial = np.cumsum(cmdp.initial)
        self._state = 0
        self._t = 0

    def _draw(self, cumulative: np.ndarray) -> int:
        u = self.np_random.random() * cumulative[-1]
        return int(min(np.searchsorted(cumulative, u, side="right"), cumulative.size - 1))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state = self._draw(self._cumulative_initial)
        self._t = 0
        return self._state, {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise InvalidInstanceError(f"action: expected an integer in [0, {self.action_space.n}), found {action!r}",
                                       "action")
        s, a = self._state, int(action)
        A = self.cmdp.n_actions
        reward = float(self.cmdp.reward[s, a])
        costs = self.cmdp.costs[:, s, a].copy()
        row = s * A + a
        lo, hi = self._indptr[row], self._indptr[row + 1]
        self._state = int(self._indices[lo + self._draw(self._cumulative[lo:hi])])
        self._t += 1
        terminated = bool(self._terminal[self._state])
        truncated = self._t >= self.max_episode_steps and not terminated
        info = {"costs": costs, "cost": float(costs[0]) if costs.size == 1 else float(costs.sum())}
        for key, value in zip(self._cost_keys, costs):
            info[key] = float(value)
        return self._state, reward, terminated, truncated, info

    def render(self):
        """The time and state as text (``"ansi"``) or as an RGB frame of constant size (``"rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn("You are calling render method without specifying any render mode.")
            return None
        text = f"t={self._t} state={self._state}\n"
        return text_frame(text, width=7 * 40 + 16) if self.render_mode == "rgb_array" else text
