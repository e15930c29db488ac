"""Tests of mechsim.learners: textbook regret bounds, equilibrium convergence, exactness of batch paths."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linprog

import mechsim.learners as L
from mechsim.errors import InvalidInstanceError
from mechsim.learners import (
    Exp3,
    ExploreThenCommit,
    Hedge,
    RegretMatching,
    etc_exploration_length,
    etc_regret_bound,
    exp3_regret_bound,
    exploitability,
    hedge_regret_bound,
    regret_matching_regret_bound,
    regret_matching_self_play,
    simulate_explore_then_commit,
)
from mechsim.testing import assert_probability_vector, seeds


def alternating(T, K=2):
    """(1/2, 0), (0, 1), (1, 0), ...: follow-the-leader's worst case; extra actions always lose."""
    x = np.ones((T, K))
    x[:, 0] = (np.arange(T) % 2 == 0)
    x[:, 1] = (np.arange(T) % 2 == 1)
    x[0, :2] = (0.5, 0.0)
    return x


def bernoulli(T, means, seed):
    return (np.random.default_rng(seed).random((T, len(means))) < np.asarray(means)).astype(float)


loss_matrices = st.integers(1, 6).flatmap(
    lambda k: hnp.arrays(np.float64, st.tuples(st.integers(1, 300), st.just(k)),
                         elements=st.floats(0.0, 1.0, allow_subnormal=False)))


# ------------------------------------------------------------------------------------------------- Hedge

@settings(max_examples=40)
@given(loss_matrices)
def test_hedge_tuned_regret_within_bound_on_every_sequence(x):
    T, K = x.shape
    regret = Hedge(K, horizon=T, seed=0).run(x).regret()[-1]
    assert regret <= hedge_regret_bound(T, K) + 1e-9


@settings(max_examples=30)
@given(loss_matrices, st.floats(0.01, 5.0))
def test_hedge_fixed_and_anytime_bounds(x, eta):
    T, K = x.shape
    assert Hedge(K, learning_rate=eta).run(x, sample_actions=False).regret()[-1] <= \
        hedge_regret_bound(T, K, learning_rate=eta) + 1e-9
    curve = Hedge(K).run(x, sample_actions=False).regret()
    # the anytime bound holds at every prefix
    assert np.all(curve <= hedge_regret_bound(np.arange(1, T + 1), K, anytime=True) + 1e-9)


@pytest.mark.parametrize("K", [2, 10])
def test_hedge_bound_on_adversarial_and_stochastic_sequences(K):
    T = 50_000
    for x in (alternating(T, K), bernoulli(T, [0.4] + [0.5] * (K - 1), seed=3),
              np.random.default_rng(5).random((T, K))):
        trace = Hedge(K, horizon=T, seed=1).run(x)
        assert trace.regret()[-1] <= hedge_regret_bound(T, K)
    # on the alternating sequence the tuned rate pays about T eta / 8 = half the bound: the bound is not loose
    r = Hedge(K, horizon=T).run(alternating(T, K), sample_actions=False).regret()[-1]
    assert 0.4 * hedge_regret_bound(T, K) < r


def test_follow_the_leader_fails_the_bound_so_the_check_can_fail():
    T = 2000
    x = alternating(T)
    ftl_like = Hedge(2, learning_rate=100.0).run(x, sample_actions=False).regret()[-1]
    assert ftl_like > 0.4 * T > hedge_regret_bound(T, 2)


@settings(max_examples=30)
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(0, 50, allow_subnormal=False)),
       st.integers(0, 100))
def test_hedge_probabilities_are_a_distribution_ordered_by_loss(cum, t):
    h = Hedge(cum.size)
    h.cumulative_losses = cum.copy()
    h.t = t
    p = h.probabilities
    assert_probability_vector(p, size=cum.size)
    order = np.argsort(cum, kind="stable")
    assert np.all(np.diff(p[order]) <= 1e-15)  # lower cumulative loss -> no smaller probability


