"""Lagrangian, PID-Lagrangian and TSCAC learners held against the exact LP optimum."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from mechsim.cmdp import (
    FiniteCMDP,
    FiniteCMDPEnv,
    evaluate_policy,
    lagrangian_sample,
    lagrangian_tabular,
    pid_lagrangian_sample,
    pid_lagrangian_tabular,
    tscac_sample,
    tscac_tabular,
    tscac_target,
)
from mechsim.cmdp.planning import optimal_policy, soft_optimal_policy
from mechsim.errors import InvalidInstanceError
from mechsim.learners.multipliers import GradientMultiplier, PIDController, PIDMultiplier
from mechsim.learners.policies import SoftmaxPolicy, collect_episodes, featurizer
from mechsim.solvers.cmdp_lp import solve_cmdp


def textbook():
    return FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)


def binding_cmdp(seed, S=4, A=3, gamma=0.8):
    """A random CMDP whose single constraint is set 10% below the uniform policy's cost."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    m = FiniteCMDP(P, rng.random((S, A)), rng.random((1, S, A)), [0.0], np.ones(S) / S, gamma)
    uniform = evaluate_policy(m, np.full((S, A), 1.0 / A)).cost_values
    return m.with_limits(0.9 * uniform)


# ---------------------------------------------------------------------- tabular Lagrangian / PID
@pytest.mark.parametrize("seed", [1, 3])
def test_pid_converges_to_lp_value_and_multiplier(seed):
    m = binding_cmdp(seed)
    lp = solve_cmdp(m)
    assert lp.multipliers[0] > 0.1  # the constraint binds
    res = pid_lagrangian_tabular(m, iterations=1000, kp=1.0, ki=0.1, kd=0.0, policy_lr=0.5)
    assert res.value == pytest.approx(lp.value, abs=1e-6)
    assert res.cost_values == pytest.approx(lp.cost_values, abs=1e-6)
    assert res.multipliers == pytest.approx(lp.multipliers, abs=1e-5)
    # It learned: the uniform start is worse or infeasible.
    assert res.training_values.shape == (1000,) and res.training_costs.shape == (1000, 1)
    np.testing.assert_allclose(res.policy, lp.policy, atol=1e-4)


def test_pid_textbook_reaches_randomised_optimum():
    res = pid_lagrangian_tabular(textbook(), iterations=500, kp=1.0, ki=0.1, kd=0.0)
    assert res.value == pytest.approx(5.0, abs=1e-6)
    np.testing.assert_allclose(res.policy, [[0.5, 0.5]], atol=1e-6)
    assert res.multipliers == pytest.approx([1.0], abs=1e-6)


def test_lagrangian_best_response_oscillates_but_average_converges():
    m = textbook()
    res = lagrangian_tabular(m, iterations=2000, multiplier_lr=0.05, policy_update="best_response")
    tail = res.training_values[-200:]
    # Last iterates are deterministic policies (value 0 or 10), never the randomised optimum 5.
    assert set(np.round(tail, 9)) == {0.0, 10.0}
    assert res.violation_fraction(m.limits) > 0.3
    assert res.average_value == pytest.approx(5.0, abs=0.05)
    assert res.average_cost_values == pytest.approx([5.0], abs=0.05)
    np.testing.assert_allclose(res.average_policy, [[0.5, 0.5]], atol=0.01)
    # The multiplier keeps crossing the saddle value lambda* = 1.
    assert res.training_multipliers[-200:, 0].min() < 1.0 < res.training_multipliers[-200:, 0].max()


@pytest.mark.parametrize("seed", [1, 3])
def test_lagrangian_average_approaches_lp_on_random_cmdp(seed):
    m = binding_cmdp(seed)
    lp = solve_cmdp(m)
    res = lagrangian_tabular(m, iterations=1500, multiplier_lr=0.05, policy_update="best_response")
    assert np.std(res.training_values[-100:]) > 1e-3  # the last iterate keeps oscillating
    assert res.average_value == pytest.approx(lp.value, abs=0.02)
    assert res.average_cost_values[0] <= m.limits[0] + 0.02
    # Average of occupancies: its exact value equals the average of the iterates' values.
    assert res.average_value == pytest.approx(res.training_values.mean(), abs=1e-9)


def test_lagrangian_npg_and_default_gains_run_and_improve_lagrangian():
    m = binding_cmdp(3)
    lp = solve_cmdp(m)
    for res in (lagrangian_tabular(m, iterations=300), pid_lagrangian_tabular(m, iterations=300)):
        assert abs(res.average_value - lp.value) < abs(res.training_values[0] - lp.value) + 1e-9
        assert np.all(res.training_multipliers >= 0)


