r"""Batched multi-agent environments: ``N`` copies of a PettingZoo parallel game stepped as arrays.

PettingZoo has no vector API.  mechsim's batched parallel environments (:class:`~mechsim.envs.hiring_vector.
HiringVectorEnv`, :class:`~mechsim.envs.auction_vector.AuctionVectorEnv`) keep PettingZoo's per-agent dicts and
put a leading copy axis of length ``N = num_envs`` on every value (the **array interface**):

==================  ===============================================================================================
``reset``           ``observations, infos = env.reset(seed=None, options=None)``
``step``            ``observations, rewards, terminations, truncations, infos = env.step(actions)``
``observations``    ``{agent: array (N, *obs_shape)}``: row ``c`` is the agent's observation in copy ``c``
``actions``         ``{agent: array (N, *act_shape)}`` (an element of ``action_space(agent)``)
``rewards``         ``{agent: float64 array (N,)}``
``terminations``    ``{agent: bool array (N,)}``, and ``truncations`` alike
``infos``           ``{agent: {key: array (N, ...), "_key": bool array (N,)}}``: Gymnasium's vector-info layout
                    per agent; ``infos[a]["_key"][c]`` says whether copy ``c`` reported ``key`` (rows without it
                    hold zeros)
==================  ===============================================================================================

``single_observation_space(agent)`` and ``single_action_space(agent)`` are the single environment's spaces,
``observation_space(agent)`` and ``action_space(agent)`` their batched versions (``gymnasium.vector.utils.
batch_space``).  Every copy has every agent at every step: ``agents`` is always ``possible_agents``.

**Autoreset** follows Gymnasium 1.x vector environments' next-step mode (``metadata["autoreset_mode"] =
AutoresetMode.NEXT_STEP``): the step after a copy's episode ended ignores that copy's actions and resets it,
returning its reset observations, rewards 0, ``terminated = truncated = False`` and its reset infos.
``reset(options={"reset_mask": mask})`` resets only the copies where the boolean ``(N,)`` mask is True.

**Seeding**: ``reset(seed=s)`` seeds copy ``c`` with ``s + c``; ``seed`` may also be a sequence of ``N`` ints or
Nones.  Copy ``c`` then draws, draw for draw, what the single parallel environment reset with ``seed = s + c``
draws, and an unseeded (auto)reset continues its stream as the single environment's unseeded reset does: each
copy reproduces that environment's episodes exactly (tested seed by seed).

**Speed** (``benchmarks/bench_ma_vector.py``): per step the batched envs pay a fixed numpy overhead of tens of
microseconds, so one copy is 3-10x slower than the single environment's scalar path; they break even at about 16
copies and at 256 copies run 14x (Hiring-v0) and 35x (Auction-v0) faster than a loop over single environments,
above 5 million agent-steps per CPU second.

**The SuperSuit-compatible view.**  :func:`as_vector_env` turns a batched environment whose agents share one
observation space and one action space into a ``gymnasium.vector.VectorEnv`` with one sub-environment per
(copy, agent) pair, slot ``c * n_agents + j`` for agent ``j`` of copy ``c``: the layout of SuperSuit's
``concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(parallel_env), N)``, whose copy ``c`` is reset with seed
``s + c`` too.  A parameter-shared policy trains on it, e.g. Stable-Baselines3 through
:func:`mechsim.envs.sb3_vector.sb3_vec_env` (which resets finished copies at once, SuperSuit's semantics).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from mechsim.envs._batch import copy_seeds, reset_mask
from mechsim.errors import EpisodeOverError, InvalidInstanceError
from mechsim.validation import _describe, _fail, as_generator

__all__ = ["AgentSlotVectorEnv", "BatchedParallelEnv", "as_vector_env"]


class RowStream:
    """Per-copy buffered draws: copy ``c`` reads the rows of ``draw(c)`` blocks in order, ``need`` at a time.

    ``buf[c, pos[c]:end[c]]`` are copy ``c``'s rows not yet read.  :meth:`ensure` tops up every copy with fewer
    than ``need`` rows left by appending its next block after the unread tail, so a copy's rows are the
    concatenation of its blocks whatever the refill times: the stream a single environment reads one draw at a
    time.  Refills are rare (once per ``block // need`` steps), so their Python loop over copies is cheap.
    """

    def __init__(self, n: int, block: int, row_shape: tuple[int, ...], need: int, draw: Callable[[int], np.ndarray]):
        self.block, self.need, self.draw = block, need, draw
        self.buf = np.zeros((n, block + need - 1, *row_shape))
        self.pos = np.zeros(n, dtype=np.intp)
        self.end = np.zeros(n, dtype=np.intp)
        self._arange = np.arange(n)

    def discard(self, c: int) -> None:
        """Forget copy ``c``'s unread rows (its generator was reseeded)."""
        self.pos[c] = self.end[c] = 0

    def ensure(self) -> None:
        low = self.end - self.pos < self.need
        if not low.any():
            return
        for c in np.flatnonzero(low).tolist():
            tail = self.buf[c, self.pos[c]:self.end[c]].copy()
            k = len(tail)
            self.buf[c, :k] = tail
            self.buf[c, k:k + self.block] = self.draw(c)
            self.pos[c], self.end[c] = 0, k + self.block

    def peek(self, offset: int = 0) -> np.ndarray:
        """Row ``pos + offset`` of every copy (after :meth:`ensure`; ``offset < need``)."""
        return self.buf[self._arange, self.pos + offset]

    def advance(self, counts) -> None:
        self.pos += counts


def copy_groups(phase: np.ndarray, pending: np.ndarray, any_pending: bool):
    """The copies in phase 0, in phase 1 and pending an autoreset: each ``None`` (no copy), ``slice(None)``
    (every copy: the common case, indexed without gathering) or an index array."""
    if not any_pending:
        first = phase[0]
        if (phase == first).all():
            return (slice(None), None, None) if first == 0 else (None, slice(None), None)
    live = ~pending
    groups = [np.flatnonzero(live & (phase == 0)), np.flatnonzero(live & (phase == 1)), np.flatnonzero(pending)]
    return tuple(g if len(g) else None for g in groups)


def spread(rows: np.ndarray, idx, n: int, dtype=float) -> np.ndarray:
    """``rows`` of the copies ``idx`` (``slice(None)`` or an index array) as an array over all ``n`` copies, zeros
    for the others."""
    if isinstance(idx, slice):
        return rows.astype(dtype)
    full = np.zeros((n, *rows.shape[1:]), dtype=dtype)
    full[idx] = rows
    return full


def masked(values: dict, mask: np.ndarray) -> dict:
    """Gymnasium's vector-info layout: each key of ``values`` and its ``"_key"`` mask (a copy of ``mask``)."""
    out = {}
    for key, value in values.items():
        out[key] = value
        out["_" + key] = mask.copy()
    return out


class BatchedParallelEnv:
    """What mechsim's batched parallel environments share (module docstring): spaces, seeding, reset masks.

    A subclass builds its single environment ``env`` (which validates the arguments and holds the spaces), calls
    :meth:`_init_batch`, and implements ``_reseeded(c)`` (copy ``c`` got a new generator ``self._rngs[c]``),
    ``_reset_copies(idx, mask)`` (start new episodes in the copies ``idx``; return observations and infos) and
    ``_step(actions)`` (one step of every copy, autoresets included).
    """

    metadata: ClassVar[dict[str, Any]]

    def _init_batch(self, num_envs: int, env) -> None:
        self.num_envs = num_envs
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.agents = list(self.possible_agents)
        self.render_mode = None
        self._single_obs = {a: env.observation_space(a) for a in self.possible_agents}
        self._single_act = {a: env.action_space(a) for a in self.possible_agents}
        self._batch_obs = {a: batch_space(s, num_envs) for a, s in self._single_obs.items()}
        self._batch_act = {a: batch_space(s, num_envs) for a, s in self._single_act.items()}
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._started = False
        self._agent_set = frozenset(self.possible_agents)

    @property
    def num_agents(self) -> int:
        return len(self.possible_agents)

    @property
    def max_num_agents(self) -> int:
        return len(self.possible_agents)

    def single_observation_space(self, agent):
        """The single environment's observation space of ``agent``."""
        return self._single_obs[agent]

    def single_action_space(self, agent):
        """The single environment's action space of ``agent``."""
        return self._single_act[agent]

    def observation_space(self, agent):
        """``batch_space(single_observation_space(agent), num_envs)``: what ``observations[agent]`` lies in."""
        return self._batch_obs[agent]

    def action_space(self, agent):
        """``batch_space(single_action_space(agent), num_envs)``: what ``actions[agent]`` must lie in."""
        return self._batch_act[agent]

    def reset(self, seed=None, options: dict | None = None):
        """Reset every copy (or those of ``options["reset_mask"]``); ``seed``: None, an int ``s`` (copy ``c``
        gets ``s + c``) or a sequence of ``num_envs`` ints or Nones."""
        seeds = copy_seeds(seed, self.num_envs)
        mask = reset_mask(options, self.num_envs, self._started)
        idx = np.flatnonzero(mask)
        for c in idx.tolist():
            if seeds[c] is not None or self._rngs[c] is None:
                self._rngs[c] = as_generator(seeds[c])
                self._reseeded(c)
        self._autoreset[idx] = False
        self._started = True
        return self._reset_copies(idx, mask)

    def step(self, actions):
        """Step every copy (module docstring; copies whose episode ended at the last step are reset instead)."""
        if not self._started:
            raise EpisodeOverError("step() called before reset(): call reset() first")
        return self._step(actions)

    def _action_arrays(self, actions) -> list:
        """The actions in agent order (the dict's keys checked; each value is checked by the subclass)."""
        if not isinstance(actions, Mapping):
            raise _fail("actions", "a dict of one action array per agent", _describe(actions))
        if len(actions) != len(self.possible_agents) or not self._agent_set <= actions.keys():
            missing = [a for a in self.possible_agents if a not in actions]
            if missing:
                raise InvalidInstanceError(f"actions: expected an action array for every agent, missing "
                                           f"{missing[:3]}", argument="actions")
            unknown = [a for a in actions if a not in self._agent_set]
            raise InvalidInstanceError(f"actions: expected keys among {self.possible_agents[0]}.."
                                       f"{self.possible_agents[-1]}, found {unknown[:3]!r}", argument="actions")
        return [actions[a] for a in self.possible_agents]

    def _per_agent(self, arrays: Sequence[np.ndarray]) -> dict:
        return dict(zip(self.possible_agents, arrays))

    def _done(self, done: np.ndarray) -> tuple[dict, dict]:
        """Terminations (never: the games end by truncation) and truncations, one array per agent."""
        return ({a: np.zeros(self.num_envs, dtype=bool) for a in self.possible_agents},
                {a: done.copy() for a in self.possible_agents})

    def close(self) -> None:
        self.env.close()


def _stack_slots(per_agent: Sequence[np.ndarray]) -> np.ndarray:
    """Agent-major arrays ``(N, ...)`` as one slot array ``(N * n_agents, ...)``, slot ``c * n_agents + j``."""
    stacked = np.stack(per_agent, axis=1)
    return stacked.reshape(stacked.shape[0] * stacked.shape[1], *stacked.shape[2:])


class AgentSlotVectorEnv(VectorEnv):
    """Gymnasium vector view of a batched parallel environment: one sub-env per (copy, agent) pair.

    Built by :func:`as_vector_env` (see there and the module docstring).  Sub-env ``c * n_agents + j`` is agent
    ``j`` of copy ``c``.  Observations ``(num_envs, *obs_shape)``, rewards, terminations and truncations
    ``(num_envs,)``, infos in Gymnasium's vector layout (every key of the agents' infos, with its ``"_key"``
    mask), next-step autoreset.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, batched: BatchedParallelEnv):
        agents = batched.possible_agents
        obs0, act0 = batched.single_observation_space(agents[0]), batched.single_action_space(agents[0])
        for a in agents[1:]:
            for what, mine, first in (("observation", batched.single_observation_space(a), obs0),
                                      ("action", batched.single_action_space(a), act0)):
                if mine != first:
                    raise InvalidInstanceError(
                        f"batched: expected agents sharing one {what} space (a parameter-shared policy acts for "
                        f"all of them), found {a!r} with {mine} and {agents[0]!r} with {first}",
                        argument="batched")
        self.batched = batched
        self.n_agents = len(agents)
        self.n_copies = batched.num_envs
        self.num_envs = self.n_copies * self.n_agents
        self.metadata = {**self.metadata, "name": batched.metadata.get("name")}
        self.render_mode = None
        self.single_observation_space = obs0
        self.single_action_space = act0
        self.observation_space = batch_space(obs0, self.num_envs)
        self.action_space = batch_space(act0, self.num_envs)
        self._act_shape = act0.shape

    def _slots(self, obs: dict) -> np.ndarray:
        return _stack_slots([obs[a] for a in self.batched.possible_agents])

    def _infos(self, infos: dict) -> dict:
        agents = self.batched.possible_agents
        return {key: _stack_slots([infos[a][key] for a in agents]) for key in infos[agents[0]]}

    def reset(self, *, seed=None, options: dict | None = None):
        """Reset the copies (all, or those whose slots ``options["reset_mask"]`` marks: every slot of a copy
        alike).  ``seed``: None, an int ``s`` (copy ``c`` gets ``s + c``, as SuperSuit seeds its copies) or a
        sequence of ``num_envs`` per-slot seeds (as SB3's ``VecEnv.seed`` makes), of which copy ``c`` takes
        the one of its first slot ``c * n_agents``."""
        n = self.n_agents
        if isinstance(seed, (list, tuple)):
            if len(seed) != self.num_envs:
                raise _fail("seed", f"None, a non-negative integer or a sequence of {self.num_envs} of them "
                                    "(one per slot)", _describe(seed))
            seed = list(seed[::n])
        if isinstance(options, dict) and "reset_mask" in options:
            mask = options["reset_mask"]
            if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
                raise _fail("reset_mask", f"a boolean array of shape ({self.num_envs},)", _describe(mask))
            rows = mask.reshape(self.n_copies, n)
            if not (rows == rows[:, :1]).all():
                c = int(np.flatnonzero((rows != rows[:, :1]).any(axis=1))[0])
                raise InvalidInstanceError(f"reset_mask: expected the {n} slots of a copy to agree (a copy resets "
                                           f"with all its agents), found {rows[c].tolist()} for copy {c}",
                                           argument="reset_mask")
            options = {**options, "reset_mask": rows[:, 0].copy()}
        obs, infos = self.batched.reset(seed=seed, options=options)
        return self._slots(obs), self._infos(infos)

    def step(self, actions):
        arr = actions if isinstance(actions, np.ndarray) else \
            np.asarray(actions) if isinstance(actions, (list, tuple)) else None
        shape = (self.num_envs, *self._act_shape)
        if arr is None or arr.shape != shape:
            raise _fail("actions", f"an array of shape {shape}, one action per (copy, agent) slot",
                        _describe(actions))
        per_copy = arr.reshape(self.n_copies, self.n_agents, *self._act_shape)
        agents = self.batched.possible_agents
        obs, rewards, terms, truncs, infos = self.batched.step({a: per_copy[:, j] for j, a in enumerate(agents)})
        return (self._slots(obs), self._slots(rewards), self._slots(terms), self._slots(truncs),
                self._infos(infos))

    def close(self, **kwargs) -> None:
        self.batched.close()


def as_vector_env(batched: BatchedParallelEnv) -> AgentSlotVectorEnv:
    """The SuperSuit-compatible ``gymnasium.vector.VectorEnv`` view of a batched parallel environment.

    Sub-env ``c * n_agents + j`` is agent ``j`` (of ``possible_agents``) in copy ``c``, the order of SuperSuit's
    ``concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(parallel_env), N)``; ``reset(seed=s)`` seeds copy ``c``
    with ``s + c`` as SuperSuit does, so the view reproduces SuperSuit's conversion of the single environment
    (up to autoreset timing: next-step here, same-step there; :func:`mechsim.envs.sb3_vector.sb3_vec_env`
    turns it into SuperSuit's and SB3's same-step reset).

    Parameters
    ----------
    batched : HiringVectorEnv or AuctionVectorEnv
        Its agents must share one observation space and one action space (compared with ``==``).

    Returns
    -------
    AgentSlotVectorEnv

    Raises
    ------
    InvalidInstanceError
        Naming ``batched``: not a batched parallel environment, or agents with different spaces (e.g. a hiring
        instance whose agents have different numbers of efforts or signals).

    Examples
    --------
    >>> from mechsim.envs.auction_vector import AuctionVectorEnv
    >>> from mechsim.envs.ma_vector import as_vector_env
    >>> vec = as_vector_env(AuctionVectorEnv(4, n_bidders=3, format="second"))
    >>> obs, info = vec.reset(seed=0)
    >>> vec.num_envs, obs.shape
    (12, (12, 1))
    """
    if not isinstance(batched, BatchedParallelEnv):
        raise InvalidInstanceError(f"batched: expected a batched parallel environment (HiringVectorEnv, "
                                   f"AuctionVectorEnv), found {_describe(batched)}", argument="batched")
    return AgentSlotVectorEnv(batched)
