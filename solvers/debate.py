r"""Exact solution of the evidence-revealing debate game by minimax over revealed sets.

The game (Sukovic & Radanovic, "Reward Design for Justifiable Sequential Decision-Making", ICLR 2024).  A
state :math:`x \in \mathbb{R}^F` and two decisions :math:`(a_1, a_2)` are fixed.  Debater 0 argues
:math:`a_1`, debater 1 argues :math:`a_2`.  Starting from nothing revealed, the debaters alternately reveal
one not yet revealed feature, the *first mover* first, until :math:`L` = ``n_evidence`` features are
revealed; the first mover makes reveals :math:`1, 3, 5, \dots` so it gets :math:`\lceil L/2 \rceil` of them
(the extra one when :math:`L` is odd).  On the final evidence :math:`S` (:math:`|S| = L`) the judge pays
debater 0

.. math::  u(S) = \operatorname{sign}\bigl(J(a_1 \mid x_S) - J(a_2 \mid x_S)\bigr) \in \{-1, 0, 1\}

and debater 1 gets :math:`-u(S)` (zero-sum).  Since the judge sees a set, not an order, and whose turn it
is depends only on :math:`|S|`, the value depends only on the revealed set:

.. math::  V(S) = u(S) \text{ if } |S| = L, \qquad
           V(S) = \operatorname*{max\,/\,min}_{f \notin S} V(S \cup \{f\})

with max when debater 0 is to move at level :math:`|S|` and min otherwise.  :func:`solve_debate` returns
:math:`V(\varnothing)` for a given first mover, or the average over both first movers (the paper's random
first mover) when ``first_mover`` is None.

Algorithm.  Every subset of size :math:`k \le L` is indexed by its combinatorial (colex) rank
:math:`\sum_i \binom{c_i}{i+1}` for sorted elements :math:`c_0 < c_1 < \dots`.  All
:math:`\binom{F}{L}` leaf sets are scored by the judge in large batches, then levels
:math:`L-1, \dots, 0` are backed up with one vectorised max/min over a ``(C(F,k), F)`` table of child
ranks per level — memoisation on the revealed set without any Python-level recursion.  For
:math:`F = 44, L = 4` that is 135,751 leaves.

Fixed policies.  :func:`best_response` solves the same tree when one debater follows a fixed (stochastic or
deterministic) policy :math:`\pi`: its levels take expectations
:math:`V(S) = \sum_{f \notin S} \pi(f \mid S)\, V(S \cup \{f\})`, the responder's levels take the max/min.
It is the exact *confuser* used to measure how robust a debater's evidence is.  :func:`policy_value`
evaluates two fixed policies exactly.  :func:`subgame_values` returns the whole table :math:`V(S)` for every
revealed set (minimax, or best response against a policy), so that a caller can read the value and the
optimal reveal from any position reached in play (the single-agent view
:class:`mechsim.envs.debate_opponent.DebateVsOpponent` does).  :func:`isolated_plan` is the plan of a
debater that reveals all L features alone: :math:`W(S) = \max_{f \notin S} W(S \cup \{f\})` with leaves the
continuous judge margin :math:`J(a_{own}|x_S) - J(a_{other}|x_S)`.

Many games at once.  :func:`debate_win_table` solves, for every state :math:`s` of a batch and every
decision :math:`a`, the debate of :math:`a` against a baseline decision :math:`b(s)`: the leaves of all
:math:`S \times D` games are scored in one judge pass per chunk of states
(:func:`mechsim.debate.judges.score_grid`) and backed up together by the same level-by-level max/min (the
per-state reward table of :class:`mechsim.envs.justifiable_sepsis.JustifiableSepsisEnv`).  For
:math:`L > 2` (e.g. :math:`\binom{44}{4} = 135{,}751` leaves) it goes state by state: the exact int8 outcome
table of all decisions against the baseline on all leaves (:func:`mechsim.debate.judges.outcome_grid`),
then one backup of the D games over a compact child table (the largest level gathered once for both first
movers).

:func:`brute_force_debate_value` and :func:`enumerate_reveal_sequences` are an independent,
exponential-time oracle for tests.
"""

from __future__ import annotations

import functools
import itertools
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from math import comb, perm

import numpy as np

from mechsim.debate._checks import check_index, check_index_array, check_judge, check_judge_size, check_mask, describe
from mechsim.debate.judges import debate_outcome, outcome_grid, score_grid
from mechsim.errors import InvalidInstanceError, MechsimError, SolverError
from mechsim.validation import check_allocation, check_array, check_integer

__all__ = [
    "DebateOutcome",
    "BestResponseOutcome",
    "solve_debate",
    "best_response",
    "policy_value",
    "policy_probabilities",
    "SubgameValues",
    "subgame_values",
    "DebateTable",
    "debate_win_table",
    "StateDebateValues",
    "state_debate_values",
    "MAX_TABLE_EVIDENCE",
    "MAX_TABLE_LEAVES",
    "leaf_outcomes",
    "enumerate_reveal_sequences",
    "brute_force_debate_value",
    "brute_force_best_response",
    "mover_at",
    "subset_ranks",
    "MAX_LEAVES",
    "IsolatedPlan",
    "isolated_plan",
    "debate_game_tree",
]

_JUDGE_CHUNK = 65536


@dataclass(frozen=True)
class DebateOutcome:
    """Exact value of a debate.

    Attributes
    ----------
    value : float
        Value in [-1, 1] for debater 0 (arguing ``decisions[0]``): for the given first mover, or the
        average over both first movers when ``first_mover`` was None.
    principal_line : tuple of int
        Features revealed, in order, under optimal play (ties broken towards the lowest feature index), for
        ``first_mover`` (debater 0 first when it was None).
    first_mover : int or None
        As passed.
    values_by_first_mover : tuple of (float or None)
        ``(value if debater 0 moves first, value if debater 1 moves first)``; None for a first mover that
        was not solved (when ``first_mover`` was given).
    lines_by_first_mover : tuple of tuple of int
        The principal line for each first mover (empty when not solved).
    decisions : tuple of int
        ``(a1, a2)``.
    n_evidence : int
        L.
    n_leaves : int
        Number of final evidence sets scored, :math:`\\binom{F}{L}`.
    status : str
        ``"optimal"`` (the solver is exact).
    solve_time : float
        Wall-clock seconds of the solve (excluded from equality).
    """

    value: float
    principal_line: tuple[int, ...]
    first_mover: int | None
    values_by_first_mover: tuple[float | None, float | None]
    lines_by_first_mover: tuple[tuple[int, ...], tuple[int, ...]]
    decisions: tuple[int, int]
    n_evidence: int
    n_leaves: int
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)

    @property
    def evidence(self) -> tuple[int, ...]:
        """The revealed features of the principal line, sorted."""
        return tuple(sorted(self.principal_line))


@dataclass(frozen=True)
class BestResponseOutcome:
    """Exact best response of one debater against a fixed policy of the other.

    Attributes
    ----------
    value : float
        Expected outcome for debater 0 in [-1, 1] (averaged over first movers when ``first_mover`` was
        None) when ``responder`` best-responds.
    responder : int
        The best-responding debater (0 maximises the value, 1 minimises it).
    principal_line : tuple of int
        The most probable line (responder's optimal reveal, fixed player's most probable reveal; lowest
        index on ties) for ``first_mover`` (debater 0 first when None).
    first_mover : int or None
    values_by_first_mover : tuple of float
    decisions : tuple of int
    n_evidence : int
    status : str
        ``"optimal"`` (the solver is exact).
    solve_time : float
        Wall-clock seconds of the solve (excluded from equality).
    """

    value: float
    responder: int
    principal_line: tuple[int, ...]
    first_mover: int | None
    values_by_first_mover: tuple[float | None, float | None]
    decisions: tuple[int, int]
    n_evidence: int
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)


def mover_at(level: int, first_mover: int) -> int:
    """The debater who makes reveal number ``level + 1`` (i.e. moves when ``level`` features are revealed)."""
    level = check_index("level", level)
    first_mover = check_index("first_mover", first_mover, maximum=1)
    return first_mover if level % 2 == 0 else 1 - first_mover


# ---------------------------------------------------------------------------------------------- subset tree
@dataclass(frozen=True)
class _Level:
    combos: np.ndarray   # (C(F,k), k) sorted subsets, row i has colex rank i
    masks: np.ndarray    # (C(F,k), F) bool membership
    children: np.ndarray  # (C(F,k), F) rank at level k+1 of S ∪ {f}; -1 where f ∈ S (absent at level L)


