"""support_enumeration against nashpy (vertex and support enumeration), textbook equilibria, and its degeneracy
check against an LP oracle."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsim.equilibria import (
    TEXTBOOK_GAMES,
    battle_of_the_sexes,
    chicken,
    nash_gap,
    prisoners_dilemma,
    pure_nash_equilibria,
    random_game,
    shapley_game,
)
from mechsim.errors import InvalidInstanceError
from mechsim.solvers import NashEquilibria, support_enumeration
from mechsim.solvers.nash import count_systems

nashpy = pytest.importorskip("nashpy")


def nashpy_sets(u):
    """nashpy's vertex enumeration and support enumeration (equal-size supports) of the game ``u``."""
    game = nashpy.Game(u[0], u[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # nashpy warns on even counts (its own round-off losses)
        support = list(game.support_enumeration(non_degenerate=True))
        # qhull needs two dimensions; with one action a player's only strategy is pure, which support
        # enumeration handles exactly
        vertex = list(game.vertex_enumeration()) if min(u.shape[1:]) > 1 else support
    return vertex, support


def same_set(ours, theirs, atol=1e-8):
    return len(ours) == len(theirs) and all(
        any(np.allclose(x, a, atol=atol) and np.allclose(y, b, atol=atol) for a, b in theirs) for x, y in ours)


def contains(ours, theirs, atol=1e-8):
    return all(any(np.allclose(x, a, atol=atol) and np.allclose(y, b, atol=atol) for x, y in ours) for a, b in theirs)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 5), k=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_random_games_equal_nashpy(m, k, seed):
    u = random_game((m, k), seed=seed)          # continuous payoffs: non-degenerate with probability 1
    res = support_enumeration(u)
    assert isinstance(res, NashEquilibria)
    assert res.status == "complete" and not res.degenerate and res.degeneracy == ""
    assert len(res.equilibria) % 2 == 1
    vertex, support = nashpy_sets(u)
    assert same_set(res.equilibria, vertex)
    # nashpy's support enumeration drops equilibria whose zero probabilities come out as -1e-17 (it demands
    # prob >= 0 exactly), so it finds a subset.
    assert contains(res.equilibria, support)
    for (x, y), value in zip(res.equilibria, res.payoffs):
        assert nash_gap(u, [x, y]) <= 1e-12
        assert value == pytest.approx([x @ u[0] @ y, x @ u[1] @ y])
    pure = [(int(np.argmax(x)), int(np.argmax(y))) for x, y in res.equilibria if x.max() == 1 and y.max() == 1]
    assert sorted(pure) == pure_nash_equilibria(u)
    assert res.n_systems == count_systems(m, k)


@pytest.mark.parametrize("name", sorted(TEXTBOOK_GAMES))
def test_textbook_games_equal_nashpy(name):
    u = TEXTBOOK_GAMES[name]()
    res = support_enumeration(u)
    vertex, support = nashpy_sets(u)
    assert same_set(res.equilibria, support) and same_set(res.equilibria, vertex)
    assert res.status == "complete"


def test_textbook_equilibria_by_hand():
    third = np.array([1 / 3, 2 / 3])
    assert same_set(support_enumeration(chicken()).equilibria,
                    [([1, 0], [0, 1]), ([0, 1], [1, 0]), (third, third)])
    assert same_set(support_enumeration(battle_of_the_sexes()).equilibria,
                    [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([2 / 3, 1 / 3], [1 / 3, 2 / 3])])
    assert same_set(support_enumeration(shapley_game()).equilibria, [(np.full(3, 1 / 3), np.full(3, 1 / 3))])
    assert same_set(support_enumeration(prisoners_dilemma()).equilibria, [([0, 1], [0, 1])])


# ----------------------------------------------------------------------------------------------- degeneracy
def lp_degenerate(u) -> bool:
    """Oracle: some mixed strategy with support size s has s + 1 pure best responses (one LP per case)."""
    for P, n_mix, n_resp in ((u[1], u.shape[1], u.shape[2]), (u[0].T, u.shape[2], u.shape[1])):
        # P[mixer action, responder action]: the responder's payoff.
        for s in range(1, n_mix + 1):
            for S in itertools.combinations(range(n_mix), s):
                for T in itertools.combinations(range(n_resp), s + 1):
                    # variables (x_S, w): sum x = 1, x.P[S, j] = w (j in T), x.P[S, j] <= w (all j), x >= 0
                    sub = P[list(S)]
                    a_eq = np.vstack([np.r_[np.ones(s), 0.0], np.column_stack([sub[:, list(T)].T, -np.ones(s + 1)])])
                    b_eq = np.r_[1.0, np.zeros(s + 1)]
                    a_ub = np.column_stack([sub.T, -np.ones(n_resp)])
                    res = linprog(np.zeros(s + 1), A_ub=a_ub, b_ub=np.zeros(n_resp), A_eq=a_eq, b_eq=b_eq,
                                  bounds=[(0, None)] * s + [(None, None)], method="highs")
                    if res.status == 0:
                        return True
    return False


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 3), k=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_degeneracy_check_equals_lp_oracle(m, k, seed):
    u = np.random.default_rng(seed).integers(0, 3, size=(2, m, k)).astype(float)   # small integers: many ties
    res = support_enumeration(u)
    oracle = lp_degenerate(u)
    # An even number of equilibria is a certificate too, which the LP oracle would also find.
    assert res.degenerate == oracle, res.degeneracy
    assert res.status == ("degenerate" if oracle else "complete")
    assert len(res.equilibria) >= 1 or oracle
    for x, y in res.equilibria:
        assert nash_gap(u, [x, y]) <= 1e-9
    if not oracle:
        vertex, _ = nashpy_sets(u)
        assert same_set(res.equilibria, vertex)


