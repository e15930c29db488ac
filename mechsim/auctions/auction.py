r"""Auctions of identical units to unit-demand bidders with independent private discrete values.

Bidder :math:`i` has value :math:`v_{i,k}` (strictly increasing in :math:`k`) with probability
:math:`f_{i,k}`, independently of the others; ``units`` identical items are for sale (one by default) and each
bidder wants at most one.  An outcome is the set of winners (at most ``units`` bidders), so an auction is a
:class:`~mechsim.auctions.direct.QuasiLinearModel` with :math:`u_i(o, k) = v_{i,k} [i \in o]`, and its
allocation is :math:`x_i(t) = \sum_{o \ni i} q(o \mid t)`.

**Myerson's optimum for discrete values** (Elkind 2007).  With :math:`S_k = P(V \ge v_k)` the revenue curve
is :math:`R(S_k) = v_k S_k` in quantile space; :math:`\bar R` is the upper concave hull of its points and
:math:`(0, 0)`, and the ironed virtual value of type :math:`k` is the slope of :math:`\bar R` over
:math:`[S_{k+1}, S_k]` (without ironing, :math:`\varphi_k = v_k - (v_{k+1} - v_k) S_{k+1} / f_k`).  The
optimal revenue over all Bayesian incentive-compatible, interim individually rational mechanisms is

.. math::  \mathrm{Rev}^* = E\Big[\textstyle\sum_{j \le \text{units}} \bar\varphi_{(j)}(v)^+\Big],

the expected sum of the ``units`` largest positive ironed virtual values; it is attained by a dominant-strategy
mechanism, so the BIC and DSIC optima coincide.  With one bidder and one unit it is the best posted price
:math:`\max_k v_k S_k`.  :func:`myerson_revenue` computes it exactly by enumerating the value profiles;
:func:`second_price_mechanism` is the (units + 1)-th price auction with a reserve, as a direct mechanism
(dominant-strategy IC, ex-post IR), and :func:`second_price_revenue` its exact revenue.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from mechsim.auctions.direct import DirectMechanism, QuasiLinearModel
from mechsim.errors import InvalidInstanceError
from mechsim.validation import PROBABILITY_ATOL, check_array, check_in_range, check_integer

__all__ = [
    "FiniteAuction",
    "AuctionMechanism",
    "ironed_virtual_values",
    "virtual_values",
    "myerson_revenue",
    "posted_price_revenue",
    "second_price_mechanism",
    "second_price_revenue",
    "optimal_reserve",
]


def _readonly(arr) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


def _one_bidder(values, prior) -> tuple[np.ndarray, np.ndarray]:
    v = check_array("values", values, ndim=1)
    if v.size == 0:
        raise InvalidInstanceError("values: expected at least one value, found none", "values")
    f = check_in_range("prior", check_array("prior", prior, ndim=1, shape=v.shape), low=0.0)
    _check_grid("values", v[None, :], "prior", f[None, :])
    return v, f


def _check_grid(name_v: str, values: np.ndarray, name_p: str, prior: np.ndarray) -> None:
    for i in range(values.shape[0]):
        row = values[i]
        steps = np.diff(row)
        if np.any(steps <= 0):
            j = int(np.argmax(steps <= 0))
            what = "duplicate" if steps[j] == 0 else "unsorted"
            raise InvalidInstanceError(f"{name_v}: expected strictly increasing values for every bidder, found "
                                       f"{what} values {row[j]:.6g}, {row[j + 1]:.6g} (bidder {i}, entries {j}, "
                                       f"{j + 1})", name_v)
        total = float(prior[i].sum())
        if abs(total - 1.0) > PROBABILITY_ATOL:
            raise InvalidInstanceError(f"{name_p}: expected each bidder's value distribution to sum to 1 within "
                                       f"{PROBABILITY_ATOL:g}, found sum {total:.12g} (bidder {i})", name_p)


@dataclass(frozen=True, eq=False)
class FiniteAuction:
    """Identical units for unit-demand bidders with independent private values on finite grids.

    Parameters
    ----------
    values : array_like of shape (K,) or (n, K)
        Each bidder's possible values, strictly increasing.  A 1-D array means i.i.d. bidders (give
        ``n_bidders``).
    prior : array_like of the same shape
        Probabilities of the values (each row a distribution).
    n_bidders : int, optional
        Number of i.i.d. bidders (with 1-D ``values``); must match ``values.shape[0]`` otherwise.
    units : int
        Identical items for sale (1 to ``n_bidders``).
    """

    values: np.ndarray
    prior: np.ndarray
    n_bidders: int | None = None
    units: int = 1
    _outcomes: tuple = field(default=(), repr=False)

    def __post_init__(self):
        v = check_array("values", self.values)
        p = check_array("prior", self.prior)
        if v.ndim not in (1, 2) or v.shape[-1] == 0:
            raise InvalidInstanceError(f"values: expected shape (K,) or (n_bidders, K) with K >= 1, found {v.shape}",
                                       "values")
        if p.shape != v.shape:
            raise InvalidInstanceError(f"prior: expected the shape of values {v.shape}, found {p.shape}", "prior")
        check_in_range("prior", p, low=0.0)
        if v.ndim == 1:
            if self.n_bidders is None:
                raise InvalidInstanceError("n_bidders: expected the number of i.i.d. bidders with 1-D values, found "
                                           "None", "n_bidders")
            n = check_integer("n_bidders", self.n_bidders, minimum=1, maximum=64)
            v, p = np.tile(v, (n, 1)), np.tile(p, (n, 1))
        else:
            n = v.shape[0]
            if self.n_bidders is not None and check_integer("n_bidders", self.n_bidders, minimum=1) != n:
                raise InvalidInstanceError(f"n_bidders: expected {n}, the rows of values, found {self.n_bidders}",
                                           "n_bidders")
        _check_grid("values", v, "prior", p)
        units = check_integer("units", self.units, minimum=1, maximum=n)
        outcomes = tuple(c for size in range(units + 1) for c in itertools.combinations(range(n), size))
        object.__setattr__(self, "values", _readonly(v))
        object.__setattr__(self, "prior", _readonly(p))
        object.__setattr__(self, "n_bidders", n)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "_outcomes", outcomes)

    @property
    def n_values(self) -> int:
        return self.values.shape[1]

    @property
    def outcomes(self) -> tuple[tuple[int, ...], ...]:
        """Winner sets, in order: the empty set (no sale) first, then by size and lexicographically."""
        return self._outcomes

    def winner_matrix(self) -> np.ndarray:
        """``W[o, i] = 1`` if bidder ``i`` wins in outcome ``o``; shape (O, n)."""
        W = np.zeros((len(self._outcomes), self.n_bidders))
        for o, winners in enumerate(self._outcomes):
            W[o, list(winners)] = 1.0
        return W

    def model(self) -> QuasiLinearModel:
        """The auction as a quasi-linear model over winner sets: ``u_i(o, k) = v_{i,k} [i in o]``."""
        W = self.winner_matrix()
        vals = [W[:, i:i + 1] * self.values[i][None, :] for i in range(self.n_bidders)]
        names = ["no sale" if not o else "win " + ",".join(map(str, o)) for o in self._outcomes]
        return QuasiLinearModel.independent(vals, list(self.prior), names)

    def allocation(self, mechanism: DirectMechanism) -> np.ndarray:
        """Each bidder's winning probability ``x_i(t)`` at every profile, shape ``(K,)*n + (n,)``."""
        return mechanism.outcome_probabilities @ self.winner_matrix()


