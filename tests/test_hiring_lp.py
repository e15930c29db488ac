"""Tests of the hiring LPs: optimal correlated/uncorrelated mechanisms, inducing scoring rules."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.hiring import (
    HiringInstance,
    Mechanism,
    audit_incentives,
    audit_incentives_brute_force,
    evaluate_mechanism,
)
from mechsim.solvers.hiring_lp import (
    build_hiring_lp,
    inducing_scoring_rules,
    min_payment,
    optimal_mechanism,
    optimal_uncorrelated_mechanism,
    solve_hiring_lp,
)
from mechsim.testing import hiring_instances, mechanisms
from mechsim.testing.hiring import enumerated_mechanism_value


def enumerated_lp_value(inst):
    """Independent oracle: the optimal IC mechanism, every reporting map an explicit constraint.

    Variables phi (|B|) and y_i(b, s, theta); no z-trick, dense matrices, scipy's linprog
    (:func:`mechsim.testing.hiring.enumerated_mechanism_value`).
    """
    C = [inst.cost_differences(i) for i in range(inst.n_agents)]
    return enumerated_mechanism_value(inst.joint, C, inst.utility, inst.payment_cap)


small = dict(max_agents=2, max_efforts=2, max_signals=2, max_states=2, max_actions=2)


@given(hiring_instances(**small, own_effort_marginals=False))
@settings(max_examples=15)
def test_optimal_value_matches_enumerated_formulation(inst):
    mech = optimal_mechanism(inst)
    assert mech.value == pytest.approx(enumerated_lp_value(inst), abs=1e-8)


@given(hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=3, max_actions=3))
def test_optimal_mechanism_is_ic_feasible_and_beats_uncorrelated(inst):
    mech, info = optimal_mechanism(inst, return_info=True)
    audit = audit_incentives(inst, mech)
    assert audit.is_ic, audit
    assert mech.value == pytest.approx(evaluate_mechanism(inst, mech), abs=1e-12)
    assert mech.value == pytest.approx(info.value, abs=1e-7)
    assert mech.respects_limits(inst)
    unc = optimal_uncorrelated_mechanism(inst)
    assert audit_incentives(inst, unc).is_ic
    assert unc.respects_limits(inst) and unc.is_deterministic
    assert mech.value >= unc.value - 1e-8
    # never recommended profiles: no payment, Bayes decision
    bayes = inst.bayes_decision()
    for b in np.ndindex(*inst.n_efforts):
        if mech.recommendation[b] == 0:
            assert np.all(mech.payments[(slice(None), *b)] == 0)
            np.testing.assert_array_equal(mech.decision[b], bayes[b])


@given(hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=3, correlated=False))
def test_conditionally_independent_signals_need_no_correlation(inst):
    assert optimal_mechanism(inst).value == pytest.approx(
        optimal_uncorrelated_mechanism(inst).value, abs=1e-7
    )


@given(
    hiring_instances(
        max_agents=3,
        min_agents=2,
        max_efforts=2,
        max_signals=2,
        max_states=2,
        own_effort_marginals=False,
    ),
    st.permutations([0, 1, 2]),
)
@settings(max_examples=20)
def test_relabelling_agents_keeps_the_optimal_value(inst, perm):
    order = [p for p in perm if p < inst.n_agents]
    permuted = inst.permute_agents(order)
    assert optimal_mechanism(permuted).value == pytest.approx(
        optimal_mechanism(inst).value, abs=1e-8
    )
    assert optimal_uncorrelated_mechanism(permuted).value == pytest.approx(
        optimal_uncorrelated_mechanism(inst).value, abs=1e-8
    )


@given(hiring_instances(max_agents=1, max_efforts=3, max_signals=3, max_states=3))
def test_single_agent_correlated_equals_uncorrelated(inst):
    """With one agent there is nothing to correlate: the LP optimum is the best MinPay profile."""
    assert optimal_mechanism(inst).value == pytest.approx(
        optimal_uncorrelated_mechanism(inst).value, abs=1e-8
    )


def test_correlation_pays_on_a_known_instance():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    mech = optimal_mechanism(inst)
    unc, details = optimal_uncorrelated_mechanism(inst, return_info=True)
    assert mech.value > unc.value + 0.03
    # the worker is paid according to the other agent's report as well
    b = tuple(mech.support[0])
    worker = int(np.argmax(b))
    pay = mech.payments[(worker, *b)]
    assert np.abs(np.diff(pay, axis=1 - worker)).max() > 1e-3
    assert details.profile_values.shape == (2, 2)
    assert details.profile_values[details.profile] == pytest.approx(unc.value)


@given(
    hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=2, payment_caps=(2.0,)),
    st.sampled_from([0.001, 0.01]),
)
@settings(max_examples=20)
def test_margin_makes_every_effort_deviation_lose_at_least_margin(inst, margin):
    try:
        mech = optimal_mechanism(inst, margin=margin)
    except InfeasibleError as err:
        assert err.status is not None
        return
    audit = audit_incentives(inst, mech)
    assert audit.is_ic
    assert audit.effort_margin >= margin - 1e-7
    assert mech.value <= optimal_mechanism(inst).value + 1e-9


def test_large_margin_with_small_cap_is_infeasible():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=1, payment_cap=0.1)
    with pytest.raises(InfeasibleError) as err:
        optimal_mechanism(inst, margin=0.5)
    assert "infeasible" in err.value.status.lower()
    with pytest.raises(InfeasibleError):
        optimal_uncorrelated_mechanism(inst, margin=0.5)


def test_time_limit_raises_solver_error_with_status():
    inst = HiringInstance.random(3, 3, 3, 3, 3, correlation=0.5, seed=1)
    with pytest.raises(SolverError) as err:
        optimal_mechanism(inst, highs_options={"time_limit": 0.0})
    assert "time limit" in err.value.status.lower()


def test_lp_size_matches_the_formula():
    inst = HiringInstance.random(2, 3, 3, 3, 3, seed=0)
    lp = build_hiring_lp(
        inst.joint, [inst.cost_differences(i) for i in range(2)], inst.utility, 1.0
    )
    assert lp.n_variables == 9 + 2 * 9 * 9 * 3 + 2 * 9 * 3 == 549  # the benchmark's first size
    assert lp.n_constraints == 1 + 2 * 243 + 2 * 9 + 2 * 81
    _, info = optimal_mechanism(inst, return_info=True)
    assert (info.n_variables, info.n_constraints) == (lp.n_variables, lp.n_constraints)
    assert info.status == "Optimal"
    assert 0 < info.solve_time <= info.total_time
    assert info.build_time < info.total_time


def test_solve_on_estimates_with_relaxation():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.6, seed=3)
    C = [inst.cost_differences(i) for i in range(2)]
    exact = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap)
    assert exact.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-9)
    assert exact.mechanism.value == pytest.approx(exact.value, abs=1e-9)
    # an estimate of the joint (empirical frequencies from 1000 draws per profile)
    rng = np.random.default_rng(0)
    flat = inst.joint.reshape(4, -1)
    est = np.array([rng.multinomial(1000, row / row.sum()) / 1000 for row in flat]).reshape(
        inst.joint.shape
    )
    values = [
        solve_hiring_lp(est, C, inst.utility, inst.payment_cap, relaxation=r).value
        for r in (0.0, 0.01, 0.05)
    ]
    assert values[0] <= values[1] + 1e-12 <= values[2] + 2e-12  # relaxing never hurts
    per_row = [np.array([[0.0, 0.05], [0.05, 0.0]])] * 2
    assert (
        solve_hiring_lp(est, C, inst.utility, inst.payment_cap, relaxation=per_row).value
        >= values[0] - 1e-12
    )
    with pytest.raises(InvalidInstanceError, match="relaxation"):
        solve_hiring_lp(est, C, inst.utility, inst.payment_cap, relaxation=-0.1)
    with pytest.raises(InvalidInstanceError, match="joint"):
        solve_hiring_lp(est[0], C, inst.utility, inst.payment_cap)
    with pytest.raises(InvalidInstanceError, match="cost_differences"):
        solve_hiring_lp(est, [C[0], np.zeros((3, 3))], inst.utility, inst.payment_cap)


def test_negative_margin_in_the_estimate_entry_relaxes_effort_rows():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.6, seed=3)
    C = [inst.cost_differences(i) for i in range(2)]
    base = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap).value
    assert (
        solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap, margin=-0.05).value
        >= base - 1e-12
    )
    # relaxed by more than any cost difference, effort needs no pay: the value is max_b V(b)
    free = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap, margin=-1.0)
    assert free.value == pytest.approx(inst.value_of_information.max(), abs=1e-12)
    assert free.value > base + 1e-3
    assert np.all(free.payments == 0)


@given(hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=3))
@settings(max_examples=20)
def test_min_payment_rule_induces_its_effort(inst):
    for i in range(inst.n_agents):
        for k in range(inst.n_efforts[i]):
            profile = tuple(k if j == i else 0 for j in range(inst.n_agents))
            try:
                value, rule = min_payment(inst, i, profile)
            except InfeasibleError:
                continue
            rules = [
                rule if j == i else np.zeros((inst.n_signals[j], inst.n_states))
                for j in range(inst.n_agents)
            ]
            mech = Mechanism.uncorrelated(inst, profile, rules)
            audit = audit_incentives(inst, mech)
            assert np.max(audit.gains[i][k]) <= 1e-7
            expected = (inst.own_marginal(i)[k] * inst.prior * rule).sum()
            assert value == pytest.approx(expected, abs=1e-9)


@given(
    hiring_instances(
        max_agents=2, max_efforts=3, max_signals=3, max_states=3, min_signals=2, min_states=2
    )
)
@settings(max_examples=20)
def test_inducing_rules_make_each_effort_the_unique_best_response(inst):
    try:
        rules = inducing_scoring_rules(inst)
    except InfeasibleError as err:
        assert np.min(np.concatenate(err.details["margins"])) <= 0
        return
    assert rules.iota > 0
    for i in range(inst.n_agents):
        assert rules.rules[i].shape == (inst.n_efforts[i], inst.n_signals[i], inst.n_states)
        assert rules.rules[i].min() >= 0 and rules.rules[i].max() <= inst.payment_cap
        q = inst.own_marginal(i) * inst.prior
        S = inst.n_signals[i]
        for k in range(inst.n_efforts[i]):
            g = rules.rules[i][k]
            obey = (q[k] * g).sum() - inst.costs[i][k]
            for kp in range(inst.n_efforts[i]):
                for omega in itertools.product(range(S), repeat=S):
                    if kp == k and omega == tuple(range(S)):
                        continue
                    dev = (q[kp] * g[list(omega)]).sum() - inst.costs[i][kp]
                    assert dev <= obey - rules.margins[i][k] + 1e-9
    # posted to everybody, they induce any profile in dominant strategies
    profile = tuple(k - 1 for k in inst.n_efforts)
    mech = rules.mechanism(inst, profile)
    audit = audit_incentives_brute_force(inst, mech)
    for i in range(inst.n_agents):
        gains = audit.gains[i][profile[i]].copy()
        assert gains[profile[i]] == 0.0
        gains[profile[i]] = -np.inf
        assert np.all(gains <= -rules.iota + 1e-9)


def test_inducing_rules_on_random_instances_have_a_positive_margin():
    for seed in range(5):
        inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=seed)
        rules = inducing_scoring_rules(inst)
        assert rules.iota == pytest.approx(min(m.min() for m in rules.margins))
        assert 0 < rules.iota <= inst.payment_cap


def test_inducing_rules_need_own_effort_marginals_and_informative_signals():
    rng = np.random.default_rng(0)
    law = np.moveaxis(rng.dirichlet(np.ones(4), size=(2, 2, 2)).reshape(2, 2, 2, 2, 2), 2, -1)
    inst = HiringInstance([0.5, 0.5], [[0, 0.1], [0, 0.1]], law, [[1, 0], [0, 1]])
    with pytest.raises(InvalidInstanceError, match="own effort"):
        inducing_scoring_rules(inst)
    blind = HiringInstance.random(
        1, 2, 1, 2, 2, seed=0
    )  # one signal: efforts are indistinguishable
    with pytest.raises(InfeasibleError, match="cannot be made the unique best response"):
        inducing_scoring_rules(blind)


def test_randomised_recommendation_can_be_strictly_optimal():
    """The paper's headline: correlating (randomising) the recommended efforts can beat every
    deterministic recommendation, even with payments on everybody's reports."""
    inst = HiringInstance.random(2, 3, 2, 2, 2, correlation=0.8, seed=163, cost_margin=0.0)
    mech = optimal_mechanism(inst)
    assert len(mech.support) >= 2
    best_deterministic = max(
        optimal_mechanism(inst, profile=b).value for b in np.ndindex(*inst.n_efforts)
    )
    assert mech.value > best_deterministic + 1e-3
    assert audit_incentives_brute_force(inst, mech).is_ic
    fixed = optimal_mechanism(inst, profile=(1, 1))
    assert fixed.recommendation[1, 1] == 1.0 and fixed.is_deterministic
    with pytest.raises(InvalidInstanceError, match="profile"):
        optimal_mechanism(inst, profile=(3, 0))


