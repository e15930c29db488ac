r"""PettingZoo environment: agents hired under a posted information-acquisition mechanism.

``mechsim/Hiring-v0`` (``pettingzoo.make("parallel", "mechsim/Hiring-v0")`` or ``"aec"``).  A
principal has posted a mechanism :math:`(\phi, \pi, \gamma)` for a
:class:`~mechsim.hiring.HiringInstance`; the agents ``agent_0 .. agent_{n-1}`` play it for one or
more rounds.  Each round takes two parallel steps:

1. **Effort step.**  A profile :math:`b \sim \phi` is drawn; agent *i* observes only its
   recommendation :math:`b_i` and chooses an effort :math:`e_i` (possibly different).  Then
   :math:`\theta \sim \mu` and the signal profile :math:`s \sim P(\cdot \mid e, \theta)` are drawn
   from the efforts actually exerted.
2. **Report step.**  Agent *i* observes its signal :math:`s_i` and reports :math:`r_i`.  The
   principal takes :math:`a \sim \pi(\cdot \mid b, r)`, learns :math:`\theta`, and pays
   :math:`\gamma_i(b, r, \theta)`.

Spaces (the same for every step, so that every sampled action is legal):

- action: ``MultiDiscrete([n_efforts_i, n_signals_i])`` = (effort, report).  The effort step reads
  only the effort component, the report step only the report component.
- observation: ``MultiDiscrete([2, n_efforts_i, n_efforts_i, n_signals_i])`` =
  (phase, recommended effort, exerted effort, signal); phase 0 is the effort step (the last two
  entries are 0 there), phase 1 the report step.

Rewards: agent *i* receives :math:`\gamma_i - c_i(e_i)`.  By default (``cost_timing="report"``) the
whole round's utility is paid at the report step and the effort step's reward is 0; with
``cost_timing="effort"`` the cost :math:`-c_i(e_i)` is charged at the effort step and the payment at
the report step.  Either way an episode's return is the sum of the rounds' utilities.

Infos: every agent's info has ``"profile"`` (the recommended profile, a tuple) at both steps; after
the report step also ``"state"``, ``"principal_utility"`` (:math:`u(a,\theta) - \sum_i \gamma_i`),
``"action"`` (the principal's action), ``"efforts"``, ``"signals"``, ``"reports"``, and the agent's
own ``"payment"`` and ``"cost"``.

Episodes last ``max_cycles`` parallel steps (default 2 = one round; use e.g. ``max_cycles=2000`` to
let learners play 1000 rounds per episode) and end by truncation.  ``reset(seed=...)`` fully
determines an episode.  Rendering: ``"ansi"`` returns a text line describing the last step,
``"human"`` prints it after every step, ``"rgb_array"`` draws it as an RGB frame
(:func:`mechsim.envs._template.text_frame`).

Global state (PettingZoo's ``state()``, for centralised critics): ``state_space`` is
``MultiDiscrete([2, *n_efforts, *n_efforts, *n_signals, n_states])`` and ``state()`` the int64 array
(phase, recommended profile, exerted efforts, signal profile, state of the world); the last three parts
are 0 at the effort step (nothing has been drawn yet).

Every action is checked, both components at both steps (an action must lie in the action space):
anything else raises :class:`~mechsim.errors.InvalidInstanceError` naming ``actions`` and the agent, and
stepping a finished episode raises :class:`EpisodeOverError` (a ``RuntimeError`` too).

Module layout (:mod:`mechsim.envs._template`, PettingZoo's parallel-first convention):
:class:`HiringParallelEnv` (alias ``raw_parallel_env``) is the native Parallel environment and
``parallel_env(**kwargs)`` builds it; ``raw_env`` is its AEC view and ``env(**kwargs)`` the AEC view
wrapped in ``OrderEnforcingWrapper``.  The parallel API is several times faster than the AEC view.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from operator import index
from typing import NamedTuple

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mechsim.envs._template import EnvTemplate, aec_view, check_render_mode, classic_env, parallel_factory
from mechsim.errors import EpisodeOverError, InvalidInstanceError
from mechsim.hiring.model import HiringInstance, Mechanism, check_hiring_instance, check_mechanism
from mechsim.validation import check_choice, check_integer

__all__ = [
    "EpisodeOverError",
    "HiringParallelEnv",
    "raw_parallel_env",
    "raw_env",
    "parallel_env",
    "env",
    "default_instance",
]


#: Uniforms drawn from the episode generator at a time.  A round reads four, in this order: the recommended
#: profile (at the reset or the previous report step), the state and the signal profile (effort step), the
#: principal's action (report step).
UNIFORM_BLOCK = 1024


@functools.lru_cache(maxsize=1)
def _default() -> tuple[HiringInstance, Mechanism]:
    # The LP stack (scipy.sparse, highspy) is imported on first use: a given mechanism does not need it.
    from mechsim.solvers.hiring_lp import optimal_mechanism

    instance = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    return instance, optimal_mechanism(instance)


def default_instance() -> HiringInstance:
    """The default instance: ``HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)``.

    Its optimal mechanism asks agent 0 alone to work and pays it according to both agents' reports
    (value 0.621, against 0.584 for the best uncorrelated mechanism).
    """
    return _default()[0]



def _cdf(p: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis, normalised so the last entry is exactly 1."""
    c = np.cumsum(p, axis=-1)
    return c / c[..., -1:]


