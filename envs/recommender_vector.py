r"""Native Gymnasium vector environments of the short-video recommender: ``N`` sessions stepped as arrays.

:class:`RecommenderVectorEnv` (``gymnasium.make_vec("mechsim/Recommender-v0", num_envs=N)``) and
:class:`RecommenderContinuousVectorEnv` (``"mechsim/RecommenderContinuous-v0"``) are
``gymnasium.vector.VectorEnv`` subclasses that run ``N`` independent sessions of
:class:`~mechsim.envs.recommender.RecommenderEnv` / :class:`~mechsim.envs.recommender.RecommenderContinuousEnv`
with one numpy operation per quantity instead of ``N`` Python steps.  The model is the single env's, unchanged:

    maximise  E[sum_t watch_time_t]   subject to   E[sum_t cost_k,t] <= d_k   (limits live in the learner)

with the same observation, reward, costs (missed interactions ``1 - x_f`` for floors plus the leaving charge
``sum_{j=1}^{H - t} gamma_c^j`` when a user leaves early, ``x_hate`` for hate) and cost offsets
(:mod:`mechsim.envs.recommender` states the maths).  The candidate draw, the observation, the costs and the
leaving charge are the single env's own functions applied to arrays; the response model
(``sigmoid`` logits, Bernoulli interactions, Box-Muller watch noise) and the session dynamics (temper, interest
drift, history ring) are the scalar formulas of ``RecommenderEnv`` written for arrays in the same order of
operations.

**Seeding.**  Sub-env ``i`` owns a ``numpy.random.Generator`` and draws from it exactly what a
``RecommenderEnv`` draws from its ``np_random``, in the same order (a user at every reset, then blocks of the
uniforms of up to 64 requests: 8 for the response, ``K`` for the candidates).  ``reset(seed=s)`` seeds
sub-env ``i`` with ``s + i`` (``gymnasium.utils.seeding.np_random``), as ``SyncVectorEnv`` seeds its
sub-envs; a list of ``N`` seeds (ints or None) is accepted too.  So the vector env reproduces
``SyncVectorEnv`` over the single env seed by seed: the same candidates, items shown, interactions, episode
ends and autoresets, and the same continuous values up to the last-bit differences of numpy's vectorised
``exp``/``log1p`` against the C library's (a few 1e-16 relative; they move a 0/1 draw only when a uniform
falls within that distance of its probability).

**Autoreset** (Gymnasium 1.x next-step mode, ``metadata["autoreset_mode"] = AutoresetMode.NEXT_STEP``, the
default of ``SyncVectorEnv``): the step after a sub-env's episode ended ignores its action and resets it,
returning the reset observation, reward 0, ``terminated = truncated = False`` and the reset's info (every
signal and cost 0).  ``reset(options={"reset_mask": mask})`` resets only the masked sub-envs (as
``SyncVectorEnv`` does).

**Infos** are a dict of arrays over sub-envs, as Gymnasium's vector envs build them, each key with its
``"_key"`` boolean mask (all True: every step of every sub-env reports every key): ``signals`` ``(N, 7)``,
``cost_<name>`` ``(N,)``, ``costs`` and ``cost_offsets`` ``(N, m)``, ``cost`` ``(N,)``.

**Rendering**: ``render()`` returns a tuple of per-sub-env frames (text in ``"ansi"`` mode, RGB arrays in
``"rgb_array"`` mode), as ``SyncVectorEnv.render`` does.

Examples
--------
>>> import gymnasium, numpy as np, mechsim
>>> envs = gymnasium.make_vec("mechsim/Recommender-v0", num_envs=4, vectorization_mode="vector_entry_point")
>>> obs, info = envs.reset(seed=0)
>>> obs.shape
(4, 126)
>>> obs, reward, terminated, truncated, info = envs.step(np.zeros(4, dtype=np.int64))
>>> info["costs"].shape, bool(info["_costs"].all())
((4, 3), True)
"""

from __future__ import annotations

import math
from typing import ClassVar

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from mechsim.cmdp.simulator import SIGNAL_NAMES, SimulatorConfig, expected_responses
from mechsim.envs._batch import copy_seeds, reset_mask
from mechsim.envs._template import text_frame
from mechsim.envs.recommender import (
    _EWMA_DECAY,
    _FRAME_WIDTH,
    _RESPONSE_UNIFORMS,
    RecommenderContinuousEnv,
    RecommenderEnv,
    _block_rows,
    _candidate_indices,
    _draw_block,
    _leaving_charge,
    _observation,
    _request_text,
    _step_costs,
)
from mechsim.validation import _describe, _fail, check_allocation, check_integer

