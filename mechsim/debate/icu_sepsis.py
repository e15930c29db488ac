"""The ICU-Sepsis MDP (Choudhary, Gupta & Thomas, 2024) as arrays, with exact evaluation and off-policy estimates.

The ``icu-sepsis`` package (Choudhary, Gupta & Thomas, "ICU-Sepsis: A Benchmark MDP Built from Real Medical
Data", RLC 2024; MIT licence) publishes a tabular sepsis-treatment MDP built from MIMIC-III aggregates:
states ``s in {0, ..., 715}`` (0-712 patient clusters, 713 = death, 714 = survival, 715 = an absorbing
sink that 713 and 714 move to), actions ``a = 5 * iv + vaso`` (five IV-fluid bins times five vasopressor
bins), transitions ``P(s' | s, a) = tx_mat[s, a, s']``, reward ``r_mat[s, a, s'] = 1`` on entering
survival and 0 otherwise, an initial law ``d_0`` and a clinician policy ``expert_policy`` estimated from
the logged data.  Every patient cluster has a feature centroid (47 z-scored columns, 44 of which are the
features used by Sukovic & Radanovic's justification work).

mechsim ships the package's data files (``dynamics.npz``, ``admissible_actions.txt``, ``metadata.json``,
version 2.0.1, unchanged, with its licence and an attribution) in ``mechsim/debate/data/icu_sepsis/``, so
neither the package nor its dependency tree (the retired ``gym``, pandas, scikit-learn) is installed;
:func:`load_icu_sepsis` reads them (or the same files from any other folder) and checks the shipped copy's
checksums.  This module provides:

**Exact policy evaluation.**  For a stochastic policy ``pi`` let ``P_pi(s, s') = sum_a pi(a|s) P(s'|s, a)``
and ``r_pi(s) = sum_a pi(a|s) sum_s' P(s'|s, a) r(s, a, s')``.  Death and survival end an episode, so their
values are zero and the values of the transient states ``T = {0..712}`` solve the linear system

    (I - gamma P_pi[T, T]) v_T = r_pi[T],        J(pi) = d_0 . v,

which is non-singular whenever ``gamma < 1`` or ``pi`` reaches a terminal state with probability one
(a *proper* policy).  With ``horizon=H`` the finite-horizon value ``v_H = r_pi + gamma P_pi v_{H-1}`` is used
instead (the package's own episodes are cut at 500 steps; the two agree to ~1e-12 here).  With
``gamma = 1`` the value of a state is the probability that the patient survives.

**Optimal control.**  ``Q*(s, a) = r(s, a) + gamma sum_s' P(s'|s, a) max_a' Q*(s', a')`` by value
iteration (contraction for ``gamma < 1``; for ``gamma = 1`` it converges because every policy of this MDP
terminates) and by Howard's policy iteration, which is exact after finitely many improvement steps.
Any reward table ``reward[s, a]`` may replace the survival reward (e.g. a mixture with a debate reward).

**Off-policy evaluation.**  Trajectories ``tau_i`` sampled under a behaviour policy ``b`` give the
weighted importance-sampling estimate

    WIS(pi) = sum_i rho_i G_i / sum_i rho_i,     rho_i = prod_t pi(a_t | s_t) / b(a_t | s_t),

where ``G_i`` is the (discounted) return of ``tau_i``.  This is the estimator the justification paper used
on MIMIC (with a behaviour-cloned clinician ``b`` and a softened target policy); here it can be compared
with the exact value.

Published average returns (undiscounted): random 0.78, expert 0.78, optimal 0.88 — reproduced by
:func:`evaluate_policy` and :func:`policy_iteration` (0.780, 0.782, 0.875).

Evaluation, occupancy and planning are those of :mod:`mechsim.tabular_mdp` with the last three states as its
terminal states; this module adds the data, the policy conventions (integer actions or probability rows,
terminal rows ignored) and the validation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mechsim import tabular_mdp
from mechsim.debate._checks import check_index_array, check_mask, describe
from mechsim.errors import InvalidInstanceError, MechsimError
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
    check_nonnegative,
    check_positive,
    check_stochastic,
)

__all__ = [
    "SEPSIS_COLUMNS",
    "SEPSIS_FEATURES",
    "SEPSIS_FEATURE_COLUMNS",
    "N_STATES",
    "N_ACTIONS",
    "N_PATIENT_STATES",
    "STATE_DEATH",
    "STATE_SURVIVAL",
    "STATE_ABSORBING",
    "IcuSepsisUnavailableError",
    "DATA_DIR",
    "DATA_SHA256",
    "SepsisMDP",
    "PolicyEvaluation",
    "OptimalControl",
    "Trajectories",
    "WISEstimate",
    "icu_sepsis_assets_dir",
    "load_icu_sepsis",
    "action_index",
    "action_levels",
    "as_policy_matrix",
    "uniform_policy",
    "greedy_policy",
    "soften_policy",
    "evaluate_policy",
    "baseline_actions",
    "value_iteration",
    "policy_iteration",
    "sample_trajectories",
    "behaviour_cloning",
    "wis_estimate",
    "noisy_features",
    "state_occupancy",
    "clinician_preferences",
    "train_sepsis_judge",
]

#: The 47 centroid columns of ``state_cluster_centers``, in order.
SEPSIS_COLUMNS: tuple[str, ...] = (
    "gender", "mechvent", "max_dose_vaso", "re_admission", "age", "Weight_kg", "GCS", "HR", "SysBP",
    "MeanBP", "DiaBP", "RR", "Temp_C", "FiO2_1", "Potassium", "Sodium", "Chloride", "Glucose", "Magnesium",
    "Calcium", "Hb", "WBC_count", "Platelets_count", "PTT", "PT", "Arterial_pH", "paO2", "paCO2",
    "Arterial_BE", "HCO3", "Arterial_lactate", "SOFA", "SIRS", "Shock_Index", "PaO2_FiO2",
    "cumulated_balance", "SpO2", "BUN", "Creatinine", "SGOT", "SGPT", "Total_bili", "INR", "input_total",
    "input_4hourly", "output_total", "output_4hourly",
)

_DROPPED = ("max_dose_vaso", "re_admission", "input_4hourly")

#: The 44 features of the justification paper (4 demographic + 40 clinical), in centroid-column order.
SEPSIS_FEATURES: tuple[str, ...] = tuple(c for c in SEPSIS_COLUMNS if c not in _DROPPED)

#: Column index in ``state_cluster_centers`` of each of the 44 features.
SEPSIS_FEATURE_COLUMNS: np.ndarray = np.array([SEPSIS_COLUMNS.index(c) for c in SEPSIS_FEATURES])
SEPSIS_FEATURE_COLUMNS.setflags(write=False)

N_STATES = 716
N_ACTIONS = 25
N_PATIENT_STATES = 713
STATE_DEATH = 713
STATE_SURVIVAL = 714
STATE_ABSORBING = 715
_N_LEVELS = 5


class IcuSepsisUnavailableError(MechsimError, ImportError):
    """The ICU-Sepsis data files are missing or damaged (the shipped copy, or the folder given)."""


#: The ICU-Sepsis data shipped with mechsim (``icu-sepsis`` 2.0.1's ``envs/assets``, MIT licence; see the
#: ``README.md`` and ``LICENSE.txt`` there).
DATA_DIR = Path(__file__).resolve().parent / "data" / "icu_sepsis"

#: sha256 of each shipped data file (identical to the files of ``icu-sepsis`` 2.0.1).
DATA_SHA256 = {
    "dynamics.npz": "36498f924c693c6be7ae18f3ce9e1a8e48d41f80f2cc553b3993b1373c8a9109",
    "admissible_actions.txt": "607f4e1eeee4f33a2124fb4a1beefd82fc264a3b608d41d13f810166aa203165",
    "metadata.json": "136abd5b2a9d12b47c8ce88221d7800c510e0f06cb17e29bd1d5faab822713cb",
}


def icu_sepsis_assets_dir() -> Path:
    """Folder of the ICU-Sepsis data files shipped with mechsim (:data:`DATA_DIR`).

    Raises
    ------
    IcuSepsisUnavailableError
        If the data file is missing (a damaged installation).
    """
    if not (DATA_DIR / "dynamics.npz").is_file():
        raise IcuSepsisUnavailableError(
            f"icu_sepsis: expected the data file {DATA_DIR / 'dynamics.npz'} shipped with mechsim, found it "
            "missing; reinstall mechsim, or pass load_icu_sepsis(assets_dir=...) a folder holding the files")
    return DATA_DIR


def _check_shipped_files(folder: Path) -> None:
    """The shipped copy must be byte-identical to the published files (checksums :data:`DATA_SHA256`)."""
    for name, digest in DATA_SHA256.items():
        found = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if found != digest:
            raise IcuSepsisUnavailableError(f"{name}: expected the shipped ICU-Sepsis file with sha256 {digest}, "
                                            f"found sha256 {found} in {folder}; reinstall mechsim")


def _read_admissible(path: Path) -> np.ndarray:
    """Boolean (716, 25) table from the package's text format (counts line, then one line per state)."""
    lines = path.read_text().splitlines()
    counts = [int(x) for x in lines[0].split()]
    table = np.zeros((len(counts), N_ACTIONS), dtype=bool)
    for s, n in enumerate(counts):
        acts = [int(x) for x in lines[1 + s].split()]
        if len(acts) != n:
            raise MechsimError(f"admissible_actions.txt: state {s} lists {len(acts)} actions, header says {n}")
        table[s, acts] = True
    return table


