"""Exact means exact: every policy solve_cmdp returns meets its limits under exact evaluation, is certified
optimal by its multipliers' dual bound, and does not depend on the units of rewards, costs and limits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.errors import InfeasibleError, SolverError
from mechsim.solvers import cmdp_lp
from mechsim.solvers.cmdp_lp import FEASIBILITY_RTOL, cmdp_frontier, solve_cmdp
from mechsim.testing import finite_cmdps

BACKENDS = ["highspy", "linprog"]


def scaled_model(m: FiniteCMDP, reward_exp: int = 0, cost_exp: int = 0) -> FiniteCMDP:
    return FiniteCMDP(m.transitions, m.reward * 10.0**reward_exp, m.costs * 10.0**cost_exp,
                      m.limits * 10.0**cost_exp, m.initial, m.discount, m.constraint_names)


def assert_meets_limits(m: FiniteCMDP, policy: np.ndarray) -> None:
    ev = evaluate_policy(m, policy)
    scale = np.maximum(np.abs(m.limits), np.abs(m.costs).reshape(m.n_constraints, -1).max(axis=1) / (1 - m.discount))
    excess = ev.cost_values - m.limits
    assert np.all(excess <= FEASIBILITY_RTOL * scale), (ev.cost_values, m.limits)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_reported_tiny_cost_model_meets_its_limit(backend):
    # Costs of 1e-9 were below HiGHS's small_matrix_value: the row vanished and the answer cost twice its limit.
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1e-9, 0]]], [5e-9], [1], 0.9)
    sol = solve_cmdp(m, backend=backend)
    assert_meets_limits(m, sol.policy)
    assert sol.value == pytest.approx(5.0, rel=1e-9)
    assert sol.policy == pytest.approx(np.array([[0.5, 0.5]]), abs=1e-9)
    assert sol.multipliers[0] == pytest.approx(1e9, rel=1e-6)      # d value / d limit


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_grid_of_small_scale_models_never_returns_a_violating_policy(backend):
    rng = np.random.default_rng(20261202)
    for _ in range(64):
        S, A, K = rng.integers(1, 5), rng.integers(2, 4), rng.integers(1, 3)
        P = rng.dirichlet(np.ones(S), size=(S, A))
        scale = 10.0 ** rng.integers(-11, -6)
        costs = rng.uniform(0, 1, (K, S, A)) * scale
        reference = rng.dirichlet(np.ones(A), size=S)
        probe = FiniteCMDP(P, rng.uniform(0, 1, (S, A)), costs, np.zeros(K), rng.dirichlet(np.ones(S)), 0.9)
        limits = evaluate_policy(probe, reference).cost_values * rng.uniform(0.9, 1.1, K)
        m = probe.with_limits(limits)
        try:
            sol = solve_cmdp(m, backend=backend)
        except InfeasibleError:
            continue
        assert_meets_limits(m, sol.policy)


@settings(max_examples=25, deadline=None)
@given(m=finite_cmdps(max_states=4, max_actions=3, max_constraints=2),
       reward_exp=st.integers(-9, 9), cost_exp=st.integers(-9, 9), backend=st.sampled_from(BACKENDS))
def test_scale_invariance_and_feasibility(m, reward_exp, cost_exp, backend):
    base = solve_cmdp(m, backend=backend)
    assert_meets_limits(m, base.policy)
    scaled = scaled_model(m, reward_exp, cost_exp)
    sol = solve_cmdp(scaled, backend=backend)
    assert_meets_limits(scaled, sol.policy)
    peak = max(np.abs(m.reward).max() / (1 - m.discount), 1e-300)
    assert sol.value / 10.0**reward_exp == pytest.approx(base.value, abs=1e-7 * peak)
    # The returned policy is optimal for the unscaled model too (same optimum, up to the tolerance).
    assert evaluate_policy(m, sol.policy).value == pytest.approx(base.value, abs=1e-7 * peak)


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_rewards_solve(backend):
    # Rewards around 1e8 stalled the dual simplex ("Not Set").
    rng = np.random.default_rng(3)
    S, A = 6, 3
    P = rng.dirichlet(np.ones(S), size=(S, A))
    m = FiniteCMDP(P, rng.uniform(0, 1, (S, A)), rng.uniform(0, 1, (1, S, A)), [4.0], np.ones(S) / S, 0.9)
    ref = solve_cmdp(m, backend=backend)
    big = scaled_model(m, reward_exp=8)
    sol = solve_cmdp(big, backend=backend, **({"method": "simplex"} if backend == "highspy" else {}))
    assert sol.status == "optimal"
    assert sol.value == pytest.approx(1e8 * ref.value, rel=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_infeasible_limits_are_reported_by_both_backends(backend):
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1.0, 2.0]], [[1.0, 0.5]]], [20.0, 4.0], [1], 0.9)
    with pytest.raises(InfeasibleError) as info:
        solve_cmdp(m, backend=backend)
    details = info.value.details
    assert details["constraint"] == 1 and details["best_achievable"] == pytest.approx(5.0, rel=1e-9)
    assert np.isfinite(details["best_achievable"])


@pytest.mark.parametrize("gamma", [0.999, 1 - 1e-5, 1 - 1e-6])
def test_discounts_close_to_one_solve_exactly(gamma):
    rng = np.random.default_rng(1)
    S, A = 4, 2
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[3] = 0
    P[3, :, 3] = 1.0                                  # an absorbing state: its flow row is ~(1 - gamma)
    reward, costs = rng.uniform(0, 1, (S, A)), rng.uniform(0, 1, (1, S, A))
    probe = FiniteCMDP(P, reward, costs, [0.0], np.ones(S) / S, gamma)
    limit = evaluate_policy(probe, np.full((S, A), 0.5)).cost_values
    m = probe.with_limits(limit)
    sol = solve_cmdp(m)
    assert_meets_limits(m, sol.policy)
    unconstrained = solve_cmdp(FiniteCMDP(P, reward, np.zeros((0, S, A)), np.zeros(0), np.ones(S) / S, gamma))
    assert unconstrained.value >= sol.value - 1e-9 * abs(unconstrained.value)


def test_a_policy_that_fails_verification_is_never_returned(monkeypatch):
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1.0, 0]]], [5.0], [1], 0.9)

    def greedy(occupancy, tol):                # a buggy extraction: always the rewarding action
        return np.array([[1.0, 0.0]])

    monkeypatch.setattr(cmdp_lp, "_policy_from_occupancy", greedy)
    with pytest.raises(SolverError, match="passed verification.*evaluates to 10"):
        solve_cmdp(m)


def test_a_suboptimal_policy_fails_the_dual_bound(monkeypatch):
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1.0, 0]]], [5.0], [1], 0.9)

    def timid(occupancy, tol):                 # feasible but far from optimal
        return np.array([[0.1, 0.9]])

    monkeypatch.setattr(cmdp_lp, "_policy_from_occupancy", timid)
    with pytest.raises(SolverError, match="below the dual bound"):
        solve_cmdp(m)


def test_frontier_points_are_exactly_evaluated_and_meet_their_limits():
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1e-9, 0]]], [5e-9], [1], 0.9)
    limits = np.array([1e-9, 5e-9, 2e-8, -1e-9])
    fr = cmdp_frontier(m, 0, limits)
    assert fr.feasible.tolist() == [True, True, True, False]
    assert fr.value[:3] == pytest.approx([1.0, 5.0, 10.0], rel=1e-9)
    assert np.all(fr.cost_values[:3, 0] <= limits[:3] * (1 + 1e-9))
    assert fr.min_limit == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("gamma", [1 - 1e-9, 1 - 1e-12, np.nextafter(1.0, 0.0)])
def test_discounts_too_close_to_one_are_refused_at_construction_saying_why(gamma):
    # They gave IndexError, "best achievable cost nan" or "Unbounded" from the solver.
    from mechsim.errors import InvalidInstanceError

    refused = r"discount: expected a number in \[0, 1 - 1e-06\].*condition number"
    with pytest.raises(InvalidInstanceError, match=refused):
        FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1, 0]]], [5.0], [1], gamma)
    with pytest.raises(InvalidInstanceError, match="discounts"):
        evaluate_policy(FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1, 0]]], [5.0], [1], 0.9), [[1, 0]],
                        discounts=[gamma, 0.9])