__all__ = ["RecommenderContinuousVectorEnv", "RecommenderVectorEnv"]

_N_SIGNALS = len(SIGNAL_NAMES)


class _RecommenderVectorBase(VectorEnv):
    metadata: ClassVar[dict] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4,
                                "autoreset_mode": AutoresetMode.NEXT_STEP}
    _single_class: ClassVar[type]

    def __init__(self, num_envs: int, n_candidates: int = 10, max_steps: int = 100,
                 constraints=("like", "follow", "share"), config: SimulatorConfig | None = None,
                 render_mode: str | None = None, cost_mode: str = "sampled", cost_discount: float = 1.0):
        N = self.num_envs = check_integer("num_envs", num_envs, minimum=1)
        # The single env validates the arguments and holds the model, the catalogue tables and the spaces:
        # one copy of all of it, whatever num_envs.
        env = self._single_class(n_candidates, max_steps, constraints, config, render_mode, cost_mode,
                                 cost_discount)
        self._env = env
        K, d, H = env.n_candidates, env._dim, env._H
        R = _block_rows(env.max_steps)
        per_env = 8.0 * (R * (_RESPONSE_UNIFORMS + K) + K * (3 * d + H + 12) + (H + 4) * d + 4 * _N_SIGNALS + 32)
        check_allocation("num_envs", N * per_env, f"the state of num_envs={N} sessions with n_candidates={K}")
        self.n_candidates, self.max_steps = K, env.max_steps
        self.constraint_names, self.cost_mode, self.cost_discount = env.constraint_names, env.cost_mode, \
            env.cost_discount
        self.simulator, self.config, self.signal_names = env.simulator, env.config, env.signal_names
        self.render_mode = env.render_mode
        self.metadata = dict(self.metadata)
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self.observation_space = batch_space(self.single_observation_space, N)
        self.action_space = batch_space(self.single_action_space, N)

        self._K, self._d, self._H, self._R = K, d, H, R
        self._arange = np.arange(N)
        self._rngs: list[np.random.Generator | None] = [None] * N
        self._blocks = np.zeros((N, R, _RESPONSE_UNIFORMS + K))
        self._flat_blocks = self._blocks.reshape(N * R, -1)
        self._row_offset = np.arange(N) * R
        self._cursor = np.zeros(N, dtype=np.intp)          # row of the current request in each block
        self._rows = np.zeros((N, 1 + H, d))                # interest, then the ring buffer of shown items
        self._history_sum = np.zeros((N, d))
        self._n_seen = np.zeros(N, dtype=np.int64)
        self._activity = np.zeros(N)
        self._temper = np.zeros(N)
        self._ewma = np.zeros((N, _N_SIGNALS))
        self._t = np.zeros(N, dtype=np.int64)
        self._head = np.zeros((N, env._user_dim))
        self._autoreset = np.zeros(N, dtype=bool)
        self._has_last = np.zeros(N, dtype=bool)
        self._last_item = np.zeros(N, dtype=np.intp)
        self._last_signals = np.zeros((N, _N_SIGNALS))
        self._started = False
        cfg = self.config
        a, _, rho, _, _ = cfg.coefficient_matrix()
        self._a0, self._rho0 = float(a[0]), float(rho[0])
        self._a_aux, self._rho_aux = a[1:].copy(), rho[1:].copy()
        self._temper_w0 = float(cfg.temper_weights[0])
        self._temper_w_aux = np.asarray(cfg.temper_weights[1:], dtype=float)
        self._cost_columns = len(env.constraint_names)

    # ------------------------------------------------------------------ sessions and requests
    def _start_sessions(self, idx: np.ndarray) -> None:
        """New users for the sub-envs ``idx`` (what ``RecommenderEnv.reset`` draws, in its order)."""
        d = self._d
        cfg = self.config
        z = np.empty((len(idx), d + 1))
        r = np.empty(len(idx))
        for j, i in enumerate(idx.tolist()):
            rng = self._rngs[i]
            if rng is None:
                rng = self._rngs[i] = seeding.np_random()[0]
            # ShortVideoSimulator.sample_users(1, rng): d + 1 normals (interest, activity), one uniform (temper).
            z[j] = rng.standard_normal(d + 1)
            r[j] = rng.random()
            _draw_block(rng, self._R, self._K, out=self._blocks[i])
        x = z[:, :d]
        self._rows[idx] = 0.0
        self._rows[idx, 0] = x / np.linalg.norm(x, axis=-1, keepdims=True)
        self._activity[idx] = cfg.activity_sd * z[:, d]
        self._temper[idx] = cfg.temper_init + cfg.temper_spread * (2.0 * r - 1.0)
        self._history_sum[idx] = 0.0
        self._n_seen[idx] = 0
        self._ewma[idx] = 0.0
        self._t[idx] = 0
        self._cursor[idx] = 0
        self._has_last[idx] = False
        self._autoreset[idx] = False

    def _advance(self, live) -> None:
        """Move the ``live`` sub-envs (a boolean mask, or True for all) to their next request, drawing a new
        block where one is used up."""
        self._cursor += live
        used_up = np.flatnonzero(self._cursor == self._R)
        for i in used_up.tolist():
            _draw_block(self._rngs[i], self._R, self._K, out=self._blocks[i])
        self._cursor[used_up] = 0

    def _present(self) -> None:
        """The current request of every sub-env: candidates, their features, affinity and repetition."""
        env = self._env
        row = np.take(self._flat_blocks, self._row_offset + self._cursor, axis=0)
        self._uniforms = row[:, :_RESPONSE_UNIFORMS]
        cands = self._cands = _candidate_indices(row[:, _RESPONSE_UNIFORMS:], env._n_items)
        emb = self._cand_emb = np.take(env._emb, cands, axis=0)
        feat = self._feat = np.take(env._item_feat, cands, axis=0)
        # (N, 1 + H, K): affinity, then the inner product with each history slot.  Slots not yet filled hold a
        # copy of the first item shown (see step), so the max over all slots is the max over the items shown;
        # before any, every slot is zero and so is sim, as in RecommenderEnv.
        dots = np.matmul(self._rows, emb.transpose(0, 2, 1))
        self._aff = dots[:, 0]
        sim = self._sim = np.maximum(dots[:, 1], dots[:, min(2, self._H)])
        for j in range(3, self._H + 1):  # a loop over H slots: faster than numpy's reduce over a middle axis
            np.maximum(sim, dots[:, j], out=sim)
        feat[:, :, -1] = sim

    def _observe(self) -> np.ndarray:
        n_recent = np.minimum(np.maximum(self._n_seen, 1), self._H)[:, None]
        return _observation(self._head, self._history_sum, n_recent, self._ewma, self._t / self.max_steps,
                            self._feat)

    def _zero_info(self, mask: np.ndarray) -> dict:
        N, m = self.num_envs, self._cost_columns
        info = {"signals": np.zeros((N, _N_SIGNALS)), "_signals": mask.copy()}
        for key in self._env._cost_keys:
            info[key] = np.zeros(N)
            info["_" + key] = mask.copy()
        for key, shape in (("costs", (N, m)), ("cost_offsets", (N, m)), ("cost", (N,))):
            info[key] = np.zeros(shape)
            info["_" + key] = mask.copy()
        return info

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed=None, options: dict | None = None):
        """Reset every sub-env (or those of ``options["reset_mask"]``); ``seed``: None, an int ``s`` (sub-env
        ``i`` gets ``s + i``) or a sequence of ``num_envs`` ints or Nones."""
        N = self.num_envs
        seeds = copy_seeds(seed, N)
        mask = reset_mask(options, N, self._started)
        idx = np.flatnonzero(mask)
        for i in idx.tolist():
            if seeds[i] is not None:
                self._rngs[i] = seeding.np_random(seeds[i])[0]
        self._start_sessions(idx)
        self._present()
        self._started = True
        return self._observe(), self._zero_info(mask)

    def _choose(self, actions) -> np.ndarray:
        """Candidate index ``(N,)`` each action shows (validates the actions)."""
        raise NotImplementedError

    def step(self, actions):
        """Show each sub-env's chosen candidate; see the module docstring for autoreset and infos."""
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        k = self._choose(actions)
        env = self._env
        N, ar = self.num_envs, self._arange
        # The response model of RecommenderEnv._show, for arrays, in the same order of operations.
        item = self._cands[ar, k]
        u = self._uniforms
        aff = self._aff[ar, k]
        sim = self._sim[ar, k]
        act = self._activity
        row = np.take(env._static_logits, item, axis=0)
        xi = np.sqrt(-2.0 * np.log1p(-u[:, 6])) * np.cos(2.0 * math.pi * u[:, 7])
        z0 = row[:, 0] + self._a0 * aff - self._rho0 * sim + act + env._watch_noise * xi
        # exp arguments are capped at 700 (probability ~1e-304, zero in double precision) to avoid overflow.
        frac = 1.0 / (1.0 + np.exp(np.minimum(-z0, 700.0)))
        z = self._rho_aux * sim[:, None] - row[:, 1:] - self._a_aux * aff[:, None] - act[:, None]
        probs = 1.0 / (1.0 + np.exp(np.minimum(z, 700.0)))
        hits = (u[:, :6] < probs).astype(float)
        watch = np.take(env._durations, item) * frac
        signals = np.empty((N, _N_SIGNALS))
        signals[:, 0] = watch
        signals[:, 1:] = hits
        # Session dynamics: the rules of ShortVideoSimulator._update, per sub-env.
        score = frac * self._temper_w0 + hits @ self._temper_w_aux
        self._temper += np.minimum(np.maximum(score - 2.0, -2.0), 0.0)
        e = np.take(env._emb, item, axis=0)
        v = self._rows[:, 0]
        v += (env._drift * frac)[:, None] * e
        v *= (1.0 / np.sqrt(np.einsum("nd,nd->n", v, v)))[:, None]
        n_seen = self._n_seen
        slot = 1 + n_seen % self._H
        # A slot not yet filled holds a copy of the first item shown, which leaves the history's sum of
        # embeddings alone (factor 0) and its max inner product too (the first item is in slot 0).
        self._history_sum += e - self._rows[ar, slot] * (n_seen >= self._H)[:, None]
        self._rows[ar, slot] = e
        first = np.flatnonzero(n_seen == 0)
        if len(first):
            self._rows[first, 1:] = e[first, None, :]
        n_seen += 1
        self._t += 1
        ewma = self._ewma
        ewma *= _EWMA_DECAY
        ewma[:, 0] += (1.0 - _EWMA_DECAY) * frac
        ewma[:, 1:] += (1.0 - _EWMA_DECAY) * hits
        t = self._t
        terminated = self._temper < env._leave_threshold
        truncated = ~terminated & (t >= self.max_steps)
        # Costs: RecommenderEnv's function, on columns.
        if env._sampled_costs:
            source = signals.T
        else:
            source = np.concatenate((watch[None], probs.T))
        charge = np.zeros(N)
        pending = self._autoreset.copy()
        left = np.flatnonzero(terminated & (t < self.max_steps) & ~pending)
        for i in left.tolist():
            charge[i] = _leaving_charge(self.max_steps - int(t[i]), self.cost_discount)
        cost_list, offset_list = _step_costs(env._cost_spec, env._floor_constraints, source, charge)
        costs = np.empty((N, self._cost_columns))
        offsets = np.empty((N, self._cost_columns))
        for j, (c, o) in enumerate(zip(cost_list, offset_list)):
            costs[:, j] = c
            offsets[:, j] = o
        total = costs[:, 0].copy() if env._single_cost else sum(cost_list)
        reward = watch
        self._has_last[:] = True
        self._last_item[:] = item
        self._last_signals[:] = signals

        # Next-step autoreset: sub-envs whose episode ended at the previous step restart now.
        if pending.any():
            reward[pending] = 0.0
            terminated[pending] = False
            truncated[pending] = False
            signals[pending] = 0.0
            costs[pending] = 0.0
            offsets[pending] = 0.0
            total[pending] = 0.0
            self._advance(~pending)
            self._start_sessions(np.flatnonzero(pending))
        else:
            self._advance(True)
        self._present()
        self._autoreset = terminated | truncated
        everyone = np.ones(N, dtype=bool)
        info = {"signals": signals, "_signals": everyone}
        for j, key in enumerate(env._cost_keys):
            info[key] = costs[:, j].copy()
            info["_" + key] = everyone.copy()
        info["costs"], info["_costs"] = costs, everyone.copy()
        info["cost_offsets"], info["_cost_offsets"] = offsets, everyone.copy()
        info["cost"], info["_cost"] = total, everyone.copy()
        return self._observe(), reward, terminated, truncated, info

    def candidate_expectations(self) -> np.ndarray:
        """Oracle view: expected signals ``(N, K, 7)`` of showing each current candidate of each sub-env.

        Uses the hidden user states, as :meth:`RecommenderEnv.candidate_expectations` does (for baselines and
        diagnostics).  Rows of sub-envs awaiting their autoreset describe the finished session's last state.
        """
        if not self._started:
            raise RuntimeError("candidate_expectations() needs an ongoing episode; call reset() first")
        cat = self.simulator.catalogue
        return expected_responses(self.config, self._aff, cat.quality[self._cands], self._sim,
                                  cat.durations[self._cands], self._activity[:, None])

    def render(self):
        """Per-sub-env frames: the last request as text (``"ansi"``) or as RGB arrays (``"rgb_array"``)."""
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        topics = self.simulator.catalogue.topics
        texts = [_request_text(int(self._t[i]), (int(self._last_item[i]), self._last_signals[i])
                               if self._has_last[i] else None, topics, self.n_candidates)
                 for i in range(self.num_envs)]
        if self.render_mode == "rgb_array":
            return tuple(text_frame(text, width=_FRAME_WIDTH) for text in texts)
        return tuple(texts)


