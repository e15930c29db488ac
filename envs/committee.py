"""PettingZoo environment ``mechsim/Committee-v0``: voters report rankings to a fair committee rule.

Each episode draws a profile of true rankings from a culture, or uses a real one passed as ``rankings=``
(an ``(n_voters, n_items)`` array, or a :class:`~mechsim.committees.preflib.PreflibProfile` read from a
PrefLib file, whose multiplicities become that many voters), and, with ``groups="random"``, a random split
of the items into groups 0 and 1.  For ``max_cycles`` rounds (default 1, a one-shot game) every
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

An agent missing from ``actions`` (or mapped to ``None``) reports truthfully; an action of another shape,
with non-finite entries or of a non-numeric type, an unknown agent name, and a step after the episode ended
raise :class:`~mechsim.errors.InvalidInstanceError` naming ``actions``.

``state()`` is the global state (``state_space``: a ``Box`` of ``n_voters * n_items + 2 * n_items + 1``
float32 entries): every voter's true positions (row by row), each item's group index (the position of its
label among the sorted labels; 0 without groups), the 0/1 indicator of the last committee, and the number
of rounds played.

``infos[agent]`` holds ``committee`` (sorted members) and ``report`` (the ranking that was read).
The episode ends (``terminations`` all True) after ``max_cycles`` rounds.  ``reset(seed=...)`` fully
determines an episode.  Rendering: ``"ansi"`` returns a line naming the round and the committee,
``"human"`` prints it after every step, ``"rgb_array"`` draws it as an RGB frame
(:func:`mechsim.envs._template.text_frame`).

Module layout (:mod:`mechsim.envs._template`, PettingZoo's parallel-first convention):
:class:`CommitteeParallelEnv` (alias ``raw_parallel_env``) is the native Parallel environment and
``parallel_env(**kwargs)`` builds it; ``raw_env`` is its AEC view and ``env(**kwargs)`` the AEC view
wrapped in ``OrderEnforcingWrapper``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mechsim.committees._checks import check_labels
from mechsim.committees.preflib import PreflibProfile
from mechsim.committees.rankings import (
    _positions,
    check_culture,
    check_rankings,
    random_groups,
    sample_rankings,
)
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import voter_scores
from mechsim.envs._template import EnvTemplate, aec_view, check_render_mode, classic_env, parallel_factory
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.committee import best_committee, check_group_bounds
from mechsim.validation import _describe, check_allocation, check_array, check_integer

__all__ = ["CommitteeParallelEnv", "env", "parallel_env", "raw_env", "raw_parallel_env"]


class CommitteeParallelEnv(EnvTemplate, ParallelEnv):
    """Committee election with strategic voters (Parallel API).

    Parameters
    ----------
    n_voters, n_items : int, optional
        Number of voters and of items (defaults 5 and 6; with ``rankings``, taken from it).
    k : int
        Committee size.
    rule : str or CommitteeScoringRule
        Committee scoring rule: a name of the registry :data:`mechsim.committees.rules.RULES` (see
        :func:`~mechsim.committees.rules.available_rules`; default ``"borda-cc"``) or a rule object.
    culture : str, optional
        Culture of the true rankings (see :func:`~mechsim.committees.rankings.sample_rankings`; default
        ``"impartial"``); not with ``rankings``.
    culture_params : dict, optional
    groups : "random", array_like of int, or None
        Item groups: a random half labelled 1 each episode, fixed integer labels (non-integral labels are
        refused, never truncated), or no groups.
    bounds : mapping label -> (lower, upper), optional
        Group bounds; default with groups: at least ``k // 2`` members of group 1.
    max_cycles : int
        Rounds per episode.
    render_mode : {None, "ansi", "human", "rgb_array"}
    rankings : array_like of int, shape (n_voters, n_items), or PreflibProfile, optional
        A fixed profile of true rankings for every episode instead of sampling; a PrefLib profile gives one
        voter per unit of multiplicity (integer multiplicities), in the order of its rows.
    """

    metadata = {"name": "committee_v0", "render_modes": ["human", "ansi", "rgb_array"], "is_parallelizable": True,
                "render_fps": 1}

    #: Bytes per voter beyond its rankings (agent name, space dict entries, observation, info dicts).
    _BYTES_PER_VOTER = 2048

    def __init__(self, n_voters: int | None = None, n_items: int | None = None, k: int = 3, rule="borda-cc",
                 culture: str | None = None, culture_params: dict | None = None, groups="random",
                 bounds=None, max_cycles: int = 1, render_mode: str | None = None, rankings=None):
        self._fixed_truth = None
        if rankings is not None:
            if culture is not None or culture_params:
                raise InvalidInstanceError("rankings: a fixed profile replaces sampling; pass culture and "
                                           "culture_params only without rankings", argument="rankings")
            truth = rankings.voters() if isinstance(rankings, PreflibProfile) else check_rankings(rankings)
            for name, given, actual in (("n_voters", n_voters, truth.shape[0]), ("n_items", n_items, truth.shape[1])):
                if given is not None and check_integer(name, given, minimum=1) != actual:
                    raise InvalidInstanceError(f"{name}: expected {actual} (from rankings) or None, found {given}",
                                               argument=name)
            self._fixed_truth = truth
            n_voters, n_items = truth.shape
        self.n_voters = check_integer("n_voters", 5 if n_voters is None else n_voters, minimum=1)
        self.n_items = check_integer("n_items", 6 if n_items is None else n_items, minimum=2)
        self.k = check_integer("k", k, minimum=1, maximum=self.n_items)
        self.rule = rule_from_name(rule)
        if self._fixed_truth is None:
            self.culture, self.culture_params = check_culture("impartial" if culture is None else culture,
                                                              self.n_items, culture_params)
        else:
            self.culture, self.culture_params = None, {}
        self.max_cycles = check_integer("max_cycles", max_cycles, minimum=1)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        # the episode's arrays and the per-voter objects, refused before the agent list is built
        check_allocation("n_voters * n_items",
                         float(self.n_voters) * (self._BYTES_PER_VOTER + 80.0 * self.n_items) + 64.0 * self.n_items,
                         f"an election of {self.n_voters} voters over {self.n_items} items")
        self._random_groups = isinstance(groups, str)
        if self._random_groups and groups != "random":
            raise InvalidInstanceError(f"groups: expected 'random', an array of labels or None, found {groups!r}",
                                       argument="groups")
        if bounds is None and groups is not None:
            bounds = {1: (self.k // 2, None)}
        self._fixed_groups = None
        if groups is not None and not self._random_groups:
            self._fixed_groups = check_labels("groups", groups, self.n_items)
        # validate once (random groups: a representative split of the same sizes)
        probe = (random_groups(self.n_items, seed=0) if self._random_groups else self._fixed_groups)
        check_group_bounds(probe, bounds if groups is not None else None, self.n_items, self.k)
        self.bounds = bounds
        self._labels = np.zeros(0, dtype=np.int64)
        self.possible_agents = [f"voter_{i}" for i in range(self.n_voters)]
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        m = self.n_items
        # Every voter has the same spaces: one object each, shared.
        observation_space = spaces.Box(0.0, float(m - 1), shape=(2 * m,), dtype=np.float32)
        action_space = spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)
        self._set_spaces(observation_spaces=dict.fromkeys(self.possible_agents, observation_space),
                         action_spaces=dict.fromkeys(self.possible_agents, action_space))
        n_groups = 2 if self._random_groups else (0 if groups is None else np.unique(self._fixed_groups).size)
        high = np.concatenate([np.full(self.n_voters * m, m - 1.0), np.full(m, max(n_groups - 1, 0.0)),
                               np.ones(m), [float(self.max_cycles)]]).astype(np.float32)
        self.state_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self._truth = None
        self._pos = None
        self._groups = None
        self._last = np.zeros(m, dtype=np.float32)
        self._round = 0
        self._committee = None

    # -- helpers ---------------------------------------------------------------------------------
    def _observe(self, i: int) -> np.ndarray:
        return np.concatenate([self._pos[i].astype(np.float32), self._last])

    def truthful_action(self, agent: str) -> np.ndarray:
        """Scores whose ``argsort(-scores)`` is the agent's true ranking."""
        if agent not in self._index:
            raise InvalidInstanceError(f"agent: expected one of voter_0..voter_{self.n_voters - 1}, found {agent!r}",
                                       argument="agent")
        if self._pos is None:
            raise InvalidInstanceError("agent: truthful_action() called before reset(); call reset() first",
                                       argument="agent")
        i = self._index[agent]
        m = self.n_items
        return (1.0 - 2.0 * self._pos[i] / (m - 1)).astype(np.float32)

    @property
    def true_rankings(self) -> np.ndarray:
        return self._truth.copy()

    def state(self) -> np.ndarray:
        """Global state: true positions of every voter, group indices, last committee, rounds played."""
        m = self.n_items
        if self._pos is None:
            raise InvalidInstanceError("state: called before reset(); call reset() first", argument="state")
        group_index = np.zeros(m) if self._groups is None else np.unique(self._groups, return_inverse=True)[1]
        return np.concatenate([self._pos.reshape(-1), group_index.reshape(-1), self._last,
                               [self._round]]).astype(np.float32)

    @property
    def groups(self):
        return None if self._groups is None else self._groups.copy()

    # -- API -------------------------------------------------------------------------------------
    def reset(self, seed=None, options=None):
        self._reseed(seed)
        if self._fixed_truth is not None:
            self._truth = self._fixed_truth.copy()
        else:
            self._truth = sample_rankings(self.culture, self.n_voters, self.n_items, seed=self._rng,
                                          **self.culture_params)
        self._pos = _positions(self._truth)
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
            raise InvalidInstanceError("actions: step() called on a finished episode (or before reset()); call "
                                       "reset() first", argument="actions")
        if not isinstance(actions, Mapping):
            raise InvalidInstanceError(f"actions: expected a dict agent -> scores, found {_describe(actions)}",
                                       argument="actions")
        unknown = [a for a in actions if a not in self._index]
        if unknown:
            raise InvalidInstanceError(f"actions: expected keys among the agents voter_0..voter_{self.n_voters - 1}, "
                                       f"found {unknown[:3]!r}", argument="actions")
        m = self.n_items
        reports = self._truth.copy()
        for a, action in actions.items():
            if action is not None:
                name = f"actions[{a!r}]"
                scores = check_array(name, action, finite=False)
                if scores.shape != (m,) or not np.all(np.isfinite(scores)):
                    raise InvalidInstanceError(f"{name}: expected {m} finite scores (shape ({m},)), found "
                                               f"{_describe(action)}: {np.array2string(scores, threshold=8)}",
                                               argument="actions")
                reports[self._index[a]] = np.argsort(-scores, kind="stable")
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
