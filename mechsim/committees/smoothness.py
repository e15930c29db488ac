"""Smoothness of a committee scoring rule under a culture and a bias: the ``alpha`` and ``gamma(beta)`` statistics.

Boehmer, Celis, Huang, Mehrotra and Vishnoi (ICML 2023) bound how well group constraints recover the latent
optimum through two properties of a rule's singleton scores ``F({c})`` on latent rankings ``V`` and
``F^({c})`` on biased rankings ``V^`` (same voters).  :func:`estimate_smoothness` reproduces the released
tool's statistics (averaged over draws, with standard errors):

* ``alpha``: per draw, the smallest per-ranking singleton score ``F({c}) / n`` over items, under both the
  latent and the biased profile, divided by ``tau_1 = lambda_1 * gamma(0)`` (the largest contribution a
  ranking can make to a singleton); ``alpha`` is its mean over draws;
* ``gamma(beta)``: per draw, over ordered same-group pairs ``(i, j)`` with ``0 < F(j) <= beta F(i)``
  (latent singleton scores, both orders of every pair considered), the largest biased ratio
  ``F^(j) / F^(i)``; pairs with ``F^(i) = 0 < F^(j)`` give ``inf`` (counted separately, so that the
  mean is over finite draws).

Both need singleton scores only.  What the constraints actually recover, ``max_l F_V(S_l) / OPT`` over the
biased picks ``S_l`` with exactly ``l`` disadvantaged members, needs exact selection: it is
:func:`~mechsim.solvers.committee_smoothness.constraint_family` (and
:func:`~mechsim.solvers.committee_smoothness.rankings_needed`) in :mod:`mechsim.solvers.committee_smoothness`,
re-exported here lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim._lazy import lazy_exports
from mechsim.committees._checks import check_callable, check_unit
from mechsim.committees.rankings import (
    check_culture,
    check_profile_size,
    check_rankings,
    random_groups,
    sample_rankings,
)
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import singleton_scores
from mechsim.errors import InvalidInstanceError
from mechsim.validation import _describe, as_generator, check_allocation, check_array, check_in_range, check_integer

_SOLVER_EXPORTS = {"mechsim.solvers.committee_smoothness": ["ConstraintFamily", "RankingsNeeded",
                                                            "constraint_family", "rankings_needed"]}
_lazy_all, __getattr__, __dir__ = lazy_exports("mechsim.committees.smoothness", _SOLVER_EXPORTS, globals())
__all__ = ["SmoothnessEstimate", "estimate_smoothness"]
__all__ += _lazy_all


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


def _culture(culture, n_items: int) -> tuple[str, dict]:
    """``culture`` as ``(name, params)``: a name, or a pair ``(name, dict of parameters)``, validated."""
    if isinstance(culture, (tuple, list)):
        if len(culture) != 2:
            raise InvalidInstanceError(f"culture: expected a name or a pair (name, params), found {culture!r}",
                                       argument="culture")
        name, params = culture
        return check_culture(name, n_items, params)
    return check_culture(culture, n_items)


def _biased(bias, latent, groups, rng) -> np.ndarray:
    """``bias(latent, groups, 1, seed=rng)``, checked to be a profile of the latent profile's shape."""
    out = bias(latent, groups, 1, seed=rng)
    if np.shape(out) != latent.shape:
        raise InvalidInstanceError(f"bias: expected a callable returning rankings of shape {latent.shape} (the "
                                   f"latent profile's), found {_describe(out)}", argument="bias")
    return check_rankings(out, name="bias (its output)")


def _share(share, n_items: int) -> int:
    """Number of disadvantaged items for a share in [0, 1]."""
    return int(round(check_unit("disadvantaged_share", share) * n_items))


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
    if betas is None:
        betas = np.linspace(0.1, 1.0, 10)
    else:
        betas = check_array("betas", betas)
        if betas.ndim > 1:
            raise InvalidInstanceError(f"betas: expected a 1-D array, found shape {betas.shape}", argument="betas")
        betas = check_in_range("betas", betas.reshape(-1), 0.0)
    name, params = _culture(culture, n_items)
    bias = check_callable("bias", bias)
    n_dis = _share(disadvantaged_share, n_items)
    check_profile_size(n_voters, n_items)
    check_allocation("draws", 8.0 * draws * (betas.size + 1), f"the statistics of {draws} draws")
    rng = as_generator(seed)
    tau1 = rule.owa_vector(1)[0] * rule.gamma(n_items)[0]
    alphas, gam = [], np.full((draws, betas.size), np.nan)
    for d in range(draws):
        latent = sample_rankings(name, n_voters, n_items, seed=rng, **params)
        groups = random_groups(n_items, n_dis, seed=rng)
        biased = _biased(bias, latent, groups, rng)
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
