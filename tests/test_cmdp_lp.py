"""The occupancy-LP CMDP solver against closed forms, brute force, value iteration and its own duals."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings

from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.solvers.cmdp_lp import cmdp_frontier, solve_cmdp
from mechsim.testing import finite_cmdps


def textbook(limit=5.0):
    return FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [limit], [1.0], 0.9)


def value_iteration(cmdp, signal, tol=1e-12):
    """Independent oracle: optimal state values of the MDP with reward ``signal`` (dense Bellman iteration)."""
    P = cmdp.dense_transitions()
    v = np.zeros(cmdp.n_states)
    for _ in range(100_000):
        new = (signal + cmdp.discount * P @ v).max(axis=1)
        if np.abs(new - v).max() < tol:
            return new
        v = new
    return v


def deterministic_policies(cmdp):
    S, A = cmdp.n_states, cmdp.n_actions
    for choice in itertools.product(range(A), repeat=S):
        pi = np.zeros((S, A))
        pi[np.arange(S), choice] = 1.0
        yield pi


@pytest.mark.parametrize("backend", ["highspy", "linprog"])
def test_textbook_example(backend):
    m = textbook()
    sol = solve_cmdp(m, backend=backend)
    assert sol.value == pytest.approx(5.0, abs=1e-9)
    np.testing.assert_allclose(sol.policy, [[0.5, 0.5]], atol=1e-9)
    assert sol.multipliers == pytest.approx([1.0], abs=1e-9)
    assert sol.cost_values == pytest.approx([5.0], abs=1e-9)
    assert sol.occupancy.sum() == pytest.approx(10.0)
    assert sol.randomised_states.tolist() == [0]
    # Every deterministic feasible policy scores 0 here: the optimum is strictly above them.
    feasible = [evaluate_policy(m, pi) for pi in deterministic_policies(m)]
    feasible = [ev.value for ev in feasible if ev.cost_values[0] <= 5.0 + 1e-12]
    assert feasible == [0.0]
    assert sol.value > max(feasible) + 1.0


@given(finite_cmdps(max_states=4, max_actions=3, max_constraints=2))
def test_optimum_dominates_every_feasible_deterministic_policy(cmdp):
    sol = solve_cmdp(cmdp)
    ev = evaluate_policy(cmdp, sol.policy)
    assert ev.value == pytest.approx(sol.value, abs=1e-7)
    np.testing.assert_allclose(ev.cost_values, sol.cost_values, atol=1e-7)
    assert np.all(sol.cost_values <= cmdp.limits + 1e-7)
    for pi in deterministic_policies(cmdp):
        det = evaluate_policy(cmdp, pi)
        if np.all(det.cost_values <= cmdp.limits):
            assert det.value <= sol.value + 1e-7
    # Optimal policies randomise in at most K states.
    assert len(sol.randomised_states) <= cmdp.n_constraints


@given(finite_cmdps(max_states=5, max_actions=3, max_constraints=2))
def test_kkt_conditions_and_strong_duality(cmdp):
    sol = solve_cmdp(cmdp)
    lam = sol.multipliers
    assert np.all(lam >= 0)
    # Complementary slackness: lambda_k (J_k - d_k) = 0.
    np.testing.assert_allclose(lam * (sol.cost_values - cmdp.limits), 0.0, atol=1e-6)
    # Strong duality: V* = max_pi L(pi, lambda*) = V*_{r - lambda* c}(mu0) + lambda* . d.
    scalarised = cmdp.reward - np.tensordot(lam, cmdp.costs, axes=1)
    v_lagrangian = value_iteration(cmdp, scalarised)
    assert sol.value == pytest.approx(cmdp.initial @ v_lagrangian + lam @ cmdp.limits, abs=1e-6)
    # Flow duals are those optimal values wherever mu0 > 0 (here everywhere).
    if np.all(cmdp.initial > 1e-6):
        np.testing.assert_allclose(sol.lagrangian_values, v_lagrangian, atol=1e-6)


@given(finite_cmdps(max_states=5, max_actions=3, min_constraints=0, max_constraints=0))
def test_unconstrained_lp_equals_value_iteration(cmdp):
    sol = solve_cmdp(cmdp)
    assert sol.value == pytest.approx(cmdp.initial @ value_iteration(cmdp, cmdp.reward), abs=1e-7)
    assert sol.multipliers.shape == (0,)


@given(finite_cmdps(max_states=5, max_actions=3, sparse=True))
@settings(max_examples=15)
def test_dense_sparse_and_backends_agree(cmdp):
    dense = FiniteCMDP(cmdp.dense_transitions(), cmdp.reward, cmdp.costs, cmdp.limits, cmdp.initial,
                       cmdp.discount)
    a = solve_cmdp(cmdp)
    b = solve_cmdp(dense)
    c = solve_cmdp(dense, backend="linprog")
    d = solve_cmdp(cmdp, method="ipm")
    for other in (b, c, d):
        assert other.value == pytest.approx(a.value, abs=1e-7)


def test_multiplier_is_the_slope_of_the_frontier():
    rng = np.random.default_rng(4)
    S, A = 5, 3
    P = rng.dirichlet(np.ones(S), size=(S, A))
    reward = rng.random((S, A))
    # Costs correlated with the reward, so that a limit between the two extremes binds.
    base = FiniteCMDP(P, reward, (reward + 0.3 * rng.random((S, A)))[None], [0.0], np.ones(S) / S, 0.9)
    free = solve_cmdp(base.without_constraints())
    low = cmdp_frontier(base, 0, [0.0]).min_limit
    high = (base.costs[0] * free.occupancy).sum()
    limit = 0.5 * (low + high)
    m = base.with_limits([limit])
    sol = solve_cmdp(m)
    h = 1e-5
    up, down = solve_cmdp(m.with_limits([limit + h])).value, solve_cmdp(m.with_limits([limit - h])).value
    assert sol.multipliers[0] > 0
    assert sol.cost_values[0] == pytest.approx(limit)
    assert (up - down) / (2 * h) == pytest.approx(sol.multipliers[0], rel=1e-4)


def test_infeasible_limit_names_constraint_and_best_cost():
    with pytest.raises(InfeasibleError) as err:
        solve_cmdp(textbook(limit=-1.0))
    assert err.value.details["constraint"] == 0
    assert err.value.details["best_achievable"] == pytest.approx(0.0, abs=1e-9)
    assert "constraint 0" in str(err.value) and err.value.status == "infeasible"


@given(finite_cmdps(max_states=4, max_actions=3, min_constraints=1, max_constraints=1, feasible=False))
def test_infeasibility_diagnosis_matches_minimum_cost(cmdp):
    min_cost = -(cmdp.initial @ value_iteration(cmdp, -cmdp.costs[0]))
    if cmdp.limits[0] >= min_cost - 1e-6:
        sol = solve_cmdp(cmdp)
        assert sol.cost_values[0] <= cmdp.limits[0] + 1e-7
        return
    with pytest.raises(InfeasibleError) as err:
        solve_cmdp(cmdp)
    assert err.value.details["constraint"] == 0
    assert err.value.details["best_achievable"] == pytest.approx(min_cost, abs=1e-6)


def test_jointly_infeasible_constraints_name_the_second():
    # Action 0 costs (1, 0), action 1 costs (0, 1): each limit alone is feasible, both together are not.
    costs = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    m = FiniteCMDP(np.ones((1, 2, 1)), [[0.0, 0.0]], costs, [0.5, 1.0], [1.0], 0.5,
                   constraint_names=("likes", "hates"))
    with pytest.raises(InfeasibleError) as err:
        solve_cmdp(m)
    assert err.value.details["constraint"] == 1
    assert err.value.details["constraint_name"] == "hates"
    # J_0 + J_1 = 1 / (1 - gamma) = 2, so J_0 <= 0.5 forces J_1 >= 1.5 > 1.
    assert err.value.details["best_achievable"] == pytest.approx(1.5, abs=1e-8)


def test_frontier_textbook():
    f = cmdp_frontier(textbook(), 0, [12.0, -1.0, 0.0, 2.5, 5.0, 10.0])
    assert f.feasible.tolist() == [True, False, True, True, True, True]
    np.testing.assert_allclose(f.value, [10.0, -np.inf, 0.0, 2.5, 5.0, 10.0], atol=1e-9)
    assert not np.isnan(f.value).any()
    assert f.min_limit == pytest.approx(0.0, abs=1e-12)
    assert f.multipliers[2:5, 0] == pytest.approx([1.0, 1.0, 1.0], abs=1e-9)


@given(finite_cmdps(max_states=4, max_actions=3, max_constraints=2))
@settings(max_examples=15)
def test_frontier_is_monotone_concave_and_matches_solves(cmdp):
    limits = cmdp.limits[0] + np.linspace(-1.0, 2.0, 7)
    f = cmdp_frontier(cmdp, 0, limits)
    vals = f.value[f.feasible]
    assert np.all(np.diff(vals) >= -1e-7)
    if vals.size >= 3:
        lim = limits[f.feasible]
        slopes = np.diff(vals) / np.diff(lim)
        assert np.all(np.diff(slopes) <= 1e-5)
    assert np.all(limits[~f.feasible] < f.min_limit + 1e-7)
    for i in np.flatnonzero(f.feasible)[::3]:
        other = cmdp.with_limits(np.where(np.arange(cmdp.n_constraints) == 0, limits[i], cmdp.limits))
        assert solve_cmdp(other).value == pytest.approx(f.value[i], abs=1e-7)


def test_medium_sparse_cmdp():
    rng = np.random.default_rng(0)
    S, A, b = 400, 4, 3
    rows = np.repeat(np.arange(S * A), b)
    cols = (np.repeat(np.arange(S), A * b) + rng.integers(-3, 4, size=S * A * b)) % S
    P = sp.csr_array((rng.random(S * A * b), (rows, cols)), shape=(S * A, S))
    P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    m = FiniteCMDP(P, rng.random((S, A)), rng.random((2, S, A)), [0.0, 0.0], np.full(S, 1 / S), 0.95)
    u = evaluate_policy(m, np.full((S, A), 1 / A)).cost_values
    m = m.with_limits(u - 0.2)
    sol = solve_cmdp(m)
    ev = evaluate_policy(m, sol.policy)
    assert ev.value == pytest.approx(sol.value, abs=1e-6)
    assert np.all(ev.cost_values <= m.limits + 1e-6)
    assert sol.value > evaluate_policy(m, np.full((S, A), 1 / A)).value


def test_bad_arguments():
    with pytest.raises(InvalidInstanceError, match="cmdp"):
        solve_cmdp("not a cmdp")
    with pytest.raises(InvalidInstanceError, match="backend"):
        solve_cmdp(textbook(), backend="glpk")
    with pytest.raises(InvalidInstanceError, match="constraint"):
        cmdp_frontier(textbook(), 1, [1.0])
    with pytest.raises(InvalidInstanceError, match="limits"):
        cmdp_frontier(textbook(), 0, [[1.0]])


def test_no_banner_on_stdout(capfd):
    solve_cmdp(textbook())
    out, _ = capfd.readouterr()
    assert "HiGHS" not in out


def test_unvisited_states_get_the_uniform_policy():
    # State 2 is never reached from state 0 (the initial state); states 0 and 1 swap under either action.
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = P[1, :, 0] = 1.0
    P[2, :, 0] = 1.0
    reward = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 0.0]])
    m = FiniteCMDP(P, reward, np.zeros((1, 3, 2)), [0.0], [1.0, 0.0, 0.0], 0.9)
    sol = solve_cmdp(m)
    assert sol.occupancy[2].sum() == 0.0
    np.testing.assert_allclose(sol.policy[2], [0.5, 0.5])
    np.testing.assert_allclose(sol.policy[:2], [[1.0, 0.0], [0.0, 1.0]])
    assert sol.value == pytest.approx(10.0)


# ---------------------------------------------------------------------- result vocabulary
def test_result_vocabulary_and_deprecated_aliases():
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    sol = solve_cmdp(m)
    assert sol.status == "optimal" and sol.solve_time >= 0 and sol.build_time >= 0
    with pytest.warns(DeprecationWarning, match="solve_time"):
        assert sol.solve_seconds == sol.solve_time
    with pytest.warns(DeprecationWarning, match="build_time"):
        assert sol.build_seconds == sol.build_time
    f = cmdp_frontier(m, 0, [6.0, -1.0, 2.0])
    assert f.status == ("optimal", "infeasible", "optimal") and f.solve_time > 0
    with pytest.warns(DeprecationWarning, match="value"):
        np.testing.assert_array_equal(f.values, f.value)


@pytest.mark.parametrize("method, solver", [("simplex", "choose"), ("ipm", "ipm")])
def test_highs_options_reach_the_one_adapter(method, solver):
    from mechsim.solvers.cmdp_lp import LP_TOLERANCE, _assemble, _highs_model

    m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    model = _highs_model(_assemble(m), method)
    option = {name: model.h.getOptionValue(name)[-1] for name in
              ("primal_feasibility_tolerance", "dual_feasibility_tolerance", "solver")}  # (status, value)
    assert option == {"primal_feasibility_tolerance": LP_TOLERANCE, "dual_feasibility_tolerance": LP_TOLERANCE,
                      "solver": solver}
    assert solve_cmdp(m, method=method).value == pytest.approx(5.0, abs=1e-9)
