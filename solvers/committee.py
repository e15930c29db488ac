"""Exact (group-constrained) committee selection under committee scoring rules.

Given rankings ``v`` with weights ``w_v``, a rule ``(gamma, lambda)`` and a committee size ``k``::

    maximise    F(S) = sum_v w_v sum_{j=1..k} lambda_j gamma(p_j(v, S))
    subject to  |S| = k,    L_g <= |S ∩ G_g| <= U_g   for every group g

(``p_1 < ... < p_k`` are the positions of the members in ``v``).  Three exact methods:

* **separable** (lambda constant): ``F`` is modular with per-item scores ``s_c``.  Each group first
  takes its ``L_g`` best items, then the remaining seats go to the best remaining items whose group is
  below ``U_g``.  Within a group the marginal values are the sorted scores, so this greedy allocation is
  exact.
* **prefix ILP** (any lambda).  With ``delta_p = gamma(p) - gamma(p+1) >= 0`` (``gamma(m) = 0``) and
  ``Lambda(t) = lambda_1 + ... + lambda_t`` a ranking contributes
  ``sum_p delta_p Lambda(|S ∩ top_{p+1}(v)|)``.  Binary ``y_c`` select items; for every distinct ranking
  ``v`` and prefix ``p`` with ``delta_p > 0``, ``x[v,p] = sum_{c in top_{p+1}(v)} y_c`` is carried as a
  chain over the needed prefixes (a few nonzeros per row instead of ``p+1``), and
  ``z[v,p,j] in [0, 1]`` with ``sum_j z[v,p,j] <= x[v,p]`` linearises ``Lambda``; the objective is
  ``sum w_v delta_p lambda_j z[v,p,j]``.  For non-increasing, non-negative lambda the continuous ``z``
  is exact (the LP fills the largest ``lambda_j`` first).  With negative entries the row becomes an
  equality; for lambda that increases somewhere ``z`` is binary with ``z_j >= z_{j+1}``, which forces
  ``z`` to be the first ``x`` unit vectors (the general ILP, larger but exact).  Seats that are forced
  (``|S ∩ top_{p+1}| >= k - (m-1-p)``) enter as constants.  Identical rankings are merged first,
  their weights added.  Solved by HiGHS (through :class:`mechsim.solvers._highs.HighsModel`) with
  ``mip_rel_gap = 0``.
* **lazy CC** (lambda = (l1, 0, ..., 0) with ``l1 > 0`` and ``k >= 2``: Borda-CC, l-approval CC, ...).
  A ranking earns ``l1 gamma(best member position) = l1 sum_p delta_p [S ∩ top_{p+1}(v) nonempty]``, so
  one chain per ranking suffices: over the needed prefixes ``p_1 < p_2 < ...`` (``delta > 0``, not
  forced), continuous ``z[v,i] in [0, 1]`` with
  ``z[v,i] <= z[v,i-1] + sum_{q in (p_{i-1}, p_i]} y_{v(q)}`` and objective
  ``l1 sum w_v delta_{p_i} z[v,i]`` (for binary ``y`` the optimal ``z[v,i]`` is the coverage indicator;
  same LP relaxation as the prefix ILP with half the rows).  Only the first ``D_v`` prefixes of ranking
  ``v`` are modelled; the others count as covered, a constant ``l1 w_v sum_{i > D_v} delta_{p_i}``.  The
  resulting ``F_D(S) >= F(S)`` for every ``S``, with equality when ``S`` covers ``v`` within its prefix
  ``p_{D_v + 1}`` for every ``v``.  Rounds: maximise ``F_D`` exactly; ``max F_D`` bounds ``max F`` from
  above, and the best committee seen so far (greedy first, then every round's optimum) bounds it from
  below with its true score.  When the two meet (up to ``MIP_ABS_GAP``) the incumbent is optimal;
  otherwise the rankings the round's optimum covers beyond their modelled depth are modelled deeper (up
  to the prefix where it covers them plus a margin) and the next round starts from the incumbent as a
  MIP start.  Depths only grow, so this terminates (at worst in the full model, where ``F_D = F``).  The
  initial depth covers the positions before ``max(2.4 m / k, g_v + 4)`` in ranking ``v``, with ``g_v``
  the position of the greedy committee's best member there.  The final bound equals the returned
  committee's recomputed score (self-check); ``time_limit`` bounds the solver time over all rounds.
  Unlike the prefix ILP, this model is solved with HiGHS presolve on (measured faster).

Performance (2-core machine, HiGHS 1.16): Borda-CC with exactly 5 of 10 seats for a random half,
m = 50, n = 100, normalised Mallows: ~1-4 s with the prefix ILP, 0.02-0.25 s with the lazy CC path;
m = 100, n = 1000, k = 20 (exactly 10 seats for a random half, or unconstrained): 7-9 s (up to ~40 s
under load) with the prefix ILP, 0.4-0.5 s with the lazy CC path.  abcvoting's CC ILP on the expanded
profile with the same solver is 5-12x slower than the prefix ILP and ~17x slower than the lazy path at
m = 50 (``benchmarks/bench_committees.py``).  Impartial-culture profiles are much
harder for every ILP formulation (the LP relaxation of this p-median-like problem is weak there):
Borda-CC at m = 50, n = 100, k = 10 takes 18-40 s with the full prefix model and 4-13 s (mostly one
round, 4-7 s) with the lazy CC path, unconstrained or with exactly 5 seats for a random half (seeds 0-4;
4.8x less in total on seeds 0-1 in ``benchmarks/bench_committees.py``); pass ``time_limit`` to bound it.
Over the fair-selection grid's Borda-CC cells (five swap-biased cultures, m = 50, k = 10, n in
{25, 50, 100}, l in {0, 5, 10}, impartial n = 100 left out) the lazy path took 2-3 s against 13-17 s;
no cell got slower.  Small instances (``C(m, k)`` up to 300,000) are enumerated instead.

Infeasible bounds raise :class:`~mechsim.errors.InfeasibleError` before any solve
(:func:`mechsim.committees.constraints.check_group_bounds`, re-exported here), saying which condition
fails (a lower bound above the group size or above its upper bound, lower bounds summing above ``k``, or
the attainable upper bounds summing below ``k``).

Tie-breaking (documented, deterministic): the separable path orders items by score, then by smaller
index, so among optimal committees it returns the one that is lexicographically smallest in that order.
The ILP path returns the optimum HiGHS finds for the deterministic model built from the input (identical
input, identical answer, serial solve with a fixed random seed); the returned ``value`` is always
recomputed from the rankings, and compared with the ILP objective as a self-check.  ``brute-force``
enumerates ``itertools.combinations`` and returns the first optimal committee in lexicographic order.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from mechsim.committees.constraints import GroupBounds, check_group_bounds, feasible_committees, first_optimal
from mechsim.committees.rankings import _positions, check_rankings, check_weights, merge_rankings
from mechsim.committees.rules import CommitteeScoringRule, rule_from_name
from mechsim.committees.scores import _batch_voter_scores, committee_score, order_items
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.solvers._highs import HighsModel
from mechsim.validation import check_allocation, check_choice, check_integer, check_positive

__all__ = ["Committee", "GroupBounds", "best_committee", "check_group_bounds", "check_time_limit", "greedy_committee"]

#: ``method="auto"`` enumerates all committees when ``C(m, k) * distinct rankings * k`` is at most this
#: (a few hundred milliseconds of vectorised work); above it, the ILP.
BRUTE_FORCE_WORK = 20_000_000

#: ... and at most this many committees (they are cached as an int array).
BRUTE_FORCE_COMMITTEES = 300_000


def enumeration_is_cheap(m: int, k: int, n_unique: int) -> bool:
    """Whether ``method="auto"`` enumerates every committee (see the two limits above)."""
    c = math.comb(m, k)
    return c <= BRUTE_FORCE_COMMITTEES and c * n_unique * k <= BRUTE_FORCE_WORK


#: Absolute optimality tolerance passed to HiGHS and used in the objective self-check.
MIP_ABS_GAP = 1e-7


@dataclass(frozen=True, eq=False)
class Committee:
    """A selected committee.

    Attributes
    ----------
    members : ndarray of int, shape (k,)
        Selected items, sorted increasingly.
    value : float
        The optimum ``F(members)`` under the rule, recomputed from the rankings (``score`` is a deprecated
        alias).
    rule : str
        The rule's name.
    method : str
        ``"separable"``, ``"ilp"``, ``"brute-force"``, ``"greedy"``, or ``"lp"`` (certified by an integral
        LP relaxation, from :func:`~mechsim.solvers.committee_family.best_committee_family`).
    status : str
        Solver status (``"optimal"`` for exact methods, ``"heuristic"`` for greedy).
    group_counts : dict
        Number of members per group label (empty without groups).
    solve_time : float
        Wall-clock seconds spent in the solver (0 for the closed-form paths).
    """

    members: np.ndarray
    value: float
    rule: str
    method: str
    status: str = "optimal"
    group_counts: dict = field(default_factory=dict)
    solve_time: float = 0.0

    @property
    def score(self) -> float:
        """Deprecated alias of :attr:`value`."""
        warnings.warn("Committee.score is deprecated; use Committee.value", DeprecationWarning, stacklevel=2)
        return self.value

    def __repr__(self) -> str:
        return (f"Committee(members={self.members.tolist()}, value={self.value:.6g}, rule={self.rule!r}, "
                f"method={self.method!r}, status={self.status!r})")


def check_time_limit(time_limit) -> float | None:
    """``None`` (no limit) or a positive finite number of seconds."""
    return None if time_limit is None else check_positive("time_limit", time_limit)


def _prepare(rankings, k, rule, groups, bounds, weights):
    r = check_rankings(rankings)
    m = r.shape[1]
    k = check_integer("k", k, minimum=1, maximum=m)
    rule = rule_from_name(rule)
    if not isinstance(rule, CommitteeScoringRule):
        raise InvalidInstanceError(f"rule: expected a CommitteeScoringRule, found {type(rule).__name__}",
                                   argument="rule")
    w = check_weights(weights, r.shape[0])
    gb = check_group_bounds(groups, bounds, m, k)
    return r, k, rule, w, gb


def _finish(r, w, members, rule, method, gb, status="optimal", solve_time=0.0, k: int | None = None) -> Committee:
    """The committee with its score recomputed from the rankings, after checking that it is feasible.

    Every selection path ends here, so no path can return a committee of the wrong size, with repeated or
    unknown items, or outside the group bounds: that raises :class:`SolverError` instead.
    """
    members = np.sort(np.asarray(members, dtype=np.int64))
    m = r.shape[1]
    if (k is not None and members.size != k) or np.unique(members).size != members.size or (
            members.size and (members[0] < 0 or members[-1] >= m)):
        raise SolverError(f"the {method} selection returned items {members.tolist()}, which is not a committee "
                          f"of {k if k is not None else members.size} distinct items out of {m}", status=status)
    if gb is not None:
        cnt = np.bincount(gb.group_index[members], minlength=gb.labels.size)
        bad = np.flatnonzero((cnt < gb.lower) | (cnt > gb.upper))
        if bad.size:
            g = int(bad[0])
            label = gb.labels[g].item() if isinstance(gb.labels[g], np.generic) else gb.labels[g]
            raise SolverError(f"the {method} selection has {int(cnt[g])} members of group {label!r}, outside "
                              f"its bounds [{int(gb.lower[g])}, {int(gb.upper[g])}]", status=status)
    value = committee_score(r, members, rule, w)
    counts = gb.counts(members) if gb is not None else {}
    return Committee(members, value, rule.name, method, status, counts, solve_time)


#: Data whose peak magnitude lies in this range go to HiGHS unchanged (the ILP's absolute tolerances suit
#: them); outside it they are rescaled by a power of two (exact in floating point) into it.
_SAFE_PEAK = (2.0**-10, 2.0**20)


def _unit(x: np.ndarray) -> tuple[np.ndarray, float]:
    """``x`` rescaled by a power of two so that its peak magnitude is in ``_SAFE_PEAK``, and the factor."""
    peak = float(np.max(np.abs(x), initial=0.0))
    if peak == 0 or _SAFE_PEAK[0] <= peak <= _SAFE_PEAK[1]:
        return x, 1.0
    factor = 2.0 ** round(np.log2(peak))
    return x / factor, factor


def scaled_objective(uw: np.ndarray, gamma: np.ndarray, lam: np.ndarray):
    """Voter weights, scores and OWA vector brought to a moderate magnitude, and the product of the factors.

    ``F(S) = sum_v w_v sum_j lambda_j gamma(...)`` is linear in each, so the ILP on the rescaled data has the
    same optimal value (in units of ``scale``).  HiGHS's gap and tolerances are absolute, so without this a
    profile with weights of 1e-12 would have every committee "optimal"; data of ordinary magnitude are left
    untouched, so their solves are exactly as before.
    """
    uw, a = _unit(np.asarray(uw, dtype=float))
    gamma, b = _unit(np.asarray(gamma, dtype=float))
    lam, c = _unit(np.asarray(lam, dtype=float))
    return uw, gamma, lam, a * b * c


# ---------------------------------------------------------------------------------------------------
# separable rules


def _separable_select(item_scores: np.ndarray, k: int, gb: GroupBounds | None) -> np.ndarray:
    order = order_items(item_scores)
    if gb is None:
        return order[:k]
    gidx = gb.group_index[order]
    # rank of each item within its group in the global order
    chosen = np.zeros(order.size, dtype=bool)
    seen = np.zeros(gb.labels.size, dtype=np.int64)
    rank_in_group = np.empty(order.size, dtype=np.int64)
    for t, g in enumerate(gidx):  # O(m), Python-level but m is small next to any solve
        rank_in_group[t] = seen[g]
        seen[g] += 1
    chosen |= rank_in_group < gb.lower[gidx]
    remaining = k - int(chosen.sum())
    count = gb.lower.copy()
    for t in np.flatnonzero(~chosen):
        if remaining == 0:
            break
        g = gidx[t]
        if count[g] < gb.upper[g]:
            chosen[t] = True
            count[g] += 1
            remaining -= 1
    return order[chosen]


def _separable_item_scores(r, w, rule, k):
    gamma = rule.gamma(r.shape[1])
    lam = rule.owa_vector(k)
    return lam[0] * (w @ gamma[_positions(r)])


# ---------------------------------------------------------------------------------------------------
# prefix ILP


@dataclass(frozen=True)
class _PrefixModel:
    n_cols: int
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # bool: integer columns
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    constant: float


def _seat_rows(m, k, gb):
    """Triplets and bounds of the rows on ``y`` alone: ``sum_c y_c = k`` and the group bounds."""
    rows, cols, vals = [np.zeros(m, dtype=np.int64)], [np.arange(m)], [np.ones(m)]
    row_lo, row_hi = [np.array([k], float)], [np.array([k], float)]
    n_rows = 1
    if gb is not None:
        constrained = np.flatnonzero((gb.lower > 0) | (gb.upper < gb.size))
        for i, g in enumerate(constrained):
            items = np.flatnonzero(gb.group_index == g)
            rows.append(np.full(items.size, n_rows + i))
            cols.append(items)
            vals.append(np.ones(items.size))
        row_lo.append(gb.lower[constrained].astype(float))
        row_hi.append(gb.upper[constrained].astype(float))
        n_rows += constrained.size
    return rows, cols, vals, row_lo, row_hi, n_rows


def _build_prefix_model(unique, w, gamma, lam, k, gb) -> _PrefixModel:
    u, m = unique.shape
    # per distinct ranking at most m chain rows of a few entries and m * k z columns (with their rows):
    # about 10 triplet entries of 8 bytes, built and converted to CSC
    n_prefixes = int(np.count_nonzero(gamma - np.append(gamma[1:], 0.0)))
    check_allocation("rankings", 240.0 * u * n_prefixes * (k + 2),
                     f"the prefix ILP of {u} distinct rankings, {n_prefixes} prefixes and k={k}")
    delta = gamma - np.append(gamma[1:], 0.0)
    Lam = np.concatenate([[0.0], np.cumsum(lam)])
    monotone = bool(np.all(np.diff(lam) <= 0))
    nonneg = bool(np.all(lam >= 0))
    relaxed = monotone            # continuous z is exact
    inequality = monotone and nonneg

    prefixes = np.flatnonzero(delta != 0)
    tmin = np.maximum(0, k - (m - 1 - prefixes))
    jmax = np.minimum(k, prefixes + 1)
    constant = float(w.sum() * np.sum(delta[prefixes] * Lam[tmin]))

    # j ranges (tmin, jmax]; with the inequality form, zero lambda_j add nothing and are dropped.
    j_lists = []
    for t0, t1 in zip(tmin, jmax):
        js = np.arange(t0 + 1, t1 + 1)
        if inequality:
            js = js[lam[js - 1] != 0]
        j_lists.append(js)
    keep = np.array([js.size > 0 for js in j_lists], dtype=bool)
    prefixes, tmin = prefixes[keep], tmin[keep]
    j_lists = [js for js, kp in zip(j_lists, keep) if kp]
    P = prefixes.size

    # columns: y (m) | x (u*P) | z (u*sum|J_p|)
    nz_per_v = int(sum(js.size for js in j_lists))
    x0 = m
    z0 = m + u * P
    n_cols = z0 + u * nz_per_v
    rows, cols, vals, row_lo, row_hi, n_rows = _seat_rows(m, k, gb)

    if P:
        # chain rows: x[v,i] - x[v,i-1] - sum_{q in (p_{i-1}, p_i]} y[R[v,q]] = 0
        starts = np.concatenate([[0], prefixes[:-1] + 1])
        seg_len = prefixes - starts + 1
        seg_q = np.concatenate([np.arange(s, p + 1) for s, p in zip(starts, prefixes)])
        seg_row = np.repeat(np.arange(P), seg_len)
        v_idx = np.arange(u)[:, None]
        base = n_rows
        chain_rows = base + v_idx * P + seg_row[None, :]              # (u, L)
        rows.append(chain_rows.ravel())
        cols.append(unique[:, seg_q].ravel())
        vals.append(np.full(chain_rows.size, -1.0))
        xcol = x0 + v_idx * P + np.arange(P)[None, :]                   # (u, P)
        rows.append((base + v_idx * P + np.arange(P)[None, :]).ravel())
        cols.append(xcol.ravel())
        vals.append(np.ones(u * P))
        if P > 1:
            rows.append((base + v_idx * P + np.arange(1, P)[None, :]).ravel())
            cols.append(xcol[:, :-1].ravel())
            vals.append(np.full(u * (P - 1), -1.0))
        row_lo.append(np.zeros(u * P))
        row_hi.append(np.zeros(u * P))
        n_rows += u * P

        # z rows: sum_j z[v,p,j] - x[v,p] (<= or =) -tmin_p
        jcount = np.array([js.size for js in j_lists])
        zrow_of = np.repeat(np.arange(P), jcount)                      # per z slot within a voter
        base = n_rows
        zcols = z0 + v_idx * nz_per_v + np.arange(nz_per_v)[None, :]
        rows.append((base + v_idx * P + zrow_of[None, :]).ravel())
        cols.append(zcols.ravel())
        vals.append(np.ones(zcols.size))
        rows.append((base + v_idx * P + np.arange(P)[None, :]).ravel())
        cols.append(xcol.ravel())
        vals.append(np.full(u * P, -1.0))
        rhs = np.tile(-tmin.astype(float), u)
        row_lo.append(np.full(u * P, -np.inf) if inequality else rhs)
        row_hi.append(rhs)
        n_rows += u * P

        if not relaxed:
            # ordering z[v,p,j] >= z[v,p,j+1] within each prefix
            first = np.concatenate([[0], np.cumsum(jcount)[:-1]])
            pairs = np.concatenate([np.arange(f, f + c - 1) for f, c in zip(first, jcount)]) \
                if np.any(jcount > 1) else np.zeros(0, dtype=np.int64)
            if pairs.size:
                npairs = pairs.size
                base = n_rows
                prow = base + v_idx * npairs + np.arange(npairs)[None, :]
                rows.append(prow.ravel())
                cols.append((z0 + v_idx * nz_per_v + pairs[None, :]).ravel())
                vals.append(np.ones(prow.size))
                rows.append(prow.ravel())
                cols.append((z0 + v_idx * nz_per_v + pairs[None, :] + 1).ravel())
                vals.append(np.full(prow.size, -1.0))
                row_lo.append(np.zeros(u * npairs))
                row_hi.append(np.full(u * npairs, np.inf))
                n_rows += u * npairs

        zj = np.concatenate(j_lists)
        zcoef = (delta[prefixes][zrow_of] * lam[zj - 1])[None, :] * w[:, None]
    else:
        zcoef = np.zeros((u, 0))

    cost = np.zeros(n_cols)
    cost[z0:] = zcoef.ravel()
    col_lower = np.zeros(n_cols)
    col_upper = np.ones(n_cols)
    col_upper[x0:z0] = np.inf
    integrality = np.zeros(n_cols, dtype=bool)
    integrality[:m] = True
    if not relaxed:
        integrality[z0:] = True
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_rows, n_cols))
    return _PrefixModel(n_cols, cost, col_lower, col_upper, integrality, A,
                        np.concatenate(row_lo), np.concatenate(row_hi), constant)


def _highs_model(model: _PrefixModel, *, relaxation: bool = False, options: dict | None = None) -> HighsModel:
    """``model`` (with ``relaxation``: its LP relaxation) in one quiet HiGHS instance: maximise, serial, seed 0.

    Presolve is off unless ``options`` says otherwise: HiGHS presolve spends seconds on the prefix model
    without shrinking it usefully, but pays off on the lazy CC model (measured: ~20% less time over ten
    impartial-culture Borda-CC instances).
    """
    return HighsModel(model.cost, model.matrix, model.row_lower, model.row_upper, model.col_lower, model.col_upper,
                      integrality=None if relaxation else model.integrality, maximise=True,
                      options={"random_seed": 0, "presolve": "off", **(options or {})},
                      what="the committee LP relaxation" if relaxation else "the committee ILP")


def _solve_model(model: _PrefixModel, m: int, time_limit: float | None, start: np.ndarray | None = None,
                 presolve: str = "off"):
    """Solve the ILP exactly (``mip_rel_gap = 0``); ``start`` (a full column vector) is a feasible MIP start.

    Returns ``(y, objective, seconds, status)`` with ``y`` the item columns and ``objective`` without the
    model's constant; raises :class:`~mechsim.errors.SolverError` (or ``InfeasibleError``) unless optimal.
    """
    options = {"presolve": presolve, "mip_rel_gap": 0.0, "mip_abs_gap": MIP_ABS_GAP}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    highs = _highs_model(model, options=options)
    if start is not None:
        highs.set_start(start)
    result = highs.solve()
    return result.x[:m], result.value, result.solve_time, result.status


# ---------------------------------------------------------------------------------------------------
# CC-type rules (lambda = (l1, 0, ..., 0)): one chain per voter, modelled lazily


#: Initial modelled depth (needed prefixes per distinct ranking) of the CC path; ``None`` derives it per
#: ranking from the greedy committee (:func:`_cc_initial_depth`).  Tests set a small value to force
#: several rounds.
_CC_INITIAL_DEPTH: int | None = None

#: Automatic depth: every ranking models the prefixes that end before position
#: ``max(ceil(_CC_DEPTH_FACTOR * m / k), g_v + 1 + _CC_DEPTH_MARGIN)``, ``g_v`` = position of the greedy
#: committee's best member in ranking ``v``; a ranking found short in a round is deepened to
#: ``_CC_DEPTH_MARGIN`` prefixes past the one where that round's committee covers it.  Chosen on Borda-CC,
#: impartial culture, m = 50, n = 100, k = 10, with and without group bounds (factor 1.6 / 2 / 2.4 / 2.8,
#: margin 0 / 3 / 6 compared over three to five seeds: 2.4 and 3 had the lowest total time).  Smaller
#: depths need more rounds, each about as costly as the first; larger ones slow every round down (the
#: full single chain takes as long as the prefix ILP).
_CC_DEPTH_FACTOR = 2.4
_CC_DEPTH_MARGIN = 3


def _is_cc_type(lam: np.ndarray) -> bool:
    return lam.size >= 2 and lam[0] > 0 and not np.any(lam[1:])


@dataclass(frozen=True)
class _CCRun:
    members: np.ndarray
    objective: float      # relaxed objective of the last round (equals F(members))
    solve_time: float
    status: str
    rounds: int


def _cc_covering_prefix(best: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Index of the first needed prefix containing position ``best`` (``need.size`` if none)."""
    return np.searchsorted(need, best, side="left")


