r"""Oberst & Sontag's sepsis simulator (ICML 2019) as an exact tabular MDP, plus a step-by-step sampler.

State (1,440 live states).  Four vitals — heart rate ``hr`` in {low, normal, high} = {0,1,2}, systolic
blood pressure ``sysbp`` in {0,1,2}, oxygen saturation ``percoxyg`` in {low, normal} = {0,1}, glucose
``glucose`` in {very low, low, normal, high, very high} = {0..4} — three treatment flags (``antibiotic``,
``vaso``, ``vent`` in {0,1}) and a hidden ``diabetic`` indicator.  Two absorbing states are added:
``DEATH`` (index 1440) and ``DISCHARGE`` (1441).

Actions (8): :math:`a = 4\,\text{antibiotic} + 2\,\text{vent} + \text{vaso}` (the simulator's coding).
Applying an action sets the flags to its bits.  One transition applies, in order, with independent draws:

1. antibiotics on: hr high→normal w.p. 0.5, sysbp high→normal w.p. 0.5; antibiotics just stopped: hr
   normal→high w.p. 0.1, sysbp normal→high w.p. 0.1 (hr and sysbp then do not fluctuate);
2. ventilation on: oxygen low→normal w.p. 0.7; just stopped: normal→low w.p. 0.1 (no fluctuation);
3. vasopressors on, non-diabetic: w.p. 0.7 sysbp rises one level (low→normal, normal→high);
   diabetic: sysbp normal→high w.p. 0.9, low→normal w.p. 0.5, low→high w.p. 0.4, and glucose rises one
   level w.p. 0.5 (sysbp and glucose then do not fluctuate); just stopped: sysbp falls one level w.p. 0.1
   (0.05 if diabetic) (sysbp does not fluctuate);
4. every vital not held above fluctuates: down one level w.p. 0.1, up one level w.p. 0.1 (glucose of a
   diabetic: 0.3 each), clipped to its range.

Reward on entering the new state: −1 and death if at least 3 of the 4 vitals are abnormal (not normal);
+1 and discharge if all vitals are normal and no treatment is on (the action was 0); otherwise 0.  Episodes
last at most ``horizon`` = 20 decisions (reward 0 at the cut-off).  Initial state: diabetes w.p. 0.2, no
treatment, hr and sysbp with probabilities (.25, .5, .25), oxygen (.2, .8), glucose (.05, .15, .6, .15, .05)
(non-diabetic) or (.01, .05, .15, .6, .19) (diabetic), conditioned on not being absorbing (the simulator
redraws until it is not).

The transition matrix is built by a second formulation: given (state, action) the four vitals evolve
independently (every draw touches one vital), so each vital's next-state law is a product of small
stochastic matrices applied where their condition holds, and the joint law is their outer product.
:func:`simulate` follows the procedural description draw by draw; the tests compare the two.

Which details are reconstructed.  The state and action coding, the order of sub-steps (antibiotics,
ventilation, vasopressors, fluctuation), every probability above, the initial law and the 0.2 diabetes
prevalence follow the simulator's published description and the rule text of its released code (as
documented in public copies of ``sepsisSimDiabetes``).  Our choices where that text is silent: the reward
is read on the state *entered* (so an episode ends on entering death or discharge), fluctuations clip at the
range ends, and the hidden diabetes flag is part of the state (the clinician's view drops it:
:data:`OBSERVED_FEATURES`).  The model is internally consistent and fully known, which is what exact
debate checks need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mechsim import tabular_mdp
from mechsim.debate._checks import check_index_array, describe
from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
    check_nonnegative,
    check_probability_vector,
    check_stochastic,
)

__all__ = [
    "FEATURE_NAMES",
    "OBSERVED_FEATURES",
    "N_LIVE_STATES",
    "N_STATES",
    "N_ACTIONS",
    "DEATH",
    "DISCHARGE",
    "STATE_SHAPE",
    "OberstSontagModel",
    "build_model",
    "encode_state",
    "decode_state",
    "action_bits",
    "value_iteration",
    "evaluate_policy",
    "simulate",
    "step",
]

FEATURE_NAMES = ("hr", "sysbp", "percoxyg", "glucose", "antibiotic", "vaso", "vent", "diabetic")
#: Boolean mask of the features a clinician observes (diabetes is hidden).
OBSERVED_FEATURES = np.array([True] * 7 + [False])
OBSERVED_FEATURES.setflags(write=False)
STATE_SHAPE = (3, 3, 2, 5, 2, 2, 2, 2)
N_LIVE_STATES = int(np.prod(STATE_SHAPE))
DEATH = N_LIVE_STATES
DISCHARGE = N_LIVE_STATES + 1
N_STATES = N_LIVE_STATES + 2
N_ACTIONS = 8
_NORMAL = np.array([1, 1, 1, 2])  # normal level of hr, sysbp, percoxyg, glucose
_FEATURE_SIZES = STATE_SHAPE
P_DIABETES = 0.2


def encode_state(hr, sysbp, percoxyg, glucose, antibiotic, vaso, vent, diabetic):
    """Index of a live state (vectorised; the arguments broadcast)."""
    parts = [check_index_array(name, value, high=size, what=f"integer levels in 0..{size - 1}")
             for name, value, size in zip(FEATURE_NAMES, (hr, sysbp, percoxyg, glucose, antibiotic, vaso, vent,
                                                          diabetic), _FEATURE_SIZES)]
    try:
        parts = np.broadcast_arrays(*parts)
    except ValueError as exc:
        raise InvalidInstanceError(f"hr: expected the eight feature arguments to broadcast together, found shapes "
                                   f"{[np.shape(p) for p in parts]}", argument="hr") from exc
    return np.ravel_multi_index(tuple(parts), STATE_SHAPE)


def decode_state(index) -> np.ndarray:
    """``(..., 8)`` integer features of live state(s) ``index`` in ``FEATURE_NAMES`` order."""
    idx = check_index_array("index", index, high=N_LIVE_STATES, what="live state indices")
    return np.stack(np.unravel_index(idx, STATE_SHAPE), axis=-1)


def action_bits(action):
    """``(antibiotic, vent, vaso)`` bits of action(s) ``a = 4 antibiotic + 2 vent + vaso``."""
    a = check_index_array("action", action, high=N_ACTIONS, what=f"integer actions in 0..{N_ACTIONS - 1}")
    return a // 4, (a // 2) % 2, a % 2


def _num_abnormal(vitals):
    return (np.asarray(vitals)[..., :4] != _NORMAL).sum(axis=-1)


@dataclass(frozen=True)
class OberstSontagModel:
    """The exact tabular model.

    Attributes
    ----------
    transitions : scipy.sparse.csr_matrix, shape (N_STATES * 8, N_STATES)
        Row ``s * 8 + a`` is ``P(. | s, a)``; DEATH and DISCHARGE are absorbing.  (Sparse: each row has at
        most 90 non-zeros; :meth:`dense_transitions` gives the ``(S, A, S)`` array.)
    rewards : ndarray, shape (N_STATES, 8)
        Expected reward ``E[r | s, a]`` (0 in the absorbing states).
    initial : ndarray, shape (N_STATES,)
        Initial-state distribution.
    features : ndarray, shape (N_LIVE_STATES, 8), int
        Feature vector of every live state (``FEATURE_NAMES`` order).
    """

    transitions: sp.csr_matrix
    rewards: np.ndarray
    initial: np.ndarray
    features: np.ndarray

    def __post_init__(self):
        P = self.transitions
        if not sp.issparse(P) or P.shape != (N_STATES * N_ACTIONS, N_STATES):
            raise InvalidInstanceError(f"transitions: expected a scipy sparse matrix of shape "
                                       f"({N_STATES * N_ACTIONS}, {N_STATES}), found {describe(P)}"
                                       + (f" of shape {P.shape}" if sp.issparse(P) else ""), argument="transitions")
        P = sp.csr_matrix(P)
        data = check_array("transitions", P.data)
        if data.size and data.min() < 0:
            raise InvalidInstanceError(f"transitions: expected non-negative probabilities, found {data.min():.6g}",
                                       argument="transitions")
        sums = np.asarray(P.sum(axis=1)).ravel()
        if np.max(np.abs(sums - 1.0)) > 1e-9:
            raise InvalidInstanceError(f"transitions: expected rows summing to 1 within 1e-9, found sum "
                                       f"{sums[np.argmax(np.abs(sums - 1.0))]:.12g}", argument="transitions")
        rewards = check_array("rewards", self.rewards, shape=(N_STATES, N_ACTIONS))
        initial = check_probability_vector("initial", self.initial, size=N_STATES)
        features = check_index_array("features", self.features, shape=(N_LIVE_STATES, len(FEATURE_NAMES)),
                                     what="integer feature levels")
        if np.any(features >= np.array(STATE_SHAPE)):
            raise InvalidInstanceError(f"features: expected levels below {STATE_SHAPE} per column, found "
                                       f"{features.max(axis=0).tolist()}", argument="features")
        for name, arr in (("rewards", rewards), ("initial", initial), ("features", features)):
            if arr.flags.writeable:
                arr = np.array(arr, copy=True)
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "transitions", P)

    @property
    def n_states(self) -> int:
        return self.rewards.shape[0]

    @property
    def n_actions(self) -> int:
        return self.rewards.shape[1]

    def dense_transitions(self) -> np.ndarray:
        """``(N_STATES, 8, N_STATES)`` dense transition array (about 130 MB of float64)."""
        return self.transitions.toarray().reshape(self.n_states, self.n_actions, self.n_states)

    def expected_next(self, values: np.ndarray) -> np.ndarray:
        """``(N_STATES, 8)`` array of ``sum_s' P(s'|s,a) values[s']``."""
        return tabular_mdp.expected_next(self.transitions, values)

    def standardised_features(self, observed_only: bool = False) -> np.ndarray:
        """Features centred at the normal level (vitals) and 0 (flags), as floats: 0 = normal/off.

        With ``observed_only`` the hidden diabetes column is dropped.
        """
        x = self.features.astype(float)
        x[:, :4] -= _NORMAL
        return x[:, OBSERVED_FEATURES] if observed_only else x

    def terminal_live_states(self) -> np.ndarray:
        """Live states that are terminal on entry for every action (>= 3 abnormal vitals)."""
        return _num_abnormal(self.features) >= 3


def _component_laws(states: np.ndarray, actions: np.ndarray):
    """Per-vital next-state distributions for each (state, action) row: hr, sysbp, percoxyg, glucose."""
    n = states.shape[0]
    hr, bp, ox, glu, abx0, vaso0, vent0, diab = (states[:, i] for i in range(8))
    abx, vent, vaso = action_bits(actions)
    laws = [np.zeros((n, k)) for k in (3, 3, 2, 5)]
    for law, v in zip(laws, (hr, bp, ox, glu)):
        law[np.arange(n), v] = 1.0

    def apply(law, matrix, where):
        law[where] = law[where] @ matrix

    def level_map(k, moves):
        """Stochastic matrix: from level i, ``moves[i]`` is a dict {target: probability}, the rest stays."""
        m = np.eye(k)
        for i, targets in moves.items():
            for j, p in targets.items():
                m[i, j] += p
                m[i, i] -= p
        return m

    fl = {name: np.ones(n, bool) for name in ("hr", "bp", "ox", "glu")}
    # 1. antibiotics
    on = abx == 1
    off = (abx == 0) & (abx0 == 1)
    down_high = level_map(3, {2: {1: 0.5}})
    up_normal = level_map(3, {1: {2: 0.1}})
    apply(laws[0], down_high, on)
    apply(laws[1], down_high, on)
    apply(laws[0], up_normal, off)
    apply(laws[1], up_normal, off)
    fl["hr"] &= ~(on | off)
    fl["bp"] &= ~(on | off)
    # 2. ventilation
    on = vent == 1
    off = (vent == 0) & (vent0 == 1)
    apply(laws[2], level_map(2, {0: {1: 0.7}}), on)
    apply(laws[2], level_map(2, {1: {0: 0.1}}), off)
    fl["ox"] &= ~(on | off)
    # 3. vasopressors
    on = vaso == 1
    off = (vaso == 0) & (vaso0 == 1)
    apply(laws[1], level_map(3, {0: {1: 0.7}, 1: {2: 0.7}}), on & (diab == 0))
    apply(laws[1], level_map(3, {0: {1: 0.5, 2: 0.4}, 1: {2: 0.9}}), on & (diab == 1))
    apply(laws[3], level_map(5, {i: {i + 1: 0.5} for i in range(4)}), on & (diab == 1))
    apply(laws[1], level_map(3, {1: {0: 0.1}, 2: {1: 0.1}}), off & (diab == 0))
    apply(laws[1], level_map(3, {1: {0: 0.05}, 2: {1: 0.05}}), off & (diab == 1))
    fl["bp"] &= ~(on | off)
    fl["glu"] &= ~on
    # 4. fluctuation
    def fluct(k, p):
        moves = {}
        for i in range(k):
            t = {}
            if i > 0:
                t[i - 1] = p
            if i < k - 1:
                t[i + 1] = t.get(i + 1, 0.0) + p
            moves[i] = t
        return level_map(k, moves)
    apply(laws[0], fluct(3, 0.1), fl["hr"])
    apply(laws[1], fluct(3, 0.1), fl["bp"])
    apply(laws[2], fluct(2, 0.1), fl["ox"])
    apply(laws[3], fluct(5, 0.1), fl["glu"] & (diab == 0))
    apply(laws[3], fluct(5, 0.3), fl["glu"] & (diab == 1))
    return laws


# Initial marginals of the released simulator: hr and sysbp (.25, .5, .25), oxygen (.2, .8), glucose by
# diabetes status; treatments off; redrawn (diabetes included) until the state is not absorbing.
_P_HR = np.array([0.25, 0.5, 0.25])
_P_BP = np.array([0.25, 0.5, 0.25])
_P_OX = np.array([0.2, 0.8])
_P_GLU = np.array([[0.05, 0.15, 0.6, 0.15, 0.05], [0.01, 0.05, 0.15, 0.6, 0.19]])


def _initial_distribution(feats: np.ndarray) -> np.ndarray:
    n_abn = _num_abnormal(feats)
    untreated = feats[:, 4:7].sum(axis=1) == 0
    # Untreated states with 0 abnormal vitals (discharge) or >= 3 (death) are absorbing: rejected.
    start = untreated & (n_abn < 3) & (n_abn > 0)
    p = (np.where(feats[:, 7] == 1, P_DIABETES, 1.0 - P_DIABETES) * _P_HR[feats[:, 0]] * _P_BP[feats[:, 1]]
         * _P_OX[feats[:, 2]] * _P_GLU[feats[:, 7], feats[:, 3]])
    initial = np.zeros(N_STATES)
    initial[:N_LIVE_STATES] = np.where(start, p, 0.0)
    return initial / initial.sum()


def build_model() -> OberstSontagModel:
    """Enumerate every (state, action) and build the exact transition matrix, rewards and initial law."""
    S, A = N_LIVE_STATES, N_ACTIONS
    feats = decode_state(np.arange(S))
    rows_s = np.repeat(np.arange(S), A)
    rows_a = np.tile(np.arange(A), S)
    hr, bp, ox, glu = _component_laws(feats[rows_s], rows_a)
    vitals = np.einsum("ni,nj,nk,nl->nijkl", hr, bp, ox, glu).reshape(S * A, 90)
    grid = np.stack(np.unravel_index(np.arange(90), (3, 3, 2, 5)), axis=-1)  # (90, 4)
    n_abn = _num_abnormal(grid)
    abx, vent, vaso = action_bits(rows_a)
    # Live next state for each (row, vitals combination): flags = action bits, same diabetes status.
    nxt = encode_state(grid[None, :, 0], grid[None, :, 1], grid[None, :, 2], grid[None, :, 3],
                       abx[:, None], vaso[:, None], vent[:, None], feats[rows_s, 7][:, None])
    dies = np.broadcast_to(n_abn[None, :] >= 3, nxt.shape)
    discharged = (n_abn[None, :] == 0) & (rows_a[:, None] == 0)
    live = ~dies & ~discharged & (vitals > 0)
    row_ids = np.broadcast_to(np.arange(S * A)[:, None], nxt.shape)
    p_death = np.where(dies, vitals, 0.0).sum(axis=1)
    p_discharge = np.where(discharged, vitals, 0.0).sum(axis=1)
    absorbing_rows = np.arange(S * A, N_STATES * A)
    rows = np.concatenate([row_ids[live], np.arange(S * A), np.arange(S * A), absorbing_rows])
    cols = np.concatenate([nxt[live], np.full(S * A, DEATH), np.full(S * A, DISCHARGE),
                           np.repeat([DEATH, DISCHARGE], A)])
    vals = np.concatenate([vitals[live], p_death, p_discharge, np.ones(2 * A)])
    keep = vals > 0
    transitions = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(N_STATES * A, N_STATES))
    transitions.sum_duplicates()
    rewards = np.zeros((N_STATES, A))
    rewards[:S] = (p_discharge - p_death).reshape(S, A)
    initial = _initial_distribution(feats)
    for a in (rewards, initial, feats):
        a.setflags(write=False)
    return OberstSontagModel(transitions, rewards, initial, feats)