def test_hedge_rate_schedules():
    assert Hedge(4, horizon=100).learning_rate == pytest.approx(math.sqrt(8 * math.log(4) / 100))
    assert Hedge(4, learning_rate=0.3, horizon=100).learning_rate == 0.3
    h = Hedge(4)
    assert h.learning_rate is None
    assert h._rates(0, 3)[:, 0] == pytest.approx(np.sqrt(8 * math.log(4) / np.arange(1, 4)))


# ------------------------------------------------------------------------------------------------- EXP3

@pytest.mark.parametrize("horizon_known", [True, False])
def test_exp3_pseudo_regret_within_bound(horizon_known):
    T, K = 20_000, 5
    means = [0.4] + [0.5] * (K - 1)
    envs = {"alternating": (alternating(T, K), None), "stochastic": (bernoulli(T, means, 9), np.array(means))}
    bound = exp3_regret_bound(T, K, anytime=not horizon_known)
    for name, (x, mu) in envs.items():
        regrets = []
        for seed in range(3):
            learner = Exp3(K, horizon=T if horizon_known else None, seed=seed)
            trace = learner.run(x, mean_losses=mu)
            if mu is None:
                regrets.append(trace.regret()[-1])
            else:
                regrets.append(trace.mean_expected.sum() - T * mu.min())
        assert max(regrets) <= bound, (name, regrets, bound)
        assert np.mean(regrets) > 0


def test_exp3_learns_the_best_arm():
    T, K = 30_000, 4
    x = bernoulli(T, [0.2, 0.6, 0.6, 0.6], seed=2)
    trace = Exp3(K, horizon=T, seed=0).run(x)
    assert np.mean(trace.actions[-5000:] == 0) > 0.9


def test_exp3_importance_weighting_is_unbiased():
    # E[l_hat_i] = l_i: average the first-round estimate over many independent learners
    loss = np.array([0.3, 0.9, 0.5])
    est = np.zeros(3)
    n = 10_000
    rng = np.random.default_rng(0)
    for _ in range(n):
        e = Exp3(3, horizon=10, seed=rng)
        a = e.act()
        e.update(a, loss[a])
        est += e.estimated_losses
    assert np.allclose(est / n, loss, atol=0.045)  # about 3.5 standard errors for the noisiest arm


# ------------------------------------------------------------------------------------------- regret matching

utility_matrices = st.integers(1, 5).flatmap(
    lambda k: hnp.arrays(np.float64, st.tuples(st.integers(1, 200), st.just(k)),
                         elements=st.floats(-1.0, 1.0, allow_subnormal=False)))


@settings(max_examples=40)
@given(utility_matrices, st.booleans())
def test_regret_matching_regret_bound(u, plus):
    T, K = u.shape
    rm = RegretMatching(K, plus=plus)
    trace = rm.run(u, sample_actions=False)
    width = 2.0  # utilities in [-1, 1]
    assert np.all(trace.regret() <= regret_matching_regret_bound(np.arange(1, T + 1), K, width) + 1e-9)
    assert_probability_vector(rm.probabilities, size=K)
    assert_probability_vector(rm.average_strategy, size=K)
    if plus:
        assert np.all(rm.regrets >= 0)


def test_regret_matching_long_adversarial_and_stochastic():
    T = 20_000
    for K, x in ((2, alternating(T)), (6, bernoulli(T, [0.3] + [0.5] * 5, 1))):
        for plus in (False, True):
            trace = RegretMatching(K, plus=plus, seed=0).run(1.0 - x)
            assert trace.regret()[-1] <= regret_matching_regret_bound(T, K)


def rps():
    return np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])


@pytest.mark.parametrize("plus", [False, True])
def test_self_play_rock_paper_scissors_converges(plus):
    res = regret_matching_self_play(rps(), rounds=20_000, plus=plus,
                                    initial_strategies=([0.7, 0.2, 0.1], [0.1, 0.1, 0.8]))
    assert res.exploitability_curve[0] > 0.5  # started far from equilibrium
    assert res.exploitability < 0.02
    assert np.allclose(res.average_a, 1 / 3, atol=0.02) and np.allclose(res.average_b, 1 / 3, atol=0.02)
    assert res.exploitability == pytest.approx(exploitability(res.average_a, res.average_b, rps()))


