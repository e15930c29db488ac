r"""Batched ``mechsim/Hiring-v0``: ``N`` copies of the posted hiring mechanism stepped as arrays.

:class:`HiringVectorEnv` runs ``num_envs`` independent copies of
:class:`~mechsim.envs.hiring.HiringParallelEnv` (its module docstring states the game: a round is an effort step,
where agent *i* sees its recommendation :math:`b_i \sim \phi` and exerts :math:`e_i`, then
:math:`\theta \sim \mu` and :math:`s \sim P(\cdot \mid e, \theta)` are drawn; and a report step, where it reports
:math:`r_i`, the principal takes :math:`a \sim \pi(\cdot \mid b, r)` and pays :math:`\gamma_i(b, r, \theta)`;
agent *i*'s utility is :math:`\gamma_i - c_i(e_i)`).  The laws and payments are the single environment's
:func:`~mechsim.envs.hiring.round_tables`, and every draw is the same inversion (the number of cdf entries
``<= u``) applied to the copies' uniforms at once.

Layout (:mod:`mechsim.envs.ma_vector`): ``observations[agent]`` is an int64 array ``(N, 4)`` of
(phase, recommended effort, exerted effort, signal) rows, ``actions[agent]`` an integer array ``(N, 2)`` of
(effort, report) rows, rewards ``(N,)`` per agent.  ``infos[agent]`` has ``"profile"`` ``(N, n_agents)`` for
every copy; after a report step, for the copies that made one (``"_state"`` etc. True), ``"state"``,
``"action"`` ``(N,)`` int64, ``"principal_utility"``, ``"payment"``, ``"cost"`` ``(N,)`` float64, and
``"efforts"``, ``"signals"``, ``"reports"`` ``(N, n_agents)`` int64 (rows of the other copies are zeros).
Copies may be in different phases (after a partial ``reset_mask``, or with an odd ``max_cycles``).
``state()`` is ``(N, state_dim)``, row ``c`` the single environment's ``state()`` of copy ``c``.

**Seeding.**  Copy ``c`` owns the generator a ``HiringParallelEnv`` makes on ``reset(seed=s + c)`` and reads
its uniforms in the same blocks of :data:`~mechsim.envs.hiring.UNIFORM_BLOCK` and the same order (one at a
reset, two at each step), so it reproduces that environment's episodes draw for draw, through unseeded
resets and autoresets (tested against independent single environments, seed by seed).

Every action entry is checked (it must lie in the batched action space, also for copies being autoreset, whose
actions are ignored): anything else raises :class:`~mechsim.errors.InvalidInstanceError` naming ``actions``
and the agent.  No rendering: render single copies with ``Hiring-v0``.  All agents' spaces are equal when the
instance gives every agent the same numbers of efforts and signals (the default instance does); then
:func:`~mechsim.envs.ma_vector.as_vector_env` gives the SuperSuit-compatible vector view.

Examples
--------
>>> import numpy as np
>>> from mechsim.envs.hiring_vector import HiringVectorEnv
>>> envs = HiringVectorEnv(8, max_cycles=20)
>>> obs, infos = envs.reset(seed=0)
>>> obs["agent_0"].shape, infos["agent_0"]["profile"].shape
((8, 4), (8, 2))
>>> obey = {a: np.stack([o[:, 1], np.zeros(8, dtype=np.int64)], axis=1) for a, o in obs.items()}
>>> obs, rewards, terminations, truncations, infos = envs.step(obey)
>>> rewards["agent_1"].shape, bool(obs["agent_0"][:, 0].all())
((8,), True)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import AutoresetMode

from mechsim.envs.hiring import UNIFORM_BLOCK, HiringParallelEnv, round_tables
from mechsim.envs.ma_vector import BatchedParallelEnv, RowStream, copy_groups, masked, spread
from mechsim.errors import EpisodeOverError, InvalidInstanceError
from mechsim.hiring.model import HiringInstance, Mechanism
from mechsim.validation import _describe, _fail, check_allocation, check_integer

__all__ = ["HiringVectorEnv"]

#: Bytes of state per copy and agent (observations, actions, infos, rewards) and per copy (uniform buffer).
_BYTES_PER_COPY_AGENT = 256
_BYTES_PER_COPY = 8 * (UNIFORM_BLOCK + 1) + 256


def _count_le(table_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, the number of entries ``<= u`` (``bisect_right`` on each sorted row)."""
    return (table_rows <= u[:, None]).sum(axis=1)


