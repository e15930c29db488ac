r"""Adapters for multi-agent RL libraries: one-hot spaces and scripted agents.

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

import inspect
from collections.abc import Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo.utils.env import ParallelEnv

from mechsim.errors import InvalidInstanceError

__all__ = ["OneHotParallelEnv", "ScriptedAgents", "hiring_rllib_env", "obedient_truthful_hiring_policy"]


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

    @property
    def state_space(self):
        return self.env.state_space


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
        return (self._split(obs), self._learners_only(rewards), self._learners_only(terms),
                self._learners_only(truncs), self._learners_only(infos))

    def _learners_only(self, per_agent: dict) -> dict:
        return {a: v for a, v in per_agent.items() if a not in self.policies}

    def state(self):
        return self.env.state()

    @property
    def state_space(self):
        return self.env.state_space

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

    if config is not None and not isinstance(config, Mapping):
        raise InvalidInstanceError(f"config: expected None or a dict of keyword arguments, found "
                                   f"{type(config).__name__}", argument="config")
    kwargs = dict(config or {})
    learners = kwargs.pop("learners", None)
    known = set(inspect.signature(HiringParallelEnv).parameters)
    unknown = sorted(str(k) for k in kwargs if k not in known)
    if unknown:
        raise InvalidInstanceError(f"config: expected keys among {sorted(known | {'learners'})}, found {unknown}",
                                   argument="config")
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
