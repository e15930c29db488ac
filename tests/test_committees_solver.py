"""best_committee / greedy_committee against an independent brute-force oracle, and their properties."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mechsim.solvers.committee import best_committee, check_group_bounds, greedy_committee

from mechsim.committees import rules
from mechsim.committees.rankings import random_groups, sample_rankings
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.testing import committee_instances, rankings_profiles

ALL_RULES = [rules.sntv(), rules.bloc(2), rules.k_borda(), rules.borda_cc(), rules.approval_cc(2),
             rules.approval_pav(3), rules.harmonic_borda(),
             rules.CommitteeScoringRule(rules.BordaVector(), rules.HarmonicVector(), name="custom"),
             rules.CommitteeScoringRule(rules.TopVector(3), lambda k: np.linspace(0.2, 1.0, k),
                                        name="increasing owa"),
             rules.CommitteeScoringRule(rules.BordaVector(), lambda k: 1.0 - np.arange(k), name="negative owa")]
RULE_IDS = [r.name for r in ALL_RULES]


def oracle_score(rankings, members, rule, weights=None):
    """Plain-Python score: for each voter, the members' positions sorted, gamma, lambda."""
    n, m = rankings.shape
    gamma = rule.gamma(m)
    lam = rule.owa_vector(len(members))
    w = np.ones(n) if weights is None else weights
    total = 0.0
    for v in range(n):
        where = {int(c): p for p, c in enumerate(rankings[v])}
        ps = sorted(where[c] for c in members)
        total += w[v] * sum(lam[j] * gamma[p] for j, p in enumerate(ps))
    return total


def oracle_best(rankings, k, rule, groups=None, bounds=None, weights=None):
    m = rankings.shape[1]
    best = -np.inf
    for combo in itertools.combinations(range(m), k):
        if bounds:
            ok = all((lo or 0) <= sum(groups[c] == g for c in combo) <= (k if hi is None else hi)
                     for g, (lo, hi) in bounds.items())
            if not ok:
                continue
        best = max(best, oracle_score(rankings, combo, rule, weights))
    return best


def _feasible(members, groups, bounds):
    return all((lo or 0) <= int(np.sum(groups[members] == g)) <= (len(members) if hi is None else hi)
               for g, (lo, hi) in (bounds or {}).items())


@pytest.mark.parametrize("rule", ALL_RULES, ids=RULE_IDS)
@settings(max_examples=15)
@given(inst=committee_instances(max_voters=5, max_items=6), data=st.data())
def test_exact_methods_match_brute_force(rule, inst, data):
    rankings, k, groups, bounds = inst
    weights = data.draw(st.one_of(st.none(), st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]),
                                                      min_size=len(rankings), max_size=len(rankings))))
    weights = None if weights is None else np.asarray(weights)
    expected = oracle_best(rankings, k, rule, groups, bounds, weights)
    methods = ["ilp", "brute-force", "auto"] + (["separable"] if rule.is_separable(k) else [])
    for method in methods:
        c = best_committee(rankings, k, rule, groups, bounds, weights, method=method)
        assert c.members.size == k and np.all(np.diff(c.members) > 0)
        assert _feasible(c.members, groups, bounds)
        assert c.score == pytest.approx(expected, rel=1e-9, abs=1e-9), method
        assert c.score == pytest.approx(oracle_score(rankings, c.members, rule, weights), abs=1e-9)
    g = greedy_committee(rankings, k, rule, groups, bounds, weights)
    assert _feasible(g.members, groups, bounds) and g.members.size == k
    assert g.score <= expected + 1e-9


@settings(max_examples=25)
@given(inst=committee_instances(max_voters=6, max_items=7, with_bounds=True),
       rule=st.sampled_from([rules.borda_cc(), rules.harmonic_borda(), rules.k_borda(), rules.sntv()]))
def test_constraints_never_raise_the_optimum(inst, rule):
    rankings, k, groups, bounds = inst
    free = best_committee(rankings, k, rule, method="ilp").score
    constrained = best_committee(rankings, k, rule, groups, bounds, method="ilp").score
    assert constrained <= free + 1e-9
    # tightening one bound further never helps either
    g = next(iter(bounds), None)
    if g is not None:
        c = best_committee(rankings, k, rule, groups, bounds, method="ilp")
        tight = dict(bounds)
        n_g = int(np.sum(groups[c.members] == g))
        tight[g] = (n_g, n_g)
        assert best_committee(rankings, k, rule, groups, tight).score == pytest.approx(constrained)


@settings(max_examples=25)
@given(rankings=rankings_profiles(max_voters=6, max_items=7), data=st.data())
def test_relabelling_items_permutes_the_answer(rankings, data):
    m = rankings.shape[1]
    k = data.draw(st.integers(1, m))
    perm = np.asarray(data.draw(st.permutations(list(range(m)))))
    rule = data.draw(st.sampled_from([rules.borda_cc(), rules.harmonic_borda(), rules.k_borda(), rules.bloc(2)]))
    relabelled = perm[rankings]
    a = best_committee(rankings, k, rule, method="ilp")
    b = best_committee(relabelled, k, rule, method="ilp")
    assert b.score == pytest.approx(a.score)
    # the image of a's committee is optimal for the relabelled profile
    assert oracle_score(relabelled, perm[a.members], rule) == pytest.approx(b.score)