# ---------------------------------------------------------------------- TSCAC
@given(st.integers(2, 5), st.integers(1, 3), st.integers(0, 10_000))
@settings(max_examples=20)
def test_tscac_closed_form_equals_numerical_maximisation(A, m, seed):
    rng = np.random.default_rng(seed)
    adv = rng.normal(size=A)
    aux = rng.dirichlet(np.ones(A), size=m)
    lam = rng.uniform(0.2, 2.0, size=m)
    closed = np.exp(tscac_target(adv, np.log(aux), lam))

    def negative_objective(z):
        pi = np.exp(z - z.max())
        pi /= pi.sum()
        kl = (pi * (np.log(pi) - np.log(aux))).sum(axis=1)
        return -(pi @ adv - lam @ kl)

    best = minimize(negative_objective, np.zeros(A), method="BFGS", options={"gtol": 1e-10})
    numeric = np.exp(best.x - best.x.max())
    numeric /= numeric.sum()
    np.testing.assert_allclose(closed, numeric, atol=1e-5)
    assert -negative_objective(np.log(closed)) >= -best.fun - 1e-9


def test_tscac_target_validation():
    with pytest.raises(InvalidInstanceError, match="aux_log_policies"):
        tscac_target(np.zeros(3), np.zeros((2, 4)), [1.0, 1.0])
    with pytest.raises(InvalidInstanceError, match="weights"):
        tscac_target(np.zeros(3), np.zeros((1, 3)), [0.0])


def test_soft_optimal_policy_is_a_soft_bellman_fixed_point():
    m = binding_cmdp(2)
    tau = 0.5
    log_pi, v = soft_optimal_policy(m, m.reward, tau)
    q = m.reward + m.discount * m.dense_transitions() @ v
    np.testing.assert_allclose(v, tau * np.log(np.exp(q / tau).sum(axis=1)), atol=1e-9)
    np.testing.assert_allclose(np.exp(log_pi).sum(axis=1), 1.0)


@pytest.mark.parametrize("seed", [1, 3])
def test_tscac_interpolates_and_stays_below_the_lp_frontier(seed):
    m = binding_cmdp(seed)
    greedy_value = evaluate_policy(m, optimal_policy(m)[0]).value
    results = [tscac_tabular(m, w, temperature=0.2, iterations=500) for w in (0.01, 0.3, 10.0)]
    for res in results:
        assert res.converged
        # The LP optimum at TSCAC's own cost level is an upper bound: closeness to a policy is only a proxy.
        frontier_value = solve_cmdp(m.with_limits(res.cost_values + 1e-9)).value
        assert res.value <= frontier_value + 1e-7
    # Small weight: close to the main-signal optimum; large weight: close to the auxiliary policy.
    assert results[0].value == pytest.approx(greedy_value, abs=0.05)
    aux_cost = evaluate_policy(m, results[2].aux_policies[0]).cost_values[0]
    assert results[2].cost_values[0] == pytest.approx(aux_cost, abs=0.1)
    assert results[0].value >= results[1].value - 1e-9 >= results[2].value - 2e-9


def test_tscac_tabular_per_signal_discounts():
    m = binding_cmdp(1)
    res = tscac_tabular(m, 0.3, discounts=[0.8, 0.5], temperature=0.2)
    assert res.converged and res.training_costs.shape[1] == 1


# ---------------------------------------------------------------------- sample-based
def tiny():
    return binding_cmdp(1, S=3, A=2, gamma=0.7)


@pytest.mark.parametrize("learner, extra", [(lagrangian_sample, {"multiplier_lr": 0.2}),
                                            (pid_lagrangian_sample, {"kp": 1.0, "ki": 0.1, "kd": 0.0})])
def test_sample_learners_approach_lp_optimum(learner, extra):
    m = tiny()
    lp = solve_cmdp(m)
    env = FiniteCMDPEnv(m)
    res = learner(env, m.limits, iterations=60, episodes_per_iteration=10, discount=m.discount, lr=0.1,
                  seed=0, **extra)
    # PID's last iterate settles; the plain Lagrangian's does not, so its averaged policy is the answer.
    learned = res.policy.table() if learner is pid_lagrangian_sample else res.average_policy
    final = evaluate_policy(m, learned)
    uniform = evaluate_policy(m, np.full((3, 2), 0.5))
    def lagrangian(ev):
        return ev.value - lp.multipliers @ (ev.cost_values - m.limits)
    assert lagrangian(final) > lagrangian(uniform)
    assert final.value == pytest.approx(lp.value, abs=0.1 * abs(lp.value))
    assert final.cost_values[0] <= m.limits[0] + 0.12 * abs(m.limits[0])
    assert res.training_values.shape == (60,) and res.training_costs.shape == (60, 1)
    assert res.average_policy.shape == (3, 2)


