"""Debaters (greedy, beam, isolated, learned) and robustness against the exact confuser."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim.debate import GuidelineRule, LinearJudge, debate_outcome
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import (
    ArguingFor,
    BeamDebater,
    GreedyDebater,
    IsolatedDebater,
    PolicyGradientDebater,
    RandomDebater,
    greedy_debate_values,
    measure_robustness,
    play_debates,
    train_debater,
)
from mechsim.solvers.debate import best_response, isolated_plan, policy_value, solve_debate
from mechsim.testing import debate_games


@given(debate_games(min_features=2, max_features=5, max_evidence=4).filter(lambda g: g.n_evidence >= 1))
def test_full_width_beam_plays_minimax(game):
    beam = BeamDebater(game.judge, game.n_evidence, width=game.n_features)
    for fm in (0, 1):
        exact = solve_debate(game.judge, game.features, game.decisions, game.n_evidence, fm).value
        assert policy_value(game.judge, game.features, game.decisions, game.n_evidence, (beam, beam), fm) == exact


@given(debate_games(min_features=2, max_features=5, max_evidence=4).filter(lambda g: g.n_evidence >= 1),
       st.integers(0, 1))
def test_confuser_is_no_weaker_than_any_fixed_opponent(game, fm):
    """The exact best response beats (weakly) every debater in the library playing the same side."""
    judge, x, dec, L = game.judge, game.features, game.decisions, game.n_evidence
    opponents = [RandomDebater(), GreedyDebater(judge), BeamDebater(judge, L, width=2),
                 IsolatedDebater(judge, L)]
    for honest in opponents:
        br = best_response(judge, x, dec, L, honest, responder=1, first_mover=fm).value
        for confuser in opponents:
            assert br <= policy_value(judge, x, dec, L, (honest, confuser), fm) + 1e-12
        # and the best response to a fixed debater never does worse than the minimax value
        assert br <= solve_debate(judge, x, dec, L, fm).value + 1e-12


@given(debate_games(min_features=2, max_features=6, max_evidence=4, integer=False)
       .filter(lambda g: g.n_evidence >= 1))
def test_isolated_plan_finds_the_best_evidence_set(game):
    judge, x, (a, b), L = game.judge, game.features, game.decisions, game.n_evidence
    plan = isolated_plan(judge, x, (a, b), L)
    best = -np.inf
    for combo in itertools.combinations(range(game.n_features), L):
        m = np.zeros(game.n_features, dtype=bool)
        m[list(combo)] = True
        s = judge.score(np.stack([x, x]), np.stack([m, m]), np.array([a, b]))
        best = max(best, s[0] - s[1])
    assert plan.value == pytest.approx(best, abs=1e-9)
    # Alone, the isolated debater realises the sign of that best margin.
    iso = ArguingFor(IsolatedDebater(judge, L), a, b)
    recs = play_debates(judge, x[None], np.array([[a, b]]), L, (iso, iso), first_mover=0, seed=0)
    s = judge.score(np.stack([x, x]), np.stack([recs.masks[0]] * 2), np.array([a, b]))
    assert s[0] - s[1] == pytest.approx(best, abs=1e-9)


def test_greedy_reveals_the_best_single_feature():
    judge = LinearJudge(np.array([[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, -1.0]]))
    x = np.array([1.0, 2.0, 0.4, -3.0])
    greedy = GreedyDebater(judge)
    p = greedy.probabilities(x, np.zeros((1, 4), bool), 0, 1)
    # margins after one reveal: f0: 1, f1: -2, f2: 0.8, f3: -3 -> feature 0
    np.testing.assert_array_equal(p[0], [1, 0, 0, 0])
    p = greedy.probabilities(x, np.array([[True, False, False, False]]), 1, 0)
    # for decision 1 (own) vs 0, margins after f0 already shown: f1: 2-1=1, f2: -1-0.8, f3: 3-1=2 -> feature 3
    np.testing.assert_array_equal(p[0], [0, 0, 0, 1])


def _guideline_problem(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    F, D = 10, 4
    rule = GuidelineRule.from_terms([f"f{i}" for i in range(F)], D,
                                    {"f0": [0, 1, 2, 3], "f3": [0, -1, 1, 0], "f7": [1, 0, 0, -1]})
    X = rng.normal(size=(n, F))
    return rule, LinearJudge(rule.weights), X


def test_play_debates_records_are_consistent_and_seeded():
    rule, judge, X = _guideline_problem()
    X = X[:50]
    good = rule.best_decisions(X)
    dec = np.stack([good, (good + 1) % 4], axis=1)
    pg = PolicyGradientDebater(10, 4, judge=judge, greedy_weight=0.5, seed=1)
    recs = play_debates(judge, X, dec, 4, (pg, RandomDebater()), seed=3)
    assert recs.evidence.shape == (50, 4)
    assert np.all(np.sort(recs.evidence, axis=1)[:, 1:] != np.sort(recs.evidence, axis=1)[:, :-1])
    np.testing.assert_array_equal(recs.masks.sum(axis=1), 4)
    for i in range(50):
        assert set(recs.evidence[i]) == set(np.flatnonzero(recs.masks[i]))
        fm = recs.first_movers[i]
        np.testing.assert_array_equal(recs.movers[i], [fm, 1 - fm, fm, 1 - fm])
    np.testing.assert_array_equal(recs.outcomes, debate_outcome(judge, X, recs.masks, dec[:, 0], dec[:, 1]))
    again = play_debates(judge, X, dec, 4, (pg, RandomDebater()), seed=3)
    np.testing.assert_array_equal(recs.evidence, again.evidence)


def test_policy_gradient_probabilities_are_a_masked_softmax():
    pg = PolicyGradientDebater(5, 3, seed=0)
    pg.theta0[1] = [0.0, 1.0, 2.0, 3.0, 4.0]
    revealed = np.array([[False, False, True, False, True]])
    p = pg.probabilities(np.zeros(5), revealed, 1, 0)[0]
    assert p[2] == 0 and p[4] == 0
    expected = np.exp([0.0, 1.0, 3.0]) / np.exp([0.0, 1.0, 3.0]).sum()
    np.testing.assert_allclose(p[[0, 1, 3]], expected, atol=0.02)


def test_learned_debaters_learn_and_maxmin_resists_the_confuser():
    rule, judge, X = _guideline_problem(n=3000)
    rng = np.random.default_rng(9)
    Xt = rng.normal(size=(25, 10))
    good = rule.best_decisions(Xt)
    bad = (good + 1 + rng.integers(0, 3, size=25)) % 4
    baseline = measure_robustness(judge, Xt, good, bad, RandomDebater(), 4)
    correct = rule.best_decisions(X)
    iso = train_debater(judge, X, correct, 4, mode="isolated", iterations=200, batch_size=64,
                        use_judge_gain=False, seed=0)
    maxmin = train_debater(judge, X, correct, 4, mode="maxmin", iterations=200, batch_size=64,
                           use_judge_gain=False, seed=0)
    assert np.mean(iso.win_rates[-20:]) > np.mean(iso.win_rates[:20]) + 0.05
    rep_iso = measure_robustness(judge, Xt, good, bad, iso.debater, 4)
    rep_mm = measure_robustness(judge, Xt, good, bad, maxmin.debater, 4)
    assert rep_iso.accuracy_alone > baseline.accuracy_alone + 0.15
    assert rep_mm.accuracy_vs_confuser > baseline.accuracy_vs_confuser + 0.3
    for rep in (baseline, rep_iso, rep_mm):
        # no debater can guarantee more than the minimax accuracy against the exact confuser
        assert rep.accuracy_vs_confuser <= rep.accuracy_minimax + 1e-12
    assert maxmin.confuser is not None and iso.confuser is None


def test_self_play_training_runs_and_is_seeded():
    rule, judge, X = _guideline_problem(n=500)
    correct = rule.best_decisions(X)
    a = train_debater(judge, X, correct, 3, mode="self_play", iterations=15, batch_size=16, refresh=5, seed=4)
    b = train_debater(judge, X, correct, 3, mode="self_play", iterations=15, batch_size=16, refresh=5, seed=4)
    np.testing.assert_array_equal(a.debater.theta0, b.debater.theta0)
    assert a.win_rates == b.win_rates and len(a.win_rates) == 15


def test_bad_arguments():
    rule, judge, X = _guideline_problem(n=20)
    with pytest.raises(InvalidInstanceError, match="mode"):
        train_debater(judge, X, rule.best_decisions(X), 2, mode="ppo")
    with pytest.raises(InvalidInstanceError, match="decisions"):
        play_debates(judge, X, np.zeros((20, 2), dtype=int), 2, (RandomDebater(), RandomDebater()))
    with pytest.raises(InvalidInstanceError, match="width"):
        BeamDebater(judge, 2, width=0)


class _ScoreOnly:
    """Hides a judge's score_masks fast path."""

    def __init__(self, judge):
        self.judge = judge

    def score(self, features, mask, decisions):
        return self.judge.score(features, mask, decisions)