def _check_model(model) -> OberstSontagModel:
    if not isinstance(model, OberstSontagModel):
        raise InvalidInstanceError(f"model: expected an OberstSontagModel (see build_model), found "
                                   f"{describe(model)}", argument="model")
    return model


def _check_gamma(gamma) -> float:
    return float(check_in_range("gamma", check_nonnegative("gamma", gamma), 0.0, 1.0))


def _check_policy(policy, horizon):
    pol = check_array("policy", policy)
    if pol.shape == (N_STATES, N_ACTIONS):
        pol = np.broadcast_to(pol, (horizon, N_STATES, N_ACTIONS))
    elif pol.shape != (horizon, N_STATES, N_ACTIONS):
        raise InvalidInstanceError(f"policy: expected shape ({N_STATES}, {N_ACTIONS}) or ({horizon}, {N_STATES}, "
                                   f"{N_ACTIONS}), found {pol.shape}", argument="policy")
    check_stochastic("policy", pol, axis=-1)
    return pol


def value_iteration(model: OberstSontagModel, horizon: int = 20, gamma: float = 1.0):
    r"""Finite-horizon optimal values by backward induction (:func:`mechsim.tabular_mdp.backward_induction`).

    :math:`Q_t(s,a) = R(s,a) + \gamma \sum_{s'} P(s'|s,a) V_{t+1}(s')`, :math:`V_t = \max_a Q_t`,
    :math:`V_{H} = 0`.

    Returns
    -------
    q : ndarray, shape (horizon, N_STATES, 8)
        ``q[t]`` is the optimal Q at decision time t.
    v : ndarray, shape (horizon + 1, N_STATES)
    """
    model = _check_model(model)
    horizon = check_integer("horizon", horizon, minimum=1)
    gamma = _check_gamma(gamma)
    check_allocation("horizon", 8.0 * (2 * horizon + 1) * N_STATES * N_ACTIONS,
                     f"the ({horizon}, {N_STATES}, {N_ACTIONS}) time-indexed Q table")
    result = tabular_mdp.backward_induction(model.transitions, model.rewards, horizon, gamma)
    return result.q_values, result.state_values