def test_self_play_matching_pennies_converges():
    pennies = np.array([[1.0, -1.0], [-1.0, 1.0]])
    res = regret_matching_self_play(pennies, rounds=20_000, initial_strategies=([0.9, 0.1], [0.2, 0.8]))
    assert res.exploitability < 0.02
    # exploitability shrinks along the run (first vs last checkpoints)
    assert res.exploitability_curve[-1] < 0.1 * res.exploitability_curve[0]
    assert np.allclose(res.average_a, 0.5, atol=0.02)


def lp_value(a):
    """Value of the zero-sum game max_x min_y x^T A y (independent oracle)."""
    n, m = a.shape
    # variables (x, v): maximise v s.t. A^T x >= v, sum x = 1, x >= 0
    c = np.r_[np.zeros(n), -1.0]
    a_ub = np.c_[-a.T, np.ones(m)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(m), A_eq=np.r_[np.ones(n), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0, None)] * n + [(None, None)], method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_self_play_random_zero_sum_matches_lp_value(seed):
    a = np.random.default_rng(seed).uniform(-1, 1, size=(4, 5))
    value = lp_value(a)
    for plus in (False, True):
        res = regret_matching_self_play(a, rounds=10_000, plus=plus)
        x, y = res.average_a, res.average_b
        low, high = (x @ a).min(), (a @ y).max()
        assert low - 1e-12 <= value <= high + 1e-12  # duality: the bracket always contains the value
        assert high - low == pytest.approx(res.exploitability)
        assert res.exploitability < 0.02
        assert abs(res.value - value) <= res.exploitability + 1e-12


def test_exploitability_is_zero_exactly_at_equilibrium():
    assert exploitability([0.5, 0.5], [0.5, 0.5], [[1, -1], [-1, 1]]) == 0.0
    assert exploitability([1, 0], [1, 0], [[1, -1], [-1, 1]]) == pytest.approx(2.0)
    # general-sum: prisoner's dilemma, (defect, defect) is the equilibrium
    a = np.array([[3.0, 0.0], [5.0, 1.0]])
    assert exploitability([0, 1], [0, 1], a, a.T) == 0.0
    assert exploitability([1, 0], [1, 0], a, a.T) == pytest.approx(4.0)


# ------------------------------------------------------------------------------------------------- ETC

def test_etc_schedule():
    T, K = 100_000, 5
    m = etc_exploration_length(T, K)
    assert m == math.ceil((T / K) ** (2 / 3) * math.log(T) ** (1 / 3))
    assert etc_exploration_length(10, 20) == 1
    assert etc_exploration_length(30, 3) <= 10
    learner = ExploreThenCommit(K, T)
    assert learner.exploration == m and learner.exploration_rounds == m * K


@pytest.mark.parametrize("means", [[0.5, 0.4], [0.5, 0.45, 0.4, 0.3, 0.3], [0.9, 0.89, 0.1]])
def test_etc_pseudo_regret_within_bound(means):
    means = np.array(means)
    for T in (2_000, 30_000):
        bound = etc_regret_bound(T, means.size)
        for seed in range(5):
            x = bernoulli(T, means, seed)
            trace = ExploreThenCommit(means.size, T, seed=seed).run(x, mean_rewards=means)
            pseudo = T * means.max() - trace.mean_expected.sum()
            assert pseudo <= bound
        sims = [simulate_explore_then_commit(means, T, seed=s).pseudo_regret for s in range(50)]
        assert max(sims) <= bound


def test_etc_aggregate_simulation_matches_round_by_round_in_law():
    means = np.array([0.5, 0.45])
    T = 400
    m = etc_exploration_length(T, 2)
    wrong_round = np.mean([ExploreThenCommit(2, T, seed=s).run(bernoulli(T, means, 1000 + s)).actions[-1] == 1
                           for s in range(400)])
    wrong_agg = np.mean([simulate_explore_then_commit(means, T, seed=s).committed_arm == 1 for s in range(4000)])
    se = math.sqrt(wrong_agg * (1 - wrong_agg) / 400)
    assert 0.02 < wrong_agg < 0.5
    assert abs(wrong_round - wrong_agg) < 4 * se + 0.01
    sim = simulate_explore_then_commit(means, T, seed=0)
    assert sim.exploration == m and sim.pulls.sum() == T
    assert sim.pseudo_regret == pytest.approx(0.05 * sim.pulls[1])