@given(debate_games(min_features=2, max_features=6, max_evidence=4, integer=False)
       .filter(lambda g: g.n_evidence >= 1))
def test_greedy_fast_path_matches_generic_judge_calls(game):
    judge, x, (a, b), L = game.judge, game.features, game.decisions, game.n_evidence
    rng = np.random.default_rng(0)
    revealed = np.zeros((5, game.n_features), dtype=bool)
    for row in revealed:
        row[rng.choice(game.n_features, size=min(L, game.n_features) - 1, replace=False)] = True
    fast = GreedyDebater(judge).probabilities(x, revealed, a, b)
    slow = GreedyDebater(_ScoreOnly(judge)).probabilities(x, revealed, a, b)
    np.testing.assert_array_equal(fast, slow)


def test_act_samples_from_probabilities_and_random_is_uniform():
    x = np.zeros(5)
    revealed = np.array([True, False, True, False, False])
    p = RandomDebater().probabilities(x, revealed[None], 0, 1)[0]
    np.testing.assert_allclose(p, [0, 1 / 3, 0, 1 / 3, 1 / 3])
    rng = np.random.default_rng(0)
    picks = [RandomDebater().act(x, revealed, 0, 1, seed=rng) for _ in range(600)]
    assert set(picks) == {1, 3, 4}
    judge = LinearJudge(np.array([[0.0, 0.0, 0.0, 5.0, 0.0], [0.0] * 5]))
    assert GreedyDebater(judge).act(np.ones(5), revealed, 0, 1, seed=0) == 3


