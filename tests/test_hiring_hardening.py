"""Issue 12 for the hiring domain: typed errors, size guards, checked solver results, scale invariance, no NaN.

The fuzz table (tests/fuzz/hiring.py, run by tests/test_fuzz_inputs.py) drives every entry point with bad values;
these tests pin the behaviours the issue names one by one.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.utils import parallel_to_aec

from mechsim.envs import hiring as hiring_env
from mechsim.envs.multiagent_adapters import hiring_rllib_env
from mechsim.errors import InvalidInstanceError, MechsimError, SolverError
from mechsim.hiring import (
    HiringInstance,
    HiringWorld,
    Mechanism,
    audit_incentives,
    evaluate_mechanism,
    is_incentive_compatible,
)
from mechsim.learners.hiring_online import learnable_instances, simulate_online
from mechsim.solvers import hiring_lp
from mechsim.solvers.hiring_lp import (
    build_hiring_lp,
    inducing_scoring_rules,
    min_payment,
    optimal_mechanism,
    optimal_uncorrelated_mechanism,
    solve_assembled_lp,
    solve_hiring_lp,
)
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.testing.hiring import hiring_instances
from mechsim.validation import set_memory_limit


@pytest.fixture(scope="module")
def inst():
    return HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=0)


@pytest.fixture(scope="module")
def online():
    return learnable_instances(1)[0][1]


def lp_args(instance):
    return (instance.joint, [instance.cost_differences(i) for i in range(instance.n_agents)], instance.utility,
            instance.payment_cap)


# ----------------------------------------------------------------------------------------------- highs_options
@pytest.mark.parametrize("options, found", [
    ({"no_such_option": 1}, "'no_such_option', which is not a HiGHS option"),
    ({"time_limit": "soon"}, "time_limit='soon', a value HiGHS rejects"),
    ({"time_limit": -1.0}, "time_limit=-1.0, a value HiGHS rejects"),
    ({"presolve": "maybe"}, "presolve='maybe'"),
    ({"time_limit": float("nan")}, "option 'time_limit', found nan"),
    ({3: 1.0}, "option names as strings"),
    ("presolve=off", "expected a dict"),
])
def test_bad_highs_options_are_named_before_anything_is_solved(inst, monkeypatch, options, found):
    def never(*args, **kwargs):
        raise AssertionError("a model was solved")

    monkeypatch.setattr(hiring_lp, "_solve", never)
    for call in (lambda: optimal_mechanism(inst, highs_options=options),
                 lambda: solve_hiring_lp(*lp_args(inst), highs_options=options),
                 lambda: solve_assembled_lp(build_hiring_lp(*lp_args(inst)), highs_options=options)):
        with pytest.raises(InvalidInstanceError, match="highs_options") as err:
            call()
        assert found in str(err.value) and err.value.argument == "highs_options"


def test_valid_highs_options_reach_the_solver(inst):
    plain = optimal_mechanism(inst)
    tuned = optimal_mechanism(inst, highs_options={"time_limit": 60.0, "presolve": "on", "random_seed": 3})
    assert tuned.value == pytest.approx(plain.value, abs=1e-9)
    assert hiring_lp.check_highs_options(None) == {}


# ----------------------------------------------------------------------------------------------- min_payment
def test_min_payment_refuses_negative_profile_indices_and_margins(inst):
    value, _ = min_payment(inst, 0, (1, 0))
    with pytest.raises(InvalidInstanceError, match=r"profile\[0\]: expected an integer >= 0, found -1"):
        min_payment(inst, 0, (-1, 0))          # used to wrap to (1, 0) and return that value
    with pytest.raises(InvalidInstanceError, match="profile: expected 2 effort levels"):
        min_payment(inst, 0, (1,))
    with pytest.raises(InvalidInstanceError, match=r"profile\[1\]: expected an integer, found float"):
        min_payment(inst, 0, (1, 0.0))
    with pytest.raises(InvalidInstanceError, match="margin: expected a non-negative number"):
        min_payment(inst, 0, (1, 0), margin=-0.1)
    with pytest.raises(InvalidInstanceError, match="agent: expected an integer <= 1"):
        min_payment(inst, 2, (1, 0))
    assert min_payment(inst, 0, np.array([1, 0]))[0] == value


# ------------------------------------------------------------------------------------ wrong types everywhere
@pytest.mark.parametrize("bad", [None, object(), "a model"])
def test_a_missing_or_wrong_model_is_named(inst, bad):
    mech = optimal_mechanism(inst)
    calls = {
        "instance": [optimal_mechanism, optimal_uncorrelated_mechanism, inducing_scoring_rules,
                     lambda x: audit_incentives(x, mech), lambda x: evaluate_mechanism(x, mech),
                     lambda x: is_incentive_compatible(x, mech), lambda x: min_payment(x, 0, (1, 0)),
                     lambda x: simulate_online(x, 100), lambda x: mech.expected_payments(x),
                     lambda x: Mechanism.build(x, mech.recommendation, mech.payments),
                     lambda x: hiring_env.parallel_env(instance=x)],
        "mechanism": [lambda x: audit_incentives(inst, x), lambda x: evaluate_mechanism(inst, x),
                      lambda x: hiring_env.parallel_env(instance=inst, mechanism=x)],
    }
    for name, fns in calls.items():
        for fn in fns:
            if bad is None and fn is calls["instance"][-1] or bad is None and fn is calls["mechanism"][-1]:
                continue  # None is the default instance / the optimal mechanism there
            with pytest.raises(InvalidInstanceError, match=f"{name}: expected a") as err:
                fn(bad)
            assert err.value.argument == name


# ---------------------------------------------------------------------------------------------- size guards
def test_sizes_too_large_to_allocate_are_refused_before_allocating():
    with pytest.raises(InvalidInstanceError, match="n_efforts, n_signals and n_states: expected a size whose "
                                                   "memory fits"):
        HiringInstance.random(2, 10**6, 10**6, 2, 2)
    with pytest.raises(InvalidInstanceError, match="n_actions and n_states"):
        HiringInstance.random(1, 2, 2, 10**6, 10**7)
    with pytest.raises(InvalidInstanceError, match="n_agents: expected an integer <= 31"):
        HiringInstance.random(40, 1, 1, 1, 1)
    with pytest.raises(InvalidInstanceError, match="n_agents: expected a size whose memory fits"):
        HiringInstance.noisy_bits(30)
    with pytest.raises(InvalidInstanceError, match="count: expected a size whose memory fits"):
        learnable_instances(10**12)


def test_lp_builders_refuse_an_lp_that_does_not_fit(inst):
    big = HiringInstance.random(1, 3, 60, 3, 2, seed=0)
    set_memory_limit("1MB")
    try:
        with pytest.raises(InvalidInstanceError, match=r"joint: expected a size whose memory fits the limit of "
                                                       r"977 KiB .* hiring LP of about \d+ nonzeros"):
            build_hiring_lp(*lp_args(big))
        with pytest.raises(InvalidInstanceError, match="joint: expected a size whose memory fits"):
            optimal_mechanism(big)
    finally:
        set_memory_limit(None)
    optimal_mechanism(big)


def test_an_lp_beyond_highs_int32_indices_is_refused(monkeypatch, inst):
    monkeypatch.setattr(hiring_lp, "MAX_NONZEROS", 100)
    with pytest.raises(InvalidInstanceError, match="joint: expected a shape whose hiring LP has at most 100 "
                                                   "nonzeros"):
        build_hiring_lp(*lp_args(inst))


def test_noisy_bits_is_the_product_of_the_bit_channels():
    acc, n = np.array([0.52, 0.8, 0.95]), 3
    inst = HiringInstance.noisy_bits(n, acc, [0.0, 0.03, 0.08])
    law = np.zeros((3,) * n + (2,) * n + (2 ** n,))
    for idx in np.ndindex(*law.shape):       # the definition, entry by entry
        efforts, signals, t = idx[:n], idx[n:2 * n], idx[-1]
        p = 1.0
        for i in range(n):
            bit = (t >> (n - 1 - i)) & 1
            p = p * (acc[efforts[i]] if signals[i] == bit else 1 - acc[efforts[i]])
        law[idx] = p
    assert np.array_equal(inst.signal_law, law)


# ----------------------------------------------------------------------------------- checked solver results
def test_a_solution_that_breaks_its_constraints_is_never_returned(inst, online, monkeypatch):
    recover = hiring_lp._recover

    def spoilt(lp, x):
        phi, gamma = recover(lp, x)
        return phi, gamma * 0.5           # half the payments: effort no longer pays

    assert optimal_mechanism(inst, profile=(1, 1)).payments.max() > 0
    monkeypatch.setattr(hiring_lp, "_recover", spoilt)
    with pytest.raises(SolverError, match="fails the check of its constraints: agent"):
        solve_hiring_lp(*lp_args(inst), profile=(1, 1))
    with pytest.raises(SolverError, match="fails the check"):
        optimal_mechanism(inst, profile=(1, 1))
    with pytest.raises(SolverError, match="the estimated hiring LP: the solution fails the check"):
        solve_estimated_mechanism_lp(*lp_args(online))   # its optimum hires somebody


def test_scoring_rules_are_checked_before_they_are_returned(online, monkeypatch):
    solve = hiring_lp._solve

    def spoilt(*args, **kwargs):
        result = solve(*args, **kwargs)
        return type(result)(result.status, True, result.x * 0.5, result.row_duals, result.value,
                            result.solve_time, result.iterations)

    inducing_scoring_rules(online)
    optimal_uncorrelated_mechanism(online)
    monkeypatch.setattr(hiring_lp, "_solve", spoilt)
    with pytest.raises(SolverError, match="scoring-rule LP for effort .* fails the check"):
        inducing_scoring_rules(online)
    with pytest.raises(SolverError, match="scoring-rule LP for effort .* fails the check"):
        optimal_uncorrelated_mechanism(online)
    with pytest.raises(SolverError, match="scoring-rule LP"):
        min_payment(online, 0, (1, 0))


def test_the_uncorrelated_mechanism_is_audited(inst, monkeypatch):
    def not_ic(instance, mechanism, atol=1e-7):
        rec = np.zeros(instance.n_efforts)
        rec[1, 1] = 1.0
        unpaid = Mechanism.build(instance, rec, np.zeros_like(mechanism.payments))   # effort unpaid: shirk
        audit = audit_incentives(instance, unpaid, atol)
        assert not audit.is_ic
        return audit

    mech = optimal_uncorrelated_mechanism(inst.scale_costs(0.2))
    assert audit_incentives(inst.scale_costs(0.2), mech).is_ic and mech.recommendation.flat[0] < 1
    monkeypatch.setattr(hiring_lp, "audit_incentives", not_ic)
    with pytest.raises(SolverError, match="uncorrelated mechanism fails the incentive audit"):
        optimal_uncorrelated_mechanism(inst.scale_costs(0.2))


# ------------------------------------------------------------------------------------------- scale invariance
@settings(max_examples=20, deadline=None)
@given(instance=hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=3), k=st.integers(-6, 6))
def test_the_hiring_lp_is_invariant_to_the_units_of_utility(instance, k):
    """Utilities, costs and the cap times 10^k: the same mechanism, payments and value times 10^k."""
    f = 10.0 ** k
    joint, C, u, M = lp_args(instance)
    base = solve_hiring_lp(joint, C, u, M)
    scaled = solve_hiring_lp(joint, [c * f for c in C], u * f, M * f)
    assert scaled.info.scale == pytest.approx(base.info.scale * f, rel=1e-12)
    assert scaled.value / f == pytest.approx(base.value, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(scaled.recommendation, base.recommendation, atol=1e-9)
    np.testing.assert_allclose(scaled.payments / f, base.payments, atol=1e-7 * M)


@pytest.mark.parametrize("k", [-6, -3, 0])
def test_optimal_mechanisms_of_a_scaled_down_instance_scale(inst, k):
    f = 10.0 ** k
    small = HiringInstance(inst.prior, [c * f for c in inst.costs], inst.signal_law, inst.utility * f,
                           inst.payment_cap * f)
    mech, base = optimal_mechanism(small, margin=1e-3 * f), optimal_mechanism(inst, margin=1e-3)
    assert mech.value / f == pytest.approx(base.value, rel=1e-9)
    # IC relative to the scale, not within an absolute 1e-7 that every mechanism meets at 1e-6
    assert audit_incentives(small, mech, atol=1e-9 * f).is_ic
    assert audit_incentives(small, mech).effort_margin >= 1e-3 * f * (1 - 1e-6)


# --------------------------------------------------------------------------------------------- online learner
@pytest.mark.parametrize("variant", ["default", "faithful", "plugin"])
def test_short_horizons_commit_a_mechanism_and_give_no_nan(online, variant):
    for horizon in (1, 2, 5, 17, 100, 300):
        res = simulate_online(online, horizon, seed=0, variant=variant)
        assert isinstance(res.mechanism, Mechanism) and res.audit is not None
        assert math.isfinite(res.committed_value) and math.isfinite(res.commit_utility)
        assert np.all(np.isfinite(res.cumulative_regret)) and np.all(np.isfinite(res.mixing))
        assert res.phase_lengths["commit"] >= 1 and sum(res.phase_lengths.values()) == horizon
        assert res.checkpoints[-1] == horizon


def test_the_online_learner_refuses_a_nan_optimum_and_horizons_beyond_int64(online):
    with pytest.raises(InvalidInstanceError, match="optimal_value: expected finite values"):
        simulate_online(online, 1000, optimal_value=float("nan"))
    with pytest.raises(InvalidInstanceError, match=r"horizon: expected an integer <= 1000000000000000000"):
        simulate_online(online, 10**20)
    res = simulate_online(online, 10**18, seed=0)
    assert res.checkpoints[-1] == 10**18 and np.all(np.diff(res.checkpoints) > 0) and math.isfinite(res.regret)
    with pytest.raises(InvalidInstanceError, match="incentive_tests: expected a bool"):
        simulate_online(online, 1000, incentive_tests="no")


def test_the_world_keeps_its_reserve_for_the_commit(online):
    world = HiringWorld(online, 100, 0.5, 0, reserve=10)
    rules = [np.zeros((2, 2)), np.zeros((2, 2))]
    _, used = world.post_scoring_rules(rules, np.zeros((2, 2), dtype=int), 500, "estimation")
    assert used == 90 and world.remaining == 10
    assert world.post_scoring_rules(rules, np.zeros((2, 2), dtype=int), 5, "estimation")[1] == 0
    world.commit(optimal_mechanism(online))
    assert world.remaining == 0 and world.segments[-1].n_rounds == 10
    with pytest.raises(InvalidInstanceError, match="actions: expected an action index in 0..1"):
        world.post_scoring_rules(rules, np.full((2, 2), 2), 5, "estimation")
    with pytest.raises(InvalidInstanceError, match="rng: expected a numpy.random.Generator"):
        HiringWorld(online, 100, 0.5, "seed")


# ----------------------------------------------------------------------------------------------- Hiring-v0
def test_the_environment_raises_typed_errors_naming_actions():
    env = hiring_env.parallel_env(max_cycles=2)
    env.reset(seed=0)
    cases = [
        ({"agent_0": np.array([0, 0])}, "missing"),
        ({"agent_0": np.array([2, 0]), "agent_1": np.array([0, 0])}, "effort in 0..1, found 2"),
        ({"agent_0": np.array([0, 2]), "agent_1": np.array([0, 0])}, "report in 0..1, found 2"),  # unread, still
        ({"agent_0": np.array([-1, 0]), "agent_1": np.array([0, 0])}, "effort in 0..1, found -1"),
        ({"agent_0": np.array([1, 0, 0]), "agent_1": np.array([0, 0])}, "pair of integers"),
        ({"agent_0": np.array([1.0, 0.0]), "agent_1": np.array([0, 0])}, "pair of integers"),
        ({"agent_0": np.array([1, np.nan]), "agent_1": np.array([0, 0])}, "pair of integers"),
        ({"agent_0": 1, "agent_1": np.array([0, 0])}, "pair of integers"),
        ([np.array([0, 0])] * 2, "actions: expected a dict"),
        (None, "actions: expected a dict"),
    ]
    for actions, match in cases:
        with pytest.raises(InvalidInstanceError, match=match) as err:
            env.step(actions)
        assert err.value.argument == "actions" and isinstance(err.value, ValueError)
    env.step({"agent_0": np.array([1, 0]), "agent_1": np.array([0, 0])})   # nothing was consumed
    env.step({"agent_0": [1, 1], "agent_1": (0, 0)})
    with pytest.raises(hiring_env.EpisodeOverError, match="reset") as err:
        env.step({})
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, MechsimError)
    with pytest.raises(InvalidInstanceError, match="config: expected keys among"):
        hiring_rllib_env({"max_cycle": 4})
    with pytest.raises(InvalidInstanceError, match="config: expected None or a dict"):
        hiring_rllib_env("max_cycles=4")


def test_the_global_state_follows_the_round():
    env = hiring_env.parallel_env(max_cycles=40)
    E, S = env.instance.n_efforts, env.instance.n_signals
    assert env.state_space.nvec.tolist() == [2, *E, *E, *S, env.instance.n_states]
    with pytest.raises(hiring_env.EpisodeOverError, match="reset"):
        env.state()
    obs, infos = env.reset(seed=1)
    for a in env.possible_agents:
        env.action_space(a).seed(2)
    while env.agents:
        state = env.state()
        assert env.state_space.contains(state) and state.dtype == np.int64
        assert state[0] == 0 and tuple(state[1:3]) == infos["agent_0"]["profile"] and not state[3:].any()
        obs, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        state = env.state()
        assert state[0] == 1 and tuple(state[3:5]) == tuple(int(o[2]) for o in obs.values())
        assert [int(o[3]) for o in obs.values()] == state[5:7].tolist()
        obs, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert infos["agent_0"]["signals"] == tuple(state[5:7]) and infos["agent_0"]["state"] == state[7]
    aec = parallel_to_aec(hiring_env.parallel_env())
    aec.reset(seed=0)
    assert aec.state_space.contains(aec.state())
    wrapped = hiring_rllib_env({"learners": "agent_0"})
    wrapped.reset(seed=0)
    assert wrapped.state_space.contains(wrapped.state())


def test_rgb_array_frames_show_the_last_step():
    env = hiring_env.parallel_env(render_mode="rgb_array", max_cycles=4)
    assert "rgb_array" in env.metadata["render_modes"]
    env.reset(seed=0)
    first = env.render()
    env.step({a: np.array([1, 0]) for a in env.agents})
    env.step({a: np.array([1, 1]) for a in env.agents})
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[1] > first.shape[1]           # the report line is longer than "recommended ..."