def test_etc_commits_to_best_empirical_arm():
    K, T = 3, 300
    x = np.zeros((T, K))
    x[:, 2] = 1.0
    learner = ExploreThenCommit(K, T, seed=0)
    trace = learner.run(x)
    assert learner.committed_arm == 2
    assert np.all(trace.actions[learner.exploration_rounds:] == 2)
    assert list(trace.actions[:6]) == [0, 1, 2, 0, 1, 2]


def test_etc_horizon_shorter_than_exploration():
    sim = simulate_explore_then_commit([0.2, 0.8, 0.5], 2, seed=0)
    assert sim.committed_arm is None and sim.pulls.tolist() == [1, 1, 0]


# ------------------------------------------------------------------------------- exactness, determinism

def _per_round(make, x, kind):
    learner = make()
    actions = []
    for row in x:
        if kind == "hedge":
            actions.append(learner.act())
            learner.update(row)
        elif kind == "rm":
            actions.append(learner.act())
            learner.update(row)
        else:
            a = learner.act()
            actions.append(a)
            learner.update(a, row[a])
    return learner, np.array(actions)


@pytest.mark.parametrize("K", [3, 40])  # 40 > SMALL_K exercises the numpy state
@pytest.mark.parametrize("variant", ["tuned", "anytime", "fixed"])
def test_hedge_batch_equals_per_round(K, variant, monkeypatch):
    monkeypatch.setattr(L._core, "_CHUNK", 64)  # several chunks: exercises the carried state
    x = np.random.default_rng(K).random((300, K))
    kw = {"tuned": {"horizon": 300}, "anytime": {}, "fixed": {"learning_rate": 0.2}}[variant]
    batch = Hedge(K, seed=7, **kw)
    trace = batch.run(x)
    loop, actions = _per_round(lambda: Hedge(K, seed=7, **kw), x, "hedge")
    assert np.array_equal(trace.actions, actions)
    assert np.array_equal(batch.cumulative_losses, loop.cumulative_losses)
    assert np.array_equal(batch.probabilities, loop.probabilities)


@pytest.mark.parametrize("K", [3, 40])
@pytest.mark.parametrize("horizon", [400, None])
def test_exp3_batch_equals_per_round(K, horizon, monkeypatch):
    monkeypatch.setattr(L._core, "_CHUNK", 64)
    monkeypatch.setattr(L._core, "_RESCALE_BELOW", 0.5)  # force the weight rescaling path too
    x = np.random.default_rng(K).random((400, K))
    batch = Exp3(K, horizon=horizon, seed=3)
    trace = batch.run(x)
    loop, actions = _per_round(lambda: Exp3(K, horizon=horizon, seed=3), x, "exp3")
    assert np.array_equal(trace.actions, actions)
    assert np.array_equal(batch.estimated_losses, loop.estimated_losses)
    assert np.array_equal(batch.probabilities, loop.probabilities)
    # two half runs equal one run
    halves = Exp3(K, horizon=horizon, seed=3)
    a1, a2 = halves.run(x[:150]).actions, halves.run(x[150:]).actions
    assert np.array_equal(np.r_[a1, a2], trace.actions)


@pytest.mark.parametrize("K", [3, 40])
@pytest.mark.parametrize("plus", [False, True])
def test_regret_matching_batch_equals_per_round(K, plus, monkeypatch):
    monkeypatch.setattr(L._core, "_CHUNK", 64)
    x = np.random.default_rng(K).uniform(-1, 1, (300, K))
    batch = RegretMatching(K, plus=plus, seed=4)
    trace = batch.run(x)
    loop, actions = _per_round(lambda: RegretMatching(K, plus=plus, seed=4), x, "rm")
    assert np.array_equal(trace.actions, actions)
    assert np.array_equal(batch.regrets, loop.regrets)
    assert np.array_equal(batch.average_strategy, loop.average_strategy)