def _cc_initial_depth(greedy_best: np.ndarray, need: np.ndarray, m: int, k: int) -> np.ndarray:
    """Modelled prefixes per ranking: those ending before ``max(c m / k, greedy position + margin)``."""
    if _CC_INITIAL_DEPTH is not None:
        return np.full(greedy_best.size, min(max(int(_CC_INITIAL_DEPTH), 1), need.size))
    reach = np.maximum(math.ceil(_CC_DEPTH_FACTOR * m / k), greedy_best + 1 + _CC_DEPTH_MARGIN)
    return np.clip(np.searchsorted(need, reach, side="left"), min(1, need.size), need.size)


def _build_cc_model(unique, w, need, delta_need, l1, depth, k, gb, constant) -> _PrefixModel:
    """Single-chain model with ``depth[v]`` modelled prefixes per ranking, the rest as a constant."""
    u, m = unique.shape
    voter = np.repeat(np.arange(u), depth)                       # owner of each z column
    n_z = voter.size
    step = np.arange(n_z) - np.repeat(np.cumsum(depth) - depth, depth)   # prefix index of each z column
    rows, cols, vals, row_lo, row_hi, n_rows = _seat_rows(m, k, gb)
    if n_z:
        # z[v,i] - z[v,i-1] - sum_{q in (need_{i-1}, need_i]} y[R[v,q]] <= 0
        starts = np.concatenate([[0], need[:-1] + 1])
        seg_len = (need - starts + 1)[step]
        seg_row = np.repeat(np.arange(n_z), seg_len)
        offset = np.arange(seg_row.size) - np.repeat(np.cumsum(seg_len) - seg_len, seg_len)
        rows.append(n_rows + seg_row)
        cols.append(unique[voter[seg_row], starts[step][seg_row] + offset])
        vals.append(np.full(seg_row.size, -1.0))
        rows.append(n_rows + np.arange(n_z))
        cols.append(m + np.arange(n_z))
        vals.append(np.ones(n_z))
        chained = np.flatnonzero(step > 0)
        rows.append(n_rows + chained)
        cols.append(m + chained - 1)
        vals.append(np.full(chained.size, -1.0))
        row_lo.append(np.full(n_z, -np.inf))
        row_hi.append(np.zeros(n_z))
        n_rows += n_z
    cum = np.concatenate([[0.0], np.cumsum(delta_need)])
    tail = float(l1 * (w @ (cum[-1] - cum[depth])))              # unmodelled prefixes counted as covered
    n_cols = m + n_z
    cost = np.zeros(n_cols)
    cost[m:] = l1 * w[voter] * delta_need[step]
    integrality = np.zeros(n_cols, dtype=bool)
    integrality[:m] = True
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_rows, n_cols))
    return _PrefixModel(n_cols, cost, np.zeros(n_cols), np.ones(n_cols), integrality, A,
                        np.concatenate(row_lo), np.concatenate(row_hi), constant + tail)


