"""Bias models that turn latent rankings into the biased rankings a selector sees.

**Swapping bias** (the paper's experiments).  In a ranking, call a pair of positions ``i < j``
*biasable* when a disadvantaged item sits at ``i`` above an advantaged item at ``j``; let ``N`` be their
number.  The process performs ``t = floor(fraction * N)`` swaps; each swap picks a biasable pair with
probability proportional to ``phi ** (j - i)`` and exchanges the two items.

* ``stale=False`` (the intended process): the biasable pairs and their weights are recomputed after every
  swap, so every swap moves an advantaged item above a disadvantaged one (and ``N`` strictly falls).
* ``stale=True`` (faithful to the paper's released notebook): the pairs of *items* and their weights are
  fixed from the latent ranking; a swap exchanges the current positions of the two items, so a pair
  drawn twice is swapped back and the bias is weaker.

Sampling per swap is two-stage and vectorised over rankings: the row ``i`` with weight
``sum_{j>i} [advantaged at j] phi^(j-i)`` (one matrix product), then ``j`` given ``i``.

**Implicit (multiplicative) bias**: items carry latent utilities; the disadvantaged group's utilities
are multiplied by ``beta in (0, 1]`` before the ranking is formed (ties go to the smaller index).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.committees._checks import check_bool, check_label, check_labels, check_unit
from mechsim.committees.rankings import _positions, check_rankings
from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator, check_allocation, check_array, check_in_range

__all__ = [
    "ImplicitBias",
    "SwapBias",
    "count_biasable_pairs",
    "implicit_bias",
    "rank_utilities",
    "swap_bias",
    "swap_bias_path",
]


def _disadvantaged_mask(groups, disadvantaged, m: int) -> np.ndarray:
    g = check_labels("groups", groups, m)
    dis = check_label("disadvantaged", disadvantaged, g, many=True)
    return np.isin(g, dis)


def count_biasable_pairs(rankings, groups, disadvantaged) -> np.ndarray:
    """Per ranking, the number of (disadvantaged above advantaged) position pairs, shape ``(n,)``."""
    r = check_rankings(rankings)
    dis = _disadvantaged_mask(groups, disadvantaged, r.shape[1])
    d = dis[r]
    # for each advantaged position j: number of disadvantaged items above it
    above = np.cumsum(d, axis=1) - d
    return np.sum(above * (~d), axis=1)


def _inverse_cdf(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise draw of an index with probability proportional to ``weights`` (rows with mass > 0)."""
    c = np.cumsum(weights, axis=1)
    target = u * c[:, -1]
    idx = (c <= target[:, None]).sum(axis=1)
    return np.minimum(idx, weights.shape[1] - 1)


def swap_bias_path(rankings, groups, disadvantaged, fractions, phi: float = 0.5, stale: bool = False,
                   seed=None) -> list[np.ndarray]:
    """Biased profiles for several fractions from one run of the swap process.

    The swaps for a larger fraction extend those for a smaller one, so one pass gives every fraction;
    ``swap_bias_path(..., [f], seed=s)[0]`` equals ``swap_bias(..., f, seed=s)``.

    Returns
    -------
    list of ndarray, one ``(n, m)`` profile per entry of ``fractions`` (in the given order).
    """
    return _swap_bias_path(rankings, groups, disadvantaged, fractions, phi, stale, seed, "fractions")


def _swap_bias_path(rankings, groups, disadvantaged, fractions, phi, stale, seed, fractions_name):
    r = check_rankings(rankings)
    n, m = r.shape
    if fractions_name == "fraction":
        fr = np.array([check_unit("fraction", fractions)])
    else:
        fr = check_array(fractions_name, fractions)
        if fr.ndim > 1:
            raise InvalidInstanceError(f"{fractions_name}: expected a 1-dimensional array of fractions, found "
                                       f"shape {fr.shape}", argument=fractions_name)
        fr = check_in_range(fractions_name, fr.reshape(-1), 0.0, 1.0)
    phi = check_unit("phi", phi, open_low=True)
    stale = check_bool("stale", stale)
    dis_item = _disadvantaged_mask(groups, disadvantaged, m)
    rng = as_generator(seed)
    # one output profile per fraction, the working copy and positions, the (m, m) pair weights
    check_allocation("fractions", 8.0 * (fr.size + 4) * n * m + 16.0 * m * m,
                     f"{fr.size} biased profiles of {n} x {m} rankings")

    counts = count_biasable_pairs(r, groups, disadvantaged)
    t_targets = np.floor(fr[:, None] * counts[None, :] + 1e-9).astype(np.int64)     # (F, n)
    t_max = int(t_targets.max()) if t_targets.size else 0

    dist = np.arange(m)[None, :] - np.arange(m)[:, None]          # j - i
    power = np.where(dist > 0, phi ** np.maximum(dist, 0), 0.0)  # power[i, j] = phi^(j-i), j > i

    current = r.copy()
    pos = _positions(current)
    if stale:
        d0 = dis_item[r]
        row_w0 = d0 * ((~d0) @ power.T)
    # Each ranking's state is copied into a fraction's output at the step equal to its target; the
    # random draws of a step do not depend on the targets, so a shorter run is a prefix of a longer one.
    results = [r.copy() for _ in range(fr.size)]
    last_step = t_targets.max(axis=0)                 # per ranking: swaps needed for the largest fraction
    alive = last_step > 0                             # rankings that may still swap
    for s in range(t_max + 1):
        for f in range(fr.size):
            hit = t_targets[f] == s
            if hit.any():
                results[f][hit] = current[hit]
        if s == t_max:
            break
        u = rng.random((n, 2))                        # drawn for every ranking: keeps runs prefix-consistent
        alive &= s < last_step
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            # nothing can change any more: later snapshots equal the current state
            for f in range(fr.size):
                later = t_targets[f] > s
                results[f][later] = current[later]
            break
        if stale:
            w_rows = row_w0[idx]
            base = r[idx]
        else:
            base = current[idx]
            d = dis_item[base]
            w_rows = d * ((~d) @ power.T)
        has_pair = w_rows.sum(axis=1) > 0
        if not stale:
            alive[idx[~has_pair]] = False             # recomputed weights: a ranking without pairs stays so
        if not has_pair.any():
            continue
        v = idx[has_pair]
        i = _inverse_cdf(w_rows[has_pair], u[v, 0])
        base = base[has_pair]
        adv = ~dis_item[base]
        j = _inverse_cdf(adv * power[i], u[v, 1])
        rows_b = np.arange(v.size)
        a, b = base[rows_b, i], base[rows_b, j]       # the two items to exchange
        pa, pb = pos[v, a], pos[v, b]
        current[v, pa], current[v, pb] = b, a
        pos[v, a], pos[v, b] = pb, pa
    return results