@dataclass(frozen=True, eq=False)
class SepsisMDP:
    """The ICU-Sepsis MDP as arrays (validated on construction; arrays are made read-only).

    Attributes
    ----------
    tx_mat : ndarray, shape (716, 25, 716)
        ``P(s' | s, a)``; every row sums to one.
    r_mat : ndarray, shape (716, 25, 716)
        Reward on the transition (1 on entering survival).
    d_0 : ndarray, shape (716,)
        Initial-state law.
    expert_policy : ndarray, shape (716, 25)
        Clinician policy; rows of patient states sum to one, rows of the three terminal states are zero.
    state_cluster_centers : ndarray, shape (716, 47)
        Z-scored feature centroid of each state (columns :data:`SEPSIS_COLUMNS`; zero for terminal states).
    sofa : ndarray, shape (716,)
        Mean SOFA score of each state.
    admissible : ndarray of bool, shape (716, 25)
        Actions observed often enough in the data; the others' rows are the mean of the admissible ones.
    metadata : dict
        The package's ``metadata.json``.
    """

    tx_mat: np.ndarray
    r_mat: np.ndarray
    d_0: np.ndarray
    expert_policy: np.ndarray
    state_cluster_centers: np.ndarray
    sofa: np.ndarray
    admissible: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.metadata, dict):
            raise InvalidInstanceError(f"metadata: expected a dict, found {describe(self.metadata)}",
                                       argument="metadata")
        tx = check_array("tx_mat", self.tx_mat, ndim=3)
        n, a = tx.shape[:2]
        if n < 4 or a < 1 or tx.shape[2] != n:
            raise InvalidInstanceError(f"tx_mat: expected shape (S, A, S) with S >= 4 states (the last three are "
                                       f"death, survival and the absorbing sink) and A >= 1, found {tx.shape}",
                                       argument="tx_mat")
        tx = check_stochastic("tx_mat", tx, axis=-1)
        r = check_array("r_mat", self.r_mat, shape=tx.shape)
        d0 = check_stochastic("d_0", self.d_0, shape=(n,))
        pe = check_array("expert_policy", self.expert_policy, shape=(n, a))
        check_in_range("expert_policy", pe, 0.0, 1.0)
        centers = check_array("state_cluster_centers", self.state_cluster_centers, shape=(n, len(SEPSIS_COLUMNS)))
        sofa = check_array("sofa", self.sofa, shape=(n,))
        adm = check_mask("admissible", self.admissible, shape=(n, a))
        for name, arr in (("tx_mat", tx), ("r_mat", r), ("d_0", d0), ("expert_policy", pe),
                          ("state_cluster_centers", centers), ("sofa", sofa), ("admissible", adm)):
            arr = np.array(arr, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_states(self) -> int:
        return self.tx_mat.shape[0]

    @property
    def n_actions(self) -> int:
        return self.tx_mat.shape[1]

    @functools.cached_property
    def reward(self) -> np.ndarray:
        """Expected immediate reward ``r(s, a) = sum_s' P(s'|s,a) r(s,a,s')``, shape (716, 25)."""
        out = np.einsum("sat,sat->sa", self.tx_mat, self.r_mat)
        out.setflags(write=False)
        return out

    @functools.cached_property
    def features(self) -> np.ndarray:
        """The 44 paper features of each state's centroid, shape (716, 44) (columns :data:`SEPSIS_FEATURES`)."""
        out = np.ascontiguousarray(self.state_cluster_centers[:, SEPSIS_FEATURE_COLUMNS])
        out.setflags(write=False)
        return out

    @functools.cached_property
    def terminal(self) -> np.ndarray:
        """Boolean mask of the states that end an episode: the last three (death, survival, absorbing)."""
        out = np.zeros(self.n_states, dtype=bool)
        out[-3:] = True
        return out

    @functools.cached_property
    def _tx_flat(self):
        from scipy import sparse

        return sparse.csr_matrix(self.tx_mat.reshape(self.n_states * self.n_actions, self.n_states))

    def expected_next(self, values: np.ndarray) -> np.ndarray:
        """``sum_s' P(s'|s, a) values[s']`` for every (s, a), shape (716, 25) (sparse product)."""
        return tabular_mdp.expected_next(self._tx_flat, values)

    def policy_transition(self, policy: np.ndarray) -> np.ndarray:
        """State-to-state matrix ``P_pi(s, s') = sum_a pi(a|s) P(s'|s, a)`` of a policy matrix, shape (716, 716)."""
        return tabular_mdp.policy_transition_matrix(self._tx_flat, policy, dense=True)

    def clinician_policy(self) -> np.ndarray:
        """The expert policy with uniform rows on the terminal states (a full stochastic matrix)."""
        pi = np.array(self.expert_policy, copy=True)
        pi[self.terminal] = 1.0 / self.n_actions
        return pi


def load_icu_sepsis(assets_dir: str | Path | None = None) -> SepsisMDP:
    """Load the ICU-Sepsis MDP (cached per folder).

    Parameters
    ----------
    assets_dir : path, optional
        Folder with ``dynamics.npz`` (and optionally ``admissible_actions.txt`` and ``metadata.json``), e.g.
        the ``envs/assets`` folder of an installed ``icu-sepsis`` package; defaults to the copy shipped with
        mechsim (:data:`DATA_DIR`, whose checksums are checked).

    Raises
    ------
    IcuSepsisUnavailableError
        If the data file is missing or the shipped copy is damaged.
    """
    if assets_dir is None:
        folder = icu_sepsis_assets_dir()
    elif isinstance(assets_dir, (str, os.PathLike)):
        folder = Path(assets_dir)
    else:
        raise InvalidInstanceError(f"assets_dir: expected a folder path (str or os.PathLike) or None, found "
                                   f"{describe(assets_dir)}", argument="assets_dir")
    return _load_cached(str(folder.resolve()))


@functools.lru_cache(maxsize=4)
def _load_cached(folder: str) -> SepsisMDP:
    path = Path(folder)
    if not (path / "dynamics.npz").is_file():
        raise IcuSepsisUnavailableError(f"assets_dir: expected a folder holding dynamics.npz, found {path}")
    if path == DATA_DIR:
        _check_shipped_files(path)
    with np.load(path / "dynamics.npz") as data:
        arrays = {k: data[k] for k in data.files}
    missing = {"tx_mat", "r_mat", "d_0", "expert_policy", "state_cluster_centers", "sofa_scores"} - set(arrays)
    if missing:
        raise IcuSepsisUnavailableError(f"dynamics.npz: expected arrays {sorted(missing)}, found {sorted(arrays)}")
    adm_path = path / "admissible_actions.txt"
    n, a = arrays["tx_mat"].shape[:2]
    admissible = _read_admissible(adm_path) if adm_path.is_file() else np.ones((n, a), dtype=bool)
    meta_path = path / "metadata.json"
    metadata = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return SepsisMDP(
        tx_mat=arrays["tx_mat"], r_mat=arrays["r_mat"], d_0=arrays["d_0"],
        expert_policy=arrays["expert_policy"], state_cluster_centers=arrays["state_cluster_centers"],
        sofa=arrays["sofa_scores"], admissible=admissible, metadata=metadata)


# ----------------------------------------------------------------------------------------------- actions


def action_index(iv, vaso):
    """Action code ``5 * iv + vaso`` from IV-fluid and vasopressor bins (each in 0..4); arrays broadcast."""
    iv_arr = check_index_array("iv", iv, high=_N_LEVELS, what=f"integer bins in 0..{_N_LEVELS - 1}")
    vaso_arr = check_index_array("vaso", vaso, high=_N_LEVELS, what=f"integer bins in 0..{_N_LEVELS - 1}")
    out = _N_LEVELS * iv_arr + vaso_arr
    return int(out) if out.ndim == 0 else out


def action_levels(action):
    """Inverse of :func:`action_index`: ``(iv, vaso)`` bins of action codes in 0..24."""
    arr = check_index_array("action", action, high=N_ACTIONS, what=f"integer action codes in 0..{N_ACTIONS - 1}")
    iv, vaso = np.divmod(arr, _N_LEVELS)
    return (int(iv), int(vaso)) if arr.ndim == 0 else (iv, vaso)


# ---------------------------------------------------------------------------------------------- policies


def as_policy_matrix(policy, n_states: int = N_STATES, n_actions: int = N_ACTIONS,
                     terminal: np.ndarray | None = None) -> np.ndarray:
    """Return a policy as a ``(n_states, n_actions)`` stochastic matrix.

    Parameters
    ----------
    policy : array_like
        Either deterministic actions, integer shape ``(n_states,)``, or action probabilities, shape
        ``(n_states, n_actions)``.  Rows of terminal states are never used and may be anything
        non-negative (the package's expert policy has zero rows there); they are replaced by uniform rows.
    terminal : ndarray of bool, optional
        Terminal-state mask; defaults to the last three states (death, survival, absorbing).
    """
    n_states, n_actions = _check_sizes(n_states, n_actions)
    if terminal is None:
        terminal = np.zeros(n_states, dtype=bool)
        terminal[-3:] = True
    else:
        terminal = check_mask("terminal", terminal, shape=(n_states,))
    if policy is None:
        raise InvalidInstanceError(f"policy: expected integer actions of shape ({n_states},) or probabilities of "
                                   f"shape ({n_states}, {n_actions}), found None", argument="policy")
    try:
        arr = np.asarray(policy)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"policy: expected an array of actions or probabilities, found "
                                   f"{describe(policy)} ({exc})", argument="policy") from None
    if arr.ndim == 1:
        arr = check_index_array("policy", arr, shape=(n_states,), high=n_actions,
                                what=f"integer actions in 0..{n_actions - 1} (one per state)")
        out = np.zeros((n_states, n_actions))
        out[np.arange(n_states), arr] = 1.0
        return out
    arr = check_array("policy", arr, shape=(n_states, n_actions))
    if arr.size and arr.min() < 0:
        where = tuple(int(i) for i in np.unravel_index(np.argmin(arr), arr.shape))
        raise InvalidInstanceError(f"policy: expected non-negative probabilities (terminal rows too), found "
                                   f"{arr.min():.6g} at index {where}", argument="policy")
    out = np.array(arr, dtype=float, copy=True)
    out[terminal] = 1.0 / n_actions
    check_stochastic("policy", out, axis=-1)
    return out


