r"""A light single-agent Gymnasium view of the debate game for training neural debaters on a state pool.

Each episode draws a row ``i`` of a state pool, the honest decision :math:`a^+_i` and a wrong one
:math:`a^-` (from a per-state candidate list), and a uniformly random first mover.  The learner plays one
role (``"argue"``: it argues :math:`a^+`; ``"confuse"``: it argues :math:`a^-`; ``"either"``: a random one of
the two each episode; ``"isolated"``: it makes all L reveals for :math:`a^+` alone, the paper's isolated
agent), an opponent drawn uniformly from a tuple of debaters (the
:mod:`mechsim.learners.debaters` ``batch_probabilities`` format) the other.  The reward is 0 until the L-th
reveal, then the judge outcome for the learner's decision,

.. math::  r = \operatorname{sign}\bigl(J(a_{own} \mid x_S) - J(a_{other} \mid x_S)\bigr) \in \{-1, 0, 1\}.

The observation is :func:`mechsim.learners.neural_debaters.debate_observation` (state, revealed mask, both
decisions one-hot, number of reveals one-hot), so a policy trained here runs unchanged as an
:class:`~mechsim.learners.neural_debaters.MLPDebater`.  Legal reveals: ``action_masks()`` (sb3-contrib
``MaskablePPO``).  This is the same game as ``mechsim/Debate-v0`` through
:class:`mechsim.envs.debate_opponent.DebateVsOpponent`, without the AEC bookkeeping (about 10x fewer Python
calls per step), for the per-state decision pairs that the sepsis debates need.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.debate._checks import check_flag, check_index_array, check_judge, check_judge_size, describe
from mechsim.envs.debate import ResetNeededError
from mechsim.errors import InvalidInstanceError
from mechsim.learners.neural_debaters import debate_observation, observation_size
from mechsim.validation import check_array, check_choice, check_integer

__all__ = ["DebateTrainingEnv"]

ROLES = ("isolated", "argue", "confuse", "either")


class DebateTrainingEnv(gymnasium.Env):
    """Single-agent debate on a state pool with per-state honest and wrong decisions.

    Parameters
    ----------
    judge : Judge
    states : array_like, shape (S, F)
    correct : array_like of int, shape (S,)
        The honest decision per state.
    wrong : sequence of S int arrays
        Candidate wrong decisions per state (non-empty, none equal to ``correct``); one is drawn per episode.
    n_evidence : int
        L.
    role : {"isolated", "argue", "confuse", "either"}
    opponents : tuple of debaters
        Needed unless ``role="isolated"``; can be replaced later with :meth:`set_opponents`.
    n_decisions : int, optional
        D (default ``judge.n_decisions``).
    judge_inputs : bool
        Append :func:`~mechsim.learners.neural_debaters.judge_margin_inputs` (the judge's verdict one reveal
        ahead for every feature) to the observation.
    seed : int, optional
        Seeds the episode stream (``reset(seed=...)`` reseeds it).
    """

    metadata = {"render_modes": []}

    def __init__(self, judge, states, correct, wrong, n_evidence: int, role: str = "argue", opponents=(), *,
                 n_decisions: int | None = None, judge_inputs: bool = False, seed: int | None = None):
        check_judge("judge", judge)
        self.judge = judge
        self._x = check_array("states", states, ndim=2)
        S, F = self._x.shape
        if S == 0:
            raise InvalidInstanceError("states: expected at least one state, found 0 rows", argument="states")
        check_judge_size(judge, F, features_name="states")
        D = n_decisions if n_decisions is not None else getattr(judge, "n_decisions", None)
        if D is None:
            raise InvalidInstanceError("n_decisions: expected an integer (the judge does not say), found None",
                                       argument="n_decisions")
        self.n_decisions = D = check_integer("n_decisions", D, minimum=2)
        self._correct = check_index_array("correct", correct, shape=(S,), high=D,
                                          what="integer decisions (one per state)")
        if not hasattr(wrong, "__len__") or len(wrong) != S:
            raise InvalidInstanceError(f"wrong: expected {S} arrays of candidate wrong decisions (one per state), "
                                       f"found {describe(wrong)}", argument="wrong")
        self._wrong = []
        for i, w in enumerate(wrong):
            w = check_index_array("wrong", np.atleast_1d(w), shape=None, high=D, what="integer decisions")
            if w.ndim != 1 or w.size == 0 or np.any(w == self._correct[i]):
                raise InvalidInstanceError(f"wrong: expected a non-empty list of decisions other than correct for "
                                           f"state {i}, found {w.tolist()}", argument="wrong")
            self._wrong.append(w.astype(np.int64))
        self.n_features = F
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
        self.role = check_choice("role", role, ROLES)
        self.set_opponents(opponents)
        self.judge_inputs = check_flag("judge_inputs", judge_inputs)
        width = observation_size(F, D, self.n_evidence, self.judge_inputs)
        low = np.concatenate([np.full(F, -np.inf), np.zeros(width - F)]).astype(np.float32)
        if self.judge_inputs:
            low[-F:] = -1.0
        high = np.concatenate([np.full(F, np.inf), np.ones(width - F)]).astype(np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = spaces.Discrete(F)
        self._rng = np.random.default_rng(seed)
        self._done = True

    def set_opponents(self, opponents) -> None:
        """Replace the opponents (a tuple of debaters; one is drawn per episode)."""
        if not isinstance(opponents, (tuple, list)):
            raise InvalidInstanceError(f"opponents: expected a tuple of debaters, found {describe(opponents)}",
                                       argument="opponents")
        opponents = tuple(opponents)
        for opp in opponents:
            if not callable(getattr(opp, "batch_probabilities", None)):
                raise InvalidInstanceError(f"opponents: expected debaters (objects with batch_probabilities()), "
                                           f"found {describe(opp)}", argument="opponents")
        if self.role != "isolated" and not opponents:
            raise InvalidInstanceError(f"opponents: expected at least one opponent for role {self.role!r}, found "
                                       "none", argument="opponents")
        self._opponents = opponents

    def action_masks(self) -> np.ndarray:
        """Legal reveals (bool, ``(F,)``)."""
        return ~self._revealed

    def _obs(self) -> np.ndarray:
        return debate_observation(self._state[None], self._revealed[None], [self._own], [self._other],
                                  self.n_decisions, self.n_evidence, self.judge if self.judge_inputs else None)[0]

    def _opponent_move(self) -> None:
        p = np.asarray(self._opponent.batch_probabilities(self._state[None], self._revealed[None],
                                                          np.array([self._other]), np.array([self._own])),
                       dtype=float)[0]
        p = np.where(self._revealed, 0.0, np.clip(p, 0.0, None))
        total = p.sum()
        if not total > 0:
            raise InvalidInstanceError("opponents: expected reveal probabilities with mass on unrevealed features, "
                                       "found none", argument="opponents")
        cum = np.cumsum(p / total)
        f = int(min(np.searchsorted(cum, self._rng.random(), side="right"), self.n_features - 1))
        while self._revealed[f]:  # rounding at the top of the cumulative sum
            f -= 1
        self._revealed[f] = True

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        rng = self._rng
        i = int(rng.integers(self._x.shape[0]))
        self._state = self._x[i]
        good = int(self._correct[i])
        bad = int(self._wrong[i][rng.integers(self._wrong[i].size)])
        role = self.role
        if role == "either":
            role = "argue" if rng.random() < 0.5 else "confuse"
        self._own, self._other = (bad, good) if role == "confuse" else (good, bad)
        self._solo = role == "isolated"
        self._revealed = np.zeros(self.n_features, dtype=bool)
        self._done = False
        if not self._solo:
            self._opponent = self._opponents[int(rng.integers(len(self._opponents)))]
            if rng.random() < 0.5:
                self._opponent_move()
        return self._obs(), {}

    def step(self, action):
        if self._done:
            raise ResetNeededError("step() called before reset() or after the episode ended; call reset() first")
        a = int(np.asarray(action).reshape(()))
        if not 0 <= a < self.n_features or self._revealed[a]:
            raise InvalidInstanceError(f"action: expected an unrevealed feature index in [0, {self.n_features}), "
                                       f"found {a}", argument="action")
        self._revealed[a] = True
        if not self._solo and self._revealed.sum() < self.n_evidence:
            self._opponent_move()
        if self._revealed.sum() < self.n_evidence:
            return self._obs(), 0.0, False, False, {}
        self._done = True
        x = np.stack([self._state, self._state])
        m = np.stack([self._revealed, self._revealed])
        s = np.asarray(self.judge.score(x, m, np.array([self._own, self._other])), dtype=float)
        reward = float(np.sign(s[0] - s[1]))
        # The terminal observation is never acted on; report the last decision point's layout.
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        return obs, reward, True, False, {"outcome": reward}
