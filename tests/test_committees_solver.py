"""best_committee / greedy_committee against an independent brute-force oracle, and their properties."""

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mechsim.solvers.committee as committee_module
from mechsim.committees import rules
from mechsim.committees.rankings import random_groups, sample_rankings
from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.solvers.committee import best_committee, check_group_bounds, greedy_committee
from mechsim.testing import committee_instances, rankings_profiles

# every registered rule (through its example name: 2-Bloc, 2-CC, 3-PAV for the families), then custom ones
ALL_RULES = [rules.rule_from_name(entry.example) for entry in rules.RULES.values()] + [
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
        assert c.value == pytest.approx(expected, rel=1e-9, abs=1e-9), method
        assert c.value == pytest.approx(oracle_score(rankings, c.members, rule, weights), abs=1e-9)
    g = greedy_committee(rankings, k, rule, groups, bounds, weights)
    assert _feasible(g.members, groups, bounds) and g.members.size == k
    assert g.value <= expected + 1e-9


@settings(max_examples=25)
@given(inst=committee_instances(max_voters=6, max_items=7, with_bounds=True),
       rule=st.sampled_from([rules.borda_cc(), rules.harmonic_borda(), rules.k_borda(), rules.sntv()]))
def test_constraints_never_raise_the_optimum(inst, rule):
    rankings, k, groups, bounds = inst
    free = best_committee(rankings, k, rule, method="ilp").value
    constrained = best_committee(rankings, k, rule, groups, bounds, method="ilp").value
    assert constrained <= free + 1e-9
    # tightening one bound further never helps either
    g = next(iter(bounds), None)
    if g is not None:
        c = best_committee(rankings, k, rule, groups, bounds, method="ilp")
        tight = dict(bounds)
        n_g = int(np.sum(groups[c.members] == g))
        tight[g] = (n_g, n_g)
        assert best_committee(rankings, k, rule, groups, tight).value == pytest.approx(constrained)


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
    assert b.value == pytest.approx(a.value)
    # the image of a's committee is optimal for the relabelled profile
    assert oracle_score(relabelled, perm[a.members], rule) == pytest.approx(b.value)


@pytest.mark.parametrize("culture", ["impartial", "mallows", "single_peaked"])
def test_separable_path_equals_ilp_at_moderate_size(culture):
    r = sample_rankings(culture, 30, 15, seed=4)
    groups = random_groups(15, seed=5)
    for rule in [rules.k_borda(), rules.sntv(), rules.bloc(4)]:
        for bounds in [None, {1: (3, 3)}, {0: (None, 2)}]:
            a = best_committee(r, 5, rule, groups, bounds, method="separable")
            b = best_committee(r, 5, rule, groups, bounds, method="ilp")
            assert a.value == pytest.approx(b.value)


def test_ilp_at_paper_size_beats_greedy_and_respects_bounds():
    r = sample_rankings("norm_mallows", 40, 30, seed=1, norm_phi=0.4)
    groups = random_groups(30, seed=2)
    for rule in [rules.borda_cc(), rules.harmonic_borda()]:
        c = best_committee(r, 6, rule, groups, {1: (3, 3)})
        assert c.method == "ilp" and np.sum(groups[c.members] == 1) == 3
        assert greedy_committee(r, 6, rule, groups, {1: (3, 3)}).value <= c.value + 1e-9
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
    assert a.value == pytest.approx(b.value)


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


# ---------------------------------------------------------------------------------------------------
# CC-type rules: the lazy single-chain path

CC_RULES = [rules.borda_cc(), rules.approval_cc(2),
            rules.CommitteeScoringRule(lambda m: 1.0 / (1.0 + np.arange(m)) - 1.0 / m,
                                       lambda k: np.r_[2.5, np.zeros(k - 1)], name="harmonic-gamma CC")]
CC_IDS = [r.name for r in CC_RULES]


@contextlib.contextmanager
def initial_cc_depth(depth):
    """Force the lazy path's initial depth (a plain context manager: hypothesis re-runs the body)."""
    saved = committee_module._CC_INITIAL_DEPTH
    committee_module._CC_INITIAL_DEPTH = depth
    try:
        yield
    finally:
        committee_module._CC_INITIAL_DEPTH = saved


def solve_ilp(rankings, k, rule, groups=None, bounds=None, weights=None, formulation="auto", time_limit=None):
    """(Committee, rounds) from the ILP path with the given formulation."""
    r, k, rule, w, gb = committee_module._prepare(rankings, k, rule, groups, bounds, weights)
    return committee_module._ilp_committee(r, k, rule, w, gb, time_limit, formulation)


def test_cc_rules_take_the_lazy_path_only_when_lambda_is_first_only():
    lam = committee_module._is_cc_type
    assert lam(rules.borda_cc().owa_vector(3)) and lam(rules.approval_cc(2).owa_vector(2))
    assert not lam(rules.borda_cc().owa_vector(1))          # k = 1: nothing to gain
    assert not lam(rules.harmonic_borda().owa_vector(3)) and not lam(rules.k_borda().owa_vector(3))
    with pytest.raises(InvalidInstanceError, match="formulation: 'cc' needs"):
        solve_ilp(sample_rankings("impartial", 4, 5, seed=0), 2, rules.harmonic_borda(), formulation="cc")


@pytest.mark.parametrize("depth", [None, 1, 2])
@pytest.mark.parametrize("rule", CC_RULES, ids=CC_IDS)
@settings(max_examples=12)
@given(inst=committee_instances(max_voters=6, max_items=7), data=st.data())
def test_lazy_cc_matches_brute_force(rule, depth, inst, data):
    rankings, k, groups, bounds = inst
    k = max(k, 2) if rankings.shape[1] >= 2 else k
    if bounds and sum(lo or 0 for lo, _ in bounds.values()) > k:
        return
    weights = data.draw(st.one_of(st.none(), st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]),
                                                      min_size=len(rankings), max_size=len(rankings))))
    weights = None if weights is None else np.asarray(weights)
    try:
        expected = oracle_best(rankings, k, rule, groups, bounds, weights)
        with initial_cc_depth(depth):
            c, rounds = solve_ilp(rankings, k, rule, groups, bounds, weights)
            public = best_committee(rankings, k, rule, groups, bounds, weights, method="ilp")
    except InfeasibleError:
        return  # raising k to 2 can make the drawn bounds infeasible; check_group_bounds is tested above
    assert rounds >= 1 and c.members.size == k and _feasible(c.members, groups, bounds)
    assert c.value == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert c.value == pytest.approx(oracle_score(rankings, c.members, rule, weights), abs=1e-9)
    assert public.value == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("rule", CC_RULES, ids=CC_IDS)