def test_sample_learner_is_deterministic_given_seed():
    m = tiny()
    a = lagrangian_sample(FiniteCMDPEnv(m), m.limits, iterations=5, episodes_per_iteration=3, seed=7)
    b = lagrangian_sample(FiniteCMDPEnv(m), m.limits, iterations=5, episodes_per_iteration=3, seed=7)
    np.testing.assert_array_equal(a.policy.weights, b.policy.weights)
    np.testing.assert_array_equal(a.training_costs, b.training_costs)


def test_tscac_sample_moves_between_aux_and_main():
    m = tiny()
    env = FiniteCMDPEnv(m)
    exact = tscac_tabular(m, 0.3, temperature=0.2)
    res = tscac_sample(env, 0.3, discounts=m.discount, stage_one_iterations=40, iterations=60,
                       episodes_per_iteration=10, lr=0.1, temperature=0.2, seed=0)
    ev = evaluate_policy(m, res.policy.table())
    aux = evaluate_policy(m, res.aux_policies[0].table())
    uniform = evaluate_policy(m, np.full((3, 2), 0.5))
    # Stage one improved its own signal (lower cost than uniform); stage two trades some of it for reward.
    assert aux.cost_values[0] < uniform.cost_values[0]
    assert ev.value > aux.value
    assert ev.value == pytest.approx(exact.value, abs=0.15 * abs(exact.value))
    assert res.aux_training_values.shape == (1, 40)


def test_sample_learner_argument_errors():
    m = tiny()
    env = FiniteCMDPEnv(m)
    with pytest.raises(InvalidInstanceError, match="limits"):
        lagrangian_sample(env, [1.0, 2.0], iterations=1, episodes_per_iteration=1, seed=0)
    with pytest.raises(InvalidInstanceError, match="env"):
        lagrangian_sample("env", [1.0])
    with pytest.raises(InvalidInstanceError, match="discount"):
        pid_lagrangian_sample(env, [1.0], discount=1.0)


def test_linear_softmax_policy_on_box_observations():
    m = tiny()
    lp = solve_cmdp(m)
    box = gym.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float64)
    env = gym.wrappers.TransformObservation(FiniteCMDPEnv(m), lambda s: np.eye(3)[s], box)
    res = pid_lagrangian_sample(env, m.limits, iterations=60, episodes_per_iteration=10, discount=m.discount,
                                lr=0.1, kp=1.0, ki=0.1, kd=0.0, seed=0)
    assert not res.policy.tabular and res.average_policy is None
    assert res.policy.weights.shape == (2, 4)  # one-hot state plus a bias feature
    logits = np.hstack([np.eye(3), np.ones((3, 1))]) @ res.policy.weights.T
    table = np.exp(logits - logits.max(axis=1, keepdims=True))
    table /= table.sum(axis=1, keepdims=True)
    final, uniform = evaluate_policy(m, table), evaluate_policy(m, np.full((3, 2), 0.5))
    def lagrangian(ev):
        return ev.value - lp.multipliers @ (ev.cost_values - m.limits)
    assert lagrangian(final) > lagrangian(uniform)
    assert final.value == pytest.approx(lp.value, abs=0.1 * abs(lp.value))


class ScalarCostOnly(gym.Wrapper):
    """FiniteCMDPEnv whose info carries only a scalar "cost" (no "costs" array)."""

    def __init__(self, cmdp):
        super().__init__(FiniteCMDPEnv(cmdp))

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, {"cost": info["cost"]}


def test_sample_learners_accept_scalar_cost_and_per_signal_discounts():
    m = tiny()
    res = pid_lagrangian_sample(ScalarCostOnly(m), m.limits, iterations=3, episodes_per_iteration=2,
                                discount=[0.7, 0.5], seed=1)
    assert res.training_costs.shape == (3, 1) and res.episodes == 6
    ts = tscac_sample(FiniteCMDPEnv(m), [0.5], discounts=[0.7, 0.5], stage_one_iterations=2, iterations=3,
                      episodes_per_iteration=2, seed=1)
    again = tscac_sample(FiniteCMDPEnv(m), [0.5], discounts=[0.7, 0.5], stage_one_iterations=2, iterations=3,
                         episodes_per_iteration=2, seed=1)
    np.testing.assert_array_equal(ts.policy.weights, again.policy.weights)
    assert ts.training_values.shape == (3,) and ts.episodes == 10


