"""The Lagrangian CMDP method against the occupancy LP (HiGHS), the LP's dual face, brute force over
deterministic policies, value iteration, and its own second formulation (Kelley's method for K = 1)."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.cmdp.generators import banded_cmdp, random_cmdp
from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.solvers import cmdp_lagrange, cmdp_lp
from mechsim.solvers.cmdp_lagrange import solve_cmdp_lagrange
from mechsim.solvers.cmdp_lp import FEASIBILITY_RTOL, OPTIMALITY_RTOL, solve_cmdp
from mechsim.tabular_mdp import deterministic_policy
from mechsim.testing import finite_cmdps


def textbook(limit=5.0):
    return FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [limit], [1.0], 0.9)


def scales(m: FiniteCMDP) -> np.ndarray:
    peak = np.abs(m.costs).reshape(m.n_constraints, -1).max(axis=1) if m.n_constraints else np.zeros(0)
    return np.maximum(np.abs(m.limits), peak / (1 - m.discount))


def lagrangian_scale(m: FiniteCMDP, multipliers) -> float:
    return float(np.abs(m.reward).max() / (1 - m.discount) + np.asarray(multipliers) @ scales(m))


def assert_meets_limits(m: FiniteCMDP, policy) -> None:
    ev = evaluate_policy(m, policy)
    assert np.all(ev.cost_values - m.limits <= FEASIBILITY_RTOL * scales(m)), (ev.cost_values, m.limits)


def value_iteration(m: FiniteCMDP, signal, tol=1e-13):
    """Independent oracle: optimal state values of the MDP with reward ``signal`` (dense Bellman iteration)."""
    P = m.dense_transitions()
    v = np.zeros(m.n_states)
    for _ in range(200_000):
        new = (signal + m.discount * P @ v).max(axis=1)
        if np.abs(new - v).max() < tol:
            return new
        v = new
    return v


def multiplier_box(m: FiniteCMDP, slack: float) -> tuple[np.ndarray, np.ndarray]:
    """Oracle for the set of optimal multipliers: the LP dual of the occupancy LP,

        D* = min_{V, lambda >= 0} mu0.V + lambda.d   s.t.  V(s) - gamma P(.|s,a).V + lambda.c(s,a) >= r(s,a),

    then the smallest and largest value of every lambda_k on its optimal face (objective <= D* + slack): equal
    where the LP's multipliers are unique, infinite where lambda_k can grow without leaving the face."""
    S, A, K = m.n_states, m.n_actions, m.n_constraints
    P = m.dense_transitions().reshape(S * A, S)
    flows = np.repeat(np.eye(S), A, axis=0) - m.discount * P
    rows = np.hstack([flows, m.costs.reshape(K, S * A).T])          # (S*A, S + K) >= reward
    objective = np.concatenate([m.initial, m.limits])
    bounds = [(None, None)] * S + [(0, None)] * K
    dual = linprog(objective, A_ub=-rows, b_ub=-m.reward.ravel(), bounds=bounds, method="highs")
    assert dual.status == 0, dual.message
    a_ub = np.vstack([-rows, objective[None]])
    b_ub = np.concatenate([-m.reward.ravel(), [dual.fun + slack]])
    low, high = np.zeros(K), np.zeros(K)
    for k in range(K):
        for sign, out in ((1.0, low), (-1.0, high)):
            c = np.zeros(S + K)
            c[S + k] = sign
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            if res.status == 3:          # unbounded: lambda_k can grow without leaving the optimal face
                out[k] = -sign * np.inf
                continue
            assert res.status == 0, res.message
            out[k] = res.x[S + k]
    return low, high


def deterministic_policies(m: FiniteCMDP):
    S, A = m.n_states, m.n_actions
    for choice in itertools.product(range(A), repeat=S):
        yield deterministic_policy(np.array(choice), A)


