r"""PettingZoo AEC environment ``mechsim/Debate-v0``: two debaters reveal evidence, a judge decides.

Each episode draws a state :math:`x \in \mathbb{R}^F` (from an array of states or a sampler), two distinct
decisions :math:`(a_0, a_1)` and a uniformly random first mover, all from the generator seeded in
``reset(seed=...)``.  ``debater_0`` argues :math:`a_0`, ``debater_1`` argues :math:`a_1`.  Agents alternate,
the first mover first, each turn revealing one not yet revealed feature (action = feature index), until
``n_evidence`` = L features are revealed (the first mover makes :math:`\lceil L/2 \rceil` reveals).  The
judge then sees only the revealed values and the zero-sum terminal reward is

.. math::  r_0 = \operatorname{sign}\bigl(J(a_0 \mid x_S) - J(a_1 \mid x_S)\bigr), \qquad r_1 = -r_0 .

Observation of each agent (``Dict``):

- ``"observation"``: float32 vector ``[x (F), revealed mask (F), one-hot own decision (D)]`` — a debater
  sees the full state, what has been revealed and its own decision;
- ``"action_mask"``: int8 ``(F,)``, 1 for features not yet revealed (legal reveals).

``infos[agent]`` holds ``decision`` (own), ``first_mover`` and, at the end, ``outcome`` (for that agent)
and ``evidence`` (revealed feature indices in order).  ``state()`` returns the global state
``[x, revealed mask, one-hot a_0, one-hot a_1]``.  Revealing an already revealed feature, or anything but a
feature index, raises :class:`~mechsim.errors.InvalidInstanceError` (a ``ValueError``) naming ``action``.

The game ends (``terminations``) after exactly L turns, i.e. :math:`\lceil L/2 \rceil` *cycles* (a cycle
is one reveal by each debater, PettingZoo's unit).  ``max_cycles`` (PettingZoo's convention, also accepted by
``pettingzoo.make(..., max_cycles=k)``) cuts the episode after that many cycles: if the L reveals are not all
made by then, both agents are *truncated* with reward 0 and no verdict (``infos`` hold the ``evidence``
revealed so far and ``outcome`` None).  The default, None, never cuts the game.

With no arguments the environment plays a fixed demonstration game (8 standard normal features, 4
decisions, a linear judge with seeded random weights, L = 4); pass ``states``/``state_sampler``,
``judge``, ``decisions`` and ``n_evidence`` for real use.  The game is the evidence debate of Sukovic &
Radanovic (ICLR 2024), after Irving, Christiano & Amodei, "AI safety via debate" (2018);
:func:`mechsim.solvers.debate.solve_debate` solves it exactly.

Module layout (:mod:`mechsim.envs._template`, PettingZoo's classic turn-based convention):
:class:`DebateEnv` (alias ``raw_env``) is the AEC environment and ``env(**kwargs)`` wraps it in
``AssertOutOfBoundsWrapper`` and ``OrderEnforcingWrapper``.  There is no ``parallel_env``: exactly one
debater acts per step, so a parallel view (``metadata["is_parallelizable"]`` is False) would ask the idle
debater for an action and ignore it, as with PettingZoo's classic board games.  Rendering: ``"ansi"``
returns a line describing the debate so far, ``"human"`` prints it at reset and after every step,
``"rgb_array"`` draws that line as an RGB frame (:func:`mechsim.envs._template.text_frame`).
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from mechsim.debate._checks import check_index_array, check_judge, check_judge_size, describe
from mechsim.debate.judges import LinearJudge
from mechsim.envs._template import EnvTemplate, check_render_mode, classic_env
from mechsim.errors import InvalidInstanceError, MechsimError
from mechsim.validation import check_allocation, check_array, check_integer

__all__ = ["raw_env", "env", "DebateEnv", "ResetNeededError"]


class ResetNeededError(MechsimError, gymnasium.error.ResetNeeded, RuntimeError):
    """``step()`` was called before ``reset()`` or after the episode ended (Gymnasium's ``ResetNeeded``)."""

_DEMO_FEATURES = 8
_DEMO_DECISIONS = 4


def _demo_judge() -> LinearJudge:
    return LinearJudge(np.random.default_rng(20240611).normal(size=(_DEMO_DECISIONS, _DEMO_FEATURES)))


class DebateEnv(EnvTemplate, AECEnv):
    """The debate game as a PettingZoo AEC environment.

    Parameters
    ----------
    states : array_like, shape (S, F), optional
        State pool; each episode uses a uniformly random row.
    state_sampler : callable ``(rng) -> (F,) array``, optional
        Alternative state source (needs ``n_features``).  Give at most one of ``states``/``state_sampler``.
    n_features : int, optional
        F; inferred from ``states`` or the judge when omitted.
    judge : Judge, optional
        Scores ``(features, mask, decisions)``; default the demonstration linear judge.
    decisions : (a0, a1), callable ``(rng, features) -> (a0, a1)`` or None
        The decisions argued; None draws two distinct decisions uniformly each episode.
    n_decisions : int, optional
        D; inferred from ``judge.n_decisions`` when the judge has it.
    n_evidence : int
        L, number of reveals (1 <= L <= F).
    first_mover : {0, 1} or None
        None (default) draws it uniformly each episode.
    max_cycles : int or None
        Truncate the episode after this many cycles (one reveal by each debater); None (default) never.
    render_mode : {"human", "ansi", "rgb_array"} or None
    """

    metadata = {"name": "debate_v0", "render_modes": ["human", "ansi", "rgb_array"], "is_parallelizable": False,
                "render_fps": 1}

    def __init__(self, states=None, *, state_sampler: Callable | None = None, n_features: int | None = None,
                 judge=None, decisions=None, n_decisions: int | None = None, n_evidence: int = 4,
                 first_mover: int | None = None, max_cycles: int | None = None, render_mode: str | None = None):
        super().__init__()
        if states is not None and state_sampler is not None:
            raise InvalidInstanceError("state_sampler: expected at most one of states and state_sampler, found "
                                       "both", argument="state_sampler")
        demo = states is None and state_sampler is None and judge is None
        if judge is None:
            judge = _demo_judge()
        if states is None and state_sampler is None:
            if not demo:
                raise InvalidInstanceError("states: expected an array of states or a state_sampler when a judge "
                                           "is given, found neither", argument="states")
            n_features = _DEMO_FEATURES
            state_sampler = lambda rng: rng.normal(size=_DEMO_FEATURES)  # noqa: E731
        check_judge("judge", judge)
        if n_features is not None:
            n_features = check_integer("n_features", n_features, minimum=1)
        if states is not None:
            states = check_array("states", states, ndim=2)
            if states.shape[0] == 0:
                raise InvalidInstanceError("states: expected at least one state, found 0 rows", argument="states")
            check_judge_size(judge, states.shape[1], features_name="states")
            if n_features is not None and n_features != states.shape[1]:
                raise InvalidInstanceError(f"n_features: expected {states.shape[1]} (the columns of states), "
                                           f"found {n_features}", argument="n_features")
            n_features = states.shape[1]
        elif not callable(state_sampler):
            raise InvalidInstanceError(f"state_sampler: expected a callable rng -> features, found "
                                       f"{type(state_sampler).__name__}", argument="state_sampler")
        if n_features is None:
            n_features = getattr(judge, "n_features", None)
        if n_features is None:
            raise InvalidInstanceError("n_features: expected an integer (cannot infer it from the state sampler "
                                       "or the judge), found None", argument="n_features")
        self.n_features = check_integer("n_features", n_features, minimum=1)
        check_judge_size(judge, self.n_features, features_name="n_features")
        declared = getattr(judge, "n_decisions", None)
        if n_decisions is None:
            n_decisions = declared
        if n_decisions is None:
            raise InvalidInstanceError("n_decisions: expected an integer (the judge does not say), found None",
                                       argument="n_decisions")
        self.n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
        if isinstance(declared, int) and self.n_decisions > declared:
            raise InvalidInstanceError(f"n_decisions: expected at most the judge's n_decisions = {declared}, found "
                                       f"{self.n_decisions}", argument="n_decisions")
        check_allocation("n_features" if self.n_features >= self.n_decisions else "n_decisions",
                         4.0 * 16 * (2 * self.n_features + 2 * self.n_decisions),
                         "the observation and state vectors and their spaces")
        self.judge = judge
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=1, maximum=self.n_features)
        if decisions is not None and not callable(decisions):
            decisions = self._check_decisions(decisions)
        self._decisions_source = decisions
        if first_mover is not None and (isinstance(first_mover, bool) or first_mover not in (0, 1)
                                        or not isinstance(first_mover, (int, np.integer))):
            raise InvalidInstanceError(f"first_mover: expected 0, 1 or None, found {describe(first_mover)}",
                                       argument="first_mover")
        self._first_mover_fixed = None if first_mover is None else int(first_mover)
        self.max_cycles = None if max_cycles is None else check_integer("max_cycles", max_cycles, minimum=1)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self._states = states
        self._state_sampler = state_sampler

        self.possible_agents = ["debater_0", "debater_1"]
        self.agent_name_mapping = {a: i for i, a in enumerate(self.possible_agents)}
        F, D = self.n_features, self.n_decisions
        obs_len = 2 * F + D
        low = np.concatenate([np.full(F, -np.inf), np.zeros(F + D)]).astype(np.float32)
        high = np.concatenate([np.full(F, np.inf), np.ones(F + D)]).astype(np.float32)
        self._set_spaces(
            observation_spaces={
                a: spaces.Dict({"observation": spaces.Box(low, high, shape=(obs_len,), dtype=np.float32),
                                "action_mask": spaces.Box(0, 1, shape=(F,), dtype=np.int8)})
                for a in self.possible_agents},
            action_spaces={a: spaces.Discrete(F) for a in self.possible_agents})
        slow = np.concatenate([np.full(F, -np.inf), np.zeros(F + 2 * D)]).astype(np.float32)
        shigh = np.concatenate([np.full(F, np.inf), np.ones(F + 2 * D)]).astype(np.float32)
        self.state_space = spaces.Box(slow, shigh, dtype=np.float32)
        self.agents = []

    # ------------------------------------------------------------------ episode
    def _check_decisions(self, pair):
        arr = check_index_array("decisions", pair, shape=(2,), high=self.n_decisions,
                                what="a pair of integer decisions")
        a0, a1 = int(arr[0]), int(arr[1])
        if not (0 <= a0 < self.n_decisions and 0 <= a1 < self.n_decisions) or a0 == a1:
            raise InvalidInstanceError(f"decisions: expected two distinct integers in [0, {self.n_decisions}), "
                                       f"found {(a0, a1)}", argument="decisions")
        return a0, a1

    def reset(self, seed=None, options=None):
        self._reseed(seed)
        rng = self._rng
        if self._states is not None:
            self._state_index = int(rng.integers(self._states.shape[0]))
            x = self._states[self._state_index]
        else:
            self._state_index = -1
            x = check_array("state_sampler()", self._state_sampler(rng), shape=(self.n_features,))
        self._features = np.asarray(x, dtype=float)
        src = self._decisions_source
        if src is None:
            a0 = int(rng.integers(self.n_decisions))
            a1 = int(rng.integers(self.n_decisions - 1))
            self._decisions = (a0, a1 + (a1 >= a0))
        elif callable(src):
            self._decisions = self._check_decisions(src(rng, self._features.copy()))
        else:
            self._decisions = src
        self._first_mover = (int(rng.integers(2)) if self._first_mover_fixed is None else self._first_mover_fixed)
        self._revealed = np.zeros(self.n_features, dtype=bool)
        self._evidence: list[int] = []
        self._turns = 0
        F, D = self.n_features, self.n_decisions
        self._obs_base = {}
        for i, a in enumerate(self.possible_agents):
            base = np.zeros(2 * F + D, dtype=np.float32)
            base[:F] = self._features
            base[2 * F + self._decisions[i]] = 1.0
            self._obs_base[a] = base

        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {"decision": self._decisions[i], "first_mover": self._first_mover}
                      for i, a in enumerate(self.agents)}
        self.agent_selection = self.possible_agents[self._first_mover]
        if self.render_mode == "human":
            self.render()

    def observe(self, agent):
        obs = self._obs_base[agent].copy()
        F = self.n_features
        obs[F:2 * F] = self._revealed
        return {"observation": obs, "action_mask": (~self._revealed).astype(np.int8)}

    def state(self) -> np.ndarray:
        F, D = self.n_features, self.n_decisions
        s = np.zeros(2 * F + 2 * D, dtype=np.float32)
        s[:F] = self._features
        s[F:2 * F] = self._revealed
        s[2 * F + self._decisions[0]] = 1.0
        s[2 * F + D + self._decisions[1]] = 1.0
        return s

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if isinstance(action, np.ndarray) and action.shape in ((), (1,)) and action.dtype.kind in "iu":
            action = action.reshape(()).item()
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) \
                or not 0 <= action < self.n_features:
            raise InvalidInstanceError(f"action: expected a feature index in [0, {self.n_features}), found "
                                       f"{describe(action)}", argument="action")
        f = int(action)
        if self._revealed[f]:
            raise InvalidInstanceError(f"action: expected an unrevealed feature (see the action mask), found {f}, "
                                       "which is already revealed", argument="action")
        self._cumulative_rewards[agent] = 0.0
        self._revealed[f] = True
        self._evidence.append(f)
        self._turns += 1
        self._clear_rewards()
        if len(self._evidence) == self.n_evidence:
            outcome = self._judge_outcome()
            self.rewards = {"debater_0": float(outcome), "debater_1": float(-outcome)}
            evidence = tuple(self._evidence)
            for i, a in enumerate(self.agents):
                self.terminations[a] = True
                self.infos[a] = {"decision": self._decisions[i], "first_mover": self._first_mover,
                                 "outcome": float(outcome if i == 0 else -outcome), "evidence": evidence}
        elif self.max_cycles is not None and self._turns >= 2 * self.max_cycles:
            # Cut after max_cycles cycles (each debater revealed max_cycles times): no verdict, reward 0.
            evidence = tuple(self._evidence)
            for i, a in enumerate(self.agents):
                self.truncations[a] = True
                self.infos[a] = {"decision": self._decisions[i], "first_mover": self._first_mover,
                                 "outcome": None, "evidence": evidence}
        other = self.possible_agents[1 - self.agent_name_mapping[agent]]
        self.agent_selection = other
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def _judge_outcome(self) -> int:
        x = np.stack([self._features, self._features])
        m = np.stack([self._revealed, self._revealed])
        try:
            s = np.asarray(self.judge.score(x, m, np.asarray(self._decisions, dtype=np.int64)), dtype=float)
        except MechsimError:
            raise
        except Exception as exc:  # noqa: BLE001 - a user's judge may raise anything
            raise InvalidInstanceError(f"judge: expected score() to judge the evidence, found it raised "
                                       f"{type(exc).__name__}: {exc}", argument="judge") from exc
        if s.shape != (2,) or not np.all(np.isfinite(s)):
            raise InvalidInstanceError(f"judge: expected score() to return 2 finite floats, found {s!r}",
                                       argument="judge")
        return int(np.sign(s[0] - s[1]))

    # ------------------------------------------------------------------ rendering
    def _render_text(self) -> str:
        if not self.agents and not hasattr(self, "_features"):
            text = "debate: not started"
        else:
            shown = ", ".join(f"x[{f}]={self._features[f]:.3g}" for f in self._evidence) or "nothing"
            text = (f"debate: debater_0 argues {self._decisions[0]}, debater_1 argues {self._decisions[1]}; "
                    f"first mover debater_{self._first_mover}; revealed {shown}")
            if len(self._evidence) == self.n_evidence:
                text += f"; outcome for debater_0: {self._judge_outcome():+d}"
            elif self.agents and any(self.truncations.values()):
                text += f"; cut after {self.max_cycles} cycles, no verdict"
        return text

    @property
    def current_features(self) -> np.ndarray:
        """The state of the current episode (read-only copy)."""
        return self._features.copy()

    @property
    def current_decisions(self) -> tuple[int, int]:
        """``(a0, a1)`` of the current episode."""
        return self._decisions

    @property
    def evidence(self) -> tuple[int, ...]:
        """Features revealed so far in order."""
        return tuple(self._evidence)


raw_env = DebateEnv
env = classic_env(raw_env, assert_out_of_bounds=True)
