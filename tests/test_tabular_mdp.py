"""The tabular MDP core (mechsim.tabular_mdp) against independent oracles.

Oracles: the policy's chain and reward assembled by explicit loops and solved with a dense ``numpy`` solve;
power series / forward propagation of the state distribution; brute-force enumeration of every
deterministic (and, for a finite horizon, every Markov deterministic) policy on tiny MDPs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim import tabular_mdp as tm
from mechsim.errors import InvalidInstanceError, SolverError


def random_mdp(S, A, seed, *, n_terminal=0, exit_probability=0.0, sparse=False, concentration=0.5):
    """Dense ``(S, A, S)`` transitions (and their sparse form), rewards and an initial law.

    The last ``n_terminal`` states are terminal; every other (s, a) reaches one of them with probability at
    least ``exit_probability`` (so every policy is proper when it is positive).
    """
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(S, concentration), size=(S, A))
    if n_terminal and exit_probability:
        P[:, :, S - n_terminal:] += exit_probability / n_terminal
        P /= P.sum(axis=2, keepdims=True)
    reward = rng.standard_normal((S, A))
    initial = rng.dirichlet(np.ones(S))
    terminal = np.zeros(S, dtype=bool)
    terminal[S - n_terminal:] = True
    if n_terminal:
        initial[terminal] = 0.0
        initial /= initial.sum()
    transitions = sp.csr_array(P.reshape(S * A, S)) if sparse else P
    return transitions, P, reward, initial, terminal


def oracle_chain(P, policy):
    S, A, _ = P.shape
    p_pi = np.zeros((S, S))
    for s in range(S):
        for a in range(A):
            p_pi[s] += policy[s, a] * P[s, a]
    return p_pi


def oracle_values(P, policy, reward, gamma, terminal=None):
    """Dense solve of the restricted Bellman system with a chain built by loops."""
    S = P.shape[0]
    keep = np.ones(S, dtype=bool) if terminal is None else ~terminal
    p_pi = oracle_chain(P, policy)[np.ix_(keep, keep)]
    r_pi = np.array([sum(policy[s, a] * reward[s, a] for a in range(P.shape[1])) for s in range(S)])
    v = np.zeros(S)
    v[keep] = np.linalg.solve(np.eye(keep.sum()) - gamma * p_pi, r_pi[keep])
    return v


def forward_value(P, policies, reward, initial, gamma, horizon, terminal=None):
    """``sum_t gamma^t mu_t . r_{pi_t}`` with ``mu_{t+1} = mu_t P_{pi_t}`` (mass on terminal states removed)."""
    keep = np.ones(P.shape[0], dtype=bool) if terminal is None else ~terminal
    mu, total = initial * keep, 0.0
    for t in range(horizon):
        pi = policies[t] if policies.ndim == 3 else policies
        total += gamma ** t * mu @ (pi * reward).sum(axis=1)
        mu = (mu @ oracle_chain(P, pi)) * keep
    return total


def all_deterministic(S, A, allowed=None):
    choices = [range(A) if allowed is None else np.flatnonzero(allowed[s]) for s in range(S)]
    for actions in itertools.product(*choices):
        yield np.array(actions)


def random_policy(S, A, seed):
    return np.random.default_rng(seed).dirichlet(np.ones(A), size=S)


# --------------------------------------------------------------------------------------------- evaluation
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 10_000), st.booleans(),
       st.floats(0.0, 0.99))
def test_state_values_match_dense_oracle(S, A, seed, sparse, gamma):
    transitions, P, reward, initial, _ = random_mdp(S, A, seed, sparse=sparse)
    pi = random_policy(S, A, seed + 1)
    v = tm.state_values(transitions, pi, reward, gamma)
    np.testing.assert_allclose(v, oracle_values(P, pi, reward, gamma), rtol=1e-10, atol=1e-10)
    ev = tm.evaluate_policy(transitions, pi, reward, gamma, initial=initial)
    assert ev.value == pytest.approx(initial @ v, rel=1e-12, abs=1e-12)
    assert ev.signal_values.tolist() == [ev.value] and ev.signal_state_values.shape == (S, 1)
    # Q is one Bellman backup, and averaging it under the policy gives V back.
    np.testing.assert_allclose(ev.q_values, reward + gamma * np.einsum("sat,t->sa", P, v), atol=1e-10)
    np.testing.assert_allclose((pi * ev.q_values).sum(axis=1), v, atol=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
def test_signal_stack_with_per_signal_discounts(sparse):
    transitions, P, reward, initial, _ = random_mdp(7, 3, 0, sparse=sparse)
    rng = np.random.default_rng(1)
    stack = np.stack([reward, rng.random((7, 3)), -rng.random((7, 3)), rng.random((7, 3))], axis=-1)
    gammas = np.array([0.9, 0.5, 0.9, 0.0])
    pi = random_policy(7, 3, 2)
    ev = tm.evaluate_policy(transitions, pi, stack, gammas, initial=initial)
    for k, gamma in enumerate(gammas):
        oracle = oracle_values(P, pi, stack[..., k], gamma)
        np.testing.assert_allclose(ev.signal_state_values[:, k], oracle, rtol=1e-11, atol=1e-12)
        assert ev.signal_values[k] == pytest.approx(initial @ oracle, rel=1e-11, abs=1e-12)
    np.testing.assert_allclose(ev.state_values, ev.signal_state_values[:, 0])
    np.testing.assert_allclose(ev.discounts, gammas)
    q = tm.action_values(transitions, stack, ev.signal_state_values, gammas)
    np.testing.assert_allclose(q[..., 0], ev.q_values, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.einsum("sa,sak->sk", pi, q), ev.signal_state_values, atol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_terminal_states_equal_absorbing_zero_reward_states(sparse):
    """A terminal mask is the same as making those states absorbing with zero reward."""
    transitions, P, reward, initial, terminal = random_mdp(8, 3, 5, n_terminal=2, sparse=sparse)
    absorbing = P.copy()
    absorbing[terminal] = 0.0
    for s in np.flatnonzero(terminal):
        absorbing[s, :, s] = 1.0
    zero = np.where(terminal[:, None], 0.0, reward)
    pi = random_policy(8, 3, 6)
    v = tm.state_values(transitions, pi, reward, 0.95, terminal=terminal)
    np.testing.assert_allclose(v, oracle_values(absorbing, pi, zero, 0.95), rtol=1e-11, atol=1e-12)
    assert np.all(v[terminal] == 0.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_episodic_gamma_one_matches_power_series(sparse):
    transitions, P, reward, initial, terminal = random_mdp(9, 3, 11, n_terminal=2, exit_probability=0.2,
                                                           sparse=sparse)
    pi = random_policy(9, 3, 12)
    ev = tm.evaluate_policy(transitions, pi, reward, 1.0, initial=initial, terminal=terminal, check=True)
    assert ev.value == pytest.approx(forward_value(P, pi, reward, initial, 1.0, 400, terminal), rel=1e-10)
    assert np.all(ev.q_values[terminal] == 0.0)
    # Expected visits before termination: the same power series, state by state.
    occupancy = tm.state_occupancy(transitions, pi, initial, 1.0, terminal=terminal)
    mu, visits = initial * ~terminal, np.zeros(9)
    for _ in range(400):
        visits += mu
        mu = (mu @ oracle_chain(P, pi)) * ~terminal
    np.testing.assert_allclose(occupancy, visits, rtol=1e-10, atol=1e-12)
    x = tm.occupancy_measure(transitions, pi, initial, 1.0, terminal=terminal)
    assert (x * reward).sum() == pytest.approx(ev.value, rel=1e-10)


def test_discounted_occupancy_identities():
    transitions, P, reward, initial, _ = random_mdp(6, 4, 3, sparse=True)
    pi = random_policy(6, 4, 4)
    x = tm.occupancy_measure(transitions, pi, initial, 0.8)
    assert x.min() >= 0 and x.sum() == pytest.approx(1.0 / (1.0 - 0.8))
    ev = tm.evaluate_policy(transitions, pi, reward, 0.8, initial=initial)
    assert (x * reward).sum() == pytest.approx(ev.value, rel=1e-12)
    inverse = np.linalg.inv(np.eye(6) - 0.8 * oracle_chain(P, pi))
    np.testing.assert_allclose(x.sum(axis=1), initial @ inverse, rtol=1e-12)


@pytest.mark.parametrize("terminal_states", [0, 2])
def test_finite_horizon_matches_forward_propagation(terminal_states):
    transitions, P, reward, initial, terminal = random_mdp(7, 3, 21, n_terminal=terminal_states, sparse=True)
    terminal = terminal if terminal_states else None
    pi = random_policy(7, 3, 22)
    timed = np.random.default_rng(23).dirichlet(np.ones(3), size=(5, 7))
    for policy in (pi, timed):
        for gamma in (1.0, 0.7):
            ev = tm.evaluate_policy(transitions, policy, reward, gamma, initial=initial, terminal=terminal, horizon=5)
            want = forward_value(P, policy, reward, initial, gamma, 5, terminal)
            assert ev.value == pytest.approx(want, rel=1e-12, abs=1e-13)
            assert ev.horizon == 5
    # A long horizon converges to the infinite-horizon value; horizon 0 is worth nothing.
    long = tm.state_values(transitions, pi, reward, 0.7, terminal=terminal, horizon=200)
    np.testing.assert_allclose(long, tm.state_values(transitions, pi, reward, 0.7, terminal=terminal), atol=1e-12)
    assert np.all(tm.state_values(transitions, pi, reward, 0.7, horizon=0) == 0.0)


def test_large_sparse_iterative_path_matches_dense_solve():
    S, A = tm.DENSE_SOLVE_MAX_STATES + 150, 2
    rng = np.random.default_rng(3)
    rows = np.repeat(np.arange(S * A), 4)
    P = sp.csr_array((rng.random(S * A * 4), (rows, rng.integers(0, S, size=S * A * 4))), shape=(S * A, S))
    P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    pi = random_policy(S, A, 0)
    reward = rng.random((S, A, 2))
    p_pi = tm.policy_transition_matrix(P, pi)
    assert sp.issparse(p_pi)
    dense = tm.policy_transition_matrix(P, pi, dense=True)
    np.testing.assert_allclose(p_pi.toarray(), dense, atol=1e-15)
    system = np.eye(S) - 0.97 * dense
    r_pi = tm.policy_reward(reward, pi)
    np.testing.assert_allclose(tm.state_values(P, pi, reward, 0.97), np.linalg.solve(system, r_pi), rtol=1e-9)
    initial = np.full(S, 1.0 / S)
    np.testing.assert_allclose(tm.state_occupancy(P, pi, initial, 0.97), np.linalg.solve(system.T, initial),
                               rtol=1e-9)
    terminal = np.zeros(S, dtype=bool)
    terminal[:50] = True
    keep = ~terminal
    v = tm.state_values(P, pi, reward[..., 0], 1.0, terminal=terminal, check=True)
    sub = np.eye(keep.sum()) - dense[np.ix_(keep, keep)]
    np.testing.assert_allclose(v[keep], np.linalg.solve(sub, r_pi[keep, 0]), rtol=1e-8)
    assert np.all(v[terminal] == 0)


def test_chain_forms_agree():
    transitions, P, reward, initial, _ = random_mdp(5, 3, 8, sparse=True)
    pi = random_policy(5, 3, 9)
    oracle = oracle_chain(P, pi)
    for source in (P, transitions):
        for dense in (None, True, False):
            chain = tm.policy_transition_matrix(source, pi, dense=dense)
            assert sp.issparse(chain) == (dense is False or (dense is None and sp.issparse(source)))
            np.testing.assert_allclose(chain.toarray() if sp.issparse(chain) else chain, oracle, atol=1e-15)
    np.testing.assert_allclose(tm.expected_next(transitions, np.arange(5.0)), P @ np.arange(5.0), atol=1e-14)
    assert tm.mdp_shape(P) == tm.mdp_shape(transitions) == (5, 3)
    assert tm.flat_transitions(P).shape == (15, 5)


def test_one_state_textbook_values():
    P = np.ones((1, 2, 1))
    ev = tm.evaluate_policy(P, [[0.5, 0.5]], [[1.0, 0.0]], 0.9, initial=[1.0])
    assert ev.value == pytest.approx(5.0)
    assert tm.occupancy_measure(P, [[0.5, 0.5]], [1.0], 0.9) == pytest.approx(np.array([[5.0, 5.0]]))
    assert tm.policy_iteration(P, [[1.0, 0.0]], 0.9, initial=[1.0]).value == pytest.approx(10.0)


# ---------------------------------------------------------------------------------------------- planning
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sparse", [False, True])
def test_planning_matches_brute_force_over_deterministic_policies(seed, sparse):
    S, A, gamma = 4, 3, 0.85
    transitions, P, reward, initial, _ = random_mdp(S, A, seed, sparse=sparse)
    values = np.array([oracle_values(P, np.eye(A)[d], reward, gamma) for d in all_deterministic(S, A)])
    best = values.max(axis=0)  # an optimal policy is optimal from every state at once
    pi = tm.policy_iteration(transitions, reward, gamma, initial=initial)
    np.testing.assert_allclose(pi.state_values, best, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(oracle_values(P, np.eye(A)[pi.policy], reward, gamma), best, atol=1e-11)
    assert pi.value == pytest.approx(initial @ best)
    vi = tm.value_iteration(transitions, reward, gamma, initial=initial, tol=1e-13)
    np.testing.assert_allclose(vi.state_values, best, atol=1e-11)
    np.testing.assert_allclose(oracle_values(P, np.eye(A)[vi.policy], reward, gamma), best, atol=1e-10)
    # Bellman optimality of the returned action values.
    np.testing.assert_allclose(pi.q_values.max(axis=1), pi.state_values, atol=1e-11)


@pytest.mark.parametrize("seed", range(3))
def test_episodic_planning_with_mask_matches_brute_force(seed):
    S, A = 5, 3
    transitions, P, reward, initial, terminal = random_mdp(S, A, seed, n_terminal=1, exit_probability=0.3,
                                                           sparse=True)
    rng = np.random.default_rng(seed)
    allowed = rng.random((S, A)) < 0.6
    allowed[np.arange(S), rng.integers(0, A, size=S)] = True
    allowed[terminal] = False  # terminal rows need no allowed action
    choices = allowed | terminal[:, None]
    values = np.array([oracle_values(P, np.eye(A)[d], reward, 1.0, terminal)
                       for d in all_deterministic(S, A, choices)])
    best = values.max(axis=0)
    pi = tm.policy_iteration(transitions, reward, 1.0, terminal=terminal, allowed=allowed, initial=initial,
                             check=True)
    np.testing.assert_allclose(pi.state_values, best, rtol=1e-11, atol=1e-12)
    assert np.all(allowed[~terminal, pi.policy[~terminal]])
    vi = tm.value_iteration(transitions, reward, 1.0, terminal=terminal, allowed=allowed, tol=1e-13)
    np.testing.assert_allclose(vi.state_values, best, atol=1e-10)
    assert np.all(allowed[~terminal, vi.policy[~terminal]])
    assert np.isnan(vi.value)
    assert np.all(vi.q_values[terminal] == 0) and np.all(vi.state_values[terminal] == 0)


@pytest.mark.parametrize("gamma", [1.0, 0.6])
def test_backward_induction_matches_brute_force_over_markov_policies(gamma):
    S, A, H = 3, 2, 3
    transitions, P, reward, initial, _ = random_mdp(S, A, 4, sparse=True)
    res = tm.backward_induction(transitions, reward, H, gamma, initial=initial)
    assert res.q_values.shape == (H, S, A) and res.state_values.shape == (H + 1, S) and res.policy.shape == (H, S)
    deterministic = [np.eye(A)[d] for d in all_deterministic(S, A)]
    best = np.full(S, -np.inf)
    for schedule in itertools.product(deterministic, repeat=H):
        policies = np.stack(schedule)
        for s in range(S):
            best[s] = max(best[s], forward_value(P, policies, reward, np.eye(S)[s], gamma, H))
    np.testing.assert_allclose(res.state_values[0], best, rtol=1e-12, atol=1e-13)
    assert res.value == pytest.approx(initial @ best)
    greedy = np.eye(A)[res.policy]
    assert forward_value(P, greedy, reward, initial, gamma, H) == pytest.approx(res.value, rel=1e-12)
    assert np.all(res.state_values[H] == 0)
    np.testing.assert_array_equal(tm.backward_induction(transitions, reward, 0).state_values, np.zeros((1, S)))


@pytest.mark.parametrize("sparse", [False, True])
def test_soft_value_iteration_is_the_regularised_optimum(sparse):
    transitions, P, reward, initial, _ = random_mdp(6, 3, 30, sparse=sparse)
    tau, gamma = 0.4, 0.8
    log_pi, soft = tm.soft_value_iteration(transitions, reward, gamma, tau)
    pi = np.exp(log_pi)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    # The soft values are the policy's values for the entropy-regularised reward r - tau log pi ...
    np.testing.assert_allclose(oracle_values(P, pi, reward - tau * log_pi, gamma), soft, atol=1e-10)
    # ... and no other policy does better on that objective, from any state.
    for seed in range(20):
        other = random_policy(6, 3, seed)
        assert np.all(oracle_values(P, other, reward - tau * np.log(other), gamma) <= soft + 1e-10)
    # As tau -> 0 the soft optimum approaches the hard one (within tau log A / (1 - gamma)).
    hard = tm.policy_iteration(transitions, reward, gamma).state_values
    _, cold = tm.soft_value_iteration(transitions, reward, gamma, 1e-3)
    assert np.all(cold >= hard - 1e-9) and np.all(cold <= hard + 1e-3 * np.log(3) / (1 - gamma) + 1e-9)
    np.testing.assert_allclose(tm.log_softmax(np.array([1e4, 0.0])), [0.0, -1e4])


# -------------------------------------------------------------------------------------------- errors
def test_improper_policy_is_a_singular_system():
    # Two live states; action 0 stays put, action 1 moves to the terminal state 2.
    P = np.zeros((3, 2, 3))
    P[[0, 1], 0, [0, 1]] = 1.0
    P[:, 1, 2] = 1.0
    P[2, :, 2] = 1.0
    reward = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    terminal = np.array([False, False, True])
    stay = tm.deterministic_policy([0, 0, 0], 2)
    with pytest.raises(SolverError) as err:
        tm.state_values(P, stay, reward, 1.0, terminal=terminal)
    assert err.value.status == "singular"
    assert tm.state_values(P, stay, reward, 0.5, terminal=terminal).tolist() == [0.0, 0.0, 0.0]
    assert tm.state_values(P, tm.deterministic_policy([1, 1, 1], 2), reward, 1.0,
                           terminal=terminal).tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(SolverError):
        tm.state_occupancy(P, stay, [0.5, 0.5, 0.0], 1.0, terminal=terminal)
    with pytest.raises(SolverError):
        tm.policy_iteration(P, reward, 1.0, terminal=terminal, initial_policy=np.zeros(3, dtype=int))
    assert tm.policy_iteration(P, reward, 1.0, terminal=terminal).policy[:2].tolist() == [1, 1]


def test_validation_errors():
    P, _, reward, initial, _ = random_mdp(3, 2, 0)
    pi = random_policy(3, 2, 0)
    bad = [
        lambda: tm.state_values(P, pi, reward, 1.0),  # discount 1 without terminal states
        lambda: tm.state_values(P, pi, reward, 1.5),
        lambda: tm.state_values(P, pi, reward, [0.9, 0.9]),
        lambda: tm.state_values(P, pi[:2], reward, 0.9),
        lambda: tm.state_values(P, pi, reward[:2], 0.9),
        lambda: tm.state_values(P, pi, np.ones((3, 2, 2)), [0.9, 0.8, 0.7]),
        lambda: tm.state_values(P, pi, reward, 0.9, terminal=[True]),
        lambda: tm.state_values(P, pi, reward, 0.9, horizon=-1),
        lambda: tm.state_values(P, np.ones((4, 3, 2)) / 2, reward, 0.9, horizon=3),
        lambda: tm.state_values(np.ones((3, 2, 4)), pi, reward, 0.9),
        lambda: tm.state_values(sp.csr_array(np.ones((5, 3))), pi, reward, 0.9),
        lambda: tm.evaluate_policy(P, pi, reward, 0.9, initial=[1.0]),
        lambda: tm.expected_next(P, np.ones(4)),
        lambda: tm.value_iteration(P, np.ones((3, 2, 2)), 0.9),
        lambda: tm.value_iteration(P, reward, 0.9, allowed=[[True, True], [False, False], [True, False]]),
        lambda: tm.policy_iteration(P, reward, 0.9, initial_policy=[0, 1, 2]),
        lambda: tm.policy_iteration(P, reward, 0.9, initial_policy=[0.0, 1.0, 0.0]),
        lambda: tm.backward_induction(P, reward, -1),
        lambda: tm.soft_value_iteration(P, reward, 0.9, 0.0),
    ]
    for call in bad:
        with pytest.raises(InvalidInstanceError) as err:
            call()
        assert "expected" in str(err.value) and "found" in str(err.value)


def test_iteration_limits_raise_solver_errors():
    P, _, reward, _, _ = random_mdp(4, 3, 1)
    with pytest.raises(SolverError) as err:
        tm.value_iteration(P, reward, 0.99, tol=1e-14, max_iter=3)
    assert err.value.status == "max_iter" and err.value.details["last_change"] > 0
    with pytest.raises(SolverError, match="policy_iteration"):
        tm.policy_iteration(P, reward, 0.99, initial_policy=np.argmin(reward, axis=1), max_iter=1)


def test_result_subclasses_keep_the_core_fields():
    class Named(tm.PolicyEvaluation):
        @property
        def expected_return(self):
            return self.value

    P, _, reward, initial, _ = random_mdp(3, 2, 0)
    ev = tm.evaluate_policy(P, random_policy(3, 2, 0), reward, 0.9, initial=initial)
    named = Named.from_result(ev)
    assert isinstance(named, tm.PolicyEvaluation) and named.expected_return == ev.value
    assert named.state_values is ev.state_values and named.q_values is ev.q_values
    short = tm.PolicyEvaluation(0.5, np.zeros(3), None)
    assert short.signal_values.tolist() == [0.5] and short.signal_state_values.shape == (3, 1)
    with pytest.raises(TypeError):
        Named.from_result(tm.PlanningResult(None, None, None, 0.0, 0))


def test_transition_probabilities_are_checked_unless_validate_is_false():
    """The solving functions scan the transitions (finite, non-negative, rows of non-terminal states summing to
    one); rows of terminal states are never used and may be anything; validate=False skips the scan."""
    import pytest as _pytest

    from mechsim.errors import InvalidInstanceError as _Invalid
    from mechsim.tabular_mdp import evaluate_policy as _evaluate

    P = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])   # state 1 terminal: zero rows
    r = np.array([[1.0, 0.0], [0.0, 0.0]])
    pi = np.array([[0.5, 0.5], [0.0, 0.0]])
    ev = _evaluate(P, pi, r, 1.0, initial=[1.0, 0.0], terminal=[False, True])
    assert np.isfinite(ev.value)
    with _pytest.raises(_Invalid, match="transitions"):
        _evaluate(P, pi, r, 0.9, initial=[1.0, 0.0])               # the zero rows now matter
    bad = P.copy()
    bad[0, 0] = [1.5, -0.5]
    with _pytest.raises(_Invalid, match="transitions"):
        _evaluate(bad, pi, r, 1.0, initial=[1.0, 0.0], terminal=[False, True])
    _evaluate(bad, pi, r, 1.0, initial=[1.0, 0.0], terminal=[False, True], validate=False)  # trusted caller
