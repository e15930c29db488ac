"""Rules, rankings and vectorised scores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.committees import rules
from mechsim.committees.rankings import (
    check_rankings,
    merge_rankings,
    positions,
    random_groups,
    sample_rankings,
)
from mechsim.committees.scores import (
    committee_score,
    committee_scores,
    singleton_scores,
    voter_scores,
)
from mechsim.errors import InvalidInstanceError
from mechsim.testing import rankings_profiles


def test_builtin_vectors():
    assert rules.k_borda().gamma(4).tolist() == [3, 2, 1, 0]
    assert rules.sntv().gamma(3).tolist() == [1, 0, 0]
    assert rules.bloc(2).gamma(4).tolist() == [1, 1, 0, 0]
    assert rules.borda_cc().owa_vector(3).tolist() == [1, 0, 0]
    assert rules.harmonic_borda().owa_vector(3) == pytest.approx([1, 1 / 2, 1 / 3])
    assert rules.approval_pav(2).gamma(3).tolist() == [1, 1, 0]
    assert [r.is_separable() for r in (rules.sntv(), rules.bloc(3), rules.k_borda())] == [True] * 3
    assert not any(r.is_separable() for r in (rules.borda_cc(), rules.harmonic_borda(), rules.approval_cc(2)))
    assert rules.CommitteeScoringRule(rules.BordaVector(), [2, 2, 2]).is_separable()


def test_rule_from_name():
    assert rules.rule_from_name("10-Bloc").name == "10-Bloc"
    assert rules.rule_from_name("borda").name == "k-Borda"
    assert rules.rule_from_name("harmonic_borda").name == "harmonic Borda"
    assert rules.rule_from_name("3-pav").gamma(4).tolist() == [1, 1, 1, 0]
    with pytest.raises(InvalidInstanceError, match="rule: expected"):
        rules.rule_from_name("copeland")


def test_rule_validation():
    with pytest.raises(InvalidInstanceError, match="non-increasing"):
        rules.CommitteeScoringRule([0, 1, 2], [1]).gamma(3)
    with pytest.raises(InvalidInstanceError, match="vector was given for length 3"):
        rules.CommitteeScoringRule([2, 1, 0], [1]).gamma(4)
    with pytest.raises(InvalidInstanceError, match="finite"):
        rules.CommitteeScoringRule([np.inf, 1, 0], [1]).gamma(3)
    with pytest.raises(InvalidInstanceError, match="l: expected an integer >= 1"):
        rules.bloc(0)


def test_rules_pickle():
    import pickle

    for r in (rules.sntv(), rules.bloc(3), rules.borda_cc(), rules.harmonic_borda()):
        s = pickle.loads(pickle.dumps(r))
        assert s.gamma(5).tolist() == r.gamma(5).tolist() and s.name == r.name


def test_hand_computed_scores():
    r = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    assert committee_score(r, [0, 3], rules.k_borda()) == 6.0          # (3+0) + (0+3)
    assert committee_score(r, [0, 3], rules.borda_cc()) == 6.0         # 3 + 3
    assert committee_score(r, [1, 2], rules.borda_cc()) == 4.0         # 2 + 2
    assert committee_score(r, [1, 2], rules.harmonic_borda()) == 5.0   # per voter 2 + 1/2 * 1
    assert committee_score(r, [0, 1], rules.sntv()) == 1.0
    assert committee_score(r, [0, 1], rules.bloc(2), weights=[2, 1]) == 4.0


@settings(max_examples=30)
@given(rankings=rankings_profiles(max_items=7), data=st.data())
def test_vectorised_scores_match_loop(rankings, data):
    n, m = rankings.shape
    k = data.draw(st.integers(1, m))
    members = sorted(data.draw(st.permutations(list(range(m))))[:k])
    rule = data.draw(st.sampled_from([rules.borda_cc(), rules.harmonic_borda(), rules.bloc(2), rules.sntv()]))
    gamma, lam = rule.gamma(m), rule.owa_vector(k)
    expected = [sum(lam[j] * gamma[p] for j, p in enumerate(sorted(list(row).index(c) for c in members)))
                for row in rankings]
    assert voter_scores(rankings, members, rule) == pytest.approx(expected)
    assert committee_scores(rankings, [members, members], rule) == pytest.approx([sum(expected)] * 2)
    if rule.is_separable():
        assert singleton_scores(rankings, rule, k=k)[members].sum() == pytest.approx(sum(expected))


@settings(max_examples=30)
@given(rankings=rankings_profiles(max_items=6))
def test_positions_invert_rankings_and_merge_keeps_weight(rankings):
    pos = positions(rankings)
    rows = np.arange(rankings.shape[0])[:, None]
    assert np.all(rankings[rows, pos] == np.arange(rankings.shape[1]))
    unique, w = merge_rankings(rankings)
    assert w.sum() == rankings.shape[0] and len(np.unique(unique, axis=0)) == len(unique)


@pytest.mark.parametrize("bad, match", [
    ([[0, 0, 1]], "repeating item"), ([[0, 1, 5]], "item indices in 0..2"), ([[0.5, 1, 2]], "non-integer"),
    (np.zeros((0, 3), dtype=int), "at least one ranking"), ([["a", "b"]], "integer array"),
])
def test_check_rankings_errors(bad, match):
    with pytest.raises(InvalidInstanceError, match=match):
        check_rankings(bad)


def test_members_validation():
    r = np.array([[0, 1, 2]])
    with pytest.raises(InvalidInstanceError, match="distinct"):
        committee_score(r, [1, 1], rules.k_borda())
    with pytest.raises(InvalidInstanceError, match="item indices in 0..2"):
        committee_score(r, [3], rules.k_borda())


@pytest.mark.parametrize("culture, params", [("impartial", {}), ("mallows", {"phi": 0.3}),
                                             ("norm_mallows", {"norm_phi": 0.5}), ("urn", {"alpha": 0.2}),
                                             ("single_peaked", {}), ("plackett_luce", {}),
                                             ("plackett_luce", {"alphas": [5, 4, 3, 2, 1, 1]})])
def test_cultures_are_seeded_and_valid(culture, params):
    a = sample_rankings(culture, 20, 6, seed=11, **params)
    b = sample_rankings(culture, 20, 6, seed=11, **params)
    assert a.shape == (20, 6) and np.array_equal(a, b)
    check_rankings(a)


def test_mallows_low_dispersion_concentrates():
    r = sample_rankings("mallows", 50, 8, seed=0, phi=0.05)
    assert len(np.unique(r, axis=0)) < 25


def test_culture_errors():
    with pytest.raises(InvalidInstanceError, match="culture: expected one of"):
        sample_rankings("gaussian", 3, 3)
    with pytest.raises(InvalidInstanceError, match="unexpected"):
        sample_rankings("impartial", 3, 3, phi=0.3)
    with pytest.raises(InvalidInstanceError, match="phi: expected values <= 1"):
        sample_rankings("mallows", 3, 3, phi=2.0)


def test_random_groups():
    g = random_groups(10, seed=1)
    assert g.sum() == 5 and np.array_equal(g, random_groups(10, seed=1))


@pytest.mark.parametrize("phi", [0.2, 0.6, 1.0])
def test_mallows_sampler_matches_the_model(phi):
    import itertools

    from mechsim.committees.rankings import mallows_rim

    central = np.array([2, 0, 3, 1])
    draws = mallows_rim(40000, 4, phi, central, np.random.default_rng(0))
    perms = list(itertools.permutations(range(4)))
    where = {c: i for i, c in enumerate(central)}

    def kendall(p):
        ranks = [where[c] for c in p]
        return sum(ranks[a] > ranks[b] for a in range(4) for b in range(a + 1, 4))

    weights = np.array([phi ** kendall(p) for p in perms])
    expected = weights / weights.sum()
    index = {p: i for i, p in enumerate(perms)}
    observed = np.bincount([index[tuple(row)] for row in draws.tolist()], minlength=24) / len(draws)
    assert np.max(np.abs(observed - expected)) < 0.01