@pytest.mark.parametrize("bounds", [None, {1: (2, 2)}, {0: (None, 1)}])
def test_lazy_cc_with_depth_one_needs_several_rounds_and_stays_exact(rule, bounds):
    r = sample_rankings("impartial", 30, 12, seed=0)
    groups = random_groups(12, seed=3)
    with initial_cc_depth(1):
        c, rounds = solve_ilp(r, 3, rule, groups if bounds else None, bounds)
    # 2-approval CC has a single needed prefix (depth 1 is the whole model); the others need more rounds
    assert rounds == 1 if rule.name == "2-CC" else rounds > 1
    assert c.value == pytest.approx(oracle_best(r, 3, rule, groups, bounds))


@pytest.mark.parametrize("culture, params", [("impartial", {}), ("norm_mallows", {"norm_phi": 0.6}),
                                             ("urn", {"alpha": 0.3}), ("single_peaked", {})])
def test_lazy_cc_equals_general_prefix_ilp(culture, params):
    m, n = 20, 30
    r = sample_rankings(culture, n, m, seed=7, **params)
    groups = random_groups(m, seed=8)
    weights = np.random.default_rng(9).integers(1, 4, size=n)
    for rule in CC_RULES:
        for bounds in [None, {1: (3, 3)}]:
            for depth in [None, 1]:
                with initial_cc_depth(depth):
                    lazy, _ = solve_ilp(r, 5, rule, groups if bounds else None, bounds, weights)
                full, rounds = solve_ilp(r, 5, rule, groups if bounds else None, bounds, weights, "prefix")
                assert rounds == 1 and lazy.method == full.method == "ilp"
                assert lazy.value == pytest.approx(full.value, rel=1e-12), (rule.name, bounds, depth)
                assert _feasible(lazy.members, groups, bounds)


def test_lazy_cc_is_deterministic_and_reports_solver_time():
    r = sample_rankings("impartial", 40, 20, seed=2)
    with initial_cc_depth(1):
        a, ra = solve_ilp(r, 4, rules.borda_cc())
        b, rb = solve_ilp(r.copy(), 4, rules.borda_cc())
    assert a.members.tolist() == b.members.tolist() and ra == rb
    assert a.solve_time > 0


def test_lazy_cc_time_limit_raises_solver_error():
    r = sample_rankings("impartial", 100, 50, seed=0)
    with pytest.raises(SolverError) as info:
        best_committee(r, 10, rules.borda_cc(), method="ilp", time_limit=0.05)
    assert "time limit" in str(info.value.status).lower()


def test_lazy_cc_time_limit_counts_every_round():
    # a stand-in solver that reports 3 s per round: with a 5 s limit the third round must not start
    real = committee_module._solve_model
    calls = []

    def slow_clock(*args, **kwargs):
        y, objective, _, status = real(*args, **kwargs)
        calls.append(1)
        return y, objective, 3.0, status

    r = sample_rankings("impartial", 30, 12, seed=0)
    with initial_cc_depth(1):
        _, rounds = solve_ilp(r, 3, rules.borda_cc())
        assert rounds > 2
        committee_module._solve_model = slow_clock
        try:
            with pytest.raises(SolverError, match="time limit") as info:
                solve_ilp(r, 3, rules.borda_cc(), time_limit=5.0)
        finally:
            committee_module._solve_model = real
    assert len(calls) == 2 and info.value.status == "Time limit reached"
