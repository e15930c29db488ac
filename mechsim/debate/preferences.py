r"""Preference generators: synthetic "decision :math:`a_w` is better than :math:`a_l` in state x" data.

Each generator returns a :class:`PreferenceData` of triples :math:`(x_i, a_{w,i}, a_{l,i})` on which a
Bradley–Terry judge (:mod:`mechsim.debate.judges`) is trained.  They are generic over feature matrices
(``(n_states, F)``); the clinical data come from elsewhere (e.g. :mod:`mechsim.debate.icu_sepsis`).

- :func:`behaviour_preferences` — the paper's rule: the logged (behaviour, e.g. clinician) action beats a
  uniformly random *other* action, :math:`a_l \sim \mathcal U(\{0..D-1\} \setminus \{a_b\})`.
- :func:`value_oracle_preferences` — from a Q table: for a uniformly random pair :math:`a_1 \ne a_2`,
  :math:`P(a_1 \succ a_2 \mid s) = \sigma\bigl(\beta\,(Q(s,a_1) - Q(s,a_2))\bigr)`
  (:math:`\beta = \infty` gives the deterministic better action; exact ties are then broken by a coin).
- :class:`GuidelineRule` — a sparse guideline: a utility :math:`u(x, a) = \sum_{f \in R} w_{a f} x_f + b_a`
  that depends on a known subset :math:`R` of (named) features only, with preferences drawn as for the value
  oracle with :math:`Q = u`.  Because :math:`R` is known, :func:`evidence_precision_recall` can score
  whether debaters reveal the truly relevant features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mechsim.debate._checks import check_index_array, check_mask, describe
from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator, check_allocation, check_array, check_integer, check_nonnegative

__all__ = [
    "PreferenceData",
    "behaviour_preferences",
    "value_oracle_preferences",
    "GuidelineRule",
    "evidence_precision_recall",
]


@dataclass(frozen=True)
class PreferenceData:
    """Preference triples: ``features[i]`` with ``winners[i]`` preferred to ``losers[i]``.

    Attributes
    ----------
    features : ndarray, shape (n, F)
    winners, losers : ndarray of int, shape (n,)
    states : ndarray of int, shape (n,)
        Row of the source feature matrix (or state index) each triple was drawn from.
    """

    features: np.ndarray
    winners: np.ndarray
    losers: np.ndarray
    states: np.ndarray

    def __post_init__(self):
        f = check_array("features", self.features, ndim=2)
        n = f.shape[0]
        for name in ("winners", "losers", "states"):
            a = check_index_array(name, getattr(self, name), shape=(n,), what="integers (one per row of features)")
            object.__setattr__(self, name, a)
        if n and np.any(self.winners == self.losers):
            raise InvalidInstanceError("losers: expected every loser to differ from its winner", argument="losers")
        object.__setattr__(self, "features", f)

    def __len__(self) -> int:
        return self.features.shape[0]

    def split(self, fraction: float, seed=None) -> tuple["PreferenceData", "PreferenceData"]:
        """Random split into (first ``fraction`` of the triples, the rest)."""
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating, np.integer)) \
                or not 0.0 < fraction < 1.0:
            raise InvalidInstanceError(f"fraction: expected a number in (0, 1), found {fraction!r}",
                                       argument="fraction")
        perm = as_generator(seed).permutation(len(self))
        cut = int(round(fraction * len(self)))
        first, rest = (PreferenceData(self.features[idx], self.winners[idx], self.losers[idx], self.states[idx])
                       for idx in (perm[:cut], perm[cut:]))
        return first, rest

    def as_tuple(self):
        """``(features, winners, losers)``, the argument order of ``BradleyTerryJudge.fit``."""
        return self.features, self.winners, self.losers


def _random_other(rng, actions, n_decisions):
    """Uniform action different from ``actions`` (vectorised)."""
    other = rng.integers(0, n_decisions - 1, size=actions.shape)
    return other + (other >= actions)


def behaviour_preferences(features, behaviour_actions, n_decisions: int, *, n_repeats: int = 1,
                          seed=None) -> PreferenceData:
    """The logged action beats a uniformly random other action.

    Parameters
    ----------
    features : array_like, shape (n, F)
        States (e.g. observed patient features).
    behaviour_actions : array_like of int, shape (n,)
        The action taken in each state (e.g. the clinician's).
    n_decisions : int
        D >= 2.
    n_repeats : int
        Number of random losers drawn per state.
    seed : int or Generator
    """
    features = check_array("features", features, ndim=2)
    n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
    n_repeats = check_integer("n_repeats", n_repeats, minimum=1)
    acts = check_index_array("behaviour_actions", behaviour_actions, shape=(features.shape[0],), high=n_decisions,
                             what="integer actions (one per row of features)")
    check_allocation("n_repeats", 8.0 * features.shape[0] * n_repeats * (features.shape[1] + 4),
                     f"{features.shape[0]} x {n_repeats} preference triples")
    rng = as_generator(seed)
    states = np.tile(np.arange(features.shape[0]), n_repeats)
    winners = acts[states].astype(np.int64)
    losers = _random_other(rng, winners, n_decisions)
    return PreferenceData(features[states], winners, losers, states)


def _pairs_from_utilities(rng, utilities, beta):
    n, D = utilities.shape
    a1 = rng.integers(0, D, size=n)
    a2 = _random_other(rng, a1, D)
    diff = utilities[np.arange(n), a1] - utilities[np.arange(n), a2]
    if np.isinf(beta):
        p = np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
    else:
        p = 0.5 * (1.0 + np.tanh(0.5 * beta * diff))  # = sigmoid(beta * diff), overflow-free
    first_wins = rng.random(n) < p
    return np.where(first_wins, a1, a2), np.where(first_wins, a2, a1)


def value_oracle_preferences(features, q_values, n_pairs: int, *, beta: float = np.inf, state_weights=None,
                             seed=None) -> PreferenceData:
    r"""Preferences from a value oracle :math:`P(a_1 \succ a_2 | s) = \sigma(\beta (Q(s,a_1) - Q(s,a_2)))`.

    Parameters
    ----------
    features : array_like, shape (S, F)
        Feature vector of each state.
    q_values : array_like, shape (S, D)
        Q(s, a) (e.g. Q* from value iteration on the true model).
    n_pairs : int
        Number of triples; states are drawn from ``state_weights`` (uniform by default), the pair uniformly
        among distinct decisions.
    beta : float
        Inverse temperature (``inf``: the higher-Q action always wins; exact ties by a fair coin).
    state_weights : array_like, shape (S,), optional
        Sampling distribution over states (normalised here; must be non-negative with positive sum).
    seed : int or Generator
    """
    features = check_array("features", features, ndim=2)
    S = features.shape[0]
    q = check_array("q_values", q_values, ndim=2)
    if q.shape[0] != S:
        raise InvalidInstanceError(f"q_values: expected one row per row of features ({S}), found shape {q.shape}",
                                   argument="q_values")
    if q.shape[1] < 2:
        raise InvalidInstanceError(f"q_values: expected at least 2 decisions, found {q.shape[1]}",
                                   argument="q_values")
    n_pairs = check_integer("n_pairs", n_pairs, minimum=0)
    check_allocation("n_pairs", 8.0 * n_pairs * (features.shape[1] + q.shape[1] + 8),
                     f"{n_pairs} preference triples")
    beta = float(beta) if isinstance(beta, (int, float, np.number)) and not isinstance(beta, bool) \
        and np.isinf(beta) and beta > 0 else check_nonnegative("beta", beta)
    if S == 0 and n_pairs:
        raise InvalidInstanceError(f"features: expected at least one state to draw {n_pairs} pairs from, found 0 rows",
                                   argument="features")
    rng = as_generator(seed)
    if state_weights is None:
        states = rng.integers(0, S, size=n_pairs)
    else:
        w = check_array("state_weights", state_weights, shape=(S,))
        if w.min() < 0 or w.sum() <= 0:
            raise InvalidInstanceError("state_weights: expected non-negative weights with a positive sum",
                                       argument="state_weights")
        states = rng.choice(S, size=n_pairs, p=w / w.sum())
    winners, losers = _pairs_from_utilities(rng, q[states], beta)
    return PreferenceData(features[states], winners, losers, states)


@dataclass(frozen=True)
class GuidelineRule:
    r"""A sparse linear guideline :math:`u(x, a) = \sum_f w_{a f} x_f + b_a` over named features.

    Parameters
    ----------
    feature_names : sequence of str, length F
    weights : array_like, shape (D, F)
        Zero outside the relevant features.
    bias : array_like, shape (D,), optional

    Attributes
    ----------
    relevant : ndarray of bool, shape (F,)
        Features with a non-zero weight for some decision: the only ones the rule looks at.
    """

    feature_names: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray | None = None

    def __post_init__(self):
        if isinstance(self.feature_names, (str, bytes)) or not isinstance(self.feature_names, Sequence) \
                or not all(isinstance(n, str) for n in self.feature_names):
            raise InvalidInstanceError(f"feature_names: expected a sequence of strings, found "
                                       f"{describe(self.feature_names)}", argument="feature_names")
        names = tuple(self.feature_names)
        if len(set(names)) != len(names):
            raise InvalidInstanceError("feature_names: expected distinct names, found duplicates",
                                       argument="feature_names")
        w = check_array("weights", self.weights, ndim=2, shape=(None, len(names)))
        if w.shape[0] < 2:
            raise InvalidInstanceError(f"weights: expected at least 2 decisions (rows), found {w.shape[0]}",
                                       argument="weights")
        b = np.zeros(w.shape[0]) if self.bias is None else check_array("bias", self.bias, shape=(w.shape[0],))
        object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "bias", np.asarray(b, dtype=float))

    @classmethod
    def from_terms(cls, feature_names: Sequence[str], n_decisions: int,
                   terms: Mapping[str, Sequence[float]], bias=None) -> "GuidelineRule":
        """Build from ``{feature name: per-decision weights (length D)}``; other features get weight 0."""
        if isinstance(feature_names, (str, bytes)) or not isinstance(feature_names, Sequence):
            raise InvalidInstanceError(f"feature_names: expected a sequence of strings, found "
                                       f"{describe(feature_names)}", argument="feature_names")
        names = tuple(feature_names)
        n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
        if not isinstance(terms, Mapping):
            raise InvalidInstanceError(f"terms: expected a mapping of feature name to per-decision weights, found "
                                       f"{describe(terms)}", argument="terms")
        check_allocation("n_decisions", 8.0 * n_decisions * len(names), f"a ({n_decisions}, {len(names)}) weight table")
        w = np.zeros((n_decisions, len(names)))
        for name, coef in terms.items():
            if name not in names:
                raise InvalidInstanceError(f"terms: expected feature names from feature_names, found {name!r}",
                                           argument="terms")
            w[:, names.index(name)] = check_array(f"terms[{name!r}]", coef, shape=(n_decisions,))
        return cls(names, w, bias)

    @property
    def n_decisions(self) -> int:
        return self.weights.shape[0]

    @property
    def relevant(self) -> np.ndarray:
        return np.any(self.weights != 0, axis=0)

    @property
    def relevant_names(self) -> tuple[str, ...]:
        return tuple(n for n, r in zip(self.feature_names, self.relevant) if r)

    def utilities(self, features) -> np.ndarray:
        """``(n, D)`` utilities of every decision."""
        features = check_array("features", features, ndim=2, shape=(None, len(self.feature_names)))
        return features @ self.weights.T + self.bias

    def best_decisions(self, features) -> np.ndarray:
        """The guideline's recommended decision per state (lowest index on ties)."""
        return np.argmax(self.utilities(features), axis=1)

    def preferences(self, features, n_pairs: int, *, beta: float = np.inf, seed=None) -> PreferenceData:
        """Preference triples on rows of ``features`` drawn uniformly (see :func:`value_oracle_preferences`)."""
        return value_oracle_preferences(features, self.utilities(features), n_pairs, beta=beta, seed=seed)


def evidence_precision_recall(evidence_masks, relevant) -> tuple[float, float]:
    """Mean precision and recall of revealed evidence against the truly relevant features.

    Parameters
    ----------
    evidence_masks : array_like of bool, shape (n, F)
    relevant : array_like of bool, shape (F,)

    Returns
    -------
    (precision, recall) : tuple of float
        Precision = |revealed ∩ relevant| / |revealed| (rows revealing nothing are skipped; at least one
        row must reveal something), recall = |revealed ∩ relevant| / |relevant|, each averaged over rows.
    """
    m = check_mask("evidence_masks", evidence_masks, ndim=2)
    r = check_mask("relevant", relevant)
    if r.shape != (m.shape[1],):
        raise InvalidInstanceError(f"relevant: expected shape ({m.shape[1]},) matching evidence_masks of shape "
                                   f"(n, F), found {r.shape} and {m.shape}", argument="relevant")
    if not r.any():
        raise InvalidInstanceError("relevant: expected at least one relevant feature", argument="relevant")
    hits = (m & r).sum(axis=1)
    sizes = m.sum(axis=1)
    if not np.any(sizes > 0):
        raise InvalidInstanceError("evidence_masks: expected at least one row with revealed evidence, found none",
                                   argument="evidence_masks")
    precision = float(np.mean(hits[sizes > 0] / sizes[sizes > 0]))
    recall = float(np.mean(hits / r.sum()))
    return precision, recall
