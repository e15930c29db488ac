"""Exact equilibrium audits against brute force (every swap function, every fixed deviation, every profile)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.equilibria import (
    TEXTBOOK_GAMES,
    battle_of_the_sexes,
    cce_gap,
    ce_gap,
    chicken,
    deviation_gains,
    expected_payoffs,
    is_nash,
    nash_gap,
    prisoners_dilemma,
    product_distribution,
    pure_nash_equilibria,
    random_game,
    shapley_game,
    swap_gains,
    welfare,
)
from mechsim.errors import InvalidInstanceError


@st.composite
def games_and_distributions(draw, max_players=3, max_actions=3):
    n = draw(st.integers(1, max_players))
    shape = tuple(draw(st.lists(st.integers(1, max_actions), min_size=n, max_size=n)))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    u = rng.integers(-3, 4, size=(n, *shape)).astype(float) if draw(st.booleans()) else rng.normal(size=(n, *shape))
    x = rng.dirichlet(np.full(int(np.prod(shape)), 0.5)).reshape(shape)
    if draw(st.booleans()):                                  # sparse supports, as LP vertices have
        x = np.where(rng.random(shape) < 0.5, 0.0, x)
        x = x / x.sum() if x.sum() > 0 else np.full(shape, 1.0 / x.size)
    return u, x


def brute_ce_gap(u, x):
    """max over players of the best swap function's gain, enumerating all A_i^A_i swap functions."""
    n, shape = u.shape[0], u.shape[1:]
    best = 0.0
    for i in range(n):
        for phi in itertools.product(range(shape[i]), repeat=shape[i]):
            gain = 0.0
            for a in itertools.product(*(range(s) for s in shape)):
                b = list(a)
                b[i] = phi[a[i]]
                gain += x[a] * (u[i][tuple(b)] - u[i][a])
            best = max(best, gain)
    return best


def brute_cce_gap(u, x):
    n, shape = u.shape[0], u.shape[1:]
    best = 0.0
    for i in range(n):
        for k in range(shape[i]):
            gain = 0.0
            for a in itertools.product(*(range(s) for s in shape)):
                b = list(a)
                b[i] = k
                gain += x[a] * (u[i][tuple(b)] - u[i][a])
            best = max(best, gain)
    return best


@settings(max_examples=30, deadline=None)
@given(games_and_distributions())
def test_gaps_equal_brute_force(game):
    u, x = game
    assert ce_gap(u, x) == pytest.approx(brute_ce_gap(u, x), abs=1e-12)
    assert cce_gap(u, x) == pytest.approx(brute_cce_gap(u, x), abs=1e-12)
    assert 0.0 <= cce_gap(u, x) <= ce_gap(u, x) + 1e-12
    for g in swap_gains(u, x):
        np.testing.assert_allclose(np.diag(g), 0.0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(games_and_distributions())
def test_expected_payoffs_and_deviation_gains_equal_sums_over_profiles(game):
    u, x = game
    shape = u.shape[1:]
    direct = [sum(x[a] * u[i][a] for a in itertools.product(*(range(s) for s in shape))) for i in range(u.shape[0])]
    np.testing.assert_allclose(expected_payoffs(u, x), direct, atol=1e-12)
    assert welfare(u, x) == pytest.approx(sum(direct), abs=1e-12)
    for i, g in enumerate(deviation_gains(u, x)):
        assert g.shape == (shape[i],)
        assert max(0.0, g.max()) <= cce_gap(u, x) + 1e-12


def test_textbook_equilibria():
    # Chicken: the two pure equilibria, the mixed one (Dare with probability 1/3), and Aumann's CE
    assert pure_nash_equilibria(chicken()) == [(0, 1), (1, 0)]
    assert is_nash(chicken(), [[1 / 3, 2 / 3], [1 / 3, 2 / 3]])
    assert not is_nash(chicken(), [[0.5, 0.5], [0.5, 0.5]])
    aumann = np.array([[0.0, 1 / 3], [1 / 3, 1 / 3]])
    assert ce_gap(chicken(), aumann) == pytest.approx(0.0, abs=1e-12)
    assert welfare(chicken(), aumann) == pytest.approx(10.0)
    # Battle of the sexes: a public coin between the pure equilibria is a CE, not a product distribution
    coin = np.array([[0.5, 0.0], [0.0, 0.5]])
    assert ce_gap(battle_of_the_sexes(), coin) == pytest.approx(0.0, abs=1e-12)
    assert is_nash(battle_of_the_sexes(), [[2 / 3, 1 / 3], [1 / 3, 2 / 3]])
    # Shapley: uniform play is the equilibrium; the pure profiles are not
    assert is_nash(shapley_game(), [np.full(3, 1 / 3)] * 2)
    assert pure_nash_equilibria(shapley_game()) == []
    # Prisoner's dilemma: (Defect, Defect) is the only CCE point mass
    for a in itertools.product(range(2), repeat=2):
        point = np.zeros((2, 2))
        point[a] = 1.0
        assert (cce_gap(prisoners_dilemma(), point) <= 1e-12) == (a == (1, 1))


def test_nash_gap_is_zero_exactly_at_the_equilibria_of_two_by_two_games():
    for name, make in TEXTBOOK_GAMES.items():
        u = make()
        for a in pure_nash_equilibria(u):
            sig = [np.eye(u.shape[1 + i])[a[i]] for i in range(2)]
            assert nash_gap(u, sig) == 0.0, name
            assert ce_gap(u, product_distribution(sig)) == 0.0, name


def test_random_game_is_seeded_and_bounded():
    a, b = random_game([2, 3, 4], seed=3), random_game([2, 3, 4], seed=3)
    assert a.shape == (3, 2, 3, 4) and np.array_equal(a, b)
    assert not np.array_equal(a, random_game([2, 3, 4], seed=4))
    assert a.min() >= 0 and a.max() < 1


@pytest.mark.parametrize("payoffs, fragment", [
    (None, "found None"),
    (np.zeros((2, 2)), "one action axis per player"),
    (np.zeros((3, 2, 2)), "3 players but 2 action axes"),
    (np.full((2, 2, 2), np.nan), "finite"),
    ("abc", "payoffs"),
    (np.zeros((2, 0, 2)), "at least one action"),
])
def test_bad_payoffs_are_named(payoffs, fragment):
    with pytest.raises(InvalidInstanceError, match="payoffs") as err:
        ce_gap(payoffs, np.full((2, 2), 0.25))
    assert fragment in str(err.value)


def test_bad_distributions_are_named():
    u = chicken()
    for bad in (None, np.full((2, 2), 0.3), np.full((2, 3), 1 / 6), [[1.0, -0.5], [0.5, 0.0]], [[np.nan, 1], [0, 0]]):
        with pytest.raises(InvalidInstanceError, match="distribution"):
            cce_gap(u, bad)
    with pytest.raises(InvalidInstanceError, match="strategies"):
        nash_gap(u, [[1.0, 0.0]])
    with pytest.raises(InvalidInstanceError, match=r"strategies\[1\]"):
        nash_gap(u, [[1.0, 0.0], [0.7, 0.7]])
