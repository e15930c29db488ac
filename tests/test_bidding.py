"""Learning bidders (mechsim.learners.bidding) against independent oracles.

Oracles: the auction's own rules (:func:`mechsim.auctions.auction_outcomes`, exactly off ties and by Monte Carlo
over the tie-break at ties) and a loop-built expected utility written from the rules' definition; a replay of
every round through the learners' public per-round interfaces (``probabilities`` / ``update``) with an
independent inverse-CDF draw; the value and tie-break streams of :meth:`RepeatedAuction.generators` and
:meth:`RepeatedAuction.play`; mean bids, bid frequencies, regrets, revenue and welfare recomputed by loops over
the play; the closed-form equilibrium bids (truthful in second price, ``(n-1)/n v`` in first price with uniform
values) and the best response of a lone bidder (the reserve).
"""

from __future__ import annotations

import numpy as np
import pytest

from mechsim.auctions import RepeatedAuction, auction_outcomes
from mechsim.errors import InvalidInstanceError, MechsimError
from mechsim.learners import (
    BIDDING_LEARNERS,
    SMALL_K,
    TRAILING_FRACTION,
    Exp3,
    Hedge,
    RegretMatching,
    bid_utilities,
    learn_to_bid,
)

FORMATS = ("first", "second", "all_pay")


def oracle_utility(fmt, reserve, grid, value, bid, rival_bids):
    """Expected utility of bidding ``grid[bid]`` against rivals' grid indices, from the rules' definition."""
    mine = grid[bid]
    rivals = [grid[j] for j in rival_bids]
    top = max(rivals) if rivals else -np.inf
    if mine < reserve or mine < top:
        win = 0.0
    elif mine > top:
        win = 1.0
    else:
        win = 1.0 / (1 + sum(1 for x in rivals if x == top))
    if fmt == "all_pay":
        return value * win - (mine if mine >= reserve else 0.0)
    price = mine if fmt == "first" else max(top, reserve)
    return (value - price) * win


def draw(p, u):
    """Inverse-CDF draw, written independently of the library's kernels."""
    c = np.cumsum(p)
    return int(min(np.searchsorted(c, u * c[-1], side="right"), np.flatnonzero(p > 0)[-1]))


def scaled(u, run):
    lo, hi = run.utility_range
    return (u - lo) / (hi - lo)


# ----------------------------------------------------------------------------------------------------------
# Counterfactual utilities are the auction's rules
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("reserve", [0.0, 0.25])
def test_bid_utilities_are_the_rules(fmt, n, reserve):
    """Exactly the rules' utility off ties; at ties the loop oracle exactly and the rules by Monte Carlo."""
    grid = np.array([0.0, 0.25, 0.5, 0.75, 1.0])              # few bids: many ties
    auction = RepeatedAuction(n, fmt, reserve, bids=grid)
    rng = np.random.default_rng(n * 10 + int(reserve * 4))
    bids = rng.integers(0, grid.size, size=(40, n))
    values = rng.uniform(0.0, 1.2, size=(40, n))
    u = bid_utilities(auction, bids, values)
    assert u.shape == (40, n, grid.size)
    tie_rows, tie_cases = [], []
    for t in range(40):
        for i in range(n):
            rivals = [bids[t, j] for j in range(n) if j != i]
            for b in range(grid.size):
                expected = oracle_utility(fmt, reserve, grid, values[t, i], b, rivals)
                assert u[t, i, b] == pytest.approx(expected, abs=1e-12), (t, i, b)
                profile = bids[t].copy()
                profile[i] = b
                tied = bool(rivals) and b == max(rivals) and grid[b] >= reserve
                if tied:
                    tie_rows.append(profile)
                    tie_cases.append((t, i, b))
                else:
                    out = auction_outcomes(grid[profile][None, :], values[t][None, :], fmt, reserve, rng=0)
                    assert u[t, i, b] == out.utilities[0, i], (t, i, b)
    if n == 1:
        assert not tie_cases
        return
    assert len(tie_cases) > 10
    draws = 4000
    amounts = grid[np.repeat(np.array(tie_rows), draws, axis=0)]
    vals = np.repeat(values[[t for t, _, _ in tie_cases]], draws, axis=0)
    out = auction_outcomes(amounts, vals, fmt, reserve, rng=1).utilities.reshape(len(tie_cases), draws, n)
    for c, (t, i, b) in enumerate(tie_cases):
        realised = out[c, :, i]
        se = max(realised.std(), 1e-3) / np.sqrt(draws)
        assert abs(realised.mean() - u[t, i, b]) < 5 * se, (t, i, b, realised.mean(), u[t, i, b])


