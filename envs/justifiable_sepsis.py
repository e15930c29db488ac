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
``"exact"`` plays the exact minimax debate (:func:`mechsim.solvers.debate.solve_debate`); ``"greedy"`` lets
two greedy debaters (:func:`mechsim.learners.debaters.greedy_debate_values`) play, for larger L.  The debate
is over the *centroid* features (noise-free), so its outcome depends on (state, action, baseline action)
only.

**The debate table (the default fast path).**  With exact debaters, L <= 2 (or the ideal judge) and a
deterministic baseline, the outcome of every action against the baseline in every patient state is computed
once, at construction, by the batched exact solver :func:`mechsim.solvers.debate.debate_win_table` (a second
or two; re-exported here with its result type ``DebateTable``), and every step is a table lookup.  Tables are
*cached per process* under a fingerprint of the judge, L, the centroids and the baseline, so the copies of a
vector environment (and every later environment with the same judge) share one table; ``precompute=False``
gives the lazy path instead (each (state, action, baseline) debate solved on first use and cached, shared
the same way), which is the only path for larger L or a stochastic baseline.  The table reflects the judge
as it was when it was built: a judge changed afterwards (e.g. refitted) gets a new fingerprint, hence a new
table, in environments built after the change.

**Observation**: the 44 named features (:data:`~mechsim.debate.icu_sepsis.SEPSIS_FEATURES`) of the current
state's centroid plus independent :math:`\mathcal N(0, \sigma^2)` noise (``sigma = 0.3``; without noise the
713 centroids would be trivially memorisable), ``Box(low, high, (44,), float32)``.  The noise is truncated
at ``NOISE_BOUND`` = 6 standard deviations (tails, of probability 2e-9 per feature, are resampled) so that
the observation box is finite: ``[floor(min centroid - 6 sigma - 1), ceil(max centroid + 6 sigma + 1)]``.

**Termination** on entering death or survival; **truncation** after ``max_episode_steps`` steps (500, as in
the ``icu-sepsis`` package).  The id is registered with ``max_episode_steps=500`` and, with the same spec,
the vector entry point :class:`~mechsim.envs.sepsis_vector.JustifiableSepsisVectorEnv`.  Who cuts the episode:

- built directly (``JustifiableSepsisEnv(...)``): the environment, after its ``max_episode_steps`` (500);
- made by ``gymnasium.make(id, max_episode_steps=k)``: Gymnasium's ``TimeLimit`` (``k``, default 500), and
  the environment has no cut of its own (``max_episode_steps`` is None), so a ``k`` above 500 is honoured;
  ``max_episode_steps=-1`` drops ``TimeLimit`` and episodes end in death or survival only.  A horizon given
  to ``make`` as an environment argument cannot exist (``make`` takes that name for ``TimeLimit``), and
  ``make`` never tells the environment ``k``; wrap the made environment in :class:`SpecHorizon` to give it
  ``k`` as its own horizon (the environment then truncates with ``TimeLimit`` and raises on a step after);