def test_train_debater_needs_decision_count():
    from mechsim.debate import ConstantJudge
    X = np.zeros((4, 3))
    with pytest.raises(InvalidInstanceError, match="n_decisions"):
        train_debater(ConstantJudge(), X, np.zeros(4, dtype=int), 2, iterations=1)
    with pytest.raises(InvalidInstanceError, match="correct"):
        train_debater(LinearJudge(np.ones((2, 3))), X, np.full(4, 5), 2, iterations=1)
    res = train_debater(ConstantJudge(), X, np.zeros(4, dtype=int), 2, iterations=2, n_decisions=3, seed=0)
    assert res.win_rates == (0.5, 0.5)  # a judge that ignores evidence: every debate is a tie


@given(debate_games(min_features=2, max_features=6, max_evidence=4))
def test_greedy_debate_values_are_the_played_greedy_debates(game):
    judge, x, dec, L = game.judge, game.features, game.decisions, game.n_evidence
    vals = greedy_debate_values(judge, x, dec, L)
    if L == 0:
        assert vals == solve_debate(judge, x, dec, 0).values_by_first_mover
        return
    greedy = (GreedyDebater(judge), GreedyDebater(judge))
    for fm in (0, 1):
        played = play_debates(judge, x[None], np.array([dec]), L, greedy, first_mover=fm, seed=99)
        assert vals[fm] == float(played.outcomes[0])
        # Two greedy debaters are a pair of deterministic policies: their exact value is that outcome.
        assert vals[fm] == policy_value(judge, x, dec, L, greedy, first_mover=fm)


def test_old_module_path_and_domain_reexports_stay_lazy():
    """``mechsim.debate`` offers the debaters (layer 3) by name only: importing it loads no solver."""
    import subprocess
    import sys

    code = ("import sys, mechsim.debate, mechsim.debate.debaters as old\n"
            "assert not any(m.startswith(('mechsim.solvers', 'mechsim.learners')) for m in sys.modules)\n"
            "from mechsim.debate import train_debater, GreedyDebater\n"
            "import mechsim.learners.debaters as new\n"
            "assert old.GreedyDebater is GreedyDebater is new.GreedyDebater and train_debater is new.train_debater\n"
            "assert set(old.__all__) <= set(new.__all__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
