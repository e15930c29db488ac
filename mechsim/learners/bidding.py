r"""Learning to bid: no-regret bidders in a repeated single-item auction, measured against the equilibrium bids.

Setting.  A :class:`~mechsim.auctions.RepeatedAuction` with :math:`n` bidders, a format (first price, second
price, all-pay), a reserve :math:`r` and a bid grid :math:`g_0 = 0 < g_1 < \dots < g_{K-1}` is played for
:math:`T` rounds.  In round :math:`t` every bidder draws a fresh private value :math:`v_i^t` (i.i.d. across
bidders and rounds, from the auction's distribution), and picks a grid bid :math:`a_i^t` from the learner of
its *value context* :math:`k_i^t`:

- discrete values :math:`w_1 < \dots < w_m`: the context is the index of the value, so the bidder learns one
  bid distribution per value;
- values uniform on :math:`[\ell, h]`: the context is the value's bin among ``n_value_bins`` equal-width bins,
  :math:`k = \min(\lfloor m (v - \ell) / (h - \ell) \rfloor, m - 1)`.  The learner conditions on the bin only:
  all values of a bin share one bid distribution, while the utilities it learns from use the exact value.

Every bidder thus runs :math:`m` independent learners of the same kind; only the learner of the round's
context plays and is updated (it counts its own rounds, for its anytime learning rate).  The outcome of the
round is resolved by the auction's own rules (:meth:`RepeatedAuction.play`: highest eligible bid wins, ties
broken by the auction's seeded uniform draws).

Feedback.  With full information (``hedge``, ``regret_matching``) the learner sees the utility every grid bid
would have earned against the others' realised bids.  With :math:`M_i` the highest of the others' bids,
:math:`c_i` the number of others bidding exactly :math:`M_i` (:math:`M_i = -\infty` for a lone bidder) and the
tie-break uniform, bid :math:`b` wins with probability

.. math::

    P_i(b) = \mathbf 1\{b \ge r\} \Big(\mathbf 1\{b > M_i\} + \frac{\mathbf 1\{b = M_i\}}{1 + c_i}\Big),

and its expected utility over the tie-break is

.. math::

    \bar u_i(b) = \begin{cases}
      (v_i - b)\, P_i(b) & \text{first price,} \\
      (v_i - \max(M_i, r))\, P_i(b) & \text{second price,} \\
      v_i P_i(b) - b\, \mathbf 1\{b \ge r\} & \text{all-pay,}
    \end{cases}

which is the realised utility of :func:`~mechsim.auctions.auction_outcomes` exactly whenever :math:`b \ne M_i`
(:func:`bid_utilities`, vectorised over rounds, bidders and bids).  With bandit feedback (``exp3``) the
learner sees only the realised utility of the bid it played, with the round's actual tie-break.

Rescaling.  The learners see utilities mapped affinely to [0, 1] by the known range of any utility in the
auction, :math:`[\underline u, \overline u]` with :math:`\overline u = \max(0, v_{\max} - r)` (a win needs a bid
of at least :math:`r` and every price is at least :math:`r`) and :math:`\underline u = \min(0, v_{\min} -
g_{K-1})` in first and second price (a winner pays at most the top bid), :math:`-g_{K-1}` in all-pay (a loser
pays its bid): :math:`\tilde u = (u - \underline u) / (\overline u - \underline u)`.  Hedge and EXP3 get the
losses :math:`1 - \tilde u`, regret matching the utilities :math:`\tilde u` (its play does not depend on the
affine map).  Every reported number is in the auction's own units.

Learners.  The update rules are those of :class:`~mechsim.learners.Hedge`, :class:`~mechsim.learners.Exp3` and
:class:`~mechsim.learners.RegretMatching`, one copy each: Hedge's state is stacked across bidders and contexts
(its rate schedule, softmax and sampling kernels), EXP3 and regret matching are one object per bidder and
context whose own per-round methods are called (as in :func:`~mechsim.learners.play_no_regret`).  Rates:
``learning_rate=None`` is the anytime schedule of each learner in the count of its own rounds (Hedge
:math:`\sqrt{8 \ln K / s}`, EXP3 :math:`\sqrt{\ln K / (s K)}`); a positive number is a fixed Hedge rate (in
units of the rescaled utilities).  Regret matching has no rate.

What is measured, at every checkpoint :math:`t` (with the *window* :math:`W_t = \{\lfloor t/2 \rfloor + 1,
\dots, t\}`, the later half of the rounds so far, :data:`TRAILING_FRACTION`):

- ``mean_bid[t, i, k]``: the mean of bidder :math:`i`'s realised bids over the rounds of :math:`W_t` in which
  its context was :math:`k` (NaN if there were none);
- ``distance_to_equilibrium[t]``: :math:`\frac1n \sum_i \sum_k f_k |\mathrm{mean\_bid}[t, i, k] - \beta_k|
  / \sum_k f_k`, where :math:`f_k` is the context's probability and :math:`\beta_k` the closed-form
  equilibrium bid at the context's value or bin centre (:meth:`RepeatedAuction.equilibrium_bid`; truthful
  bidding in second price for any values; NaN where there is no closed form, i.e. first price and all-pay
  with discrete values).  The sums run over the contexts with a mean bid and an equilibrium bid of at least
  the reserve: a context whose equilibrium bid is below the reserve does not take part, and there every bid
  below the reserve is equally good, so no single bid is the equilibrium's;
- ``revenue[t]`` and ``welfare[t]`` (the winner's value, 0 if unsold): averages over rounds :math:`1..t`;
  ``revenue_window[t]`` and ``welfare_window[t]`` the averages over :math:`W_t`;
- ``external_regret[t, i, k]``: the regret of the context-:math:`k` learner of bidder :math:`i` against its
  best fixed grid bid, :math:`\max_b \sum_{s \le t,\, k_i^s = k} \bar u_i^s(b) - \bar u_i^s(a_i^s)`, in the
  expected-over-ties utilities :math:`\bar u` (for every learner, bandit included).

``bid_strategy[i, k]`` is the empirical distribution of bidder :math:`i`'s grid bids over the rounds of the
final window :math:`W_T` in context :math:`k` (a row of NaN if the context did not occur there).

Randomness.  ``seed`` gives one generator, spawned into three streams: the values (``sample_values``), the
tie-breaks (the uniforms that :meth:`RepeatedAuction.play` draws) and the learners' sampling (``T x n``
uniforms in round-major order).  For an integer seed the first two are
:meth:`RepeatedAuction.generators` ``(seed)``, the streams of ``mechsim/Auction-v0`` after ``reset(seed=seed)``.

Speed.  No learner can be vectorised over rounds (each round's play depends on the last), so play is one loop
over rounds, vectorised across bidders where the learner allows (Hedge, and every bidder's counterfactual
utility vector at once: one lookup in a table of win probabilities indexed by :math:`(M_i, c_i)`); values,
tie-breaks and uniforms are drawn in chunks; outcomes, regrets and bid counts are computed per chunk with
numpy.

Example
-------
>>> from mechsim.auctions import RepeatedAuction
>>> from mechsim.learners import learn_to_bid
>>> auction = RepeatedAuction(2, "second", n_bids=11)
>>> run = learn_to_bid(auction, "hedge", rounds=20_000, seed=0, n_value_bins=5)
>>> run.mean_bid.shape[1:], run.bid_strategy.shape      # (bidders, contexts), (bidders, contexts, bids)
((2, 5), (2, 5, 11))
>>> bool(run.distance_to_equilibrium[-1] < 0.1)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.auctions import RepeatedAuction
from mechsim.errors import InvalidInstanceError
from mechsim.learners._core import _draw, _sample_rows, _softmax_rows
from mechsim.learners.bandits import Exp3
from mechsim.learners.dynamics import _check_checkpoints
from mechsim.learners.experts import Hedge
from mechsim.learners.regret_matching import RegretMatching
from mechsim.validation import (
    _describe,
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_integer,
    check_positive,
)

__all__ = ["BIDDING_LEARNERS", "DEFAULT_VALUE_BINS", "TRAILING_FRACTION", "BiddingDynamics", "bid_utilities",
           "learn_to_bid"]

#: The learners :func:`learn_to_bid` runs.
BIDDING_LEARNERS = ("hedge", "exp3", "regret_matching")
#: Value bins of a uniform value distribution when ``n_value_bins`` is not given.
DEFAULT_VALUE_BINS = 10
#: The window of a checkpoint ``t`` is its last ``t - floor(t * (1 - TRAILING_FRACTION))`` rounds.
TRAILING_FRACTION = 0.5

_CHUNK = 1 << 12          # rounds per chunk of pre-drawn randomness and per-chunk measurement
_BYTES_PER_ROUND_BIDDER = 3 * 8  # stored bids, values and contexts


# ----------------------------------------------------------------------------------------------------------
# The auction as the learners see it
# ----------------------------------------------------------------------------------------------------------

class _Rules:
    """Counterfactual utilities of every grid bid, from a table of win probabilities (validated auction in)."""

    def __init__(self, auction: RepeatedAuction):
        n, g, r = auction.n_bidders, np.asarray(auction.bids, dtype=float), float(auction.reserve)
        k = g.size
        check_allocation("auction", 8.0 * (k + 1) * n * k + 3 * 8.0 * _CHUNK * n * k,
                         f"win-probability tables and buffers of {n} bidders x {k} bids")
        self.n, self.k, self.grid, self.reserve, self.format = n, k, g, r, auction.format
        self.eligible = (g >= r).astype(float)
        # win[M + 1, c, b]: probability that grid bid b wins when the others' highest bid is grid index M
        # (M = -1: no other bidder) and c others bid exactly it (c = 1..n-1; c = 0 only with M = -1)
        idx = np.arange(k)
        top = np.arange(-1, k)[:, None, None]
        ties = np.arange(max(n, 1))[None, :, None]
        self.win = ((idx > top) + (idx == top) / (1.0 + ties)) * self.eligible
        # the second price a winner pays against the others' highest bid M: max(bid M, r); max(0, r) = r alone
        self.price = np.maximum(np.concatenate([[0.0], g]), r)
        self.off_diagonal = ~np.eye(n, dtype=bool)
        self.others = np.broadcast_to(np.arange(n), (n, n))[self.off_diagonal].reshape(n, n - 1)
        lo_v, hi_v = auction.value_range
        hi = max(0.0, hi_v - r)
        lo = -float(g[-1]) if self.format == "all_pay" else min(0.0, lo_v - float(g[-1]))
        self.range = (lo, hi)
        self.width = hi - lo

    def utilities(self, bids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``u[..., i, b]``: bidder ``i``'s expected utility of grid bid ``b`` against the others' bids.

        ``bids`` (int grid indices) and ``values`` of shape ``(..., n)``; the result has shape ``(..., n, K)``.
        """
        if self.n == 1:
            top = np.full(bids.shape, -1)
            ties = np.zeros(bids.shape, dtype=np.int64)
        else:
            rivals = bids[..., self.others]                       # (..., n, n - 1)
            top = rivals.max(axis=-1)
            ties = (rivals == top[..., None]).sum(axis=-1)
        p = self.win[top + 1, ties]                              # (..., n, K)
        v = values[..., None]
        if self.format == "first":
            return (v - self.grid) * p
        if self.format == "second":
            return (v - self.price[top + 1][..., None]) * p
        return v * p - self.grid * self.eligible

    def scaled(self, u):
        """Utilities mapped to [0, 1] by the known range (all zeros if the range is a point)."""
        if self.width > 0:
            return (u - self.range[0]) / self.width
        return u * 0.0