def evaluate_policy(model: OberstSontagModel, policy, horizon: int = 20, gamma: float = 1.0) -> float:
    """Exact expected return from the initial distribution of a (stationary or time-indexed) policy.

    ``policy`` has shape ``(N_STATES, 8)`` or ``(horizon, N_STATES, 8)``, rows summing to 1.  Backward
    recursion ``V_t = sum_a pi_t(a|s) [R + gamma P V_{t+1}]``, ``V_H = 0``
    (:func:`mechsim.tabular_mdp.evaluate_policy` with a horizon).
    """
    model = _check_model(model)
    horizon = check_integer("horizon", horizon, minimum=1)
    gamma = _check_gamma(gamma)
    pol = _check_policy(policy, horizon)
    return tabular_mdp.evaluate_policy(model.transitions, pol, model.rewards, gamma, initial=model.initial,
                                       horizon=horizon, with_q=False).value


# ---------------------------------------------------------------------------------------------- procedural
def step(state: np.ndarray, action: int, rng) -> tuple[np.ndarray, int, bool]:
    """One procedural transition of a live state (8 integer features), drawing uniforms from ``rng``.

    Returns ``(next features, reward, terminal)``.
    """
    state = check_index_array("state", state, shape=(len(FEATURE_NAMES),), what="integer feature levels")
    if np.any(state >= np.array(STATE_SHAPE)):
        raise InvalidInstanceError(f"state: expected levels below {STATE_SHAPE}, found {state.tolist()}",
                                   argument="state")
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
        raise InvalidInstanceError(f"action: expected an integer action in 0..{N_ACTIONS - 1}, found "
                                   f"{describe(action)}", argument="action")
    if not isinstance(rng, np.random.Generator):
        raise InvalidInstanceError(f"rng: expected a numpy.random.Generator, found {describe(rng)}", argument="rng")
    hr, bp, ox, glu, abx0, vaso0, vent0, diab = (int(v) for v in state)
    abx, vent, vaso = (int(b) for b in action_bits(action))
    u = rng.random

    def move(level, source, target, p):
        """``target`` w.p. ``p`` if at ``source`` (one draw, only then), else unchanged."""
        return target if level == source and u() < p else level
    fl_hr = fl_bp = fl_ox = fl_glu = True
    if abx:
        hr, bp = move(hr, 2, 1, 0.5), move(bp, 2, 1, 0.5)
    elif abx0:
        hr, bp = move(hr, 1, 2, 0.1), move(bp, 1, 2, 0.1)
    if abx or abx0:
        fl_hr = fl_bp = False
    if vent:
        ox = move(ox, 0, 1, 0.7)
    elif vent0:
        ox = move(ox, 1, 0, 0.1)
    if vent or vent0:
        fl_ox = False
    if vaso:
        if not diab:
            if u() < 0.7 and bp < 2:
                bp += 1
        else:
            if bp == 1:
                if u() < 0.9:
                    bp = 2
            elif bp == 0:
                w = u()
                if w < 0.5:
                    bp = 1
                elif w < 0.9:
                    bp = 2
            if u() < 0.5:
                glu = min(4, glu + 1)
        fl_bp = fl_glu = False
    elif vaso0:
        if u() < (0.05 if diab else 0.1):
            bp = max(0, bp - 1)
        fl_bp = False

    def fluctuate(level, top, p):
        w = u()
        if w < p:
            return max(0, level - 1)
        if w < 2 * p:
            return min(top, level + 1)
        return level
    if fl_hr:
        hr = fluctuate(hr, 2, 0.1)
    if fl_bp:
        bp = fluctuate(bp, 2, 0.1)
    if fl_ox:
        ox = fluctuate(ox, 1, 0.1)
    if fl_glu:
        glu = fluctuate(glu, 4, 0.3 if diab else 0.1)
    nxt = np.array([hr, bp, ox, glu, abx, vaso, vent, diab])
    n_abn = int(_num_abnormal(nxt))
    if n_abn >= 3:
        return nxt, -1, True
    if n_abn == 0 and abx + vaso + vent == 0:
        return nxt, 1, True
    return nxt, 0, False


