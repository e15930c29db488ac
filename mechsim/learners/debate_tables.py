r"""Debate tables from learned debaters: every decision against a baseline, in every state, at any L.

The exact table :func:`mechsim.solvers.debate.debate_win_table` gives, for every state :math:`s` and
decision :math:`a`, the minimax value of the reveal game "a against the baseline :math:`b(s)`" for each
first mover.  It needs all :math:`\binom{F}{L}` evidence sets, so it stops at L = 4 for 44 features.  Here
the same table is computed for two given debaters instead of optimal play: debater :math:`\pi_0` argues
:math:`a`, debater :math:`\pi_1` argues :math:`b(s)` (by default one debater on both sides, as in the paper's
self-play), they alternate reveals from the first mover until L features are revealed, and the judge
decides :math:`u = \operatorname{sign}(J(a|x_S) - J(b(s)|x_S))`.  With first mover :math:`m`,

.. math::  V_m(s, a) = \mathbb E_{\pi_0, \pi_1}[u], \qquad P_m(s, a) = \Pr_{\pi_0, \pi_1}[u = 1],

and the table's ``win_probability`` is :math:`\tfrac12 (P_0 + P_1)` (a uniformly random first mover), the
quantity the debate reward :math:`r_{debate}(s, a) = c\, P(a \text{ wins})` uses.

How the expectation is computed (``method``):

- ``"exact"``: the support of the two policies is enumerated.  All games start as one path of probability 1;
  at each reveal every path is split into one path per feature the mover reveals with positive probability,
  carrying the product of the probabilities; at the end :math:`V` and :math:`P` are the probability-weighted
  sums of the outcomes.  For deterministic debaters (greedy, argmax play of a neural policy) every game is
  one path, so this is the exact outcome at the cost of one batched policy query per reveal.  It refuses
  (``InvalidInstanceError`` on ``max_paths``) when the paths would exceed ``max_paths`` per game.
- ``"sample"``: ``n_samples`` independent seeded plays per (state, decision, first mover), all batched;
  :math:`V` and :math:`P` are the sample means (standard error at most :math:`1/(2\sqrt{n})` for P).
- ``"auto"`` (default): ``"exact"``, falling back to ``"sample"`` when the support is too large; the table
  says which was used.

All ``S x (D - 1) x 2`` games (the baseline's own decision ties, value 0) are played together, one batched
``batch_probabilities`` call per reveal and debater on chunks of ``query_chunk`` rows.

:class:`ArgmaxDebater` plays any debater's most probable reveal (lowest feature on ties): deterministic
play of a stochastic policy, whose table is then exact at one path per game.  :func:`compare_tables`
measures how far two tables (e.g. learned and exact at L = 4) agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from mechsim.debate._checks import check_index_array, check_judge, check_judge_size, describe
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import BaseDebater
from mechsim.validation import as_generator, check_allocation, check_array, check_choice, check_integer

__all__ = ["LearnedDebateTable", "learned_win_table", "ArgmaxDebater", "TableAgreement", "compare_tables"]


@dataclass(frozen=True)
class LearnedDebateTable:
    """Outcomes of learned debaters' debates of every decision against a baseline, state by state.

    Same fields as :class:`mechsim.solvers.debate.DebateTable` (``values_by_first_mover``, ``baseline``,
    ``value``, ``win_probability``), so consumers of the exact table take this one too.

    Attributes
    ----------
    values_by_first_mover : ndarray, shape (S, D, 2)
        Expected outcome in [-1, 1] for the debater of decision ``a`` when it (index 0) or the baseline's
        debater (index 1) reveals first.
    wins_by_first_mover : ndarray, shape (S, D, 2)
        Probability that decision ``a`` wins (outcome +1), per first mover.
    baseline : ndarray of int, shape (S,)
    n_evidence : int
    method : str
        ``"exact"`` (support enumeration: exact expectations) or ``"sample"``.
    n_samples : int
        Plays per (state, decision, first mover) when sampled (0 when exact).
    max_paths_used : int
        Largest number of simultaneous paths of one game (1 for deterministic debaters; exact only).
    status : str
        ``"exact_expectation"`` or ``"sampled"``.
    solve_time : float
        Wall-clock seconds (excluded from equality).
    """

    values_by_first_mover: np.ndarray
    wins_by_first_mover: np.ndarray
    baseline: np.ndarray
    n_evidence: int
    method: str
    n_samples: int = 0
    max_paths_used: int = 1
    status: str = "exact_expectation"
    solve_time: float = field(default=0.0, compare=False)

    @property
    def value(self) -> np.ndarray:
        """Expected outcome with a uniformly random first mover, (S, D)."""
        return self.values_by_first_mover.mean(axis=-1)

    @property
    def win_probability(self) -> np.ndarray:
        """Probability that decision ``a`` wins with a uniformly random first mover, (S, D)."""
        return self.wins_by_first_mover.mean(axis=-1)


class ArgmaxDebater(BaseDebater):
    """Reveals the wrapped debater's most probable feature (lowest index on ties): its deterministic play.

    Parameters
    ----------
    debater : object with ``batch_probabilities``
    """

    def __init__(self, debater):
        self.debater = _check_debater("debater", debater)

    def batch_probabilities(self, features, revealed, own, other):
        revealed = np.asarray(revealed, dtype=bool)
        p = np.asarray(self.debater.batch_probabilities(features, revealed, own, other), dtype=float)
        if p.shape != revealed.shape:
            raise InvalidInstanceError(f"debater: expected batch_probabilities() of shape {revealed.shape}, found "
                                       f"{p.shape}", argument="debater")
        out = np.zeros(revealed.shape)
        out[np.arange(p.shape[0]), np.argmax(np.where(revealed, -np.inf, p), axis=1)] = 1.0
        return out


class _TooManyPaths(Exception):
    pass


def _check_debater(name, debater):
    if not callable(getattr(debater, "batch_probabilities", None)):
        raise InvalidInstanceError(f"{name}: expected a debater (an object with batch_probabilities()), found "
                                   f"{describe(debater)}", argument=name)
    return debater


def _query(debater, features, revealed, own, other, chunk):
    """Validated ``(n, F)`` reveal probabilities of ``debater`` in row chunks."""
    n, F = revealed.shape
    out = np.empty((n, F))
    for lo in range(0, n, chunk):
        sl = slice(lo, lo + chunk)
        p = np.asarray(debater.batch_probabilities(features[sl], revealed[sl], own[sl], other[sl]), dtype=float)
        m = revealed[sl].shape[0]
        if p.shape != (m, F) or not np.all(np.isfinite(p)) or p.min(initial=0.0) < 0:
            raise InvalidInstanceError(f"debaters: expected batch_probabilities() to return finite non-negative "
                                       f"probabilities of shape {(m, F)}, found shape {p.shape}",
                                       argument="debaters")
        if np.any(p[revealed[sl]] > 1e-12):
            raise InvalidInstanceError("debaters: expected zero probability on already revealed features",
                                       argument="debaters")
        sums = p.sum(axis=1)
        if m and np.max(np.abs(sums - 1.0)) > 1e-6:
            raise InvalidInstanceError(f"debaters: expected reveal probabilities summing to 1, found a row summing "
                                       f"to {sums[np.argmax(np.abs(sums - 1.0))]:.9g}", argument="debaters")
        out[sl] = p / sums[:, None]
    return out


def _play(judge, x, own_dec, other_dec, fm, L, debaters, chunk, *, exact, n_samples, max_paths, rng):
    """Play the games ``(x[g], own_dec[g] vs other_dec[g], first mover fm[g])``; returns (E[u], P[u=1], paths)."""
    G, F = x.shape
    if exact:
        game = np.arange(G)
        prob = np.ones(G)
    else:
        game = np.repeat(np.arange(G), n_samples)
        prob = np.full(G * n_samples, 1.0 / n_samples)
    revealed = np.zeros((game.size, F), dtype=bool)
    widest = 1
    for k in range(L):
        mover = np.where(k % 2 == 0, fm[game], 1 - fm[game])
        p = np.empty((game.size, F))
        for player in (0, 1):
            rows = np.flatnonzero(mover == player)
            if rows.size == 0:
                continue
            g = game[rows]
            own = own_dec[g] if player == 0 else other_dec[g]
            other = other_dec[g] if player == 0 else own_dec[g]
            p[rows] = _query(debaters[player], x[g], revealed[rows], own, other, chunk)
        if exact:
            path, feat = np.nonzero(p > 0.0)
            counts = np.bincount(game[path], minlength=G)
            widest = int(counts.max(initial=1))
            if widest > max_paths:
                raise _TooManyPaths(widest)
            prob = prob[path] * p[path, feat]
            game = game[path]
            revealed = revealed[path]
            revealed[np.arange(path.size), feat] = True
        else:
            cum = np.cumsum(p, axis=1)
            u = rng.random(game.size)[:, None] * cum[:, -1:]
            f = np.minimum((cum <= u).sum(axis=1), F - 1)
            bad = revealed[np.arange(game.size), f] | (p[np.arange(game.size), f] <= 0.0)
            if bad.any():  # rounding at the top of the cumulative sum: take the most probable instead
                f[bad] = np.argmax(p[bad], axis=1)
            revealed[np.arange(game.size), f] = True
    u = np.empty(game.size)
    for lo in range(0, game.size, 65536):
        g, r = game[lo:lo + 65536], revealed[lo:lo + 65536]
        n = g.size
        xs = x[g]
        s = np.asarray(judge.score(np.concatenate([xs, xs]), np.concatenate([r, r]),
                                   np.concatenate([own_dec[g], other_dec[g]]).astype(np.int64)), dtype=float)
        if s.shape != (2 * n,) or not np.all(np.isfinite(s)):
            raise InvalidInstanceError(f"judge: expected score() to return {2 * n} finite floats, found shape "
                                       f"{s.shape}", argument="judge")
        u[lo:lo + n] = np.sign(s[:n] - s[n:])
    value = np.bincount(game, weights=prob * u, minlength=G)
    win = np.bincount(game, weights=prob * (u > 0), minlength=G)
    return value, win, widest


def learned_win_table(judge, features, baseline, n_evidence: int, debaters, *, n_decisions: int = 25,
                      method: str = "auto", n_samples: int = 32, max_paths: int = 64, query_chunk: int = 4096,
                      seed=None) -> LearnedDebateTable:
    """Debate outcomes of ``debaters`` for every decision against ``baseline[s]`` in every state (module doc).

    Parameters
    ----------
    judge : Judge
    features : array_like, shape (S, F)
    baseline : array_like of int, shape (S,)
        The decision the second debater argues in each state.
    n_evidence : int
        L, total reveals (``1 <= L <= F``).
    debaters : debater or pair of debaters
        Objects with ``batch_probabilities(features (n,F), revealed (n,F) bool, own (n,), other (n,)) ->
        (n,F)``; a single debater plays both sides, a pair ``(pi_0, pi_1)`` has ``pi_0`` argue the decision
        and ``pi_1`` the baseline.
    n_decisions : int
        D; decisions ``0..D-1`` are debated.
    method : {"auto", "exact", "sample"}
    n_samples : int
        Plays per game when sampled.
    max_paths : int
        Largest number of reveal paths of one game that ``"exact"`` enumerates.
    query_chunk : int
        Rows per ``batch_probabilities`` call.
    seed : int or Generator
        Sampling (unused when exact).

    Returns
    -------
    LearnedDebateTable
    """
    start = time.perf_counter()
    check_judge("judge", judge)
    x = check_array("features", features, ndim=2)
    S, F = x.shape
    if S == 0 or F == 0:
        raise InvalidInstanceError(f"features: expected at least one state and one feature, found shape {x.shape}",
                                   argument="features")
    check_judge_size(judge, F)
    D = check_integer("n_decisions", n_decisions, minimum=2)
    declared = getattr(judge, "n_decisions", None)
    if isinstance(declared, int) and D > declared:
        raise InvalidInstanceError(f"n_decisions: expected at most the judge's n_decisions = {declared}, found {D}",
                                   argument="n_decisions")
    base = check_index_array("baseline", baseline, shape=(S,), high=D,
                             what="integer decisions (one per row of features)").astype(np.int64)
    L = check_integer("n_evidence", n_evidence, minimum=1, maximum=F)
    if isinstance(debaters, (tuple, list)):
        if len(debaters) != 2:
            raise InvalidInstanceError(f"debaters: expected one debater or a pair, found a sequence of "
                                       f"{len(debaters)}", argument="debaters")
        pair = (_check_debater("debaters", debaters[0]), _check_debater("debaters", debaters[1]))
    else:
        pair = (_check_debater("debaters", debaters),) * 2
    method = check_choice("method", method, ("auto", "exact", "sample"))
    n_samples = check_integer("n_samples", n_samples, minimum=1)
    max_paths = check_integer("max_paths", max_paths, minimum=1)
    query_chunk = check_integer("query_chunk", query_chunk, minimum=1)
    rng = as_generator(seed)
    # Games: every (state, decision != baseline), for each first mover.
    s_idx, a_idx = np.nonzero(np.arange(D)[None, :] != base[:, None])
    G = s_idx.size
    gx = np.concatenate([x[s_idx], x[s_idx]])
    own = np.concatenate([a_idx, a_idx]).astype(np.int64)
    other = np.concatenate([base[s_idx], base[s_idx]])
    fm = np.repeat(np.array([0, 1]), G)
    rows_exact = 2 * G * max_paths
    rows_sample = 2 * G * n_samples
    if method != "exact":  # checked up front: "auto" may need the samples after an exact attempt
        check_allocation("n_samples", float(rows_sample) * (9 * F + 24), f"{rows_sample} sampled debates")
    values = wins = None
    used, widest = method, 1
    if method in ("auto", "exact"):
        check_allocation("max_paths", float(rows_exact) * (9 * F + 24), f"{rows_exact} reveal paths of {F} features")
        try:
            values, wins, widest = _play(judge, gx, own, other, fm, L, pair, query_chunk, exact=True, n_samples=0,
                                         max_paths=max_paths, rng=rng)
            used = "exact"
        except _TooManyPaths as exc:
            if method == "exact":
                raise InvalidInstanceError(f"max_paths: expected the debaters' support to stay within {max_paths} "
                                           f"reveal paths per game, found {exc.args[0]}; use method='sample' or "
                                           "raise max_paths", argument="max_paths") from None
    if values is None:
        values, wins, _ = _play(judge, gx, own, other, fm, L, pair, query_chunk, exact=False, n_samples=n_samples,
                                max_paths=max_paths, rng=rng)
        used = "sample"
    v = np.zeros((S, D, 2))
    w = np.zeros((S, D, 2))
    for m in (0, 1):
        v[s_idx, a_idx, m] = values[m * G:(m + 1) * G]
        w[s_idx, a_idx, m] = wins[m * G:(m + 1) * G]
    for arr in (v, w, base):
        arr.setflags(write=False)
    return LearnedDebateTable(v, w, base, L, used, n_samples=n_samples if used == "sample" else 0,
                              max_paths_used=widest if used == "exact" else 0,
                              status="exact_expectation" if used == "exact" else "sampled",
                              solve_time=time.perf_counter() - start)


@dataclass(frozen=True)
class TableAgreement:
    """How far two debate tables agree on the same (state, decision) games (baseline's own decision excluded).

    Attributes
    ----------
    same_winner : float
        Fraction of (state, decision, first mover) games whose outcome class (win / tie-or-loss, i.e. whether
        the debate reward is paid) is the same in both tables, by the more probable class of each.
    same_winner_random_first : float
        The same with a random first mover: fraction of (state, decision) pairs where ``P(win) > 1/2``
        agrees (ties of 1/2 count as no win).
    mean_abs_win_difference : float
        Mean ``|P_1(win) - P_2(win)|`` over (state, decision) pairs (random first mover).
    mean_abs_value_difference : float
        Mean ``|V_1 - V_2|`` of the expected outcomes (random first mover).
    win_rate_first, win_rate_second : float
        Mean ``P(win)`` of each table.
    n_games : int
        Number of (state, decision) pairs compared.
    """

    same_winner: float
    same_winner_random_first: float
    mean_abs_win_difference: float
    mean_abs_value_difference: float
    win_rate_first: float
    win_rate_second: float
    n_games: int


def _table_arrays(name, table):
    v = getattr(table, "values_by_first_mover", None)
    base = getattr(table, "baseline", None)
    if v is None or base is None:
        raise InvalidInstanceError(f"{name}: expected a debate table (values_by_first_mover, baseline), found "
                                   f"{describe(table)}", argument=name)
    v = check_array(f"{name}.values_by_first_mover", v, ndim=3)
    if v.shape[-1] != 2:
        raise InvalidInstanceError(f"{name}: expected values_by_first_mover of shape (S, D, 2), found {v.shape}",
                                   argument=name)
    w = getattr(table, "wins_by_first_mover", None)
    w = (v > 0).astype(float) if w is None else check_array(f"{name}.wins_by_first_mover", w, shape=v.shape)
    return v, w, np.asarray(base)


def compare_tables(first, second) -> TableAgreement:
    """Agreement of two debate tables on the same states, decisions and baseline (see :class:`TableAgreement`).

    Either may be an exact :class:`~mechsim.solvers.debate.DebateTable` (whose win probability per first mover
    is ``1[value > 0]``) or a :class:`LearnedDebateTable`.
    """
    v1, w1, b1 = _table_arrays("first", first)
    v2, w2, b2 = _table_arrays("second", second)
    if v1.shape != v2.shape or not np.array_equal(b1, b2):
        raise InvalidInstanceError(f"second: expected a table of the same shape {v1.shape} and baseline as first, "
                                   f"found shape {v2.shape}", argument="second")
    S, D, _ = v1.shape
    keep = np.arange(D)[None, :] != b1[:, None]
    if not keep.any():
        raise InvalidInstanceError("first: expected at least one decision different from the baseline",
                                   argument="first")
    p1, p2 = w1.mean(axis=-1)[keep], w2.mean(axis=-1)[keep]
    same = ((w1 > 0.5) == (w2 > 0.5))[keep]
    return TableAgreement(
        same_winner=float(same.mean()),
        same_winner_random_first=float(np.mean((p1 > 0.5) == (p2 > 0.5))),
        mean_abs_win_difference=float(np.mean(np.abs(p1 - p2))),
        mean_abs_value_difference=float(np.mean(np.abs(v1.mean(axis=-1)[keep] - v2.mean(axis=-1)[keep]))),
        win_rate_first=float(p1.mean()), win_rate_second=float(p2.mean()), n_games=int(keep.sum()))