def _colex_combinations(n_features: int, k: int) -> np.ndarray:
    """All k-subsets of range(F) as sorted rows, in colex-rank order."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    lex = np.array(list(itertools.combinations(range(n_features), k)), dtype=np.int64)
    binom = _binomial_table(n_features, k + 1)
    ranks = binom[lex, np.arange(1, k + 1)].sum(axis=1)
    out = np.empty_like(lex)
    out[ranks] = lex
    return out


@functools.lru_cache(maxsize=16)
def _binomial_table(n: int, r: int) -> np.ndarray:
    table = np.array([[comb(i, j) for j in range(r + 1)] for i in range(n + 1)], dtype=np.int64)
    table.setflags(write=False)
    return table


#: Largest number of leaf sets C(F, L) the exact solvers accept by default (memory grows ~100 bytes/leaf).
MAX_LEAVES = 8_000_000
_CACHE_LEAVES = 250_000  # subset trees up to this size are cached across calls


def tree_bytes(n_features: int, n_evidence: int) -> int:
    """Estimated peak memory (bytes) of solving one game of ``n_evidence`` reveals among ``n_features``.

    Per revealed set of size k: its sorted members (8k bytes), membership mask (F), child ranks (8F), the
    gathered child values of the backup (8F), its value (8) and, while the tree is built, the Python tuple
    that enumerates it (~64 + 8k).
    """
    return sum(comb(n_features, k) * (16 * k + 17 * n_features + 72) for k in range(n_evidence + 1))


def _check_max_leaves(max_leaves) -> int:
    return MAX_LEAVES if max_leaves is None else check_integer("max_leaves", max_leaves, minimum=1)


def _subset_tree(n_features: int, n_evidence: int, max_leaves: int | None = None) -> tuple[_Level, ...]:
    n_leaves = comb(n_features, n_evidence)
    limit = _check_max_leaves(max_leaves)
    if n_leaves > limit:
        raise InvalidInstanceError(
            f"n_evidence: expected at most max_leaves={limit} evidence sets C(F, L), found C({n_features}, "
            f"{n_evidence}) = {n_leaves}; use an approximate debater (mechsim.learners.debaters) or raise "
            "max_leaves", argument="n_evidence")
    check_allocation("n_evidence", tree_bytes(n_features, n_evidence),
                     f"the game tree of C({n_features}, {n_evidence}) = {n_leaves} evidence sets")
    if n_leaves <= _CACHE_LEAVES:
        return _cached_subset_tree(n_features, n_evidence)
    return _build_subset_tree(n_features, n_evidence)


@functools.lru_cache(maxsize=16)
def _cached_subset_tree(n_features: int, n_evidence: int) -> tuple[_Level, ...]:
    return _build_subset_tree(n_features, n_evidence)


def _build_subset_tree(n_features: int, n_evidence: int) -> tuple[_Level, ...]:
    F, L = n_features, n_evidence
    binom = _binomial_table(F, L + 1)
    levels = []
    feats = np.arange(F)
    for k in range(L + 1):
        combos = _colex_combinations(F, k)
        n = combos.shape[0]
        masks = np.zeros((n, F), dtype=bool)
        np.put_along_axis(masks, combos, True, axis=1)
        if k < L:
            # Child S ∪ {f} with f inserted at position p = #{c in S : c < f}:
            #   rank = sum_{i<p} C(c_i, i+1) + C(f, p+1) + sum_{i>=p} C(c_i, i+2).
            p = (combos[:, :, None] < feats[None, None, :]).sum(axis=1)
            own = binom[combos, np.arange(1, k + 1)] if k else np.zeros((n, 0), np.int64)
            shifted = binom[combos, np.arange(2, k + 2)] if k else np.zeros((n, 0), np.int64)
            pre = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(own, axis=1)], axis=1)
            suf = np.concatenate([np.cumsum(shifted[:, ::-1], axis=1)[:, ::-1], np.zeros((n, 1), np.int64)],
                                 axis=1)
            children = (np.take_along_axis(pre, p, axis=1) + binom[feats[None, :], p + 1]
                        + np.take_along_axis(suf, p, axis=1))
            children[masks] = -1
        else:
            children = np.empty((n, 0), dtype=np.int64)
        for a in (combos, masks, children):
            a.setflags(write=False)
        levels.append(_Level(combos, masks, children))
    return tuple(levels)


# ---------------------------------------------------------------------------------------------- validation
def _check_game(judge, features, decisions, n_evidence, first_mover, *, max_leaves=None):
    """Validate one game against itself and against the judge (its declared ``n_features``/``n_decisions``)."""
    check_judge("judge", judge)
    features = check_array("features", features, ndim=1)
    F = features.shape[0]
    if F == 0:
        raise InvalidInstanceError("features: expected at least one feature, found an empty vector",
                                   argument="features")
    check_judge_size(judge, F)
    dec = check_index_array("decisions", decisions, shape=(2,), high=getattr(judge, "n_decisions", None),
                            what="two integer decisions (a1, a2)")
    L = check_integer("n_evidence", n_evidence, minimum=0, maximum=F)
    if first_mover is not None:
        first_mover = check_index("first_mover", first_mover, maximum=1)
    _check_max_leaves(max_leaves)
    return features, (int(dec[0]), int(dec[1])), L, first_mover


def _call_judge(fn, what, *args):
    """Call the judge; any error that is not a mechsim error becomes one naming the judge."""
    try:
        return fn(*args)
    except MechsimError:
        raise
    except Exception as exc:  # noqa: BLE001 - a user's judge may raise anything
        raise InvalidInstanceError(f"judge: expected {what} to score the game, found it raised "
                                   f"{type(exc).__name__}: {exc}", argument="judge") from exc


def leaf_outcomes(judge, features, decisions, n_evidence) -> np.ndarray:
    """Judge outcome ``sign(J(a1|x_S) - J(a2|x_S))`` for every evidence set ``S`` of size ``n_evidence``.

    Returns
    -------
    ndarray, shape (C(F, L),), float
        Indexed by the colex rank of ``S``.
    """
    features, decisions, L, _ = _check_game(judge, features, decisions, n_evidence, None)
    return _leaf_outcomes(judge, features, decisions, _subset_tree(features.shape[0], L)[L].masks)


def _leaf_margins(judge, features, decisions, masks) -> np.ndarray:
    n, F = masks.shape
    out = np.empty(n)
    fast = getattr(judge, "score_masks", None)
    if callable(fast):
        # Optional judge fast path: one state, many masks, both decisions at once.
        s = np.asarray(_call_judge(fast, "score_masks()", features, masks, np.asarray(decisions, dtype=np.int64)))
        if s.shape != (n, 2) or s.dtype.kind not in "fiu" or not np.all(np.isfinite(s)):
            raise InvalidInstanceError(f"judge: expected score_masks() to return finite floats of shape {(n, 2)}, "
                                       f"found shape {s.shape}", argument="judge")
        return s[:, 0].astype(float) - s[:, 1]
    for start in range(0, n, _JUDGE_CHUNK):
        m = masks[start:start + _JUDGE_CHUNK]
        b = m.shape[0]
        x = np.broadcast_to(features, (2 * b, F))
        d = np.repeat(np.asarray(decisions, dtype=np.int64), b)
        s = np.asarray(_call_judge(judge.score, "score()", x, np.concatenate([m, m]), d))
        if s.shape != (2 * b,) or s.dtype.kind not in "fiu" or not np.all(np.isfinite(s)):
            found = f"shape {s.shape}" if s.shape != (2 * b,) else "non-finite values"
            raise InvalidInstanceError(f"judge: expected score() to return {2 * b} finite floats, found {found}",
                                       argument="judge")
        out[start:start + b] = s[:b] - s[b:]
    return out


def _leaf_outcomes(judge, features, decisions, masks) -> np.ndarray:
    return np.sign(_leaf_margins(judge, features, decisions, masks))


# ---------------------------------------------------------------------------------------------- backups
_Operator = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def _backup(tree, leaf_values, operators) -> list[np.ndarray]:
    """Values of every level, from leaves up; ``operators[k](k, child_values (..., n_k, F), valid (n_k, F))``.

    ``leaf_values`` is ``(C(F, L),)`` for one game or ``(B, C(F, L))`` for B games on the same subset tree
    (leading axes are games; every reduction runs over the last, contiguous axis).
    """
    L = len(tree) - 1
    values = [None] * (L + 1)
    values[L] = leaf_values
    for k in range(L - 1, -1, -1):
        level = tree[k]
        valid = level.children >= 0
        child_vals = np.take(values[k + 1], np.where(valid, level.children, 0), axis=-1)
        values[k] = operators[k](k, child_vals, valid)
    return values


def _minimax_operator(maximise: bool) -> _Operator:
    reduce = np.max if maximise else np.min

    def op(k, child_vals, valid):
        # The fill never wins the reduction; integer outcome tables (int8 signs) keep their dtype.
        if child_vals.dtype.kind == "f":
            fill = -np.inf if maximise else np.inf
        else:
            info = np.iinfo(child_vals.dtype)
            fill = child_vals.dtype.type(info.min if maximise else info.max)
        return reduce(np.where(valid, child_vals, fill), axis=-1)
    return op


def _minimax_operators(n_evidence: int, first_mover: int) -> list[_Operator]:
    """Debater 0 maximises, debater 1 minimises, at the levels where each moves."""
    return [_minimax_operator(mover_at(k, first_mover) == 0) for k in range(n_evidence)]


def _response_operators(n_evidence: int, first_mover: int, responder: int, expect: _Operator) -> list[_Operator]:
    """The fixed debater's levels take the expectation ``expect``; the responder's the max (0) / min (1)."""
    return [expect if mover_at(k, first_mover) != responder else _minimax_operator(responder == 0)
            for k in range(n_evidence)]


def _principal_line(tree, values, choose) -> tuple[int, ...]:
    """Follow ``choose(k, child_values, valid, row) -> feature`` from the root."""
    line, row = [], 0
    for k in range(len(tree) - 1):
        level = tree[k]
        valid = level.children[row] >= 0
        child_vals = values[k + 1][np.where(valid, level.children[row], 0)]
        f = int(choose(k, child_vals, valid, row))
        line.append(f)
        row = int(level.children[row, f])
    return tuple(line)


def _argbest(child_vals, valid, maximise):
    key = np.where(valid, child_vals if maximise else -child_vals, -np.inf)
    return int(np.argmax(key))  # first index of the maximum: lowest feature on ties


#: Tolerance of the solvers' self-checks: values agree within VERIFY_ATOL, and a recomputed judge margin
#: within VERIFY_ATOL * (1 + |J(a1)| + |J(a2)|) of zero may have either sign (two scoring paths may round a
#: near-tie differently).
VERIFY_ATOL = 1e-9


def _line_mask(line, n_features) -> np.ndarray:
    mask = np.zeros(n_features, dtype=bool)
    mask[list(line)] = True
    return mask


def _recomputed_margins(judge, features, decisions, masks):
    """``J(a1|x_S) - J(a2|x_S)`` of ``(n, F)`` sets, through ``judge.score`` (not the fast path), and a
    tie tolerance per set."""
    n = masks.shape[0]
    x = np.broadcast_to(features, (2 * n, features.shape[-1])) if features.ndim == 1 else \
        np.concatenate([features, features])
    d = np.concatenate([np.broadcast_to(np.asarray(decisions[0]), (n,)), np.broadcast_to(np.asarray(decisions[1]),
                                                                                         (n,))])
    s = np.asarray(_call_judge(judge.score, "score()", x, np.concatenate([masks, masks]), d.astype(np.int64)),
                   dtype=float)
    return s[:n] - s[n:], VERIFY_ATOL * (1.0 + np.abs(s[:n]) + np.abs(s[n:]))


def _verify_outcomes(what, margins, tol, values, statuses="verification_failed"):
    """Each recomputed leaf margin's sign equals the claimed value (or the margin is a near-tie)."""
    values = np.asarray(values, dtype=float)
    bad = (np.sign(margins) != values) & (np.abs(margins) > tol)
    if np.any(bad):
        i = int(np.flatnonzero(bad.ravel())[0])
        raise SolverError(f"{what}: the leaf reached by the optimal line has judge margin "
                          f"{margins.ravel()[i]:.6g}, which does not realise the value {values.ravel()[i]:g} "
                          "(the judge's score and score_masks disagree, or the backup is wrong)", status=statuses)