@dataclass(frozen=True, eq=False)
class AuctionMechanism:
    """An auction's solution: winning probabilities and payments at every value profile.

    Attributes
    ----------
    allocation : ndarray, shape ``(K,)*n + (n,)``
        ``allocation[t][i]`` = probability that bidder *i* wins at profile *t*.
    payments : ndarray, shape ``(K,)*n + (n,)``
        Bidder *i*'s payment at profile *t*.
    mechanism : DirectMechanism
        The same mechanism over winner sets (what the audits read).
    """

    allocation: np.ndarray
    payments: np.ndarray
    mechanism: DirectMechanism


def virtual_values(values, prior) -> np.ndarray:
    """Discrete virtual values ``v_k - (v_{k+1} - v_k) S_{k+1} / f_k`` of one bidder (NaN where ``f_k = 0``)."""
    v, f = _one_bidder(values, prior)
    upper = np.append(np.cumsum(f[::-1])[::-1][1:], 0.0)      # S_{k+1}
    nxt = np.append(v[1:], v[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f > 0, v - (nxt - v) * upper / np.where(f > 0, f, 1.0), np.nan)


def ironed_virtual_values(values, prior) -> np.ndarray:
    """Ironed virtual values: slopes of the upper concave hull of the revenue curve (Elkind 2007).

    Types of zero probability get the slope of the hull segment they sit on (they never matter in
    expectation).
    """
    v, f = _one_bidder(values, prior)
    S = np.cumsum(f[::-1])[::-1]                                # S_k = P(V >= v_k)
    qs = np.append(S, 0.0)[::-1]                                 # increasing quantiles, 0 first
    rs = np.append(v * S, 0.0)[::-1]
    # Upper concave hull of (q, R) by a monotone chain over increasing q.
    hull = [0]
    for j in range(1, qs.size):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (rs[b] - rs[a]) * (qs[j] - qs[a]) <= (rs[j] - rs[a]) * (qs[b] - qs[a]):
                hull.pop()
            else:
                break
        hull.append(j)
    hq, hr = qs[hull], rs[hull]
    out = np.empty(v.size)
    K = v.size
    for k in range(K):
        lo, hi = (S[k + 1] if k + 1 < K else 0.0), S[k]         # the segment [S_{k+1}, S_k]
        mid = 0.5 * (lo + hi)
        seg = min(max(int(np.searchsorted(hq, mid, side="right")) - 1, 0), hq.size - 2)
        out[k] = (hr[seg + 1] - hr[seg]) / (hq[seg + 1] - hq[seg])
    return out


def _profiles(auction: FiniteAuction):
    """Every value profile: indices (P, n) and probabilities (P,)."""
    grids = np.array(list(itertools.product(range(auction.n_values), repeat=auction.n_bidders)), dtype=np.int64)
    probs = np.prod(auction.prior[np.arange(auction.n_bidders), grids], axis=1)
    return grids, probs


def _check_auction(auction) -> FiniteAuction:
    if not isinstance(auction, FiniteAuction):
        raise InvalidInstanceError(f"auction: expected a FiniteAuction, found {type(auction).__name__}", "auction")
    return auction


def myerson_revenue(auction: FiniteAuction) -> float:
    """Optimal BIC/DSIC revenue: ``E[sum of the units largest positive ironed virtual values]`` (exact)."""
    auction = _check_auction(auction)
    phi = np.array([ironed_virtual_values(auction.values[i], auction.prior[i]) for i in range(auction.n_bidders)])
    grids, probs = _profiles(auction)
    at = np.maximum(phi[np.arange(auction.n_bidders), grids], 0.0)          # (P, n)
    top = -np.sort(-at, axis=1)[:, :auction.units]
    return float(probs @ top.sum(axis=1))


def posted_price_revenue(values, prior) -> float:
    """Best posted price for one bidder: ``max_k v_k P(V >= v_k)``."""
    v, f = _one_bidder(values, prior)
    return float(np.max(v * np.cumsum(f[::-1])[::-1]))


def second_price_mechanism(auction: FiniteAuction, reserve: float = 0.0) -> AuctionMechanism:
    """The (units + 1)-th price auction with a reserve, as a direct mechanism.

    Bidders with value at least ``reserve`` are eligible; the ``units`` highest eligible win (ties at the
    boundary share the remaining units equally in expectation), and each winner pays the larger of the
    reserve and the (units + 1)-th highest value.  Dominant-strategy IC and ex-post IR.
    """
    auction = _check_auction(auction)
    reserve = float(check_array("reserve", reserve, ndim=0))
    n, K, m = auction.n_bidders, auction.n_values, auction.units
    grids, _ = _profiles(auction)
    vals = auction.values[np.arange(n), grids]                                # (P, n)
    sorted_desc = -np.sort(-vals, axis=1)
    cut = sorted_desc[:, m] if m < n else np.full(vals.shape[0], -np.inf)    # the (m + 1)-th highest value
    price = np.maximum(reserve, cut)
    eligible = vals >= reserve
    above = eligible & (vals > cut[:, None])
    tied = eligible & (vals == cut[:, None])
    remaining = m - above.sum(axis=1)
    share = np.where(tied.sum(axis=1) > 0, np.minimum(remaining, tied.sum(axis=1)) / np.maximum(tied.sum(axis=1), 1),
                     0.0)
    x = above + tied * share[:, None]                                         # (P, n) winning probabilities
    pay = x * price[:, None]
    outcome_q = _outcomes_from_allocation(auction, x)
    shape = (K,) * n
    mech = DirectMechanism(outcome_q.reshape(*shape, -1), pay.reshape(*shape, n))
    return AuctionMechanism(x.reshape(*shape, n), pay.reshape(*shape, n), mech)


def _outcomes_from_allocation(auction: FiniteAuction, x: np.ndarray) -> np.ndarray:
    """A distribution over winner sets with the given marginals ``x`` (P, n), by sampling winners uniformly
    among tied bidders: sure winners always win, tied ones fill the remaining units uniformly at random."""
    outcomes = auction.outcomes
    index = {o: j for j, o in enumerate(outcomes)}
    q = np.zeros((x.shape[0], len(outcomes)))
    for r in range(x.shape[0]):
        sure = tuple(int(i) for i in np.flatnonzero(x[r] >= 1 - 1e-12))
        partial = [int(i) for i in np.flatnonzero((x[r] > 1e-12) & (x[r] < 1 - 1e-12))]
        if not partial:
            q[r, index[sure]] = 1.0
            continue
        k = int(round(float(x[r, partial].sum())))
        combos = list(itertools.combinations(partial, k))
        for c in combos:
            q[r, index[tuple(sorted(sure + c))]] += 1.0 / len(combos)
    return q


def second_price_revenue(auction: FiniteAuction, reserve: float = 0.0) -> float:
    """Exact expected revenue of :func:`second_price_mechanism`."""
    auction = _check_auction(auction)
    mech = second_price_mechanism(auction, reserve)
    _, probs = _profiles(auction)
    return float(probs @ mech.payments.reshape(probs.size, -1).sum(axis=1))


def optimal_reserve(auction: FiniteAuction) -> tuple[float, float]:
    """The reserve on the value grid (or 0) that maximises :func:`second_price_revenue`, and that revenue."""
    auction = _check_auction(auction)
    candidates = np.unique(np.concatenate([[0.0], auction.values.ravel()]))
    revenues = [second_price_revenue(auction, r) for r in candidates]
    best = int(np.argmax(revenues))
    return float(candidates[best]), float(revenues[best])