class _Contexts:
    """The value contexts of an auction: indices of discrete values, or equal-width bins of uniform values."""

    def __init__(self, auction: RepeatedAuction, n_value_bins):
        if auction.discrete_values:
            if n_value_bins is not None:
                raise InvalidInstanceError(f"n_value_bins: expected None for an auction with discrete values (the "
                                           f"context is the value itself), found {_describe(n_value_bins)}",
                                           "n_value_bins")
            self.values = np.asarray(auction.values, dtype=float)
            self.probability = np.asarray(auction.prior, dtype=float)
            self.edges = None
            self.low = self.high = None
        else:
            m = DEFAULT_VALUE_BINS if n_value_bins is None else check_integer("n_value_bins", n_value_bins,
                                                                                minimum=1)
            check_allocation("n_value_bins", 8.0 * m * auction.n_bidders * auction.n_bids * 3,
                             f"learner state of {m} value bins x {auction.n_bidders} bidders x "
                             f"{auction.n_bids} bids")
            self.low, self.high = float(auction.low), float(auction.high)
            self.edges = np.linspace(self.low, self.high, m + 1)
            self.values = 0.5 * (self.edges[:-1] + self.edges[1:])
            self.probability = np.full(m, 1.0 / m)
        self.size = self.values.size

    def of(self, values: np.ndarray) -> np.ndarray:
        if self.edges is None:
            return np.searchsorted(self.values, values)
        m = self.size
        return np.minimum((m * (values - self.low) / (self.high - self.low)).astype(np.int64), m - 1)