def test_etc_batch_equals_per_round():
    K, T = 4, 500
    x = (np.random.default_rng(0).random((T, K)) < 0.5).astype(float)  # ties are likely: tie-break path
    batch = ExploreThenCommit(K, T, seed=11, exploration=3)
    trace = batch.run(x)
    loop, actions = _per_round(lambda: ExploreThenCommit(K, T, seed=11, exploration=3), x, "etc")
    assert np.array_equal(trace.actions, actions)
    assert np.array_equal(batch.reward_sums, loop.reward_sums) and batch.committed_arm == loop.committed_arm
    halves = ExploreThenCommit(K, T, seed=11, exploration=3)
    assert np.array_equal(np.r_[halves.run(x[:5]).actions, halves.run(x[5:]).actions], trace.actions)


@settings(max_examples=10)
@given(seeds())
def test_same_seed_same_numbers(seed):
    x = np.random.default_rng(1).random((200, 4))
    for make in (lambda s: Hedge(4, seed=s), lambda s: Exp3(4, seed=s), lambda s: RegretMatching(4, seed=s),
                 lambda s: ExploreThenCommit(4, 200, seed=s)):
        t1, t2 = make(seed).run(x), make(seed).run(x)
        assert np.array_equal(t1.actions, t2.actions) and np.array_equal(t1.expected, t2.expected)
    s1 = simulate_explore_then_commit([0.5, 0.4], 10**6, seed=seed)
    s2 = simulate_explore_then_commit([0.5, 0.4], 10**6, seed=seed)
    assert np.array_equal(s1.pulls, s2.pulls) and s1.pseudo_regret == s2.pseudo_regret
    assert np.array_equal(s1.empirical_means, s2.empirical_means)


def test_different_seeds_differ():
    x = np.random.default_rng(1).random((200, 4))
    assert not np.array_equal(Exp3(4, seed=1).run(x).actions, Exp3(4, seed=2).run(x).actions)
    assert not np.array_equal(Hedge(4, seed=1).run(x).actions, Hedge(4, seed=2).run(x).actions)


def test_long_run_is_feasible_for_a_million_rounds():
    # the vectorised Hedge path processes 10^6 rounds in one call (memory bounded by chunks)
    T, K = 10**6, 3
    x = np.zeros((T, K))
    x[:, 1:] = 1.0
    trace = Hedge(K, horizon=T).run(x, sample_actions=False)
    assert trace.expected.shape == (T,) and trace.regret()[-1] <= hedge_regret_bound(T, K)


# ------------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, match", [
    (lambda: Hedge(3).update([0.1, 1.5, 0.2]), r"losses: expected values <= 1"),
    (lambda: Hedge(3).update([0.1, -0.5, 0.2]), r"losses: expected values >= 0"),
    (lambda: Hedge(3).update([0.1, 0.2]), r"losses: expected shape \(3,\)"),
    (lambda: Hedge(3).run(np.full((4, 3), np.nan)), r"losses: expected finite"),
    (lambda: Hedge(3).run(np.full((4, 2), 0.5)), r"losses: expected shape \(\*, 3\)"),
    (lambda: Hedge(0), r"n_actions: expected an integer >= 1"),
    (lambda: Hedge(3, learning_rate=-1.0), r"learning_rate: expected a positive number"),
    (lambda: Hedge(3, horizon=0), r"horizon: expected an integer >= 1"),
    (lambda: Hedge(3, seed=-4), r"seed: expected a non-negative integer"),
    (lambda: Exp3(3).update(3, 0.5), r"action: expected an integer <= 2"),
    (lambda: Exp3(3).update(0, 2.0), r"loss: expected values <= 1"),
    (lambda: Exp3(3).run(np.full((5, 3), 1.2)), r"losses: expected values <= 1"),
    (lambda: Exp3(3).run(np.full((5, 3), 0.2), mean_losses=[0.1, 0.2]), r"mean_losses: expected shape"),
    (lambda: RegretMatching(2).update([np.inf, 0.0]), r"utilities: expected finite"),
    (lambda: ExploreThenCommit(2, 10).update(0, -0.1), r"reward: expected values >= 0"),
    (lambda: ExploreThenCommit(2, 0), r"horizon: expected an integer >= 1"),
    (lambda: simulate_explore_then_commit([0.5, 1.5], 10), r"means: expected values <= 1"),
    (lambda: regret_matching_self_play(rps(), rounds=0), r"rounds: expected an integer >= 1"),
    (lambda: regret_matching_self_play(rps(), payoff_b=np.zeros((2, 3))), r"payoff_b: expected shape"),
    (lambda: regret_matching_self_play(rps(), initial_strategies=([1, 0, 0], [0.5, 0.6, 0])),
     r"initial_strategies\[1\]: expected a probability vector"),
    (lambda: exploitability([0.5, 0.5], [1.0], [[1, 0], [0, 1]]), r"strategy_b: expected shape \(2,\)"),
])
def test_clear_errors(call, match):
    with pytest.raises(InvalidInstanceError, match=match):
        call()