def _verify_value(what, value, reference, relation="=="):
    ok = {"==": abs(value - reference) <= VERIFY_ATOL, ">=": value >= reference - VERIFY_ATOL,
          "<=": value <= reference + VERIFY_ATOL}[relation]
    if not (ok and -1.0 - VERIFY_ATOL <= value <= 1.0 + VERIFY_ATOL):
        raise SolverError(f"{what}: self-check failed: value {value!r} should be {relation} {reference!r} and "
                          "lie in [-1, 1]", status="verification_failed")


def solve_debate(judge, features, decisions, n_evidence, first_mover=None, *, max_leaves: int | None = None
                 ) -> DebateOutcome:
    """Exact minimax value of the debate on one state.

    Parameters
    ----------
    judge : Judge
        Any object with ``score(features (N,F), mask (N,F), decisions (N,)) -> (N,)``.  If it also has
        ``score_masks(features (F,), masks (n,F), decisions (k,)) -> (n,k)`` (one state, many masks), the
        leaves are scored through that faster path.
    features : array_like, shape (F,)
        The state.
    decisions : sequence of two int
        ``(a1, a2)``: debater 0 argues ``a1``, debater 1 argues ``a2``.
    n_evidence : int
        L, the total number of reveals (``0 <= L <= F``).
    first_mover : {0, 1} or None
        Who reveals first; None averages the two (a uniformly random first mover).
    max_leaves : int, optional
        Refuse games with more than this many evidence sets C(F, L) (default :data:`MAX_LEAVES`), which
        would exhaust memory; such games need approximate debaters.

    Returns
    -------
    DebateOutcome

    Examples
    --------
    >>> import numpy as np
    >>> from mechsim.debate.judges import LinearJudge
    >>> judge = LinearJudge(np.array([[1.0, 0.0], [0.0, 1.0]]))  # each decision is supported by one feature
    >>> out = solve_debate(judge, np.array([1.0, 2.0]), (0, 1), n_evidence=1)
    >>> out.value, out.values_by_first_mover, out.lines_by_first_mover
    (0.0, (1.0, -1.0), ((0,), (1,)))
    >>> solve_debate(judge, np.array([1.0, 2.0]), (0, 1), n_evidence=2).value  # everything revealed: 1 < 2
    -1.0
    """
    start = time.perf_counter()
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover,
                                                      max_leaves=max_leaves)
    F = features.shape[0]
    tree = _subset_tree(F, L, max_leaves)
    leaves = _leaf_outcomes(judge, features, decisions, tree[L].masks)
    movers = (0, 1) if first_mover is None else (first_mover,)
    values_by: list[float | None] = [None, None]
    lines_by = [(), ()]
    for fm in movers:
        values = _backup(tree, leaves, _minimax_operators(L, fm))
        values_by[fm] = float(values[0][0])
        lines_by[fm] = _principal_line(
            tree, values, lambda k, cv, valid, row, fm=fm: _argbest(cv, valid, mover_at(k, fm) == 0))
    # Verify: the leaf each principal line reaches, scored again through judge.score, realises the value.
    margins, tol = _recomputed_margins(judge, features, decisions,
                                       np.stack([_line_mask(lines_by[fm], F) for fm in movers]))
    _verify_outcomes("solve_debate", margins, tol, [values_by[fm] for fm in movers])
    value = float(np.mean([values_by[fm] for fm in movers]))
    return DebateOutcome(value=value, principal_line=lines_by[movers[0]], first_mover=first_mover,
                         values_by_first_mover=(values_by[0], values_by[1]),
                         lines_by_first_mover=(lines_by[0], lines_by[1]), decisions=decisions, n_evidence=L,
                         n_leaves=int(tree[L].masks.shape[0]), solve_time=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- fixed policies
def policy_probabilities(policy, features, revealed, own_decision, other_decision) -> np.ndarray:
    """Query a debater's policy on a batch of revealed sets; returns validated ``(n, F)`` reveal probabilities.

    Parameters
    ----------
    policy : object or callable
        An object with ``probabilities(features (F,), revealed (n,F) bool, own_decision, other_decision)``
        or a callable with that signature, returning ``(n, F)`` probabilities (zero on revealed features,
        rows summing to 1 within 1e-9) or ``(n,)`` integer feature indices (a deterministic policy).
    features : ndarray, shape (F,)
    revealed : ndarray of bool, shape (n, F)
    own_decision, other_decision : int
        The decision the policy argues and the one it argues against.

    Returns
    -------
    ndarray, shape (n, F)
        Raises :class:`~mechsim.errors.InvalidInstanceError` (argument ``"policy"``) on anything else.
    """
    fn = getattr(policy, "probabilities", policy)
    if not callable(fn):
        raise InvalidInstanceError(f"policy: expected a callable or an object with probabilities(), found "
                                   f"{describe(policy)}", argument="policy")
    features = check_array("features", features, ndim=1)
    revealed = check_mask("revealed", revealed, ndim=2)
    if revealed.shape[1] != features.shape[0]:
        raise InvalidInstanceError(f"revealed: expected one column per entry of features ({features.shape[0]}), "
                                   f"found shape {revealed.shape}", argument="revealed")
    own_decision = check_index("own_decision", own_decision)
    other_decision = check_index("other_decision", other_decision)
    try:
        out = np.asarray(fn(features, revealed, own_decision, other_decision))
    except MechsimError:
        raise
    except Exception as exc:  # noqa: BLE001 - a user's policy may raise anything
        raise InvalidInstanceError(f"policy: expected reveal probabilities, found it raised {type(exc).__name__}: "
                                   f"{exc}", argument="policy") from exc
    n, F = revealed.shape
    if out.shape == (n,) and out.dtype.kind in "iu":
        if out.size and (out.min() < 0 or out.max() >= F or revealed[np.arange(n), out].any()):
            raise InvalidInstanceError("policy: expected to reveal an unrevealed feature index in [0, F), found "
                                       "an invalid or already revealed index", argument="policy")
        probs = np.zeros((n, F))
        probs[np.arange(n), out] = 1.0
        return probs
    if out.shape != (n, F) or out.dtype.kind not in "fiub":
        raise InvalidInstanceError(f"policy: expected probabilities of shape {(n, F)} or indices of shape {(n,)}, "
                                   f"found shape {out.shape} and dtype {out.dtype}", argument="policy")
    out = out.astype(float)
    if not np.all(np.isfinite(out)) or out.min(initial=0.0) < 0:
        raise InvalidInstanceError("policy: expected finite non-negative probabilities", argument="policy")
    if np.any(out[revealed] > 1e-12):
        raise InvalidInstanceError("policy: expected zero probability on already revealed features, found "
                                   f"{out[revealed].max():.3g}", argument="policy")
    sums = out.sum(axis=1)
    if n and np.max(np.abs(sums - 1.0)) > 1e-9:
        raise InvalidInstanceError(f"policy: expected rows summing to 1 within 1e-9, found sum "
                                   f"{sums[np.argmax(np.abs(sums - 1.0))]:.12g}", argument="policy")
    return out


def _policy_probabilities(policy, player, features, revealed, decisions) -> np.ndarray:
    """:func:`policy_probabilities` for debater ``player`` of the game ``decisions``."""
    return policy_probabilities(policy, features, revealed, decisions[player], decisions[1 - player])


class _LevelPolicy:
    """A fixed debater's reveal probabilities on every revealed set of a level, queried once per level."""

    def __init__(self, policy, player, features, decisions, tree):
        self.policy, self.player, self.features, self.decisions, self.tree = policy, player, features, decisions, tree
        self._levels: dict[int, np.ndarray] = {}

    def at(self, k: int) -> np.ndarray:
        if k not in self._levels:
            self._levels[k] = _policy_probabilities(self.policy, self.player, self.features, self.tree[k].masks,
                                                    self.decisions)
        return self._levels[k]

    def operator(self) -> _Operator:
        def op(k, child_vals, valid):
            return np.sum(np.where(valid, child_vals, 0.0) * self.at(k), axis=-1)
        return op


def _expectation_operator(policy, player, features, decisions, tree) -> _Operator:
    return _LevelPolicy(policy, player, features, decisions, tree).operator()


def _plan_operators(tree, values, n_evidence, first_mover, responder, fixed: _LevelPolicy) -> list[_Operator]:
    """The responder's levels follow its greedy plan read off ``values`` (a one-hot reveal per set, lowest
    feature on ties); the fixed debater's levels take the policy's expectation."""
    ops = []
    for k in range(n_evidence):
        if mover_at(k, first_mover) != responder:
            ops.append(fixed.operator())
            continue
        level = tree[k]
        valid = level.children >= 0
        child_vals = values[k + 1][np.where(valid, level.children, 0)]
        key = np.where(valid, child_vals if responder == 0 else -child_vals, -np.inf)
        choice = np.argmax(key, axis=1)

        def op(k, cv, valid, choice=choice):
            return np.take_along_axis(cv, choice[:, None], axis=-1)[:, 0]
        ops.append(op)
    return ops


def best_response(judge, features, decisions, n_evidence, policy, responder, first_mover=None, *,
                  max_leaves: int | None = None) -> BestResponseOutcome:
    """Exact best response of debater ``responder`` against a fixed policy of the other debater.

    The fixed debater ``1 - responder`` reveals according to ``policy``; the responder maximises (debater
    0) or minimises (debater 1) the expected judge outcome for debater 0.  Used as the *confuser*: against an
    honest debater's policy, the best response arguing the other decision measures how robust the honest
    debater's evidence is.

    The result is verified before it is returned: the responder's plan read off the value table (its best
    reveal at every set, lowest feature on ties), evaluated exactly against the policy by a second backup,
    reaches the value, and the value is on the responder's side of the minimax value (at least it for
    debater 0, at most it for debater 1), all within :data:`VERIFY_ATOL`; otherwise
    :class:`~mechsim.errors.SolverError`.

    Parameters
    ----------
    judge, features, decisions, n_evidence, first_mover
        As in :func:`solve_debate`.
    policy : object or callable
        ``policy.probabilities(features (F,), revealed (n,F) bool, own_decision, other_decision)`` (or a
        callable with that signature) returning ``(n, F)`` reveal probabilities, zero on revealed features,
        or ``(n,)`` feature indices for a deterministic policy.  It is queried once per level on every
        revealed set at which the fixed debater moves.
    responder : {0, 1}

    Returns
    -------
    BestResponseOutcome
    """
    start = time.perf_counter()
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover,
                                                      max_leaves=max_leaves)
    responder = check_index("responder", responder, maximum=1)
    _check_policy_object("policy", policy)
    tree = _subset_tree(features.shape[0], L, max_leaves)
    leaves = _leaf_outcomes(judge, features, decisions, tree[L].masks)
    fixed = 1 - responder
    movers = (0, 1) if first_mover is None else (first_mover,)
    values_by: list[float | None] = [None, None]
    lines_by: list[tuple[int, ...]] = [(), ()]
    fixed_policy = _LevelPolicy(policy, fixed, features, decisions, tree)
    for fm in movers:
        values = _backup(tree, leaves, _response_operators(L, fm, responder, fixed_policy.operator()))
        values_by[fm] = float(values[0][0])
        # Verify: the responder's plan reaches the value; the value is on its side of the minimax value.
        plan = _backup(tree, leaves, _plan_operators(tree, values, L, fm, responder, fixed_policy))[0][0]
        _verify_value("best_response (the plan's value)", float(plan), values_by[fm])
        minimax = float(_backup(tree, leaves, _minimax_operators(L, fm))[0][0])
        _verify_value("best_response (against the minimax value)", values_by[fm], minimax,
                      ">=" if responder == 0 else "<=")

        def choose(k, cv, valid, row, fm=fm):
            if mover_at(k, fm) == fixed:
                return int(np.argmax(fixed_policy.at(k)[row]))
            return _argbest(cv, valid, responder == 0)
        lines_by[fm] = _principal_line(tree, values, choose)
    value = float(np.mean([values_by[fm] for fm in movers]))
    return BestResponseOutcome(value=value, responder=responder, principal_line=lines_by[movers[0]],
                               first_mover=first_mover, values_by_first_mover=(values_by[0], values_by[1]),
                               decisions=decisions, n_evidence=L, solve_time=time.perf_counter() - start)