# ---------------------------------------------------------------------- one multiplier update (PIDController)
def _former_gradient_rule(costs_seq, limits, lr):
    """The former ``GradientMultiplier`` of mechsim.cmdp.lagrangian, verbatim: the oracle of the merge."""
    lam = np.zeros(limits.size)
    out = []
    for costs in costs_seq:
        lam = np.maximum(0.0, lam + lr * (costs - limits))
        out.append(lam.copy())
    return np.array(out)


def _former_pid_rule(costs_seq, limits, kp, ki, kd):
    """The former ``PIDMultiplier`` of mechsim.cmdp.lagrangian, verbatim."""
    integral, previous, out = np.zeros(limits.size), None, []
    for costs in costs_seq:
        delta = costs - limits
        integral = np.maximum(0.0, integral + ki * delta)
        prev = costs if previous is None else previous
        derivative = np.maximum(0.0, costs - prev)
        previous = costs.copy()
        out.append(np.maximum(0.0, kp * delta + integral + kd * derivative))
    return np.array(out)


def _run_rule(rule, costs_seq, limits):
    state = rule.start(limits.size)
    return np.array([rule.update(state, costs.copy(), limits) for costs in costs_seq])


@given(st.integers(0, 10_000), st.integers(1, 3), st.floats(0.01, 3.0), st.floats(0.0, 2.0), st.floats(0.0, 2.0))
@settings(max_examples=40)
def test_multiplier_rules_reproduce_the_former_updates_exactly(seed, K, ki, kp, kd):
    rng = np.random.default_rng(seed)
    costs_seq = rng.normal(size=(30, K)) * rng.choice([1e-3, 1.0, 1e3])
    limits = rng.normal(size=K)
    np.testing.assert_array_equal(_run_rule(GradientMultiplier(ki), costs_seq, limits),
                                  _former_gradient_rule(costs_seq, limits, ki))
    np.testing.assert_array_equal(_run_rule(PIDMultiplier(kp, ki, kd), costs_seq, limits),
                                  _former_pid_rule(costs_seq, limits, kp, ki, kd))
    # Dual ascent is the PID controller with K_I only, bit for bit.
    np.testing.assert_array_equal(_run_rule(GradientMultiplier(ki), costs_seq, limits),
                                  _run_rule(PIDMultiplier(0.0, ki, 0.0), costs_seq, limits))


def test_pid_controller_cap_and_initial_integral():
    c = PIDController(2, kp=np.array([1.0, 0.0]), ki=0.5, kd=0.0, initial=[2.0, 0.0], max_value=3.0)
    np.testing.assert_array_equal(c.update(np.array([1.0, 1.0]), np.zeros(2)), [3.0, 0.5])  # 1 + 2.5 capped at 3
    np.testing.assert_array_equal(c.integral, [2.5, 0.5])
    np.testing.assert_array_equal(c.update(np.array([-10.0, -10.0]), np.zeros(2)), [0.0, 0.0])
    assert c.previous.tolist() == [-10.0, -10.0]


def test_multiplier_rule_errors():
    with pytest.raises(InvalidInstanceError, match="lr"):
        GradientMultiplier(0.0).start(1)
    with pytest.raises(InvalidInstanceError, match="kd"):
        PIDMultiplier(kd=-1.0).start(1)


# ---------------------------------------------------------------------- episodes through mechsim.rollout
def _former_collect_episodes(env, policy, phi, n_episodes, discounts, rng, max_steps):
    """The former hand-written loop of mechsim.cmdp.sampling.collect_episodes: the oracle of the rollout port."""
    feats, acts, sigs, steps, lengths = [], [], [], [], []
    n_actions = policy.weights.shape[0]
    if policy.tabular:
        cumulative_table = np.cumsum(policy.table(), axis=1)
    for _ in range(n_episodes):
        obs, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        length = 0
        for t in range(max_steps):
            f = phi(obs)[0]
            if policy.tabular:
                cumulative = cumulative_table[int(np.argmax(f))]
            else:
                logits = policy.weights @ f
                cumulative = np.cumsum(np.exp(logits - logits.max()))
            action = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                         n_actions - 1)
            obs, reward, terminated, truncated, info = env.step(action)
            feats.append(f)
            acts.append(action)
            sigs.append(np.concatenate([[float(reward)], np.atleast_1d(info["costs"])]))
            steps.append(t)
            length += 1
            if terminated or truncated:
                break
        lengths.append(length)
    return np.asarray(feats), np.asarray(acts), np.asarray(sigs), np.asarray(steps), np.asarray(lengths)