def _solve_cc_lazy(unique, w, gamma, l1, k, gb, time_limit) -> _CCRun:
    u, m = unique.shape
    delta = gamma - np.append(gamma[1:], 0.0)
    prefixes = np.flatnonzero(delta != 0)
    forced = k - (m - 1 - prefixes) >= 1            # top_{p+1} always holds a member
    constant = float(w.sum() * l1 * delta[prefixes[forced]].sum())
    need = prefixes[~forced]
    delta_need = delta[need]
    n_prefixes = need.size
    pos = _positions(unique)

    def gains(chosen, cands):
        current = gamma[pos[:, chosen]].max(axis=1) if chosen else np.zeros(u)
        return l1 * (w @ np.maximum(gamma[pos[:, cands]] - current[:, None], 0.0))

    def true_score(committee):
        return float(l1 * (w @ gamma[pos[:, committee].min(axis=1)]))

    # the incumbent (greedy at first) is the best committee seen; every round's optimum bounds F from above
    incumbent = np.array(_greedy_select(m, k, gb, gains), dtype=np.int64)
    incumbent_score = true_score(incumbent)
    depth = _cc_initial_depth(pos[:, incumbent].min(axis=1), need, m, k)
    elapsed, rounds = 0.0, 0
    while True:
        rounds += 1
        model = _build_cc_model(unique, w, need, delta_need, l1, depth, k, gb, constant)
        remaining = None
        if time_limit is not None:
            remaining = time_limit - elapsed
            if remaining <= 0:
                raise SolverError(f"committee ILP hit the time limit ({time_limit} s) after {rounds - 1} "
                                  "rounds", status="Time limit reached", rounds=rounds - 1)
        # MIP start: the incumbent with its true chain values (feasible; relaxed value >= its score)
        best = pos[:, incumbent].min(axis=1)
        voter = np.repeat(np.arange(u), depth)
        step = np.arange(voter.size) - np.repeat(np.cumsum(depth) - depth, depth)
        start = np.zeros(model.n_cols)
        start[incumbent] = 1.0
        start[m:] = best[voter] <= need[step]
        y, objective, t, status = _solve_model(model, m, remaining, start, presolve="on")
        elapsed += t
        members = np.flatnonzero(y > 0.5)
        if members.size != k:
            raise SolverError(f"committee ILP returned {members.size} items instead of k={k}", status=status)
        upper = objective + model.constant
        score = true_score(members)
        if score > incumbent_score:
            incumbent, incumbent_score = members, score
        if incumbent_score >= upper - MIP_ABS_GAP - 1e-9 * max(1.0, abs(upper)):
            return _CCRun(incumbent, upper, elapsed, status, rounds)
        # the rankings this round's committee covers only in unmodelled prefixes get modelled deeper
        first_cover = _cc_covering_prefix(pos[:, members].min(axis=1), need)
        short = first_cover > depth
        depth = np.where(short, np.minimum(first_cover + _CC_DEPTH_MARGIN, n_prefixes), depth)