class RecommenderVectorEnv(_RecommenderVectorBase):
    """``num_envs`` sessions of :class:`~mechsim.envs.recommender.RecommenderEnv` stepped as arrays.

    Parameters
    ----------
    num_envs : int
        ``N``, the number of sub-envs.
    n_candidates, max_steps, constraints, config, render_mode, cost_mode, cost_discount
        As :class:`~mechsim.envs.recommender.RecommenderEnv` (validated by it).

    Actions are ``MultiDiscrete([K] * N)``: an integer array ``(N,)``, the candidate each sub-env shows.
    """

    _single_class = RecommenderEnv

    def _choose(self, actions) -> np.ndarray:
        arr = actions if isinstance(actions, np.ndarray) else \
            np.asarray(actions) if isinstance(actions, (list, tuple)) else None
        K, N = self.n_candidates, self.num_envs
        if arr is None or arr.dtype.kind not in "iu" or arr.shape != (N,):
            raise _fail("actions", f"an integer array of shape ({N},), candidate indices in [0, {K})",
                        _describe(actions))
        if arr.min() < 0 or arr.max() >= K:
            raise _fail("actions", f"candidate indices in [0, {K})", f"values {arr.min()}..{arr.max()}")
        return arr.astype(np.intp, copy=False)


class RecommenderContinuousVectorEnv(_RecommenderVectorBase):
    """``num_envs`` sessions of :class:`~mechsim.envs.recommender.RecommenderContinuousEnv` stepped as arrays.

    Actions are ``(N, d + 1)`` ranking weights ``w``; sub-env ``i`` shows the candidate maximising
    ``w[i, :d] . e_j + w[i, d] * (q_j - 1/2)`` (first index on ties).  Parameters as
    :class:`RecommenderVectorEnv`.
    """

    _single_class = RecommenderContinuousEnv

    def _choose(self, actions) -> np.ndarray:
        arr = actions if isinstance(actions, np.ndarray) else \
            np.asarray(actions) if isinstance(actions, (list, tuple)) else None
        shape = (self.num_envs, self._d + 1)
        if arr is None or arr.dtype.kind not in "fiu" or arr.shape != shape:
            raise _fail("actions", f"a real array of shape {shape}, ranking weights per sub-env",
                        _describe(actions))
        w = arr.astype(float, copy=False)
        # A finite sum means finite entries (NaN and inf propagate); only then is the entrywise check needed.
        if not math.isfinite(w.sum()) and not np.isfinite(w).all():
            raise _fail("actions", "finite ranking weights", "NaN or infinite entries")
        quality = np.take(self._env._quality, self._cands) - 0.5
        scores = np.matmul(self._cand_emb, w[:, :-1, None])[:, :, 0]
        scores += w[:, -1:] * quality
        return np.argmax(scores, axis=1)