- made by ``gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point", max_episode_steps=k)``:
  the vector environment, after ``k`` (default the spec's 500; ``make_vec`` passes it as an argument).

(Before, the id registered :class:`SpecHorizon` as an additional wrapper; Gymnasium's ``make_vec`` refuses a
vector entry point for an id with additional wrappers, so the wrapper is now opt-in.)  Stepping after an
episode the environment itself ended (terminated or truncated) raises
:class:`~mechsim.envs.debate.ResetNeededError` (a Gymnasium ``ResetNeeded``), as stepping before the first
reset does.  ``info`` holds ``state`` (current
state index), ``r_env``, ``r_debate``, ``baseline_action`` (-1 after reset), ``debate_value`` and ``sofa``.
``reset(options={"state": s})`` starts in patient state ``s`` instead of sampling from ``d_0``.

**Rendering**: ``"ansi"`` returns a line (time step, state, SOFA score), ``"rgb_array"`` draws it as an RGB
frame (:func:`mechsim.envs._template.text_frame`).
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.debate._checks import check_index, check_index_array, check_judge_size, describe
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
from mechsim.envs._template import check_render_mode, text_frame
from mechsim.envs.debate import ResetNeededError
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import greedy_debate_values
from mechsim.solvers.debate import MAX_TABLE_EVIDENCE, DebateTable, debate_win_table, solve_debate
from mechsim.validation import (
    check_choice,
    check_in_range,
    check_integer,
    check_nonnegative,
)

__all__ = ["JustifiableSepsisEnv", "SpecHorizon", "DebateTable", "debate_win_table", "default_sepsis_judge",
           "NOISE_BOUND", "DEFAULT_MAX_EPISODE_STEPS"]

_N_FEATURES = len(SEPSIS_FEATURES)

#: Observation noise is a Gaussian truncated at this many standard deviations (tails resampled).
NOISE_BOUND = 6.0

#: Episode length limit when neither the constructor nor the registry spec gives one (the package's 500).
DEFAULT_MAX_EPISODE_STEPS = 500


# ------------------------------------------------------------------------------------------ judges


def default_sepsis_judge(n_evidence: int = 2, ideal: bool = False, seed: int = 0):
    """The environment's default judge (cached per arguments): a Bradley–Terry judge trained on the paper's
    "clinician beats random" preferences over noisy centroid features with random masks of ``n_evidence``
    (see :func:`mechsim.debate.icu_sepsis.train_sepsis_judge`); ``ideal=True`` gives the full-state judge."""
    n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=_N_FEATURES)
    if not isinstance(ideal, (bool, np.bool_)):
        raise InvalidInstanceError(f"ideal: expected True or False, found {describe(ideal)}", argument="ideal")
    seed = check_integer("seed", seed, minimum=0)
    return _trained_judge(_N_FEATURES if ideal else n_evidence, bool(ideal), seed)


@functools.lru_cache(maxsize=8)
def _trained_judge(n_evidence: int, ideal: bool, seed: int):
    return train_sepsis_judge(load_icu_sepsis(), n_evidence, ideal=ideal, seed=seed)


# ------------------------------------------------------------------------------------ debaters

DebaterFn = Callable[[object, np.ndarray, tuple[int, int], int], tuple[float, float]]


def _exact_debate(judge, x, decisions, n_evidence):
    return solve_debate(judge, x, decisions, n_evidence).values_by_first_mover


# ------------------------------------------------------------------------------- per-process caches

_CACHE_LOCK = threading.Lock()
#: (judge, L, debaters, centroids) fingerprint -> {(state, action, baseline action): (value a first, b first)}
_SHARED_DEBATES: OrderedDict[tuple, dict] = OrderedDict()
#: the same key + baseline fingerprint -> read-only (716, 25, 2) table of values against the baseline
_SHARED_TABLES: OrderedDict[tuple, np.ndarray] = OrderedDict()
_MAX_SHARED = 8


def _fingerprint(obj) -> str | None:
    """A content hash of ``obj`` (its pickle), or None when it cannot be pickled."""
    if isinstance(obj, np.ndarray):
        return hashlib.sha256(obj.tobytes() + str((obj.shape, obj.dtype.str)).encode()).hexdigest()
    try:
        return hashlib.sha256(pickle.dumps(obj, protocol=4)).hexdigest()
    except Exception:  # noqa: BLE001 - unpicklable judges simply get a private cache
        return None


def _shared(store: OrderedDict, key, make):
    with _CACHE_LOCK:
        if key in store:
            store.move_to_end(key)
            return store[key]
        value = store[key] = make()
        while len(store) > _MAX_SHARED:
            store.popitem(last=False)
        return value


def _state_text(t: int, state: int, sofa) -> str:
    """The ``"ansi"`` rendering of one episode (shared with :mod:`mechsim.envs.sepsis_vector`)."""
    label = {STATE_DEATH: "death", STATE_SURVIVAL: "survival"}.get(state, f"patient state {state}")
    return f"t={t} {label} SOFA={sofa[state]:.1f}"


