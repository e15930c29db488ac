r"""Debaters: policies over "which feature to reveal next", their training, and robustness measurement.

The game is the evidence-revealing debate of Sukovic & Radanovic ("Reward Design for Justifiable Sequential
Decision-Making", ICLR 2024), solved exactly in :mod:`mechsim.solvers.debate`; this module (layer 3,
:mod:`mechsim.learners`) holds the debaters that play it, learn it and are measured against the exact
solution.  A debater arguing decision :math:`a_{own}` against :math:`a_{other}` in state :math:`x`, with revealed set
:math:`R`, reveals :math:`f \notin R` with probability :math:`\pi(f \mid x, R, a_{own}, a_{other})`.  Every
debater here implements

``batch_probabilities(features (n,F), revealed (n,F) bool, own (n,), other (n,)) -> (n,F)``

and, through :class:`BaseDebater`, ``probabilities(features (F,), revealed (n,F), own, other)`` — the policy
format accepted by :func:`mechsim.solvers.debate.best_response` and ``policy_value``.

- :class:`RandomDebater`: uniform over unrevealed features.
- :class:`GreedyDebater`: maximises the judge margin :math:`J(a_{own}|x_{R\cup f}) - J(a_{other}|x_{R \cup f})`
  one reveal ahead.
- :class:`BeamDebater`: depth-limited minimax over the alternating game that expands only the ``width``
  best reveals (by the greedy margin) at every ply; with ``width >= F`` and no depth limit it is exact.
- :class:`IsolatedDebater`: the paper's *isolated* agent, made exact: it reveals the next feature of the
  best set of L features it could reveal alone (:func:`mechsim.solvers.debate.isolated_plan`), ignoring
  that an opponent will reveal half of them.
- :class:`PolicyGradientDebater`: a learned softmax policy with logits
  :math:`z_f = \theta^0_{a f} + \theta^1_{a f} x_f + \theta^2 g_f` (:math:`a = a_{own}`; :math:`g_f` the
  greedy margin gain standardised over the candidates, when a judge is given), trained by REINFORCE with a
  batch-mean baseline and Adam (:class:`mechsim.optim.Adam`) in :func:`train_debater`: ``"isolated"``
  (reveals all L alone), ``"self_play"`` (against a periodically frozen copy of itself), ``"maxmin"``
  (alternately trains a confuser arguing the wrong decision against the argumentator and the argumentator
  against the confuser).

Play: :func:`play_debates` samples debates between any two debaters; :func:`greedy_debate_values` is the
outcome of two greedy debaters for each first mover (the heuristic stand-in for the exact value where
:math:`\binom{F}{L}` is too large).

Robustness (:func:`measure_robustness`): for states with a correct decision :math:`a^+` and a wrong one
:math:`a^-`, the judge's accuracy :math:`(1 + E[u])/2` (a tie counts 1/2) when the debater reveals all L
features for :math:`a^+` alone, and when it reveals its half against the *exact best-response confuser*
arguing :math:`a^-` (random first mover).  Everything is computed exactly (expectations over the debater's
randomness and both first movers), not by sampling.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from mechsim.debate._checks import (
    check_flag,
    check_index,
    check_index_array,
    check_judge,
    check_judge_size,
    check_mask,
    describe,
)
from mechsim.debate.judges import BradleyTerryJudge, margins_after_reveal
from mechsim.errors import InvalidInstanceError
from mechsim.optim import Adam
from mechsim.solvers.debate import best_response, isolated_plan, policy_value, solve_debate
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_finite,
    check_integer,
    check_positive,
)

__all__ = [
    "BaseDebater",
    "RandomDebater",
    "GreedyDebater",
    "BeamDebater",
    "IsolatedDebater",
    "PolicyGradientDebater",
    "ArguingFor",
    "TrainingResult",
    "train_debater",
    "DebateRecords",
    "play_debates",
    "greedy_debate_values",
    "RobustnessReport",
    "measure_robustness",
]


def _batch_margins_after(judge, features, revealed, own, other) -> np.ndarray:
    """``(n, F)`` judge margin J(own) - J(other) after additionally revealing each feature (-inf if revealed)."""
    n, F = revealed.shape
    if (type(judge) is BradleyTerryJudge and not judge.ideal and len(judge.hidden) == 1
            and judge.n_features == F and n > 1 and not np.all(features == features[0])):
        # Many states (e.g. a whole debate table): the judge's additive first layer scores all candidates.
        return margins_after_reveal(judge, features, revealed, own, other)
    cand = np.repeat(revealed[:, None, :], F, axis=1)
    idx = np.arange(F)
    cand[:, idx, idx] = True
    cand = cand.reshape(n * F, F)
    fast = getattr(judge, "score_masks", None)
    if (callable(fast) and n and np.all(own == own[0]) and np.all(other == other[0])
            and np.all(features == features[0])):
        # One state and one decision pair (e.g. an exact solver querying every revealed set): the judge's
        # one-state fast path scores each *distinct* candidate set once (sets R ∪ {f} repeat across R).
        valid = (~revealed).reshape(n * F)  # row (i, f) is a real candidate iff f is not revealed in row i
        cand_valid = cand[valid]
        packed = np.ascontiguousarray(np.packbits(cand_valid, axis=1))
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        distinct = cand_valid[first]
        s = np.asarray(fast(features[0], distinct, np.array([own[0], other[0]], dtype=np.int64)), dtype=float)
        out = np.full(n * F, -np.inf)
        out[valid] = (s[:, 0] - s[:, 1])[inverse.ravel()]
        return out.reshape(n, F)
    x = np.repeat(features, F, axis=0)
    d_own = np.repeat(own, F)
    d_other = np.repeat(other, F)
    s = np.asarray(judge.score(np.concatenate([x, x]), np.concatenate([cand, cand]),
                               np.concatenate([d_own, d_other])), dtype=float)
    margins = (s[:n * F] - s[n * F:]).reshape(n, F)
    return np.where(revealed, -np.inf, margins)


def _real(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInstanceError(f"{name}: expected a real number, found {describe(value)}", argument=name)
    return float(value)


def _one_hot_argmax(values) -> np.ndarray:
    out = np.zeros(values.shape)
    out[np.arange(values.shape[0]), np.argmax(values, axis=1)] = 1.0
    return out


class BaseDebater:
    """Provides the single-state policy format and sampling on top of ``batch_probabilities``."""

    def batch_probabilities(self, features, revealed, own, other) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _check_query(self, features, revealed, own_decision, other_decision):
        """Validated ``(F,)`` state, ``(n, F)`` revealed sets (none complete) and the two decisions."""
        x = check_array("features", features, ndim=1)
        nf = getattr(self, "n_features", None)
        if isinstance(nf, int) and x.shape[0] != nf:
            raise InvalidInstanceError(f"features: expected {nf} features (the debater's n_features), found "
                                       f"{x.shape[0]}", argument="features")
        judge = getattr(self, "judge", None)
        if judge is not None:
            check_judge_size(judge, x.shape[0])
        revealed = check_mask("revealed", revealed)
        if revealed.ndim not in (1, 2) or revealed.shape[-1] != x.shape[0]:
            raise InvalidInstanceError(f"revealed: expected a boolean array of shape (n, {x.shape[0]}) (one row per "
                                       f"revealed set of features), found shape {revealed.shape}", argument="revealed")
        revealed = np.atleast_2d(revealed)
        if revealed.size and revealed.all(axis=1).any():
            raise InvalidInstanceError("revealed: expected sets with at least one unrevealed feature, found a row "
                                       "revealing every feature", argument="revealed")
        nd = getattr(self, "n_decisions", None)
        if not isinstance(nd, int):
            nd = getattr(judge, "n_decisions", None)
        high = nd - 1 if isinstance(nd, int) else None
        own = check_index("own_decision", own_decision, maximum=high)
        other = check_index("other_decision", other_decision, maximum=high)
        return x, revealed, own, other

    def probabilities(self, features, revealed, own_decision, other_decision) -> np.ndarray:
        """Reveal probabilities ``(n, F)`` for one state ``features (F,)`` and revealed sets ``(n, F)``."""
        x, revealed, own, other = self._check_query(features, revealed, own_decision, other_decision)
        n = revealed.shape[0]
        return self.batch_probabilities(np.broadcast_to(x, revealed.shape), revealed, np.full(n, own),
                                        np.full(n, other))

    def act(self, features, revealed, own_decision, other_decision, seed=None) -> int:
        """Sample one reveal for a single revealed set ``revealed (F,)``."""
        rng = as_generator(seed)
        revealed = check_mask("revealed", revealed, ndim=1)
        p = self.probabilities(features, revealed[None], own_decision, other_decision)[0]
        return int(rng.choice(p.size, p=p / p.sum()))


class RandomDebater(BaseDebater):
    """Reveals a uniformly random unrevealed feature."""

    def batch_probabilities(self, features, revealed, own, other):
        free = ~np.asarray(revealed, dtype=bool)
        return free / free.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class GreedyDebater(BaseDebater):
    """Reveals the feature that maximises the judge margin for its own decision right after the reveal."""

    judge: object

    def __post_init__(self):
        check_judge("judge", self.judge)

    def batch_probabilities(self, features, revealed, own, other):
        revealed = np.asarray(revealed, dtype=bool)
        return _one_hot_argmax(_batch_margins_after(self.judge, np.asarray(features, float), revealed,
                                                    np.asarray(own), np.asarray(other)))


@dataclass(frozen=True)
class BeamDebater(BaseDebater):
    """Depth-limited minimax over the alternating game, expanding the ``width`` greedy-best reveals per ply.

    Leaves are scored by the judge outcome sign(margin) at the end of the game; at the depth limit by
    ``tanh(margin)`` (a heuristic in (-1, 1) that keeps a decided outcome ahead of an open one).

    Parameters
    ----------
    judge : Judge
    n_evidence : int
        L of the game (the debater infers whose turn it is from the number of revealed features).
    width : int
        Reveals expanded per node.
    depth : int or None
        Plies searched (None: to the end of the game).
    """

    judge: object
    n_evidence: int
    width: int = 3
    depth: int | None = None

    def __post_init__(self):
        check_judge("judge", self.judge)
        check_integer("n_evidence", self.n_evidence, minimum=1)
        check_integer("width", self.width, minimum=1)
        if self.depth is not None:
            check_integer("depth", self.depth, minimum=1)

    def _search(self, x, revealed, own, other, maximise, plies_left):
        """Value for the root debater (margin own - other) of the position; mover maximises iff ``maximise``."""
        k = int(revealed.sum())
        margins = _batch_margins_after(self.judge, x[None], revealed[None], np.array([own]), np.array([other]))[0]
        order = np.argsort(-margins if maximise else margins, kind="stable")
        cands = [int(f) for f in order if not revealed[f]][:self.width]
        best_val, best_f = None, None
        for f in cands:
            if k + 1 == self.n_evidence:
                val = float(np.sign(margins[f]))
            elif plies_left == 1:
                val = float(np.tanh(margins[f]))
            else:
                nxt = revealed.copy()
                nxt[f] = True
                val = self._search(x, nxt, own, other, not maximise, plies_left - 1)[0]
            if best_val is None or (val > best_val if maximise else val < best_val):
                best_val, best_f = val, f
        return best_val, best_f

    def batch_probabilities(self, features, revealed, own, other):
        features = np.asarray(features, dtype=float)
        revealed = np.asarray(revealed, dtype=bool)
        out = np.zeros(revealed.shape)
        for i in range(revealed.shape[0]):
            k = int(revealed[i].sum())
            if k >= self.n_evidence:
                raise InvalidInstanceError(f"revealed: expected fewer than n_evidence={self.n_evidence} revealed "
                                           f"features, found {k}", argument="revealed")
            plies = self.n_evidence - k if self.depth is None else min(self.depth, self.n_evidence - k)
            _, f = self._search(features[i], revealed[i], int(own[i]), int(other[i]), True, plies)
            out[i, f] = 1.0
        return out


class IsolatedDebater(BaseDebater):
    """Reveals the next feature of the best evidence set of size L it could reveal alone (exact plan).

    Plans are cached per (state, decisions) (``cache_size`` most recent).
    """

    def __init__(self, judge, n_evidence: int, cache_size: int = 256):
        self.judge = check_judge("judge", judge)
        self.n_evidence = check_integer("n_evidence", n_evidence, minimum=1)
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = check_integer("cache_size", cache_size, minimum=1)

    def plan(self, features, own, other):
        x = np.asarray(features, dtype=float)
        key = (x.tobytes(), int(own), int(other))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        plan = isolated_plan(self.judge, x, (int(own), int(other)), self.n_evidence)
        self._cache[key] = plan
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return plan

    def batch_probabilities(self, features, revealed, own, other):
        features = np.asarray(features, dtype=float)
        revealed = np.asarray(revealed, dtype=bool)
        out = np.zeros(revealed.shape)
        own, other = np.asarray(own), np.asarray(other)
        # Group rows by (state, decisions, level) so that each plan answers one vectorised query.
        keys = {}
        for i in range(revealed.shape[0]):
            key = (features[i].tobytes(), int(own[i]), int(other[i]), int(revealed[i].sum()))
            keys.setdefault(key, []).append(i)
        for (_, a, b, _), rows in keys.items():
            rows = np.asarray(rows)
            plan = self.plan(features[rows[0]], a, b)
            out[rows, plan.best_next(revealed[rows])] = 1.0
        return out


class PolicyGradientDebater(BaseDebater):
    r"""Softmax policy :math:`\pi(f) \propto \exp(z_f)` over unrevealed features, trainable by REINFORCE.

    :math:`z_f = \theta^0_{a f} + \theta^1_{a f} x_f + \theta^2 g_f` with :math:`a` the debater's own
    decision and, when ``judge`` is given, :math:`g_f` the one-step judge margin gain standardised over the
    candidates (so the policy starts near greedy when :math:`\theta^2 > 0`).

    Parameters
    ----------
    n_features, n_decisions : int
    judge : Judge, optional
        Enables the greedy-gain input.
    greedy_weight : float
        Initial :math:`\theta^2`.
    seed : int or Generator
        Initial weights (small Gaussian noise).
    """

    def __init__(self, n_features: int, n_decisions: int, *, judge=None, greedy_weight: float = 0.0, seed=0):
        self.n_features = check_integer("n_features", n_features, minimum=1)
        self.n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
        check_allocation("n_features" if self.n_features >= self.n_decisions else "n_decisions",
                         8.0 * 2 * self.n_decisions * self.n_features * 4,   # weights, gradients, Adam moments
                         f"two ({self.n_decisions}, {self.n_features}) weight tables")
        self.judge = None if judge is None else check_judge("judge", judge)
        if judge is not None:
            check_judge_size(judge, self.n_features, features_name="n_features")
        greedy_weight = float(check_finite("greedy_weight", np.asarray(_real("greedy_weight", greedy_weight))))
        rng = as_generator(seed)
        self.theta0 = rng.normal(0.0, 0.01, size=(self.n_decisions, self.n_features))
        self.theta1 = rng.normal(0.0, 0.01, size=(self.n_decisions, self.n_features))
        self.theta2 = np.array([float(greedy_weight)])

    def copy(self) -> "PolicyGradientDebater":
        other = PolicyGradientDebater.__new__(PolicyGradientDebater)
        other.n_features, other.n_decisions, other.judge = self.n_features, self.n_decisions, self.judge
        other.theta0, other.theta1, other.theta2 = self.theta0.copy(), self.theta1.copy(), self.theta2.copy()
        return other

    def _gains(self, features, revealed, own, other):
        if self.judge is None:
            return np.zeros(revealed.shape)
        m = _batch_margins_after(self.judge, features, revealed, own, other)
        free = ~revealed
        cnt = free.sum(axis=1, keepdims=True)
        mean = np.where(free, m, 0.0).sum(axis=1, keepdims=True) / cnt
        var = np.where(free, (np.where(free, m, 0.0) - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / cnt
        return np.where(free, (np.where(free, m, 0.0) - mean) / (np.sqrt(var) + 1e-8), 0.0)

    def _logits(self, features, revealed, own, other):
        g = self._gains(features, revealed, own, other)
        z = self.theta0[own] + self.theta1[own] * features + self.theta2[0] * g
        return np.where(revealed, -np.inf, z), g

    def batch_probabilities(self, features, revealed, own, other):
        features = np.asarray(features, dtype=float)
        revealed = np.asarray(revealed, dtype=bool)
        z, _ = self._logits(features, revealed, np.asarray(own, dtype=np.int64), np.asarray(other, dtype=np.int64))
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _params(self):
        return [self.theta0, self.theta1, self.theta2]


# ---------------------------------------------------------------------------------------------- rollouts
@dataclass(frozen=True)
class DebateRecords:
    """Results of sampled debates.

    Attributes
    ----------
    evidence : ndarray of int, shape (n, L)
        Revealed features in order.
    masks : ndarray of bool, shape (n, F)
    movers : ndarray of int, shape (n, L)
        Who made each reveal.
    outcomes : ndarray of int, shape (n,)
        Judge outcome for debater 0.
    first_movers : ndarray of int, shape (n,)
    """

    evidence: np.ndarray
    masks: np.ndarray
    movers: np.ndarray
    outcomes: np.ndarray
    first_movers: np.ndarray


def _rollout(judge, features, decisions, n_evidence, debaters, first_movers, rng, record_grads=None):
    """Play a batch of debates; ``record_grads``: {player: PolicyGradientDebater} whose score-function
    gradients are accumulated per episode and returned."""
    n, F = features.shape
    revealed = np.zeros((n, F), dtype=bool)
    evidence = np.zeros((n, n_evidence), dtype=np.int64)
    movers = np.zeros((n, n_evidence), dtype=np.int64)
    rows = np.arange(n)
    grads = {}
    if record_grads:
        for player, learner in record_grads.items():
            grads[player] = [np.zeros((n,) + p.shape) for p in learner._params()]
    for k in range(n_evidence):
        mover = np.where(k % 2 == 0, first_movers, 1 - first_movers)
        movers[:, k] = mover
        choice = np.zeros(n, dtype=np.int64)
        for player in (0, 1):
            sel = rows[mover == player]
            if sel.size == 0:
                continue
            own, other = decisions[sel, player], decisions[sel, 1 - player]
            deb = debaters[player]
            if record_grads and player in record_grads:
                z, g = deb._logits(features[sel], revealed[sel], own, other)
                z = z - z.max(axis=1, keepdims=True)
                p = np.exp(z)
                p /= p.sum(axis=1, keepdims=True)
            else:
                p = deb.batch_probabilities(features[sel], revealed[sel], own, other)
            cum = np.cumsum(p, axis=1)
            u = rng.random(sel.size)[:, None] * cum[:, -1:]
            f = np.minimum((cum <= u).sum(axis=1), F - 1)
            # never pick a revealed feature because of rounding at the top of the cumulative sum
            bad = revealed[sel, f]
            if bad.any():
                f[bad] = np.argmax(p[bad], axis=1)
            choice[sel] = f
            if record_grads and player in record_grads:
                onehot = np.zeros_like(p)
                onehot[np.arange(sel.size), f] = 1.0
                diff = onehot - p
                g0, g1, g2 = grads[player]
                np.add.at(g0, (sel, own), diff)
                np.add.at(g1, (sel, own), diff * features[sel])
                g2[sel, 0] += np.sum(diff * g, axis=1)
        revealed[rows, choice] = True
        evidence[:, k] = choice
    d = np.concatenate([decisions[:, 0], decisions[:, 1]])
    s = np.asarray(judge.score(np.concatenate([features, features]), np.concatenate([revealed, revealed]), d))
    outcomes = np.sign(s[:n] - s[n:]).astype(np.int64)
    return DebateRecords(evidence, revealed, movers, outcomes, first_movers.copy()), grads


def _check_states(features, decisions, judge=None):
    features = check_array("features", features, ndim=2)
    if judge is not None:
        check_judge_size(judge, features.shape[1])
    decisions = check_index_array("decisions", decisions, shape=(features.shape[0], 2),
                                  high=getattr(judge, "n_decisions", None),
                                  what="integer decision pairs (one per row of features)")
    if np.any(decisions[:, 0] == decisions[:, 1]):
        raise InvalidInstanceError("decisions: expected two different decisions in every row",
                                   argument="decisions")
    return features, decisions.astype(np.int64)


def play_debates(judge, features, decisions, n_evidence: int, debaters, first_mover=None, seed=None
                 ) -> DebateRecords:
    """Sample one debate per row: ``debaters[0]`` argues ``decisions[i, 0]``, ``debaters[1]`` the other.

    ``first_mover`` None draws it uniformly per debate.
    """
    check_judge("judge", judge)
    features, decisions = _check_states(features, decisions, judge)
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=features.shape[1])
    if not isinstance(debaters, (tuple, list)) or len(debaters) != 2 or not all(
            callable(getattr(d, "batch_probabilities", None)) for d in debaters):
        raise InvalidInstanceError(f"debaters: expected a pair of debaters (objects with batch_probabilities()), "
                                   f"found {describe(debaters)}", argument="debaters")
    rng = as_generator(seed)
    n = features.shape[0]
    if first_mover is None:
        fm = rng.integers(0, 2, size=n)
    else:
        fm = np.full(n, check_index("first_mover", first_mover, maximum=1))
    return _rollout(judge, features, decisions, L, debaters, fm, rng)[0]


def greedy_debate_values(judge, features, decisions, n_evidence: int) -> tuple[float, float]:
    """Outcome for debater 0 when two :class:`GreedyDebater` s play one game, for each first mover.

    Greedy debaters are deterministic, so one played debate per first mover is its exact outcome.  With
    ``n_evidence`` = 0 nothing is revealed and the judge's verdict on no evidence decides.

    Returns
    -------
    tuple of float
        ``(outcome if debater 0 moves first, outcome if debater 1 moves first)``, the format of
        :attr:`mechsim.solvers.debate.DebateOutcome.values_by_first_mover`.
    """
    check_judge("judge", judge)
    features = check_array("features", features, ndim=1)
    if features.size == 0:
        raise InvalidInstanceError("features: expected at least one feature, found an empty vector",
                                   argument="features")
    check_integer("n_evidence", n_evidence, minimum=0, maximum=features.shape[0])
    decisions = check_index_array("decisions", decisions, shape=(2,), high=getattr(judge, "n_decisions", None),
                                  what="two integer decisions (a1, a2)")
    if n_evidence == 0:
        return solve_debate(judge, features, decisions, 0).values_by_first_mover
    debaters = (GreedyDebater(judge), GreedyDebater(judge))
    return tuple(float(play_debates(judge, np.asarray(features)[None], np.array([decisions]), n_evidence, debaters,
                                    first_mover=fm, seed=0).outcomes[0]) for fm in (0, 1))


# ---------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainingResult:
    """Outcome of :func:`train_debater`.

    Attributes
    ----------
    debater : PolicyGradientDebater
        The argumentator (arguing the correct decision) / the self-play or isolated learner.
    confuser : PolicyGradientDebater or None
        The trained confuser (``"maxmin"`` only).
    win_rates : tuple of float
        Per iteration, the mean outcome for the correct decision's debater mapped to [0, 1] ((1+u)/2).
    mode : str
    """

    debater: PolicyGradientDebater
    confuser: PolicyGradientDebater | None
    win_rates: tuple[float, ...]
    mode: str


def _reinforce_step(opt, grads, returns):
    adv = returns - returns.mean()
    opt.ascend([np.tensordot(adv, g, axes=(0, 0)) / adv.size for g in grads])


def train_debater(judge, features, correct, n_evidence: int, *, mode: str = "maxmin", wrong=None,
                  iterations: int = 200, batch_size: int = 128, learning_rate: float = 0.05,
                  phase_length: int = 10, refresh: int = 20, use_judge_gain: bool = True,
                  n_decisions: int | None = None, seed=None) -> TrainingResult:
    """Train a :class:`PolicyGradientDebater` by REINFORCE (batch-mean baseline, Adam).

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (S, F)
        Training states; each batch samples rows uniformly.
    correct : array_like of int, shape (S,)
        The decision the argumentator defends in each state (e.g. the clinician's or the optimal action).
    n_evidence : int
        L.
    mode : {"maxmin", "self_play", "isolated"}
        ``"isolated"``: the learner reveals all L features for ``correct`` alone; ``"self_play"``: the
        learner (randomly as either side) against a frozen copy refreshed every ``refresh`` iterations;
        ``"maxmin"``: alternating phases of ``phase_length`` iterations, training the confuser (arguing the
        wrong decision) against the frozen argumentator, then the argumentator against the frozen confuser.
    wrong : array_like of int, shape (S,), optional
        The opposing decision per state; default a uniformly random other decision per episode.
    iterations, batch_size : int
    learning_rate : float
    use_judge_gain : bool
        Give the policy the standardised one-step judge margin gain as an input.
    n_decisions : int, optional
        D; default ``judge.n_decisions``.
    seed : int or Generator
    """
    check_judge("judge", judge)
    features = check_array("features", features, ndim=2)
    S, F = features.shape
    if S == 0:
        raise InvalidInstanceError("features: expected at least one training state, found 0 rows",
                                   argument="features")
    check_judge_size(judge, F)
    if n_decisions is None:
        n_decisions = getattr(judge, "n_decisions", None)
    if n_decisions is None:
        raise InvalidInstanceError("n_decisions: expected an integer (the judge does not say), found None",
                                   argument="n_decisions")
    n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
    check_judge_size(judge, decisions=[n_decisions - 1], decisions_name="n_decisions")
    correct = check_index_array("correct", correct, shape=(S,), high=n_decisions,
                                what="integer decisions (one per row of features)")
    if wrong is not None:
        wrong = check_index_array("wrong", wrong, shape=(S,), high=n_decisions,
                                  what="integer decisions (one per row of features)")
        if np.any(wrong == correct):
            raise InvalidInstanceError("wrong: expected one decision per state, different from correct",
                                       argument="wrong")
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    mode = check_choice("mode", mode, ("maxmin", "self_play", "isolated"))
    iterations = check_integer("iterations", iterations, minimum=1)
    batch_size = check_integer("batch_size", batch_size, minimum=1)
    check_allocation("batch_size", 8.0 * batch_size * F * (F + 16), f"a batch of {batch_size} debates")
    learning_rate = check_positive("learning_rate", learning_rate)
    phase_length = check_integer("phase_length", phase_length, minimum=1)
    refresh = check_integer("refresh", refresh, minimum=1)
    use_judge_gain = check_flag("use_judge_gain", use_judge_gain)
    rng = as_generator(seed)
    j = judge if use_judge_gain else None
    w_gain = 1.0 if use_judge_gain else 0.0
    learner = PolicyGradientDebater(F, n_decisions, judge=j, greedy_weight=w_gain, seed=rng)
    opt = Adam(learner._params(), learning_rate)
    confuser, opt_c = None, None
    if mode == "maxmin":
        confuser = PolicyGradientDebater(F, n_decisions, judge=j, greedy_weight=w_gain, seed=rng)
        opt_c = Adam(confuser._params(), learning_rate)
    frozen = learner.copy()
    win_rates = []
    for it in range(iterations):
        rows = rng.integers(0, S, size=batch_size)
        x = features[rows]
        good = correct[rows].astype(np.int64)
        if wrong is None:
            bad = rng.integers(0, n_decisions - 1, size=batch_size)
            bad = bad + (bad >= good)
        else:
            bad = wrong[rows].astype(np.int64)
        dec = np.stack([good, bad], axis=1)
        if mode == "isolated":
            # The learner makes every reveal, arguing `good` throughout.
            recs, grads = _isolated_rollout(judge, x, good, bad, L, learner, rng)
            _reinforce_step(opt, grads, recs.outcomes.astype(float))
            win_rates.append(float(np.mean((recs.outcomes + 1) / 2)))
            continue
        fm = rng.integers(0, 2, size=batch_size)
        if mode == "self_play":
            side = rng.integers(0, 2, size=batch_size)  # which side the learner plays in each episode
            # Reorder so that the learner is always "player 0" of the rollout, arguing dec[side].
            own = np.where(side == 0, dec[:, 0], dec[:, 1])
            opp = np.where(side == 0, dec[:, 1], dec[:, 0])
            fm_l = np.where(side == 0, fm, 1 - fm)
            recs, grads = _rollout(judge, x, np.stack([own, opp], axis=1), L, (learner, frozen), fm_l, rng,
                                   record_grads={0: learner})
            _reinforce_step(opt, grads[0], recs.outcomes.astype(float))
            good_outcome = np.where(side == 0, recs.outcomes, -recs.outcomes)
            win_rates.append(float(np.mean((good_outcome + 1) / 2)))
            if (it + 1) % refresh == 0:
                frozen = learner.copy()
            continue
        train_confuser = (it // phase_length) % 2 == 0
        if train_confuser:
            recs, grads = _rollout(judge, x, dec, L, (learner, confuser), fm, rng, record_grads={1: confuser})
            _reinforce_step(opt_c, grads[1], -recs.outcomes.astype(float))
        else:
            recs, grads = _rollout(judge, x, dec, L, (learner, confuser), fm, rng, record_grads={0: learner})
            _reinforce_step(opt, grads[0], recs.outcomes.astype(float))
        win_rates.append(float(np.mean((recs.outcomes + 1) / 2)))
    return TrainingResult(learner, confuser, tuple(win_rates), mode)


class ArguingFor(BaseDebater):
    """Wraps a debater so that it always argues ``own`` against ``other`` whichever side it plays.

    ``(ArguingFor(d, a, b), ArguingFor(d, a, b))`` as both players makes ``d`` reveal all the evidence for
    ``a`` alone.
    """

    def __init__(self, debater, own, other):
        if not callable(getattr(debater, "batch_probabilities", None)):
            raise InvalidInstanceError(f"debater: expected a debater (an object with batch_probabilities()), found "
                                       f"{describe(debater)}", argument="debater")
        self.debater, self.own, self.other = debater, check_index("own", own), check_index("other", other)

    def batch_probabilities(self, features, revealed, own, other):
        n = np.asarray(revealed).shape[0]
        return self.debater.batch_probabilities(features, revealed, np.full(n, self.own), np.full(n, self.other))

    def _logits(self, features, revealed, own, other):
        n = np.asarray(revealed).shape[0]
        return self.debater._logits(features, revealed, np.full(n, self.own), np.full(n, self.other))


def _isolated_rollout(judge, x, good, bad, L, learner, rng):
    """Batch rollout where the learner makes all L reveals arguing ``good``; returns records and gradients."""
    n, F = x.shape
    revealed = np.zeros((n, F), dtype=bool)
    evidence = np.zeros((n, L), dtype=np.int64)
    grads = [np.zeros((n,) + p.shape) for p in learner._params()]
    rows = np.arange(n)
    for k in range(L):
        z, g = learner._logits(x, revealed, good, bad)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        cum = np.cumsum(p, axis=1)
        f = np.minimum((cum <= rng.random(n)[:, None] * cum[:, -1:]).sum(axis=1), F - 1)
        badpick = revealed[rows, f]
        if badpick.any():
            f[badpick] = np.argmax(p[badpick], axis=1)
        onehot = np.zeros_like(p)
        onehot[rows, f] = 1.0
        diff = onehot - p
        np.add.at(grads[0], (rows, good), diff)
        np.add.at(grads[1], (rows, good), diff * x)
        grads[2][:, 0] += np.sum(diff * g, axis=1)
        revealed[rows, f] = True
        evidence[:, k] = f
    d = np.concatenate([good, bad])
    s = np.asarray(judge.score(np.concatenate([x, x]), np.concatenate([revealed, revealed]), d))
    outcomes = np.sign(s[:n] - s[n:]).astype(np.int64)
    recs = DebateRecords(evidence, revealed, np.zeros((n, L), np.int64), outcomes, np.zeros(n, np.int64))
    return recs, grads


# ---------------------------------------------------------------------------------------------- robustness
@dataclass(frozen=True)
class RobustnessReport:
    """Judge accuracy (tie = 1/2) for the correct decision, computed exactly per state and averaged.

    Attributes
    ----------
    accuracy_alone : float
        The debater reveals all L features for the correct decision, no opponent.
    accuracy_vs_confuser : float
        The debater reveals its half; the exact best-response confuser arguing the wrong decision reveals
        the other half (uniformly random first mover).
    accuracy_minimax : float
        Both sides play the exact minimax strategies (the debater's own strength does not matter): the
        best accuracy any debater can guarantee against the confuser.
    per_state_alone, per_state_vs_confuser : ndarray, shape (n,)
    """

    accuracy_alone: float
    accuracy_vs_confuser: float
    accuracy_minimax: float
    per_state_alone: np.ndarray
    per_state_vs_confuser: np.ndarray


class _MemoPolicy(BaseDebater):
    """Remembers the last few batched answers of a debater (the exact solvers query the same sets twice)."""

    def __init__(self, debater, size: int = 8):
        self.debater, self.size, self.memo = debater, size, OrderedDict()

    def batch_probabilities(self, features, revealed, own, other):
        features, revealed = np.asarray(features), np.asarray(revealed)
        own, other = np.asarray(own), np.asarray(other)
        key = (features.tobytes(), revealed.tobytes(), revealed.shape, own.tobytes(), other.tobytes())
        if key not in self.memo:
            self.memo[key] = self.debater.batch_probabilities(features, revealed, own, other)
            if len(self.memo) > self.size:
                self.memo.popitem(last=False)
        return self.memo[key]


class _MemoJudge:
    """Caches a judge's one-state leaf scores (``score_masks``) across the solves of one state."""

    def __init__(self, judge, size: int = 4):
        self.judge, self.size, self.memo = judge, size, OrderedDict()
        for name in ("n_features", "n_decisions"):
            if hasattr(judge, name):
                setattr(self, name, getattr(judge, name))

    def score(self, features, mask, decisions):
        return self.judge.score(features, mask, decisions)

    def score_masks(self, features, masks, decisions):
        features, masks = np.asarray(features, dtype=float), np.asarray(masks, dtype=bool)
        decisions = np.asarray(decisions, dtype=np.int64)
        key = (features.tobytes(), masks.shape, masks.tobytes(), decisions.tobytes())
        if key not in self.memo:
            fast = getattr(self.judge, "score_masks", None)
            if callable(fast):
                out = np.asarray(fast(features, masks, decisions), dtype=float)
            else:
                n = masks.shape[0]
                x = np.broadcast_to(features, (n * decisions.size, features.size))
                s = self.judge.score(x, np.tile(masks, (decisions.size, 1)), np.repeat(decisions, n))
                out = np.asarray(s, dtype=float).reshape(decisions.size, n).T
            self.memo[key] = out
            if len(self.memo) > self.size:
                self.memo.popitem(last=False)
        return self.memo[key]


def measure_robustness(judge, features, correct, wrong, debater, n_evidence: int) -> RobustnessReport:
    """Exact judge accuracy of a debater's evidence alone and against the exact confuser (see module doc)."""
    check_judge("judge", judge)
    if not callable(getattr(debater, "batch_probabilities", None)):
        raise InvalidInstanceError(f"debater: expected a debater (an object with batch_probabilities()), found "
                                   f"{describe(debater)}", argument="debater")
    features = check_array("features", features, ndim=2)
    check_judge_size(judge, features.shape[1])
    n = features.shape[0]
    if n == 0:
        raise InvalidInstanceError("features: expected at least one state, found 0 rows", argument="features")
    high = getattr(judge, "n_decisions", None)
    correct = check_index_array("correct", correct, shape=(n,), high=high,
                                what="integer decisions (one per row of features)")
    wrong = check_index_array("wrong", wrong, shape=(n,), high=high, what="integer decisions (one per row of features)")
    if np.any(correct == wrong):
        raise InvalidInstanceError("wrong: expected a decision different from correct in every row",
                                   argument="wrong")
    dec = np.stack([correct, wrong], axis=1)
    judge = _MemoJudge(judge)
    debater = _MemoPolicy(debater)
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=features.shape[1])
    alone = np.zeros(n)
    vs = np.zeros(n)
    mm = np.zeros(n)
    for i in range(n):
        a, b = int(dec[i, 0]), int(dec[i, 1])
        solo = ArguingFor(debater, a, b)
        alone[i] = (1.0 + policy_value(judge, features[i], (a, b), L, (solo, solo), first_mover=0)) / 2.0
        vs[i] = (1.0 + best_response(judge, features[i], (a, b), L, debater, responder=1).value) / 2.0
        mm[i] = (1.0 + solve_debate(judge, features[i], (a, b), L).value) / 2.0
    return RobustnessReport(float(alone.mean()), float(vs.mean()), float(mm.mean()), alone, vs)
