"""The Oberst–Sontag sepsis testbed: exact tabular model vs the procedural simulator, and exact debates on it."""

import numpy as np
import pytest
from scipy import stats

from mechsim.debate import BradleyTerryJudge, value_oracle_preferences
from mechsim.debate import oberst_sontag as os_
from mechsim.solvers.debate import brute_force_debate_value, solve_debate


@pytest.fixture(scope="module")
def model():
    return os_.build_model()


def test_model_rows_are_stochastic_and_absorbing(model):
    T = model.transitions
    assert T.shape == (os_.N_STATES * 8, os_.N_STATES)
    assert T.min() >= 0
    np.testing.assert_allclose(np.asarray(T.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    dense = model.dense_transitions()
    for s in (os_.DEATH, os_.DISCHARGE):
        np.testing.assert_array_equal(dense[s, :, s], 1.0)
        np.testing.assert_array_equal(model.rewards[s], 0.0)
    assert model.initial.sum() == pytest.approx(1.0)
    # Flags of every reachable live next state equal the action bits.
    s_idx, a_idx, s2 = np.nonzero(dense[:os_.N_LIVE_STATES, :, :os_.N_LIVE_STATES])
    f2 = model.features[s2]
    abx, vent, vaso = os_.action_bits(a_idx)
    np.testing.assert_array_equal(f2[:, 4], abx)
    np.testing.assert_array_equal(f2[:, 5], vaso)
    np.testing.assert_array_equal(f2[:, 6], vent)
    np.testing.assert_array_equal(f2[:, 7], model.features[s_idx, 7])  # diabetes never changes


def test_rewards_follow_the_rule(model):
    # All-normal untreated non-diabetic state, action 0: every vital fluctuates independently (hr, sysbp,
    # glucose leave normal w.p. 0.2, oxygen w.p. 0.1).  Closed forms for discharge and death:
    s = int(os_.encode_state(1, 1, 1, 2, 0, 0, 0, 0))
    row = model.transitions[s * 8].toarray().ravel()
    stay = 0.8 * 0.8 * 0.9 * 0.8
    leave = np.array([0.2, 0.2, 0.1, 0.2])
    death = sum(np.prod(np.where(np.isin(np.arange(4), out), leave, 1 - leave))
                for k in (3, 4) for out in __import__("itertools").combinations(range(4), k))
    assert row[os_.DISCHARGE] == pytest.approx(stay, abs=1e-14)
    assert row[os_.DEATH] == pytest.approx(death, abs=1e-14)
    assert death == pytest.approx(0.0176)
    assert model.rewards[s, 0] == pytest.approx(stay - death, abs=1e-14)
    # Two abnormal vitals (oxygen low, glucose very low): no treatment can reach discharge in one step.
    s = int(os_.encode_state(1, 1, 0, 0, 0, 0, 0, 0))
    dense_row = model.transitions[s * 8:(s + 1) * 8].toarray()
    assert np.all(dense_row[1:, os_.DISCHARGE] == 0)  # any treatment blocks discharge
    assert np.all(model.rewards[s] <= 0)


@pytest.mark.parametrize("state, action", [
    ((2, 0, 0, 2, 0, 0, 0, 0), 7),   # all treatments on, non-diabetic
    ((0, 0, 1, 1, 1, 1, 1, 1), 0),   # treatments stopped, diabetic
    ((2, 2, 0, 3, 0, 1, 0, 1), 5),   # antibiotics + vaso, diabetic
    ((1, 1, 1, 2, 0, 0, 1, 0), 2),   # vent kept on
    ((1, 0, 1, 4, 1, 0, 0, 1), 1),   # vaso on, diabetic, high glucose
])
def test_sampled_transitions_match_tabular_model(model, state, action):
    rng = np.random.default_rng(hash(state) % 2**32)
    n = 6000
    s = int(os_.encode_state(*state))
    counts = np.zeros(os_.N_STATES)
    for _ in range(n):
        x2, r, done = os_.step(np.array(state), action, rng)
        counts[(os_.DEATH if r < 0 else os_.DISCHARGE) if done else int(os_.encode_state(*x2))] += 1
    p = model.transitions[s * 8 + action].toarray().ravel()
    assert np.all(counts[p == 0] == 0), "simulator reached a state the model gives probability 0"
    support = np.flatnonzero(p > 0)
    expected = n * p[support]
    observed = counts[support]
    # Pool small cells so the chi-square approximation holds.
    small = expected < 5
    if small.any():
        expected = np.append(expected[~small], expected[small].sum())
        observed = np.append(observed[~small], observed[small].sum())
    if expected.size > 1:
        assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_simulated_returns_match_exact_policy_value(model):
    rng = np.random.default_rng(0)
    policy = rng.dirichlet(np.ones(8), size=os_.N_STATES)
    exact = os_.evaluate_policy(model, policy)
    returns, log = os_.simulate(policy, 4000, seed=1)
    se = returns.std() / np.sqrt(returns.size)
    assert abs(returns.mean() - exact) < 4 * se + 1e-3


def test_values_of_the_pre_core_implementation(model):
    """Numbers computed by this module before its maths moved to mechsim.tabular_mdp (pinned at 1e-12)."""
    rng = np.random.default_rng(3)
    stationary = rng.dirichlet(np.ones(8), size=os_.N_STATES)
    timed = rng.dirichlet(np.ones(8), size=(20, os_.N_STATES))
    assert os_.evaluate_policy(model, stationary) == pytest.approx(-0.7137764852023128, rel=1e-12)
    assert os_.evaluate_policy(model, timed) == pytest.approx(-0.7127738283095056, rel=1e-12)
    q, v = os_.value_iteration(model)
    assert model.initial @ v[0] == pytest.approx(0.5807978723374442, rel=1e-12)
    q, v = os_.value_iteration(model, horizon=5, gamma=0.9)
    assert model.initial @ v[0] == pytest.approx(0.21310262323583318, rel=1e-12)


def test_evaluation_matches_forward_propagation(model):
    """Oracle: ``sum_t gamma^t mu_t . r_{pi_t}`` with the state distribution pushed forward through P_pi."""
    rng = np.random.default_rng(5)
    timed = rng.dirichlet(np.ones(8), size=(6, os_.N_STATES))
    P = model.transitions
    for gamma in (1.0, 0.8):
        mu, total = model.initial.copy(), 0.0
        for t in range(6):
            total += gamma ** t * mu @ (timed[t] * model.rewards).sum(axis=1)
            mu = (mu[:, None] * timed[t]).ravel() @ P
        assert os_.evaluate_policy(model, timed, horizon=6, gamma=gamma) == pytest.approx(total, rel=1e-12)


def test_value_iteration_is_optimal(model):
    q, v = os_.value_iteration(model, horizon=20)
    greedy = np.eye(8)[q.argmax(axis=2)]
    best = os_.evaluate_policy(model, greedy)
    assert best == pytest.approx(model.initial @ v[0], abs=1e-12)
    rng = np.random.default_rng(3)
    for _ in range(5):
        assert os_.evaluate_policy(model, rng.dirichlet(np.ones(8), size=os_.N_STATES)) <= best + 1e-12
    # Backward induction is consistent: V_t = max_a [R + P V_{t+1}] at every t.
    for t in (0, 7, 19):
        np.testing.assert_allclose(v[t], (model.rewards + model.expected_next(v[t + 1])).max(axis=1), atol=1e-12)


def test_exact_debates_on_the_testbed(model):
    """A judge trained from Q* preferences: exact minimax matches brute force on every sampled state."""
    q, _ = os_.value_iteration(model, horizon=20)
    x = model.standardised_features(observed_only=True)
    live = ~model.terminal_live_states()
    data = value_oracle_preferences(x[live], q[0, :os_.N_LIVE_STATES][live], 3000, beta=5.0, seed=0)
    judge = BradleyTerryJudge(7, 8, n_evidence=3, hidden=(16,), seed=0).fit(*data.as_tuple(), epochs=5, seed=1)
    rng = np.random.default_rng(2)
    for s in rng.choice(np.flatnonzero(live), size=4, replace=False):
        a1, a2 = rng.choice(8, size=2, replace=False)
        for L in (2, 3):
            exact = solve_debate(judge, x[s], (a1, a2), L)
            assert exact.value == brute_force_debate_value(judge, x[s], (a1, a2), L)


def test_decode_encode_roundtrip_and_errors():
    idx = np.arange(os_.N_LIVE_STATES)
    np.testing.assert_array_equal(os_.encode_state(*os_.decode_state(idx).T), idx)
    with pytest.raises(ValueError, match="index"):
        os_.decode_state(os_.N_LIVE_STATES)
    with pytest.raises(ValueError, match="policy"):
        os_.evaluate_policy(os_.build_model(), np.ones((3, 8)) / 8)


def test_initial_law_by_rejection(model):
    """Rejection sampling from the simulator's initial marginals matches the exact initial law."""
    rng = np.random.default_rng(0)
    n = 60000
    diab = rng.random(n) < 0.2
    hr = rng.choice(3, size=n, p=[.25, .5, .25])
    bp = rng.choice(3, size=n, p=[.25, .5, .25])
    ox = rng.choice(2, size=n, p=[.2, .8])
    glu = np.where(diab, rng.choice(5, size=n, p=[.01, .05, .15, .6, .19]),
                   rng.choice(5, size=n, p=[.05, .15, .6, .15, .05]))
    n_abn = (hr != 1).astype(int) + (bp != 1) + (ox != 1) + (glu != 2)
    keep = (n_abn > 0) & (n_abn < 3)
    idx = os_.encode_state(hr[keep], bp[keep], ox[keep], glu[keep], 0, 0, 0, diab[keep].astype(int))
    freq = np.bincount(idx, minlength=os_.N_STATES) / keep.sum()
    assert np.abs(freq - model.initial).max() < 0.01
    assert model.initial[~np.isin(np.arange(os_.N_STATES), idx)].sum() < 1e-3
    feats = model.features[model.initial[:os_.N_LIVE_STATES] > 0]
    assert np.all(feats[:, 4:7] == 0)