def simulate(policy, n_episodes: int, horizon: int = 20, seed=None):
    """Roll out episodes with the procedural :func:`step`.

    Parameters
    ----------
    policy : callable ``(features (8,), t, rng) -> action`` or array ``(N_STATES, 8)`` of probabilities
    n_episodes, horizon : int
    seed : int or Generator

    Returns
    -------
    returns : ndarray, shape (n_episodes,)
        Undiscounted episode returns.
    transitions : list of (state index, action, next state index) with DEATH/DISCHARGE for terminal entries
    """
    n_episodes = check_integer("n_episodes", n_episodes, minimum=0)
    horizon = check_integer("horizon", horizon, minimum=1)
    check_allocation("n_episodes", 8.0 * n_episodes * (1 + 3 * 16), f"the returns and logs of {n_episodes} episodes")
    if policy is None:
        raise InvalidInstanceError(f"policy: expected a callable or an array of shape ({N_STATES}, {N_ACTIONS}), "
                                   "found None", argument="policy")
    rng = as_generator(seed)
    if not callable(policy):
        if np.shape(policy) != (N_STATES, N_ACTIONS):
            raise InvalidInstanceError(f"policy: expected a callable or a stationary policy of shape ({N_STATES}, "
                                       f"{N_ACTIONS}), found shape {np.shape(policy)}", argument="policy")
        cumulative = np.cumsum(_check_policy(policy, 1)[0], axis=1)
        strides = np.cumprod((1,) + STATE_SHAPE[::-1])[:-1][::-1]

        def policy(features, t, rng, cumulative=cumulative):
            row = cumulative[int(features @ strides)]
            return min(int(np.searchsorted(row, rng.random() * row[-1], side="right")), N_ACTIONS - 1)
    feats = decode_state(np.arange(N_LIVE_STATES))
    model_initial = _initial_distribution(feats)
    returns = np.zeros(n_episodes)
    log = []
    for e in range(n_episodes):
        s = int(rng.choice(N_STATES, p=model_initial))
        x = feats[s]
        for t in range(horizon):
            a = int(policy(x, t, rng))
            x2, r, done = step(x, a, rng)
            s2 = (DEATH if r < 0 else DISCHARGE) if done else int(encode_state(*x2))
            log.append((s, a, s2))
            returns[e] += r
            if done:
                break
            s, x = s2, x2
    return returns, log