def _check_policy_object(name, policy):
    if not callable(getattr(policy, "probabilities", policy)):
        raise InvalidInstanceError(f"{name}: expected a callable or an object with probabilities(), found "
                                   f"{describe(policy)}", argument=name)
    return policy


@dataclass(frozen=True)
class SubgameValues:
    r"""Value :math:`V(S)` for debater 0 of every revealed set :math:`S`, :math:`|S| \le L`, of one debate.

    :math:`V(S)` is the value of the subgame that starts with :math:`S` revealed, so the table answers
    "what is this position worth, and what is the best reveal" for every position reached in play.

    Attributes
    ----------
    values : tuple of ndarray
        ``values[k][rank]`` = V(S) for the size-k set S of that colex rank (:func:`subset_ranks`);
        ``values[L]`` are the judge outcomes.
    first_mover : int
    responder : int or None
        None: both debaters play minimax.  Otherwise debater ``responder`` best-responds and the other
        follows the fixed policy given to :func:`subgame_values` (expectations at its levels).
    decisions : tuple of int
    n_features, n_evidence : int
    status : str
        ``"optimal"`` (the solver is exact).
    solve_time : float
        Wall-clock seconds of the solve (excluded from equality).
    """

    values: tuple[np.ndarray, ...]
    first_mover: int
    responder: int | None
    decisions: tuple[int, int]
    n_features: int
    n_evidence: int
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)
    tree: tuple = field(default=(), repr=False, compare=False)

    @property
    def value(self) -> float:
        r""":math:`V(\varnothing)`, the value of the game."""
        return float(self.values[0][0])

    def value_at(self, revealed) -> np.ndarray:
        """``(n,)`` value V(S) of each revealed set (rows of ``revealed`` ``(n, F)`` bool, all of one size)."""
        revealed, k = _check_revealed(revealed, self.n_features, self.n_evidence, leaves=True)
        return self.values[k][subset_ranks(revealed)]

    def child_values(self, revealed) -> np.ndarray:
        """``(n, F)`` values V(S ∪ {f}) of each reveal from each revealed set; NaN where f is revealed."""
        child_vals, valid, _ = _children_at(self._tree(), self.values, self.n_features, self.n_evidence, revealed)
        return np.where(valid, child_vals, np.nan)

    def best_reveal(self, revealed) -> np.ndarray:
        """``(n,)`` the reveal that is best for the debater to move at each revealed set.

        Debater 0 maximises and debater 1 minimises V; ties go to the lowest feature index.  At the
        responder's (or, in a minimax table, either debater's) levels this is an optimal move; at the fixed
        debater's levels it is that debater's best one-step deviation.
        """
        child_vals, valid, k = _children_at(self._tree(), self.values, self.n_features, self.n_evidence,
                                            revealed)
        maximise = mover_at(k, self.first_mover) == 0
        return np.argmax(np.where(valid, child_vals if maximise else -child_vals, -np.inf), axis=1)

    def _tree(self):
        return self.tree or _subset_tree(self.n_features, self.n_evidence, max_leaves=self.values[-1].size)