# ------------------------------------------------------------------------------------- more properties

def lp_equilibrium(a):
    """Optimal strategies of both players from two LPs (independent oracle)."""
    n, m = a.shape
    res_x = linprog(np.r_[np.zeros(n), -1.0], A_ub=np.c_[-a.T, np.ones(m)], b_ub=np.zeros(m),
                    A_eq=np.r_[np.ones(n), 0.0][None, :], b_eq=[1.0],
                    bounds=[(0, None)] * n + [(None, None)], method="highs")
    res_y = linprog(np.r_[np.zeros(m), 1.0], A_ub=np.c_[a, -np.ones(n)], b_ub=np.zeros(n),
                    A_eq=np.r_[np.ones(m), 0.0][None, :], b_eq=[1.0],
                    bounds=[(0, None)] * m + [(None, None)], method="highs")
    return res_x.x[:n], res_y.x[:m]


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 5), st.integers(1, 5))
def test_exploitability_nonnegative_and_zero_at_lp_equilibrium(seed, n, m):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, m))
    x, y = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m))
    assert exploitability(x, y, a) >= -1e-12
    assert exploitability(x, y, a, rng.uniform(-1, 1, (n, m))) >= -1e-12
    xs, ys = lp_equilibrium(a)
    xs, ys = np.clip(xs, 0, None), np.clip(ys, 0, None)
    assert exploitability(xs / xs.sum(), ys / ys.sum(), a) <= 1e-7


def test_single_action_learners_are_trivial():
    x = np.random.default_rng(0).random((50, 1))
    for learner in (Hedge(1, horizon=50, seed=0), Exp3(1, horizon=50, seed=0), Exp3(1, seed=0),
                    RegretMatching(1, seed=0), ExploreThenCommit(1, 50, seed=0)):
        trace = learner.run(1.0 - x if isinstance(learner, (RegretMatching, ExploreThenCommit)) else x)
        assert np.all(trace.actions == 0)
        assert np.allclose(trace.regret(), 0.0, atol=1e-9)
        assert learner.probabilities.tolist() == [1.0]


def test_etc_bound_is_sane():
    T = np.array([10, 100, 10**4, 10**6])
    b = etc_regret_bound(T, 4)
    assert np.all(b <= T) and np.all(np.diff(b) > 0)
    assert isinstance(etc_regret_bound(1000, 4), float)
    # T^(2/3) order: the bound over T^(2/3) (ln T)^(1/3) stays within constants
    scaled = b[2:] / (T[2:] ** (2 / 3) * np.log(T[2:]) ** (1 / 3) * 4 ** (1 / 3))
    assert np.all((scaled > 0.5) & (scaled < 4))


def test_regret_matching_against_a_fixed_opponent_sequence():
    # row player of matching pennies (wins by matching) against a fixed sequence in which the opponent plays
    # action 0 in 70% of the rounds: regret matching learns the best response, action 0
    a = np.array([[1.0, -1.0], [-1.0, 1.0]])
    opponent = (np.random.default_rng(0).random(5000) < 0.3).astype(int)  # action 0 w.p. 0.7
    rm = RegretMatching(2, seed=0)
    trace = rm.run(a[:, opponent].T)
    assert rm.average_strategy[0] > 0.9
    assert trace.regret()[-1] <= regret_matching_regret_bound(5000, 2, utility_range=2.0)