@pytest.mark.parametrize("box", [False, True])
@pytest.mark.parametrize("max_steps", [5, 200])
def test_collect_episodes_equals_the_former_loop(box, max_steps):
    m = tiny()
    env = FiniteCMDPEnv(m)
    if box:
        space = gym.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float64)
        env = gym.wrappers.TransformObservation(env, lambda s: np.eye(3)[s], space)
    phi, F = featurizer(env.observation_space)
    policy = SoftmaxPolicy(np.random.default_rng(4).normal(size=(2, F)), not box)
    discounts = np.array([0.7, 0.7])
    batch = collect_episodes(env, policy, phi, 7, discounts, np.random.default_rng(11), max_steps)
    feats, acts, sigs, steps, lengths = _former_collect_episodes(env, policy, phi, 7, discounts,
                                                                 np.random.default_rng(11), max_steps)
    np.testing.assert_array_equal(batch.features, feats)
    np.testing.assert_array_equal(batch.actions, acts)
    np.testing.assert_array_equal(batch.signals, sigs)
    np.testing.assert_array_equal(batch.steps, steps)
    np.testing.assert_array_equal(batch.lengths, lengths)
    assert lengths.max() <= max_steps
    # Returns-to-go: G(t) = x(t) + gamma G(t + 1) within each episode; the first step's is the episode total.
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    np.testing.assert_allclose(batch.episode_returns, batch.returns[first])


# ---------------------------------------------------------------------- module layout
def test_learners_live_in_the_learners_layer_and_old_paths_still_work():
    import mechsim.cmdp.lagrangian
    import mechsim.cmdp.sampling
    import mechsim.cmdp.tabular_env
    import mechsim.cmdp.tscac
    import mechsim.envs
    import mechsim.envs.finite_cmdp
    import mechsim.learners
    import mechsim.learners.lagrangian as lagrangian
    import mechsim.learners.tscac as tscac

    assert lagrangian_tabular is lagrangian.lagrangian_tabular is mechsim.cmdp.lagrangian.lagrangian_tabular
    assert tscac_sample is tscac.tscac_sample is mechsim.cmdp.tscac.tscac_sample is mechsim.learners.tscac_sample
    assert mechsim.cmdp.sampling.collect_episodes is collect_episodes
    assert FiniteCMDPEnv is mechsim.envs.FiniteCMDPEnv is mechsim.cmdp.tabular_env.FiniteCMDPEnv
    assert FiniteCMDPEnv.__module__ == "mechsim.envs.finite_cmdp"
    assert mechsim.cmdp.PIDMultiplier is PIDMultiplier is mechsim.learners.PIDMultiplier
    for package in (mechsim.cmdp, mechsim.cmdp.lagrangian, mechsim.cmdp.tscac, mechsim.cmdp.sampling,
                    mechsim.cmdp.tabular_env):
        assert all(getattr(package, name) is not None for name in package.__all__)
        with pytest.raises(AttributeError, match="no attribute"):
            getattr(package, "does_not_exist")  # noqa: B009 - the attribute lookup is the test


def test_importing_the_cmdp_domain_imports_no_learner_and_no_env():
    code = ("import sys, mechsim.cmdp, mechsim.cmdp.model, mechsim.cmdp.lagrangian, mechsim.cmdp.tabular_env\n"
            "from mechsim.cmdp import FiniteCMDP, evaluate_policy\n"
            "bad = [m for m in sys.modules if m.startswith(('mechsim.learners', 'mechsim.envs', 'mechsim.solvers'))]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_finite_cmdp_env_passes_the_gymnasium_checker():
    from gymnasium.utils.env_checker import check_env

    check_env(FiniteCMDPEnv(tiny(), render_mode="ansi"), skip_render_check=False)
    check_env(FiniteCMDPEnv(tiny(), render_mode="rgb_array"), skip_render_check=False)


def test_finite_cmdp_env_renders_rgb_frames_and_is_not_registered():
    """FiniteCMDPEnv needs a model, so gymnasium.make cannot build it with defaults: it stays unregistered."""
    import gymnasium

    env = FiniteCMDPEnv(tiny(), render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    env.step(0)
    frame = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape == frame.shape
    assert not any("FiniteCMDP" in env_id for env_id in gymnasium.registry)
    with pytest.warns(UserWarning, match="render_mode"):
        assert FiniteCMDPEnv(tiny(), render_mode="human").render_mode is None
    with pytest.raises(InvalidInstanceError, match="render_mode"):
        FiniteCMDPEnv(tiny(), render_mode=3)