class JustifiableSepsisEnv(gymnasium.Env):
    """ICU-Sepsis treatment with reward ``(1 - lam) r_env + lam r_debate`` (see the module docstring).

    Parameters
    ----------
    lam : float in [0, 1]
        Weight of the debate reward.
    n_evidence : int
        L, features revealed per debate (default 2: the whole debate table is computed exactly in a second or
        two).
    judge : Judge, "trained" or "ideal"
        Any judge (``score(features, mask, decisions)``) over the 44 features and 25 actions; ``"trained"``
        (default) is :func:`default_sepsis_judge` trained with masks of size ``n_evidence``; ``"ideal"`` the
        full-state judge (the debate then reduces to the judge's verdict on the whole state).
    debaters : "auto", "exact", "greedy" or callable
        How debates are played: ``"auto"`` (default) is exact minimax for L <= 4 and greedy debaters above;
        a callable ``(judge, features (44,), (a, b), L) -> (value if a moves first, value if b moves first)``
        plugs in any other debaters (its results are cached per environment only).
    baseline : "expert" or array_like
        ``"expert"``: the clinician's most probable action; an integer array (716,) of actions, or a
        (716, 25) stochastic policy whose action is sampled at every step.
    sigma : float
        Observation noise (standard deviation, on z-scored features).
    debate_reward : "win" or "value"
    debate_scale : float
        Multiplies the debate reward (the paper used 5 with ``"win"``).
    max_episode_steps : int, optional
        Truncate after this many steps.  Default: 500 when built directly; no cut of the environment's own
        when made with ``gymnasium.make`` (its ``TimeLimit`` cuts; see the module docstring).
    judge_seed : int
        Seed of the default judge's training.
    precompute : bool, default True
        Build the whole debate table at construction where the batched exact solver applies (see the module
        docstring); False solves each debate on first use.
    render_mode : None, "ansi" or "rgb_array"
    mdp : SepsisMDP, optional
        The model (default: :func:`~mechsim.debate.icu_sepsis.load_icu_sepsis`).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, lam: float = 0.5, n_evidence: int = 2, judge="trained", debaters="auto",
                 baseline="expert", sigma: float = 0.3, debate_reward: str = "win", debate_scale: float = 1.0,
                 max_episode_steps: int | None = None, judge_seed: int = 0, precompute: bool = True,
                 render_mode: str | None = None, mdp: SepsisMDP | None = None):
        if mdp is not None and not isinstance(mdp, SepsisMDP):
            raise InvalidInstanceError(f"mdp: expected a SepsisMDP (see load_icu_sepsis) or None, found "
                                       f"{describe(mdp)}", argument="mdp")
        self.mdp = load_icu_sepsis() if mdp is None else mdp
        self.lam = float(check_in_range("lam", check_nonnegative("lam", lam), 0.0, 1.0))
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=_N_FEATURES)
        self.sigma = check_nonnegative("sigma", sigma)
        self.debate_reward = check_choice("debate_reward", debate_reward, ("win", "value"))
        self.debate_scale = check_nonnegative("debate_scale", debate_scale)
        self._max_steps_arg = (None if max_episode_steps is None
                               else check_integer("max_episode_steps", max_episode_steps, minimum=1))
        judge_seed = check_integer("judge_seed", judge_seed, minimum=0)
        if not isinstance(precompute, (bool, np.bool_)):
            raise InvalidInstanceError(f"precompute: expected True or False, found {describe(precompute)}",
                                       argument="precompute")
        self.render_mode = check_render_mode(render_mode, self.metadata)
        if isinstance(judge, str):
            check_choice("judge", judge, ("trained", "ideal"))
            judge = default_sepsis_judge(self.n_evidence, judge == "ideal", judge_seed)
        if not callable(getattr(judge, "score", None)):
            raise InvalidInstanceError(f"judge: expected an object with a score(features, mask, decisions) "
                                       f"method, 'trained' or 'ideal', found {describe(judge)}",
                                       argument="judge")
        check_judge_size(judge, _N_FEATURES, features_name="judge")
        check_judge_size(judge, decisions=[self.mdp.n_actions - 1], decisions_name="judge")
        self.judge = judge
        if isinstance(debaters, str):
            check_choice("debaters", debaters, ("auto", "exact", "greedy"))
            if debaters == "auto":
                debaters = "exact" if self.n_evidence <= 4 else "greedy"
            self._debate_fn: DebaterFn = _exact_debate if debaters == "exact" else greedy_debate_values
        elif callable(debaters):
            self._debate_fn = debaters
        else:
            raise InvalidInstanceError(f"debaters: expected 'auto', 'exact', 'greedy' or a callable, found "
                                       f"{describe(debaters)}", argument="debaters")
        self.debaters = debaters
        self._baseline_policy, self._baseline_fixed = self._parse_baseline(baseline)
        self._features = np.asarray(self.mdp.features, dtype=float)
        self._d0_cdf = np.cumsum(self.mdp.d_0)
        self._ideal = bool(getattr(self.judge, "ideal", False))
        self._key = self._cache_key()
        self._cache: dict[tuple[int, int, int], tuple[float, float]] = (
            {} if self._key is None else _shared(_SHARED_DEBATES, self._key, dict))
        self._table = None            # (716, 25, 2) values against the fixed baseline, when built
        self._r_debate_table = None   # (716, 25) debate reward, from the table
        self._value_table = None      # (716, 25) mean game value, from the table
        if precompute and self._table_applies():
            self._use_table(self._build_table())
        # Noise is truncated at NOISE_BOUND standard deviations, so every observation lies in a finite box.
        margin = NOISE_BOUND * self.sigma + 1.0
        self.observation_space = spaces.Box(np.float32(np.floor(self._features.min() - margin)),
                                            np.float32(np.ceil(self._features.max() + margin)),
                                            shape=(_N_FEATURES,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.mdp.n_actions)
        self._state = None
        self._t = 0
        self._done = False
        self._spec_horizon: int | None = None  # set by SpecHorizon from the made env's spec
        self._horizon = self._max_steps_arg or DEFAULT_MAX_EPISODE_STEPS

    @property
    def max_episode_steps(self) -> int | None:
        """The environment's own horizon: the constructor's ``max_episode_steps``, else the one
        :class:`SpecHorizon` passed on, else None when made by ``gymnasium.make`` (its ``TimeLimit`` cuts;
        ``make`` sets ``spec`` after construction), else 500."""
        if self._max_steps_arg is not None:
            return self._max_steps_arg
        if self._spec_horizon is not None:
            return self._spec_horizon
        if getattr(self, "spec", None) is not None:
            return None
        return DEFAULT_MAX_EPISODE_STEPS

    def _parse_baseline(self, baseline):
        n, a = self.mdp.n_states, self.mdp.n_actions
        if isinstance(baseline, str):
            check_choice("baseline", baseline, ("expert",))
            return None, baseline_actions(self.mdp)
        if baseline is None:
            raise InvalidInstanceError(f"baseline: expected 'expert', integer actions of shape ({n},) or a policy "
                                       f"of shape ({n}, {a}), found None", argument="baseline")
        arr = np.asarray(baseline)
        if arr.ndim == 1:
            fixed = check_index_array("baseline", arr, shape=(n,), high=a, what="integer actions (one per state)")
            return None, fixed
        if arr.shape == (n, a):
            try:
                pi = as_policy_matrix(arr, n, a, self.mdp.terminal)
            except InvalidInstanceError as exc:
                raise InvalidInstanceError(f"baseline: {exc}", argument="baseline") from exc
            return np.cumsum(pi, axis=1), None
        raise InvalidInstanceError(f"baseline: expected 'expert', integer actions of shape ({n},) or a policy of "
                                   f"shape ({n}, {a}), found shape {arr.shape} and dtype {arr.dtype}",
                                   argument="baseline")

    # ------------------------------------------------------------------ debates
    def _cache_key(self):
        """Content fingerprint of what the debate values depend on, or None (then caches are private)."""
        if self._debate_fn is _exact_debate:
            kind = "exact"
        elif self._debate_fn is greedy_debate_values:
            kind = "greedy"
        else:
            return None
        judge = _fingerprint(self.judge)
        if judge is None:
            return None
        return (judge, self.n_evidence, kind, _fingerprint(self._features))

    def _table_applies(self) -> bool:
        return (self._baseline_fixed is not None
                and (self._ideal or (self._debate_fn is _exact_debate and self.n_evidence <= MAX_TABLE_EVIDENCE)))

    def _build_table(self) -> np.ndarray:
        """``(716, 25, 2)`` debate values of every action against the baseline (shared per process)."""
        def make():
            table = np.zeros((self.mdp.n_states, self.mdp.n_actions, 2))
            states = np.arange(N_PATIENT_STATES)
            base = self._baseline_fixed[states]
            if self._ideal:
                # An ideal judge ignores the evidence: every reveal order ends in its verdict on the full state.
                x = np.repeat(self._features[states], self.mdp.n_actions, axis=0)
                acts = np.tile(np.arange(self.mdp.n_actions), states.size)
                v = debate_outcome(self.judge, x, np.ones_like(x, dtype=bool), acts,
                                   np.repeat(base, self.mdp.n_actions))
                table[states] = v.reshape(states.size, self.mdp.n_actions, 1).astype(float)
            else:
                result = debate_win_table(self.judge, self._features[states], base, self.n_evidence,
                                          n_decisions=self.mdp.n_actions)
                table[states] = result.values_by_first_mover
            table[states, base] = 0.0
            table.setflags(write=False)
            return table
        if self._key is None:
            return make()
        return _shared(_SHARED_TABLES, self._key + (_fingerprint(self._baseline_fixed),), make)

    def _use_table(self, table: np.ndarray) -> None:
        self._table = table
        v0, v1 = table[..., 0], table[..., 1]
        win = 0.5 * ((v0 > 0).astype(float) + (v1 > 0))
        r = win if self.debate_reward == "win" else 0.5 * (v0 + v1)
        self._r_debate_table = self.debate_scale * r
        self._value_table = 0.5 * (v0 + v1)

    def debate_values(self, state: int, action: int, baseline_action: int) -> tuple[float, float]:
        """Exact (or greedy) debate values ``(a first, baseline first)`` for ``action`` vs ``baseline_action``
        on the centroid of ``state``, cached."""
        n, a = self.mdp.n_states, self.mdp.n_actions
        key = (check_index("state", state, maximum=n - 1), check_index("action", action, maximum=a - 1),
               check_index("baseline_action", baseline_action, maximum=a - 1))
        if (self._table is not None and key[0] < N_PATIENT_STATES
                and key[2] == self._baseline_fixed[key[0]]):
            row = self._table[key[0], key[1]]
            return float(row[0]), float(row[1])
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if key[1] == key[2] or key[0] >= N_PATIENT_STATES:
            vals = (0.0, 0.0)
        elif self._ideal:
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
        patient states, which builds the debate table of the fast path if it is not built yet) with the batched
        exact solver (needs ``debaters="exact"`` and L <= 2 or the ideal judge, and a deterministic baseline).
        Returns the number of cached (state, action, baseline) triples."""
        if not self._table_applies():
            raise InvalidInstanceError("precompute_debates: expected debaters='exact', n_evidence <= 2 (or the "
                                       "ideal judge) and a deterministic baseline", argument="self")
        if states is None:
            if self._table is None:
                self._use_table(self._build_table())
            return N_PATIENT_STATES * self.mdp.n_actions
        states = check_index_array("states", states, ndim=1, high=N_PATIENT_STATES, what="patient state indices")
        if self._ideal:
            for s in states:
                for a in range(self.mdp.n_actions):
                    self.debate_values(int(s), a, int(self._baseline_fixed[s]))
            return len(self._cache)
        if states.size:
            table = debate_win_table(self.judge, self._features[states], self._baseline_fixed[states],
                                     self.n_evidence, n_decisions=self.mdp.n_actions)
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
        if options is not None and not isinstance(options, dict):
            raise InvalidInstanceError(f"options: expected a dict or None, found {describe(options)}",
                                       argument="options")
        start = None if options is None else options.get("state")
        if start is None:
            self._state = int(np.searchsorted(self._d0_cdf, self.np_random.random() * self.mdp.d_0.sum(),
                                              side="right"))
            self._state = min(self._state, N_PATIENT_STATES - 1)
        else:
            self._state = check_index("options['state']", start, maximum=N_PATIENT_STATES - 1)
        self._t = 0
        self._done = False
        self._horizon = self.max_episode_steps
        return self._observe(), self._info(0.0, 0.0, -1, 0.0)

    def _baseline_action(self, s: int) -> int:
        if self._baseline_fixed is not None:
            return int(self._baseline_fixed[s])
        row = self._baseline_policy[s]
        return int(min(np.searchsorted(row, self.np_random.random() * row[-1], side="right"), len(row) - 1))

    def step(self, action):
        if self._state is None:
            raise ResetNeededError("step: call reset() before step()")
        if self._done:
            raise ResetNeededError("step: the episode has ended (terminated or truncated); call reset()")
        if not self.action_space.contains(action):
            raise InvalidInstanceError(f"action: expected an integer in [0, {self.mdp.n_actions}), found "
                                       f"{describe(action)}", argument="action")
        a = int(action)
        s = self._state
        b = self._baseline_action(s)
        cdf = np.cumsum(self.mdp.tx_mat[s, a])
        nxt = int(min(np.searchsorted(cdf, self.np_random.random() * cdf[-1], side="right"), self.mdp.n_states - 1))
        r_env = float(self.mdp.r_mat[s, a, nxt])
        if self._table is not None:
            r_debate = float(self._r_debate_table[s, a])
            value = float(self._value_table[s, a])
        else:
            r_debate = self.debate_reward_of(s, a, b)
            value = 0.5 * sum(self.debate_values(s, a, b))
        reward = (1.0 - self.lam) * r_env + self.lam * r_debate
        self._state = nxt
        self._t += 1
        terminated = nxt >= N_PATIENT_STATES  # death, survival (or the absorbing sink)
        truncated = (not terminated) and self._horizon is not None and self._t >= self._horizon
        self._done = terminated or truncated
        return self._observe(), float(reward), bool(terminated), bool(truncated), self._info(r_env, r_debate, b, value)

    def _render_text(self) -> str:
        return "not started" if self._state is None else _state_text(self._t, self._state, self.mdp.sofa)

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        text = self._render_text()
        return text_frame(text) if self.render_mode == "rgb_array" else text


class SpecHorizon(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Gives a made environment the horizon of its ``gymnasium.make`` spec as its own (opt-in).

    Gymnasium's ``make`` applies ``TimeLimit(max_episode_steps)`` around the environment but never tells the
    environment itself (its own ``spec.max_episode_steps`` is None).  This wrapper, applied around the made
    environment (``SpecHorizon(gymnasium.make(id, max_episode_steps=k))``), reads the outer spec's
    ``max_episode_steps`` and sets it as the environment's horizon, so that the environment truncates at the
    same step as ``TimeLimit`` and raises :class:`~mechsim.envs.debate.ResetNeededError` on any step after it.
    Steps and resets pass through.  (The id no longer registers it: ``gymnasium.make_vec`` refuses a vector
    entry point beside an additional wrapper.)
    """

    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)
        gymnasium.Wrapper.__init__(self, env)
        steps = getattr(env.spec, "max_episode_steps", None)
        inner = env.unwrapped
        if isinstance(steps, int) and steps >= 1 and hasattr(inner, "_spec_horizon"):
            inner._spec_horizon = steps
