"""Exact debate minimax and best response against brute-force enumeration of reveal sequences."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim.debate.judges import ConstantJudge, LinearJudge, debate_outcome
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.learners.debaters import RandomDebater
from mechsim.solvers.debate import (
    best_response,
    brute_force_best_response,
    brute_force_debate_value,
    enumerate_reveal_sequences,
    isolated_plan,
    leaf_outcomes,
    mover_at,
    policy_value,
    solve_debate,
    subgame_values,
)
from mechsim.testing import debate_games
from mechsim.testing.debate import fixed_random_policy


@given(debate_games())
def test_minimax_matches_brute_force(game):
    for fm in (None, 0, 1):
        exact = solve_debate(game.judge, game.features, game.decisions, game.n_evidence, fm)
        brute = brute_force_debate_value(game.judge, game.features, game.decisions, game.n_evidence, fm)
        assert exact.value == brute


@given(debate_games(integer=False, with_bias=True))
def test_minimax_matches_brute_force_real_weights(game):
    exact = solve_debate(game.judge, game.features, game.decisions, game.n_evidence)
    assert exact.value == brute_force_debate_value(game.judge, game.features, game.decisions, game.n_evidence)


@given(debate_games())
def test_value_antisymmetric_under_swapped_decisions(game):
    a1, a2 = game.decisions
    out = solve_debate(game.judge, game.features, (a1, a2), game.n_evidence)
    swapped = solve_debate(game.judge, game.features, (a2, a1), game.n_evidence)
    assert swapped.value == -out.value
    # Swapping roles also swaps who moves first.
    assert swapped.values_by_first_mover == (-out.values_by_first_mover[1], -out.values_by_first_mover[0])


@given(debate_games())
def test_principal_line_realises_the_value(game):
    for fm in (0, 1):
        out = solve_debate(game.judge, game.features, game.decisions, game.n_evidence, fm)
        line = out.principal_line
        assert len(line) == game.n_evidence == len(set(line))
        mask = np.zeros(game.n_features, dtype=bool)
        mask[list(line)] = True
        realised = debate_outcome(game.judge, game.features, mask, *game.decisions)[0]
        assert realised == out.value
        assert out.value in (-1.0, 0.0, 1.0)
        assert out.lines_by_first_mover[fm] == line
        assert out.values_by_first_mover[1 - fm] is None


@given(debate_games())
def test_ignoring_judge_gives_ties(game):
    out = solve_debate(ConstantJudge(), game.features, game.decisions, game.n_evidence)
    assert out.value == 0.0 and out.values_by_first_mover == (0.0, 0.0)


def test_hand_example_first_mover_matters():
    judge = LinearJudge(np.array([[1.0, 0.0], [0.0, 1.0]]))
    out = solve_debate(judge, [1.0, 2.0], (0, 1), 1)
    assert out.values_by_first_mover == (1.0, -1.0) and out.value == 0.0
    assert out.lines_by_first_mover == ((0,), (1,))
    assert solve_debate(judge, [1.0, 2.0], (0, 1), 2).value == -1.0
    assert solve_debate(judge, [1.0, 2.0], (0, 1), 0).value == 0.0  # nothing revealed: both score 0


def test_odd_number_of_reveals_gives_first_mover_the_extra_one():
    assert [mover_at(k, 0) for k in range(3)] == [0, 1, 0]
    assert [mover_at(k, 1) for k in range(3)] == [1, 0, 1]
    # Three features each supporting decision 0 only when revealed by it, L = 3: debater 0 moving first
    # reveals two of them, debater 1 only one.
    judge = LinearJudge(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    x = np.array([1.0, 1.0, 1.5, 0.4])
    out = solve_debate(judge, x, (0, 1), 3)
    assert out.values_by_first_mover == (1.0, -1.0)


def test_leaf_outcomes_match_judge_on_every_set():
    rng = np.random.default_rng(3)
    F, L = 7, 3
    judge = LinearJudge(rng.normal(size=(3, F)))
    x = rng.normal(size=F)
    leaves = leaf_outcomes(judge, x, (2, 0), L)
    combos = list(itertools.combinations(range(F), L))
    assert leaves.shape == (len(combos),)
    masks = np.zeros((len(combos), F), dtype=bool)
    for i, c in enumerate(combos):
        masks[i, list(c)] = True
    direct = debate_outcome(judge, np.broadcast_to(x, masks.shape), masks, 2, 0)
    # leaves are in colex order; compare as multisets keyed by set
    from math import comb
    ranks = [sum(comb(c_i, i + 1) for i, c_i in enumerate(c)) for c in combos]
    np.testing.assert_array_equal(leaves[ranks], direct)


def test_larger_game_against_brute_force():
    rng = np.random.default_rng(11)
    F = 12
    judge = LinearJudge(rng.normal(size=(4, F)))
    for _trial in range(3):
        x = rng.normal(size=F)
        for L in (2, 3):
            assert (solve_debate(judge, x, (0, 3), L).value
                    == brute_force_debate_value(judge, x, (0, 3), L))


def test_forty_four_features_four_reveals_is_consistent():
    rng = np.random.default_rng(0)
    F = 44
    judge = LinearJudge(rng.normal(size=(25, F)))
    x = rng.normal(size=F)
    out = solve_debate(judge, x, (3, 7), 4)
    assert out.n_leaves == 135751
    for fm in (0, 1):
        mask = np.zeros(F, dtype=bool)
        mask[list(out.lines_by_first_mover[fm])] = True
        assert debate_outcome(judge, x, mask, 3, 7)[0] == out.values_by_first_mover[fm]
    swapped = solve_debate(judge, x, (7, 3), 4)
    assert swapped.value == -out.value


def test_enumerate_reveal_sequences_counts():
    seqs = list(enumerate_reveal_sequences(5, 3))
    assert len(seqs) == 60 and len(set(seqs)) == 60
    assert all(len(set(s)) == 3 for s in seqs)


# ---------------------------------------------------------------------------------------------- policies


def _random_deterministic_policy(seed):
    stochastic = fixed_random_policy(seed)

    def policy(features, revealed, own, other):
        return np.argmax(stochastic(features, revealed, own, other), axis=1)
    return policy


@given(debate_games(max_features=5, max_evidence=4), st.integers(0, 1000), st.sampled_from([0, 1]),
       st.sampled_from([None, 0, 1]))
def test_best_response_matches_brute_force(game, seed, responder, fm):
    policy = fixed_random_policy(seed)
    exact = best_response(game.judge, game.features, game.decisions, game.n_evidence, policy, responder, fm)
    brute = brute_force_best_response(game.judge, game.features, game.decisions, game.n_evidence, policy,
                                      responder, fm)
    assert exact.value == pytest.approx(brute, abs=1e-12)
    assert exact.responder == responder


@given(debate_games(max_features=5, max_evidence=4), st.integers(0, 1000), st.integers(0, 1000))
def test_confuser_never_worse_than_any_fixed_debater(game, seed_fixed, seed_other):
    fixed = fixed_random_policy(seed_fixed)
    minimax = solve_debate(game.judge, game.features, game.decisions, game.n_evidence).value
    for responder in (0, 1):
        br = best_response(game.judge, game.features, game.decisions, game.n_evidence, fixed, responder).value
        policies = [None, None]
        policies[1 - responder] = fixed
        for s in range(3):
            policies[responder] = (_random_deterministic_policy(seed_other + s) if s < 2
                                   else fixed_random_policy(seed_other))
            v = policy_value(game.judge, game.features, game.decisions, game.n_evidence, policies)
            assert (v <= br + 1e-12) if responder == 0 else (v >= br - 1e-12)
        # A best response to a possibly suboptimal opponent is at least the minimax value.
        assert (br >= minimax - 1e-12) if responder == 0 else (br <= minimax + 1e-12)


def test_best_response_to_minimax_policy_is_the_minimax_value():
    rng = np.random.default_rng(5)
    F, L = 6, 4
    judge = LinearJudge(rng.integers(-2, 3, size=(3, F)).astype(float))
    x = rng.integers(-2, 3, size=F).astype(float)
    decisions = (0, 2)

    def minimax_policy(first_mover):
        def policy(features, revealed, own, other):
            picks = []
            for row in revealed:
                k = int(row.sum())
                best, best_f = None, None
                for f in np.flatnonzero(~row):
                    seq_mask = row.copy()
                    seq_mask[f] = True
                    v = _subgame_value(judge, x, decisions, L, first_mover, seq_mask)
                    player = mover_at(k, first_mover)
                    better = best is None or (v > best if player == 0 else v < best)
                    if better:
                        best, best_f = v, int(f)
                picks.append(best_f)
            return np.array(picks, dtype=np.int64)
        return policy

    for fm in (0, 1):
        v = solve_debate(judge, x, decisions, L, fm).value
        for responder in (0, 1):
            br = best_response(judge, x, decisions, L, minimax_policy(fm), responder, fm)
            assert br.value == v


def _subgame_value(judge, x, decisions, L, fm, revealed):
    k = int(revealed.sum())
    if k == L:
        return float(debate_outcome(judge, x, revealed, *decisions)[0])
    vals = []
    for f in np.flatnonzero(~revealed):
        nxt = revealed.copy()
        nxt[f] = True
        vals.append(_subgame_value(judge, x, decisions, L, fm, nxt))
    return max(vals) if mover_at(k, fm) == 0 else min(vals)


def test_policy_value_of_two_deterministic_policies_is_their_leaf():
    rng = np.random.default_rng(2)
    F, L = 6, 4
    judge = LinearJudge(rng.normal(size=(2, F)))
    x = rng.normal(size=F)

    def lowest(features, revealed, own, other):
        return np.argmax(~revealed, axis=1)
    mask = np.zeros(F, dtype=bool)
    mask[:L] = True
    expected = debate_outcome(judge, x, mask, 0, 1)[0]
    assert policy_value(judge, x, (0, 1), L, (lowest, lowest), first_mover=0) == expected
    assert policy_value(judge, x, (0, 1), L, (lowest, lowest)) == expected


# ---------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, argument", [
    (dict(n_evidence=5), "n_evidence"),
    (dict(decisions=(0, 1, 2)), "decisions"),
    (dict(decisions=(0.5, 1.0)), "decisions"),
    (dict(first_mover=2), "first_mover"),
    (dict(features=np.zeros((2, 4))), "features"),
    (dict(features=[0.0, np.nan, 1.0, 2.0]), "features"),
])
def test_bad_input_names_the_argument(kwargs, argument):
    args = dict(judge=LinearJudge(np.ones((2, 4))), features=np.zeros(4), decisions=(0, 1), n_evidence=2)
    args.update(kwargs)
    with pytest.raises(InvalidInstanceError, match=argument):
        solve_debate(**args)


def test_bad_policy_is_rejected():
    judge = LinearJudge(np.ones((2, 4)))

    def reveals_revealed(features, revealed, own, other):
        return np.zeros(revealed.shape[0], dtype=np.int64)
    with pytest.raises(InvalidInstanceError, match="policy"):
        best_response(judge, np.ones(4), (0, 1), 3, reveals_revealed, 0)

    def not_normalised(features, revealed, own, other):
        return (~revealed).astype(float)
    with pytest.raises(InvalidInstanceError, match="policy"):
        best_response(judge, np.ones(4), (0, 1), 2, not_normalised, 1)


def test_judge_returning_wrong_shape_is_rejected():
    class Broken:
        def score(self, features, mask, decisions):
            return np.zeros(3)
    with pytest.raises(InvalidInstanceError, match="judge"):
        solve_debate(Broken(), np.ones(4), (0, 1), 2)


@given(debate_games(max_features=5, max_evidence=3), st.sampled_from([0, 1]))
def test_game_tree_matches_solver(game, fm):
    from math import comb

    import networkx as nx

    from mechsim.solvers.debate import debate_game_tree
    g = debate_game_tree(game.judge, game.features, game.decisions, game.n_evidence, fm)
    out = solve_debate(game.judge, game.features, game.decisions, game.n_evidence, fm)
    assert nx.is_directed_acyclic_graph(g)
    assert g.number_of_nodes() == sum(comb(game.n_features, k) for k in range(game.n_evidence + 1))
    assert g.nodes[()]["value"] == out.value
    # Following optimal edges from the root along the principal line stays optimal.
    node = ()
    for f in out.principal_line:
        child = tuple(sorted(node + (f,)))
        assert g.edges[node, child]["optimal"]
        node = child
    for node, data in g.nodes(data=True):
        if data["level"] == game.n_evidence:
            mask = np.zeros(game.n_features, dtype=bool)
            mask[list(node)] = True
            assert data["value"] == debate_outcome(game.judge, game.features, mask, *game.decisions)[0]


def test_games_too_large_for_memory_are_refused():
    judge = LinearJudge(np.ones((2, 44)))
    with pytest.raises(InvalidInstanceError, match="max_leaves"):
        solve_debate(judge, np.ones(44), (0, 1), 10)
    with pytest.raises(InvalidInstanceError, match="max_leaves"):
        solve_debate(judge, np.ones(44), (0, 1), 3, max_leaves=1000)


def test_memory_guard_refuses_huge_trees_before_allocating():
    """Issue 12: C(F, L) leaves are estimated and refused against the memory limit (check_allocation)."""
    from mechsim.solvers.debate import tree_bytes
    from mechsim.validation import set_memory_limit

    judge = LinearJudge(np.ones((2, 44)))
    set_memory_limit("1MB")
    try:
        with pytest.raises(InvalidInstanceError, match=r"n_evidence: expected a size whose memory fits") as err:
            solve_debate(judge, np.ones(44), (0, 1), 4)
        assert "C(44, 4) = 135751" in str(err.value)
        solve_debate(judge, np.ones(44), (0, 1), 2)  # 947 sets fit
    finally:
        set_memory_limit(None)
    assert tree_bytes(44, 4) > 10**8 > tree_bytes(44, 2)
    with pytest.raises(InvalidInstanceError, match="max_leaves"):
        solve_debate(judge, np.ones(44), (0, 1), 2, max_leaves=2.5)


# ---------------------------------------------------------------------------------- judge and game agree
class _SizedJudge:
    """A custom judge (no fast path) that declares its sizes."""

    n_features, n_decisions = 4, 3

    def score(self, features, mask, decisions):
        return np.where(mask, features, 0.0).sum(axis=1) * (np.asarray(decisions) - 1)


@pytest.mark.parametrize("judge, kwargs, argument", [
    (LinearJudge(np.ones((2, 4))), dict(features=np.zeros(5)), "features: expected 4 features"),
    (LinearJudge(np.ones((2, 4))), dict(decisions=(0, 2)), "decisions: expected .* in \\[0, 2\\)"),
    (_SizedJudge(), dict(decisions=(3, 0)), "decisions"),
    (_SizedJudge(), dict(features=np.zeros(3), n_evidence=1), "features"),
    (None, {}, "judge"),
    ("a judge", {}, "judge"),
])
def test_judge_features_and_decisions_are_checked_against_each_other(judge, kwargs, argument):
    """Issue 12: solve_debate validated the game but not against the judge (IndexError, broadcast errors)."""
    args = {**dict(features=np.arange(4.0), decisions=(0, 1), n_evidence=2), **kwargs}
    for solver, extra in ((solve_debate, {}), (best_response, dict(policy=RandomDebater(), responder=1)),
                          (isolated_plan, {}), (subgame_values, dict(first_mover=0)),
                          (policy_value, dict(policies=(RandomDebater(), RandomDebater())))):
        with pytest.raises(InvalidInstanceError, match=argument):
            solver(judge, **args, **extra)


def test_a_judge_that_raises_gives_a_typed_error():
    class Raises:
        def score(self, features, mask, decisions):
            return {}["boom"]
    with pytest.raises(InvalidInstanceError, match="judge: .*raised KeyError") as err:
        solve_debate(Raises(), np.ones(4), (0, 1), 2)
    assert isinstance(err.value.__cause__, KeyError)


# ---------------------------------------------------------------------------------------- verification
class _InconsistentJudge:
    """Its fast path (score_masks) reverses the verdict of score(): the solver's self-check must notice."""

    def __init__(self):
        self.inner = LinearJudge(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))

    def score(self, features, mask, decisions):
        return self.inner.score(features, mask, decisions)

    def score_masks(self, features, masks, decisions):
        return -self.inner.score_masks(features, masks, decisions)