def _check_revealed(revealed, n_features, n_evidence, leaves):
    """Validated ``(n, F)`` revealed sets and their common size (at most L, or below L unless ``leaves``)."""
    revealed = np.atleast_2d(check_mask("revealed", revealed))
    if revealed.ndim != 2 or revealed.shape[1] != n_features:
        raise InvalidInstanceError(f"revealed: expected a boolean array of shape (n, {n_features}), found shape "
                                   f"{revealed.shape}", argument="revealed")
    sizes = revealed.sum(axis=1)
    k = int(sizes[0]) if sizes.size else 0
    if np.any(sizes != k):
        raise InvalidInstanceError("revealed: expected every row to reveal the same number of features, found "
                                   f"sizes {sorted(set(sizes.tolist()))}", argument="revealed")
    if k > n_evidence or (k == n_evidence and not leaves):
        bound = f"at most {n_evidence}" if leaves else f"fewer than {n_evidence}"
        raise InvalidInstanceError(f"revealed: expected {bound} revealed features, found {k}", argument="revealed")
    return revealed, k


def _children_at(tree, values, n_features, n_evidence, revealed):
    """Values ``(n, F)`` of the children S ∪ {f} of the revealed sets, their validity, and the level k."""
    revealed, k = _check_revealed(revealed, n_features, n_evidence, leaves=False)
    children = tree[k].children[subset_ranks(revealed)]
    valid = children >= 0
    return values[k + 1][np.where(valid, children, 0)], valid, k


def subgame_values(judge, features, decisions, n_evidence, first_mover, *, policy=None, responder=None,
                   max_leaves: int | None = None) -> SubgameValues:
    """Exact values of every position of one debate: minimax, or best response against a fixed policy.

    Parameters
    ----------
    judge, features, decisions, n_evidence, max_leaves
        As in :func:`solve_debate`.
    first_mover : {0, 1}
    policy : object or callable, optional
        The fixed debater's policy, in the format of :func:`best_response`.  Without one, both debaters play
        minimax (then :attr:`SubgameValues.value` is :func:`solve_debate`'s value for this first mover; with
        one, :func:`best_response`'s).
    responder : {0, 1}, optional
        The best-responding debater; required exactly when ``policy`` is given.

    Returns
    -------
    SubgameValues

    Examples
    --------
    >>> import numpy as np
    >>> from mechsim.debate.judges import LinearJudge
    >>> judge = LinearJudge(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))  # J(0) = x_0, J(1) = x_1
    >>> table = subgame_values(judge, np.array([3.0, 2.0, 0.0]), (0, 1), n_evidence=2, first_mover=0)
    >>> table.value, table.child_values(np.zeros(3, dtype=bool)).tolist()  # only revealing x_0 wins
    (1.0, [[1.0, -1.0, -1.0]])
    >>> table.best_reveal(np.array([True, False, False])).tolist()  # debater 1 loses anyway: lowest index
    [1]
    """
    start = time.perf_counter()
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover,
                                                      max_leaves=max_leaves)
    if first_mover is None:
        raise InvalidInstanceError("first_mover: expected 0 or 1, found None", argument="first_mover")
    if policy is not None:
        _check_policy_object("policy", policy)
    if (policy is None) != (responder is None):
        raise InvalidInstanceError("responder: expected a responder exactly when a policy is given, found "
                                   f"responder={responder!r} and {'no ' if policy is None else ''}policy",
                                   argument="responder")
    tree = _subset_tree(features.shape[0], L, max_leaves)
    leaves = _leaf_outcomes(judge, features, decisions, tree[L].masks)
    if policy is None:
        values = _backup(tree, leaves, _minimax_operators(L, first_mover))
        # Verify: the principal line's leaf, scored again through judge.score, realises the root value.
        line = _principal_line(tree, values, lambda k, cv, valid, row: _argbest(cv, valid,
                                                                                mover_at(k, first_mover) == 0))
        margins, tol = _recomputed_margins(judge, features, decisions, _line_mask(line, features.shape[0])[None])
        _verify_outcomes("subgame_values", margins, tol, [values[0][0]])
    else:
        responder = check_index("responder", responder, maximum=1)
        fixed = _LevelPolicy(policy, 1 - responder, features, decisions, tree)
        values = _backup(tree, leaves, _response_operators(L, first_mover, responder, fixed.operator()))
        plan = _backup(tree, leaves, _plan_operators(tree, values, L, first_mover, responder, fixed))[0][0]
        _verify_value("subgame_values (the plan's value)", float(plan), float(values[0][0]))
    for v in values:
        v.setflags(write=False)
    return SubgameValues(tuple(values), first_mover, responder, decisions, features.shape[0], L,
                         solve_time=time.perf_counter() - start, tree=tree)


def policy_value(judge, features, decisions, n_evidence, policies, first_mover=None, *,
                 max_leaves: int | None = None) -> float:
    """Exact expected outcome for debater 0 when both debaters follow fixed policies.

    ``policies`` is a pair ``(policy of debater 0, policy of debater 1)`` in the format of
    :func:`best_response`.  Averaged over first movers when ``first_mover`` is None.
    """
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover,
                                                      max_leaves=max_leaves)
    if not isinstance(policies, (tuple, list)) or len(policies) != 2:
        raise InvalidInstanceError(f"policies: expected a pair of policies, found {describe(policies)}",
                                   argument="policies")
    for p in policies:
        _check_policy_object("policies", p)
    tree = _subset_tree(features.shape[0], L, max_leaves)
    leaves = _leaf_outcomes(judge, features, decisions, tree[L].masks)
    ops_by_player = [_expectation_operator(policies[p], p, features, decisions, tree) for p in (0, 1)]
    movers = (0, 1) if first_mover is None else (first_mover,)
    vals = []
    for fm in movers:
        values = _backup(tree, leaves, [ops_by_player[mover_at(k, fm)] for k in range(L)])
        vals.append(float(values[0][0]))
    return float(np.mean(vals))


# ---------------------------------------------------------------------------------------------- brute force
def enumerate_reveal_sequences(n_features: int, n_evidence: int) -> Iterator[tuple[int, ...]]:
    """Every ordered sequence of ``n_evidence`` distinct features: the leaves of the full game tree."""
    n_features = check_integer("n_features", n_features, minimum=1)
    check_allocation("n_features", 8.0 * n_features, f"the feature range of {n_features} features")
    n_evidence = check_integer("n_evidence", n_evidence, minimum=0, maximum=n_features)
    return itertools.permutations(range(n_features), n_evidence)


def _check_sequences(n_features, n_evidence):
    n = perm(n_features, n_evidence)
    check_allocation("n_evidence", (9.0 * n_features + 120) * n, f"{n} reveal sequences (brute force)")


def _sequence_outcomes(judge, features, decisions, L) -> dict[tuple[int, ...], float]:
    seqs = list(enumerate_reveal_sequences(features.shape[0], L))
    masks = np.zeros((len(seqs), features.shape[0]), dtype=bool)
    for i, s in enumerate(seqs):
        masks[i, list(s)] = True
    out = debate_outcome(judge, np.broadcast_to(features, masks.shape), masks, decisions[0], decisions[1])
    return dict(zip(seqs, out.astype(float)))