# ---------------------------------------------------------------------------------------------------
# public API


def best_committee(rankings, k, rule, groups=None, bounds=None, weights=None, *, method: str = "auto",
                   time_limit: float | None = None) -> Committee:
    """An optimal committee of size ``k`` under ``rule``, optionally with group bounds.

    Parameters
    ----------
    rankings : array_like of int, shape (n_voters, n_items)
        Profile, rows best first.
    k : int
        Committee size, ``1 <= k <= n_items``.
    rule : CommitteeScoringRule or str
        The rule (or a name for :func:`~mechsim.committees.rules.rule_from_name`).
    groups : array_like of int, shape (n_items,), optional
        Group label of every item: integers (integral floats such as ``1.0`` are the same labels);
        non-integral labels are refused, never truncated.
    bounds : mapping label -> (lower, upper), optional
        ``lower <= |S ∩ G_label| <= upper``; ``None`` means no bound on that side.
    weights : array_like, shape (n_voters,), optional
        Non-negative voter weights.
    method : {"auto", "separable", "ilp", "brute-force"}
        ``"auto"`` uses the closed form for separable rules; otherwise it enumerates every committee when
        that is cheap (:func:`enumeration_is_cheap`), else the ILP.  ``"ilp"`` solves the lazy CC model
        for CC-type rules (lambda = (l1 > 0, 0, ..., 0), ``k >= 2``) and the prefix ILP otherwise.
    time_limit : float, optional
        Seconds for the ILP (HiGHS time summed over the lazy CC path's rounds), positive and finite;
        reaching it raises :class:`~mechsim.errors.SolverError`.

    Returns
    -------
    Committee

    Raises
    ------
    InvalidInstanceError
        Bad input (message names the argument).
    InfeasibleError
        The bounds admit no committee of size ``k`` (the message says which condition fails).
    SolverError
        HiGHS stopped without proving optimality.

    Examples
    --------
    >>> from mechsim.committees import rules
    >>> best_committee([[0, 1, 2, 3], [3, 2, 1, 0], [0, 3, 1, 2]], 2, rules.borda_cc()).members
    array([0, 3])
    """
    r, k, rule, w, gb = _prepare(rankings, k, rule, groups, bounds, weights)
    if not isinstance(method, str):
        raise InvalidInstanceError(f"method: expected one of 'auto', 'separable', 'ilp', 'brute-force', found "
                                   f"{method!r}", argument="method")
    check_choice("method", method, ["auto", "separable", "ilp", "brute-force"])
    time_limit = check_time_limit(time_limit)
    if method == "auto":
        if rule.is_separable(k):
            method = "separable"
        else:
            n_unique = np.unique(r, axis=0).shape[0]
            small = enumeration_is_cheap(r.shape[1], k, n_unique)
            method = "brute-force" if small else "ilp"
    if method == "separable":
        if not rule.is_separable(k):
            raise InvalidInstanceError(f"method: 'separable' needs a constant OWA vector; rule {rule.name!r} "
                                       "is not separable", argument="method")
        members = _separable_select(_separable_item_scores(r, w, rule, k), k, gb)
        return _finish(r, w, members, rule, "separable", gb, k=k)
    if method == "brute-force":
        return _brute_force(r, k, rule, w, gb)
    return _ilp_committee(r, k, rule, w, gb, time_limit)[0]