def test_solvers_verify_what_they_return():
    """Issue 12: the principal line's leaf must realise the value (scored again through judge.score)."""
    x = np.array([3.0, 1.0, 0.0])
    for call in (lambda j: solve_debate(j, x, (0, 1), 2), lambda j: subgame_values(j, x, (0, 1), 2, 0),
                 lambda j: isolated_plan(j, x, (0, 1), 2)):
        call(_InconsistentJudge().inner)  # the consistent judge passes
        with pytest.raises(SolverError, match="verification_failed"):
            call(_InconsistentJudge())
    from mechsim.solvers.debate import debate_win_table

    debate_win_table(_InconsistentJudge().inner, x[None], np.array([1]), 2, n_decisions=2)


def test_best_response_plan_is_checked(monkeypatch):
    """The responder's plan, evaluated against the policy, must reach the best-response value."""
    import mechsim.solvers.debate as sd

    x = np.array([3.0, 1.0, 0.0, -2.0])
    judge = LinearJudge(np.array([[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 1.0]]))
    out = best_response(judge, x, (0, 1), 2, fixed_random_policy(1), responder=1)
    assert -1 <= out.value <= 1
    original = sd._plan_operators

    def worst_plan(tree, values, n_evidence, first_mover, responder, fixed):
        return original(tree, tuple(-v for v in values), n_evidence, first_mover, responder, fixed)
    monkeypatch.setattr(sd, "_plan_operators", worst_plan)
    with pytest.raises(SolverError, match="best_response .*plan"):
        best_response(judge, x, (0, 1), 2, fixed_random_policy(1), responder=1)
