"""No-regret dynamics in n-player games (mechsim.learners.dynamics) against independent oracles.

Oracles: a replay of every round through the learners' public per-round interfaces (``probabilities`` /
``update``) with an independent inverse-CDF draw and, for swap_hedge, a stationary distribution from an
eigenvector; single-player games against the learners' batch ``run``; regrets recomputed by loops over the
played sequence; gaps of the empirical distribution rebuilt from the profiles; a scipy ``linprog`` welfare range
of the CCE/CE sets built by loops over profiles, with its duals for an ε-relaxation; the learners' textbook
regret bounds plus an Azuma term.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from mechsim.equilibria import cce_gap, ce_gap, chicken, random_game, shapley_game, welfare
from mechsim.errors import InvalidInstanceError
from mechsim.learners import (
    DYNAMICS_LEARNERS,
    SMALL_K,
    Exp3,
    Hedge,
    RegretMatching,
    hedge_regret_bound,
    play_no_regret,
    regret_matching_regret_bound,
)
from mechsim.regret import fit_regret_exponent

GAMES = {"shapley": shapley_game(), "chicken": chicken(), "random-3x3x3": random_game((3, 3, 3), seed=1)}
UNEVEN = random_game((2, 3, 4), seed=5, low=-3.0, high=2.0)      # three players, three action counts


def rescaled(u):
    return (u - u.min()) / (u.max() - u.min())


def rewards(u01, i, a):
    """u~_i(., a_{-i}) by explicit indexing."""
    out = []
    for b in range(u01.shape[1 + i]):
        dev = list(a)
        dev[i] = b
        out.append(u01[i][tuple(dev)])
    return np.array(out)


def draw(p, u):
    """Inverse-CDF draw, written independently of the library's kernels."""
    c = np.cumsum(p)
    return int(min(np.searchsorted(c, u * c[-1], side="right"), np.flatnonzero(p > 0)[-1]))


def stationary_by_eig(q):
    w, v = np.linalg.eig(q.T)
    p = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    return p / p.sum()


# ----------------------------------------------------------------------------------------------------------
# The dynamics are the learners' own update rules
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("learner", DYNAMICS_LEARNERS)
@pytest.mark.parametrize("game", ["uneven", "one-action-player", "wide"])
def test_replay_through_the_per_round_interfaces(learner, game):
    """``wide``: more actions than SMALL_K, where the sequential learners keep numpy state."""
    u = {"uneven": UNEVEN, "one-action-player": random_game((1, 3, 2), seed=2),
         "wide": random_game((SMALL_K + 3, 2), seed=4)}[game]
    n, shape, T, seed = u.shape[0], u.shape[1:], 300 if game != "wide" else 120, 11
    run = play_no_regret(u, learner, rounds=T, seed=seed)
    uniforms = np.random.default_rng(seed).random((T, n))
    u01 = rescaled(u)
    if learner == "hedge":
        players = [Hedge(k) for k in shape]
    elif learner == "exp3":
        players = [Exp3(k) for k in shape]
    elif learner == "swap_hedge":
        players = [[Hedge(k) for _ in range(k)] for k in shape]
    else:
        players = [RegretMatching(k, plus=learner == "regret_matching_plus") for k in shape]
    for t in range(T):
        a = run.profiles[t]
        for i in range(n):
            if learner == "swap_hedge":
                q = np.array([h.probabilities for h in players[i]])
                p = stationary_by_eig(q)
                np.testing.assert_allclose(p @ q, p, atol=1e-12)
            else:
                p = players[i].probabilities
            assert a[i] == draw(p, uniforms[t, i]), (t, i)
            r = rewards(u01, i, a)
            if learner in ("hedge",):
                players[i].update(1.0 - r)
            elif learner == "exp3":
                players[i].update(int(a[i]), 1.0 - r[a[i]])
            elif learner == "swap_hedge":
                for c, h in enumerate(players[i]):
                    h.update(p[c] * (1.0 - r))
            else:
                players[i].update(r)