def _check_sizes(n_states, n_actions) -> tuple[int, int]:
    n_states = check_integer("n_states", n_states, minimum=1)
    n_actions = check_integer("n_actions", n_actions, minimum=1)
    check_allocation("n_states" if n_states >= n_actions else "n_actions", 8.0 * n_states * n_actions * 3,
                     f"an ({n_states}, {n_actions}) policy table")
    return n_states, n_actions


def uniform_policy(n_states: int = N_STATES, n_actions: int = N_ACTIONS) -> np.ndarray:
    """The uniformly random policy, shape ``(n_states, n_actions)``."""
    n_states, n_actions = _check_sizes(n_states, n_actions)
    return np.full((n_states, n_actions), 1.0 / n_actions)


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """Deterministic policy ``argmax_a q[s, a]`` (lowest action on ties), integer shape ``(n_states,)``."""
    q = check_array("q", q, ndim=2)
    return np.argmax(q, axis=1)


def soften_policy(policy, epsilon: float = 0.01, n_actions: int = N_ACTIONS) -> np.ndarray:
    """Mix a policy with the uniform one: ``(1 - epsilon) pi + epsilon / n_actions``.

    Deterministic target policies give zero importance weight to almost every logged trajectory; softening
    (as done in offline sepsis work) makes WIS usable.
    """
    epsilon = float(check_in_range("epsilon", check_nonnegative("epsilon", epsilon), 0.0, 1.0))
    n_actions = check_integer("n_actions", n_actions, minimum=1)
    arr = check_array("policy", policy) if policy is None or np.ndim(policy) != 1 else np.asarray(policy)
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] != n_actions):
        raise InvalidInstanceError(f"policy: expected integer actions (S,) or probabilities (S, n_actions = "
                                   f"{n_actions}), found shape {arr.shape}", argument="policy")
    pi = as_policy_matrix(arr, arr.shape[0], n_actions)
    return (1.0 - epsilon) * pi + epsilon / n_actions


