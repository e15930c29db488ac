"""Exact debate tables at L > 2 and learned debate tables at any L.

Oracles: :func:`solve_debate` game by game and brute-force recursion over reveal sequences (exact tables);
the judge's own float64 ``score`` on every leaf (the float32 outcome grid); one played debate per game
(deterministic debaters), :func:`policy_value` (exact expectation of any two fixed policies) and sampling
(stochastic debaters) for the learned tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from mechsim.debate.judges import (
    BradleyTerryJudge,
    LinearJudge,
    margins_after_reveal,
    outcome_grid,
    score_grid,
)
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debate_tables import ArgmaxDebater, compare_tables, learned_win_table
from mechsim.learners.debaters import GreedyDebater, PolicyGradientDebater, RandomDebater, play_debates
from mechsim.solvers.debate import (
    DebateTable,
    _subset_tree,
    brute_force_debate_value,
    debate_win_table,
    policy_value,
    solve_debate,
)


class _Plain:
    """A judge seen only through ``score`` (forces every generic path)."""

    def __init__(self, judge):
        self.judge, self.n_features, self.n_decisions = judge, judge.n_features, judge.n_decisions

    def score(self, features, mask, decisions):
        return self.judge.score(features, mask, decisions)


def _bt(F, D, hidden=(8,), seed=0, scale=1.0):
    judge = BradleyTerryJudge(F, D, n_evidence=2, hidden=hidden, seed=seed)
    judge.weights = [w * scale for w in judge.weights]
    judge.biases = [np.random.default_rng(seed + 1).normal(0, 0.5, size=b.shape) for b in judge.biases]
    return judge


# ---------------------------------------------------------------------------------------------- outcome grid
@pytest.mark.parametrize("L", [1, 3, 4])
def test_outcome_grid_matches_float64_scores(L):
    F, D = 10, 6
    rng = np.random.default_rng(L)
    judge = _bt(F, D, hidden=(16,), seed=L)
    masks = _subset_tree(F, L)[L].masks
    for _ in range(3):
        x = rng.normal(size=F)
        b = int(rng.integers(D))
        s = score_grid(judge, x[None], masks, np.arange(D))[0]
        want = np.sign(s - s[:, b:b + 1]).T
        got = outcome_grid(judge, x, masks, b, D)
        assert got.dtype == np.int8 and got.shape == (D, masks.shape[0])
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(outcome_grid(_Plain(judge), x, masks, b, D), want)  # generic path


def test_outcome_grid_exact_ties_and_mixed_sizes():
    """Two decisions with identical weights tie exactly; float32 noise must not break the tie."""
    F, D = 8, 5
    judge = _bt(F, D, hidden=(12,), seed=3)
    judge.weights[0][2 * F + 3] = judge.weights[0][2 * F + 1]  # decision 3 == decision 1 == baseline
    x = np.random.default_rng(0).normal(size=F)
    masks = np.random.default_rng(1).random((300, F)) < 0.4     # sets of different sizes: the matmul path
    got = outcome_grid(judge, x, masks, 1, D)
    assert np.all(got[3] == 0) and np.all(got[1] == 0)
    s = judge.score(np.repeat(x[None], 300 * D, axis=0), np.repeat(masks, D, axis=0), np.tile(np.arange(D), 300))
    s = s.reshape(300, D)
    np.testing.assert_array_equal(got, np.sign(s - s[:, 1:2]).T)


def test_outcome_grid_dominated_decisions_are_skipped_correctly():
    """A decision far ahead (or behind) on every set is decided by the block bound, not scored."""
    F, D = 9, 4
    judge = _bt(F, D, hidden=(10,), seed=5)
    judge.weights[0][2 * F + 2] += 50.0 * np.sign(judge.weights[1][:, 0])   # decision 2 wins everywhere
    judge.weights[0][2 * F + 3] -= 50.0 * np.sign(judge.weights[1][:, 0])   # decision 3 loses everywhere
    x = np.random.default_rng(2).normal(size=F)
    masks = _subset_tree(F, 3)[3].masks
    got = outcome_grid(judge, x, masks, 0, D)
    s = score_grid(judge, x[None], masks, np.arange(D))[0]
    np.testing.assert_array_equal(got, np.sign(s - s[:, :1]).T)
    assert np.all(got[2] == 1) and np.all(got[3] == -1)


def test_outcome_grid_bad_input():
    judge = _bt(5, 3)
    masks = np.zeros((2, 5), dtype=bool)
    with pytest.raises(InvalidInstanceError, match="reference"):
        outcome_grid(judge, np.zeros(5), masks, 3, 3)
    with pytest.raises(InvalidInstanceError, match="n_decisions"):
        outcome_grid(judge, np.zeros(5), masks, 0, 4)
    with pytest.raises(InvalidInstanceError, match="masks"):
        outcome_grid(judge, np.zeros(5), np.zeros((2, 4), dtype=bool), 0, 3)


# ---------------------------------------------------------------------------------------------- exact tables
@pytest.mark.parametrize("judge_kind", ["bt", "linear"])
@pytest.mark.parametrize("L", [3, 4])
def test_exact_table_matches_solve_debate(judge_kind, L):
    F, D, S = 9, 5, 3
    rng = np.random.default_rng(10 + L)
    judge = _bt(F, D, hidden=(8,), seed=L) if judge_kind == "bt" else LinearJudge(rng.normal(size=(D, F)),
                                                                               rng.normal(size=D) * 0.3)
    x = rng.normal(size=(S, F))
    base = rng.integers(0, D, size=S)
    table = debate_win_table(judge, x, base, L, n_decisions=D)
    assert isinstance(table, DebateTable) and table.values_by_first_mover.shape == (S, D, 2)
    for s in range(S):
        for a in range(D):
            want = (0.0, 0.0) if a == base[s] else solve_debate(judge, x[s], (a, int(base[s])), L).values_by_first_mover
            np.testing.assert_array_equal(table.values_by_first_mover[s, a], want)


def test_exact_table_matches_brute_force():
    F, D, L = 6, 4, 4
    rng = np.random.default_rng(7)
    judge = _bt(F, D, hidden=(6,), seed=7)
    x = rng.normal(size=(2, F))
    base = np.array([0, 2])
    table = debate_win_table(judge, x, base, L, n_decisions=D)
    for s in range(2):
        for a in range(D):
            if a == base[s]:
                continue
            for fm in (0, 1):
                assert table.values_by_first_mover[s, a, fm] == brute_force_debate_value(
                    judge, x[s], (a, int(base[s])), L, first_mover=fm)


@pytest.mark.slow
def test_exact_table_at_sepsis_size():
    """44 features, L = 4 (135,751 evidence sets): sampled pairs against solve_debate."""
    F, D = 44, 25
    rng = np.random.default_rng(0)
    judge = _bt(F, D, hidden=(32,), seed=0, scale=0.5)
    x = rng.normal(size=(1, F))
    table = debate_win_table(judge, x, np.array([4]), 4, n_decisions=D)
    for a in rng.choice([a for a in range(D) if a != 4], size=2, replace=False):
        out = solve_debate(judge, x[0], (int(a), 4), 4)
        np.testing.assert_array_equal(table.values_by_first_mover[0, a], out.values_by_first_mover)


def test_exact_table_leaf_guard():
    judge = _bt(12, 3)
    x = np.zeros((1, 12))
    with pytest.raises(InvalidInstanceError, match="n_evidence"):
        debate_win_table(judge, x, [0], 6, n_decisions=3, max_leaves=100)   # C(12, 6) = 924 > 100
    with pytest.raises(InvalidInstanceError, match="max_leaves"):
        debate_win_table(judge, x, [0], 3, n_decisions=3, max_leaves=0)


# ---------------------------------------------------------------------------------------------- learned tables
def _setup(F=7, D=4, S=4, seed=0):
    rng = np.random.default_rng(seed)
    judge = _bt(F, D, hidden=(8,), seed=seed)
    return judge, rng.normal(size=(S, F)), rng.integers(0, D, size=S)


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_learned_table_of_greedy_debaters_is_their_played_outcome(L):
    judge, x, base = _setup()
    S, D = x.shape[0], 4
    table = learned_win_table(judge, x, base, L, GreedyDebater(judge), n_decisions=D)
    assert table.method == "exact" and table.max_paths_used == 1 and table.status == "exact_expectation"
    for s in range(S):
        for a in range(D):
            if a == base[s]:
                assert np.all(table.values_by_first_mover[s, a] == 0)
                continue
            for fm in (0, 1):
                rec = play_debates(judge, x[s:s + 1], np.array([[a, base[s]]]), L,
                                   (GreedyDebater(judge), GreedyDebater(judge)), first_mover=fm, seed=0)
                assert table.values_by_first_mover[s, a, fm] == rec.outcomes[0]
                assert table.wins_by_first_mover[s, a, fm] == float(rec.outcomes[0] > 0)


def test_learned_table_exact_expectation_of_stochastic_debaters():
    """Support enumeration of two stochastic policies equals the exact policy_value backup."""
    judge, x, base = _setup(F=5, D=3, S=2, seed=1)
    pg = PolicyGradientDebater(5, 3, seed=4)
    pg.theta0 += np.random.default_rng(5).normal(0, 1.0, size=pg.theta0.shape)
    pair = (pg, RandomDebater())
    table = learned_win_table(judge, x, base, 3, pair, n_decisions=3, method="exact", max_paths=200)
    assert table.method == "exact" and table.max_paths_used == 5 * 4 * 3
    for s in range(2):
        for a in range(3):
            if a == base[s]:
                continue
            for fm in (0, 1):
                want = policy_value(judge, x[s], (a, int(base[s])), 3, pair, first_mover=fm)
                assert table.values_by_first_mover[s, a, fm] == pytest.approx(want, abs=1e-12)
    assert np.all((table.wins_by_first_mover >= 0) & (table.wins_by_first_mover <= 1 + 1e-12))


def test_learned_table_sampling_matches_exact_and_is_seeded():
    judge, x, base = _setup(F=5, D=3, S=2, seed=2)
    exact = learned_win_table(judge, x, base, 2, RandomDebater(), n_decisions=3, method="exact")
    n = 4000
    sampled = learned_win_table(judge, x, base, 2, RandomDebater(), n_decisions=3, method="sample", n_samples=n,
                                seed=3)
    assert sampled.method == "sample" and sampled.n_samples == n and sampled.status == "sampled"
    # P(win) per first mover: binomial standard error <= 1/(2 sqrt(n)); allow 5 of them.
    assert np.max(np.abs(sampled.wins_by_first_mover - exact.wins_by_first_mover)) < 5 / (2 * np.sqrt(n))
    again = learned_win_table(judge, x, base, 2, RandomDebater(), n_decisions=3, method="sample", n_samples=n,
                              seed=3)
    np.testing.assert_array_equal(again.values_by_first_mover, sampled.values_by_first_mover)


def test_learned_table_auto_falls_back_and_exact_refuses():
    judge, x, base = _setup(F=6, D=3, S=2, seed=3)
    auto = learned_win_table(judge, x, base, 3, RandomDebater(), n_decisions=3, max_paths=10, n_samples=8, seed=0)
    assert auto.method == "sample"
    with pytest.raises(InvalidInstanceError, match="max_paths"):
        learned_win_table(judge, x, base, 3, RandomDebater(), n_decisions=3, method="exact", max_paths=10)


def test_learned_table_bad_input():
    judge, x, base = _setup()
    greedy = GreedyDebater(judge)
    with pytest.raises(InvalidInstanceError, match="debaters"):
        learned_win_table(judge, x, base, 2, object(), n_decisions=4)
    with pytest.raises(InvalidInstanceError, match="debaters"):
        learned_win_table(judge, x, base, 2, (greedy,) * 3, n_decisions=4)
    with pytest.raises(InvalidInstanceError, match="baseline"):
        learned_win_table(judge, x, base[:2], 2, greedy, n_decisions=4)
    with pytest.raises(InvalidInstanceError, match="n_evidence"):
        learned_win_table(judge, x, base, 8, greedy, n_decisions=4)
    with pytest.raises(InvalidInstanceError, match="method"):
        learned_win_table(judge, x, base, 2, greedy, n_decisions=4, method="mcts")

    class Bad(RandomDebater):
        def batch_probabilities(self, features, revealed, own, other):
            return np.ones(revealed.shape)   # rows do not sum to 1 and put mass on revealed features

    with pytest.raises(InvalidInstanceError, match="debaters"):
        learned_win_table(judge, x, base, 2, Bad(), n_decisions=4)


def test_learned_greedy_versus_exact_at_l2_agree_mostly():
    """At L = 1 the one mover's greedy reveal maximises its final margin, so greedy play is minimax play."""
    judge, x, base = _setup(F=8, D=5, S=6, seed=4)
    exact = debate_win_table(judge, x, base, 1, n_decisions=5)
    learned = learned_win_table(judge, x, base, 1, GreedyDebater(judge), n_decisions=5)
    # With one reveal the mover's greedy choice is its minimax choice (up to ties in the margin).
    agree = compare_tables(exact, learned)
    assert agree.same_winner == 1.0 and agree.mean_abs_win_difference == 0.0
    assert agree.n_games == 6 * 4


