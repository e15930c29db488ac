"""Online mechanism learning (explore-then-commit) for the hiring domain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.hiring import HiringInstance, Mechanism, audit_incentives
from mechsim.hiring.online_sim import (
    HiringWorld,
    best_uncorrelated_response,
    pushforward,
    worst_case_utility,
)
from mechsim.learners.hiring_online import empirical_bernstein_width, learnable_instances, simulate_online
from mechsim.solvers.hiring_lp import inducing_scoring_rules, optimal_mechanism
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.testing import hiring_instances


def _hiring_instances(count: int, cost_factor: float = 0.25, correlation: float = 0.3):
    """Random 2-agent 2x2x2 instances whose optimal mechanism hires somebody (costs scaled down)."""
    return [(inst, inducing_scoring_rules(inst), optimal_mechanism(inst).value)
            for _, inst in learnable_instances(count, correlation=correlation, cost_factor=cost_factor)]


@pytest.fixture(scope="module")
def instances():
    return _hiring_instances(3)


def test_result_shape_and_monotone_regret(instances):
    inst, rules, opt = instances[0]
    T = 10**6
    res = simulate_online(inst, T, seed=0, inducing_rules=rules, optimal_value=opt)
    assert res.checkpoints[-1] == T and res.checkpoints[0] >= 1
    assert np.all(np.diff(res.checkpoints) > 0)
    assert res.cumulative_regret.shape == res.checkpoints.shape
    # OPT is the best IC mechanism, and every phase posts an IC arrangement (or is charged the worst case)
    assert np.all(np.diff(res.cumulative_regret) >= -1e-9)
    assert sum(res.phase_lengths.values()) == T
    assert res.phase_lengths["estimation"] > 0 and res.phase_lengths["commit"] > 0
    assert res.regret == pytest.approx(sum(res.phase_regret.values()), rel=1e-9, abs=1e-9)
    assert res.optimal_value == pytest.approx(opt)
    assert res.mechanism.recommendation.shape == inst.n_efforts
    assert res.audit is not None


def test_determinism(instances):
    inst, rules, opt = instances[1]
    a = simulate_online(inst, 10**7, seed=11, inducing_rules=rules, optimal_value=opt)
    b = simulate_online(inst, 10**7, seed=11, inducing_rules=rules, optimal_value=opt)
    c = simulate_online(inst, 10**7, seed=12, inducing_rules=rules, optimal_value=opt)
    assert np.array_equal(a.checkpoints, b.checkpoints)
    assert np.array_equal(a.cumulative_regret, b.cumulative_regret)
    assert a.mechanism == b.mechanism
    assert not np.array_equal(a.cumulative_regret, c.cumulative_regret)


@pytest.mark.parametrize("horizon", [10**5, 10**7, 10**9])
def test_default_commits_an_ic_mechanism(instances, horizon):
    for inst, rules, opt in instances:
        for seed in range(4):
            res = simulate_online(inst, horizon, seed=seed, inducing_rules=rules, optimal_value=opt)
            assert res.is_ic, (horizon, seed, res.audit)
            # the exact audit agrees with the independent one of the model layer
            assert audit_incentives(inst, res.mechanism, atol=1e-9).is_ic
            assert res.mechanism.respects_limits(inst)


def test_default_learns(instances):
    """Average regret falls with the horizon and ends close to OPT."""
    for inst, rules, opt in instances:
        small = np.mean([simulate_online(inst, 10**5, seed=s, inducing_rules=rules,
                                         optimal_value=opt).average_regret for s in range(2)])
        large = np.mean([simulate_online(inst, 10**9, seed=s, inducing_rules=rules,
                                         optimal_value=opt).average_regret for s in range(2)])
        assert large < small
        assert large < 0.05 * opt


def test_plugin_control_has_linear_regret(instances):
    """Without relaxation or mixing the plug-in mechanism is often not IC, and regret stays linear."""
    def non_ic_somewhere(item):
        inst, rules, opt = item
        return any(not simulate_online(inst, 10**6, seed=s, variant="plugin", inducing_rules=rules,
                                       optimal_value=opt).is_ic for s in range(6))

    inst, rules, opt = next(item for item in instances if non_ic_somewhere(item))
    per_t = {}
    for T in (10**6, 10**8):
        runs = [simulate_online(inst, T, seed=s, variant="plugin", inducing_rules=rules, optimal_value=opt)
                for s in range(6)]
        assert any(not r.is_ic for r in runs)
        per_t[T] = np.mean([r.average_regret for r in runs])
        bad = next(r for r in runs if not r.is_ic)
        # the non-IC commitment is charged the worst outcome of the committed mechanism
        assert bad.commit_utility == pytest.approx(worst_case_utility(inst, bad.mechanism))
    assert per_t[10**8] > 0.05
    assert per_t[10**8] > 0.3 * per_t[10**6]          # no decay: linear regret
    default = np.mean([simulate_online(inst, 10**8, seed=s, inducing_rules=rules,
                                       optimal_value=opt).average_regret for s in range(6)])
    assert default < per_t[10**8]


def test_plugin_best_response_charge(instances):
    inst, rules, opt = instances[0]
    for s in range(6):
        res = simulate_online(inst, 10**6, seed=s, variant="plugin", inducing_rules=rules,
                              optimal_value=opt, non_ic_charge="best_response")
        if not res.is_ic:
            assert res.commit_utility >= worst_case_utility(inst, res.mechanism) - 1e-12
            return
    pytest.fail("the plug-in mechanism was IC for every seed")


def test_faithful_is_worse_than_default(instances):
    for inst, rules, opt in instances:
        for T in (10**6, 10**8):
            f = simulate_online(inst, T, seed=0, variant="faithful", inducing_rules=rules, optimal_value=opt)
            d = simulate_online(inst, T, seed=0, inducing_rules=rules, optimal_value=opt)
            assert f.is_ic
            assert d.regret < f.regret
            assert f.details["eps_IC"] > 0 and np.all(f.mixing > 0)


def test_regret_exponent_of_default_learner(instances):
    """Fitted log-log slope of R_T over 1e5..1e8: sublinear (generous bound; 2/3 is the theory)."""
    horizons = np.array([10**5, 10**6, 10**7, 10**8])
    for inst, rules, opt in instances:
        regrets = [np.mean([simulate_online(inst, int(T), seed=s, inducing_rules=rules,
                                            optimal_value=opt).regret for s in range(2)]) for T in horizons]
        slope = np.polyfit(np.log(horizons), np.log(regrets), 1)[0]
        assert 0.3 < slope < 0.92, slope


def test_large_horizon_is_cheap(instances):
    inst, rules, opt = instances[0]
    res = simulate_online(inst, 10**12, seed=0, inducing_rules=rules, optimal_value=opt)
    assert res.checkpoints[-1] == 10**12 and res.is_ic


def test_tiny_horizons(instances):
    inst, rules, opt = instances[0]
    for T in (1, 7, 50):
        res = simulate_online(inst, T, seed=0, inducing_rules=rules, optimal_value=opt)
        assert res.checkpoints[-1] == T
        assert sum(res.phase_lengths.values()) == T


def test_defaults_compute_rules_and_optimum():
    inst, rules, opt = _hiring_instances(1)[0]
    res = simulate_online(inst, 10**4, seed=1)
    assert res.optimal_value == pytest.approx(opt)
    assert res.details["iota"] == pytest.approx(rules.iota)


def test_bad_input(instances):
    inst, rules, opt = instances[0]
    with pytest.raises(InvalidInstanceError, match="variant"):
        simulate_online(inst, 100, variant="greedy")
    with pytest.raises(InvalidInstanceError, match="horizon"):
        simulate_online(inst, 0)
    with pytest.raises(InvalidInstanceError, match="delta"):
        simulate_online(inst, 100, delta=1.5)
    with pytest.raises(InvalidInstanceError, match="non_ic_charge"):
        simulate_online(inst, 100, non_ic_charge="average", inducing_rules=rules, optimal_value=opt)
    with pytest.raises(InvalidInstanceError, match="instance"):
        simulate_online("not an instance", 100)
    # a marginal that depends on the other agent's effort violates the online model
    law = np.array(inst.signal_law)
    law[1, 1] = law[1, 1][::-1]        # swap agent 0's signals at profile (1, 1) only
    odd = HiringInstance(inst.prior, inst.costs, law, inst.utility)
    if not odd.has_own_effort_marginals:
        with pytest.raises(InvalidInstanceError, match="own effort"):
            simulate_online(odd, 100)


# ------------------------------------------------------------------------------------- simulator
def test_inducing_rules_induce_their_effort(instances):
    inst, rules, _ = instances[0]
    for i in range(inst.n_agents):
        own = inst.own_marginal(i) * inst.prior
        for k in range(inst.n_efforts[i]):
            e, omega, _ = best_uncorrelated_response(own, inst.costs[i], rules.rules[i][k])
            assert e == k and np.array_equal(omega, np.arange(inst.n_signals[i]))


def test_aggregate_batch_matches_per_round_simulation(instances):
    """One multinomial draw has the law of many independent rounds simulated one by one."""
    inst, rules, opt = instances[0]
    rng = np.random.default_rng(5)
    b = (1, 0)
    posted = rules.scoring_rules(b)
    world = HiringWorld(inst, 10**6, opt, np.random.default_rng(0))
    counts, used = world.post_scoring_rules(posted, np.zeros(inst.n_signals, dtype=int), 200_000, "x",
                                            intended=b)
    assert used == 200_000 and counts.sum() == used
    # per-round reference: draw (signals, state) from q_b, report through the best responses
    maps = [best_uncorrelated_response(inst.own_marginal(i) * inst.prior, inst.costs[i], posted[i], b[i])[1]
            for i in range(2)]
    q = inst.joint[b].ravel()
    draws = rng.choice(q.size, size=20_000, p=q / q.sum())
    s0, s1, th = np.unravel_index(draws, inst.joint[b].shape)
    ref = np.zeros(inst.joint[b].shape)
    np.add.at(ref, (maps[0][s0], maps[1][s1], th), 1.0)
    law = pushforward(inst.joint[b], maps)
    assert np.abs(ref / ref.sum() - law).max() < 0.015
    assert np.abs(counts / counts.sum() - law).max() < 0.005


def test_world_clips_at_horizon(instances):
    inst, rules, opt = instances[0]
    world = HiringWorld(inst, 100, opt, np.random.default_rng(0))
    _, used = world.post_scoring_rules(rules.scoring_rules((0, 0)), np.zeros((2, 2), dtype=int), 80, "a")
    _, used2 = world.post_scoring_rules(rules.scoring_rules((0, 0)), np.zeros((2, 2), dtype=int), 80, "b")
    assert (used, used2, world.remaining) == (80, 20, 0)


def test_empirical_bernstein_coverage():
    rng = np.random.default_rng(0)
    delta, n, p = 0.2, 400, 0.1
    log_term = np.log(4 / delta)
    misses = 0
    for _ in range(300):
        x = rng.random(n) < p
        w = empirical_bernstein_width(x.var(ddof=1), n, 1.0, log_term)
        misses += abs(x.mean() - p) > w
    assert misses / 300 <= delta
    assert empirical_bernstein_width(0.0, 10, 0.0, 3.0) == 0.0      # constant functional: exact
    assert np.isinf(empirical_bernstein_width(0.1, 1, 1.0, 3.0))


# ------------------------------------------------------------------------------ estimate-side LP
def test_estimated_lp_matches_the_optimal_mechanism_on_the_truth(instances):
    for inst, _, opt in instances:
        C = [inst.cost_differences(i) for i in range(inst.n_agents)]
        for form in (None, [np.zeros((2, 2))] * 2):
            sol = solve_estimated_mechanism_lp(inst.joint, C, inst.utility, inst.payment_cap,
                                               truthful_margins=form)
            assert sol.value == pytest.approx(opt, abs=1e-7)
            mech = Mechanism.build(inst, sol.recommendation, sol.payments)
            assert mech.value == pytest.approx(opt, abs=1e-7)
            assert audit_incentives(inst, mech, atol=1e-7).is_ic


def test_estimated_lp_margins_hold_on_the_truth(instances):
    inst, rules, _ = instances[0]
    C = [inst.cost_differences(i) for i in range(2)]
    m = 0.25 * rules.iota
    sol = solve_estimated_mechanism_lp(inst.joint, C, inst.utility, inst.payment_cap,
                                       effort_margins=m, truthful_margins=[np.full((2, 2), m)] * 2)
    mech = Mechanism.build(inst, sol.recommendation, sol.payments)
    audit = audit_incentives(inst, mech)
    assert audit.effort_margin >= m - 1e-7
    # relaxing instead of tightening can only raise the value
    relaxed = solve_estimated_mechanism_lp(inst.joint, C, inst.utility, inst.payment_cap,
                                           effort_margins=-0.01, truthful_relaxation=0.01)
    assert relaxed.value >= sol.value - 1e-9


def test_estimated_lp_infeasible_margin_raises(instances):
    inst, _, _ = instances[0]
    C = [inst.cost_differences(i) for i in range(2)]
    with pytest.raises(InfeasibleError) as err:
        solve_estimated_mechanism_lp(inst.joint, C, inst.utility, inst.payment_cap, effort_margins=5.0)
    assert err.value.status


def test_estimated_lp_bad_input(instances):
    inst, _, _ = instances[0]
    C = [inst.cost_differences(i) for i in range(2)]
    with pytest.raises(InvalidInstanceError, match="cost_differences"):
        solve_estimated_mechanism_lp(inst.joint, C[:1], inst.utility, 1.0)
    with pytest.raises(InvalidInstanceError, match="utility"):
        solve_estimated_mechanism_lp(inst.joint, C, inst.utility[:, :1], 1.0)
    with pytest.raises(InvalidInstanceError, match="payment_cap"):
        solve_estimated_mechanism_lp(inst.joint, C, inst.utility, -1.0)


def test_incentive_tests_certify_by_behaviour(instances):
    used = 0
    for inst, rules, opt in instances:
        res = simulate_online(inst, 10**8, seed=3, inducing_rules=rules, optimal_value=opt)
        assert res.is_ic
        if res.details.get("iteration") == "incentive test":
            used += 1
            assert res.phase_lengths["incentive test"] > 0
            assert res.details["tested_scales"]
            # effort incentives certified without cost estimates: the commitment is nearly optimal
            assert opt - res.committed_value < 0.01 * opt
    assert used >= 1


def test_statistical_certification_alone_is_ic(instances):
    for inst, rules, opt in instances:
        for seed in range(3):
            res = simulate_online(inst, 10**7, seed=seed, inducing_rules=rules, optimal_value=opt,
                                  incentive_tests=False)
            assert res.is_ic
            assert res.phase_lengths["incentive test"] == 0


def test_scheffe_identification():
    from mechsim.learners.hiring_online import _scheffe_rounds, _scheffe_wins

    rng = np.random.default_rng(1)
    laws = rng.dirichlet(np.ones(6), size=4)
    delta = 0.05
    m = _scheffe_rounds(laws, delta)
    errors = 0
    for trial in range(100):
        truth = trial % 4
        emp = rng.multinomial(m, laws[truth]) / m
        errors += int(np.argmax(_scheffe_wins(laws, emp))) != truth
    assert errors <= 100 * delta
    # identical laws cannot be told apart: the bound then asks for a huge sample
    assert _scheffe_rounds(np.vstack([laws[0], laws[0]]), delta) > 10**6


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(inst=hiring_instances(max_agents=2, max_efforts=2, max_signals=2, max_states=2, max_actions=2),
       seed=st.integers(0, 2**16), variant=st.sampled_from(["default", "faithful"]))
def test_property_committed_mechanism_is_ic(inst, seed, variant):
    """On arbitrary small instances of the online model, the learner commits an IC mechanism."""
    try:
        rules = inducing_scoring_rules(inst)
    except InfeasibleError:
        assume(False)
    opt = optimal_mechanism(inst).value
    res = simulate_online(inst, 10**7, seed=seed, variant=variant, inducing_rules=rules, optimal_value=opt)
    assert res.is_ic, res.audit
    assert res.mechanism.respects_limits(inst)
    assert np.all(np.diff(res.cumulative_regret) >= -1e-9)
    assert res.regret <= 10**7 * (opt + inst.n_agents * inst.payment_cap) + 1e-6