def _equilibrium_bids(auction: RepeatedAuction, contexts: _Contexts) -> np.ndarray:
    if not auction.discrete_values:
        return np.asarray(auction.equilibrium_bid(contexts.values), dtype=float)
    if auction.format == "second":
        return contexts.values.copy()          # truthful bidding is dominant for any value distribution
    return np.full(contexts.size, np.nan)


def _check_auction(auction) -> RepeatedAuction:
    if not isinstance(auction, RepeatedAuction):
        raise InvalidInstanceError(f"auction: expected a RepeatedAuction, found {_describe(auction)}", "auction")
    if auction.bids is None:
        raise InvalidInstanceError("auction: expected an auction with a bid grid (bid_space='discrete'): the "
                                   "learners pick grid bids, found bid_space='box'", "auction")
    return auction


def bid_utilities(auction: RepeatedAuction, bids, values) -> np.ndarray:
    """Every bidder's expected utility of every grid bid against the others' bids (module docstring).

    Parameters
    ----------
    auction : RepeatedAuction
        With a bid grid (``bid_space="discrete"``).
    bids : array_like of int, shape (batch, n_bidders)
        Grid indices of the bids of each round.
    values : array_like, shape (batch, n_bidders)
        The bidders' values.

    Returns
    -------
    ndarray, shape (batch, n_bidders, n_bids)
        ``u[t, i, b]``: bidder ``i``'s utility in round ``t`` had it bid ``auction.bids[b]`` while the others bid
        ``bids[t, -i]``, in expectation over the auction's uniform tie-break.  It equals the utility of
        :func:`~mechsim.auctions.auction_outcomes` exactly unless ``b`` ties the others' highest bid.

    Examples
    --------
    Bidder 0 (value 0.75) against a rival bidding 0.25 in first price: bidding 0 loses, bidding 0.25 ties and
    wins half the time, bidding 0.5 wins:

    >>> from mechsim.auctions import RepeatedAuction
    >>> auction = RepeatedAuction(2, "first", bids=[0.0, 0.25, 0.5])
    >>> bid_utilities(auction, [[0, 1]], [[0.75, 0.5]])[0, 0].tolist()
    [0.0, 0.25, 0.25]
    """
    auction = _check_auction(auction)
    n, k = auction.n_bidders, auction.n_bids
    b = check_array("bids", bids, ndim=2, shape=(None, n))
    if b.size and (not np.array_equal(b, np.round(b)) or b.min() < 0 or b.max() > k - 1):
        bad = tuple(int(x) for x in np.argwhere((b != np.round(b)) | (b < 0) | (b > k - 1))[0])
        raise InvalidInstanceError(f"bids: expected grid indices in 0..{k - 1}, found {b[bad]!r} at index {bad}",
                                   "bids")
    v = check_array("values", values, ndim=2, shape=b.shape)
    check_allocation("bids", 8.0 * b.shape[0] * n * (k + n), f"utilities of {b.shape[0]} rounds x {n} bidders x "
                                                            f"{k} bids")
    return _Rules(auction).utilities(b.astype(np.int64), v)


