"""PettingZoo environment ``mechsim/Committee-v0``: voters report rankings to a fair committee rule.

Each episode draws a profile of true rankings from a culture (and, with ``groups="random"``, a random
split of the items into groups 0 and 1).  For ``max_cycles`` rounds (default 1, a one-shot game) every
voter ``voter_i`` submits a ranking; the mechanism picks the committee of size ``k`` maximising the rule's
score of the *reported* profile subject to the group bounds
(:func:`mechsim.solvers.committee.best_committee`); voter ``i``'s reward is its **true** score
``f(v_i, S)`` of the chosen committee under the same rule.  Truthful reporting is not always optimal:
see :func:`mechsim.committees.manipulation.find_manipulation`.

Spaces (identical for all voters):

* observation ``Box(0, m-1, (2m,), float32)``: entries ``0..m-1`` are the voter's true positions
  (``obs[c]`` = position of item ``c``, 0 = top); entries ``m..2m-1`` are the 0/1 indicator of the
  previous round's committee (all zeros before the first round).
* action ``Box(-1, 1, (m,), float32)``: a score per item; the reported ranking is
  ``argsort(-action)`` (highest score first, ties towards the smaller index).
  :meth:`CommitteeParallelEnv.truthful_action` returns the scores of the truthful report.

``infos[agent]`` holds ``committee`` (sorted members) and ``report`` (the ranking that was read).
The episode ends (``terminations`` all True) after ``max_cycles`` rounds.  ``reset(seed=...)`` fully
determines an episode.  Rendering: ``"ansi"`` returns a line naming the round and the committee,
``"human"`` prints it after every step.

Module layout (:mod:`mechsim.envs._template`, PettingZoo's parallel-first convention):
:class:`CommitteeParallelEnv` (alias ``raw_parallel_env``) is the native Parallel environment and
``parallel_env(**kwargs)`` builds it; ``raw_env`` is its AEC view and ``env(**kwargs)`` the AEC view
wrapped in ``OrderEnforcingWrapper``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mechsim.committees.rankings import positions, random_groups, sample_rankings
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import voter_scores
from mechsim.envs._template import EnvTemplate, aec_view, check_render_mode, classic_env, parallel_factory
from mechsim.solvers.committee import best_committee, check_group_bounds
from mechsim.validation import check_integer

__all__ = ["CommitteeParallelEnv", "env", "parallel_env", "raw_env", "raw_parallel_env"]


class CommitteeParallelEnv(EnvTemplate, ParallelEnv):
    """Committee election with strategic voters (Parallel API).

    Parameters
    ----------
    n_voters, n_items, k : int
        Number of voters, of items and committee size.
    rule : str or CommitteeScoringRule
        Committee scoring rule: a name of the registry :data:`mechsim.committees.rules.RULES` (see
        :func:`~mechsim.committees.rules.available_rules`; default ``"borda-cc"``) or a rule object.
    culture : str
        Culture of the true rankings (see :func:`~mechsim.committees.rankings.sample_rankings`).
    culture_params : dict, optional
    groups : "random", array_like of int, or None
        Item groups: a random half labelled 1 each episode, fixed labels, or no groups.
    bounds : mapping label -> (lower, upper), optional
        Group bounds; default with groups: at least ``k // 2`` members of group 1.
    max_cycles : int
        Rounds per episode.
    render_mode : {None, "ansi", "human"}
    """

    metadata = {"name": "committee_v0", "render_modes": ["human", "ansi"], "is_parallelizable": True,
                "render_fps": 1}

    def __init__(self, n_voters: int = 5, n_items: int = 6, k: int = 3, rule="borda-cc",
                 culture: str = "impartial", culture_params: dict | None = None, groups="random",
                 bounds=None, max_cycles: int = 1, render_mode: str | None = None):
        self.n_voters = check_integer("n_voters", n_voters, minimum=1)
        self.n_items = check_integer("n_items", n_items, minimum=2)
        self.k = check_integer("k", k, minimum=1, maximum=self.n_items)
        self.rule = rule_from_name(rule)
        self.culture = culture
        self.culture_params = dict(culture_params or {})
        self.max_cycles = check_integer("max_cycles", max_cycles, minimum=1)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self._random_groups = isinstance(groups, str)
        if self._random_groups and groups != "random":
            raise ValueError(f"groups: expected 'random', an array of labels or None, found {groups!r}")
        if bounds is None and groups is not None:
            bounds = {1: (self.k // 2, None)}
        self.bounds = bounds
        self._fixed_groups = None
        if groups is not None and not self._random_groups:
            self._fixed_groups = np.asarray(groups, dtype=np.int64)
        # validate once (random groups: a representative split of the same sizes)
        probe = (random_groups(self.n_items, seed=0) if self._random_groups else self._fixed_groups)
        check_group_bounds(probe, self.bounds if groups is not None else None, self.n_items, self.k)
        self.possible_agents = [f"voter_{i}" for i in range(self.n_voters)]
        self.agents: list[str] = []
        m = self.n_items
        # Every voter has the same spaces: one object each, shared.
        observation_space = spaces.Box(0.0, float(m - 1), shape=(2 * m,), dtype=np.float32)
        action_space = spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)
        self._set_spaces(observation_spaces=dict.fromkeys(self.possible_agents, observation_space),
                         action_spaces=dict.fromkeys(self.possible_agents, action_space))
        self._truth = None
        self._groups = None
        self._last = np.zeros(m, dtype=np.float32)
        self._round = 0
        self._committee = None

    # -- helpers ---------------------------------------------------------------------------------
    def _observe(self, i: int) -> np.ndarray:
        return np.concatenate([self._pos[i].astype(np.float32), self._last])

    def truthful_action(self, agent: str) -> np.ndarray:
        """Scores whose ``argsort(-scores)`` is the agent's true ranking."""
        i = self.possible_agents.index(agent)
        m = self.n_items
        return (1.0 - 2.0 * self._pos[i] / (m - 1)).astype(np.float32)

    @property
    def true_rankings(self) -> np.ndarray:
        return self._truth.copy()

    @property
    def groups(self):
        return None if self._groups is None else self._groups.copy()

    # -- API -------------------------------------------------------------------------------------
    def reset(self, seed=None, options=None):
        self._reseed(seed)
        self._truth = sample_rankings(self.culture, self.n_voters, self.n_items, seed=self._rng,
                                      **self.culture_params)
        self._pos = positions(self._truth)
        if self._random_groups:
            self._groups = random_groups(self.n_items, seed=self._rng)
        else:
            self._groups = self._fixed_groups
        self._last = np.zeros(self.n_items, dtype=np.float32)
        self._round = 0
        self._committee = None
        self.agents = list(self.possible_agents)
        obs = {a: self._observe(i) for i, a in enumerate(self.possible_agents)}
        infos = {a: {} for a in self.agents}
        return obs, infos

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        m = self.n_items
        reports = self._truth.copy()
        for i, a in enumerate(self.possible_agents):
            if a in actions and actions[a] is not None:
                scores = np.asarray(actions[a], dtype=np.float64).reshape(-1)
                if scores.shape != (m,) or not np.all(np.isfinite(scores)):
                    raise ValueError(f"actions[{a!r}]: expected {m} finite scores, found {actions[a]!r}")
                reports[i] = np.argsort(-scores, kind="stable")
        committee = best_committee(reports, self.k, self.rule, groups=self._groups,
                                   bounds=self.bounds if self._groups is not None else None)
        self._committee = committee.members
        true = voter_scores(self._truth, committee.members, self.rule)
        self._last = np.zeros(m, dtype=np.float32)
        self._last[committee.members] = 1.0
        self._round += 1
        done = self._round >= self.max_cycles
        obs = {a: self._observe(i) for i, a in enumerate(self.possible_agents)}
        rewards = {a: float(true[i]) for i, a in enumerate(self.possible_agents)}
        terminations = {a: done for a in self.possible_agents}
        truncations = {a: False for a in self.possible_agents}
        infos = {a: {"committee": committee.members.copy(), "report": reports[i].copy()}
                 for i, a in enumerate(self.possible_agents)}
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terminations, truncations, infos

    def _render_text(self) -> str:
        members = "none yet" if self._committee is None else self._committee.tolist()
        return f"round {self._round}/{self.max_cycles}, rule {self.rule.name}, committee {members}"


raw_parallel_env = CommitteeParallelEnv
raw_env = aec_view(CommitteeParallelEnv)
env = classic_env(raw_env)
parallel_env = parallel_factory(CommitteeParallelEnv)