# ----------------------------------------------------------------------------------------------------------
# The play is the learners' own update rules on the auction's own randomness
# ----------------------------------------------------------------------------------------------------------

def discrete_auction(fmt="first", n=3, n_bids=9):
    return RepeatedAuction(n, fmt, 0.1, values=[0.2, 0.5, 1.0], prior=[0.3, 0.3, 0.4],
                           bids=np.linspace(0, 1, n_bids))


@pytest.mark.parametrize("learner", BIDDING_LEARNERS)
@pytest.mark.parametrize("fmt, n_bids", [("first", 9), ("second", 9), ("all_pay", 9), ("first", SMALL_K + 4)])
def test_replay_through_the_per_round_interfaces(learner, fmt, n_bids):
    """``SMALL_K + 4`` bids: the sequential learners keep numpy state instead of Python floats."""
    auction = discrete_auction(fmt, n_bids=n_bids)
    T, seed = (400 if n_bids < SMALL_K else 150), 5
    run = learn_to_bid(auction, learner, rounds=T, seed=seed)
    n, m, k = auction.n_bidders, run.n_contexts, auction.n_bids
    _, ties_rng, bids_rng = np.random.default_rng(seed).spawn(3)
    uniforms = bids_rng.random((T, n))
    realised = auction.play(run.bid_amounts, run.values, ties_rng).utilities
    make = {"hedge": Hedge, "exp3": Exp3, "regret_matching": RegretMatching}[learner]
    players = [[make(k) for _ in range(m)] for _ in range(n)]
    grid = list(auction.values)
    for t in range(T):
        ctx = [grid.index(v) for v in run.values[t]]
        np.testing.assert_array_equal(run.contexts[t], ctx)
        u = bid_utilities(auction, run.bids[t][None, :], run.values[t][None, :])[0]
        for i in range(n):
            p = players[i][ctx[i]]
            assert run.bids[t, i] == draw(p.probabilities, uniforms[t, i]), (t, i)
            if learner == "hedge":
                p.update(1.0 - scaled(u[i], run))
            elif learner == "regret_matching":
                p.update(scaled(u[i], run))
            else:
                p.update(int(run.bids[t, i]), 1.0 - scaled(realised[t, i], run))


def test_fixed_hedge_rate_is_hedges():
    auction = discrete_auction("second", n=2)
    run = learn_to_bid(auction, "hedge", rounds=300, seed=2, learning_rate=0.7)
    assert run.learning_rate == 0.7
    uniforms = np.random.default_rng(2).spawn(3)[2].random((300, 2))
    players = [[Hedge(9, learning_rate=0.7) for _ in range(3)] for _ in range(2)]
    for t in range(300):
        u = bid_utilities(auction, run.bids[t][None, :], run.values[t][None, :])[0]
        for i in range(2):
            p = players[i][run.contexts[t, i]]
            assert run.bids[t, i] == draw(p.probabilities, uniforms[t, i])
            p.update(1.0 - scaled(u[i], run))