def brute_force_debate_value(judge, features, decisions, n_evidence, first_mover=None) -> float:
    """Minimax value by plain recursion over every reveal *sequence* (no memoisation; tests only).

    Exponential: ``F! / (F - L)!`` leaves.  Averaged over first movers when ``first_mover`` is None.
    """
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover)
    _check_sequences(features.shape[0], L)
    outcome = _sequence_outcomes(judge, features, decisions, L)
    F = features.shape[0]

    def value(prefix, fm):
        if len(prefix) == L:
            return outcome[prefix]
        vals = [value(prefix + (f,), fm) for f in range(F) if f not in prefix]
        # Written out independently of mover_at so that the oracle checks the alternation too.
        debater_0_moves = (len(prefix) % 2 == 0) == (fm == 0)
        return max(vals) if debater_0_moves else min(vals)

    movers = (0, 1) if first_mover is None else (first_mover,)
    return float(np.mean([value((), fm) for fm in movers]))


def brute_force_best_response(judge, features, decisions, n_evidence, policy, responder,
                              first_mover=None) -> float:
    """Best-response value by recursion over reveal sequences, querying ``policy`` one set at a time."""
    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover)
    responder = check_index("responder", responder, maximum=1)
    _check_policy_object("policy", policy)
    _check_sequences(features.shape[0], L)
    outcome = _sequence_outcomes(judge, features, decisions, L)
    F = features.shape[0]

    def value(prefix, fm):
        if len(prefix) == L:
            return outcome[prefix]
        player = fm if len(prefix) % 2 == 0 else 1 - fm
        options = [f for f in range(F) if f not in prefix]
        if player == responder:
            vals = [value(prefix + (f,), fm) for f in options]
            return max(vals) if responder == 0 else min(vals)
        revealed = np.zeros((1, F), dtype=bool)
        revealed[0, list(prefix)] = True
        probs = _policy_probabilities(policy, player, features, revealed, decisions)[0]
        return sum(probs[f] * value(prefix + (f,), fm) for f in options if probs[f] > 0)

    movers = (0, 1) if first_mover is None else (first_mover,)
    return float(np.mean([value((), fm) for fm in movers]))


# ---------------------------------------------------------------------------------------------- isolated plan
def subset_ranks(masks) -> np.ndarray:
    """Colex ranks of the sets in the rows of ``masks`` (``(n, F)`` bool, every row of the same size)."""
    masks = check_mask("masks", masks, ndim=2)
    n, F = masks.shape
    sizes = masks.sum(axis=1)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = int(sizes[0])
    if np.any(sizes != k):
        raise InvalidInstanceError("masks: expected every row to reveal the same number of features",
                                   argument="masks")
    if k == 0:
        return np.zeros(n, dtype=np.int64)
    members = (np.flatnonzero(masks.ravel()) % F).reshape(n, k)  # row-major: sorted within each row
    binom = _binomial_table(F, k + 1)
    return binom[members, np.arange(1, k + 1)].sum(axis=1)


@dataclass(frozen=True)
class IsolatedPlan:
    """Plan of a debater revealing every feature alone: best achievable final margin from each revealed set.

    Attributes
    ----------
    values : tuple of ndarray
        ``values[k][rank]`` = best final margin ``J(own) - J(other)`` reachable from the size-k set of that
        colex rank by adding features (``values[L]`` are the leaf margins).
    n_features, n_evidence : int
    """

    values: tuple[np.ndarray, ...]
    n_features: int
    n_evidence: int
    tree: tuple = field(default=(), repr=False, compare=False)
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)

    def best_next(self, revealed) -> np.ndarray:
        """``(n,)`` next feature of the best completion of each revealed set (lowest index on ties)."""
        tree = self.tree or _subset_tree(self.n_features, self.n_evidence, max_leaves=self.values[-1].size)
        child_vals, valid, _ = _children_at(tree, self.values, self.n_features, self.n_evidence, revealed)
        return np.argmax(np.where(valid, child_vals, -np.inf), axis=1)

    @property
    def value(self) -> float:
        """Best final margin from the empty set (the optimum of the plan)."""
        return float(self.values[0][0])

    @property
    def best_value(self) -> float:
        """Deprecated alias of :attr:`value`."""
        warnings.warn("IsolatedPlan.best_value is deprecated; use IsolatedPlan.value", DeprecationWarning,
                      stacklevel=2)
        return self.value


def isolated_plan(judge, features, decisions, n_evidence, *, max_leaves: int | None = None) -> IsolatedPlan:
    """Exact plan of a debater arguing ``decisions[0]`` that reveals all ``n_evidence`` features alone.

    Maximises the judge's final margin ``J(a_own|x_S) - J(a_other|x_S)`` (the continuous margin, so that
    among winning sets the most convincing is preferred), by the same level-by-level backup as
    :func:`solve_debate` with a max at every level.
    """
    start = time.perf_counter()
    features, decisions, L, _ = _check_game(judge, features, decisions, n_evidence, None, max_leaves=max_leaves)
    tree = _subset_tree(features.shape[0], L, max_leaves)
    leaves = _leaf_margins(judge, features, decisions, tree[L].masks)
    values = _backup(tree, leaves, [_minimax_operator(True)] * L)
    # Verify: the plan's line reaches a set whose margin, scored again through judge.score, is the optimum.
    line = _principal_line(tree, values, lambda k, cv, valid, row: _argbest(cv, valid, True))
    margin, tol = _recomputed_margins(judge, features, decisions, _line_mask(line, features.shape[0])[None])
    best = float(values[0][0])
    if not abs(float(margin[0]) - best) <= tol[0]:
        raise SolverError(f"isolated_plan: self-check failed: the plan's evidence has margin {float(margin[0])!r}, "
                          f"not the optimum {best!r}", status="verification_failed")
    for v in values:
        v.setflags(write=False)
    return IsolatedPlan(tuple(values), features.shape[0], L, tree, solve_time=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- many games
@dataclass(frozen=True)
class DebateTable:
    """Debate outcomes of every decision against a baseline decision, state by state.

    Attributes
    ----------
    values_by_first_mover : ndarray, shape (S, D, 2)
        Exact game value (outcome in {-1, 0, 1}) for the debater arguing decision ``a`` against the
        baseline when debater ``a`` (index 0) or the baseline's debater (index 1) reveals first.
    baseline : ndarray of int, shape (S,)
    status : str
        ``"optimal"`` (the solver is exact).
    solve_time : float
        Wall-clock seconds of the solve (excluded from equality).
    """

    values_by_first_mover: np.ndarray
    baseline: np.ndarray
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)

    @property
    def value(self) -> np.ndarray:
        """Game value averaged over a uniformly random first mover, in [-1, 1], shape (S, D)."""
        return self.values_by_first_mover.mean(axis=-1)

    @property
    def win_probability(self) -> np.ndarray:
        """Probability that decision ``a`` wins (outcome +1) with a uniformly random first mover, (S, D)."""
        return (self.values_by_first_mover > 0).mean(axis=-1)


#: Largest n_evidence at which :func:`debate_win_table` batches whole chunks of states through one judge pass
#: (``chunk * C(F, L) * D * hidden`` floats; the fast path for L <= 2).  Larger L (up to
#: :data:`MAX_TABLE_LEAVES` evidence sets) is solved state by state on exact leaf outcome tables.
MAX_TABLE_EVIDENCE = 2

#: Default largest number of evidence sets C(F, L) of :func:`debate_win_table` (F = 44: L <= 4).
MAX_TABLE_LEAVES = 250_000


def _score_all_decisions(judge, x: np.ndarray, masks: np.ndarray, n_decisions: int) -> np.ndarray:
    """Scores ``J(a | x_s restricted to masks[k])`` for states ``x`` (S, F), masks (K, F): shape (S, K, D)."""
    return score_grid(judge, x, masks, np.arange(n_decisions))


def _check_table_decisions(judge, n_decisions) -> int:
    """``n_decisions`` of a table of every decision's debates: at least 2, at most the judge's."""
    n_decisions = check_integer("n_decisions", n_decisions, minimum=2)
    declared = getattr(judge, "n_decisions", None)
    if isinstance(declared, int) and n_decisions > declared:
        raise InvalidInstanceError(f"n_decisions: expected at most the judge's n_decisions = {declared}, found "
                                   f"{n_decisions}", argument="n_decisions")
    return n_decisions


