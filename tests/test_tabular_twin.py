"""Tests of the tabular twin of the short-video simulator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.cmdp.model import FiniteCMDP, evaluate_policy, uniform_policy
from mechsim.cmdp.simulator import (
    SIGNAL_NAMES,
    Catalogue,
    ShortVideoSimulator,
    SimulatorConfig,
    UserState,
)
from mechsim.cmdp.tabular_twin import tabular_recommender, twin_labels, twin_responses
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.cmdp_lp import cmdp_frontier, solve_cmdp


def slots(m) -> float:
    """``1 / (1 - gamma)``: a floor ``C`` on discounted likes is the limit ``slots - C`` on the missed-like cost."""
    return 1.0 / (1.0 - m.discount)


def like_reward(m) -> np.ndarray:
    """The like probability ``1 - cost_like`` (zero in the state "left")."""
    return 1.0 - m.costs[0]


def test_twin_is_a_valid_cmdp_with_the_documented_layout():
    m = tabular_recommender(("like", "hate"), n_fatigue=4, n_clusters=3, durations=(10.0, 40.0), qualities=(0.5,))
    assert isinstance(m, FiniteCMDP)
    assert (m.n_states, m.n_actions, m.n_constraints) == (4 * 3 + 1, 3 * 2 * 1, 2)
    assert m.constraint_names == ("like", "hate")
    P = m.dense_transitions()
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-12)
    left = m.n_states - 1
    np.testing.assert_array_equal(P[left, :, left], 1.0)
    assert np.all(m.reward[left] == 0)
    # Non-negative costs: missed likes 1 - P(like), 1 once the user has left; P(hate), 0 once left.
    assert np.all(m.costs[0, left] == 1) and np.all(m.costs[1, left] == 0)
    assert np.all(m.reward[:left] > 0)
    assert np.all((m.costs[0, :left] > 0) & (m.costs[0, :left] < 1)) and np.all(m.costs[1, :left] > 0)
    # Fatigue only moves up, one band at a time; only the last band can leave.
    F, M = 4, 3
    for s in range(left):
        f = s // M
        reach = np.flatnonzero(P[s].sum(axis=0) > 0)
        bands = {t // M if t != left else F for t in reach}
        assert bands <= {f, f + 1}
        assert (left in reach) == (f == F - 1)
    states, actions = twin_labels(4, 3, (10.0, 40.0), (0.5,))
    assert len(states) == m.n_states and len(actions) == m.n_actions
    # Default limits: the uniform recommender's costs.
    np.testing.assert_allclose(m.limits, evaluate_policy(m, uniform_policy(m)).cost_values)


@pytest.mark.parametrize("k, j", [(0, 0), (0, 5), (1, 2), (2, 11), (3, 23), (1, 16)])
def test_twin_rewards_and_costs_agree_with_simulator_in_expectation(k, j):
    """Monte Carlo through the simulator's sampling path reproduces the twin's r, c and fatigue law."""
    cfg = SimulatorConfig()
    constraints = ("click", "like", "comment", "hate")
    m = tabular_recommender(constraints, n_fatigue=5)
    resp = twin_responses(cfg)
    centres = resp["centres"]
    topic, duration, quality = resp["topics"][j], resp["durations"][j], resp["qualities"][j]
    catalogue = Catalogue(embeddings=centres[[topic]], topics=np.array([topic]), durations=np.array([duration]),
                          quality=np.array([quality]), topic_centres=centres)
    sim = ShortVideoSimulator(cfg, catalogue=catalogue)
    n = 200_000
    users = UserState(interest=np.tile(centres[k], (n, 1)), activity=np.zeros(n), temper=np.full(n, 15.0),
                      history=np.tile(centres[k], (n, cfg.history, 1)), n_seen=np.full(n, cfg.history))
    out = sim.step(users, np.zeros(n, dtype=int), seed=7)
    s = k  # fatigue band 0, cluster k
    means = out.signals.mean(axis=0)
    sd = out.signals.std(axis=0) / np.sqrt(n)
    assert abs(means[0] - m.reward[s, j]) < 5 * sd[0]
    for i, name in enumerate(constraints):
        p = m.costs[i, s, j] if name == "hate" else 1.0 - m.costs[i, s, j]
        assert abs(means[SIGNAL_NAMES.index(name)] - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12, name
    # Expected temper loss: the twin moves up a band with probability loss / width.
    width = (cfg.temper_init - cfg.leave_threshold) / 5
    loss = 15.0 - users.temper
    P = m.dense_transitions()
    p_up = P[s, j, 4:8].sum()  # band 1 holds states 4..7 (M = 4 clusters)
    assert abs(loss.mean() - p_up * width) < 5 * loss.std() / np.sqrt(n)
    # The conditional expectations used by the simulator equal the twin's numbers exactly.
    np.testing.assert_allclose(out.expected.mean(axis=0)[0], m.reward[s, j], rtol=1e-10)


def test_solve_cmdp_on_twin_respects_like_floors():
    m = tabular_recommender(("like",))
    unconstrained = solve_cmdp(m.with_limits([1e9]))
    most_likes = solve_cmdp(FiniteCMDP(m.transitions, like_reward(m), m.costs, [1e9], m.initial, m.discount))
    like_free, like_max = slots(m) - unconstrained.cost_values[0], most_likes.value
    assert like_max > like_free * 1.5  # the like floor is a real trade-off
    values = []
    for floor in np.linspace(like_free, like_max, 6)[1:-1]:
        sol = solve_cmdp(m.with_limits([slots(m) - floor]))
        ev = evaluate_policy(m, sol.policy)
        assert slots(m) - ev.cost_values[0] >= floor - 1e-6
        assert ev.value == pytest.approx(sol.value, rel=1e-7)
        assert sol.multipliers[0] > 0  # the floor binds
        values.append(sol.value)
    assert np.all(np.diff(values) < 0)  # higher floors cost watch time
    assert values[0] < unconstrained.value


@pytest.mark.parametrize("kwargs, match", [
    ({"constraints": ("watch_time",)}, "constraints"),
    ({"constraints": ("like", "like")}, "constraints"),
    ({"n_fatigue": 0}, "n_fatigue"),
    ({"n_fatigue": 2.5}, "n_fatigue"),
    ({"sparse": "yes"}, "sparse"),
    ({"sparse": 1}, "sparse"),
    ({"n_clusters": 9}, "n_clusters"),
    ({"durations": (0.0, 10.0)}, "durations"),
    ({"qualities": (0.5, 1.2)}, "qualities"),
    ({"discount": 1.0}, "discount"),
    ({"limits": [0.0, 1.0]}, "limits"),
])
def test_twin_validation(kwargs, match):
    with pytest.raises(InvalidInstanceError, match=match):
        tabular_recommender(**kwargs)


@settings(max_examples=15)
@given(n_fatigue=st.integers(1, 9), n_clusters=st.integers(1, 5),
       durations=st.lists(st.floats(3.0, 120.0), min_size=1, max_size=3),
       qualities=st.lists(st.floats(0.05, 0.95), min_size=1, max_size=2),
       discount=st.floats(0.5, 0.97), fraction=st.floats(0.0, 1.0))
def test_twin_property_lp_meets_any_achievable_floor(n_fatigue, n_clusters, durations, qualities, discount,
                                                     fraction):
    m = tabular_recommender(("like",), n_fatigue=n_fatigue, n_clusters=n_clusters, durations=durations,
                            qualities=qualities, discount=discount)
    assert m.n_states == n_fatigue * n_clusters + 1
    assert m.n_actions == n_clusters * len(durations) * len(qualities)
    free = solve_cmdp(m.with_limits([1e9]))
    most = solve_cmdp(FiniteCMDP(m.transitions, like_reward(m), m.costs, [1e9], m.initial, m.discount)).value
    low = slots(m) - free.cost_values[0]
    floor = low + fraction * (most - low)
    sol = solve_cmdp(m.with_limits([slots(m) - floor]))
    ev = evaluate_policy(m, sol.policy)
    assert slots(m) - ev.cost_values[0] >= floor - 1e-7 * (1 + abs(floor))
    assert ev.value <= free.value + 1e-7 * (1 + free.value)
    # The uniform recommender meets the default limits exactly, so it is never better than the LP optimum.
    uniform = evaluate_policy(m, uniform_policy(m))
    assert uniform.value <= solve_cmdp(m).value + 1e-7 * (1 + uniform.value)


def test_twin_costs_are_non_negative_for_every_signal():
    m = tabular_recommender(("click", "like", "follow", "comment", "share", "hate"), n_fatigue=3, n_clusters=2)
    assert m.costs.min() >= 0


def test_missed_like_cost_is_a_change_of_variables_of_the_like_floor():
    """The Safety-Gymnasium cost ``1 - P(like)`` (1 once the user has left) gives every policy the like cost
    ``1/(1 - gamma) - V_like``, so the floor ``V_like >= C`` is the limit ``1/(1 - gamma) - C`` and the exact
    frontier, its multipliers and optimal policies are those of the former signed cost ``-P(like)`` with limit
    ``-C`` (measured here to solver precision)."""
    m = tabular_recommender(("like",))
    like = like_reward(m)
    signed = FiniteCMDP(m.transitions, m.reward, -like[None], [0.0], m.initial, m.discount, ("like",))
    rng = np.random.default_rng(3)
    for _ in range(5):
        pi = rng.dirichlet(np.ones(m.n_actions), size=m.n_states)
        new, old = evaluate_policy(m, pi).cost_values[0], evaluate_policy(signed, pi).cost_values[0]
        assert new == pytest.approx(slots(m) + old, rel=1e-12)
    free = solve_cmdp(m.with_limits([1e9]))
    most = solve_cmdp(FiniteCMDP(m.transitions, like, m.costs, [1e9], m.initial, m.discount)).value
    floors = np.linspace(slots(m) - free.cost_values[0], most, 7)
    a = cmdp_frontier(m, 0, slots(m) - floors)
    b = cmdp_frontier(signed, 0, -floors)
    np.testing.assert_array_equal(a.feasible, b.feasible)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9)
    np.testing.assert_allclose(a.multipliers, b.multipliers, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(slots(m) - a.cost_values, -b.cost_values, rtol=1e-9)


@pytest.mark.parametrize("n_fatigue, n_clusters", [(5, 4), (9, 3), (12, 4), (40, 2), (700, 2)])
def test_sparse_twin_equals_dense_twin(n_fatigue, n_clusters):
    """Same numbers in both storages; every row a distribution; fine bands move n or n + 1 bands up with the
    simulator's expected temper loss (the mean-matching rule of the module docstring)."""
    kw = {"n_fatigue": n_fatigue, "n_clusters": n_clusters, "durations": (8.0, 50.0)}
    dense = tabular_recommender(("like", "hate"), sparse=False, **kw)
    sparse = tabular_recommender(("like", "hate"), sparse=True, **kw)
    assert not dense.is_sparse and sparse.is_sparse
    P = dense.dense_transitions()
    np.testing.assert_array_equal(P, sparse.dense_transitions())
    np.testing.assert_array_equal(dense.reward, sparse.reward)
    np.testing.assert_array_equal(dense.costs, sparse.costs)
    np.testing.assert_allclose(dense.limits, sparse.limits, rtol=1e-10)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-12)
    # Expected band moves (counting "left" as band F) equal L / W wherever the user cannot leave in one step.
    cfg = SimulatorConfig()
    resp = twin_responses(cfg, n_clusters, (8.0, 50.0))
    width = (cfg.temper_init - cfg.leave_threshold) / n_fatigue
    M, S = n_clusters, dense.n_states
    band = np.array([t // M for t in range(S - 1)] + [n_fatigue])
    for k in range(M):
        moves = P[k] @ band                      # from band 0, cluster k: (A,)
        jump = resp["temper_loss"][k] / width
        ok = jump + 1 < n_fatigue
        np.testing.assert_allclose(moves[ok], jump[ok], rtol=1e-12)


def test_default_storage_switches_above_the_threshold():
    from mechsim.cmdp.tabular_twin import SPARSE_MIN_STATES
    small = tabular_recommender(n_fatigue=5)
    big = tabular_recommender(n_fatigue=SPARSE_MIN_STATES // 4 + 1)
    assert not small.is_sparse and big.is_sparse and big.n_states > SPARSE_MIN_STATES


def test_fine_twin_lagrange_equals_lp():
    """The fine-grained (acyclic, triangular-chain) twin: the Lagrangian method and the LP agree."""
    m = tabular_recommender(("like",), n_fatigue=300, n_clusters=2, sparse=True)
    lo = solve_cmdp(m.with_limits([1e9]), method="lagrange")
    floor = slots(m) - lo.cost_values[0] + 0.3
    mm = m.with_limits([slots(m) - floor])
    lag = solve_cmdp(mm, method="lagrange")
    lp = solve_cmdp(mm, method="ipm")
    assert lag.method == "lagrange" and lag.multipliers[0] > 0
    assert lag.value == pytest.approx(lp.value, rel=1e-6)
    assert lag.multipliers[0] == pytest.approx(lp.multipliers[0], rel=1e-4)
    ev = evaluate_policy(mm, lag.policy)
    assert ev.cost_values[0] <= mm.limits[0] + 1e-6