# ----------------------------------------------------------------------------------- exact evaluation


@dataclass(frozen=True, eq=False)
class PolicyEvaluation(tabular_mdp.PolicyEvaluation):
    """Exact value of a policy (a :class:`mechsim.tabular_mdp.PolicyEvaluation` in this module's words).

    Attributes
    ----------
    expected_return : float
        ``J(pi) = d_0 . v`` (survival probability when ``gamma = 1`` and the reward is the package's); also
        ``value``.
    values : ndarray, shape (716,)
        State values ``v(s)`` (zero on terminal states); also ``state_values``.
    q_values : ndarray, shape (716, 25)
        ``q(s, a) = r(s, a) + gamma sum_s' P(s'|s,a) v(s')`` (zero rows on terminal states).
    """

    @property
    def expected_return(self) -> float:
        """``J(pi) = d_0 . v``."""
        return self.value

    @property
    def values(self) -> np.ndarray:
        """State values ``v(s)``, shape (716,)."""
        return self.state_values


def _check_mdp(mdp) -> SepsisMDP:
    if not isinstance(mdp, SepsisMDP):
        raise InvalidInstanceError(f"mdp: expected a SepsisMDP (see load_icu_sepsis), found {describe(mdp)}",
                                   argument="mdp")
    return mdp


