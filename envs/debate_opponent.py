r"""A single-agent Gymnasium view of the debate game against a fixed opponent.

**Debate against a fixed opponent** (:class:`DebateVsOpponent`).  A single-agent Gymnasium view of
``mechsim/Debate-v0``: the learner plays one debater, a fixed opponent (exact minimax, greedy, random, or
any policy in :mod:`mechsim.debate.debaters` format) plays the other.  Observations are flat, the legal
reveals are exposed through ``action_masks()`` (sb3-contrib ``MaskablePPO``) and ``info["action_mask"]``,
and every episode reports the exact value of the best response to the opponent,

.. math::  V(S) = \begin{cases} u(S) & |S| = L \\ \max_{f \notin S} V(S \cup f) & \text{learner to move} \\
           \operatorname{op}_{f \notin S} V(S \cup f) & \text{opponent to move} \end{cases}

with op = min for the minimax opponent (then :math:`V(\varnothing)` is the game's minimax value) and the
expectation under the opponent's reveal probabilities otherwise: the most any learner can score.
"""

from __future__ import annotations

import itertools
import math

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator, check_choice

__all__ = ["DebateVsOpponent"]


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