def test_compare_tables_hand_computed():
    base = np.array([0, 1])
    v1 = np.zeros((2, 3, 2))
    v1[0, 1] = (1, 1)
    v1[0, 2] = (1, -1)
    v1[1, 0] = (-1, -1)
    v1[1, 2] = (0, 1)
    exact = DebateTable(v1, base)
    w2 = np.zeros((2, 3, 2))
    w2[0, 1] = (1.0, 0.2)     # fm 1 disagrees
    w2[0, 2] = (1.0, 0.0)     # agrees
    w2[1, 0] = (0.0, 0.0)     # agrees
    w2[1, 2] = (0.0, 1.0)     # agrees
    from mechsim.learners.debate_tables import LearnedDebateTable

    learned = LearnedDebateTable(2 * w2 - 1, w2, base, 2, "exact")
    agree = compare_tables(exact, learned)
    assert agree.n_games == 4
    assert agree.same_winner == pytest.approx(7 / 8)
    # P(win): exact (1, .5, 0, .5), learned (.6, .5, 0, .5)
    assert agree.mean_abs_win_difference == pytest.approx(0.4 / 4)
    assert agree.same_winner_random_first == pytest.approx(1.0)
    assert agree.win_rate_first == pytest.approx(0.5) and agree.win_rate_second == pytest.approx(1.6 / 4)
    with pytest.raises(InvalidInstanceError, match="second"):
        compare_tables(exact, DebateTable(v1[:1], base[:1]))
    with pytest.raises(InvalidInstanceError, match="first"):
        compare_tables(object(), exact)