# ----------------------------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BiddingDynamics:
    """Outcome of :func:`learn_to_bid` (see :mod:`mechsim.learners.bidding` for the definitions).

    Attributes
    ----------
    auction : RepeatedAuction
    learner : str
    rounds : int
    seed : int, Generator or None
        The ``seed`` argument.
    learning_rate : str or float
        ``"anytime"`` or the fixed Hedge rate.
    utility_range : tuple of float
        ``(low, high)``: the affine map of utilities to [0, 1] that the learners saw.
    context_values : ndarray, shape (m,)
        The value (discrete values) or bin centre (uniform values) of each context.
    context_edges : ndarray of shape (m + 1,), or None
        The bin edges (uniform values).
    context_probability : ndarray, shape (m,)
        Probability of each context.
    bids : ndarray of int, shape (T, n)
        Grid index of every bidder's bid in every round (amounts: ``auction.bids[bids]``).
    values : ndarray, shape (T, n)
        The values of every round.
    contexts : ndarray of int, shape (T, n)
        Every bidder's context in every round.
    checkpoints : ndarray of int, shape (C,)
        Rounds ``t`` at which the curves below were recorded (increasing).
    mean_bid : ndarray, shape (C, n, m)
        Mean realised bid of each bidder in each context over the window of each checkpoint (NaN: the
        context did not occur in the window).
    bid_strategy : ndarray, shape (n, m, K)
        Empirical distribution of each bidder's grid bids in each context over the final window.
    equilibrium_bid : ndarray, shape (m,)
        The closed-form equilibrium bid at each context's value or bin centre (NaN: no closed form).
    distance_to_equilibrium : ndarray, shape (C,)
        Probability-weighted mean of ``|mean_bid - equilibrium_bid|`` over the contexts that take part (an
        equilibrium bid of at least the reserve), averaged over bidders.
    revenue, welfare : ndarray, shape (C,)
        Average revenue and welfare (the winner's value) per round over rounds ``1..t``.
    revenue_window, welfare_window : ndarray, shape (C,)
        The same averages over the window of ``t``.
    external_regret : ndarray, shape (C, n, m)
        Regret of each bidder's context learner against its best fixed grid bid after ``t`` rounds (auction
        units, expected over tie-breaks).
    """

    auction: RepeatedAuction
    learner: str
    rounds: int
    seed: object
    learning_rate: str | float
    utility_range: tuple[float, float]
    context_values: np.ndarray
    context_edges: np.ndarray | None
    context_probability: np.ndarray
    bids: np.ndarray
    values: np.ndarray
    contexts: np.ndarray
    checkpoints: np.ndarray
    mean_bid: np.ndarray
    bid_strategy: np.ndarray
    equilibrium_bid: np.ndarray
    distance_to_equilibrium: np.ndarray
    revenue: np.ndarray
    revenue_window: np.ndarray
    welfare: np.ndarray
    welfare_window: np.ndarray
    external_regret: np.ndarray

    @property
    def n_bidders(self) -> int:
        return int(self.bids.shape[1])

    @property
    def n_contexts(self) -> int:
        return int(self.context_values.size)

    @property
    def bid_amounts(self) -> np.ndarray:
        """The bids as amounts, ``auction.bids[bids]``, shape (T, n)."""
        return self.auction.bids[self.bids]