def debate_win_table(judge, features, baseline, n_evidence: int, *, n_decisions: int = 25,
                     chunk: int = 8, max_leaves: int | None = None) -> DebateTable:
    """Exact debate values of every decision against ``baseline[s]`` in every state, batched.

    For each state ``s`` (features ``x_s``) and decision ``a``, debater 0 argues ``a`` and debater 1 argues
    ``baseline[s]``; the value for each first mover is the exact minimax value of the reveal game with
    ``n_evidence`` reveals, the same as :func:`solve_debate` on that game.  Identical decisions tie (value 0).

    Two paths, same numbers.  For ``L <= MAX_TABLE_EVIDENCE`` all ``C(F, L)`` leaf sets are scored for all
    decisions of a chunk of states at once (:func:`mechsim.debate.judges.score_grid`) and the ``chunk * D``
    games are backed up together.  For larger L (e.g. L = 4 over 44 features: 135,751 leaf sets) each state
    is one pass: the exact int8 outcome table of all ``D`` decisions against the baseline on all leaf sets
    (:func:`mechsim.debate.judges.outcome_grid`, ``(D, C(F, L))``), then the level-by-level minimax backup of
    the ``D`` games together on the shared subset tree, for each first mover.  In both, every game's
    principal line is followed through the backed-up levels and the leaf it reaches is scored again through
    ``judge.score``; a sign that does not realise the value raises :class:`~mechsim.errors.SolverError`.

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (S, F)
    baseline : array_like of int, shape (S,)
    n_evidence : int
        L, with ``C(F, L) <= max_leaves``.
    n_decisions : int
    chunk : int
        States per batch of the L <= 2 path (memory ~ chunk * C(F, L) * D * hidden floats).
    max_leaves : int, optional
        Refuse games with more evidence sets than this (default :data:`MAX_TABLE_LEAVES`); the subset tree
        and one state's ``D x C(F, L)`` outcome table must fit in memory (checked).

    Returns
    -------
    DebateTable
    """
    start = time.perf_counter()
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    S, F = x.shape
    check_judge_size(judge, F)
    n_decisions = _check_table_decisions(judge, n_decisions)
    base = check_index_array("baseline", baseline, shape=(S,), high=n_decisions,
                             what="integer decisions (one per row of features)")
    L = check_integer("n_evidence", n_evidence, minimum=0, maximum=F)
    chunk = check_integer("chunk", chunk, minimum=1)
    limit = MAX_TABLE_LEAVES if max_leaves is None else check_integer("max_leaves", max_leaves, minimum=1)
    if comb(F, L) > limit:
        raise InvalidInstanceError(
            f"n_evidence: expected at most max_leaves={limit} evidence sets C(F, L), found C({F}, {L}) = "
            f"{comb(F, L)}; use a learned table (mechsim.learners.debate_tables.learned_win_table) or raise "
            "max_leaves", argument="n_evidence")
    if L > MAX_TABLE_EVIDENCE:
        out = _table_by_state(judge, x, base, L, n_decisions, limit)
        return DebateTable(out, base.astype(np.int64), solve_time=time.perf_counter() - start)
    width = max(getattr(judge, "hidden", None) or (1,)) if isinstance(getattr(judge, "hidden", None), tuple) else 1
    check_allocation("chunk", 8.0 * min(chunk, max(S, 1)) * comb(F, L) * n_decisions * (width + F + 4),
                     f"the judge pass of {chunk} states x C({F}, {L}) evidence sets x {n_decisions} decisions")
    tree = _subset_tree(F, L)
    # Leaves are scored in lexicographic order (as the judge pass always has been), then placed by colex rank.
    subsets = list(itertools.combinations(range(F), L))
    combos = np.array(subsets, dtype=np.int64).reshape(len(subsets), L)
    masks = np.zeros((combos.shape[0], F), dtype=bool)
    np.put_along_axis(masks, combos, True, axis=1)
    ranks = subset_ranks(masks)
    K = masks.shape[0]
    ops = [_minimax_operators(L, fm) for fm in (0, 1)]
    out = np.zeros((S, n_decisions, 2))
    for lo in range(0, S, chunk):
        sl = slice(lo, min(S, lo + chunk))
        scores = _score_all_decisions(judge, x[sl], masks, n_decisions)           # (s, K, D)
        b = base[sl]
        ref = np.take_along_axis(scores, b[:, None, None], axis=2)                # (s, K, 1)
        # Outcomes are signs: int8 games-by-leaves table (the backup is a max/min, exact in any dtype).
        outcome = np.sign(scores - ref).astype(np.int8)
        leaves = np.empty((outcome.shape[0] * n_decisions, K), dtype=np.int8)
        leaves[:, ranks] = outcome.transpose(0, 2, 1).reshape(-1, K)              # (s * D, K), colex order
        for fm in (0, 1):
            values = _backup(tree, leaves, ops[fm])
            out[sl, :, fm] = values[0][:, 0].reshape(-1, n_decisions)
            _verify_table_lines(judge, x[sl], b, n_decisions, tree, values, fm)
    out[np.arange(S), base] = 0.0  # identical decisions tie (exactly, whatever the float noise)
    return DebateTable(out, base.astype(np.int64), solve_time=time.perf_counter() - start)


def _table_by_state(judge, x, base, L, n_decisions, max_leaves) -> np.ndarray:
    """The ``L > MAX_TABLE_EVIDENCE`` path of :func:`debate_win_table`: one state at a time, ``(S, D, 2)``."""
    S, F = x.shape
    K = comb(F, L)
    # Per state: the D x K outcome table, the D x C(F, L-1) x F gathered children of the first backup step
    # (int8 each), and the judge's float32 blocks.
    check_allocation("n_evidence", float(n_decisions) * (2 * K + comb(F, L - 1) * F * 2) + 4e6,
                     f"one state's {n_decisions} x C({F}, {L}) = {K} leaf outcomes and their backup")
    tree = _subset_tree(F, L, max_leaves)
    masks = tree[L].masks                                                          # colex order
    compact = _compact_children(F, L) if comb(F, L) <= _CACHE_LEAVES else _build_compact_children(tree)
    out = np.zeros((S, n_decisions, 2))
    for s in range(S):
        leaves = np.asarray(_call_judge(outcome_grid, "outcome_grid()", judge, x[s], masks, int(base[s]),
                                        n_decisions))
        for fm, values in enumerate(_minimax_both_movers(compact, leaves)):
            out[s, :, fm] = values[0][:, 0]
            _verify_table_lines(judge, x[s:s + 1], base[s:s + 1], n_decisions, tree, values, fm)
    out[np.arange(S), base] = 0.0
    return out


@dataclass(frozen=True)
class StateDebateValues:
    r"""Minimax values of every position of every decision's debate against the baseline, in one state.

    For decision :math:`a` (debater 0) against the baseline :math:`b` (debater 1) and first mover ``fm``,
    ``values[fm][k][a, rank]`` is :math:`V(S)` for the size-k revealed set of that colex rank
    (:func:`subset_ranks`): the value of the subgame from that position under minimax play, for the
    debater arguing :math:`a`; ``values[fm][L]`` are the judge outcomes (the same for both first movers).
    Row ``a = b`` ties (all zeros).

    Attributes
    ----------
    values : tuple of two tuples of int8 ndarrays, each ``(D, C(F, k))`` for ``k = 0..L``
    baseline : int
    n_features, n_evidence, n_decisions : int
    status : str
        ``"optimal"`` (exact; the principal line of every game is re-scored through ``judge.score``).
    solve_time : float
    """

    values: tuple
    baseline: int
    n_features: int
    n_evidence: int
    n_decisions: int
    status: str = "optimal"
    solve_time: float = field(default=0.0, compare=False)
    tree: tuple = field(default=(), repr=False, compare=False)

    @property
    def value(self) -> np.ndarray:
        """``(D, 2)`` game values of every decision against the baseline, per first mover."""
        return np.stack([self.values[0][0][:, 0], self.values[1][0][:, 0]], axis=1).astype(float)

    def child_values(self, decisions, first_movers, revealed) -> np.ndarray:
        """``(n, F)`` values V(S ∪ {f}) for the debates of ``decisions (n,)`` with ``first_movers (n,)`` at the
        revealed sets ``revealed (n, F)`` (all of one size k < L); NaN where f is revealed."""
        revealed, k = _check_revealed(revealed, self.n_features, self.n_evidence, leaves=False)
        n = revealed.shape[0]
        dec = check_index_array("decisions", decisions, shape=(n,), high=self.n_decisions)
        fms = check_index_array("first_movers", first_movers, shape=(n,), high=2)
        tree = self.tree or _subset_tree(self.n_features, self.n_evidence)
        children = tree[k].children[subset_ranks(revealed)]                     # (n, F)
        valid = children >= 0
        safe = np.where(valid, children, 0)
        vals = np.empty((n, self.n_features))
        for fm in (0, 1):
            rows = fms == fm
            if rows.any():
                vals[rows] = self.values[fm][k + 1][dec[rows, None], safe[rows]]
        return np.where(valid, vals, np.nan)


