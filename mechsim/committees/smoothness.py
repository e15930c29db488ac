"""How well do group constraints recover the latent optimum, and how many rankings does a rule need?

For latent rankings ``V``, biased rankings ``V^`` (same voters), two groups (``G2`` disadvantaged) and a
committee size ``k``:

* ``OPT = max_{|S|=k} F_V(S)`` (latent, unconstrained);
* ``S_l = argmax { F_V^(S) : |S| = k, |S ∩ G2| = l }`` (biased, exactly ``l`` disadvantaged members);
* the headline ratio ``max_l F_V(S_l) / OPT``, the unconstrained biased pick's ratio
  ``F_V(S_0^*) / OPT`` with ``S_0^* = argmax_{|S|=k} F_V^(S)``, and the proportional ``l = round(k |G2| / m)``.

:func:`estimate_smoothness` reproduces the released tool's statistics (averaged over draws, with
standard errors):

* ``alpha``: per draw, the smallest per-ranking singleton score ``F({c}) / n`` over items, under both the
  latent and the biased profile, divided by ``tau_1 = lambda_1 * gamma(0)`` (the largest contribution a
  ranking can make to a singleton); ``alpha`` is its mean over draws;
* ``gamma(beta)``: per draw, over ordered same-group pairs ``(i, j)`` with ``0 < F(j) <= beta F(i)``
  (latent singleton scores, both orders of every pair considered), the largest biased ratio
  ``F^(j) / F^(i)``; pairs with ``F^(i) = 0 < F^(j)`` give ``inf`` (counted separately, so that the
  mean is over finite draws).

:func:`rankings_needed` sweeps the number of rankings ``n`` and returns the smallest ``n`` whose mean
ratio ``max_l F(S_l)/OPT`` reaches the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.committees.rankings import check_rankings, random_groups, sample_rankings
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import committee_score, order_items, singleton_scores
from mechsim.validation import as_generator, check_in_range, check_integer

__all__ = [
    "ConstraintFamily",
    "RankingsNeeded",
    "SmoothnessEstimate",
    "constraint_family",
    "estimate_smoothness",
    "rankings_needed",
]


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
    from mechsim.solvers.committee import enumeration_is_cheap

    return enumeration_is_cheap(rankings.shape[1], k, np.unique(rankings, axis=0).shape[0])


def _two_group_bounds(groups, disadvantaged, l, k):
    labels = np.unique(groups)
    bounds = {int(g): (k - l, k - l) for g in labels if g != disadvantaged}
    bounds[int(disadvantaged)] = (l, l)
    return bounds


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
    from mechsim.solvers.committee import (  # solvers import this package: import lazily
        _first_best,
        best_committee,
    )
    from mechsim.solvers.committee_family import best_committee_family

    latent = check_rankings(latent, "latent")
    biased = check_rankings(biased, "biased", n_items=latent.shape[1])
    rule = rule_from_name(rule)
    m = latent.shape[1]
    groups = np.asarray(groups, dtype=np.int64)
    is_dis = groups == disadvantaged
    n_dis = int(is_dis.sum())
    ls = np.arange(k + 1) if ls is None else np.asarray(ls, dtype=np.int64)
    ls = ls[(ls <= n_dis) & (k - ls <= m - n_dis) & (ls >= 0)]
    if latent_opt is None and (rule.is_separable(k) or _enumerable(biased, k)):
        latent_opt = best_committee(latent, k, rule).score
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
        from mechsim.solvers.committee import _all_committees, _enumerated_scores

        combos = _all_committees(m, k)
        seen = _enumerated_scores(biased, None, rule, combos)
        n_in = is_dis[combos].sum(axis=1)
        picks = []
        for l in ls:
            idx = np.flatnonzero(n_in == l)
            picks.append(combos[idx[_first_best(seen[idx])]])
        picks.append(combos[_first_best(seen)])
        scores = [committee_score(latent, c, rule) for c in picks]
        values, unconstrained = np.array(scores[:-1]), float(scores[-1])
    else:
        picks = best_committee_family(biased, k, rule, groups,
                                      [_two_group_bounds(groups, disadvantaged, int(l), k) for l in ls])
        values = np.array([committee_score(latent, c.members, rule) for c in picks])
        every_l = np.arange(k + 1)
        every_l = every_l[(every_l <= n_dis) & (k - every_l <= m - n_dis)]
        if np.array_equal(np.sort(ls), every_l):
            # Every k-subset has one of these l, so the best S_l (by biased score; ties: first in ``ls``) is
            # an unconstrained biased optimum, and without bias the best S_l is the latent optimum: the two
            # extra solves are unnecessary.
            seen = np.array([c.score for c in picks])
            unconstrained = float(values[_first_best(seen)])
            if latent_opt is None and np.array_equal(latent, biased):
                latent_opt = float(values.max())
        else:
            unconstrained = committee_score(latent, best_committee(biased, k, rule).members, rule)
        if latent_opt is None:
            latent_opt = best_committee(latent, k, rule).score
    return ConstraintFamily(ls, np.asarray(values, dtype=float), float(latent_opt), float(unconstrained))


@dataclass(frozen=True)
class SmoothnessEstimate:
    """Output of :func:`estimate_smoothness` (means over draws and their standard errors)."""

    alpha: float
    alpha_se: float
    betas: np.ndarray
    gamma: np.ndarray
    gamma_se: np.ndarray
    gamma_infinite_fraction: np.ndarray
    draws: int


def _mean_se(x):
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
    return float(x.mean()), se


def _culture(culture):
    if isinstance(culture, (tuple, list)):
        name, params = culture
        return name, dict(params)
    return culture, {}


def estimate_smoothness(rule, culture, bias, n_items: int, n_voters: int, draws: int, seed=None,
                        betas=None, disadvantaged_share: float = 0.5) -> SmoothnessEstimate:
    """Estimate ``alpha`` and the ``gamma(beta)`` curve of a rule under a culture and a bias.

    Parameters
    ----------
    rule : CommitteeScoringRule or str
    culture : str or (str, dict)
        A culture name for :func:`~mechsim.committees.rankings.sample_rankings`, optionally with params.
    bias : callable ``(rankings, groups, disadvantaged, seed) -> rankings``
        E.g. :class:`~mechsim.committees.bias.SwapBias` or :class:`~mechsim.committees.bias.ImplicitBias`.
    n_items, n_voters, draws : int
    seed : int, Generator or None
    betas : array_like, optional
        Where to evaluate ``gamma`` (default ``linspace(0.1, 1, 10)``).
    disadvantaged_share : float
        Share of items in the disadvantaged group (label 1), drawn at random per draw.
    """
    rule = rule_from_name(rule)
    n_items = check_integer("n_items", n_items, minimum=2)
    n_voters = check_integer("n_voters", n_voters, minimum=1)
    draws = check_integer("draws", draws, minimum=1)
    betas = np.linspace(0.1, 1.0, 10) if betas is None else check_in_range("betas", np.atleast_1d(betas), 0.0)
    name, params = _culture(culture)
    rng = as_generator(seed)
    tau1 = rule.owa_vector(1)[0] * rule.gamma(n_items)[0]
    alphas, gam = [], np.full((draws, betas.size), np.nan)
    for d in range(draws):
        latent = sample_rankings(name, n_voters, n_items, seed=rng, **params)
        groups = random_groups(n_items, int(round(disadvantaged_share * n_items)), seed=rng)
        biased = bias(latent, groups, 1, seed=rng)
        f = singleton_scores(latent, rule) / n_voters
        fh = singleton_scores(biased, rule) / n_voters
        alphas.append(min(f.min(), fh.min()) / tau1 if tau1 > 0 else 0.0)
        same = groups[:, None] == groups[None, :]
        np.fill_diagonal(same, False)
        # pair (i, j): F(j) <= beta F(i), ratio F^(j) / F^(i); both orders appear as (i, j) and (j, i)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = fh[None, :] / fh[:, None]
        defined = same & (f[:, None] > 0) & (f[None, :] > 0) & ~((fh[:, None] == 0) & (fh[None, :] == 0))
        for b, beta in enumerate(betas):
            ok = defined & (f[None, :] <= beta * f[:, None])
            if ok.any():
                gam[d, b] = ratio[ok].max()
    alpha, alpha_se = _mean_se(alphas)
    g_mean, g_se, g_inf = [], [], []
    for b in range(betas.size):
        col = gam[:, b]
        col = col[~np.isnan(col)]
        finite = col[np.isfinite(col)]
        mean, se = _mean_se(finite)
        g_mean.append(mean)
        g_se.append(se)
        g_inf.append(float(np.mean(np.isinf(col))) if col.size else 0.0)
    return SmoothnessEstimate(alpha, alpha_se, betas, np.array(g_mean), np.array(g_se), np.array(g_inf), draws)


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
    target = float(check_in_range("target", target, 0.0, 1.0))
    n_grid = np.asarray(n_grid, dtype=np.int64)
    name, params = _culture(culture)
    rng = as_generator(seed)
    means, ses = [], []
    if n_grid.size:
        draws = check_integer("draws", draws, minimum=1)
    for n in n_grid:
        vals = []
        for _ in range(draws):
            latent = sample_rankings(name, int(n), n_items, seed=rng, **params)
            groups = random_groups(n_items, int(round(disadvantaged_share * n_items)), seed=rng)
            biased = bias(latent, groups, 1, seed=rng)
            vals.append(constraint_family(latent, biased, groups, 1, k, rule).best_ratio)
        mean, se = _mean_se(vals)
        means.append(mean)
        ses.append(se)
    means = np.array(means)
    hit = np.flatnonzero(means >= target - 1e-12)
    return RankingsNeeded(n_grid, means, np.array(ses), target, int(n_grid[hit[0]]) if hit.size else None)
