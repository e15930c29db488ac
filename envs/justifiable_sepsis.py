r"""Justifiable sepsis treatment: ICU-Sepsis dynamics with a reward that mixes survival and debate outcome.

The environment ``mechsim/JustifiableSepsis-v0`` (:class:`JustifiableSepsisEnv`) runs the ICU-Sepsis MDP
(:mod:`mechsim.debate.icu_sepsis`: 716 states, 25 actions ``a = 5 * iv + vaso``) and pays

.. math::  r_t = (1 - \lambda)\, r^{\mathrm{env}}_t + \lambda\, r^{\mathrm{debate}}_t ,

where :math:`r^{\mathrm{env}}_t = 1` on entering survival and :math:`r^{\mathrm{debate}}_t` is the outcome
of a debate (Sukovic & Radanovic, ICLR 2024) between the agent's action :math:`a_t` and the action
:math:`b_t` of a baseline policy (default: the clinician's most probable action) in the current state:
two debaters reveal ``n_evidence`` = L of the state's 44 centroid features in turn (first mover uniformly
random) and a judge that sees only the revealed features decides
:math:`\operatorname{sign}(J(a_t|x_S) - J(b_t|x_S))`.

**Debate reward scaling.**  The paper pays :math:`5 \cdot \mathbb 1[a_t \text{ wins}]` (loss or tie: 0)
against a terminal task reward of a different scale.  Here ``debate_reward="win"`` (default) pays
``debate_scale`` times the *probability* that :math:`a_t` wins over the uniformly random first mover
(the mean over both first movers of :math:`\mathbb 1[\text{outcome} = +1]`, so 0, 1/2 or 1), with
``debate_scale = 1`` by default so that one won debate is worth one survival; ``debate_scale=5`` gives the
paper's scale (the ``justifiable-sepsis`` scenario uses ``1 / E[clinician episode length]``).
``debate_reward="value"`` pays ``debate_scale`` times the game value in [-1, 1] (mean of the outcomes over
first movers).  Agreeing with the baseline is a tie: 0 under both.

**Debaters.**  ``debaters="auto"`` (default) is ``"exact"`` for L <= 4 and ``"greedy"`` above.
``"exact"`` plays the exact minimax debate (:func:`mechsim.solvers.debate.solve_debate`; about 10 ms per
new (state, action, baseline) triple at L = 2, ~1 s at L = 4); ``"greedy"`` lets two greedy debaters
(:func:`mechsim.learners.debaters.greedy_debate_values`) play, for larger L.  The debate is over the
*centroid* features (noise-free), so its outcome depends on (state, action, baseline action) only and is
cached.  :meth:`JustifiableSepsisEnv.precompute_debates` fills the whole cache at once with the batched
exact solver :func:`mechsim.solvers.debate.debate_win_table` (L <= 2; re-exported here with its result
type ``DebateTable``).

**Observation**: the 44 named features (:data:`~mechsim.debate.icu_sepsis.SEPSIS_FEATURES`) of the current
state's centroid plus independent :math:`\mathcal N(0, \sigma^2)` noise (``sigma = 0.3``; without noise the
713 centroids would be trivially memorisable), ``Box(low, high, (44,), float32)``.  The noise is truncated
at ``NOISE_BOUND`` = 6 standard deviations (tails, of probability 2e-9 per feature, are resampled) so that
the observation box is finite: ``[floor(min centroid - 6 sigma - 1), ceil(max centroid + 6 sigma + 1)]``.

**Termination** on entering death or survival; **truncation** after ``max_episode_steps`` (500, as in the
``icu-sepsis`` package).  ``info`` holds ``state`` (current state index), ``r_env``, ``r_debate``,
``baseline_action`` (-1 after reset), ``debate_value`` and ``sofa``.  ``reset(options={"state": s})``
starts in patient state ``s`` instead of sampling from ``d_0``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.debate.icu_sepsis import (
    N_PATIENT_STATES,
    SEPSIS_FEATURES,
    STATE_DEATH,
    STATE_SURVIVAL,
    SepsisMDP,
    as_policy_matrix,
    baseline_actions,
    load_icu_sepsis,
    train_sepsis_judge,
)
from mechsim.debate.judges import debate_outcome
from mechsim.envs._template import check_render_mode
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import greedy_debate_values
from mechsim.solvers.debate import MAX_TABLE_EVIDENCE, DebateTable, debate_win_table, solve_debate
from mechsim.validation import (
    check_choice,
    check_in_range,
    check_integer,
    check_nonnegative,
)

__all__ = ["JustifiableSepsisEnv", "DebateTable", "debate_win_table", "default_sepsis_judge", "NOISE_BOUND"]

_N_FEATURES = len(SEPSIS_FEATURES)

#: Observation noise is a Gaussian truncated at this many standard deviations (tails resampled).
NOISE_BOUND = 6.0


# ------------------------------------------------------------------------------------------ judges


def default_sepsis_judge(n_evidence: int = 2, ideal: bool = False, seed: int = 0):
    """The environment's default judge (cached per arguments): a Bradley–Terry judge trained on the paper's
    "clinician beats random" preferences over noisy centroid features with random masks of ``n_evidence``
    (see :func:`mechsim.debate.icu_sepsis.train_sepsis_judge`); ``ideal=True`` gives the full-state judge."""
    n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=_N_FEATURES)
    seed = check_integer("seed", seed, minimum=0)
    return _trained_judge(_N_FEATURES if ideal else n_evidence, bool(ideal), seed)


@functools.lru_cache(maxsize=8)
def _trained_judge(n_evidence: int, ideal: bool, seed: int):
    return train_sepsis_judge(load_icu_sepsis(), n_evidence, ideal=ideal, seed=seed)


# ------------------------------------------------------------------------------------ debaters

DebaterFn = Callable[[object, np.ndarray, tuple[int, int], int], tuple[float, float]]


def _exact_debate(judge, x, decisions, n_evidence):
    return solve_debate(judge, x, decisions, n_evidence).values_by_first_mover


class JustifiableSepsisEnv(gymnasium.Env):
    """ICU-Sepsis treatment with reward ``(1 - lam) r_env + lam r_debate`` (see the module docstring).

    Parameters
    ----------
    lam : float in [0, 1]
        Weight of the debate reward.
    n_evidence : int
        L, features revealed per debate (default 2: exact debates cost ~10 ms each).
    judge : Judge, "trained" or "ideal"
        Any judge (``score(features, mask, decisions)``); ``"trained"`` (default) is
        :func:`default_sepsis_judge` trained with masks of size ``n_evidence``; ``"ideal"`` the full-state
        judge (the debate then reduces to the judge's verdict on the whole state).
    debaters : "auto", "exact", "greedy" or callable
        How debates are played: ``"auto"`` (default) is exact minimax for L <= 4 and greedy debaters above;
        a callable ``(judge, features (44,), (a, b), L) -> (value if a moves first, value if b moves first)``
        plugs in any other debaters.
    baseline : "expert" or array_like
        ``"expert"``: the clinician's most probable action; an integer array (716,) of actions, or a
        (716, 25) stochastic policy whose action is sampled at every step.
    sigma : float
        Observation noise (standard deviation, on z-scored features).
    debate_reward : "win" or "value"
    debate_scale : float
        Multiplies the debate reward (the paper used 5 with ``"win"``).
    max_episode_steps : int
    judge_seed : int
        Seed of the default judge's training.
    render_mode : None or "ansi"
    mdp : SepsisMDP, optional
        The model (default: :func:`~mechsim.debate.icu_sepsis.load_icu_sepsis`).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, lam: float = 0.5, n_evidence: int = 2, judge="trained", debaters="auto",
                 baseline="expert", sigma: float = 0.3, debate_reward: str = "win", debate_scale: float = 1.0,
                 max_episode_steps: int = 500, judge_seed: int = 0, render_mode: str | None = None,
                 mdp: SepsisMDP | None = None):
        self.mdp = load_icu_sepsis() if mdp is None else mdp
        self.lam = float(check_in_range("lam", lam, 0.0, 1.0))
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=_N_FEATURES)
        self.sigma = check_nonnegative("sigma", sigma)
        self.debate_reward = check_choice("debate_reward", debate_reward, ("win", "value"))
        self.debate_scale = check_nonnegative("debate_scale", debate_scale)
        self.max_episode_steps = check_integer("max_episode_steps", max_episode_steps, minimum=1)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        if isinstance(judge, str):
            check_choice("judge", judge, ("trained", "ideal"))
            judge = default_sepsis_judge(self.n_evidence, judge == "ideal", check_integer("judge_seed", judge_seed,
                                                                                           minimum=0))
        if not callable(getattr(judge, "score", None)):
            raise InvalidInstanceError(f"judge: expected an object with a score(features, mask, decisions) "
                                       f"method, 'trained' or 'ideal', found {type(judge).__name__}",
                                       argument="judge")
        self.judge = judge
        if isinstance(debaters, str):
            check_choice("debaters", debaters, ("auto", "exact", "greedy"))
            if debaters == "auto":
                debaters = "exact" if self.n_evidence <= 4 else "greedy"
            self._debate_fn: DebaterFn = _exact_debate if debaters == "exact" else greedy_debate_values
        elif callable(debaters):
            self._debate_fn = debaters
        else:
            raise InvalidInstanceError(f"debaters: expected 'exact', 'greedy' or a callable, found "
                                       f"{type(debaters).__name__}", argument="debaters")
        self.debaters = debaters
        self._baseline_policy, self._baseline_fixed = self._parse_baseline(baseline)
        self._features = np.asarray(self.mdp.features, dtype=float)
        self._d0_cdf = np.cumsum(self.mdp.d_0)
        self._cache: dict[tuple[int, int, int], tuple[float, float]] = {}
        # Noise is truncated at NOISE_BOUND standard deviations, so every observation lies in a finite box.
        margin = NOISE_BOUND * self.sigma + 1.0
        self.observation_space = spaces.Box(np.float32(np.floor(self._features.min() - margin)),
                                            np.float32(np.ceil(self._features.max() + margin)),
                                            shape=(_N_FEATURES,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.mdp.n_actions)
        self._state = None
        self._t = 0
        self._last = None

    def _parse_baseline(self, baseline):
        n, a = self.mdp.n_states, self.mdp.n_actions
        if isinstance(baseline, str):
            check_choice("baseline", baseline, ("expert",))
            return None, baseline_actions(self.mdp)
        arr = np.asarray(baseline)
        if arr.shape == (n,) and arr.dtype.kind in "iu":
            if arr.min() < 0 or arr.max() >= a:
                raise InvalidInstanceError(f"baseline: expected actions in [0, {a}), found range "
                                           f"{arr.min()}..{arr.max()}", argument="baseline")
            return None, arr.astype(np.int64)
        if arr.shape == (n, a):
            pi = as_policy_matrix(arr, n, a, self.mdp.terminal)
            return np.cumsum(pi, axis=1), None
        raise InvalidInstanceError(f"baseline: expected 'expert', integer actions of shape ({n},) or a policy of "
                                   f"shape ({n}, {a}), found shape {arr.shape} and dtype {arr.dtype}",
                                   argument="baseline")

    # ------------------------------------------------------------------ debates
    def debate_values(self, state: int, action: int, baseline_action: int) -> tuple[float, float]:
        """Exact (or greedy) debate values ``(a first, baseline first)`` for ``action`` vs ``baseline_action``
        on the centroid of ``state``, cached."""
        key = (int(state), int(action), int(baseline_action))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if key[1] == key[2] or key[0] >= N_PATIENT_STATES:
            vals = (0.0, 0.0)
        elif getattr(self.judge, "ideal", False):
            # An ideal judge ignores the evidence: every reveal order ends in its verdict on the full state.
            v = float(debate_outcome(self.judge, self._features[key[0]], np.ones(_N_FEATURES, dtype=bool),
                                     key[1], key[2])[0])
            vals = (v, v)
        else:
            raw = self._debate_fn(self.judge, self._features[key[0]], key[1:], self.n_evidence)
            vals = (float(raw[0]), float(raw[1]))
        self._cache[key] = vals
        return vals

    def debate_reward_of(self, state: int, action: int, baseline_action: int) -> float:
        """``r_debate`` for one (state, action, baseline action) triple (before the ``lam`` mixing)."""
        v = self.debate_values(state, action, baseline_action)
        r = 0.5 * ((v[0] > 0) + (v[1] > 0)) if self.debate_reward == "win" else 0.5 * (v[0] + v[1])
        return self.debate_scale * float(r)

    def precompute_debates(self, states=None) -> int:
        """Fill the debate cache for every action against the baseline action(s) in ``states`` (default: all
        patient states) with the batched exact solver (needs ``debaters="exact"`` and L <= 2, a deterministic
        baseline).  Returns the number of cached triples."""
        if self._debate_fn is not _exact_debate or self.n_evidence > MAX_TABLE_EVIDENCE or self._baseline_fixed is None:
            raise InvalidInstanceError("precompute_debates: expected debaters='exact', n_evidence <= 2 and a "
                                       "deterministic baseline", argument="self")
        states = np.arange(N_PATIENT_STATES) if states is None else np.asarray(states, dtype=np.int64)
        if getattr(self.judge, "ideal", False):
            for s in states:
                for a in range(self.mdp.n_actions):
                    self.debate_values(int(s), a, int(self._baseline_fixed[s]))
            return len(self._cache)
        table = debate_win_table(self.judge, self._features[states], self._baseline_fixed[states], self.n_evidence,
                                 n_decisions=self.mdp.n_actions)
        for i, s in enumerate(states):
            b = int(self._baseline_fixed[s])
            for a in range(self.mdp.n_actions):
                self._cache[(int(s), a, b)] = (float(table.values_by_first_mover[i, a, 0]),
                                               float(table.values_by_first_mover[i, a, 1]))
        return len(self._cache)

    # ------------------------------------------------------------------ gymnasium API
    def _observe(self) -> np.ndarray:
        noise = 0.0
        if self.sigma > 0:
            noise = self.np_random.standard_normal(_N_FEATURES)
            while np.any(far := np.abs(noise) > NOISE_BOUND):  # resample the (probability 2e-9) tails
                noise[far] = self.np_random.standard_normal(int(far.sum()))
        return (self._features[self._state] + self.sigma * noise).astype(np.float32)

    def _info(self, r_env: float, r_debate: float, baseline: int, value: float) -> dict:
        return {"state": int(self._state), "r_env": float(r_env), "r_debate": float(r_debate),
                "baseline_action": int(baseline), "debate_value": float(value),
                "sofa": float(self.mdp.sofa[self._state])}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        start = None if options is None else options.get("state")
        if start is None:
            self._state = int(np.searchsorted(self._d0_cdf, self.np_random.random() * self.mdp.d_0.sum(),
                                              side="right"))
            self._state = min(self._state, N_PATIENT_STATES - 1)
        else:
            self._state = check_integer("options['state']", start, minimum=0, maximum=N_PATIENT_STATES - 1)
        self._t = 0
        return self._observe(), self._info(0.0, 0.0, -1, 0.0)

    def _baseline_action(self, s: int) -> int:
        if self._baseline_fixed is not None:
            return int(self._baseline_fixed[s])
        row = self._baseline_policy[s]
        return int(min(np.searchsorted(row, self.np_random.random() * row[-1], side="right"), len(row) - 1))

    def step(self, action):
        if self._state is None:
            raise gymnasium.error.ResetNeeded("step: call reset() before step()")
        if not self.action_space.contains(action):
            raise InvalidInstanceError(f"action: expected an integer in [0, {self.mdp.n_actions}), found {action!r}",
                                       argument="action")
        a = int(action)
        s = self._state
        if s >= N_PATIENT_STATES:
            raise gymnasium.error.ResetNeeded("step: the episode has ended; call reset()")
        b = self._baseline_action(s)
        cdf = np.cumsum(self.mdp.tx_mat[s, a])
        nxt = int(min(np.searchsorted(cdf, self.np_random.random() * cdf[-1], side="right"), self.mdp.n_states - 1))
        r_env = float(self.mdp.r_mat[s, a, nxt])
        r_debate = self.debate_reward_of(s, a, b)
        value = 0.5 * sum(self.debate_values(s, a, b))
        reward = (1.0 - self.lam) * r_env + self.lam * r_debate
        self._state = nxt
        self._t += 1
        terminated = nxt >= N_PATIENT_STATES  # death, survival (or the absorbing sink)
        truncated = (not terminated) and self._t >= self.max_episode_steps
        return self._observe(), float(reward), bool(terminated), bool(truncated), self._info(r_env, r_debate, b, value)

    def render(self):
        if self.render_mode != "ansi":
            return None
        s = self._state
        label = {STATE_DEATH: "death", STATE_SURVIVAL: "survival"}.get(s, f"patient state {s}")
        return f"t={self._t} {label} SOFA={self.mdp.sofa[s]:.1f}" if s is not None else "not started"
