"""Judges (linear, constant, Bradley–Terry) and preference generators."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim.debate import (
    BradleyTerryJudge,
    ConstantJudge,
    GuidelineRule,
    Judge,
    LinearJudge,
    PreferenceData,
    behaviour_preferences,
    debate_outcome,
    evidence_precision_recall,
    judge_accuracy,
    random_evidence_masks,
    value_oracle_preferences,
)
from mechsim.errors import InvalidInstanceError
from mechsim.testing import debate_states, evidence_masks, linear_judges


def test_judges_satisfy_protocol():
    assert isinstance(LinearJudge(np.ones((2, 3))), Judge)
    assert isinstance(ConstantJudge(), Judge)
    assert isinstance(BradleyTerryJudge(3, 2, n_evidence=1), Judge)


def test_linear_judge_formula():
    judge = LinearJudge(np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]), bias=np.array([0.25, -0.25]))
    x = np.array([[1.0, 1.0, 1.0], [2.0, -1.0, 4.0]])
    m = np.array([[True, False, True], [False, True, True]])
    s = judge.score(x, m, np.array([0, 1]))
    np.testing.assert_allclose(s, [1.0 + 3.0 + 0.25, -0.5 + 0.0 - 0.25])


@given(st.integers(2, 6), st.integers(2, 4), st.data())
def test_judges_only_see_revealed_values(F, D, data):
    x = data.draw(debate_states(F))
    m = data.draw(evidence_masks(F, data.draw(st.integers(0, F))))
    noise = np.where(m, 0.0, data.draw(debate_states(F)) + 7.0)
    d = np.array([data.draw(st.integers(0, D - 1))])
    bt = BradleyTerryJudge(F, D, n_evidence=1, hidden=(5,), seed=data.draw(st.integers(0, 10)))
    for judge in (data.draw(linear_judges(F, D, with_bias=True)), bt):
        a = judge.score(x[None], m[None], d)
        b = judge.score((x + noise)[None], m[None], d)
        np.testing.assert_allclose(a, b)


def test_bradley_terry_distinguishes_revealed_zero_from_hidden():
    judge = BradleyTerryJudge(3, 2, n_evidence=1, hidden=(8,), seed=1)
    x = np.zeros((1, 3))
    hidden = judge.score(x, np.zeros((1, 3), bool), np.array([0]))
    revealed = judge.score(x, np.ones((1, 3), bool), np.array([0]))
    assert hidden[0] != revealed[0]


def test_ideal_judge_ignores_the_mask():
    rng = np.random.default_rng(0)
    judge = BradleyTerryJudge(5, 3, ideal=True, hidden=(8,), seed=0)
    x = rng.normal(size=(10, 5))
    d = rng.integers(0, 3, 10)
    a = judge.score(x, rng.random((10, 5)) < 0.5, d)
    b = judge.score(x, np.ones((10, 5), bool), d)
    np.testing.assert_array_equal(a, b)
    assert judge.n_evidence == 5


def test_constant_judge_ties():
    out = debate_outcome(ConstantJudge(), np.ones((4, 3)), np.ones((4, 3), bool), 0, 1)
    assert np.all(out == 0)


@given(st.integers(0, 200), st.integers(1, 9), st.data())
def test_random_evidence_masks_have_exact_size(n, F, data):
    L = data.draw(st.integers(0, F))
    m = random_evidence_masks(n, F, L, seed=data.draw(st.integers(0, 100)))
    assert m.shape == (n, F) and m.dtype == bool
    assert np.all(m.sum(axis=1) == L)


def test_random_evidence_masks_uniform_and_seeded():
    m = random_evidence_masks(20000, 8, 3, seed=1)
    freq = m.mean(axis=0)
    # Each feature revealed with probability 3/8; binomial sd ~ 0.0034.
    assert np.all(np.abs(freq - 3 / 8) < 0.02)
    # Pairs revealed together with probability (3/8)(2/7).
    co = (m[:, 0] & m[:, 1]).mean()
    assert abs(co - 3 / 8 * 2 / 7) < 0.015
    np.testing.assert_array_equal(m, random_evidence_masks(20000, 8, 3, seed=1))


def _guideline_data(seed=0, n=6000):
    rng = np.random.default_rng(seed)
    F, D = 12, 4
    names = [f"f{i}" for i in range(F)]
    rule = GuidelineRule.from_terms(names, D, {"f0": [0, 1, 2, 3], "f3": [0, -1, 1, 0], "f7": [1, 0, 0, -1]})
    X = rng.normal(size=(n, F))
    data = rule.preferences(X, n, seed=seed + 1)
    return rule, data.split(0.8, seed=seed + 2)


def test_bradley_terry_training_beats_chance_on_guideline_rule():
    rule, (train, test) = _guideline_data()
    judge = BradleyTerryJudge(12, 4, n_evidence=4, hidden=(32,), seed=0)
    before = judge.accuracy(*test.as_tuple(), seed=3)
    judge.fit(*train.as_tuple(), epochs=15, seed=4, validation=test.as_tuple())
    after_random = judge.accuracy(*test.as_tuple(), seed=3)
    relevant = np.zeros_like(test.features, dtype=bool)
    relevant[:, rule.relevant] = True
    after_relevant = judge.accuracy(*test.as_tuple(), masks=relevant)
    assert before < 0.56
    assert after_random > 0.62          # 4 random of 12 features: often misses the relevant three
    assert after_relevant > 0.9         # the right evidence lets it decide almost always
    assert judge.history.loss[-1] < judge.history.loss[0]
    assert len(judge.history.validation_accuracy) == 15


def test_ideal_judge_learns_the_rule():
    rule, (train, test) = _guideline_data(seed=5)
    judge = BradleyTerryJudge(12, 4, ideal=True, hidden=(32,), seed=0)
    judge.fit(*train.as_tuple(), epochs=15, seed=1)
    assert judge.accuracy(*test.as_tuple(), masks=np.zeros_like(test.features, dtype=bool)) > 0.95


def test_bradley_terry_training_is_seeded():
    _, (train, test) = _guideline_data(n=600)
    a = BradleyTerryJudge(12, 4, n_evidence=3, hidden=(6, 5), seed=2).fit(*train.as_tuple(), epochs=2, seed=9)
    b = BradleyTerryJudge(12, 4, n_evidence=3, hidden=(6, 5), seed=2).fit(*train.as_tuple(), epochs=2, seed=9)
    c = BradleyTerryJudge(12, 4, n_evidence=3, hidden=(6, 5), seed=2).fit(*train.as_tuple(), epochs=2, seed=8)
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_linear_bradley_terry_recovers_linear_preferences():
    # hidden=() is a linear model on (x ⊙ m, m, e_a): with full evidence it can express the rule exactly.
    rule, (train, test) = _guideline_data(seed=7)
    judge = BradleyTerryJudge(12, 4, ideal=True, hidden=(), seed=0)
    judge.fit(*train.as_tuple(), epochs=20, learning_rate=2e-2, seed=1)
    assert judge.accuracy(*test.as_tuple(), masks=np.ones_like(test.features, dtype=bool)) > 0.95


@pytest.mark.parametrize("kwargs, argument", [
    (dict(n_features=0, n_decisions=2, n_evidence=0), "n_features"),
    (dict(n_features=3, n_decisions=1, n_evidence=1), "n_decisions"),
    (dict(n_features=3, n_decisions=2, n_evidence=4), "n_evidence"),
    (dict(n_features=3, n_decisions=2), "n_evidence"),
    (dict(n_features=3, n_decisions=2, n_evidence=1, hidden=(0,)), "hidden"),
])
def test_bradley_terry_bad_construction(kwargs, argument):
    with pytest.raises(InvalidInstanceError, match=argument):
        BradleyTerryJudge(**kwargs)


def test_bad_batches_are_rejected():
    judge = LinearJudge(np.ones((2, 3)))
    with pytest.raises(InvalidInstanceError, match="mask"):
        judge.score(np.ones((2, 3)), np.ones((2, 2), bool), np.array([0, 1]))
    with pytest.raises(InvalidInstanceError, match="decisions"):
        judge.score(np.ones((2, 3)), np.ones((2, 3), bool), np.array([0, 2]))
    with pytest.raises(InvalidInstanceError, match="features"):
        judge.score(np.ones((2, 4)), np.ones((2, 4), bool), np.array([0, 1]))
    bt = BradleyTerryJudge(3, 2, n_evidence=1)
    with pytest.raises(InvalidInstanceError, match="losers"):
        bt.fit(np.ones((2, 3)), np.array([0, 1]), np.array([0, 0]))
    with pytest.raises(InvalidInstanceError, match="learning_rate"):
        bt.fit(np.ones((2, 3)), np.array([0, 1]), np.array([1, 0]), learning_rate=0.0)


# ---------------------------------------------------------------------------------------------- preferences
def test_behaviour_preferences_loser_uniform_over_other_actions():
    X = np.zeros((5, 2))
    acts = np.array([0, 1, 2, 3, 4])
    data = behaviour_preferences(X, acts, 5, n_repeats=4000, seed=0)
    assert len(data) == 20000
    np.testing.assert_array_equal(data.winners, acts[data.states])
    assert np.all(data.losers != data.winners)
    for a in range(5):
        losers = data.losers[data.winners == a]
        freq = np.bincount(losers, minlength=5) / losers.size
        assert freq[a] == 0
        assert np.all(np.abs(np.delete(freq, a) - 0.25) < 0.03)


def test_value_oracle_preferences_follow_sigmoid():
    q = np.array([[0.0, 1.0], [0.5, 0.5]])
    data = value_oracle_preferences(np.eye(2), q, 40000, beta=2.0, seed=1)
    s0 = data.states == 0
    p_better = np.mean(data.winners[s0] == 1)
    assert abs(p_better - 1 / (1 + np.exp(-2.0))) < 0.015
    s1 = data.states == 1
    assert abs(np.mean(data.winners[s1] == 0) - 0.5) < 0.015
    det = value_oracle_preferences(np.eye(2), q, 1000, seed=2)
    assert np.all(det.winners[det.states == 0] == 1)


def test_guideline_rule_relevance_and_precision_recall():
    rule = GuidelineRule.from_terms(["a", "b", "c", "d"], 2, {"b": [1.0, -1.0], "d": [0.0, 2.0]})
    np.testing.assert_array_equal(rule.relevant, [False, True, False, True])
    assert rule.relevant_names == ("b", "d")
    np.testing.assert_array_equal(rule.best_decisions(np.array([[0, 1, 0, 0], [0, 0, 0, 1.0]])), [0, 1])
    masks = np.array([[True, True, False, False], [False, True, False, True], [False, False, False, False]])
    precision, recall = evidence_precision_recall(masks, rule.relevant)
    assert precision == pytest.approx((0.5 + 1.0) / 2)
    assert recall == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    with pytest.raises(InvalidInstanceError, match="terms"):
        GuidelineRule.from_terms(["a"], 2, {"z": [1.0, 0.0]})


def test_preference_data_validation_and_accuracy_helper():
    with pytest.raises(InvalidInstanceError, match="losers"):
        PreferenceData(np.ones((2, 2)), np.array([0, 1]), np.array([0, 0]), np.array([0, 1]))
    judge = LinearJudge(np.array([[1.0, 0.0], [0.0, 1.0]]))
    x = np.array([[2.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    acc = judge_accuracy(judge, x, np.array([0, 1, 0]), np.array([1, 0, 1]), np.ones((3, 2), bool))
    assert acc == pytest.approx((1 + 1 + 0.5) / 3)


@given(st.integers(1, 7), st.integers(2, 5), st.sampled_from([(), (6,), (5, 3)]), st.booleans(), st.data())
def test_score_masks_fast_path_matches_score(F, D, hidden, ideal, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = rng.normal(size=F)
    masks = rng.random((9, F)) < 0.5
    d = rng.choice(D, size=2, replace=False)
    bt = BradleyTerryJudge(F, D, n_evidence=0, hidden=hidden, ideal=ideal, seed=data.draw(st.integers(0, 10)))
    for w in bt.weights:
        w += rng.normal(size=w.shape)
    for b in bt.biases:
        b += rng.normal(size=b.shape)
    lin = LinearJudge(rng.normal(size=(D, F)), rng.normal(size=D))
    for judge in (bt, lin):
        fast = judge.score_masks(x, masks, d)
        for j in range(2):
            slow = judge.score(np.broadcast_to(x, masks.shape), masks, np.full(9, d[j]))
            np.testing.assert_allclose(fast[:, j], slow, rtol=1e-10, atol=1e-10)
