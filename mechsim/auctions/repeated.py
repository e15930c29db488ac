r"""Repeated single-item auctions with i.i.d. private values, played many at a time as arrays.

One round: bidders :math:`i = 1..n` hold private values :math:`v_i`, drawn i.i.d. from a discrete
distribution (values :math:`w_1 < \dots < w_K` with probabilities :math:`f_k`) or uniformly on
:math:`[\ell, h]`, and submit bids :math:`b_i \ge 0`.  With a reserve :math:`r \ge 0` a bid is *eligible*
when :math:`b_i \ge r`; if some bid is eligible the highest bid wins (every highest bid is then eligible),
otherwise the item is not sold (winner :math:`-1`).  Payments :math:`p_i`:

- ``"first"`` price: the winner pays its bid; nobody else pays;
- ``"second"`` price: the winner pays :math:`\max(b_{(2)}, r)`, :math:`b_{(2)}` the second-highest bid (equal to
  the highest when the highest bids tie; :math:`r` alone with one bidder); nobody else pays;
- ``"all_pay"``: every eligible bidder pays its bid, win or lose; bids below the reserve pay nothing.

Allocation :math:`x_i \in \{0, 1\}`, utility :math:`u_i = v_i x_i - p_i`, revenue :math:`\sum_i p_i`, and the
*price* is the winner's payment (for all-pay the highest bid), 0 when the item is not sold.

**Ties** among the highest bids are broken uniformly at random: each bidder of each auction gets a uniform
draw :math:`U_i \in [0, 1)` and, of the tied highest bidders, the one with the largest :math:`U_i` wins (the
draws are i.i.d., so each tied bidder wins with the same probability).  A batch of :math:`B` auctions draws
exactly ``rng.random((B, n))``, whether or not it has ties, so that playing :math:`B` rounds at once or one
round at a time from the same generator gives the same outcomes.

**Values** are sampled by inversion from ``rng.random((B, n))`` (row by row, bidder by bidder), again so that
one call for :math:`B` rounds equals :math:`B` calls for one round.  :meth:`RepeatedAuction.generators` makes
the two independent streams (values, ties) that ``mechsim/Auction-v0`` uses, so the batched path reproduces an
environment's episode exactly.

**Equilibrium bids** for values i.i.d. uniform on :math:`[\ell, h]`, with :math:`F(t) = (t - \ell)/(h - \ell)`,
:math:`G = F^{n-1}` (the probability that a value :math:`t` exceeds the other :math:`n-1` values;
:math:`G \equiv 1` for one bidder) and reserve :math:`r`:

- second price: truthful bidding :math:`b(v) = v` is weakly dominant (any distribution);
- first price, symmetric Bayes--Nash: :math:`b(v) = v - \int_r^v G(t)\,dt / G(v)` for :math:`v \ge r`, which is
  :math:`\tfrac{n-1}{n} v` on :math:`[0, 1]` without reserve (expected revenue :math:`\tfrac{n-1}{n+1}`, that
  of second price: revenue equivalence);
- all-pay, symmetric Bayes--Nash: :math:`b(v) = v G(v) - \int_{v^*}^v G(t)\,dt` for :math:`v \ge v^*`, where the
  threshold type :math:`v^*` solves :math:`v^* G(v^*) = r`; :math:`\tfrac{n-1}{n} v^n` on :math:`[0, 1]`.

Types that cannot profitably win (first price: :math:`v < r`; all-pay: :math:`v < v^*`) bid 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError, MechsimError
from mechsim.validation import (
    _describe,
    as_generator,
    check_allocation,
    check_array,
    check_integer,
    check_nonnegative,
    check_positive,
    check_probability_vector,
)

__all__ = [
    "FORMATS",
    "BID_SPACES",
    "AuctionOutcome",
    "RepeatedAuction",
    "auction_outcomes",
    "first_price_bne_bid",
    "all_pay_bne_bid",
    "second_price_bid",
    "equilibrium_bid",
]

#: The auction formats.
FORMATS = ("first", "second", "all_pay")
#: How bids are expressed: an index into a finite grid, or any amount in ``[0, max_bid]``.
BID_SPACES = ("discrete", "box")
#: Bid-grid size when neither ``bids`` nor ``n_bids`` is given.
DEFAULT_N_BIDS = 21
#: Bytes a round of one bidder occupies in a batch (bids, values, payments, utilities, allocation, temporaries).
_BYTES_PER_ENTRY = 64


@dataclass(frozen=True, eq=False)
class AuctionOutcome:
    """Outcomes of a batch of single-item auctions (module docstring).

    Attributes
    ----------
    winner : ndarray of int64, shape (batch,)
        The winning bidder, ``-1`` when no bid reaches the reserve.
    allocation : ndarray of int8, shape (batch, n_bidders)
        1 for the winner, 0 otherwise.
    payments : ndarray of float64, shape (batch, n_bidders)
    utilities : ndarray of float64, shape (batch, n_bidders)
        ``values * allocation - payments``.
    revenue : ndarray of float64, shape (batch,)
        ``payments.sum(axis=1)``.
    price : ndarray of float64, shape (batch,)
        The winner's payment (all-pay: the highest bid); 0 where the item is not sold.
    """

    winner: np.ndarray
    allocation: np.ndarray
    payments: np.ndarray
    utilities: np.ndarray
    revenue: np.ndarray
    price: np.ndarray

    @property
    def batch(self) -> int:
        return self.winner.shape[0]

    @property
    def n_bidders(self) -> int:
        return self.allocation.shape[1]


def _resolve(bids: np.ndarray, values: np.ndarray, fmt: str, reserve: float, u: np.ndarray) -> AuctionOutcome:
    """The rules, on validated float arrays ``bids``, ``values`` and tie-break uniforms ``u``, all (B, n).

    The one copy of the rules: :func:`auction_outcomes`, :meth:`RepeatedAuction.play` and the environment call
    it.  Written for few numpy calls, since the environment calls it once per round with ``B = 1``.
    """
    n = bids.shape[1]
    top = bids.max(axis=1)
    top_col = top[:, None]
    # Highest bids get keys in [1, 2), the others in [0, 1): the tied bidder with the largest uniform wins.
    chosen = ((bids == top_col) + u).argmax(axis=1)
    # With a zero reserve every bid (bids are non-negative) is eligible and every round sells: skip the mask.
    sold = top >= reserve if reserve > 0 else None     # the highest bid is eligible, hence every tied one
    winner = chosen if sold is None else np.where(sold, chosen, -1)
    allocation = (_arange(n) == winner[:, None]).view(np.int8)
    if fmt == "all_pay":
        payments = bids.copy() if sold is None else bids * (bids >= reserve)
        price = top if sold is None else top * sold
        revenue = payments.sum(axis=1)
    else:
        if fmt == "first":
            price_col = top_col
        elif n > 1:
            price_col = np.maximum(np.partition(bids, n - 2, axis=1)[:, n - 2:n - 1], reserve)
        else:
            price_col = np.full((bids.shape[0], 1), float(reserve))
        payments = allocation * price_col              # 0 in unsold rounds, whose allocation is 0
        price = price_col[:, 0] if sold is None else price_col[:, 0] * sold
        revenue = price.copy()                         # the winner's payment is the only payment
    utilities = values * allocation - payments
    return AuctionOutcome(winner, allocation, payments, utilities, revenue, price)


_ARANGES: dict[int, np.ndarray] = {}


def _arange(n: int) -> np.ndarray:
    r = _ARANGES.get(n)
    if r is None:
        r = _ARANGES[n] = np.arange(n)
        r.setflags(write=False)
    return r


# ------------------------------------------------------------------------------------------------ checks
def _rng(name: str, rng) -> np.random.Generator:
    try:
        return as_generator(rng)
    except MechsimError as exc:
        raise InvalidInstanceError(str(exc).replace("seed:", f"{name}:", 1), argument=name) from None


def _format(value) -> str:
    if not isinstance(value, str) or value not in FORMATS:
        raise InvalidInstanceError(f"format: expected one of {', '.join(map(repr, FORMATS))}, found "
                                   f"{_describe(value)}", argument="format")
    return value


def _batch_arrays(bids, values) -> tuple[np.ndarray, np.ndarray]:
    b = check_array("bids", bids, ndim=2)
    v = check_array("values", values, ndim=2)
    if b.shape[1] == 0:
        raise InvalidInstanceError(f"bids: expected shape (batch, n_bidders) with n_bidders >= 1, found {b.shape}",
                                   argument="bids")
    if b.shape != v.shape:
        raise InvalidInstanceError(f"bids, values: expected the same shape (batch, n_bidders), found bids "
                                   f"{b.shape} and values {v.shape}", argument="values")
    if b.size and b.min() < 0:
        where = tuple(int(i) for i in np.unravel_index(np.argmin(b), b.shape))
        raise InvalidInstanceError(f"bids: expected non-negative bids, found {b[where]:.6g} at index {where}",
                                   argument="bids")
    return b, v


def _increasing(name: str, arr: np.ndarray) -> None:
    steps = np.diff(arr)
    if np.any(steps <= 0):
        j = int(np.argmax(steps <= 0))
        what = "duplicate" if steps[j] == 0 else "unsorted"
        raise InvalidInstanceError(f"{name}: expected strictly increasing (sorted, distinct) entries, found {what} "
                                   f"entries {arr[j]:.6g}, {arr[j + 1]:.6g} at indices {j}, {j + 1}", argument=name)


def _nonnegative_vector(name: str, value) -> np.ndarray:
    arr = check_array(name, value, ndim=1)
    if arr.size == 0:
        raise InvalidInstanceError(f"{name}: expected at least one entry, found an empty array", argument=name)
    if arr.min() < 0:
        raise InvalidInstanceError(f"{name}: expected non-negative entries, found {arr.min():.6g} at index "
                                   f"{int(np.argmin(arr))}", argument=name)
    return arr


def _float32_ceiling(x: float) -> float:
    """The smallest float32 >= ``x`` (the bound of a float32 ``Box`` that contains ``x``)."""
    f = np.float32(x)
    if float(f) < x:
        f = np.nextafter(f, np.float32(np.inf))
    return float(f)


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


# --------------------------------------------------------------------------------------------- outcomes
def auction_outcomes(bids, values, format: str = "first", reserve: float = 0.0, rng=None) -> AuctionOutcome:
    """Outcomes of a batch of single-item auctions (rules in the module docstring).

    Parameters
    ----------
    bids : array_like, shape (batch, n_bidders)
        Non-negative finite bids, one row per auction.
    values : array_like, shape (batch, n_bidders)
        The bidders' values (finite), for the utilities.
    format : {"first", "second", "all_pay"}, default "first"
    reserve : float, default 0
        Bids below it never win (and, in all-pay, pay nothing).
    rng : None, int, SeedSequence or numpy.random.Generator
        Tie-breaking: exactly ``rng.random((batch, n_bidders))`` is drawn from it (module docstring).
        ``None`` uses fresh OS entropy (only auctions with tied highest bids depend on it).

    Returns
    -------
    AuctionOutcome

    Examples
    --------
    >>> out = auction_outcomes([[0.3, 0.5], [0.2, 0.1]], [[0.6, 0.9], [0.4, 0.4]], format="second", reserve=0.15)
    >>> out.winner.tolist(), out.price.tolist(), out.utilities.tolist()
    ([1, 0], [0.3, 0.15], [[0.0, 0.6000000000000001], [0.25, 0.0]])
    """
    b, v = _batch_arrays(bids, values)
    fmt = _format(format)
    r = check_nonnegative("reserve", reserve)
    return _resolve(b, v, fmt, r, _tie_uniforms(rng, b.shape))


def _tie_uniforms(rng, shape: tuple[int, int]) -> np.ndarray:
    return _rng("rng", rng).random(shape)


# -------------------------------------------------------------------------------------- the batched game
@dataclass(frozen=True, eq=False)
class RepeatedAuction:
    """A repeated single-item auction: value distribution, bid space, format and reserve.

    The native batched path of ``mechsim/Auction-v0``: :meth:`sample_values` draws the values of many rounds
    and :meth:`play` resolves many auctions at once with the rules of :func:`auction_outcomes` (the same
    code the environment runs, one round per step).

    Parameters
    ----------
    n_bidders : int, default 2
    format : {"first", "second", "all_pay"}, default "first"
    reserve : float, default 0
    values : array_like of shape (K,), optional
        Discrete values, non-negative and strictly increasing.  Without them values are uniform on
        ``[low, high]``.
    prior : array_like of shape (K,), optional
        Probabilities of ``values`` (summing to 1 within 1e-9); default uniform.  Only with ``values``.
    low, high : float, optional
        The continuous uniform distribution's support, ``0 <= low < high`` (default ``[0, 1]``).  Only
        without ``values``.
    bid_space : {"discrete", "box"}, default "discrete"
        ``"discrete"``: bids are points of the grid ``bids``; ``"box"``: any amount in ``[0, max_bid]``.
    bids : array_like of shape (n_bids,), optional
        The bid grid (discrete bid space): non-negative, strictly increasing, containing 0.  Default:
        ``n_bids`` points evenly spaced on ``[0, max_bid]``.
    n_bids : int, optional
        Size of the default grid (>= 2; default 21).  Not with ``bids``.
    max_bid : float, optional
        The largest bid (> 0): the top of the default grid, or the upper bound of box bids, where it is rounded
        up to float32 precision (the bound of the environment's float32 ``Box``).  Default: the highest value.
        Not with ``bids``.

    Attributes
    ----------
    bids : ndarray or None
        The bid grid (None for box bids).
    values, prior : ndarray or None
        The discrete distribution (None for uniform values).
    low, high : float or None
        The uniform distribution's support (None for discrete values).
    max_bid : float
        The largest bid.
    """

    n_bidders: int = 2
    format: str = "first"
    reserve: float = 0.0
    values: np.ndarray | None = None
    prior: np.ndarray | None = None
    low: float | None = None
    high: float | None = None
    bid_space: str = "discrete"
    bids: np.ndarray | None = None
    n_bids: int | None = None
    max_bid: float | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        n = check_integer("n_bidders", self.n_bidders, minimum=1)
        check_allocation("n_bidders", float(n) * _BYTES_PER_ENTRY, f"one round of {n} bidders")
        set_(self, "n_bidders", n)
        set_(self, "format", _format(self.format))
        set_(self, "reserve", check_nonnegative("reserve", self.reserve))
        self._set_distribution()
        if not isinstance(self.bid_space, str) or self.bid_space not in BID_SPACES:
            raise InvalidInstanceError(f"bid_space: expected one of {', '.join(map(repr, BID_SPACES))}, found "
                                       f"{_describe(self.bid_space)}", argument="bid_space")
        self._set_bids()

    def _set_distribution(self) -> None:
        set_ = object.__setattr__
        if self.values is None:
            if self.prior is not None:
                raise InvalidInstanceError("prior: expected None without values (the probabilities of the "
                                           "discrete values), found a prior", argument="prior")
            low = 0.0 if self.low is None else check_nonnegative("low", self.low)
            high = 1.0 if self.high is None else check_positive("high", self.high)
            if not high > low:
                raise InvalidInstanceError(f"high: expected a number > low = {low:g}, found {high:g}",
                                           argument="high")
            set_(self, "low", low)
            set_(self, "high", high)
            set_(self, "_cdf", None)
            return
        for name in ("low", "high"):
            if getattr(self, name) is not None:
                raise InvalidInstanceError(f"{name}: expected None with discrete values (the support of the "
                                           f"uniform distribution), found {getattr(self, name)!r}", argument=name)
        v = _nonnegative_vector("values", self.values)
        _increasing("values", v)
        p = (np.full(v.size, 1.0 / v.size) if self.prior is None
             else check_probability_vector("prior", self.prior, size=v.size))
        if p.min() < 0:  # pragma: no cover - check_probability_vector refuses it
            raise InvalidInstanceError("prior: expected non-negative probabilities", argument="prior")
        set_(self, "values", _readonly(v))
        set_(self, "prior", _readonly(p))
        cdf = np.cumsum(p)
        set_(self, "_cdf", cdf / cdf[-1])

    def _set_bids(self) -> None:
        set_ = object.__setattr__
        top_value = self.value_range[1]
        if self.bids is not None:
            if self.bid_space == "box":
                raise InvalidInstanceError("bids: expected None with bid_space='box' (a bid grid is for discrete "
                                           "bids), found a grid", argument="bids")
            for name in ("n_bids", "max_bid"):
                if getattr(self, name) is not None:
                    raise InvalidInstanceError(f"{name}: expected None with an explicit bid grid bids (which sets "
                                               f"it), found {getattr(self, name)!r}", argument=name)
            grid = _nonnegative_vector("bids", self.bids)
            _increasing("bids", grid)
            if grid[0] != 0:
                raise InvalidInstanceError(f"bids: expected a grid containing 0 (the bid that never pays), found "
                                           f"smallest bid {grid[0]:.6g}", argument="bids")
            set_(self, "bids", _readonly(grid))
            set_(self, "n_bids", int(grid.size))
            set_(self, "max_bid", float(grid[-1]))
            return
        if self.max_bid is None:
            if not top_value > 0:
                raise InvalidInstanceError("values: expected a positive highest value, which sets the largest "
                                           "bid, found 0 (pass max_bid or a bid grid bids)", argument="values")
            max_bid = top_value
        else:
            max_bid = check_positive("max_bid", self.max_bid)
        if self.bid_space == "box":
            if self.n_bids is not None:
                raise InvalidInstanceError(f"n_bids: expected None with bid_space='box', found {self.n_bids!r}",
                                           argument="n_bids")
            set_(self, "max_bid", _float32_ceiling(max_bid))
            return
        k = DEFAULT_N_BIDS if self.n_bids is None else check_integer("n_bids", self.n_bids, minimum=2)
        check_allocation("n_bids", 8.0 * k, f"a grid of {k} bids")
        set_(self, "bids", _readonly(np.linspace(0.0, max_bid, k)))
        set_(self, "n_bids", k)
        set_(self, "max_bid", float(max_bid))

    # ------------------------------------------------------------------------------------ properties
    @property
    def discrete_values(self) -> bool:
        """Whether values are discrete (``values``/``prior``) rather than uniform on ``[low, high]``."""
        return self.values is not None

    @property
    def value_range(self) -> tuple[float, float]:
        """The smallest and the largest possible value."""
        if self.values is not None:
            return float(self.values[0]), float(self.values[-1])
        return float(self.low), float(self.high)

    # ------------------------------------------------------------------------------------- sampling
    @staticmethod
    def generators(seed=None) -> tuple[np.random.Generator, np.random.Generator]:
        """The (values, ties) generators that ``mechsim/Auction-v0`` makes on ``reset(seed=seed)``.

        ``np.random.default_rng(seed).spawn(2)`` (a Generator ``seed`` spawns from itself): with them
        ``sample_values(T + 1, values_rng)`` gives the values of an episode's ``T`` rounds (and of the
        observation after the last), and ``play(bids, values, ties_rng)`` its outcomes.
        """
        values_rng, ties_rng = _rng("seed", seed).spawn(2)
        return values_rng, ties_rng

    def sample_values(self, batch: int, rng=None) -> np.ndarray:
        """Values of ``batch`` rounds, shape ``(batch, n_bidders)``, by inversion of ``rng.random((batch, n))``.

        Parameters
        ----------
        batch : int
            Number of rounds (>= 0).
        rng : None, int, SeedSequence or numpy.random.Generator
        """
        batch = check_integer("batch", batch, minimum=0)
        check_allocation("batch", float(batch) * self.n_bidders * _BYTES_PER_ENTRY,
                         f"values of {batch} rounds of {self.n_bidders} bidders")
        return self._values_from_uniforms(_rng("rng", rng).random((batch, self.n_bidders)))

    def _values_from_uniforms(self, u: np.ndarray) -> np.ndarray:
        if self._cdf is None:
            return self.low + (self.high - self.low) * u
        return self.values[np.searchsorted(self._cdf, u, side="right")]

    # -------------------------------------------------------------------------------------- playing
    def grid_bids(self, indices) -> np.ndarray:
        """The bid amounts of grid indices (discrete bid space): ``bids[indices]``, any shape.

        Raises
        ------
        InvalidInstanceError
            For box bids, for non-integer indices, and for indices outside ``0..n_bids-1``.
        """
        if self.bids is None:
            raise InvalidInstanceError("indices: expected an auction with a bid grid (bid_space='discrete'), "
                                       "found box bids", argument="indices")
        idx = check_array("indices", indices, dtype=float)
        if idx.size and not np.array_equal(idx, np.round(idx)):
            raise InvalidInstanceError("indices: expected integer grid indices, found fractional entries",
                                       argument="indices")
        if idx.size and (idx.min() < 0 or idx.max() > self.n_bids - 1):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise InvalidInstanceError(f"indices: expected grid indices in 0..{self.n_bids - 1}, found {bad:g}",
                                       argument="indices")
        return self.bids[idx.astype(np.int64)]

    def play(self, bids, values, rng=None) -> AuctionOutcome:
        """Resolve a batch of rounds: ``bids`` and ``values`` of shape ``(batch, n_bidders)``.

        ``bids`` are amounts: points of the grid (discrete bid space; :meth:`grid_bids` turns indices into
        amounts) or numbers in ``[0, max_bid]`` (box bids).  ``rng`` breaks ties: ``rng.random((batch,
        n_bidders))`` (module docstring).

        Returns
        -------
        AuctionOutcome
        """
        b, v = _batch_arrays(bids, values)
        if b.shape[1] != self.n_bidders:
            raise InvalidInstanceError(f"bids: expected shape (batch, {self.n_bidders}) (n_bidders columns), found "
                                       f"{b.shape}", argument="bids")
        if b.size:
            if self.bids is None:
                if b.max() > self.max_bid:
                    raise InvalidInstanceError(f"bids: expected bids in [0, max_bid = {self.max_bid:.9g}], found "
                                               f"{b.max():.9g}", argument="bids")
            else:
                pos = np.minimum(np.searchsorted(self.bids, b), self.n_bids - 1)
                off = self.bids[pos] != b
                if off.any():
                    where = tuple(int(i) for i in np.argwhere(off)[0])
                    raise InvalidInstanceError(f"bids: expected points of the bid grid (bids of the auction), "
                                               f"found {b[where]:.9g} at index {where}", argument="bids")
        return _resolve(b, v, self.format, self.reserve, _tie_uniforms(rng, b.shape))

    def _play_unchecked(self, bids: np.ndarray, values: np.ndarray, u: np.ndarray) -> AuctionOutcome:
        """:meth:`play` on arrays the environment has validated, with its tie-break uniforms ``u``."""
        return _resolve(bids, values, self.format, self.reserve, u)

    def equilibrium_bid(self, values) -> np.ndarray:
        """:func:`equilibrium_bid` of this auction's format, bidders, reserve and uniform values.

        Raises
        ------
        InvalidInstanceError
            (naming ``values``) if the auction's values are discrete: the closed forms are for uniform values.
        """
        if self.discrete_values:
            raise InvalidInstanceError("values: expected an auction with uniform values (low, high); the closed-form "
                                       "equilibria are for uniform values, this one has discrete values",
                                       argument="values")
        return equilibrium_bid(values, self.n_bidders, self.format, low=self.low, high=self.high,
                               reserve=self.reserve)


# ------------------------------------------------------------------------------------ equilibrium bids
def _uniform_setting(values, n_bidders, low, high, reserve):
    n = check_integer("n_bidders", n_bidders, minimum=1)
    lo = check_nonnegative("low", low)
    hi = check_positive("high", high)
    if not hi > lo:
        raise InvalidInstanceError(f"high: expected a number > low = {lo:g}, found {hi:g}", argument="high")
    r = check_nonnegative("reserve", reserve)
    v = check_array("values", values, dtype=float)
    if v.size and (v.min() < lo or v.max() > hi):
        bad = v.min() if v.min() < lo else v.max()
        raise InvalidInstanceError(f"values: expected values in [low, high] = [{lo:g}, {hi:g}], found {bad:.6g}",
                                   argument="values")
    return v, n, lo, hi, r


def _win_probability(t, n, lo, hi):
    """``G(t) = F(t)^(n-1)``, F the uniform cdf on [lo, hi] (``G = 1`` for one bidder)."""
    return np.clip((t - lo) / (hi - lo), 0.0, 1.0) ** (n - 1)


def _integral_g(a, b, n, lo, hi):
    """``int_a^b G(t) dt`` for ``a <= b``."""
    if n == 1:
        return b - a
    fa, fb = (np.clip((x - lo) / (hi - lo), 0.0, 1.0) for x in (a, b))
    return (hi - lo) * (fb ** n - fa ** n) / n


def first_price_bne_bid(values, n_bidders: int, low: float = 0.0, high: float = 1.0,
                        reserve: float = 0.0) -> np.ndarray:
    r"""The symmetric Bayes--Nash bid of a first-price auction with values i.i.d. uniform on ``[low, high]``.

    :math:`b(v) = v - \int_r^v G(t)\,dt / G(v)` (module docstring), :math:`\tfrac{n-1}{n} v` on ``[0, 1]``
    without reserve; 0 for values below the reserve.  With one bidder, the reserve.

    Parameters
    ----------
    values : array_like
        Values in ``[low, high]`` (any shape).
    n_bidders : int
    low, high : float
        The support, ``0 <= low < high``.
    reserve : float, default 0

    Examples
    --------
    >>> first_price_bne_bid([0.0, 0.5, 1.0], 2).tolist()
    [0.0, 0.25, 0.5]
    """
    v, n, lo, hi, r = _uniform_setting(values, n_bidders, low, high, reserve)
    # The lowest type that bids bids ``floor``: the reserve, or ``low`` when the reserve is below the support
    # (with rivals, a bid below ``low`` never wins; alone, the reserve wins).
    floor = r if n == 1 else max(r, lo)
    w = np.maximum(v, floor)
    g = _win_probability(w, n, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        # g = 0 only at w = low = floor (n > 1), where the bid's limit is floor.
        bid = np.where(g > 0, w - _integral_g(floor, w, n, lo, hi) / np.where(g > 0, g, 1.0), floor)
    return np.asarray(np.where(v >= floor, bid, 0.0), dtype=float)


def all_pay_bne_bid(values, n_bidders: int, low: float = 0.0, high: float = 1.0,
                    reserve: float = 0.0) -> np.ndarray:
    r"""The symmetric Bayes--Nash bid of an all-pay auction with values i.i.d. uniform on ``[low, high]``.

    :math:`b(v) = v G(v) - \int_{v^*}^v G(t)\,dt` for :math:`v \ge v^*` with :math:`v^* G(v^*) = r` (module
    docstring), :math:`\tfrac{n-1}{n} v^n` on ``[0, 1]`` without reserve; 0 below the threshold type.

    Parameters are those of :func:`first_price_bne_bid`.

    Examples
    --------
    >>> all_pay_bne_bid([0.0, 0.5, 1.0], 2).tolist()
    [0.0, 0.125, 0.5]
    """
    v, n, lo, hi, r = _uniform_setting(values, n_bidders, low, high, reserve)
    threshold = _all_pay_threshold(n, lo, hi, r)
    if threshold is None:                       # the reserve exceeds what even the highest type would pay
        return np.zeros(v.shape)
    bid = v * _win_probability(v, n, lo, hi) - _integral_g(threshold, np.maximum(v, threshold), n, lo, hi)
    return np.asarray(np.where(v >= threshold, bid, 0.0), dtype=float)


def _all_pay_threshold(n: int, lo: float, hi: float, r: float) -> float | None:
    """The type ``v*`` in ``[lo, hi]`` with ``v* G(v*) = r`` (the lowest that bids), None if ``hi G(hi) < r``."""
    if hi < r:
        return None
    if n == 1:
        return r                                # alone, any bid of at least the reserve wins
    if r == 0:
        return lo
    # t G(t) increases strictly on [lo, hi] from lo G(lo) = 0 to hi: bisection to machine precision.
    a, b = lo, hi
    for _ in range(200):
        mid = 0.5 * (a + b)
        if mid == a or mid == b:
            break
        if mid * float(_win_probability(mid, n, lo, hi)) < r:
            a = mid
        else:
            b = mid
    return b


def second_price_bid(values) -> np.ndarray:
    """Truthful bidding, weakly dominant in a second-price auction with or without reserve: a copy of ``values``."""
    v = check_array("values", values, dtype=float)
    if v.size and v.min() < 0:
        raise InvalidInstanceError(f"values: expected non-negative values, found {v.min():.6g}", argument="values")
    return v.copy()


def equilibrium_bid(values, n_bidders: int, format: str = "first", low: float = 0.0, high: float = 1.0,
                    reserve: float = 0.0) -> np.ndarray:
    """The closed-form equilibrium bid of ``format`` (module docstring) for uniform values on ``[low, high]``.

    ``"first"``: :func:`first_price_bne_bid`; ``"second"``: :func:`second_price_bid` (after the same checks);
    ``"all_pay"``: :func:`all_pay_bne_bid`.
    """
    fmt = _format(format)
    if fmt == "first":
        return first_price_bne_bid(values, n_bidders, low, high, reserve)
    if fmt == "all_pay":
        return all_pay_bne_bid(values, n_bidders, low, high, reserve)
    v, *_ = _uniform_setting(values, n_bidders, low, high, reserve)
    return v.copy()