@pytest.mark.parametrize("learner, make, feedback", [
    ("hedge", lambda: Hedge(4, seed=7), "losses"),
    ("regret_matching", lambda: RegretMatching(4, seed=7), "utilities"),
    ("regret_matching_plus", lambda: RegretMatching(4, plus=True, seed=7), "utilities"),
    ("exp3", lambda: Exp3(4, seed=7), "losses"),
])
def test_one_player_game_is_the_learners_batch_run(learner, make, feedback):
    """Alone, a player faces the same reward vector every round: the batch ``run`` on it, bitwise."""
    u = np.random.default_rng(3).uniform(-2.0, 5.0, size=(1, 4))
    r = rescaled(u)[0]
    x = np.tile(1.0 - r if feedback == "losses" else r, (2000, 1))
    run = play_no_regret(u, learner, rounds=2000, seed=7)
    np.testing.assert_array_equal(run.profiles[:, 0], make().run(x).actions)


def test_tuned_rates_are_the_learners_horizon_tuned_rates():
    u = np.random.default_rng(4).uniform(size=(1, 3))
    r = rescaled(u)[0]
    for learner, make, x in (("hedge", lambda: Hedge(3, horizon=500, seed=1), 1.0 - r),
                             ("exp3", lambda: Exp3(3, horizon=500, seed=1), 1.0 - r)):
        run = play_no_regret(u, learner, rounds=500, seed=1, learning_rate="tuned")
        np.testing.assert_array_equal(run.profiles[:, 0], make().run(np.tile(x, (500, 1))).actions)
    run = play_no_regret(u, "hedge", rounds=500, seed=1, learning_rate=0.3)
    np.testing.assert_array_equal(run.profiles[:, 0],
                                  Hedge(3, learning_rate=0.3, seed=1).run(np.tile(1.0 - r, (500, 1))).actions)


# ----------------------------------------------------------------------------------------------------------
# What is reported equals what was played
# ----------------------------------------------------------------------------------------------------------

def brute_force_regrets(u, profiles, checkpoints):
    """Realised external and swap regret of every player after each checkpoint, by loops over rounds."""
    n = u.shape[0]
    gains = [np.zeros((k, k)) for k in u.shape[1:]]   # gains[i][c, b]: sum over rounds with a_i = c
    ext, swap, marks = [], [], set(checkpoints.tolist())
    for t, a in enumerate(profiles, start=1):
        a = tuple(int(v) for v in a)
        for i in range(n):
            for b in range(u.shape[1 + i]):
                dev = list(a)
                dev[i] = b
                gains[i][a[i], b] += u[i][tuple(dev)] - u[i][a]
        if t in marks:
            ext.append([g.sum(axis=0).max() for g in gains])
            swap.append([g.max(axis=1).sum() for g in gains])
    return np.array(ext), np.array(swap)


def empirical(profiles, shape):
    x = np.zeros(shape)
    for a in profiles:
        x[tuple(a)] += 1.0
    return x / len(profiles)


@pytest.mark.parametrize("learner", DYNAMICS_LEARNERS)
def test_regrets_gaps_and_welfare_recomputed_from_the_play(learner):
    u = UNEVEN
    checkpoints = np.array([1, 7, 50, 133, 400])
    run = play_no_regret(u, learner, rounds=400, seed=3, checkpoints=checkpoints)
    assert run.profiles.shape == (400, 3) and run.empirical_distribution.shape == (2, 3, 4)
    np.testing.assert_array_equal(run.checkpoints, checkpoints)
    ext, swap = brute_force_regrets(u, run.profiles, checkpoints)
    np.testing.assert_allclose(run.external_regret, ext, atol=1e-9)
    np.testing.assert_allclose(run.swap_regret, swap, atol=1e-9)
    for j, t in enumerate(checkpoints):
        x = empirical(run.profiles[:t], u.shape[1:])
        assert run.cce_gap[j] == pytest.approx(cce_gap(u, x), abs=1e-12)
        assert run.ce_gap[j] == pytest.approx(ce_gap(u, x), abs=1e-12)
        assert run.welfare[j] == pytest.approx(welfare(u, x), abs=1e-12)
        # the gap is the largest per-round regret
        assert run.cce_gap[j] == pytest.approx(max(0.0, ext[j].max()) / t, abs=1e-12)
        assert run.ce_gap[j] == pytest.approx(swap[j].max() / t, abs=1e-12)
    np.testing.assert_allclose(run.empirical_distribution, empirical(run.profiles, u.shape[1:]), atol=1e-15)
    assert np.all(run.swap_regret >= -1e-9) and np.all(run.ce_gap >= run.cce_gap - 1e-12)