class RoundTables(NamedTuple):
    """The laws and payments of one round as flat arrays, indexed by flat profiles (C order, agent 0 first).

    With ``P`` effort profiles, ``SS`` signal profiles, ``T`` states and ``A`` actions: ``phi_cdf`` ``(P,)`` and
    ``prior_cdf`` ``(T,)``; ``signal_cdf`` ``(P, T, SS)`` (by exerted efforts and state); ``decision_cdf``
    ``(P, SS, A)`` (by recommended profile and reports); ``payments`` ``(P, SS, T, n)`` (by recommended profile,
    reports, state, agent).  Every cdf ends exactly at 1, and a draw is the number of cdf entries ``<= u`` for
    a uniform ``u`` (``bisect_right``).  The one copy of these tables: Hiring-v0 steps through them as nested
    lists, :class:`~mechsim.envs.hiring_vector.HiringVectorEnv` as arrays.
    """

    phi_cdf: np.ndarray
    prior_cdf: np.ndarray
    signal_cdf: np.ndarray
    decision_cdf: np.ndarray
    payments: np.ndarray


def round_tables(instance: HiringInstance, mechanism: Mechanism) -> RoundTables:
    """The :class:`RoundTables` of a mechanism posted for ``instance``."""
    n, T = instance.n_agents, instance.n_states
    P, SS = int(np.prod(instance.n_efforts)), int(np.prod(instance.n_signals))
    law = np.moveaxis(instance.signal_law.reshape(P, SS, T), 2, 1)  # (e, theta, s)
    return RoundTables(
        phi_cdf=_cdf(mechanism.recommendation.ravel()),
        prior_cdf=_cdf(instance.prior),
        signal_cdf=_cdf(law),
        decision_cdf=_cdf(mechanism.decision.reshape(P, SS, instance.n_actions)),
        payments=np.moveaxis(mechanism.payments.reshape(n, P, SS, T), 0, -1),
    )