def state_debate_values(judge, features, baseline: int, n_evidence: int, *, n_decisions: int = 25,
                        max_leaves: int | None = None) -> StateDebateValues:
    """Minimax values of every position of all ``D`` debates "decision a against ``baseline``" in one state.

    The per-state pass of :func:`debate_win_table` kept whole: the exact int8 outcome table of every decision
    against the baseline on all ``C(F, L)`` evidence sets (:func:`mechsim.debate.judges.outcome_grid`),
    backed up level by level for both first movers, every game's principal line verified through
    ``judge.score``.  Memory: about ``D * (C(F, L) + 2 * sum_{k<L} C(F, k))`` bytes (3.9 MB at F = 44, L = 4,
    D = 25).  An exact minimax debater reads its moves from it (:meth:`StateDebateValues.child_values`).

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (F,)
    baseline : int
    n_evidence : int
    n_decisions : int
    max_leaves : int, optional
        Refuse more than this many evidence sets (default :data:`MAX_TABLE_LEAVES`).
    """
    start = time.perf_counter()
    check_judge("judge", judge)
    x = check_array("features", features, ndim=1)
    F = x.shape[0]
    check_judge_size(judge, F)
    n_decisions = _check_table_decisions(judge, n_decisions)
    base = int(check_index("baseline", baseline, maximum=n_decisions - 1))
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    limit = MAX_TABLE_LEAVES if max_leaves is None else check_integer("max_leaves", max_leaves, minimum=1)
    if comb(F, L) > limit:
        raise InvalidInstanceError(f"n_evidence: expected at most max_leaves={limit} evidence sets C(F, L), found "
                                   f"C({F}, {L}) = {comb(F, L)}", argument="n_evidence")
    check_allocation("n_evidence", float(n_decisions) * (2 * comb(F, L) + comb(F, L - 1) * F * 2) + 4e6,
                     f"{n_decisions} x C({F}, {L}) leaf outcomes and their backup")
    tree = _subset_tree(F, L, limit)
    compact = _compact_children(F, L) if comb(F, L) <= _CACHE_LEAVES else _build_compact_children(tree)
    leaves = np.asarray(_call_judge(outcome_grid, "outcome_grid()", judge, x, tree[L].masks, base, n_decisions))
    both = _minimax_both_movers(compact, leaves)
    for fm, values in enumerate(both):
        _verify_table_lines(judge, x[None], np.array([base]), n_decisions, tree, values, fm)
    def tie_baseline(v):
        v = np.array(v, dtype=np.int8, order="C")
        v[base] = 0  # identical decisions tie
        v.setflags(write=False)
        return v

    shared_leaves = tie_baseline(leaves)  # both first movers' tables end in the same leaves
    frozen = [tuple(tie_baseline(v) for v in values[:L]) + (shared_leaves,) for values in both]
    return StateDebateValues(tuple(frozen), base, F, L, n_decisions, solve_time=time.perf_counter() - start,
                             tree=tree)


@functools.lru_cache(maxsize=4)
def _compact_children(n_features: int, n_evidence: int) -> tuple[np.ndarray, ...]:
    return _build_compact_children(_subset_tree(n_features, n_evidence))


def _build_compact_children(tree) -> tuple[np.ndarray, ...]:
    """Per level k < L, the ``(F - k, C(F, k))`` ranks of the children of every set (a set of size k has
    exactly F - k), transposed so that a backup reduces F - k contiguous rows elementwise."""
    out = []
    for level in tree[:-1]:
        n, F = level.children.shape
        k = level.combos.shape[1]
        kids = level.children[level.children >= 0].reshape(n, F - k)  # row-major: each row's valid children
        kids = np.ascontiguousarray(kids.T)
        kids.setflags(write=False)
        out.append(kids)
    return tuple(out)


def _minimax_both_movers(compact, leaves):
    """Minimax values of every level for ``B`` games ``leaves (B, C(F, L))``, for first mover 0 and 1.

    The same backup as :func:`_backup` with :func:`_minimax_operators`, on the compact child table; the
    largest level's children are gathered once for both first movers (one takes their max, the other their
    min).
    """
    L = len(compact)
    result = []
    gathered = np.take(leaves, compact[L - 1], axis=-1) if L else None          # (B, F - L + 1, C(F, L-1))
    for fm in (0, 1):
        values = [None] * (L + 1)
        values[L] = leaves
        for k in range(L - 1, -1, -1):
            g = gathered if k == L - 1 else np.take(values[k + 1], compact[k], axis=-1)
            values[k] = (np.max if mover_at(k, fm) == 0 else np.min)(g, axis=-2)
        result.append(values)
    return result


def _verify_table_lines(judge, x, baseline, n_decisions, tree, values, first_mover):
    """Follow every game's principal line through the backed-up levels (games are rows: state-major, then
    decision) and score the leaf it reaches again through ``judge.score``: its sign must be the game value."""
    G = values[0].shape[0]
    L = len(tree) - 1
    row = np.zeros(G, dtype=np.int64)
    for k in range(L):
        children = tree[k].children[row]                                          # (G, F)
        valid = children >= 0
        child_vals = np.take_along_axis(values[k + 1], np.where(valid, children, 0), axis=1).astype(float)
        maximise = mover_at(k, first_mover) == 0
        f = np.argmax(np.where(valid, child_vals if maximise else -child_vals, -np.inf), axis=1)
        row = children[np.arange(G), f]
    masks = tree[L].masks[row]
    feats = np.repeat(x, n_decisions, axis=0)
    own = np.tile(np.arange(n_decisions), x.shape[0])
    other = np.repeat(baseline, n_decisions)
    s = np.asarray(_call_judge(judge.score, "score()", np.concatenate([feats, feats]), np.concatenate([masks, masks]),
                               np.concatenate([own, other]).astype(np.int64)), dtype=float)
    margins = s[:G] - s[G:]
    tol = VERIFY_ATOL * (1.0 + np.abs(s[:G]) + np.abs(s[G:]))
    _verify_outcomes("debate_win_table", np.where(own == other, 0.0, margins), tol, values[0][:, 0])


# ---------------------------------------------------------------------------------------------- inspection
def debate_game_tree(judge, features, decisions, n_evidence, first_mover: int = 0, max_nodes: int = 100_000):
    """The solved game as a ``networkx.DiGraph`` over revealed sets, for inspection and plotting.

    Nodes are sorted tuples of revealed features with attributes ``value`` (minimax value for debater 0),
    ``mover`` (who reveals next; None at leaves) and ``level``; an edge ``S -> S ∪ {f}`` has ``feature=f``
    and ``optimal=True`` when ``f`` is an optimal reveal at ``S``.  The graph is a DAG (a set is reached by
    every order of its reveals), with ``sum_k C(F, k)`` nodes for k <= L; ``max_nodes`` guards against
    building a huge graph by accident.
    """
    import networkx as nx

    features, decisions, L, first_mover = _check_game(judge, features, decisions, n_evidence, first_mover)
    if first_mover is None:
        raise InvalidInstanceError("first_mover: expected 0 or 1 for a game tree, found None",
                                   argument="first_mover")
    max_nodes = check_integer("max_nodes", max_nodes, minimum=1)
    F = features.shape[0]
    n_nodes = sum(comb(F, k) for k in range(L + 1))
    if n_nodes > max_nodes:
        raise InvalidInstanceError(f"n_evidence: expected a game with at most max_nodes={max_nodes} revealed "
                                   f"sets, found {n_nodes}", argument="n_evidence")
    tree = _subset_tree(F, L)
    leaves = _leaf_outcomes(judge, features, decisions, tree[L].masks)
    values = _backup(tree, leaves, _minimax_operators(L, first_mover))
    graph = nx.DiGraph(decisions=decisions, n_evidence=L, first_mover=first_mover)
    for k in range(L + 1):
        level = tree[k]
        for row, combo in enumerate(level.combos):
            graph.add_node(tuple(int(c) for c in combo), value=float(values[k][row]), level=k,
                           mover=mover_at(k, first_mover) if k < L else None)
        if k == L:
            break
        for row, combo in enumerate(level.combos):
            node = tuple(int(c) for c in combo)
            best = values[k][row]
            for f in np.flatnonzero(level.children[row] >= 0):
                child_val = values[k + 1][level.children[row, f]]
                child = tuple(sorted(node + (int(f),)))
                graph.add_edge(node, child, feature=int(f), optimal=bool(child_val == best))
    return graph