def _reward_table(mdp: SepsisMDP, reward) -> np.ndarray:
    if reward is None:
        return np.asarray(mdp.reward)
    return check_array("reward", reward, shape=(mdp.n_states, mdp.n_actions))


def _check_gamma(gamma) -> float:
    gamma = float(check_nonnegative("gamma", gamma))
    check_in_range("gamma", gamma, 0.0, 1.0)
    return gamma


def evaluate_policy(mdp: SepsisMDP, policy, *, gamma: float = 1.0, horizon: int | None = None,
                    reward=None) -> PolicyEvaluation:
    """Exact expected return of ``policy`` from ``d_0`` (linear solve, or backward induction over ``horizon``).

    Parameters
    ----------
    mdp : SepsisMDP
    policy : array_like
        Deterministic actions ``(716,)`` or probabilities ``(716, 25)`` (see :func:`as_policy_matrix`).
    gamma : float, default 1.0
        Discount factor in [0, 1].
    horizon : int, optional
        Finite horizon; ``None`` solves the infinite-horizon (episodic) system exactly.
    reward : ndarray, shape (716, 25), optional
        Expected reward table replacing the survival reward.

    Raises
    ------
    SolverError
        If ``gamma = 1`` and the policy can cycle among patient states forever (singular system).
    """
    mdp = _check_mdp(mdp)
    gamma = _check_gamma(gamma)
    pi = as_policy_matrix(policy, mdp.n_states, mdp.n_actions, mdp.terminal)
    r = _reward_table(mdp, reward)
    if horizon is not None:
        horizon = check_integer("horizon", horizon, minimum=0)
    result = tabular_mdp.evaluate_policy(mdp._tx_flat, pi, r, gamma, initial=mdp.d_0, terminal=mdp.terminal,
                                         horizon=horizon, check=True)
    return PolicyEvaluation.from_result(result)


@dataclass(frozen=True, eq=False)
class OptimalControl(tabular_mdp.PlanningResult):
    """Optimal values and a greedy optimal policy (a :class:`mechsim.tabular_mdp.PlanningResult`).

    Attributes
    ----------
    q_values : ndarray, shape (716, 25)
    values : ndarray, shape (716,)
        Also ``state_values``.
    policy : ndarray of int, shape (716,)
    expected_return : float
        ``d_0 . values``; also ``value``.
    n_iterations : int
        Sweeps (value iteration) or improvement steps (policy iteration).
    """

    @property
    def values(self) -> np.ndarray:
        """Optimal state values, shape (716,)."""
        return self.state_values

    @property
    def expected_return(self) -> float:
        """``d_0 . values``."""
        return self.value


