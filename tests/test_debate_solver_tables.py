"""Whole-tree debate solutions: subgame values of every position and batched all-decisions tables.

Oracles: brute-force recursion over reveal sequences (:mod:`mechsim.solvers.debate`), a plain memoised
recursion on bit masks (the algorithm ``DebateVsOpponent`` used before it called the solver), and
:func:`solve_debate` game by game (for the table, which replaced a closed-form L <= 2 minimax).
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim.debate.judges import BradleyTerryJudge, LinearJudge, debate_outcome, score_grid
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.debate import (
    DebateTable,
    best_response,
    brute_force_best_response,
    brute_force_debate_value,
    debate_win_table,
    isolated_plan,
    mover_at,
    solve_debate,
    subgame_values,
)
from mechsim.testing import debate_games
from mechsim.testing.debate import fixed_random_policy


def _bitmask_recursion(judge, x, decisions, L, fm, policy=None, responder=None):
    """V(S) for debater 0 by memoised recursion on bit masks (one policy query per set; no vectorisation)."""
    F = x.shape[0]
    memo = {}

    def value(bits, depth):
        if bits in memo:
            return memo[bits]
        revealed = np.array([[(bits >> f) & 1 for f in range(F)]], dtype=bool)
        if depth == L:
            v = float(debate_outcome(judge, x, revealed, *decisions)[0])
        else:
            children = {f: value(bits | (1 << f), depth + 1) for f in range(F) if not (bits >> f) & 1}
            mover = mover_at(depth, fm)
            if policy is None or mover == responder:
                v = max(children.values()) if mover == 0 else min(children.values())
            else:
                p = policy(x, revealed, decisions[mover], decisions[1 - mover])[0]
                v = float(sum(p[f] * val for f, val in children.items()))
        memo[bits] = v
        return v

    value(0, 0)
    return memo


def _masks_of(bits_list, F):
    return np.array([[(b >> f) & 1 for f in range(F)] for b in bits_list], dtype=bool)


# ------------------------------------------------------------------------------------------ subgame values
@given(debate_games(max_features=5, max_evidence=4), st.sampled_from([0, 1]))
def test_minimax_table_matches_solver_and_recursion_at_every_position(game, fm):
    args = (game.judge, game.features, game.decisions, game.n_evidence)
    table = subgame_values(*args, first_mover=fm)
    assert table.value == solve_debate(*args, first_mover=fm).value == brute_force_debate_value(*args, fm)
    assert table.responder is None and table.status == "optimal" and table.solve_time >= 0
    memo = _bitmask_recursion(*args, fm)
    by_size = {}
    for bits, v in memo.items():
        by_size.setdefault(bin(bits).count("1"), []).append((bits, v))
    for items in by_size.values():
        masks = _masks_of([b for b, _ in items], game.n_features)
        np.testing.assert_array_equal(table.value_at(masks), [v for _, v in items])


@given(debate_games(max_features=5, max_evidence=4), st.integers(0, 1000), st.sampled_from([0, 1]),
       st.sampled_from([0, 1]))
def test_best_response_table_matches_solver_and_oracles(game, seed, responder, fm):
    args = (game.judge, game.features, game.decisions, game.n_evidence)
    policy = fixed_random_policy(seed)
    table = subgame_values(*args, first_mover=fm, policy=policy, responder=responder)
    assert table.value == best_response(*args, policy, responder, fm).value
    assert table.value == pytest.approx(brute_force_best_response(*args, policy, responder, fm), abs=1e-12)
    memo = _bitmask_recursion(*args, fm, policy=policy, responder=responder)
    for bits, v in memo.items():
        assert table.value_at(_masks_of([bits], game.n_features))[0] == pytest.approx(v, abs=1e-12)


@given(debate_games(max_features=5, max_evidence=4).filter(lambda g: g.n_evidence >= 1), st.sampled_from([0, 1]))
def test_best_reveals_follow_the_principal_line(game, fm):
    args = (game.judge, game.features, game.decisions, game.n_evidence)
    table = subgame_values(*args, first_mover=fm)
    revealed = np.zeros(game.n_features, dtype=bool)
    line = []
    for k in range(game.n_evidence):
        children = table.child_values(revealed)[0]
        assert np.all(np.isnan(children[revealed])) and not np.any(np.isnan(children[~revealed]))
        f = int(table.best_reveal(revealed)[0])
        # The reveal is optimal for the mover and keeps the value of the position.
        assert children[f] == table.value_at(revealed)[0]
        best = np.nanmax(children) if mover_at(k, fm) == 0 else np.nanmin(children)
        assert f == int(np.flatnonzero(children == best)[0])
        line.append(f)
        revealed[f] = True
    assert tuple(line) == solve_debate(*args, first_mover=fm).principal_line


def test_subgame_values_bad_input():
    judge = LinearJudge(np.ones((2, 4)))
    args = (judge, np.ones(4), (0, 1), 2)
    with pytest.raises(InvalidInstanceError, match="first_mover"):
        subgame_values(*args, first_mover=None)
    with pytest.raises(InvalidInstanceError, match="responder"):
        subgame_values(*args, first_mover=0, policy=fixed_random_policy(0))
    with pytest.raises(InvalidInstanceError, match="responder"):
        subgame_values(*args, first_mover=0, responder=1)
    table = subgame_values(*args, first_mover=0)
    with pytest.raises(InvalidInstanceError, match="revealed"):
        table.value_at(np.ones((1, 5), dtype=bool))
    with pytest.raises(InvalidInstanceError, match="revealed"):
        table.value_at(np.array([[True, True, True, False]]))
    with pytest.raises(InvalidInstanceError, match="revealed"):
        table.best_reveal(np.array([[True, True, False, False]]))  # already a leaf
    with pytest.raises(InvalidInstanceError, match="revealed"):
        table.value_at(np.array([[True, False, False, False], [True, True, False, False]]))


# ------------------------------------------------------------------------------------------ result vocabulary
def test_results_carry_value_status_and_solve_time():
    rng = np.random.default_rng(0)
    judge = LinearJudge(rng.normal(size=(3, 6)))
    x = rng.normal(size=6)
    out = solve_debate(judge, x, (0, 2), 3)
    br = best_response(judge, x, (0, 2), 3, fixed_random_policy(1), 1)
    for res in (out, br):
        assert res.status == "optimal" and res.solve_time >= 0
    # Timing is not part of a result's identity.
    assert solve_debate(judge, x, (0, 2), 3) == out
    plan = isolated_plan(judge, x, (0, 2), 3)
    assert plan.status == "optimal" and plan.value == float(plan.values[0][0])
    with pytest.warns(DeprecationWarning, match="best_value"):
        assert plan.best_value == plan.value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = plan.value


# ------------------------------------------------------------------------------------------ all-decisions tables
def _table_judges(F, D, seed):
    rng = np.random.default_rng(seed)
    return [LinearJudge(rng.integers(-2, 3, size=(D, F)).astype(float)),  # integer weights: many ties
            LinearJudge(rng.normal(size=(D, F)), rng.normal(size=D)),
            BradleyTerryJudge(F, D, n_evidence=2, hidden=(5, 3), seed=seed),
            BradleyTerryJudge(F, D, n_evidence=2, hidden=(4,), ideal=True, seed=seed),
            BradleyTerryJudge(F, D, n_evidence=2, hidden=(), seed=seed)]


@pytest.mark.parametrize("L", [0, 1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_win_table_matches_each_game_solved_alone(L, seed):
    rng = np.random.default_rng(seed)
    F, D, S = 6, 5, 7
    x = rng.integers(-2, 3, size=(S, F)).astype(float)
    base = rng.integers(0, D, size=S)
    for judge in _table_judges(F, D, seed):
        table = debate_win_table(judge, x, base, L, n_decisions=D, chunk=3)
        assert isinstance(table, DebateTable) and table.status == "optimal"
        assert table.values_by_first_mover.shape == (S, D, 2)
        for s, a in itertools.product(range(S), range(D)):
            if a == base[s]:
                assert tuple(table.values_by_first_mover[s, a]) == (0.0, 0.0)
                continue
            exact = solve_debate(judge, x[s], (a, int(base[s])), L)
            assert tuple(table.values_by_first_mover[s, a]) == exact.values_by_first_mover
            if type(judge) is LinearJudge and L:
                assert exact.value == brute_force_debate_value(judge, x[s], (a, int(base[s])), L)
        np.testing.assert_array_equal(table.value, table.values_by_first_mover.mean(axis=-1))


def test_win_table_does_not_depend_on_the_chunk_size():
    rng = np.random.default_rng(3)
    judge = BradleyTerryJudge(8, 4, n_evidence=2, hidden=(6,), seed=3)
    x, base = rng.normal(size=(11, 8)), rng.integers(0, 4, size=11)
    ref = debate_win_table(judge, x, base, 2, n_decisions=4, chunk=1).values_by_first_mover
    for chunk in (2, 5, 11, 50):
        np.testing.assert_array_equal(debate_win_table(judge, x, base, 2, n_decisions=4, chunk=chunk)
                                      .values_by_first_mover, ref)


def test_score_grid_agrees_with_score():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 7))
    masks = rng.random((9, 7)) < 0.4
    d = np.array([3, 0, 2])
    for judge in _table_judges(7, 4, 4):
        grid = score_grid(judge, x, masks, d)
        assert grid.shape == (3, 9, 3)
        for s, k, j in itertools.product(range(3), range(9), range(3)):
            ref = judge.score(x[s][None], masks[k][None], d[j:j + 1])[0]
            assert grid[s, k, j] == pytest.approx(ref, abs=1e-10)
