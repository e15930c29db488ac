"""Best committees for a family of group bounds on one profile, sharing one warm-started relaxation.

For one profile, rule and committee size ``k``, and bounds ``B_1, ..., B_T`` on the same groups, compute::

    S_t = argmax { F(S) : |S| = k,  L_g^t <= |S ∩ G_g| <= U_g^t  for every group g },   t = 1..T

(the family ``S_l`` of the fair-selection experiments is ``T = k + 1`` bounds "exactly ``l`` seats for
``G2``").  Each ``S_t`` is what :func:`~mechsim.solvers.committee.best_committee` computes; what this module
adds is speed on families, for OWA rules with non-increasing, non-negative ``lambda``:

1. The prefix model of :mod:`mechsim.solvers.committee` is built **once** for the profile, with one row per
   group, and its LP relaxation (``y`` continuous) is kept in one HiGHS instance.
2. For each ``B_t`` only the group rows' bounds change, and the LP is re-solved from the previous optimal
   basis (dual simplex hot start: a few pivots instead of a cold solve).
3. If the relaxation's optimal ``y`` is integral and the committee it selects scores the LP optimum, that
   committee is optimal: every committee's score is at most the LP optimum.  Otherwise the exact ILP is
   solved as :func:`~mechsim.solvers.committee.best_committee` does.

On profiles with much agreement (Mallows, urn, single-peaked) the relaxation is integral for most bounds;
on impartial-culture profiles it rarely is and the family costs what ``T`` separate solves cost.
Separable rules, Chamberlin–Courant-type rules (``lambda = (l1, 0, ..., 0)``, which have a smaller exact
path of their own), enumerable sizes and OWA vectors that increase somewhere or are negative simply call
``best_committee`` for each bound.

Tie-breaking: a committee certified by the relaxation is the vertex HiGHS's simplex returns, which may be
another optimal committee than the branch-and-bound path would return; scores are equal, and the answer is
deterministic for a given input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from mechsim.committees.rankings import merge_rankings
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.committee import (
    MIP_ABS_GAP,
    Committee,
    _build_prefix_model,
    _finish,
    _highs_model,
    _prepare,
    best_committee,
    check_group_bounds,
    check_time_limit,
    enumeration_is_cheap,
    scaled_objective,
)

__all__ = ["best_committee_family"]

#: ``y`` entries within this distance of 0 or 1 count as integral.
INTEGRALITY_TOLERANCE = 1e-7


def best_committee_family(rankings, k, rule, groups, bounds_list: Sequence[Mapping | None], weights=None, *,
                          time_limit: float | None = None) -> list[Committee]:
    """Best committees for each of several group bounds on the same profile.

    Parameters
    ----------
    rankings, k, rule, groups, weights
        As for :func:`~mechsim.solvers.committee.best_committee`; ``groups`` is required.
    bounds_list : sequence of mappings label -> (lower, upper), or None
        One bounds mapping per requested committee (``None``: no bounds).
    time_limit : float, optional
        Seconds for each exact ILP solve that the relaxation does not settle.

    Returns
    -------
    list of Committee
        One per entry of ``bounds_list``.  ``method`` is ``"lp"`` when the warm-started relaxation
        certified the committee (integral optimum), else what ``best_committee`` used.

    Raises
    ------
    InvalidInstanceError
        Bad input (message names the argument).
    InfeasibleError
        Some bounds admit no committee (checked for every entry before any solve).
    SolverError
        An ILP stopped without proving optimality.
    """
    if groups is None:
        raise InvalidInstanceError("groups: expected a group label per item, found None", argument="groups")
    if isinstance(bounds_list, (Mapping, str)) or not isinstance(bounds_list, Sequence):
        raise InvalidInstanceError(f"bounds_list: expected a sequence of bounds mappings, found "
                                   f"{type(bounds_list).__name__}", argument="bounds_list")
    for i, b in enumerate(bounds_list):
        if b is not None and not isinstance(b, Mapping):
            raise InvalidInstanceError(f"bounds_list[{i}]: expected a mapping label -> (lower, upper) or None, "
                                       f"found {type(b).__name__}", argument="bounds_list")
    time_limit = check_time_limit(time_limit)
    r, k, rule, w, free = _prepare(rankings, k, rule, groups, None, weights)
    m = r.shape[1]
    gbs = [check_group_bounds(groups, b, m, k) for b in bounds_list]

    def exact(b):
        return best_committee(r, k, rule, groups, b, w, time_limit=time_limit)

    lam = rule.owa_vector(k)
    unique, uw = merge_rankings(r, w)
    relaxation_exact = bool(np.all(np.diff(lam) <= 0) and np.all(lam >= 0))
    # Chamberlin-Courant-type rules have their own, smaller exact path in best_committee, which beats
    # the shared relaxation of the full prefix model (measured).
    cc_type = k > 1 and lam[0] > 0 and not np.any(lam[1:])
    if (rule.is_separable(k) or cc_type or not relaxation_exact
            or enumeration_is_cheap(m, k, unique.shape[0])):
        return [exact(b) for b in bounds_list]

    unit_w, unit_gamma, unit_lam, scale = scaled_objective(uw, rule.gamma(m), lam)
    model = _build_prefix_model(unique, unit_w, unit_gamma, unit_lam, k, None)
    relaxation = _highs_model(model, relaxation=True)
    # the entries of bounds_list differ only in these rows' bounds, so one warm model serves them all
    n_groups = free.labels.size
    membership = sp.csr_array((np.ones(m), (free.group_index, np.arange(m))), shape=(n_groups, model.n_cols))
    group_rows = relaxation.add_rows(np.zeros(n_groups), free.size.astype(float), membership)

    out = []
    for gb, b in zip(gbs, bounds_list):
        relaxation.change_row_bounds(group_rows, gb.lower.astype(float), gb.upper.astype(float))
        result = relaxation.run()
        certified = None
        if result.optimal:
            y = result.x[:m]
            if np.all(np.minimum(np.abs(y), np.abs(1.0 - y)) <= INTEGRALITY_TOLERANCE):
                members = np.flatnonzero(y > 0.5)
                if members.size == k:
                    cand = _finish(r, w, members, rule, "lp", gb, status="optimal", solve_time=result.solve_time,
                                   k=k)
                    bound = (result.value + model.constant) * scale
                    if bound - cand.value <= (MIP_ABS_GAP + 1e-9 * max(1.0, abs(cand.value) / scale)) * scale:
                        certified = cand
        out.append(certified if certified is not None else exact(b))
    return out