@pytest.mark.parametrize("learner", DYNAMICS_LEARNERS)
def test_same_seed_same_play_and_other_seed_other_play(learner):
    u = GAMES["random-3x3x3"]
    a = play_no_regret(u, learner, rounds=500, seed=21)
    b = play_no_regret(u, learner, rounds=500, seed=np.random.default_rng(21))
    c = play_no_regret(u, learner, rounds=500, seed=22)
    for field in ("profiles", "empirical_distribution", "cce_gap", "ce_gap", "external_regret", "swap_regret",
                  "welfare"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.profiles, c.profiles)


@pytest.mark.parametrize("learner", DYNAMICS_LEARNERS)
@pytest.mark.parametrize("scale, shift", [(4.0, 0.0), (1e3, 0.0), (1e-3, 7.0)])
def test_invariant_to_payoff_scale(learner, scale, shift):
    u = UNEVEN
    a = play_no_regret(u, learner, rounds=600, seed=5)
    b = play_no_regret(scale * u + shift, learner, rounds=600, seed=5)
    np.testing.assert_array_equal(a.profiles, b.profiles)
    for field in ("cce_gap", "ce_gap", "external_regret", "swap_regret"):
        np.testing.assert_allclose(getattr(b, field), scale * getattr(a, field), rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(b.welfare, scale * a.welfare + 3 * shift, rtol=1e-9)
    assert b.payoff_range == pytest.approx((scale * u.min() + shift, scale * u.max() + shift))


# ----------------------------------------------------------------------------------------------------------
# The measured claims
# ----------------------------------------------------------------------------------------------------------

MARKS = np.unique(np.geomspace(100, 30_000, 14).round().astype(np.int64))


def assert_falls_like_sqrt(gaps, width, checkpoints=MARKS, exponent=-0.5):
    """The gap falls at least like t^exponent: fitted slope's CI contains or lies below it, and is negative.

    ``gaps`` has one row per seed.  Zeros (all regrets negative: the gap has vanished, up to the rounding of
    the gap computation, 1e-12 of the payoff range ``width``) cannot enter a log-log fit; they are left out,
    which can only raise the fitted slope.  If fewer than six points are positive, the gap must be zero in the
    second half of the checkpoints of every seed.
    """
    positive = gaps > 1e-12 * width
    if positive.sum() < 6:
        assert np.all(~positive[:, gaps.shape[1] // 2:]), gaps
        return None
    t = np.broadcast_to(checkpoints, gaps.shape)
    fit = fit_regret_exponent(t[positive], gaps[positive])
    assert fit.ci_low <= exponent and fit.ci_high < 0, fit
    return fit


@pytest.mark.parametrize("learner", ["hedge", "regret_matching", "regret_matching_plus"])
@pytest.mark.parametrize("game", list(GAMES))
def test_cce_gap_of_external_regret_dynamics_falls_like_inverse_sqrt(game, learner):
    gaps = np.array([play_no_regret(GAMES[game], learner, rounds=30_000, seed=s, checkpoints=MARKS).cce_gap
                     for s in range(3)])
    assert_falls_like_sqrt(gaps, np.ptp(GAMES[game]))


@pytest.mark.parametrize("game", list(GAMES))
def test_ce_gap_of_swap_hedge_falls_like_inverse_sqrt(game):
    gaps = np.array([play_no_regret(GAMES[game], "swap_hedge", rounds=30_000, seed=s, checkpoints=MARKS).ce_gap
                     for s in range(2)])
    assert assert_falls_like_sqrt(gaps, np.ptp(GAMES[game])) is not None


def test_hedge_does_not_reach_the_correlated_equilibria_of_shapleys_game():
    """The contrast that makes the swap-regret learner necessary: external regret only gives CCE."""
    hedge = play_no_regret(GAMES["shapley"], "hedge", rounds=30_000, seed=0, checkpoints=MARKS)
    swap = play_no_regret(GAMES["shapley"], "swap_hedge", rounds=30_000, seed=0, checkpoints=MARKS)
    assert hedge.cce_gap[-1] < 0.01 < 0.1 < hedge.ce_gap[-1]
    assert swap.ce_gap[-1] < 0.02


@pytest.mark.parametrize("game", ["chicken", "random-3x3x3"])
def test_exp3_cce_gap_falls_more_slowly(game):
    runs = [play_no_regret(GAMES[game], "exp3", rounds=30_000, seed=s, checkpoints=MARKS) for s in range(3)]
    gaps = np.array([r.cce_gap for r in runs])
    positive = gaps > 1e-12 * np.ptp(GAMES[game])
    fit = fit_regret_exponent(np.broadcast_to(MARKS, gaps.shape)[positive], gaps[positive])
    assert fit.ci_high < 0, fit
    full = np.array([play_no_regret(GAMES[game], "hedge", rounds=30_000, seed=s, checkpoints=MARKS).cce_gap[-1]
                     for s in range(3)])
    assert gaps[:, -1].mean() > full.mean()      # bandit feedback costs: slower than full information


def azuma(t, n_events, delta=1e-6, width=1.0):
    """High-probability size of a martingale with increments in an interval of ``width``, union over events."""
    return width * np.sqrt(2.0 * t * math.log(n_events / delta))


@pytest.mark.parametrize("learner", ["hedge", "regret_matching", "regret_matching_plus", "swap_hedge"])
@pytest.mark.parametrize("game", list(GAMES))
def test_regrets_within_the_textbook_bounds(game, learner):
    """Realised regret <= the learner's bound on its expected-play regret + an Azuma term (delta = 1e-6)."""
    u = GAMES[game]
    run = play_no_regret(u, learner, rounds=20_000, seed=0, checkpoints=MARKS[MARKS <= 20_000])
    t, width = run.checkpoints.astype(float), float(u.max() - u.min())
    n_events = u.shape[0] * t.size
    for i, k in enumerate(u.shape[1:]):
        if learner == "hedge":
            bound = hedge_regret_bound(t, k, anytime=True) + azuma(t, n_events)
            measured = run.external_regret[:, i]
        elif learner == "swap_hedge":   # sum of the k sub-learners' bounds; union over the k^k swap functions
            bound = k * hedge_regret_bound(t, k, anytime=True) + azuma(t, n_events * k ** k, width=2.0)
            measured = run.swap_regret[:, i]
        else:
            bound = regret_matching_regret_bound(t, k) + azuma(t, n_events)
            measured = run.external_regret[:, i]
        assert np.all(measured / width <= bound), (i, measured / width, bound)


def welfare_range_lp(u, kind):
    """[min, max] welfare over the CCE ('cce') or CE ('ce') set, and the sums of the optimal duals of the
    incentive constraints (the slopes of the range under relaxing them to <= eps), by scipy's HiGHS."""
    shape = u.shape[1:]
    profiles = list(itertools.product(*(range(k) for k in shape)))
    rows = []
    for i, k in enumerate(shape):
        recommended = range(k) if kind == "ce" else [None]
        for c in recommended:
            for b in range(k):
                row = np.zeros(len(profiles))
                for j, a in enumerate(profiles):
                    if c is not None and a[i] != c:
                        continue
                    dev = list(a)
                    dev[i] = b
                    row[j] = u[i][tuple(dev)] - u[i][a]
                rows.append(row)
    w = np.array([sum(u[i][a] for i in range(len(shape))) for a in profiles])
    out = []
    for sign in (1.0, -1.0):          # min, then max
        res = linprog(sign * w, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), A_eq=np.ones((1, len(profiles))),
                      b_eq=[1.0], bounds=(0, None), method="highs")
        assert res.status == 0
        out.append((sign * res.fun, -float(np.sum(res.ineqlin.marginals))))
    (w_min, slope_min), (w_max, slope_max) = out
    return w_min, w_max, slope_min, slope_max


@pytest.mark.parametrize("learner, kind", [("hedge", "cce"), ("regret_matching", "cce"), ("swap_hedge", "ce")])
@pytest.mark.parametrize("game", list(GAMES))
def test_empirical_welfare_inside_the_equilibrium_welfare_range(game, learner, kind):
    """Final welfare in [min, max] welfare of the CCE (CE) set, widened by eps * (sum of optimal duals).

    With eps the final gap, the empirical distribution satisfies every incentive constraint relaxed to <= eps
    (for CE each pair's gain is at most the sum of the best swaps), and by weak duality an optimal dual of the
    unrelaxed LP bounds the welfare of the relaxed one: W_max(eps) <= W_max + eps * sum(-duals).
    """
    u = GAMES[game]
    run = play_no_regret(u, learner, rounds=30_000, seed=1, checkpoints=[30_000])
    eps = float(run.cce_gap[-1] if kind == "cce" else run.ce_gap[-1])
    w_min, w_max, slope_min, slope_max = welfare_range_lp(u, kind)
    tol_low, tol_high = eps * slope_min + 1e-9, eps * slope_max + 1e-9
    assert w_min - tol_low <= run.welfare[-1] <= w_max + tol_high
    assert max(tol_low, tol_high) <= 0.02 * (u.max() - u.min()) * u.shape[0]   # the widening is small
    assert w_max - w_min > 10 * max(tol_low, tol_high) or w_max - w_min < 1e-9   # and the range is not vacuous


def test_welfare_range_oracle_on_chicken():
    """The oracle itself, on what is known of chicken: every Nash equilibrium inside, CE beyond Nash."""
    w_min, w_max, _, _ = welfare_range_lp(chicken(), "ce")
    # pure equilibria (D, C), (C, D) give 9; the mixed one (2/3 Chicken each) gives 2 * 14/3 = 28/3.  The best
    # CE puts 1/2 on (C, C) and 1/4 on each of (D, C), (C, D): told C, the opponent is C w.p. 2/3, so C earns
    # 6 * 2/3 + 2 * 1/3 = 14/3 = 7 * 2/3, what D earns (binding); told D, D earns 7 > 6.  Welfare 6 + 4.5.
    assert w_min <= 9.0 + 1e-9 and w_max == pytest.approx(10.5, abs=1e-9)
    c_min, c_max, _, _ = welfare_range_lp(chicken(), "cce")
    assert c_min <= w_min + 1e-9 and c_max >= w_max - 1e-9


# ----------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, argument", [
    ({"learner": "fictitious_play"}, "learner"),
    ({"rounds": 0}, "rounds"),
    ({"checkpoints": [0, 5]}, "checkpoints"),
    ({"checkpoints": [5, 101]}, "checkpoints"),
    ({"checkpoints": [2.5]}, "checkpoints"),
    ({"checkpoints": []}, "checkpoints"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learner": "regret_matching", "learning_rate": 0.1}, "learning_rate"),
    ({"learner": "regret_matching_plus", "learning_rate": "tuned"}, "learning_rate"),
    ({"learner": "exp3", "learning_rate": 0.1}, "learning_rate"),
    ({"payoffs": np.array([[1e308, -1e308]])}, "payoffs"),
    ({"payoffs": np.zeros((2, 2))}, "payoffs"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments_raise_named_errors(kwargs, argument):
    call = {"payoffs": chicken(), "rounds": 100, **kwargs}
    with pytest.raises(InvalidInstanceError, match=argument):
        play_no_regret(**call)


def test_constant_game_and_unsorted_checkpoints():
    run = play_no_regret(np.full((2, 2, 3), 4.0), "swap_hedge", rounds=50, seed=0, checkpoints=[50, 10, 10])
    np.testing.assert_array_equal(run.checkpoints, [10, 50])
    assert np.all(run.cce_gap == 0) and np.all(run.ce_gap == 0) and np.allclose(run.welfare, 8.0)


def test_stationary_distribution_of_a_split_chain():
    """Underflowed Hedge weights can split a player's chain into closed classes: any stationary p will do, and
    the fallback must return one (a non-negative solution of p = p Q), not fail or return garbage."""
    from mechsim.learners.dynamics import _stationary

    q = np.array([[[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]],     # classes {0} and {1, 2}
                  [[0.2, 0.8, 0.0], [0.6, 0.4, 0.0], [1.0, 0.0, 0.0]]])    # a 2-action player, padded as in play
    mask = np.array([[True, True, True], [True, True, False]])
    rhs = np.zeros((2, 3, 1))
    rhs[:, -1] = 1.0
    p = _stationary(q, mask, np.eye(3), rhs)
    np.testing.assert_allclose(np.einsum("ik,ikj->ij", p, q), p, atol=1e-12)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], [3 / 7, 4 / 7, 0.0], atol=1e-12)   # 0.8 p0 = 0.6 p1