def swap_bias(rankings, groups, disadvantaged, fraction: float, phi: float = 0.5, stale: bool = False,
              seed=None) -> np.ndarray:
    """Apply the swapping bias to every ranking.

    Parameters
    ----------
    rankings : array_like of int, shape (n, m)
        Latent rankings, best first.
    groups : array_like of int, shape (m,)
        Group label of every item.
    disadvantaged : int or sequence of int
        Label(s) of the disadvantaged group(s).
    fraction : float in [0, 1]
        ``t = floor(fraction * N)`` swaps per ranking (``N`` = biasable pairs in the latent ranking).
    phi : float in (0, 1]
        Distance decay of the pair weights ``phi ** (j - i)``.
    stale : bool
        ``True`` keeps the latent pair weights (paper's notebook); ``False`` recomputes them after
        every swap (the intended process).
    seed : int, Generator or None

    Returns
    -------
    ndarray of int64, shape (n, m)
        The biased rankings (``fraction = 0`` returns a copy of the input).
    """
    return _swap_bias_path(rankings, groups, disadvantaged, fraction, phi, stale, seed, "fraction")[0]


def rank_utilities(utilities) -> np.ndarray:
    """Rankings from utilities: highest utility first, ties towards the smaller item index."""
    u = _check_utilities(utilities)
    return np.argsort(-u, axis=1, kind="stable").astype(np.int64)


def _check_utilities(utilities) -> np.ndarray:
    u = check_array("utilities", utilities, ndim=2)
    if u.shape[0] == 0 or u.shape[1] == 0:
        raise InvalidInstanceError(f"utilities: expected at least one voter and one item, found shape {u.shape}",
                                   argument="utilities")
    return u


def implicit_bias(utilities, groups, disadvantaged, beta: float) -> np.ndarray:
    """Rankings after scaling the disadvantaged items' utilities by ``beta``.

    Parameters
    ----------
    utilities : array_like, shape (n, m)
        Latent non-negative utilities of every item for every voter.
    groups, disadvantaged
        As in :func:`swap_bias`.
    beta : float in (0, 1]
        Multiplicative bias; 1 means no bias.

    Returns
    -------
    ndarray of int64, shape (n, m)
        Biased rankings (``rank_utilities`` of the scaled utilities).
    """
    u = _check_utilities(utilities)
    check_in_range("utilities", u, low=0.0)
    beta = check_unit("beta", beta, open_low=True)
    dis = _disadvantaged_mask(groups, disadvantaged, u.shape[1])
    return rank_utilities(u * np.where(dis, beta, 1.0)[None, :])


@dataclass(frozen=True)
class SwapBias:
    """Swapping bias as a callable ``(rankings, groups, disadvantaged, seed) -> biased rankings``."""

    fraction: float
    phi: float = 0.5
    stale: bool = False

    def __post_init__(self):
        check_unit("fraction", self.fraction)
        check_unit("phi", self.phi, open_low=True)
        check_bool("stale", self.stale)

    def __call__(self, rankings, groups, disadvantaged, seed=None) -> np.ndarray:
        return swap_bias(rankings, groups, disadvantaged, self.fraction, self.phi, self.stale, seed)


@dataclass(frozen=True)
class ImplicitBias:
    """Implicit bias on ranking-derived utilities, as a callable like :class:`SwapBias`.

    Rankings carry no utilities, so each voter's utility for an item is taken as
    ``(m - position) / m`` (in (0, 1], top item 1) plus ``noise * Uniform(0, 1/m)`` to break the
    lattice; the disadvantaged utilities are then scaled by ``beta`` and the items re-ranked.
    """

    beta: float
    noise: float = 1.0

    def __post_init__(self):
        check_unit("beta", self.beta, open_low=True)
        check_unit("noise", self.noise, high=np.inf)

    def __call__(self, rankings, groups, disadvantaged, seed=None) -> np.ndarray:
        r = check_rankings(rankings)
        m = r.shape[1]
        rng = as_generator(seed)
        util = (m - _positions(r)) / m + self.noise * rng.random(r.shape) / m
        return implicit_bias(util, groups, disadvantaged, self.beta)