def value_iteration(mdp: SepsisMDP, *, gamma: float = 1.0, reward=None, tol: float = 1e-10,
                    max_iter: int = 100_000, actions_mask=None) -> OptimalControl:
    """Optimal ``Q*`` by value iteration ``V <- max_a [r + gamma P V]`` until the sup-norm change is < ``tol``.

    With ``gamma = 1`` the Bellman equation can have spurious fixed points when some action keeps the
    patient in place with probability one; ICU-Sepsis has none (it converges to the policy-iteration
    optimum), but for general models use ``gamma < 1`` or :func:`policy_iteration`.

    Parameters
    ----------
    actions_mask : ndarray of bool, shape (716, 25), optional
        Restricts the maximisation to allowed actions (every patient state needs one).

    Raises
    ------
    SolverError
        If ``max_iter`` sweeps do not reach ``tol`` (status ``"max_iter"``).
    """
    mdp = _check_mdp(mdp)
    gamma = _check_gamma(gamma)
    r = _reward_table(mdp, reward)
    tol = check_positive("tol", tol)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    result = tabular_mdp.value_iteration(mdp._tx_flat, r, gamma, terminal=mdp.terminal,
                                         allowed=_allowed(mdp, actions_mask), initial=mdp.d_0, tol=tol,
                                         max_iter=max_iter)
    return OptimalControl.from_result(result)


def policy_iteration(mdp: SepsisMDP, *, gamma: float = 1.0, reward=None, initial_policy=None,
                     max_iter: int = 1000, actions_mask=None, atol: float = 1e-12) -> OptimalControl:
    """Optimal policy by Howard's policy iteration (exact evaluation, greedy improvement).

    An action is switched only when it improves ``q`` by more than ``atol`` so that ties cannot make the
    iteration cycle.  With ``gamma = 1`` the initial policy must be proper (the default, the action of
    largest expert probability, is).
    """
    mdp = _check_mdp(mdp)
    gamma = _check_gamma(gamma)
    r = _reward_table(mdp, reward)
    allowed = _allowed(mdp, actions_mask)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    atol = check_nonnegative("atol", atol)
    if initial_policy is None:
        start = mdp.expert_policy + 1e-9
        policy = np.argmax(start if allowed is None else np.where(allowed, start, -np.inf), axis=1)
    else:
        policy = np.array(check_index_array("initial_policy", initial_policy, shape=(mdp.n_states,),
                                            high=mdp.n_actions, what="integer actions (one per state)"))
    result = tabular_mdp.policy_iteration(mdp._tx_flat, r, gamma, initial_policy=policy, terminal=mdp.terminal,
                                          allowed=allowed, initial=mdp.d_0, atol=atol, max_iter=max_iter,
                                          check=True)
    return OptimalControl.from_result(result)


def _allowed(mdp: SepsisMDP, actions_mask) -> np.ndarray | None:
    if actions_mask is None:
        return None
    mask = check_mask("actions_mask", actions_mask, shape=(mdp.n_states, mdp.n_actions))
    empty = ~mask.any(axis=1) & ~mdp.terminal
    if empty.any():
        raise InvalidInstanceError(f"actions_mask: expected at least one allowed action in every patient state, "
                           f"found none in state {int(np.argmax(empty))}", argument="actions_mask")
    return mask


# ------------------------------------------------------------------------------- sampling and WIS


