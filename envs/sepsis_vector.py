r"""Native Gymnasium vector environment of justifiable sepsis treatment: ``N`` patients stepped as arrays.

:class:`JustifiableSepsisVectorEnv` runs ``N`` independent episodes of
:class:`~mechsim.envs.justifiable_sepsis.JustifiableSepsisEnv` (the ICU-Sepsis MDP with reward
``(1 - lam) r_env + lam r_debate``; its module docstring states the model).  The MDP is tabular, so a batched
step is array indexing: the next state of every sub-env is drawn by inverse-CDF sampling from
``P(. | s, a)``, ``r_env = r(s, a, s')``, and the debate reward is a lookup in the single env's debate table
(where the table applies: exact debaters with L <= 2 or the ideal judge, and a deterministic baseline;
otherwise each sub-env's debate goes through the single env's cached ``debate_values``, one at a time).
The observation is the centroid of the state plus truncated Gaussian noise, as in the single env.

**Sampling.**  ``P(. | s, a)`` is stored compressed (the states of positive probability and their cumulative
probabilities, in state order, per state-action pair, built once per process and MDP): the same partial sums
as the single env's ``cumsum`` over the whole row, so the same uniform selects the same next state.

**Seeding.**  The vector env draws every sub-env's randomness from one ``numpy.random.Generator`` (seeded by
``reset(seed=s)``, Gymnasium's ``seeding.np_random``), in batches: not the streams of ``N`` single envs with
seeds ``s + i``.  Same seed, same run; the sub-env episodes have the single env's distribution (tested
statistically against single envs, and the transition law against ``P`` by a chi-square test).

**Autoreset** (Gymnasium 1.x next-step mode, ``metadata["autoreset_mode"] = AutoresetMode.NEXT_STEP``): the
step after a sub-env's episode ended ignores its action and resets it (reward 0, ``terminated = truncated =
False``, the reset's info).  ``reset(options={"reset_mask": mask})`` resets only the masked sub-envs;
``options={"state": s}`` (an int or ``N`` ints) starts them in given patient states.

**Infos**: a dict of arrays with ``"_key"`` masks (all True), the single env's keys: ``state``, ``r_env``,
``r_debate``, ``baseline_action`` (-1 after a reset), ``debate_value`` and ``sofa``.

**Registration.**  ``gymnasium.make_vec("mechsim/JustifiableSepsis-v0", num_envs=N,
vectorization_mode="vector_entry_point", **kwargs)`` builds this class with the single env's keyword
arguments; ``make_vec`` passes the spec's ``max_episode_steps`` (500) unless ``kwargs`` gives one, so the
vector env cuts where ``gymnasium.make``'s ``TimeLimit`` cuts a single env.  (The id registers no additional
wrapper, which ``make_vec`` would refuse beside a vector entry point; see
:mod:`mechsim.envs.justifiable_sepsis`.)  ``JustifiableSepsisVectorEnv(num_envs, **kwargs)`` is the same.

Examples
--------
>>> import numpy as np
>>> from mechsim.envs.sepsis_vector import JustifiableSepsisVectorEnv
>>> envs = JustifiableSepsisVectorEnv(8)                      # doctest: +SKIP
>>> obs, info = envs.reset(seed=0)                            # doctest: +SKIP
>>> obs, reward, terminated, truncated, info = envs.step(np.zeros(8, dtype=int))  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import ClassVar

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from mechsim.debate.icu_sepsis import N_PATIENT_STATES
from mechsim.envs._batch import check_seed, reset_mask
from mechsim.envs._template import text_frame
from mechsim.envs.justifiable_sepsis import NOISE_BOUND, JustifiableSepsisEnv, _state_text
from mechsim.validation import _describe, _fail, check_allocation, check_integer

__all__ = ["JustifiableSepsisVectorEnv"]

_TABLES_LOCK = threading.Lock()
#: id(transition array) -> (the array, cumulative probabilities (S * A, W), next states (S * A, W), totals)
_TRANSITION_TABLES: dict[int, tuple] = {}


def _transition_tables(tx: np.ndarray):
    """Compressed inverse-CDF tables of ``tx`` (S, A, S), shared per process.

    Row ``s * A + a`` lists the next states of positive probability in state order (then ``S - 1``, which the
    single env also returns when the uniform falls at the very top) and their cumulative probabilities (padded
    with +inf, so that counting the entries ``<= x`` gives the index of the next state).
    """
    with _TABLES_LOCK:
        hit = _TRANSITION_TABLES.get(id(tx))
        if hit is not None and hit[0] is tx:
            return hit[1:]
        S, A, _ = tx.shape
        rows = tx.reshape(S * A, S)
        positive = rows > 0
        width = int(positive.sum(axis=1).max()) + 1
        cdf = np.full((S * A, width), np.inf)
        nxt = np.full((S * A, width), S - 1, dtype=np.intp)
        for r in range(S * A):
            idx = np.flatnonzero(positive[r])
            cdf[r, :len(idx)] = np.cumsum(rows[r, idx])
            nxt[r, :len(idx)] = idx
        # The single env scales its uniform by the last partial sum of the row: the same number here.
        counts = positive.sum(axis=1)
        totals = np.where(counts > 0, cdf[np.arange(S * A), np.maximum(counts - 1, 0)], 0.0)
        _TRANSITION_TABLES.clear()  # one MDP at a time is the normal case; do not keep old ones alive
        _TRANSITION_TABLES[id(tx)] = (tx, cdf, nxt, totals)
        return cdf, nxt, totals


def _inverse_cdf(cdf_rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, the number of entries ``<= x`` (``np.searchsorted(row, x, side="right")`` for sorted rows)."""
    return (cdf_rows <= x[:, None]).sum(axis=1)