def _ilp_committee(r, k, rule, w, gb, time_limit, formulation: str = "auto") -> tuple[Committee, int]:
    """Exact ILP solve; returns the committee and the number of HiGHS rounds.

    ``formulation``: ``"auto"`` (lazy CC path for CC-type rules with ``k >= 2``, else the prefix ILP),
    ``"cc"`` or ``"prefix"``.
    """
    unique, uw = merge_rankings(r, w)
    uw, gamma, lam, scale = scaled_objective(uw, rule.gamma(r.shape[1]), rule.owa_vector(k))
    if formulation == "auto":
        formulation = "cc" if _is_cc_type(lam) else "prefix"
    if formulation == "cc":
        if not _is_cc_type(lam):
            raise InvalidInstanceError(f"formulation: 'cc' needs lambda = (l1 > 0, 0, ..., 0) with k >= 2; rule "
                                       f"{rule.name!r} has {lam.tolist()}", argument="formulation")
        run = _solve_cc_lazy(unique, uw, gamma, float(lam[0]), k, gb, time_limit)
        members, total, elapsed, status, rounds = run.members, run.objective, run.solve_time, run.status, run.rounds
    else:
        model = _build_prefix_model(unique, uw, gamma, lam, k, gb)
        y, objective, elapsed, status = _solve_model(model, r.shape[1], time_limit)
        members = np.flatnonzero(y > 0.5)
        if members.size != k:
            raise SolverError(f"committee ILP returned {members.size} items instead of k={k}", status=status)
        total, rounds = objective + model.constant, 1
    result = _finish(r, w, members, rule, "ilp", gb, status="optimal", solve_time=elapsed, k=k)
    # The ILP objective (in unit-peak units) must be the recomputed score: a self-check of the formulation.
    if abs(total * scale - result.value) > (1e-6 * max(1.0, abs(total)) + MIP_ABS_GAP) * scale:
        raise SolverError(f"committee ILP objective {total * scale!r} disagrees with the recomputed score "
                          f"{result.value!r}", status=status)
    return result, rounds