@dataclass(frozen=True)
class Trajectories:
    """A batch of episodes, padded to the longest.

    Attributes
    ----------
    states : ndarray of int, shape (n, T + 1)
        ``states[i, t]`` for ``t <= lengths[i]`` (the last one terminal unless truncated); padding is -1.
    actions : ndarray of int, shape (n, T)
        Padding is -1.
    rewards : ndarray, shape (n, T)
        Padding is 0.
    lengths : ndarray of int, shape (n,)
        Number of decisions in each episode.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    lengths: np.ndarray

    def returns(self, gamma: float = 1.0) -> np.ndarray:
        """Discounted return of each episode, shape (n,)."""
        gamma = _check_gamma(gamma)
        disc = gamma ** np.arange(self.rewards.shape[1])
        return self.rewards @ disc


def _sample_rows(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of a row-stochastic matrix (inverse CDF, vectorised)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cdf[:, -1]
    return np.minimum((cdf <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def sample_trajectories(mdp: SepsisMDP, policy, n_episodes: int, *, seed=None,
                        max_steps: int = 500) -> Trajectories:
    """Sample ``n_episodes`` episodes from ``d_0`` under ``policy`` until death/survival or ``max_steps``."""
    mdp = _check_mdp(mdp)
    n_episodes = check_integer("n_episodes", n_episodes, minimum=1)
    max_steps = check_integer("max_steps", max_steps, minimum=1)
    check_allocation("n_episodes" if n_episodes >= max_steps else "max_steps", 8.0 * 3 * n_episodes * (max_steps + 1),
                     f"{n_episodes} episodes of up to {max_steps} steps")
    rng = as_generator(seed)
    pi = as_policy_matrix(policy, mdp.n_states, mdp.n_actions, mdp.terminal)
    states = np.full((n_episodes, max_steps + 1), -1, dtype=np.int64)
    actions = np.full((n_episodes, max_steps), -1, dtype=np.int64)
    rewards = np.zeros((n_episodes, max_steps))
    lengths = np.zeros(n_episodes, dtype=np.int64)
    current = rng.choice(mdp.n_states, size=n_episodes, p=mdp.d_0)
    states[:, 0] = current
    alive = ~mdp.terminal[current]
    t = 0
    while alive.any() and t < max_steps:
        idx = np.flatnonzero(alive)
        s = current[idx]
        a = _sample_rows(pi[s], rng)
        nxt = _sample_rows(mdp.tx_mat[s, a], rng)
        actions[idx, t] = a
        rewards[idx, t] = mdp.r_mat[s, a, nxt]
        states[idx, t + 1] = nxt
        current[idx] = nxt
        lengths[idx] += 1
        alive[idx] = ~mdp.terminal[nxt]
        t += 1
    width = max(int(lengths.max()), 1)
    return Trajectories(states[:, :width + 1], actions[:, :width], rewards[:, :width], lengths)


def behaviour_cloning(trajectories: Trajectories, n_states: int = N_STATES, n_actions: int = N_ACTIONS,
                      *, prior: float = 0.0) -> np.ndarray:
    """Tabular behaviour cloning: empirical action frequencies per state (plus ``prior`` pseudo-counts).

    States never visited get the uniform policy.  Returns a ``(n_states, n_actions)`` stochastic matrix.
    """
    _check_trajectories(trajectories)
    n_states, n_actions = _check_sizes(n_states, n_actions)
    prior = check_nonnegative("prior", prior)
    if trajectories.states.max(initial=0) >= n_states or trajectories.actions.max(initial=0) >= n_actions:
        raise InvalidInstanceError(f"n_states: expected n_states and n_actions covering the logged states and "
                                   f"actions, found ({n_states}, {n_actions})", argument="n_states")
    counts = np.full((n_states, n_actions), prior)
    valid = trajectories.actions >= 0
    np.add.at(counts, (trajectories.states[:, :-1][valid], trajectories.actions[valid]), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    return np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 1.0 / n_actions)


def _check_trajectories(trajectories) -> "Trajectories":
    if not isinstance(trajectories, Trajectories):
        raise InvalidInstanceError(f"trajectories: expected Trajectories (see sample_trajectories), found "
                                   f"{describe(trajectories)}", argument="trajectories")
    return trajectories


@dataclass(frozen=True)
class WISEstimate:
    """Weighted importance-sampling estimate.

    Attributes
    ----------
    value : float
        ``sum_i rho_i G_i / sum_i rho_i``.
    effective_sample_size : float
        ``(sum rho)^2 / sum rho^2``.
    n_episodes : int
    n_nonzero : int
        Episodes with a positive weight.
    """

    value: float
    effective_sample_size: float
    n_episodes: int
    n_nonzero: int


def wis_estimate(trajectories: Trajectories, target_policy, behaviour_policy, *,
                 gamma: float = 1.0) -> WISEstimate:
    """Weighted importance-sampling estimate of the target policy's return from behaviour data.

    Parameters
    ----------
    trajectories : Trajectories
        Episodes logged under the behaviour policy.
    target_policy, behaviour_policy : ndarray, shape (n_states, n_actions)
        Action probabilities (deterministic targets should be softened, see :func:`soften_policy`).

    Raises
    ------
    mechsim.errors.MechsimError
        If the behaviour policy gives probability zero to a logged action, or every weight is zero.
    """
    _check_trajectories(trajectories)
    gamma = _check_gamma(gamma)
    target = check_array("target_policy", target_policy, ndim=2)
    behaviour = check_array("behaviour_policy", behaviour_policy, ndim=2)
    if behaviour.shape != target.shape:
        raise InvalidInstanceError(f"behaviour_policy: expected the shape of target_policy {target.shape}, found "
                                   f"{behaviour.shape}", argument="behaviour_policy")
    check_in_range("target_policy", target, 0.0, 1.0)
    check_in_range("behaviour_policy", behaviour, 0.0, 1.0)
    if trajectories.states.max(initial=0) >= target.shape[0] or trajectories.actions.max(initial=0) >= target.shape[1]:
        raise InvalidInstanceError(f"target_policy: expected shape covering the logged states and actions, found "
                                   f"{target.shape}", argument="target_policy")
    valid = trajectories.actions >= 0
    s = np.where(valid, trajectories.states[:, :-1], 0)
    a = np.where(valid, trajectories.actions, 0)
    b = behaviour[s, a]
    if np.any(valid & (b <= 0)):
        raise InvalidInstanceError("behaviour_policy: expected positive probability for every logged action, found a "
                                   "logged action with probability 0", argument="behaviour_policy")
    log_ratio = np.where(valid, np.log(np.maximum(target[s, a], 1e-300)) - np.log(np.where(valid, b, 1.0)), 0.0)
    zero = np.any(valid & (target[s, a] <= 0), axis=1)
    log_w = log_ratio.sum(axis=1)
    # Rescale in log space so that long episodes do not overflow; WIS is invariant to a common factor.
    w = np.where(zero, 0.0, np.exp(log_w - np.max(np.where(zero, -np.inf, log_w)))) if (~zero).any() \
        else np.zeros(len(log_w))
    total = w.sum()
    if total <= 0:
        raise MechsimError("target_policy: every logged episode has importance weight 0 (the target never takes "
                           "the logged actions); soften the target policy")
    g = trajectories.returns(gamma)
    return WISEstimate(float(w @ g / total), float(total ** 2 / (w @ w)), len(w), int((w > 0).sum()))


# -------------------------------------------------------------------------------- observations


def noisy_features(mdp: SepsisMDP, states, sigma: float = 0.3, *, seed=None) -> np.ndarray:
    """The 44 centroid features of ``states`` plus independent ``N(0, sigma^2)`` noise, shape (n, 44)."""
    mdp = _check_mdp(mdp)
    sigma = check_nonnegative("sigma", sigma)
    states = check_index_array("states", states, ndim=1, high=mdp.n_states, what="state indices")
    rng = as_generator(seed)
    base = mdp.features[states]
    return base + sigma * rng.standard_normal(base.shape) if sigma > 0 else np.array(base, copy=True)


def state_occupancy(mdp: SepsisMDP, policy, *, gamma: float = 1.0) -> np.ndarray:
    """Expected (discounted) number of visits to each state from ``d_0``: ``d_0[T] (I - gamma P_pi[T,T])^-1``.

    Zero on terminal states; sums to the expected episode length when ``gamma = 1``.
    """
    mdp = _check_mdp(mdp)
    gamma = _check_gamma(gamma)
    pi = as_policy_matrix(policy, mdp.n_states, mdp.n_actions, mdp.terminal)
    return tabular_mdp.state_occupancy(mdp._tx_flat, pi, mdp.d_0, gamma, terminal=mdp.terminal)


def baseline_actions(mdp: SepsisMDP) -> np.ndarray:
    """The clinician's most probable action in every state (lowest action on ties; 0 on terminal states)."""
    mdp = _check_mdp(mdp)
    return np.argmax(mdp.expert_policy, axis=1)