@pytest.mark.parametrize("culture", ["impartial", "mallows", "single_peaked"])
def test_separable_path_equals_ilp_at_moderate_size(culture):
    r = sample_rankings(culture, 30, 15, seed=4)
    groups = random_groups(15, seed=5)
    for rule in [rules.k_borda(), rules.sntv(), rules.bloc(4)]:
        for bounds in [None, {1: (3, 3)}, {0: (None, 2)}]:
            a = best_committee(r, 5, rule, groups, bounds, method="separable")
            b = best_committee(r, 5, rule, groups, bounds, method="ilp")
            assert a.score == pytest.approx(b.score)


def test_ilp_at_paper_size_beats_greedy_and_respects_bounds():
    r = sample_rankings("norm_mallows", 40, 30, seed=1, norm_phi=0.4)
    groups = random_groups(30, seed=2)
    for rule in [rules.borda_cc(), rules.harmonic_borda()]:
        c = best_committee(r, 6, rule, groups, {1: (3, 3)})
        assert c.method == "ilp" and np.sum(groups[c.members] == 1) == 3
        assert greedy_committee(r, 6, rule, groups, {1: (3, 3)}).score <= c.score + 1e-9
        assert c.group_counts == {0: 3, 1: 3}


def test_separable_tie_break_prefers_small_indices():
    # SNTV with two voters: items 0 and 3 have 1 point; everything else 0
    r = np.array([[3, 1, 2, 0], [0, 1, 2, 3]])
    assert best_committee(r, 3, rules.sntv()).members.tolist() == [0, 1, 3]
    assert best_committee(r, 1, rules.sntv()).members.tolist() == [0]


def test_results_are_deterministic():
    r = sample_rankings("urn", 30, 12, seed=3, alpha=0.3)
    a = best_committee(r, 4, rules.harmonic_borda(), method="ilp")
    b = best_committee(r.copy(), 4, rules.harmonic_borda(), method="ilp")
    assert a.members.tolist() == b.members.tolist()


def test_merging_identical_rankings_equals_weights():
    r = np.array([[0, 1, 2, 3], [0, 1, 2, 3], [3, 2, 1, 0]])
    a = best_committee(r, 2, rules.borda_cc(), method="ilp")
    b = best_committee(r[[0, 2]], 2, rules.borda_cc(), weights=[2, 1], method="ilp")
    assert a.score == pytest.approx(b.score)


@pytest.mark.parametrize("bounds, match", [
    ({0: (3, None), 1: (2, None)}, "lower bounds sum to 5"),
    ({0: (None, 1), 1: (None, 1)}, "upper bounds .* sum to 2"),
    ({1: (4, 4)}, "group 1 has only 3 items"),
    ({0: (2, 1)}, "lower bound 2 exceeds upper bound 1"),
])
def test_infeasible_bounds_explain_why(bounds, match):
    groups = np.array([0, 0, 0, 1, 1, 1])
    r = sample_rankings("impartial", 3, 6, seed=0)
    with pytest.raises(InfeasibleError, match=match) as info:
        best_committee(r, 4, rules.borda_cc(), groups, bounds)
    assert info.value.status == "infeasible"
    with pytest.raises(InfeasibleError):
        greedy_committee(r, 4, rules.k_borda(), groups, bounds)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "k: expected an integer >= 1"),
    ({"k": 7}, "k: expected an integer <= 6"),
    ({"rankings": [[0, 1, 1, 2, 3, 4]]}, "permutation"),
    ({"rankings": [[0, 1, 2, 3, 4, 9]]}, "item indices in 0..5"),
    ({"rankings": [0, 1, 2]}, "2-dimensional"),
    ({"rule": "nope"}, "rule: expected one of"),
    ({"bounds": {0: (1, 2)}}, "bounds: given without groups"),
    ({"groups": [0, 1], "bounds": None}, "groups: expected shape"),
    ({"groups": [0, 0, 0, 1, 1, 1], "bounds": {5: (0, 1)}}, "keys among the group labels"),
    ({"weights": [1, -1, 1]}, "weights: expected values >= 0"),
    ({"method": "magic"}, "method: expected one of"),
])
def test_validation_errors_name_the_argument(kwargs, match):
    args = {"rankings": sample_rankings("impartial", 3, 6, seed=0), "k": 2, "rule": rules.borda_cc()}
    method = kwargs.pop("method", "auto")
    args.update(kwargs)
    with pytest.raises(InvalidInstanceError, match=match):
        best_committee(method=method, **args)


def test_separable_method_refuses_non_separable_rule():
    with pytest.raises(InvalidInstanceError, match="not separable"):
        best_committee(sample_rankings("impartial", 3, 5, seed=0), 2, rules.borda_cc(), method="separable")


def test_check_group_bounds_without_bounds_is_unconstrained():
    gb = check_group_bounds([0, 1, 1], None, 3, 2)
    assert gb.lower.tolist() == [0, 0] and gb.upper.tolist() == [1, 2]