@pytest.mark.parametrize("learner", BIDDING_LEARNERS)
def test_values_ties_and_outcomes_are_the_auctions(learner):
    """The values and tie-breaks are the streams of Auction-v0's reset(seed); outcomes come from play()."""
    auction = RepeatedAuction(3, "second", 0.2, n_bids=11)
    T, seed = 9000, 17          # more than one chunk of rounds
    marks = np.array([1, 10, 4096, 4097, 6000, T])
    run = learn_to_bid(auction, learner, rounds=T, seed=seed, checkpoints=marks, n_value_bins=4)
    values_rng, ties_rng = RepeatedAuction.generators(seed)
    np.testing.assert_array_equal(run.values, auction.sample_values(T, values_rng))
    out = auction.play(run.bid_amounts, run.values, ties_rng)
    welfare = (run.values * out.allocation).sum(axis=1)
    for c, t in enumerate(marks):
        s = int(np.floor(t * (1 - TRAILING_FRACTION)))
        assert run.revenue[c] == pytest.approx(out.revenue[:t].mean(), rel=1e-12)
        assert run.welfare[c] == pytest.approx(welfare[:t].mean(), rel=1e-12)
        assert run.revenue_window[c] == pytest.approx(out.revenue[s:t].mean(), rel=1e-12)
        assert run.welfare_window[c] == pytest.approx(welfare[s:t].mean(), rel=1e-12)
    np.testing.assert_array_equal(run.contexts, np.minimum((run.values * 4).astype(int), 3))


