"""How well do group constraints recover the latent optimum, and how many rankings does a rule need?

Boehmer, Celis, Huang, Mehrotra and Vishnoi (ICML 2023).  For latent rankings ``V``, biased rankings ``V^``
(same voters), two groups (``G2`` disadvantaged) and a committee size ``k``:

* ``OPT = max_{|S|=k} F_V(S)`` (latent, unconstrained);
* ``S_l = argmax { F_V^(S) : |S| = k, |S ∩ G2| = l }`` (biased, exactly ``l`` disadvantaged members);
* the headline ratio ``max_l F_V(S_l) / OPT``, the unconstrained biased pick's ratio
  ``F_V(S_0^*) / OPT`` with ``S_0^* = argmax_{|S|=k} F_V^(S)``, and the proportional ``l = round(k |G2| / m)``.

:func:`constraint_family` computes the family ``F_V(S_l)`` by exact selection (:mod:`mechsim.solvers.committee`,
:mod:`mechsim.solvers.committee_family`); :func:`rankings_needed` sweeps the number of rankings ``n`` and
returns the smallest ``n`` whose mean ratio ``max_l F(S_l)/OPT`` reaches the target.  The rule's smoothness
statistics ``alpha`` and ``gamma(beta)``, which need singleton scores only, are
:func:`mechsim.committees.smoothness.estimate_smoothness`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.committees._checks import check_callable, check_index_array, check_label, check_labels, check_unit
from mechsim.committees.constraints import all_committees, first_optimal, two_group_bounds
from mechsim.committees.rankings import check_profile_size, check_rankings, random_groups, sample_rankings
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import committee_score, order_items, singleton_scores
from mechsim.committees.smoothness import _biased, _culture, _mean_se, _share
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.solvers.committee import _enumerated_scores, best_committee, enumeration_is_cheap
from mechsim.solvers.committee_family import best_committee_family
from mechsim.validation import _scalar, as_generator, check_allocation, check_array, check_integer

__all__ = ["ConstraintFamily", "RankingsNeeded", "constraint_family", "rankings_needed"]


@dataclass(frozen=True)
class ConstraintFamily:
    """Latent scores of the biased picks over a family of group constraints.

    Attributes
    ----------
    ls : ndarray of int
        The values of ``l`` (number of disadvantaged members) that were feasible.
    values : ndarray
        ``F_V(S_l)`` for each ``l`` in ``ls``.
    opt : float
        Latent unconstrained optimum.
    unconstrained : float
        ``F_V`` of the biased unconstrained pick.
    """

    ls: np.ndarray
    values: np.ndarray
    opt: float
    unconstrained: float

    @property
    def ratios(self) -> np.ndarray:
        return self.values / self.opt

    @property
    def best_ratio(self) -> float:
        return float(self.values.max() / self.opt)

    @property
    def best_l(self) -> int:
        return int(self.ls[int(np.argmax(self.values))])

    @property
    def unconstrained_ratio(self) -> float:
        return self.unconstrained / self.opt


def _enumerable(rankings, k) -> bool:
    return enumeration_is_cheap(rankings.shape[1], k, np.unique(rankings, axis=0).shape[0])


def constraint_family(latent, biased, groups, disadvantaged: int, k: int, rule, ls=None,
                      latent_opt: float | None = None) -> ConstraintFamily:
    """Evaluate ``F_V(S_l)`` for every feasible ``l`` in ``ls`` (default ``0..k``), with two groups.

    Separable rules use per-item scores directly (one sort per group, all ``l`` at once); small instances
    enumerate every committee once; other rules solve the family with
    :func:`mechsim.solvers.committee_family.best_committee_family` (one warm-started relaxation, exact ILP
    where it is fractional).  When ``ls`` covers every
    feasible ``l``, those solves also give the unconstrained biased pick (the best ``S_l`` by biased score,
    ties to the first such ``l``) and, if ``biased`` equals ``latent``, ``OPT``; no extra solve is made.
    ``latent_opt`` may be passed to reuse ``OPT`` across several biased profiles of the same latent
    profile.
    """
    latent = check_rankings(latent, "latent")
    biased = check_rankings(biased, "biased")
    if biased.shape != latent.shape:
        raise InvalidInstanceError(f"biased: expected the latent profile's shape {latent.shape} (the same voters "
                                   f"and items), found {biased.shape}", argument="biased")
    rule = rule_from_name(rule)
    m = latent.shape[1]
    groups = check_labels("groups", groups, m)
    disadvantaged = int(check_label("disadvantaged", disadvantaged, groups)[0])
    k = check_integer("k", k, minimum=1, maximum=m)
    if latent_opt is not None:
        latent_opt = _scalar("latent_opt", latent_opt)
    is_dis = groups == disadvantaged
    n_dis = int(is_dis.sum())
    if ls is None:
        ls = np.arange(k + 1)
    else:
        ls = check_index_array("ls", ls, k + 1, what="numbers of disadvantaged members (0..k)")
        if ls.size == 0:
            raise InvalidInstanceError("ls: expected at least one number of disadvantaged members, found none",
                                       argument="ls")
    asked = ls
    ls = ls[(ls <= n_dis) & (k - ls <= m - n_dis)]
    if ls.size == 0:
        raise InfeasibleError(f"ls: none of {asked.tolist()} is feasible: a committee of k={k} holds between "
                              f"{max(0, k - (m - n_dis))} and {min(k, n_dis)} of the {n_dis} disadvantaged items",
                              status="infeasible")
    if latent_opt is None and (rule.is_separable(k) or _enumerable(biased, k)):
        latent_opt = best_committee(latent, k, rule).value
    if rule.is_separable(k):
        true_s = singleton_scores(latent, rule, k=k)
        seen_s = singleton_scores(biased, rule, k=k)
        order = order_items(seen_s)
        dis_order = order[is_dis[order]]
        adv_order = order[~is_dis[order]]
        cum_dis = np.concatenate([[0.0], np.cumsum(true_s[dis_order])])
        cum_adv = np.concatenate([[0.0], np.cumsum(true_s[adv_order])])
        values = cum_dis[ls] + cum_adv[k - ls]
        unconstrained = float(true_s[order[:k]].sum())
    elif _enumerable(biased, k):
        # One scoring pass over all committees replaces one solve per l; the picks are exactly those of
        # best_committee(..., method="brute-force") (first optimal committee in lexicographic order).
        combos = all_committees(m, k)
        seen = _enumerated_scores(biased, None, rule, combos)
        n_in = is_dis[combos].sum(axis=1)
        picks = []
        for l in ls:
            idx = np.flatnonzero(n_in == l)
            picks.append(combos[idx[first_optimal(seen[idx])]])
        picks.append(combos[first_optimal(seen)])
        scores = [committee_score(latent, c, rule) for c in picks]
        values, unconstrained = np.array(scores[:-1]), float(scores[-1])
    else:
        picks = best_committee_family(biased, k, rule, groups,
                                      [two_group_bounds(groups, disadvantaged, int(l), k) for l in ls])
        values = np.array([committee_score(latent, c.members, rule) for c in picks])
        every_l = np.arange(k + 1)
        every_l = every_l[(every_l <= n_dis) & (k - every_l <= m - n_dis)]
        if np.array_equal(np.sort(ls), every_l):
            # Every k-subset has one of these l, so the best S_l (by biased score; ties: first in ``ls``) is
            # an unconstrained biased optimum, and without bias the best S_l is the latent optimum: the two
            # extra solves are unnecessary.
            seen = np.array([c.value for c in picks])
            unconstrained = float(values[first_optimal(seen)])
            if latent_opt is None and np.array_equal(latent, biased):
                latent_opt = float(values.max())
        else:
            unconstrained = committee_score(latent, best_committee(biased, k, rule).members, rule)
        if latent_opt is None:
            latent_opt = best_committee(latent, k, rule).value
    return ConstraintFamily(ls, np.asarray(values, dtype=float), float(latent_opt), float(unconstrained))


def _check_n_grid(n_grid) -> np.ndarray:
    """Numbers of rankings: a 1-D array of positive integers (empty: nothing to sweep)."""
    arr = check_array("n_grid", n_grid)
    if arr.ndim != 1:
        raise InvalidInstanceError(f"n_grid: expected a 1-D array of numbers of rankings, found shape {arr.shape}",
                                   argument="n_grid")
    if arr.size and (np.any(arr != np.round(arr)) or arr.min() < 1):
        bad = arr[(arr != np.round(arr)) | (arr < 1)][0]
        raise InvalidInstanceError(f"n_grid: expected positive integers, found {bad!r}", argument="n_grid")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class RankingsNeeded:
    """Output of :func:`rankings_needed`: mean ratio per ``n`` and the first ``n`` reaching the target."""

    n_grid: np.ndarray
    mean_ratio: np.ndarray
    se_ratio: np.ndarray
    target: float
    n_needed: int | None


def rankings_needed(rule, culture, bias, target: float = 0.95, *, n_items: int = 50, k: int = 10,
                    n_grid=(5, 10, 20, 40, 80, 160), draws: int = 20, seed=None,
                    disadvantaged_share: float = 0.5) -> RankingsNeeded:
    """Smallest number of rankings at which ``max_l F(S_l)/OPT`` (mean over draws) reaches ``target``.

    For each ``n`` in ``n_grid``: draw latent rankings from ``culture``, a random group split, biased
    rankings through ``bias``; compute ``max_l F(S_l) / OPT`` with :func:`constraint_family`.  Returns
    the curve (mean and standard error per ``n``) and the first ``n`` whose mean is at least ``target``
    (``None`` if none is).
    """
    rule = rule_from_name(rule)
    target = check_unit("target", target)
    n_items = check_integer("n_items", n_items, minimum=2)
    k = check_integer("k", k, minimum=1, maximum=n_items)
    n_grid = _check_n_grid(n_grid)
    draws = check_integer("draws", draws, minimum=1)
    name, params = _culture(culture, n_items)
    bias = check_callable("bias", bias)
    n_dis = _share(disadvantaged_share, n_items)
    if n_grid.size:
        check_profile_size(int(n_grid.max()), n_items)
    check_allocation("draws", 8.0 * draws, f"the ratios of {draws} draws")
    rng = as_generator(seed)
    means, ses = [], []
    for n in n_grid:
        vals = np.empty(draws)
        for d in range(draws):
            latent = sample_rankings(name, int(n), n_items, seed=rng, **params)
            groups = random_groups(n_items, n_dis, seed=rng)
            biased = _biased(bias, latent, groups, rng)
            vals[d] = constraint_family(latent, biased, groups, 1, k, rule).best_ratio
        mean, se = _mean_se(vals)
        means.append(mean)
        ses.append(se)
    means = np.array(means)
    hit = np.flatnonzero(means >= target - 1e-12)
    return RankingsNeeded(n_grid, means, np.array(ses), target, int(n_grid[hit[0]]) if hit.size else None)