def test_a_degenerate_game_says_so_and_returns_verified_equilibria():
    # Column player indifferent against row 0: a continuum of equilibria (row 0 against any y with y_0 <= 1/2).
    u = np.stack([np.array([[1.0, 1.0], [2.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 2.0]])])
    res = support_enumeration(u)
    assert res.degenerate and res.status == "degenerate"
    assert "best responses" in res.degeneracy
    assert len(res.equilibria) >= 1
    for x, y in res.equilibria:
        assert nash_gap(u, [x, y]) <= 1e-12


def test_scale_invariance():
    u = random_game((4, 4), seed=7, low=-1.0, high=3.0)
    base = support_enumeration(u)
    for factor in (1e-6, 1e6):
        res = support_enumeration(u * factor)
        assert res.status == base.status
        assert same_set(res.equilibria, base.equilibria, atol=1e-12)
        np.testing.assert_allclose(res.payoffs, base.payoffs * factor, rtol=1e-9)


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, argument", [
    ({"payoffs": np.zeros((3, 2, 2, 2))}, "payoffs"),
    ({"payoffs": np.zeros((1, 3))}, "payoffs"),
    ({"payoffs": np.zeros((2, 3))}, "payoffs"),
    ({"payoffs": np.full((2, 2, 2), np.nan)}, "payoffs"),
    ({"payoffs": np.array([[[-1e308, 1e308]], [[0.0, 0.0]]])}, "payoffs"),
    ({"payoffs": np.zeros((2, 30, 30))}, "payoffs"),             # C(60, 30) support pairs: refused
    ({"payoffs": None}, "payoffs"),
    ({"atol": 0.0}, "atol"),
    ({"atol": float("nan")}, "atol"),
    ({"max_systems": 0}, "max_systems"),
    ({"max_systems": 2.5}, "max_systems"),
])
def test_bad_input(kwargs, argument):
    with pytest.raises(InvalidInstanceError, match=argument):
        support_enumeration(**{"payoffs": chicken(), **kwargs})


def test_size_guard_counts_before_working():
    assert count_systems(2, 2) == 5 + 2 + 2
    with pytest.raises(InvalidInstanceError, match="max_systems=10"):
        support_enumeration(random_game((3, 3), seed=0), max_systems=10)