def check_against_lp(m: FiniteCMDP, value_rtol=1e-6):
    """Equal to the LP (value to 1e-6 of the Lagrangian scale), within the limits, certified, and with
    multipliers on the LP's optimal dual face (equal to the LP's where that face is a point)."""
    sol = solve_cmdp(m, method="lagrange")
    lp = solve_cmdp(m, method="simplex")
    assert sol.method == "lagrange" and sol.status == "optimal" and sol.backend == "policy-iteration"
    scale = lagrangian_scale(m, lp.multipliers)
    assert sol.value == pytest.approx(lp.value, abs=value_rtol * scale)
    assert_meets_limits(m, sol.policy)
    # The certificate: the dual bound is an upper bound on the optimum, and the gap is within tolerance.
    assert sol.dual_bound >= lp.value - 1e-9 * scale
    assert sol.gap == pytest.approx(sol.dual_bound - sol.value)
    assert sol.gap <= OPTIMALITY_RTOL * lagrangian_scale(m, sol.multipliers)
    ev = evaluate_policy(m, sol.policy)
    assert ev.value == pytest.approx(sol.value, abs=1e-12 * scale)
    np.testing.assert_allclose(sol.occupancy.sum(), 1 / (1 - m.discount), rtol=1e-9)
    return sol, lp


def check_multipliers(m: FiniteCMDP, sol, lp):
    if not m.n_constraints:
        return
    scale = lagrangian_scale(m, lp.multipliers)
    low, high = multiplier_box(m, 1e-9 * scale)
    # A multiplier's natural unit: the value scale over the constraint's scale.
    unit = np.abs(m.reward).max() / (1 - m.discount) / scales(m)
    tol = 1e-5 * (unit + np.abs(lp.multipliers))
    assert np.all(sol.multipliers >= low - tol) and np.all(sol.multipliers <= high + tol), (sol.multipliers, low,
                                                                                             high)
    unique = high - low <= tol
    assert np.all(np.abs(sol.multipliers - lp.multipliers)[unique] <= 2 * tol[unique])