# ----------------------------------------------------------------------------------------------------------
# The per-round loops (one chunk of rounds each; they write bids[lo:hi] and, with full information, the
# counterfactual utilities of the chunk)
# ----------------------------------------------------------------------------------------------------------

class _HedgeBidders:
    """Hedge's state stacked over (bidder, context); rates from Hedge's own schedule by the context's count."""

    full_information = True

    def __init__(self, rules: _Rules, n_contexts: int, rounds: int, rate):
        n, k = rules.n, rules.k
        self.rules = rules
        self.cumulative = np.zeros((n, n_contexts, k))
        self.counts = np.zeros((n, n_contexts), dtype=np.int64)
        # a context learner plays at most `rounds` times; its s-th round uses rate[s - 1]
        self.rates = Hedge(k, learning_rate=None if isinstance(rate, str) else rate)._rates(0, rounds)[:, 0]

    def play(self, contexts, values, uniforms, ties, bids, utilities) -> None:
        rules, cumulative, counts, rates = self.rules, self.cumulative, self.counts, self.rates
        bidders = np.arange(rules.n)
        for j in range(contexts.shape[0]):
            ctx = contexts[j]
            losses = cumulative[bidders, ctx]
            seen = counts[bidders, ctx]
            p = _softmax_rows(rates[seen][:, None] * losses)
            a = _sample_rows(p, uniforms[j])
            bids[j] = a
            u = rules.utilities(a, values[j])
            utilities[j] = u
            cumulative[bidders, ctx] = losses + (1.0 - rules.scaled(u))
            counts[bidders, ctx] = seen + 1