@pytest.mark.parametrize("learner", BIDDING_LEARNERS)
def test_measurements_recomputed_from_the_play(learner):
    auction = discrete_auction("all_pay")
    marks = np.array([1, 2, 7, 50, 133, 400])
    run = learn_to_bid(auction, learner, rounds=400, seed=3, checkpoints=marks)
    n, m, k = auction.n_bidders, run.n_contexts, auction.n_bids
    grid = auction.bids
    total = np.zeros((n, m, k))
    own = np.zeros((n, m))
    for t in range(400):
        for i in range(n):
            rivals = [run.bids[t, j] for j in range(n) if j != i]
            c = run.contexts[t, i]
            row = [oracle_utility("all_pay", 0.1, grid, run.values[t, i], b, rivals) for b in range(k)]
            total[i, c] += row
            own[i, c] += row[run.bids[t, i]]
        if t + 1 in marks:
            j = list(marks).index(t + 1)
            np.testing.assert_allclose(run.external_regret[j], total.max(axis=2) - own, atol=1e-9)
    for j, t in enumerate(marks):
        s = int(np.floor(t * (1 - TRAILING_FRACTION)))
        for i in range(n):
            for c in range(m):
                rounds = [r for r in range(s, t) if run.contexts[r, i] == c]
                if rounds:
                    assert run.mean_bid[j, i, c] == pytest.approx(grid[run.bids[rounds, i]].mean(), abs=1e-12)
                else:
                    assert np.isnan(run.mean_bid[j, i, c])
    s = 200
    for i in range(n):
        for c in range(m):
            rows = run.bids[s:, i][run.contexts[s:, i] == c]
            np.testing.assert_allclose(run.bid_strategy[i, c], np.bincount(rows, minlength=k) / rows.size)
    # discrete values: no closed form for all-pay, so no distance; second price: truthful
    assert np.all(np.isnan(run.equilibrium_bid)) and np.all(np.isnan(run.distance_to_equilibrium))
    sp = learn_to_bid(discrete_auction("second"), learner, rounds=200, seed=3, checkpoints=[200])
    np.testing.assert_array_equal(sp.equilibrium_bid, [0.2, 0.5, 1.0])
    f = np.array([0.3, 0.3, 0.4])
    gaps = [np.sum(f * np.abs(sp.mean_bid[0, i] - sp.equilibrium_bid)) for i in range(3)]
    assert sp.distance_to_equilibrium[0] == pytest.approx(np.mean(gaps), abs=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_distance_leaves_out_the_contexts_below_the_reserve(fmt):
    """Where the equilibrium bid is below the reserve every bid below the reserve is a best reply: not counted."""
    auction = RepeatedAuction(2, fmt, 0.5, n_bids=11)
    run = learn_to_bid(auction, "hedge", rounds=2000, seed=8, n_value_bins=5, checkpoints=[500, 2000])
    eq = run.equilibrium_bid
    np.testing.assert_allclose(eq, auction.equilibrium_bid(run.context_values))
    counted = eq >= 0.5
    assert 0 < counted.sum() < 5
    for j in range(2):
        gaps = [np.sum(np.abs(run.mean_bid[j, i, counted] - eq[counted])) / counted.sum() for i in range(2)]
        assert run.distance_to_equilibrium[j] == pytest.approx(np.mean(gaps), abs=1e-12)


@pytest.mark.parametrize("learner", BIDDING_LEARNERS)
def test_same_seed_same_run_and_other_seed_other_run(learner):
    auction = RepeatedAuction(2, "first", n_bids=11)
    a = learn_to_bid(auction, learner, rounds=3000, seed=21, n_value_bins=4)
    b = learn_to_bid(auction, learner, rounds=3000, seed=np.random.default_rng(21), n_value_bins=4)
    c = learn_to_bid(auction, learner, rounds=3000, seed=22, n_value_bins=4)
    for field in ("bids", "values", "mean_bid", "bid_strategy", "revenue", "welfare", "external_regret",
                  "distance_to_equilibrium"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.bids, c.bids)


@pytest.mark.parametrize("learner", BIDDING_LEARNERS)
def test_invariant_to_the_money_unit(learner):
    """Values, bids and reserve times 4 (a power of two: exact): the same bids, every amount times 4."""
    base = RepeatedAuction(3, "first", 0.25, n_bids=9)
    big = RepeatedAuction(3, "first", 1.0, low=0.0, high=4.0, n_bids=9)
    a = learn_to_bid(base, learner, rounds=2000, seed=4, n_value_bins=4)
    b = learn_to_bid(big, learner, rounds=2000, seed=4, n_value_bins=4)
    np.testing.assert_array_equal(a.bids, b.bids)
    for field in ("revenue", "welfare", "external_regret", "mean_bid", "equilibrium_bid",
                  "distance_to_equilibrium"):
        np.testing.assert_allclose(4 * getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------------------
# What the learners learn
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("learner", ["hedge", "regret_matching"])
def test_lone_bidder_bids_the_reserve(learner):
    """Alone in first price, bidding the reserve wins at the lowest price: the best bid whenever v >= r;
    below the reserve any bid that could win loses money, so the learner bids below it."""
    grid = np.arange(11) / 10
    auction = RepeatedAuction(1, "first", 0.3, values=[0.1, 0.5, 0.9], bids=grid)
    run = learn_to_bid(auction, learner, rounds=3000, seed=0)
    strategy = run.bid_strategy[0]
    assert strategy[0, 3:].sum() < 0.01                 # v = 0.1 < r: no bid at or above the reserve
    assert strategy[1, 3] > 0.95 and strategy[2, 3] > 0.95
    assert run.revenue_window[-1] == pytest.approx(0.3 * 0.667, abs=0.02)


def test_second_price_hedge_learns_to_bid_truthfully():
    """Truthful bidding is dominant, so the learners' mean bid per value bin approaches the bin's centre.

    Five bins of width 0.2 whose centres are grid bids (step 0.1).  Tolerance: every bin within one grid step
    of its centre and a weighted mean distance of a quarter step, in each of three runs (observed over eight
    seeds: at most 0.007 in any bin, at most 0.0035 on average), and a distance that shrank since round 20.
    """
    auction = RepeatedAuction(2, "second", n_bids=11)
    step = 0.1
    for seed in range(3):
        run = learn_to_bid(auction, "hedge", rounds=30_000, seed=seed, n_value_bins=5, checkpoints=[20, 30_000])
        off = np.abs(run.mean_bid[-1] - run.context_values)          # (bidders, bins)
        assert np.all(off <= step), off
        assert run.distance_to_equilibrium[-1] < step / 4
        assert run.distance_to_equilibrium[-1] < run.distance_to_equilibrium[0]


def test_first_price_hedge_approaches_the_bayes_nash_bid():
    """Two bidders, values uniform on [0, 1]: the BNE bid is v / 2.

    Tolerance: the learners condition on 10 value bins of width 0.1 and bid on a grid of step 0.05, so what they
    approach is an equilibrium of that discretised game, not the continuous one; its distance from the BNE bid at
    the bin centres is of the order of the discretisation.  The test asks, in each of three runs, for a weighted
    mean distance below half a grid step (0.025), every bin within one grid step, a distance at least halved since
    round 1000, and the revenue of revenue equivalence within 0.03 (observed over eight seeds at 50,000 rounds:
    mean distance 0.0048-0.0064, worst bin 0.028, revenue 0.328-0.334).
    """
    auction = RepeatedAuction(2, "first", n_bids=21)
    for seed in range(3):
        run = learn_to_bid(auction, "hedge", rounds=50_000, seed=seed, checkpoints=[1000, 25_000, 50_000])
        np.testing.assert_allclose(run.equilibrium_bid, run.context_values / 2)
        assert run.distance_to_equilibrium[-1] < 0.025
        assert run.distance_to_equilibrium[-1] < 0.5 * run.distance_to_equilibrium[0]
        assert np.all(np.abs(run.mean_bid[-1] - run.equilibrium_bid) <= 0.05), run.mean_bid[-1]
        assert abs(run.revenue_window[-1] - 1 / 3) < 0.03      # revenue equivalence: (n - 1) / (n + 1)


# ----------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, argument", [
    ({"auction": RepeatedAuction(2, "first", bid_space="box")}, "auction"),
    ({"auction": "auction"}, "auction"),
    ({"learner": "ftl"}, "learner"),
    ({"rounds": 0}, "rounds"),
    ({"rounds": 2.5}, "rounds"),
    ({"checkpoints": [0, 5]}, "checkpoints"),
    ({"checkpoints": [5, 101]}, "checkpoints"),
    ({"n_value_bins": 0}, "n_value_bins"),
    ({"auction": discrete_auction(), "n_value_bins": 4}, "n_value_bins"),
    ({"learner": "exp3", "learning_rate": 0.5}, "learning_rate"),
    ({"learner": "regret_matching", "learning_rate": 0.5}, "learning_rate"),
    ({"learning_rate": -1.0}, "learning_rate"),
    ({"learning_rate": "tuned"}, "learning_rate"),
    ({"seed": -3}, "seed"),
])
def test_bad_arguments_raise_typed_errors_naming_them(kwargs, argument):
    call = {"auction": RepeatedAuction(2, "first"), "learner": "hedge", "rounds": 100, **kwargs}
    with pytest.raises(MechsimError, match=argument):
        learn_to_bid(**call)


def test_bid_utilities_refuses_bad_bids():
    auction = discrete_auction()
    for bids, values in (([[0, 1, 9]], [[0.2, 0.2, 0.2]]), ([[0, 1, 1.5]], [[0.2, 0.2, 0.2]]),
                         ([[0, 1, -1]], [[0.2, 0.2, 0.2]]), ([[0, 1]], [[0.2, 0.2]])):
        with pytest.raises(InvalidInstanceError, match="bids"):
            bid_utilities(auction, bids, values)
    with pytest.raises(InvalidInstanceError, match="values"):
        bid_utilities(auction, [[0, 1, 2]], [[0.2, 0.2]])
    with pytest.raises(InvalidInstanceError, match="auction"):
        bid_utilities(RepeatedAuction(2, bid_space="box"), [[0, 1]], [[0.2, 0.2]])