class HiringVectorEnv(BatchedParallelEnv):
    """``num_envs`` copies of :class:`~mechsim.envs.hiring.HiringParallelEnv` stepped as arrays.

    Parameters
    ----------
    num_envs : int
        ``N``, the number of copies.
    instance, mechanism, max_cycles, cost_timing
        As :class:`~mechsim.envs.hiring.HiringParallelEnv` (which checks them).

    See the module docstring for the layout, seeding and autoreset.
    """

    metadata: ClassVar[dict[str, Any]] = {"name": "hiring_v0", "render_modes": [], "is_parallelizable": True,
                                          "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, instance: HiringInstance | None = None, mechanism: Mechanism | None = None,
                 max_cycles: int = 2, cost_timing: str = "report"):
        N = check_integer("num_envs", num_envs, minimum=1)
        env = HiringParallelEnv(instance=instance, mechanism=mechanism, max_cycles=max_cycles,
                                cost_timing=cost_timing)
        inst = env.instance
        n = inst.n_agents
        check_allocation("num_envs", float(N) * (_BYTES_PER_COPY + n * _BYTES_PER_COPY_AGENT),
                         f"the state of num_envs={N} copies of {n} agents")
        self._init_batch(N, env)
        self.instance, self.mechanism = env.instance, env.mechanism
        self.max_cycles, self.cost_timing = env.max_cycles, env.cost_timing
        self._n = n
        E, S = tuple(inst.n_efforts), tuple(inst.n_signals)
        self._E, self._S = E, S
        self._highs = np.array([E, S], dtype=np.int64).T          # (n, 2): bounds of (effort, report)
        # C-order strides: a profile's flat index is profile @ strides (np.ravel_multi_index, without its checks)
        self._e_strides = np.array([int(np.prod(E[i + 1:])) for i in range(n)], dtype=np.int64)
        self._s_strides = np.array([int(np.prod(S[i + 1:])) for i in range(n)], dtype=np.int64)
        self._profiles = np.array(list(np.ndindex(*E)), dtype=np.int64).reshape(-1, n)
        self._signal_profiles = np.array(list(np.ndindex(*S)), dtype=np.int64).reshape(-1, n)
        t = round_tables(inst, env.mechanism)
        P, T = len(self._profiles), inst.n_states
        SS = len(self._signal_profiles)
        self._phi_cdf, self._prior_cdf = t.phi_cdf, t.prior_cdf
        self._signal_cdf = t.signal_cdf.reshape(P * T, SS)
        self._decision_cdf = t.decision_cdf.reshape(P * SS, inst.n_actions)
        self._payments = t.payments.reshape(P * SS * T, n)
        self._utility = inst.utility
        self._costs = [np.asarray(c, dtype=float) for c in inst.costs]
        self._SS, self._T = SS, T
        self._effort_timing = env.cost_timing == "effort"
        self._uniforms = RowStream(N, UNIFORM_BLOCK, (), 2, lambda c: self._rngs[c].random(UNIFORM_BLOCK))
        self._phase = np.zeros(N, dtype=np.int64)
        self._steps = np.zeros(N, dtype=np.int64)
        self._b = np.zeros(N, dtype=np.intp)
        self._rec = np.zeros((N, n), dtype=np.int64)
        self._efforts = np.zeros((N, n), dtype=np.int64)
        self._theta = np.zeros(N, dtype=np.intp)
        self._signals = np.zeros((N, n), dtype=np.int64)

    # ------------------------------------------------------------------------------ internals
    def _reseeded(self, c: int) -> None:
        self._uniforms.discard(c)

    def _new_rounds(self, idx: np.ndarray, u: np.ndarray) -> None:
        """Draw the recommended profiles of a new round in the copies ``idx`` from their uniforms ``u``."""
        b = np.searchsorted(self._phi_cdf, u, side="right")
        self._b[idx] = b
        self._rec[idx] = self._profiles[b]
        self._phase[idx] = 0

    def _observe(self) -> dict:
        n, N = self._n, self.num_envs
        obs = np.zeros((n, N, 4), dtype=np.int64)
        obs[:, :, 0] = self._phase
        obs[:, :, 1] = self._rec.T
        shown = self._phase == 1
        obs[:, :, 2] = self._efforts.T * shown
        obs[:, :, 3] = self._signals.T * shown
        return self._per_agent(list(obs))

    def _profile_infos(self) -> list[dict]:
        return [{"profile": self._rec.copy(), "_profile": np.ones(self.num_envs, dtype=bool)}
                for _ in range(self._n)]

    def _reset_copies(self, idx: np.ndarray, mask: np.ndarray):
        self._uniforms.ensure()
        u = self._uniforms.peek(0)[idx]
        counts = np.zeros(self.num_envs, dtype=np.intp)
        counts[idx] = 1
        self._uniforms.advance(counts)
        self._steps[idx] = 0
        self._new_rounds(idx, u)
        infos = [{"profile": self._rec.copy(), "_profile": mask.copy()} for _ in range(self._n)]
        return self._observe(), self._per_agent(infos)

    def _check_actions(self, actions) -> np.ndarray:
        """The actions as one int64 array ``(N, n_agents, 2)`` (every entry checked)."""
        arrays = self._action_arrays(actions)
        N = self.num_envs
        out = np.empty((N, self._n, 2), dtype=np.int64)
        for j, (a, x) in enumerate(zip(self.possible_agents, arrays)):
            arr = x if isinstance(x, np.ndarray) else np.asarray(x) if isinstance(x, (list, tuple)) else None
            if arr is None or arr.dtype.kind not in "iu" or arr.shape != (N, 2):
                raise _fail(f"actions[{a!r}]", f"an integer array of shape ({N}, 2), (effort, report) per copy",
                            _describe(x))
            out[:, j] = arr
        bad = (out < 0) | (out >= self._highs)
        if bad.any():
            c, j, k = (int(v) for v in np.argwhere(bad)[0])
            what = ("effort", "report")[k]
            raise InvalidInstanceError(f"actions[{self.possible_agents[j]!r}]: expected {what} in "
                                       f"0..{self._highs[j, k] - 1}, found {out[c, j, k]} in copy {c}",
                                       argument="actions")
        return out

    # ------------------------------------------------------------------------------------ step
    def _step(self, actions):
        acts = self._check_actions(actions)
        N, n = self.num_envs, self._n
        pending = self._autoreset
        live = ~pending
        streams = self._uniforms
        streams.ensure()
        u0, u1 = streams.peek(0), streams.peek(1)
        any_pending = pending.any()
        streams.advance(np.where(pending, 1, 2) if any_pending else 2)
        efforts, reports = acts[:, :, 0], acts[:, :, 1]
        g0, g1, gp = copy_groups(self._phase, pending, any_pending)
        rewards = np.zeros((n, N))
        infos = self._profile_infos()   # "profile" before the new rounds below; fixed up for gp next

        if g0 is not None:               # effort step
            e = efforts[g0]
            theta = np.searchsorted(self._prior_cdf, u0[g0], side="right")
            e_flat = e @ self._e_strides
            s_flat = _count_le(self._signal_cdf[e_flat * self._T + theta], u1[g0])
            self._efforts[g0] = e
            self._theta[g0] = theta
            self._signals[g0] = self._signal_profiles[s_flat]
            self._phase[g0] = 1
            if self._effort_timing:
                for i in range(n):
                    rewards[i, g0] = -self._costs[i][e[:, i]]

        if g1 is not None:               # report step, then the next round's recommendation
            b, theta = self._b[g1], self._theta[g1]
            r = reports[g1]
            br = b * self._SS + r @ self._s_strides
            action = _count_le(self._decision_cdf[br], u0[g1])
            pay = self._payments[br * self._T + theta]
            paid = pay[:, 0]
            for i in range(1, n):        # left to right, as Python's sum() in HiringParallelEnv
                paid = paid + pay[:, i]
            principal = self._utility[action, theta] - paid
            ef = self._efforts[g1]
            cost = np.empty(pay.shape)
            for i in range(n):
                cost[:, i] = self._costs[i][ef[:, i]]
            rewards[:, g1] = (pay if self._effort_timing else pay - cost).T
            mask = np.zeros(N, dtype=bool)
            mask[g1] = True
            shared = {key: spread(rows, g1, N, dtype) for key, rows, dtype in (
                ("state", theta, np.int64), ("action", action, np.int64), ("principal_utility", principal, float),
                ("efforts", ef, np.int64), ("signals", self._signals[g1], np.int64), ("reports", r, np.int64))}
            for value in shared.values():
                value.setflags(write=False)      # one array for every agent's info
            for i in range(n):
                own = {**shared, "payment": spread(pay[:, i], g1, N), "cost": spread(cost[:, i], g1, N)}
                infos[i].update(masked(own, mask))
            self._new_rounds(g1, u1[g1])

        if gp is not None:               # next-step autoreset
            self._steps[gp] = 0
            self._new_rounds(gp, u0[gp])
            for info in infos:
                info["profile"][gp] = self._rec[gp]

        if any_pending:
            self._steps[live] += 1
            done = live & (self._steps >= self.max_cycles)
        else:
            self._steps += 1
            done = self._steps >= self.max_cycles
        self._autoreset = done
        terminations, truncations = self._done(done)
        return self._observe(), self._per_agent(list(rewards)), terminations, truncations, self._per_agent(infos)

    def state(self) -> np.ndarray:
        """Every copy's global state, ``(N, state_dim)`` int64: rows of ``HiringParallelEnv.state()``."""
        if not self._started:
            raise EpisodeOverError("state() called before reset(): call reset() first")
        shown = (self._phase == 1)[:, None]
        return np.concatenate([self._phase[:, None], self._rec, self._efforts * shown, self._signals * shown,
                               (self._theta * shown[:, 0])[:, None]], axis=1).astype(np.int64)