class _SequentialBidders:
    """One :class:`RegretMatching` or :class:`Exp3` object per (bidder, context), driven by its own methods."""

    def __init__(self, rules: _Rules, n_contexts: int, learner: str, auction: RepeatedAuction):
        self.rules, self.auction = rules, auction
        self.full_information = learner == "regret_matching"
        make = (lambda: RegretMatching(rules.k)) if self.full_information else (lambda: Exp3(rules.k))
        self.players = [[make() for _ in range(n_contexts)] for _ in range(rules.n)]

    def play(self, contexts, values, uniforms, ties, bids, utilities) -> None:
        rules, players = self.rules, self.players
        grid = rules.grid
        low, width = rules.range[0], rules.width
        n = rules.n
        for j, (ctx, us) in enumerate(zip(contexts.tolist(), uniforms.tolist())):
            active = [players[i][c] for i, c in enumerate(ctx)]
            if self.full_information:
                sigmas = [p._strategy() for p in active]
                a = [_draw(s, u, p._small) for s, u, p in zip(sigmas, us, active)]
                bids[j] = a
                u = rules.utilities(bids[j], values[j])
                utilities[j] = u
                rows = rules.scaled(u).tolist()
                for p, s, row in zip(active, sigmas, rows):
                    p._step(row if p._small else np.asarray(row), s)
            else:
                weights = [p._weights() for p in active]
                totals = [p._total(w) for p, w in zip(active, weights)]
                a = [_draw(w, u, p._small) for w, u, p in zip(weights, us, active)]
                bids[j] = a
                outcome = self.auction._play_unchecked(grid[bids[j]][None, :], values[j][None, :], ties[j][None, :])
                realised = outcome.utilities[0].tolist()
                for i in range(n):
                    scaled = (realised[i] - low) / width if width > 0 else 0.0
                    active[i]._learn(a[i], 1.0 - scaled, weights[i], totals[i])


# ----------------------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------------------

def _check_rate(learning_rate, learner: str):
    if learning_rate is None:
        return "anytime"
    if learner != "hedge":
        raise InvalidInstanceError(f"learning_rate: expected None for {learner} (a fixed rate is for hedge; "
                                   f"{learner} uses its own schedule), found {_describe(learning_rate)}",
                                   "learning_rate")
    return check_positive("learning_rate", learning_rate)


def _window_start(t):
    """First round excluded from the window of checkpoint ``t`` (the window is rounds start+1..t)."""
    return np.floor(np.asarray(t) * (1.0 - TRAILING_FRACTION)).astype(np.int64)