def clinician_preferences(mdp: SepsisMDP, n_episodes: int, *, sigma: float = 0.3, n_repeats: int = 1,
                          seed=None):
    """The paper's judge data: the clinician's logged action beats a uniformly random other action.

    Clinician episodes are sampled on the true dynamics; every logged (state, action) becomes a triple
    ``(noisy features of the state, clinician action, random other action)`` with the state's 44 centroid
    features observed through ``N(0, sigma^2)`` noise (without noise the 713 centroids are memorisable).

    Returns
    -------
    mechsim.debate.preferences.PreferenceData
        ``states`` holds the MDP state of each triple.
    """
    from mechsim.debate.preferences import behaviour_preferences

    mdp = _check_mdp(mdp)
    n_repeats = check_integer("n_repeats", n_repeats, minimum=1)
    sigma = check_nonnegative("sigma", sigma)
    rng = as_generator(seed)
    traj = sample_trajectories(mdp, mdp.expert_policy, n_episodes, seed=rng)
    valid = traj.actions >= 0
    states = traj.states[:, :-1][valid]
    actions = traj.actions[valid]
    check_allocation("n_repeats", 8.0 * states.size * n_repeats * (len(SEPSIS_FEATURES) + 8),
                     f"{states.size} x {n_repeats} preference triples")
    states = np.tile(states, n_repeats)
    actions = np.tile(actions, n_repeats)
    x = noisy_features(mdp, states, sigma, seed=rng)
    data = behaviour_preferences(x, actions, mdp.n_actions, seed=rng)
    return type(data)(data.features, data.winners, data.losers, states[data.states])


def train_sepsis_judge(mdp: SepsisMDP, n_evidence: int, *, ideal: bool = False, n_episodes: int = 2000,
                       sigma: float = 0.3, hidden: tuple[int, ...] = (32,), epochs: int = 10,
                       learning_rate: float = 3e-3, seed=None):
    """A Bradley–Terry judge trained on :func:`clinician_preferences` with random evidence masks of size L.

    ``ideal=True`` gives the paper's ideal judge (trained and queried on the full state).  Returns the
    fitted :class:`mechsim.debate.judges.BradleyTerryJudge`; its ``history`` holds the training losses.
    """
    from mechsim.debate.judges import BradleyTerryJudge

    mdp = _check_mdp(mdp)
    rng = as_generator(seed)
    data = clinician_preferences(mdp, n_episodes, sigma=sigma, seed=rng)
    judge = BradleyTerryJudge(len(SEPSIS_FEATURES), mdp.n_actions, n_evidence=None if ideal else n_evidence,
                              hidden=hidden, ideal=ideal, seed=rng)
    return judge.fit(*data.as_tuple(), epochs=epochs, learning_rate=learning_rate, seed=rng)