@given(hiring_instances(max_agents=2, max_efforts=3, max_signals=3, max_states=3))
@settings(max_examples=25)
def test_optimal_payments_are_minimal(inst):
    """Scaling down the payments of any agent who is paid makes the optimal mechanism non-IC:
    the LP leaves no money on the table, and the audit sees the difference."""
    mech = optimal_mechanism(inst)
    n = inst.n_agents
    phi = mech.recommendation.reshape(mech.recommendation.shape + (1,) * (n + 1))
    for i in range(n):
        expected = (phi * inst.joint * mech.payments[i]).sum()
        if expected < 1e-6:
            continue
        scaled = mech.payments.copy()
        scaled[i] *= 0.9
        audit = audit_incentives(inst, Mechanism.build(inst, mech.recommendation, scaled), atol=0.0)
        assert audit.gains[i][np.isfinite(audit.gains[i])].max() > 1e-12


@given(hiring_instances(max_agents=2, max_efforts=2, max_signals=2, max_states=2), st.data())
@settings(max_examples=25)
def test_no_ic_mechanism_beats_the_optimum(inst, data):
    best = optimal_mechanism(inst).value
    for _ in range(5):
        mech = data.draw(mechanisms(inst))
        if audit_incentives(inst, mech).is_ic and mech.respects_limits(inst):
            assert mech.value <= best + 1e-9
    # an IC mechanism that always exists: recommend the cheapest profile and pay nothing
    cheapest = tuple(int(np.argmin(c)) for c in inst.costs)
    rec = np.zeros(inst.n_efforts)
    rec[cheapest] = 1.0
    free = Mechanism.build(
        inst, rec, np.zeros((inst.n_agents, *inst.n_efforts, *inst.n_signals, inst.n_states))
    )
    assert audit_incentives(inst, free).is_ic
    assert free.value <= best + 1e-9


def test_no_highs_banner_in_user_output():
    import subprocess
    import sys

    code = (
        "from mechsim.hiring import HiringInstance\n"
        "from mechsim.solvers.hiring_lp import optimal_mechanism\n"
        "mech = optimal_mechanism(HiringInstance.random(2, 2, 2, 2, 2, seed=0))\n"
        "print('value', round(mech.value, 6))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("value ")
    assert "HiGHS" not in out.stdout and "HiGHS" not in out.stderr