class HiringParallelEnv(EnvTemplate, ParallelEnv):
    """Parallel PettingZoo environment for a posted hiring mechanism (see the module docstring).

    Parameters
    ----------
    instance : HiringInstance, optional
        Default: :func:`default_instance`.
    mechanism : Mechanism, optional
        The posted mechanism.  Default: the optimal correlated mechanism of ``instance``
        (:func:`mechsim.solvers.hiring_lp.optimal_mechanism`).
    max_cycles : int, default 2
        Parallel steps per episode (two per round).
    cost_timing : {"report", "effort"}, default "report"
        When the effort cost is charged.
    render_mode : {None, "ansi", "human", "rgb_array"}
    """

    metadata = {"name": "hiring_v0", "render_modes": ["human", "ansi", "rgb_array"], "is_parallelizable": True,
                "render_fps": 1}

    def __init__(
        self,
        instance: HiringInstance | None = None,
        mechanism: Mechanism | None = None,
        max_cycles: int = 2,
        cost_timing: str = "report",
        render_mode: str | None = None,
    ):
        if instance is None:
            instance, default_mech = _default()
            mechanism = default_mech if mechanism is None else mechanism
        else:
            check_hiring_instance("instance", instance)
        if mechanism is None:
            from mechsim.solvers.hiring_lp import optimal_mechanism

            mechanism = optimal_mechanism(instance)
        else:
            check_mechanism("mechanism", mechanism)
        mechanism.check_compatible(instance)
        self.instance, self.mechanism = instance, mechanism
        self.max_cycles = check_integer("max_cycles", max_cycles, minimum=1)
        self.cost_timing = check_choice("cost_timing", cost_timing, ("report", "effort"))
        self.render_mode = check_render_mode(render_mode, self.metadata)

        n = instance.n_agents
        self.possible_agents = [f"agent_{i}" for i in range(n)]
        self.agents: list[str] = []
        E, S = instance.n_efforts, instance.n_signals
        agents = list(enumerate(self.possible_agents))
        self._set_spaces(
            observation_spaces={a: spaces.MultiDiscrete([2, E[i], E[i], S[i]]) for i, a in agents},
            action_spaces={a: spaces.MultiDiscrete([E[i], S[i]]) for i, a in agents},
        )
        self.state_space = spaces.MultiDiscrete([2, *E, *E, *S, instance.n_states])

        # Flat lookup tables (nested Python lists: bisect on a list is ~10x faster than numpy's
        # searchsorted on a tiny array) so that a step costs a handful of list look-ups.
        self._profiles = list(np.ndindex(*E))
        self._signal_profiles = list(np.ndindex(*S))
        tables = round_tables(instance, mechanism)
        self._phi_cdf = tables.phi_cdf.tolist()
        self._prior_cdf = tables.prior_cdf.tolist()
        self._signal_cdf = tables.signal_cdf.tolist()
        self._decision_cdf = tables.decision_cdf.tolist()
        self._payments = tables.payments.tolist()  # [b][r][t][i]
        self._utility = instance.utility.tolist()
        self._costs = [c.tolist() for c in instance.costs]
        self._profile_index = {b: k for k, b in enumerate(self._profiles)}
        self._signal_index = {s: k for k, s in enumerate(self._signal_profiles)}
        self._pairs = list(enumerate(self.possible_agents))
        self._agent_keys = frozenset(self.possible_agents)
        # Every possible observation, built once and shared read-only.
        self._obs = []
        for i in range(n):
            table = np.zeros((2, E[i], E[i], S[i], 4), dtype=np.int64)
            for idx in np.ndindex(2, E[i], E[i], S[i]):
                table[idx] = idx
            table.setflags(write=False)
            self._obs.append(
                [
                    [
                        [[table[ph, r, e, g] for g in range(S[i])] for e in range(E[i])]
                        for r in range(E[i])
                    ]
                    for ph in range(2)
                ]
            )
        self._highs = (list(E), list(S))
        self._uniforms: list[float] = []
        self._last = None

    # ------------------------------------------------------------------------------------ API
    def reset(self, seed=None, options=None):
        if self._reseed(seed):
            self._uniforms = []
        self.agents = list(self.possible_agents)
        self._steps = 0
        self._new_round()
        rec = self._recommended
        observations = {a: self._obs[i][0][rec[i]][0][0] for i, a in enumerate(self.agents)}
        infos = {a: {"profile": rec} for a in self.agents}
        self._last = (0, rec)
        return observations, infos

    def _uniform(self) -> float:
        # Uniforms are drawn from the seeded generator in blocks: one Generator call per UNIFORM_BLOCK draws.
        if not self._uniforms:
            self._uniforms = self._rng.random(UNIFORM_BLOCK).tolist()
            self._uniforms.reverse()
        return self._uniforms.pop()

    def _new_round(self):
        self._b_flat = bisect_right(self._phi_cdf, self._uniform())
        self._recommended = self._profiles[self._b_flat]
        self._phase = 0

    def state(self) -> np.ndarray:
        """The global state (module docstring): an element of ``state_space``."""
        if self._last is None:
            raise EpisodeOverError("state() called before reset(): call reset() first")
        n = self.instance.n_agents
        if self._phase == 0:
            return np.array([0, *self._recommended, *([0] * (2 * n)), 0], dtype=np.int64)
        return np.array([1, *self._recommended, *self._efforts, *self._signals, self._theta], dtype=np.int64)

    def step(self, actions):
        agents = self.agents
        if not agents:
            raise EpisodeOverError("step() called on a finished episode: call reset() first")
        try:
            complete = self._agent_keys <= actions.keys()
        except AttributeError:
            raise InvalidInstanceError(f"actions: expected a dict of one action per live agent, found "
                                       f"{type(actions).__name__}", argument="actions") from None
        if not complete:
            missing = [a for a in agents if a not in actions]
            raise InvalidInstanceError(f"actions: expected an action for every live agent, missing {missing}",
                                       argument="actions")
        # Two dict look-ups validate every action (both components, whatever the step reads); errors are
        # explained by _invalid.
        efforts, reports = [], []
        try:
            for a in agents:
                x = actions[a]
                if len(x) != 2:
                    self._invalid(actions)
                efforts.append(index(x[0]))
                reports.append(index(x[1]))
        except (TypeError, IndexError, KeyError):
            self._invalid(actions)
        efforts, reports = tuple(efforts), tuple(reports)
        e_flat = self._profile_index.get(efforts)
        r_flat = self._signal_index.get(reports)
        if e_flat is None or r_flat is None:
            self._invalid(actions)
        self._steps += 1
        done = self._steps >= self.max_cycles
        rec = self._recommended
        obs = self._obs
        pairs = self._pairs
        if self._phase == 0:
            theta = bisect_right(self._prior_cdf, self._uniform())
            s_flat = bisect_right(self._signal_cdf[e_flat][theta], self._uniform())
            signals = self._signal_profiles[s_flat]
            self._efforts, self._theta, self._signals = efforts, theta, signals
            self._phase = 1
            if self.cost_timing == "effort":
                costs = self._costs
                rewards = {a: -costs[i][efforts[i]] for i, a in pairs}
            else:
                rewards = dict.fromkeys(agents, 0.0)
            observations = {a: obs[i][1][rec[i]][efforts[i]][signals[i]] for i, a in pairs}
            infos = {a: {"profile": rec} for a in agents}
            self._last = (1, rec, efforts)
        else:
            b, theta, efforts = self._b_flat, self._theta, self._efforts
            action = bisect_right(self._decision_cdf[b][r_flat], self._uniform())
            pay = self._payments[b][r_flat][theta]
            principal = self._utility[action][theta] - sum(pay)
            costs = [self._costs[i][e] for i, e in enumerate(efforts)]
            if self.cost_timing == "effort":
                rewards = {a: pay[i] for i, a in pairs}
            else:
                rewards = {a: pay[i] - costs[i] for i, a in pairs}
            shared = {
                "profile": rec,
                "state": theta,
                "principal_utility": principal,
                "action": action,
                "efforts": efforts,
                "signals": self._signals,
                "reports": reports,
            }
            infos = {a: {**shared, "payment": pay[i], "cost": costs[i]} for i, a in pairs}
            self._last = (2, rec, efforts, theta, self._signals, reports, action, pay)
            self._new_round()
            nxt = self._recommended
            observations = {a: obs[i][0][nxt[i]][0][0] for i, a in pairs}
        return self._finish_parallel_step(agents, done, observations, rewards, infos)

    def _invalid(self, actions):
        """Raise an :class:`InvalidInstanceError` naming ``actions``, the agent and its first invalid component."""
        for i, a in self._pairs:
            action = actions[a]
            try:
                values = [index(action[k]) for k in range(2)] if len(action) == 2 else None
            except (TypeError, IndexError, KeyError):
                values = None
            if values is None:
                raise InvalidInstanceError(
                    f"actions[{a!r}]: expected an (effort, report) pair of integers, "
                    f"found {action!r}", argument="actions")
            for k, what in enumerate(("effort", "report")):
                if not 0 <= values[k] < self._highs[k][i]:
                    raise InvalidInstanceError(
                        f"actions[{a!r}]: expected {what} in 0..{self._highs[k][i] - 1}, found {values[k]}",
                        argument="actions")
        raise InvalidInstanceError(f"actions: expected an action in the action space of every agent, found "
                                   f"{actions!r}", argument="actions")  # pragma: no cover

    def _render_text(self) -> str:
        if self._last is None:
            return "not started: call reset()"
        rnd = max(self._steps - 1, 0) // 2
        kind, rec, *rest = self._last
        if kind == 0:
            return f"round {rnd}: recommended {rec}"
        if kind == 1:
            return f"round {rnd}: recommended {rec}, efforts {rest[0]}"
        efforts, theta, signals, reports, action, pay = rest
        return (
            f"round {rnd}: recommended {rec}, efforts {efforts}, state {theta}, signals {signals}, "
            f"reports {reports}, principal action {action}, payments {[round(p, 4) for p in pay]}"
        )


raw_parallel_env = HiringParallelEnv
raw_env = aec_view(HiringParallelEnv)
env = classic_env(raw_env)
parallel_env = parallel_factory(HiringParallelEnv)