def _brute_force(r, k, rule, w, gb, max_committees: int = 2_000_000) -> Committee:
    m = r.shape[1]
    if math.comb(m, k) > max_committees:
        raise InvalidInstanceError(f"method: 'brute-force' would enumerate C({m},{k}) = {math.comb(m, k)} "
                                   f"committees (limit {max_committees})", argument="method")
    combos = feasible_committees(m, k, gb)
    scores = _enumerated_scores(r, w, rule, combos)
    return _finish(r, w, combos[first_optimal(scores)], rule, "brute-force", gb, k=k)


def _enumerated_scores(r, w, rule, combos) -> np.ndarray:
    """``F`` of every committee in ``combos`` (rows), in chunks to bound memory."""
    unique, uw = merge_rankings(r, w)
    m, k = r.shape[1], combos.shape[1]
    gamma, lam = rule.gamma(m), rule.owa_vector(k)
    pos = _positions(unique)
    chunk = max(1, 2_000_000 // (pos.shape[0] * k))
    return np.concatenate([uw @ _batch_voter_scores(pos, combos[i:i + chunk], gamma, lam)
                           for i in range(0, combos.shape[0], chunk)])


def greedy_committee(rankings, k, rule, groups=None, bounds=None, weights=None) -> Committee:
    """Greedy baseline: add, k times, the feasible item with the largest marginal gain.

    An item is feasible if its group stays within its upper bound and the seats left still cover every
    group's unmet lower bound.  Ties go to the smaller index.  For monotone submodular ``F`` this is a
    ``(1 - 1/e)``-approximation without bounds; it is exact for separable rules.  Same parameters and
    errors as :func:`best_committee`; ``status`` is ``"heuristic"``.
    """
    r, k, rule, w, gb = _prepare(rankings, k, rule, groups, bounds, weights)
    unique, uw = merge_rankings(r, w)
    gamma, lam = rule.gamma(r.shape[1]), rule.owa_vector(k)
    pos = _positions(unique)

    def gains(chosen, cands):
        comm = np.column_stack([np.tile(np.array(chosen, dtype=np.int64), (cands.size, 1)), cands])
        return uw @ _batch_voter_scores(pos, comm, gamma, lam[: len(chosen) + 1])

    return _finish(r, w, _greedy_select(r.shape[1], k, gb, gains), rule, "greedy", gb, status="heuristic", k=k)


def _greedy_select(m, k, gb, gains) -> list[int]:
    """Greedy under group bounds; ``gains(chosen, candidates)`` gives the candidates' marginal values."""
    chosen: list[int] = []
    available = np.ones(m, dtype=bool)
    count = np.zeros(gb.labels.size if gb is not None else 0, dtype=np.int64)
    group_masks = [gb.group_index == g for g in range(gb.labels.size)] if gb is not None else []
    for step in range(k):
        feasible = available.copy()
        if gb is not None:
            deficit = np.maximum(gb.lower - count, 0)
            seats_after = k - step - 1
            for g, in_g in enumerate(group_masks):
                if count[g] >= gb.upper[g]:
                    feasible &= ~in_g
                # adding an item of g must leave enough seats for the other groups' deficits
                other_deficit = deficit.sum() - (1 if deficit[g] > 0 else 0)
                if other_deficit > seats_after:
                    feasible &= ~in_g
        cands = np.flatnonzero(feasible)
        best = cands[int(order_items(gains(chosen, cands))[0])]
        chosen.append(int(best))
        available[best] = False
        if gb is not None:
            count[gb.group_index[best]] += 1
    return chosen