def _inverse_cdf_of_rows(table: np.ndarray, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:func:`_inverse_cdf` of ``table[rows]`` by a bisection over each sorted row, without gathering the rows.

    ``table`` is ``(R, W)`` with rows sorted and padded with +inf (so its last column is +inf).
    """
    width = table.shape[1]
    flat = table.reshape(-1)
    base = rows * width
    lo = np.zeros(len(rows), dtype=np.intp)   # entries before lo are <= x
    hi = np.full(len(rows), width, dtype=np.intp)  # entries from hi on are > x
    for _ in range(int(width).bit_length()):
        mid = (lo + hi) >> 1
        below = flat[base + np.minimum(mid, width - 1)] <= x
        lo = np.where(below, mid + 1, lo)
        hi = np.where(below, hi, mid)
    return lo


class JustifiableSepsisVectorEnv(VectorEnv):
    """``num_envs`` episodes of :class:`~mechsim.envs.justifiable_sepsis.JustifiableSepsisEnv` as arrays.

    Parameters
    ----------
    num_envs : int
        ``N``, the number of sub-envs.
    lam, n_evidence, judge, debaters, baseline, sigma, debate_reward, debate_scale, max_episode_steps, \
judge_seed, precompute, render_mode, mdp
        As :class:`~mechsim.envs.justifiable_sepsis.JustifiableSepsisEnv` (validated by it);
        ``max_episode_steps`` defaults to 500.

    Actions are ``MultiDiscrete([25] * N)``.
    """

    metadata: ClassVar[dict] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4,
                                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, lam: float = 0.5, n_evidence: int = 2, judge="trained", debaters="auto",
                 baseline="expert", sigma: float = 0.3, debate_reward: str = "win", debate_scale: float = 1.0,
                 max_episode_steps: int | None = None, judge_seed: int = 0, precompute: bool = True,
                 render_mode: str | None = None, mdp=None):
        N = self.num_envs = check_integer("num_envs", num_envs, minimum=1)
        check_allocation("num_envs", 8.0 * N * (8 * 44 + 64), f"the state of num_envs={N} episodes")
        env = JustifiableSepsisEnv(lam, n_evidence, judge, debaters, baseline, sigma, debate_reward, debate_scale,
                                   max_episode_steps, judge_seed, precompute, render_mode, mdp)
        self._env = env
        self.mdp, self.lam, self.sigma, self.judge = env.mdp, env.lam, env.sigma, env.judge
        self.max_episode_steps = env.max_episode_steps
        self.render_mode = env.render_mode
        self.metadata = dict(self.metadata)
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self.observation_space = batch_space(env.observation_space, N)
        self.action_space = batch_space(env.action_space, N)
        mdp = env.mdp
        self._S, self._A = mdp.n_states, mdp.n_actions
        self._cdf, self._next, self._totals = _transition_tables(mdp.tx_mat)
        self._r = np.asarray(mdp.r_mat, dtype=float)
        self._sofa = np.asarray(mdp.sofa, dtype=float)
        self._features = env._features
        self._d0_cdf, self._d0_total = env._d0_cdf, float(mdp.d_0.sum())
        self._state = np.zeros(N, dtype=np.intp)
        self._t = np.zeros(N, dtype=np.int64)
        self._autoreset = np.zeros(N, dtype=bool)
        self._rng: np.random.Generator | None = None
        self._started = False

    # ------------------------------------------------------------------ pieces
    @property
    def np_random(self) -> np.random.Generator:
        """The generator of every sub-env's randomness (seeded by ``reset(seed=...)``)."""
        if self._rng is None:
            self._rng = seeding.np_random()[0]
        return self._rng

    def _noise(self, n: int) -> np.ndarray:
        rng = self.np_random
        noise = rng.standard_normal((n, len(self._features[0])))
        while np.any(far := np.abs(noise) > NOISE_BOUND):  # resample the (probability 2e-9) tails
            noise[far] = rng.standard_normal(int(far.sum()))
        return noise

    def _observe(self) -> np.ndarray:
        x = self._features[self._state]
        if self.sigma > 0:
            x = x + self.sigma * self._noise(self.num_envs)
        return x.astype(np.float32)

    def _start(self, idx: np.ndarray, start) -> None:
        if start is None:
            u = self.np_random.random(len(idx))
            s = np.searchsorted(self._d0_cdf, u * self._d0_total, side="right")
            self._state[idx] = np.minimum(s, N_PATIENT_STATES - 1)
        else:
            self._state[idx] = start[idx]
        self._t[idx] = 0
        self._autoreset[idx] = False

    def _info(self, r_env, r_debate, baseline, value, mask) -> dict:
        info = {"state": self._state.astype(np.int64), "r_env": r_env, "r_debate": r_debate,
                "baseline_action": baseline, "debate_value": value, "sofa": self._sofa[self._state]}
        out = {}
        for key, value in info.items():
            out[key] = value
            out["_" + key] = mask.copy()
        return out

    def _start_states(self, options) -> np.ndarray | None:
        start = options.get("state") if options else None
        if start is None:
            return None
        arr = np.asarray(start) if isinstance(start, (int, np.integer, np.ndarray, list, tuple)) \
            and not isinstance(start, bool) else None
        if arr is None or arr.dtype.kind not in "iu" or arr.shape not in ((), (self.num_envs,)) \
                or arr.min() < 0 or arr.max() >= N_PATIENT_STATES:
            raise _fail("options['state']", f"a patient state in [0, {N_PATIENT_STATES}) or {self.num_envs} of them",
                        _describe(start))
        return np.broadcast_to(arr, (self.num_envs,)).astype(np.intp)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset every sub-env (or those of ``options["reset_mask"]``); ``seed`` seeds the one generator."""
        N = self.num_envs
        if check_seed("seed", seed) is not None:
            self._rng = seeding.np_random(int(seed))[0]
        mask = reset_mask(options, N, self._started)
        self._start(np.flatnonzero(mask), self._start_states(options))
        self._started = True
        zeros = np.zeros(N)
        return self._observe(), self._info(zeros, zeros.copy(), np.full(N, -1, dtype=np.int64), zeros.copy(), mask)

    def step(self, actions):
        """Treat every patient; see the module docstring for autoreset and infos."""
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        N, A = self.num_envs, self._A
        arr = actions if isinstance(actions, np.ndarray) else \
            np.asarray(actions) if isinstance(actions, (list, tuple)) else None
        if arr is None or arr.dtype.kind not in "iu" or arr.shape != (N,) or arr.min() < 0 or arr.max() >= A:
            raise _fail("actions", f"an integer array of shape ({N},) of actions in [0, {A})", _describe(actions))
        env = self._env
        a = arr.astype(np.intp, copy=False)
        s = self._state
        rng = self.np_random
        if env._baseline_fixed is not None:
            b = env._baseline_fixed[s].astype(np.int64)
        else:  # a stochastic baseline: inverse CDF of its policy row, as the single env samples it
            rows = env._baseline_policy[s]
            b = np.minimum(_inverse_cdf(rows, rng.random(N) * rows[:, -1]), A - 1).astype(np.int64)
        row = s * A + a
        x = rng.random(N) * self._totals[row]
        nxt = self._next[row, _inverse_cdf_of_rows(self._cdf, row, x)]
        r_env = self._r[s, a, nxt]
        if env._table is not None:
            r_debate = env._r_debate_table[s, a]
            value = env._value_table[s, a]
        else:
            r_debate = np.array([env.debate_reward_of(int(si), int(ai), int(bi)) for si, ai, bi in zip(s, a, b)])
            value = np.array([0.5 * sum(env.debate_values(int(si), int(ai), int(bi))) for si, ai, bi in zip(s, a, b)])
        reward = (1.0 - self.lam) * r_env + self.lam * r_debate
        self._state = nxt
        self._t += 1
        terminated = nxt >= N_PATIENT_STATES
        truncated = ~terminated & (self._t >= self.max_episode_steps)
        pending = self._autoreset.copy()
        if pending.any():
            self._start(np.flatnonzero(pending), None)
            reward[pending] = 0.0
            terminated[pending] = False
            truncated[pending] = False
            r_env[pending] = 0.0
            r_debate = np.where(pending, 0.0, r_debate)
            value = np.where(pending, 0.0, value)
            b = np.where(pending, -1, b)
        self._autoreset = terminated | truncated
        info = self._info(r_env, np.asarray(r_debate, dtype=float), b, np.asarray(value, dtype=float),
                          np.ones(N, dtype=bool))
        return self._observe(), reward, terminated, truncated, info

    def render(self):
        """Per-sub-env frames: a line (time step, state, SOFA) as text (``"ansi"``) or an RGB array."""
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        texts = [_state_text(t, s, self._sofa) for t, s in zip(self._t.tolist(), self._state.tolist())]
        return tuple(text_frame(x) for x in texts) if self.render_mode == "rgb_array" else tuple(texts)
