"""FiniteCMDP validation, exact policy evaluation, occupancy measures, structure, and the tabular env."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from mechsim import tabular_mdp
from mechsim.cmdp import (
    FiniteCMDP,
    cmdp_structure,
    evaluate_policy,
    occupancy_measure,
    uniform_policy,
)
from mechsim.cmdp import model as model_module
from mechsim.cmdp.planning import advantages, optimal_policy, soft_optimal_policy, state_values
from mechsim.cmdp.tabular_env import FiniteCMDPEnv
from mechsim.errors import InvalidInstanceError
from mechsim.testing import finite_cmdps


def textbook():
    return FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)


def random_policy(cmdp, seed):
    return np.random.default_rng(seed).dirichlet(np.ones(cmdp.n_actions), size=cmdp.n_states)


def power_series_values(cmdp, policy, signal, gamma, steps=3000):
    """Independent oracle: sum_t gamma^t mu P_pi^t x_pi by forward simulation of the state distribution."""
    P = cmdp.dense_transitions()
    p_pi = np.einsum("sa,sat->st", policy, P)
    x_pi = (signal * policy).sum(axis=1)
    dist, total, weight = cmdp.initial.copy(), 0.0, 1.0
    for _ in range(steps):
        total += weight * dist @ x_pi
        dist = dist @ p_pi
        weight *= gamma
    return total


def test_textbook_values():
    m = textbook()
    ev = evaluate_policy(m, [[0.5, 0.5]])
    assert ev.value == pytest.approx(5.0)
    assert ev.cost_values == pytest.approx([5.0])
    assert evaluate_policy(m, [[1.0, 0.0]]).value == pytest.approx(10.0)
    assert evaluate_policy(m, [[0.0, 1.0]]).value == pytest.approx(0.0)
    assert (m.n_states, m.n_actions, m.n_constraints) == (1, 2, 1)
    assert occupancy_measure(m, [[0.5, 0.5]]) == pytest.approx(np.array([[5.0, 5.0]]))


@given(finite_cmdps(max_states=5, max_actions=3), st.integers(0, 1000))
def test_evaluation_matches_power_series(cmdp, seed):
    pi = random_policy(cmdp, seed)
    ev = evaluate_policy(cmdp, pi)
    assert ev.value == pytest.approx(power_series_values(cmdp, pi, cmdp.reward, cmdp.discount), abs=1e-8)
    for k in range(cmdp.n_constraints):
        assert ev.cost_values[k] == pytest.approx(
            power_series_values(cmdp, pi, cmdp.costs[k], cmdp.discount), abs=1e-8)
    occ = occupancy_measure(cmdp, pi)
    assert occ.min() >= -1e-12
    assert occ.sum() == pytest.approx(1.0 / (1.0 - cmdp.discount))
    assert (occ * cmdp.reward).sum() == pytest.approx(ev.value, abs=1e-9)
    assert ev.state_values @ cmdp.initial == pytest.approx(ev.value)


@given(finite_cmdps(max_states=5, max_actions=3, sparse=True), st.integers(0, 1000))
def test_dense_and_sparse_transitions_agree(cmdp, seed):
    dense = FiniteCMDP(cmdp.dense_transitions(), cmdp.reward, cmdp.costs, cmdp.limits, cmdp.initial,
                       cmdp.discount)
    assert cmdp.is_sparse and not dense.is_sparse
    pi = random_policy(cmdp, seed)
    a, b = evaluate_policy(cmdp, pi), evaluate_policy(dense, pi)
    assert a.value == pytest.approx(b.value, abs=1e-10)
    np.testing.assert_allclose(a.cost_values, b.cost_values, atol=1e-10)


@given(finite_cmdps(max_states=4, max_actions=3, max_constraints=2), st.integers(0, 100))
def test_per_signal_discounts(cmdp, seed):
    pi = random_policy(cmdp, seed)
    K = cmdp.n_constraints
    gammas = np.linspace(0.3, 0.9, 1 + K)
    ev = evaluate_policy(cmdp, pi, discounts=gammas)
    for i, gamma in enumerate(gammas):
        other = FiniteCMDP(cmdp.transitions, cmdp.reward, cmdp.costs, cmdp.limits, cmdp.initial, float(gamma))
        ref = evaluate_policy(other, pi)
        got = ev.value if i == 0 else ev.cost_values[i - 1]
        want = ref.value if i == 0 else ref.cost_values[i - 1]
        assert got == pytest.approx(want, abs=1e-10)


def test_large_sparse_iterative_path_matches_dense_solve():
    rng = np.random.default_rng(3)
    S, A, b = model_module.DENSE_SOLVE_MAX_STATES + 200, 2, 4
    rows = np.repeat(np.arange(S * A), b)
    cols = rng.integers(0, S, size=S * A * b)
    P = sp.csr_array((rng.random(S * A * b), (rows, cols)), shape=(S * A, S))
    P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    m = FiniteCMDP(P, rng.random((S, A)), rng.random((1, S, A)), [1.0], np.full(S, 1.0 / S), 0.97)
    pi = random_policy(m, 0)
    ev = evaluate_policy(m, pi)
    p_pi = (sp.csr_array((pi.ravel(), np.arange(S * A), np.arange(0, S * A + 1, A)), shape=(S, S * A)) @ P)
    exact = np.linalg.solve(np.eye(S) - 0.97 * p_pi.toarray(), (m.reward * pi).sum(axis=1))
    np.testing.assert_allclose(ev.state_values, exact, rtol=1e-9, atol=1e-9)


def test_arrays_are_read_only_copies():
    r = np.array([[1.0, 0.0]])
    m = FiniteCMDP(np.ones((1, 2, 1)), r, [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    r[0, 0] = 7.0
    assert m.reward[0, 0] == 1.0
    with pytest.raises(ValueError):
        m.reward[0, 0] = 3.0


@pytest.mark.parametrize("kwargs, fragment", [
    ({"transitions": np.full((1, 2, 1), 0.9)}, "transitions"),
    ({"transitions": np.ones((1, 3, 1))}, "transitions"),
    ({"transitions": -np.ones((1, 2, 1))}, "transitions"),
    ({"transitions": sp.csr_array(np.ones((3, 1)))}, "transitions"),
    ({"transitions": sp.csr_array(np.array([[0.5], [1.0]]))}, "transitions"),
    ({"reward": [[1.0, np.nan]]}, "reward"),
    ({"costs": [[1.0, 0.0]]}, "costs"),
    ({"limits": [5.0, 1.0]}, "limits"),
    ({"initial": [0.5]}, "initial"),
    ({"discount": 1.0}, "discount"),
    ({"discount": -0.1}, "discount"),
    ({"discount": "0.9"}, "discount"),
    ({"constraint_names": ("a", "b")}, "constraint_names"),
])
def test_validation_errors_name_the_argument(kwargs, fragment):
    args = {"transitions": np.ones((1, 2, 1)), "reward": [[1.0, 0.0]], "costs": [[[1.0, 0.0]]], "limits": [5.0],
                "initial": [1.0], "discount": 0.9}
    args.update(kwargs)
    with pytest.raises(InvalidInstanceError, match=fragment) as err:
        FiniteCMDP(**args)
    assert "expected" in str(err.value) and "found" in str(err.value)


def test_policy_validation():
    m = textbook()
    with pytest.raises(InvalidInstanceError, match="policy"):
        evaluate_policy(m, [[0.7, 0.7]])
    with pytest.raises(InvalidInstanceError, match="policy"):
        evaluate_policy(m, [[1.0]])
    with pytest.raises(InvalidInstanceError, match="discounts"):
        evaluate_policy(m, [[0.5, 0.5]], discounts=[0.9, 1.0])


def test_structure_reachability_and_classes():
    # 0 <-> 1 communicate; 2 is absorbing and reachable from 1; 3 is unreachable and leads to 0.
    P = np.zeros((4, 2, 4))
    P[0, 0, 1] = P[0, 1, 0] = 1.0
    P[1, 0, 0] = 1.0
    P[1, 1, 2] = 1.0
    P[2, :, 2] = 1.0
    P[3, :, 0] = 1.0
    m = FiniteCMDP(P, np.zeros((4, 2)), np.zeros((0, 4, 2)), np.zeros(0), [1, 0, 0, 0], 0.9)
    info = cmdp_structure(m)
    assert info.reachable.tolist() == [True, True, True, False]
    assert set(info.classes) == {frozenset({0, 1}), frozenset({2}), frozenset({3})}
    assert info.closed_classes == (frozenset({2}),)
    assert not info.is_communicating


def test_with_limits_and_without_constraints():
    m = textbook()
    assert m.with_limits([3.0]).limits.tolist() == [3.0]
    free = m.without_constraints()
    assert free.n_constraints == 0
    assert evaluate_policy(free, uniform_policy(free)).cost_values.shape == (0,)


# ---------------------------------------------------------------------- the tabular MDP core
def seeded_cmdp(S, A, K, gamma, sparse, seed):
    rng = np.random.default_rng(seed)
    if sparse:
        rows = np.repeat(np.arange(S * A), 4)
        cols = rng.integers(0, S, size=S * A * 4)
        P = sp.csr_array((rng.random(S * A * 4), (rows, cols)), shape=(S * A, S))
        P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    else:
        P = rng.dirichlet(np.ones(S) * 0.3, size=(S, A))
    return FiniteCMDP(P, rng.standard_normal((S, A)), rng.standard_normal((K, S, A)), np.zeros(K),
                      rng.dirichlet(np.ones(S)), gamma)


def test_values_of_the_pre_core_implementation():
    """Numbers computed by mechsim.cmdp before its maths moved to mechsim.tabular_mdp (pinned at 1e-12)."""
    dense = seeded_cmdp(6, 3, 2, 0.9, False, 6)
    pi = np.random.default_rng(7).dirichlet(np.ones(3), size=6)
    ev = evaluate_policy(dense, pi)
    assert ev.value == pytest.approx(0.08756231137995645, rel=1e-12)
    np.testing.assert_allclose(ev.cost_values, [-0.44262169288421277, -3.6198127920741046], rtol=1e-12)
    occ = occupancy_measure(dense, pi)
    np.testing.assert_allclose(occ[0], [0.5380623041621307, 0.7796473026417382, 0.4323702491673151], rtol=1e-12)
    np.testing.assert_allclose(optimal_policy(dense)[1], [4.659842710097342, 4.534677594301512, 4.997796539072832,
                                                          5.446163023199158, 4.331218324933885, 5.992785065590099],
                               rtol=1e-12)
    sparse = seeded_cmdp(50, 4, 2, 0.9, True, 50)
    pi = np.random.default_rng(51).dirichlet(np.ones(4), size=50)
    ev = evaluate_policy(sparse, pi)
    assert ev.value == pytest.approx(0.5936129237130373, rel=1e-12)
    np.testing.assert_allclose(ev.cost_values, [0.46482235658774596, -0.23850426962399776], rtol=1e-12)
    per_signal = evaluate_policy(sparse, pi, discounts=[0.3, 0.6, 0.3])
    assert per_signal.value == pytest.approx(-0.1098754020531689, rel=1e-12)
    np.testing.assert_allclose(per_signal.cost_values, [0.09629688018295277, -0.042614210014576055], rtol=1e-12)
    policy, values = optimal_policy(sparse)
    assert values.sum() == pytest.approx(549.1594856021333, rel=1e-12)
    assert policy.argmax(axis=1)[:10].tolist() == [2, 1, 1, 2, 1, 3, 2, 0, 0, 0]
    log_pi, soft = soft_optimal_policy(sparse, sparse.reward, 0.5)
    assert soft.sum() == pytest.approx(644.0406428234885, rel=1e-12)
    assert log_pi.sum() == pytest.approx(-488.9771891075364, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_evaluation_is_the_core_evaluation(sparse):
    m = seeded_cmdp(9, 3, 2, 0.8, sparse, 1)
    pi = random_policy(m, 2)
    ev = evaluate_policy(m, pi)
    assert isinstance(ev, tabular_mdp.PolicyEvaluation)
    core = tabular_mdp.evaluate_policy(m.transitions, pi, np.moveaxis(m.signals(), 0, -1), m.discount,
                                       initial=m.initial)
    assert ev.value == core.value
    np.testing.assert_array_equal(ev.cost_values, core.signal_values[1:])
    np.testing.assert_array_equal(ev.cost_state_values, core.signal_state_values[:, 1:].T)
    assert ev.cost_state_values.shape == (2, 9) and ev.q_values is None
    assert ev.satisfies([np.inf, -np.inf]).tolist() == [True, False]
    np.testing.assert_allclose(state_values(m, pi, m.reward), ev.state_values, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(state_values(m, pi, m.signals()), np.vstack([ev.state_values, ev.cost_state_values]),
                               rtol=1e-13, atol=1e-14)
    adv = advantages(m, pi, m.signals())
    np.testing.assert_allclose((adv * pi).sum(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(model_module.action_values(m, m.reward, ev.state_values), core.q_values)
    values, occ = model_module._analyse(m, pi)
    np.testing.assert_array_equal(values[0], ev.state_values)
    np.testing.assert_allclose(occ, occupancy_measure(m, pi))
    chain = model_module.policy_transition_matrix(m, pi)
    assert sp.issparse(chain) == sparse


# ---------------------------------------------------------------------- env
def small_cmdp():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    return FiniteCMDP(P, rng.random((3, 2)), rng.random((2, 3, 2)), [1.0, 1.0], [0.5, 0.5, 0.0], 0.8,
                      constraint_names=("like floor", "hate"))


def test_finite_cmdp_env_passes_check_env():
    from gymnasium.utils.env_checker import check_env

    env = FiniteCMDPEnv(small_cmdp())
    check_env(env.unwrapped, skip_render_check=True)


def test_finite_cmdp_env_info_and_seeding():
    m = small_cmdp()
    env = FiniteCMDPEnv(m, max_episode_steps=7)
    obs, _ = env.reset(seed=5)
    trajectory = [obs]
    for t in range(7):
        obs, _, terminated, truncated, info = env.step(t % 2)
        trajectory.append(obs)
        assert info["costs"].shape == (2,)
        assert info["cost"] == pytest.approx(info["costs"].sum())
        assert info["cost_like_floor"] == info["costs"][0] and info["cost_hate"] == info["costs"][1]
        assert truncated == (t == 6) and not terminated
    obs, _ = env.reset(seed=5)
    again = [obs] + [env.step(t % 2)[0] for t in range(7)]
    assert again == trajectory


def test_finite_cmdp_env_monte_carlo_matches_exact_value():
    m = small_cmdp()
    env = FiniteCMDPEnv(m)
    rng = np.random.default_rng(1)
    totals = []
    for ep in range(3000):
        env.reset(seed=ep)
        total, weight, done = 0.0, 1.0, False
        while not done:
            a = int(rng.integers(2))
            _, _, term, trunc, info = env.step(a)
            total += weight * info["costs"][0]
            weight *= m.discount
            done = term or trunc
        totals.append(total)
    exact = evaluate_policy(m, uniform_policy(m)).cost_values[0]
    assert np.mean(totals) == pytest.approx(exact, abs=4 * np.std(totals) / np.sqrt(len(totals)))


def test_finite_cmdp_env_terminal_states():
    m = small_cmdp()
    env = FiniteCMDPEnv(m, terminal_states=[0, 1, 2])
    env.reset(seed=0)
    *_, terminated, truncated, _ = env.step(0)
    assert terminated and not truncated