def learn_to_bid(auction: RepeatedAuction, learner: str = "hedge", rounds: int = 10_000, seed=None, *,
                 checkpoints=None, n_value_bins: int | None = None, learning_rate=None) -> BiddingDynamics:
    """Every bidder of a repeated auction learns to bid with its own no-regret learners, one per value context.

    Parameters
    ----------
    auction : RepeatedAuction
        The auction (format, reserve, values, bid grid); it must have a bid grid (``bid_space="discrete"``).
    learner : {"hedge", "exp3", "regret_matching"}
        ``hedge`` and ``regret_matching`` learn from the utility of every grid bid (full information),
        ``exp3`` from the realised utility of its own bid (bandit feedback).
    rounds : int
        Number of rounds ``T >= 1``.
    seed : int, Generator or None
        The one source of randomness (module docstring).  Same seed, same run.
    checkpoints : array of int, optional
        Rounds in ``[1, T]`` at which to record the curves (sorted, duplicates dropped).  Default: about 30
        log-spaced rounds from 1 to ``T``.
    n_value_bins : int, optional
        Number of equal-width value bins (contexts) for uniform values; default :data:`DEFAULT_VALUE_BINS`.
        Must be None with discrete values, whose contexts are the values.
    learning_rate : None or float
        None: each learner's anytime schedule; a positive number: a fixed Hedge rate (``hedge`` only), in
        units of the utilities rescaled to [0, 1].

    Returns
    -------
    BiddingDynamics
        The play (bids, values, contexts) and, per checkpoint, the mean bids per context, the distance to the
        equilibrium bids, revenue and welfare (cumulative and windowed averages) and the regrets per context.

    Raises
    ------
    InvalidInstanceError
        On bad arguments (the message names the argument), including an auction with box bids.
    """
    auction = _check_auction(auction)
    learner = check_choice("learner", learner, BIDDING_LEARNERS)
    rounds = check_integer("rounds", rounds, minimum=1)
    n, k = auction.n_bidders, auction.n_bids
    check_allocation("rounds", float(rounds) * n * _BYTES_PER_ROUND_BIDDER,
                     f"the bids, values and contexts of {rounds} rounds of {n} bidders")
    root = as_generator(seed)
    marks = _check_checkpoints(checkpoints, rounds)
    rate = _check_rate(learning_rate, learner)
    contexts_of = _Contexts(auction, n_value_bins)
    m = contexts_of.size
    rules = _Rules(auction)
    values_rng, ties_rng, bids_rng = root.spawn(3)
    if learner == "hedge":
        bidders = _HedgeBidders(rules, m, rounds, rate)
    else:
        bidders = _SequentialBidders(rules, m, learner, auction)

    bids = np.empty((rounds, n), dtype=np.int64)
    values = np.empty((rounds, n))
    contexts = np.empty((rounds, n), dtype=np.int64)
    revenue = np.empty(rounds)
    welfare = np.empty(rounds)
    # snapshots of the cumulative counters at every checkpoint and at the start of its window
    starts = _window_start(marks)
    snaps = np.unique(np.concatenate([marks, starts[starts > 0]]))
    check_allocation("checkpoints", 8.0 * (3 * snaps.size + marks.size) * n * m * k,
                     f"bid counts of {n} bidders x {m} contexts x {k} bids at {snaps.size} rounds")
    count_snaps = np.zeros((snaps.size, n, m, k), dtype=np.int64)
    regret_snaps = np.zeros((marks.size, n, m))
    counts = np.zeros(n * m * k, dtype=np.int64)
    best = np.zeros((n, m, k))          # cumulative utility of every fixed grid bid, per context
    own = np.zeros((n, m))              # cumulative utility of the bids played, per context
    snap_at = {int(t): s for s, t in enumerate(snaps.tolist())}
    mark_at = {int(t): c for c, t in enumerate(marks.tolist())}
    utilities = np.empty((min(_CHUNK, rounds), n, k))
    flat_base = (np.arange(n) * m)[None, :]
    for lo in range(0, rounds, _CHUNK):
        hi = min(lo + _CHUNK, rounds)
        size = hi - lo
        v = auction.sample_values(size, values_rng)
        ties = ties_rng.random((size, n))
        uniforms = bids_rng.random((size, n))
        ctx = contexts_of.of(v)
        values[lo:hi], contexts[lo:hi] = v, ctx
        chunk_bids = bids[lo:hi]
        u = utilities[:size]
        bidders.play(ctx, v, uniforms, ties, chunk_bids, u)
        if not bidders.full_information:
            u[...] = rules.utilities(chunk_bids, v)
        outcome = auction._play_unchecked(rules.grid[chunk_bids], v, ties)
        revenue[lo:hi] = outcome.revenue
        welfare[lo:hi] = (v * outcome.allocation).sum(axis=1)
        # per-context counters, split at the snapshot rounds inside the chunk
        inside = [t for t in snaps.tolist() if lo < t <= hi]
        edges = [lo] + inside + ([hi] if not inside or inside[-1] != hi else [])
        for a, b in zip(edges[:-1], edges[1:]):
            seg = slice(a - lo, b - lo)
            cb, cc, cu = chunk_bids[seg], ctx[seg], u[seg]
            counts += np.bincount(((flat_base + cc) * k + cb).ravel(), minlength=n * m * k)
            onehot = (cc[:, :, None] == np.arange(m)).astype(float)            # (B, n, m)
            best += np.einsum("tic,tib->icb", onehot, cu)
            played = np.take_along_axis(cu, cb[:, :, None], axis=2)[:, :, 0]    # (B, n)
            own += np.einsum("tic,ti->ic", onehot, played)
            if b in snap_at:
                count_snaps[snap_at[b]] = counts.reshape(n, m, k)
            if b in mark_at:
                regret_snaps[mark_at[b]] = best.max(axis=2) - own

    measured = _measure(auction, contexts_of, marks, starts, snaps, count_snaps, revenue, welfare)
    return BiddingDynamics(auction=auction, learner=learner, rounds=rounds, seed=seed, learning_rate=rate,
                           utility_range=rules.range, context_values=contexts_of.values.copy(),
                           context_edges=None if contexts_of.edges is None else contexts_of.edges.copy(),
                           context_probability=contexts_of.probability.copy(), bids=bids, values=values,
                           contexts=contexts, checkpoints=marks, external_regret=regret_snaps, **measured)


