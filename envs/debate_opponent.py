r"""A single-agent Gymnasium view of the debate game against a fixed opponent.

**Debate against a fixed opponent** (:class:`DebateVsOpponent`).  A single-agent Gymnasium view of
``mechsim/Debate-v0``: the learner plays one debater, a fixed opponent (exact minimax, greedy, random, or
any policy in :mod:`mechsim.learners.debaters` format) plays the other.  Observations are flat, the legal
reveals are exposed through ``action_masks()`` (sb3-contrib ``MaskablePPO``) and ``info["action_mask"]``,
and every episode reports the exact value of the best response to the opponent,

.. math::  V(S) = \begin{cases} u(S) & |S| = L \\ \max_{f \notin S} V(S \cup f) & \text{learner to move} \\
           \operatorname{op}_{f \notin S} V(S \cup f) & \text{opponent to move} \end{cases}

with op = min for the minimax opponent (then :math:`V(\varnothing)` is the game's minimax value) and the
expectation under the opponent's reveal probabilities otherwise: the most any learner can score.  The table
of :math:`V(S)` over every revealed set is solved once per episode by
:func:`mechsim.solvers.debate.subgame_values` (the minimax opponent reads its moves from it too).
"""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.debate._checks import check_flag, describe
from mechsim.envs._template import check_render_mode, text_frame
from mechsim.envs.debate import ResetNeededError, raw_env
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import GreedyDebater, RandomDebater
from mechsim.solvers.debate import SubgameValues, policy_probabilities, subgame_values
from mechsim.validation import as_generator, check_choice

__all__ = ["DebateVsOpponent"]


class DebateVsOpponent(gymnasium.Env):
    r"""Single-agent Gymnasium view of ``mechsim/Debate-v0``: the learner against a fixed opponent.

    Parameters
    ----------
    debate_kwargs : dict, optional
        Keyword arguments of :class:`mechsim.envs.debate.raw_env` (default: the demonstration game).
    opponent : {"minimax", "greedy", "random"} or policy, default "minimax"
        The other debater.  ``"minimax"`` plays an exact minimax move (lowest feature index among optimal
        ones); ``"greedy"`` is :class:`mechsim.learners.debaters.GreedyDebater`; ``"random"`` reveals a
        uniformly random unrevealed feature; any object with
        ``probabilities(features (F,), revealed (n,F), own_decision, other_decision) -> (n,F)``
        (the :mod:`mechsim.learners.debaters` format) is sampled.
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
    opponent moves first, its first reveal happens inside ``reset``.  If ``debate_kwargs`` has ``max_cycles``
    and the game is cut before its last reveal, the episode is truncated with reward 0.  ``step()`` before
    ``reset()`` or after the end raises :class:`~mechsim.envs.debate.ResetNeededError`.  Rendering:
    ``"ansi"`` (a line of text) and ``"rgb_array"`` (that line drawn as an RGB frame).  Info at the end: ``"outcome"``,
    ``"evidence"`` and ``"best_response_value"`` (the most any policy can expect in this episode against this
    opponent; the minimax value of the game for ``opponent="minimax"``).

    Examples
    --------
    >>> from mechsim.envs.debate_opponent import DebateVsOpponent
    >>> env = DebateVsOpponent(opponent="random")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_masks().sum() in (7, 8)
    ((25,), True)
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(self, debate_kwargs: dict | None = None, opponent="minimax", learner: int = 0,
                 compute_value: bool = True, illegal_action: str = "lose", render_mode: str | None = None):
        if debate_kwargs is not None and not isinstance(debate_kwargs, Mapping):
            raise InvalidInstanceError(f"debate_kwargs: expected a dict of keyword arguments of "
                                       f"mechsim.envs.debate.raw_env or None, found {describe(debate_kwargs)}",
                                       argument="debate_kwargs")
        kwargs = dict(debate_kwargs or {})
        if "render_mode" in kwargs:
            raise InvalidInstanceError("debate_kwargs: expected no render_mode (pass it to DebateVsOpponent), "
                                       "found one", argument="debate_kwargs")
        self.game = raw_env(**kwargs)
        self.learner = int(check_choice("learner", learner, (0, 1)))
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.compute_value = check_flag("compute_value", compute_value)
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
                return kind, GreedyDebater(self.game.judge)
            if kind == "random":
                return kind, RandomDebater()
            return kind, None
        if not callable(getattr(opponent, "probabilities", None)):
            raise InvalidInstanceError("opponent: expected 'minimax', 'greedy', 'random' or an object with "
                                       f"probabilities(), found {type(opponent).__name__}", argument="opponent")
        return "policy", opponent

    # ------------------------------------------------------------------ opponent
    def _opponent_probs(self, revealed: np.ndarray) -> np.ndarray:
        """The opponent policy's reveal probabilities ``(F,)`` at the revealed set ``revealed`` (F,)."""
        own, other = self._decisions[1 - self.learner], self._decisions[self.learner]
        try:
            return policy_probabilities(self._opponent_policy, self._x, revealed[None], own, other)[0]
        except InvalidInstanceError as exc:
            raise InvalidInstanceError(f"opponent: {exc}", argument="opponent") from exc

    def _solve(self) -> SubgameValues:
        """Values of every position for debater 0: minimax, or the learner's best response to the policy."""
        g = self.game
        policy, responder = (None, None) if self._opponent_kind == "minimax" else (self._opponent_policy,
                                                                                   self.learner)
        try:
            return subgame_values(g.judge, self._x, self._decisions, self._L, self._first_mover, policy=policy,
                                  responder=responder)
        except InvalidInstanceError as exc:
            if exc.argument != "policy":
                raise
            raise InvalidInstanceError(f"opponent: {exc}", argument="opponent") from exc

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
        if self._opponent_kind == "minimax":
            # An optimal reveal for the opponent, lowest feature index among optimal ones.
            move = int(self._values.best_reveal(self._revealed)[0])
        else:
            move = int(self._rng.choice(self._F, p=self._opponent_probs(self._revealed)))
        self._reveal(move)

    def _reveal(self, f: int) -> None:
        self.game.step(f)
        self._revealed[f] = True

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
        self._done = False
        if self.compute_value or self._opponent_kind == "minimax":
            self._values = self._solve()
            # The table is for debater 0; the game is zero-sum, so debater 1's value is its negation.
            self._start_value = self._values.value if self.learner == 0 else -self._values.value
        if self.game.agent_selection != self._me:
            self._opponent_move()
        info = self._info()
        if self.compute_value:
            info["best_response_value"] = self._start_value
        return self._obs(), info

    def step(self, action):
        if self._done:
            raise ResetNeededError("step() called before reset() or after the episode ended; call reset() first")
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
        if not (self.game.terminations[self._me] or self.game.truncations[self._me]):
            self._opponent_move()
        info = self._info()
        reward = 0.0
        if self.game.truncations[self._me] and not self.game.terminations[self._me]:
            self._done = True
            info.update(outcome=None, evidence=self.game.evidence)
            return self._obs(), reward, False, True, info
        if self.game.terminations[self._me]:
            self._done = True
            reward = float(self.game.infos[self._me]["outcome"])
            info.update(outcome=reward, evidence=self.game.evidence)
            if self.compute_value:
                info["best_response_value"] = self._start_value
        return self._obs(), reward, self._done, False, info

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        text = self.game._render_text()
        return text_frame(text) if self.render_mode == "rgb_array" else text