# ---------------------------------------------------------------------- closed forms and brute force
def test_textbook_example():
    m = textbook()
    sol = solve_cmdp_lagrange(m)
    assert sol.value == pytest.approx(5.0, abs=1e-12)
    np.testing.assert_allclose(sol.policy, [[0.5, 0.5]], atol=1e-12)
    assert sol.multipliers == pytest.approx([1.0], abs=1e-12)
    assert sol.dual_bound == pytest.approx(5.0, abs=1e-12) and abs(sol.gap) <= 1e-12
    assert sol.randomised_states.tolist() == [0]
    assert sol.method == "lagrange" and solve_cmdp(m, method="lagrange").value == pytest.approx(5.0, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(finite_cmdps(max_states=4, max_actions=3, max_constraints=3))
def test_random_cmdps_equal_the_lp(m):
    sol, lp = check_against_lp(m)
    check_multipliers(m, sol, lp)
    # Optimal policies randomise in at most K states, and the optimum dominates every feasible deterministic
    # policy (brute force).
    assert len(sol.randomised_states) <= m.n_constraints
    for pi in deterministic_policies(m):
        det = evaluate_policy(m, pi)
        if np.all(det.cost_values <= m.limits):
            assert det.value <= sol.value + 1e-9 * lagrangian_scale(m, sol.multipliers)
            assert det.value <= sol.dual_bound + 1e-9 * lagrangian_scale(m, sol.multipliers)


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_banded_cmdps_equal_the_lp(K, seed):
    m = banded_cmdp(150, 4, K, bandwidth=3, successors=3, seed=seed)
    sol, lp = check_against_lp(m)
    assert np.any(lp.multipliers > 0)                         # the generator's constraints bind
    # Generic continuous data: the LP's multipliers are unique; the search ends on the exact breakpoint.
    np.testing.assert_allclose(sol.multipliers, lp.multipliers, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_random_sparse_cmdps_equal_the_lp(K):
    m = random_cmdp(300, 5, K, successors=4, discount=0.9, seed=K)
    sol, lp = check_against_lp(m)
    np.testing.assert_allclose(sol.multipliers, lp.multipliers, rtol=1e-5, atol=1e-7)


def test_a_large_banded_cmdp_takes_the_krylov_path_and_equals_the_lp():
    # 2000 states: every solve is the warm-started BiCGSTAB path.  The search runs to the exact minimiser of
    # the dual function (gap 0 up to round-off), so the multipliers are the LP's (unique here).
    m = banded_cmdp(2000, 5, 2, seed=3)
    sol, lp = check_against_lp(m)
    assert sol.gap <= 1e-12 * lagrangian_scale(m, lp.multipliers)
    np.testing.assert_allclose(sol.multipliers, lp.multipliers, rtol=1e-8)


def test_k1_breakpoint_search_equals_kelleys_method():
    # Second formulation of the same dual: Kelley's cutting planes with a trust region, on K = 1.
    for seed in range(4):
        m = banded_cmdp(200, 4, 1, bandwidth=4, seed=seed)
        problem = cmdp_lagrange._problem(m.transition_matrix, m.reward, m.costs, m.limits, m.initial, m.discount)
        one = cmdp_lagrange._search(problem, cmdp_lagrange._Chains(problem, cmdp_lagrange._Counters()),
                                    problem.limits, 500, gap_rtol=0.0)
        kelley = cmdp_lagrange._search(problem, cmdp_lagrange._Chains(problem, cmdp_lagrange._Counters()),
                                       problem.limits, 500, gap_rtol=0.0, kelley=True)
        # Run to an exact minimiser (gap 0 up to round-off), both find the same breakpoint of g.
        assert one.bound - one.value <= 1e-14 and kelley.bound - kelley.value <= 1e-14
        assert one.value == pytest.approx(kelley.value, abs=1e-14)
        assert one.multipliers == pytest.approx(kelley.multipliers, rel=1e-10)


# ---------------------------------------------------------------------- primal recovery
def test_the_mixture_is_of_occupancies_not_of_action_choices():
    # Two deterministic policies of a 3-state chain whose visits differ: mixing their occupancies with weights
    # w gives exactly w-averaged values; mixing their action choices state by state does not.
    rng = np.random.default_rng(7)
    S, A = 3, 2
    P = rng.dirichlet(np.ones(S) * 0.3, size=(S, A))
    m = FiniteCMDP(P, rng.random((S, A)), rng.random((1, S, A)), [0.0], np.array([1.0, 0.0, 0.0]), 0.9)
    problem = cmdp_lagrange._problem(m.transitions, m.reward, m.costs, m.limits, m.initial, m.discount)
    chains = cmdp_lagrange._Chains(problem, cmdp_lagrange._Counters())
    a, b = np.array([0, 0, 1]), np.array([1, 1, 0])
    pa, pb = cmdp_lagrange._piece(problem, chains, a), cmdp_lagrange._piece(problem, chains, b)
    w = np.array([0.3, 0.7])
    dual = cmdp_lagrange._Dual((pa, pb), w, np.zeros(1), 0.0, 0.0, a)
    mixed = cmdp_lagrange._mixed_policy(problem, chains, dual)
    ev = evaluate_policy(m, mixed)
    ea, eb = evaluate_policy(m, deterministic_policy(a, A)), evaluate_policy(m, deterministic_policy(b, A))
    assert ev.value == pytest.approx(w @ [ea.value, eb.value], rel=1e-12)
    assert ev.cost_values[0] == pytest.approx(w @ [ea.cost_values[0], eb.cost_values[0]], rel=1e-12)
    naive = w[0] * deterministic_policy(a, A) + w[1] * deterministic_policy(b, A)
    assert abs(evaluate_policy(m, naive).value - ev.value) > 1e-3


# ---------------------------------------------------------------------- special cases
@settings(max_examples=20, deadline=None)
@given(finite_cmdps(max_states=4, max_actions=3, max_constraints=2, sparse=True))
def test_sparse_transitions_equal_the_dense_lp(m):
    dense = FiniteCMDP(m.dense_transitions(), m.reward, m.costs, m.limits, m.initial, m.discount)
    a = solve_cmdp_lagrange(m)
    lp = solve_cmdp(dense, method="simplex")
    assert a.value == pytest.approx(lp.value, abs=1e-6 * lagrangian_scale(m, lp.multipliers))
    assert a.value == pytest.approx(solve_cmdp_lagrange(dense).value, abs=1e-9 * lagrangian_scale(m, lp.multipliers))


def test_non_binding_constraints_have_zero_multipliers():
    m = banded_cmdp(100, 4, 3, seed=5)
    free = m.with_limits(np.full(3, 1e3))
    sol = solve_cmdp_lagrange(free)
    assert np.all(sol.multipliers == 0) and sol.gap == pytest.approx(0.0, abs=1e-9)
    assert sol.value == pytest.approx(free.initial @ value_iteration(free, free.reward), rel=1e-10)
    # One binding, two free.
    unconstrained = evaluate_policy(free, sol.policy).cost_values
    mixed = m.with_limits(np.array([unconstrained[0] - 0.5, 1e3, 1e3]))
    sol, lp = check_against_lp(mixed)
    assert sol.multipliers[0] > 0 and np.all(sol.multipliers[1:] == 0)
    np.testing.assert_allclose(sol.multipliers, lp.multipliers, rtol=1e-6, atol=1e-9)


def test_unconstrained_model_equals_value_iteration():
    m = banded_cmdp(120, 3, 0, seed=2)
    sol = solve_cmdp_lagrange(m)
    assert sol.multipliers.shape == (0,) and sol.cost_values.shape == (0,)
    assert sol.value == pytest.approx(m.initial @ value_iteration(m, m.reward), rel=1e-10)


def test_equal_value_ties():
    # Every action duplicated: the dual function has ties at every multiplier (many optimal policies).
    base = banded_cmdp(80, 3, 2, bandwidth=3, seed=4)
    P = base.dense_transitions()
    twin = FiniteCMDP(np.concatenate([P, P], axis=1), np.concatenate([base.reward] * 2, axis=1),
                      np.concatenate([base.costs] * 2, axis=2), base.limits, base.initial, base.discount)
    sol, lp = check_against_lp(twin)
    assert sol.value == pytest.approx(solve_cmdp_lagrange(base).value, rel=1e-9)
    # The textbook model with an action that repeats the costless one: optimum and multiplier unchanged.
    m = FiniteCMDP(np.ones((1, 3, 1)), [[1.0, 0.0, 0.0]], [[[1.0, 0.0, 0.0]]], [5.0], [1.0], 0.9)
    sol = solve_cmdp_lagrange(m)
    assert sol.value == pytest.approx(5.0, abs=1e-12) and sol.multipliers == pytest.approx([1.0], abs=1e-12)
    # A model where all actions are identical: every policy is optimal.
    same = FiniteCMDP(np.ones((2, 2, 2)) / 2, np.ones((2, 2)), np.ones((1, 2, 2)), [20.0], [0.5, 0.5], 0.9)
    sol = solve_cmdp_lagrange(same)
    assert sol.value == pytest.approx(10.0, rel=1e-12) and sol.multipliers == pytest.approx([0.0])


def test_limit_exactly_at_the_least_cost():
    m = banded_cmdp(60, 3, 1, bandwidth=2, successors=2, seed=8)
    least = -(m.initial @ value_iteration(m, -m.costs[0]))
    edge = m.with_limits([least])
    sol = solve_cmdp_lagrange(edge)
    assert_meets_limits(edge, sol.policy)
    lp = solve_cmdp(edge, method="simplex")
    assert sol.value == pytest.approx(lp.value, abs=1e-6 * lagrangian_scale(edge, lp.multipliers))


@settings(max_examples=20, deadline=None)
@given(m=finite_cmdps(max_states=4, max_actions=3, max_constraints=2),
       exponent=st.sampled_from([-6, 6]), which=st.sampled_from(["reward", "costs", "both"]))
def test_scale_invariance(m, exponent, which):
    base = solve_cmdp_lagrange(m)
    r = 10.0 ** exponent if which in ("reward", "both") else 1.0
    c = 10.0 ** exponent if which in ("costs", "both") else 1.0
    scaled = FiniteCMDP(m.transitions, m.reward * r, m.costs * c, m.limits * c, m.initial, m.discount)
    sol = solve_cmdp_lagrange(scaled)
    assert_meets_limits(scaled, sol.policy)
    scale = lagrangian_scale(m, base.multipliers)
    assert sol.value / r == pytest.approx(base.value, abs=1e-7 * scale)
    np.testing.assert_allclose(sol.multipliers * c / r, base.multipliers, rtol=1e-5, atol=1e-7 * scale)
    assert sol.gap <= OPTIMALITY_RTOL * lagrangian_scale(scaled, sol.multipliers)


# ---------------------------------------------------------------------- infeasibility
def same_infeasibility(m: FiniteCMDP):
    with pytest.raises(InfeasibleError) as lag:
        solve_cmdp_lagrange(m)
    with pytest.raises(InfeasibleError) as lp:
        solve_cmdp(m, method="simplex")
    a, b = lag.value.details, lp.value.details
    assert a["constraint"] == b["constraint"] and a["constraint_name"] == b["constraint_name"]
    assert a["limit"] == b["limit"]
    assert a["best_achievable"] == pytest.approx(b["best_achievable"], abs=1e-7 * scales(m)[a["constraint"]])
    assert lag.value.status == lp.value.status == "infeasible"
    return a


def test_infeasible_textbook_limit():
    details = same_infeasibility(textbook(limit=-1.0))
    assert details["constraint"] == 0 and details["best_achievable"] == pytest.approx(0.0, abs=1e-12)


def test_jointly_infeasible_constraints_name_the_second():
    costs = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    m = FiniteCMDP(np.ones((1, 2, 1)), [[0.0, 0.0]], costs, [0.5, 1.0], [1.0], 0.5, constraint_names=("likes", "hates"))
    details = same_infeasibility(m)
    assert details["constraint"] == 1 and details["constraint_name"] == "hates"
    assert details["best_achievable"] == pytest.approx(1.5, abs=1e-10)


def test_third_constraint_infeasible_given_the_first_two():
    m = banded_cmdp(60, 3, 3, bandwidth=2, seed=6)
    # Constraint 2 below its least cost while constraints 0 and 1 hold.
    least = -solve_cmdp(FiniteCMDP(m.transitions, -m.costs[2], m.costs[:2], m.limits[:2], m.initial, m.discount),
                        method="simplex").value
    details = same_infeasibility(m.with_limits(np.concatenate([m.limits[:2], [least - 0.1]])))
    assert details["constraint"] == 2 and details["best_achievable"] == pytest.approx(least, rel=1e-7)


@settings(max_examples=25, deadline=None)
@given(finite_cmdps(max_states=4, max_actions=3, min_constraints=1, max_constraints=2, feasible=False))
def test_infeasibility_is_reported_as_the_lp_does(m):
    try:
        lp = solve_cmdp(m, method="simplex")
    except InfeasibleError:
        same_infeasibility(m)
        return
    sol = solve_cmdp_lagrange(m)
    assert sol.value == pytest.approx(lp.value, abs=1e-6 * lagrangian_scale(m, lp.multipliers))


# ---------------------------------------------------------------------- dispatch, failures, arguments
def test_auto_picks_the_lagrangian_method_on_large_models_with_few_constraints(monkeypatch):
    m = banded_cmdp(200, 4, 2, bandwidth=3, seed=1)
    assert solve_cmdp(m).method in ("simplex", "ipm")          # 4000 non-zeros: below the threshold
    big = banded_cmdp(1000, 10, 2, seed=1)                       # 50 000 non-zeros
    assert solve_cmdp(big).method == "lagrange"
    dense = FiniteCMDP(m.dense_transitions(), m.reward, m.costs, m.limits, m.initial, m.discount)
    assert solve_cmdp(dense).method in ("simplex", "ipm")        # zeros of a dense array do not count
    monkeypatch.setattr(cmdp_lp, "LAGRANGE_MIN_NONZEROS", 4000)
    auto = solve_cmdp(m)
    assert auto.method == "lagrange" and solve_cmdp(dense).method == "lagrange"
    assert solve_cmdp(m, backend="linprog").method in ("simplex", "ipm")
    monkeypatch.setattr(cmdp_lp, "LAGRANGE_MAX_CONSTRAINTS", 1)
    assert solve_cmdp(m).method in ("simplex", "ipm")


def test_a_policy_that_fails_verification_is_never_returned(monkeypatch):
    def greedy(problem, chains, dual):           # a buggy recovery: always the rewarding action
        return np.array([[1.0, 0.0]])

    monkeypatch.setattr(cmdp_lagrange, "_mixed_policy", greedy)
    with pytest.raises(SolverError, match="passed verification.*evaluates to 10"):
        solve_cmdp_lagrange(textbook())


def test_a_suboptimal_policy_fails_the_dual_bound(monkeypatch):
    def timid(problem, chains, dual):
        return np.array([[0.1, 0.9]])

    monkeypatch.setattr(cmdp_lagrange, "_mixed_policy", timid)
    with pytest.raises(SolverError, match="below the dual bound"):
        solve_cmdp_lagrange(textbook())


def test_evaluation_cap():
    with pytest.raises(SolverError) as err:
        solve_cmdp_lagrange(banded_cmdp(100, 4, 2, seed=0), max_evaluations=2)
    assert err.value.status == "max_iter" and "max_evaluations" in str(err.value)


@pytest.mark.parametrize("bad", [0, -1, 1.5, None, True])
def test_bad_arguments(bad):
    with pytest.raises(InvalidInstanceError, match="max_evaluations"):
        solve_cmdp_lagrange(textbook(), max_evaluations=bad)
    with pytest.raises(InvalidInstanceError, match="cmdp"):
        solve_cmdp_lagrange("not a cmdp")


@pytest.mark.parametrize("bad", [-1e-9, 1e-7, np.nan, None, "1e-9"])
def test_bad_gap_tolerance(bad):
    with pytest.raises(InvalidInstanceError, match="gap_rtol"):
        solve_cmdp_lagrange(textbook(), gap_rtol=bad)


def test_a_looser_gap_tolerance_is_still_certified():
    m = banded_cmdp(2000, 5, 2, seed=3)
    exact = solve_cmdp_lagrange(m)
    loose = solve_cmdp_lagrange(m, gap_rtol=1e-8)
    assert loose.iterations <= exact.iterations
    scale = lagrangian_scale(m, exact.multipliers)
    assert loose.gap <= 1e-8 * scale and loose.value == pytest.approx(exact.value, abs=1e-7 * scale)
    assert_meets_limits(m, loose.policy)
    np.testing.assert_allclose(loose.multipliers, exact.multipliers, rtol=1e-3)


# ---------------------------------------------------------------------- generators
@pytest.mark.parametrize("make", [banded_cmdp, random_cmdp])
def test_generators_are_valid_feasible_and_seeded(make):
    m = make(500, 6, 2, successors=4, seed=11)
    P = m.transition_matrix
    assert m.is_sparse and P.shape == (3000, 500) and np.all(np.diff(P.indptr) == 4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    rows = np.repeat(np.arange(3000), 4).reshape(-1, 4)
    assert np.all(np.diff(P.indices.reshape(-1, 4), axis=1) > 0)        # distinct, sorted successors
    if make is banded_cmdp:
        state = rows // 6
        offset = (P.indices.reshape(-1, 4) - state + 250) % 500 - 250
        assert np.abs(offset).max() <= 12
    uniform = evaluate_policy(m, np.full((500, 6), 1 / 6))
    np.testing.assert_allclose(uniform.cost_values, m.limits, rtol=1e-12)   # the uniform policy meets them
    again = make(500, 6, 2, successors=4, seed=11)
    assert (again.transition_matrix != P).nnz == 0 and np.array_equal(again.reward, m.reward)
    assert not np.array_equal(make(500, 6, 2, successors=4, seed=12).reward, m.reward)


def test_generator_arguments():
    with pytest.raises(InvalidInstanceError, match="bandwidth"):
        banded_cmdp(100, 2, 1, successors=5, bandwidth=1)
    with pytest.raises(InvalidInstanceError, match="bandwidth"):
        banded_cmdp(10, 2, 1, successors=2, bandwidth=6)
    with pytest.raises(InvalidInstanceError, match="successors"):
        random_cmdp(10, 2, 1, successors=11)
    with pytest.raises(InvalidInstanceError, match="correlation"):
        random_cmdp(10, 2, 1, correlation=1.5)
    with pytest.raises(InvalidInstanceError, match="discount"):
        random_cmdp(10, 2, 1, discount=1.0)
    m = banded_cmdp(7, 2, 1, successors=7, seed=0)                          # every state a successor
    assert m.transition_matrix.nnz == 7 * 2 * 7
    sp.csr_array(m.transition_matrix).check_format()


def test_an_lp_infeasible_verdict_on_a_feasible_model_goes_to_the_lagrangian_method(monkeypatch):
    """HiGHS can call a limit at exactly its least achievable cost infeasible; the exact diagnosis finds every
    limit met, so solve_cmdp answers by the Lagrangian method instead of raising."""
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    real_run, calls = cmdp_lp._run, []

    def first_call_infeasible(lp, backend, how):
        raw = real_run(lp, backend, how)
        calls.append(how)
        return replace(raw, status="infeasible") if len(calls) == 1 else raw

    monkeypatch.setattr(cmdp_lp, "_run", first_call_infeasible)
    sol = cmdp_lp.solve_cmdp(m, method="simplex")
    assert sol.method == "lagrange"
    assert sol.value == pytest.approx(5.0, abs=1e-9)
    assert sol.cost_values[0] <= 5.0 + 1e-9


def test_triangular_chains_solved_by_substitution_match_lu():
    """An acyclic chain in topological order: triangular_side sees it, and solve_bellman (substitution)
    equals a sparse LU of the same system, for values and occupancies."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from mechsim import tabular_mdp

    rng = np.random.default_rng(3)
    n = 2500   # above DENSE_SOLVE_MAX_STATES: the sparse path
    rows = np.repeat(np.arange(n), 3)
    cols = np.minimum(rows + rng.integers(0, 40, size=rows.size), n - 1)
    P = sp.csr_array((rng.random(rows.size), (rows, cols)), shape=(n, n))
    P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    assert tabular_mdp.triangular_side(P) == "upper"
    assert tabular_mdp.triangular_side(P.T) == "lower"
    assert tabular_mdp.triangular_side(P + P.T) is None
    b = rng.random(n)
    system = (sp.identity(n, format="csc") - 0.95 * P).tocsc()
    for transpose in (False, True):
        x = tabular_mdp.solve_bellman(P, b, 0.95, transpose=transpose)
        ref = spla.splu(system.T.tocsc() if transpose else system).solve(b)
        np.testing.assert_allclose(x, ref, rtol=1e-10, atol=1e-12)


def test_lagrange_survives_chains_that_defeat_bicgstab():
    """The recommender twin with bands a little finer than a request's cost: nearly triangular, slowly
    leaking chains on which BiCGSTAB breaks down; the sparse LU takes over and the answer equals the LP's."""
    from mechsim.cmdp.tabular_twin import tabular_recommender

    m = tabular_recommender(("like",), n_fatigue=150, n_clusters=3, sparse=True)
    free = solve_cmdp(m.with_limits([1e9]), method="lagrange")
    mm = m.with_limits([free.cost_values[0] - 0.2])
    lag = solve_cmdp(mm, method="lagrange")
    lp = solve_cmdp(mm, method="ipm")
    assert lag.value == pytest.approx(lp.value, rel=1e-6)
    assert lag.multipliers[0] == pytest.approx(lp.multipliers[0], rel=1e-4)


# ---------------------------------------------------------------------- stabilised search and Krylov core
@pytest.mark.parametrize("make, K, seed", [(banded_cmdp, 2, 0), (banded_cmdp, 3, 1), (random_cmdp, 2, 2),
                                           (random_cmdp, 3, 3)])
def test_smoothed_kelley_equals_pure_kelley_and_the_lp(monkeypatch, make, K, seed):
    """Wentges-smoothed steps (the default) and plain trust-region steps find the same exact minimiser of
    the dual function on models above the dense-LU size (the matrix-free BiCGSTAB path), equal to the LP."""
    m = make(400, 5, K, seed=seed)
    sol, lp = check_against_lp(m)
    np.testing.assert_allclose(sol.multipliers, lp.multipliers, rtol=1e-7, atol=1e-9)
    assert cmdp_lagrange._SMOOTHING < 1.0
    monkeypatch.setattr(cmdp_lagrange, "_SMOOTHING", 1.0)
    pure = solve_cmdp_lagrange(m)
    assert pure.value == pytest.approx(sol.value, rel=1e-12)
    np.testing.assert_allclose(pure.multipliers, sol.multipliers, rtol=1e-8, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(finite_cmdps(max_states=5, max_actions=3, max_constraints=3))
def test_smoothed_kelley_on_tiny_random_cmdps_equals_the_lp(m):
    # Every K >= 2 model goes through the smoothed Kelley search (K = 1 through the breakpoint search).
    sol, lp = check_against_lp(m)
    check_multipliers(m, sol, lp)


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("transpose", [False, True])
def test_matrix_free_bicgstab_equals_lu(dense, transpose):
    """The chains' matrix-free BiCGSTAB (transpose as a CSC view of the row selection) solves the same
    systems as a sparse LU, for values and occupancies, from a cold and from a warm start."""
    import scipy.sparse.linalg as spla

    m = banded_cmdp(500, 4, 1, seed=5)
    P = m.transition_matrix.toarray().reshape(500, 4, 500) if dense else m.transition_matrix
    problem = cmdp_lagrange._problem(P, m.reward, m.costs, m.limits, m.initial, m.discount)
    chains = cmdp_lagrange._Chains(problem, cmdp_lagrange._Counters())
    assert not chains.direct and chains.dense == dense
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, size=500)
    b = rng.random(500)
    p_pi = m.transition_matrix[np.arange(500) * 4 + actions]
    system = sp.identity(500, format="csc") - m.discount * p_pi
    ref = spla.splu((system.T if transpose else system).tocsc()).solve(b)
    x = chains.solve(actions, b, transpose=transpose)
    np.testing.assert_allclose(x, ref, rtol=1e-11, atol=1e-12)
    warm = chains.solve(actions, b, transpose=transpose, x0=ref + 1e-3)
    np.testing.assert_allclose(warm, ref, rtol=1e-11, atol=1e-12)
    assert not chains.factorise and chains.counters.krylov_iterations > 0


def test_matrix_free_bicgstab_reports_divergence_and_iteration_caps():
    # An operator that is not I - gamma P of a sub-stochastic chain: the a-priori bound trips or the cap
    # ends it, with x = None and info != 0 (the chains then factorise).
    b = np.ones(50)
    # Solution 1e9 b, far beyond |b|_1 / (1 - gamma): abandoned when an iterate leaves 1e3 times that bound.
    x, info = cmdp_lagrange._bicgstab(lambda v: 1e-9 * v, b, 0.9, rtol=1e-13, maxiter=100)
    assert x is None and info == -1
    x, info = cmdp_lagrange._bicgstab(lambda v: v - 0.5 * v[::-1], b, 0.9, rtol=1e-13, maxiter=100)
    assert info == 0
    np.testing.assert_allclose(x, 2 * b, rtol=1e-12)
    x, info = cmdp_lagrange._bicgstab(lambda v: v * np.linspace(1e-6, 1.0, 50), b, 0.9, rtol=1e-13, maxiter=2)
    assert x is None and info != 0