def _measure(auction, contexts_of: _Contexts, marks, starts, snaps, count_snaps, revenue, welfare) -> dict:
    n, m, k = count_snaps.shape[1:]
    index = {int(t): s for s, t in enumerate(snaps.tolist())}
    zero = np.zeros((n, m, k), dtype=np.int64)
    window = np.stack([count_snaps[index[int(t)]] - (count_snaps[index[int(s)]] if s > 0 else zero)
                       for t, s in zip(marks.tolist(), starts.tolist())])          # (C, n, m, K)
    visits = window.sum(axis=3)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_bid = np.where(visits > 0, window @ auction.bids / np.maximum(visits, 1), np.nan)
        strategy = np.where(visits[-1][..., None] > 0, window[-1] / np.maximum(visits[-1], 1)[..., None], np.nan)
    eq = _equilibrium_bids(auction, contexts_of)
    f = contexts_of.probability
    with np.errstate(invalid="ignore"):
        takes_part = np.isfinite(eq) & (eq >= auction.reserve)
    usable = np.isfinite(mean_bid) & takes_part                                      # (C, n, m)
    weight = np.where(usable, f, 0.0)
    gap = np.where(usable, np.abs(np.where(usable, mean_bid, 0.0) - np.where(np.isfinite(eq), eq, 0.0)), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_bidder = (weight * gap).sum(axis=2) / weight.sum(axis=2)                  # NaN if nothing usable
    distance = per_bidder.mean(axis=1)
    cum_rev = np.concatenate([[0.0], np.cumsum(revenue)])
    cum_wel = np.concatenate([[0.0], np.cumsum(welfare)])
    span = (marks - starts).astype(float)
    return {"mean_bid": mean_bid, "bid_strategy": strategy, "equilibrium_bid": eq,
            "distance_to_equilibrium": distance,
            "revenue": cum_rev[marks] / marks, "revenue_window": (cum_rev[marks] - cum_rev[starts]) / span,
            "welfare": cum_wel[marks] / marks, "welfare_window": (cum_wel[marks] - cum_wel[starts]) / span}