def test_margins_after_reveal_fast_path_matches_score():
    F, D, n = 9, 5, 30
    rng = np.random.default_rng(8)
    judge = _bt(F, D, hidden=(7,), seed=8)
    x = rng.normal(size=(n, F))
    rev = rng.random((n, F)) < 0.3
    rev[:, 0] = False
    own, other = rng.integers(0, D, n), rng.integers(0, D, n)
    fast = margins_after_reveal(judge, x, rev, own, other, chunk=7)
    slow = margins_after_reveal(_Plain(judge), x, rev, own, other)
    assert np.array_equal(np.isinf(fast), rev) and np.array_equal(np.isinf(slow), rev)
    np.testing.assert_allclose(fast[~rev], slow[~rev], rtol=0, atol=1e-12)


def test_argmax_debater_is_deterministic_play():
    judge, x, base = _setup(F=6, D=3, S=3, seed=6)
    pg = PolicyGradientDebater(6, 3, seed=1)
    pg.theta0 += np.random.default_rng(2).normal(0, 1.0, size=pg.theta0.shape)
    arg = ArgmaxDebater(pg)
    table = learned_win_table(judge, x, base, 4, arg, n_decisions=3, method="exact", max_paths=1)
    assert table.max_paths_used == 1
    for s in range(3):
        for a in range(3):
            if a == base[s]:
                continue
            for fm in (0, 1):
                want = policy_value(judge, x[s], (a, int(base[s])), 4, (arg, arg), first_mover=fm)
                assert table.values_by_first_mover[s, a, fm] == want
    rev = np.zeros((2, 6), dtype=bool)
    rev[0, :2] = True
    p = pg.batch_probabilities(x[:2], rev, np.array([0, 1]), np.array([1, 2]))
    q = arg.batch_probabilities(x[:2], rev, np.array([0, 1]), np.array([1, 2]))
    assert np.array_equal(np.argmax(q, axis=1), np.argmax(p, axis=1)) and np.all(q.sum(axis=1) == 1)
    with pytest.raises(InvalidInstanceError, match="debater"):
        ArgmaxDebater(object())
