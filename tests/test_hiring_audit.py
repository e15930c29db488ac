"""Tests of the exact incentive audit and the mechanism evaluation."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim.errors import InvalidInstanceError
from mechsim.hiring import (
    HiringInstance,
    Mechanism,
    audit_incentives,
    audit_incentives_brute_force,
    evaluate_mechanism,
    is_incentive_compatible,
)
from mechsim.testing import assert_hiring_incentive_compatible, hiring_instances, mechanisms


def single_agent():
    law = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.9, 0.2], [0.1, 0.8]]])
    return HiringInstance([0.4, 0.6], [[0.0, 0.1]], law, [[1.0, 0.0], [0.0, 1.0]])


@st.composite
def instance_and_mechanism(draw, **kwargs):
    inst = draw(hiring_instances(**kwargs))
    return inst, draw(mechanisms(inst))


@given(
    instance_and_mechanism(max_agents=2, max_efforts=3, max_signals=3, own_effort_marginals=False)
)
def test_audit_agrees_with_brute_force_over_all_reporting_maps(pair):
    inst, mech = pair
    fast, slow = audit_incentives(inst, mech), audit_incentives_brute_force(inst, mech)
    for g_fast, g_slow in zip(fast.gains, slow.gains):
        assert np.array_equal(np.isneginf(g_fast), np.isneginf(g_slow))
        finite = np.isfinite(g_fast)
        np.testing.assert_allclose(g_fast[finite], g_slow[finite], atol=1e-12, rtol=1e-9)
    assert fast.max_gain == pytest.approx(slow.max_gain, abs=1e-12)
    assert fast.is_ic == slow.is_ic
    assert fast.max_gain >= 0.0


@given(
    instance_and_mechanism(
        max_agents=3, max_efforts=2, max_signals=2, max_states=2, correlated=True
    )
)
def test_audit_agrees_with_brute_force_three_agents(pair):
    inst, mech = pair
    fast, slow = audit_incentives(inst, mech), audit_incentives_brute_force(inst, mech)
    assert fast.max_gain == pytest.approx(slow.max_gain, abs=1e-12)
    for g_fast, g_slow in zip(fast.gains, slow.gains):
        finite = np.isfinite(g_fast)
        np.testing.assert_allclose(g_fast[finite], g_slow[finite], atol=1e-12, rtol=1e-9)


@given(instance_and_mechanism(max_agents=2, max_efforts=2, max_signals=3))
def test_reported_deviation_achieves_the_reported_gain(pair):
    """Replaying the audit's deviation by hand gives exactly the reported gain."""
    inst, mech = pair
    audit = audit_incentives(inst, mech)
    i, b, p, omega = (
        audit.agent,
        audit.recommended_effort,
        audit.deviation_effort,
        audit.reporting_map,
    )
    n = inst.n_agents
    phi = mech.recommendation
    total_dev = total_obey = 0.0
    for prof in np.ndindex(*inst.n_efforts):
        if prof[i] != b or phi[prof] == 0:
            continue
        dev = list(prof)
        dev[i] = p
        q_dev, q_obey = inst.joint[tuple(dev)], inst.joint[prof]
        pay = np.take(mech.payments[i][prof], omega, axis=i)  # agent i reports omega(s_i)
        total_dev += phi[prof] * ((q_dev * pay).sum() - inst.costs[i][p])
        total_obey += phi[prof] * ((q_obey * mech.payments[i][prof]).sum() - inst.costs[i][b])
    phi_i = phi.sum(axis=tuple(j for j in range(n) if j != i))[b]
    assert (total_dev - total_obey) / phi_i == pytest.approx(audit.max_gain, abs=1e-12)
    assert audit.profile[i] == b and phi[audit.profile] > 0


def test_unpaid_effort_is_shirked():
    inst = single_agent()
    mech = Mechanism.build(inst, [0.0, 1.0], np.zeros((1, 2, 2, 2)))
    audit = audit_incentives(inst, mech)
    assert not audit.is_ic
    assert (audit.agent, audit.recommended_effort, audit.deviation_effort) == (0, 1, 0)
    assert audit.max_gain == pytest.approx(0.1)  # saves the cost, loses nothing
    assert audit.effort_margin == pytest.approx(-0.1)
    assert not is_incentive_compatible(inst, mech)
    with pytest.raises(AssertionError, match="agent 0 recommended effort 1, exerting 0"):
        assert_hiring_incentive_compatible(inst, mech)


def test_payment_for_a_fixed_report_induces_a_constant_misreport():
    inst = single_agent()
    pay = np.zeros((1, 2, 2, 2))
    pay[0, :, 1, :] = 0.5  # report 1 pays 0.5 whatever the state
    mech = Mechanism.build(inst, [1.0, 0.0], pay)
    audit = audit_incentives(inst, mech)
    assert not audit.is_ic
    assert audit.reporting_map.tolist() == [1, 1]
    assert audit.deviation_effort == 0
    assert audit.max_gain == pytest.approx(0.5 * 0.5)  # signal 0 has probability 1/2 at effort 0
    assert not audit.is_truthful_report


def test_proper_scoring_rule_is_ic_and_margin_is_reported():
    inst = single_agent()
    # recommend effort 1; pay 0.5 when the report matches the state
    pay = np.zeros((1, 2, 2, 2))
    pay[0, 1] = 0.5 * np.eye(2)
    mech = Mechanism.build(inst, [0.0, 1.0], pay)
    audit = audit_incentives(inst, mech)
    # effort 1, truthful: 0.5 * (0.36 + 0.48) - 0.1 = 0.32; effort 0 with the best map (always
    # report the likelier state 1): 0.5 * 0.6 = 0.3 -> effort deviations lose 0.02
    assert audit.is_ic
    assert audit.effort_margin == pytest.approx(0.02)
    assert audit.max_gain == 0.0 and audit.is_truthful_report
    np.testing.assert_allclose(audit.gains[0][0], -np.inf)
    assert audit.gains[0][1, 0] == pytest.approx(-0.02)


def test_conditional_gain_is_per_unit_of_recommendation_probability():
    inst = single_agent()
    pay = np.zeros((1, 2, 2, 2))
    base = audit_incentives(inst, Mechanism.build(inst, [0.0, 1.0], pay))
    mixed = audit_incentives(inst, Mechanism.build(inst, [0.75, 0.25], pay))
    assert mixed.max_gain == pytest.approx(base.max_gain)


def two_workers():
    """Two agents; effort 1 reveals the state exactly, effort 0 gives a uniform, useless signal."""
    marginal = np.array(
        [[[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]]]
    )  # (effort, signal, state)
    law = marginal[:, None, :, None, :] * marginal[None, :, None, :, :]
    return HiringInstance([0.5, 0.5], [[0.0, 0.1], [0.0, 0.1]], law, [[1.0, 0.0], [0.0, 1.0]])


def test_audit_picks_the_profile_where_the_deviation_bites():
    inst = two_workers()
    match = np.eye(2)  # (own report, state): pay 1 when they agree
    pay = np.zeros((2, 2, 2, 2, 2, 2))
    pay[0, 1, 1] = match[:, None, :]  # agent 0 is rewarded for effort at (1, 1) ...
    pay[1, 1, 1] = match[None, :, :]  # (agent 1 too, so that it does not shirk)
    rec = np.array([[0.0, 0.0], [0.5, 0.5]])  # ... but unpaid at (1, 0): shirking pays there
    audit = audit_incentives(inst, Mechanism.build(inst, rec, pay))
    # agent 0's conditional gain from shirking:
    # 0.5 * 0.1 at (1, 0) + 0.5 * (0.5 - 1 + 0.1) at (1, 1)
    assert audit.gains[0][1, 0] == pytest.approx(0.5 * 0.1 + 0.5 * (0.5 - 1.0 + 0.1))
    assert audit.gains[1][1, 0] == pytest.approx(0.5 - 1.0 + 0.1)  # agent 1 loses 0.4 by shirking
    assert audit.is_ic and audit.max_gain == 0.0
    # unpaid at (1, 0) only: shirking there is profitable and that is where the audit points
    rec = np.array([[0.0, 0.0], [0.9, 0.1]])
    audit = audit_incentives(inst, Mechanism.build(inst, rec, pay))
    assert audit.max_gain == pytest.approx(0.9 * 0.1 + 0.1 * (0.5 - 1.0 + 0.1))
    assert (audit.agent, audit.deviation_effort, audit.profile) == (0, 0, (1, 0))


def test_evaluation_ignores_the_claimed_value_and_checks_shapes():
    inst = single_agent()
    mech = Mechanism.build(inst, [0.0, 1.0], np.zeros((1, 2, 2, 2)))
    forged = Mechanism(mech.recommendation, mech.payments, mech.decision, 123.0)
    assert evaluate_mechanism(inst, forged) == pytest.approx(0.84)
    other = HiringInstance.random(2, 2, 2, 2, 2, seed=0)
    with pytest.raises(InvalidInstanceError):
        evaluate_mechanism(other, mech)
    with pytest.raises(InvalidInstanceError):
        audit_incentives(other, mech)
    with pytest.raises(InvalidInstanceError, match="atol"):
        audit_incentives(inst, mech, atol=-1.0)


@given(instance_and_mechanism(max_agents=2, max_efforts=2, max_signals=2))
def test_evaluation_matches_enumeration(pair):
    inst, mech = pair
    total = 0.0
    for b in np.ndindex(*inst.n_efforts):
        for s in np.ndindex(*inst.n_signals):
            for t in range(inst.n_states):
                q = inst.joint[b + s + (t,)]
                gain = sum(
                    mech.decision[b + s + (a,)] * inst.utility[a, t] for a in range(inst.n_actions)
                )
                paid = sum(mech.payments[(i,) + b + s + (t,)] for i in range(inst.n_agents))
                total += mech.recommendation[b] * q * (gain - paid)
    assert evaluate_mechanism(inst, mech) == pytest.approx(total, abs=1e-12)
    assert mech.value == pytest.approx(total, abs=1e-12)


def test_brute_force_refuses_large_instances():
    inst = HiringInstance.random(1, 2, 7, 2, 2, seed=0)
    mech = Mechanism.build(inst, [1.0, 0.0], np.zeros((1, 2, 7, 2)))
    with pytest.raises(ValueError, match="max_maps"):
        audit_incentives_brute_force(inst, mech, max_maps=1000)
    # the exact audit has no such limit
    assert audit_incentives(inst, mech).is_ic


def test_all_reporting_maps_brute_force_small_case_by_hand():
    """On one agent with 2 signals, the 4 maps are enumerated by hand."""
    inst = single_agent()
    rng = np.random.default_rng(0)
    pay = rng.uniform(0, 1, size=(1, 2, 2, 2))
    mech = Mechanism.build(inst, [0.3, 0.7], pay)
    audit = audit_incentives(inst, mech)
    q, c = inst.joint, inst.costs[0]
    for b in range(2):
        for p in range(2):
            best = max(
                sum(q[p, s, t] * pay[0, b, omega[s], t] for s in range(2) for t in range(2))
                for omega in itertools.product(range(2), repeat=2)
            )
            obey = sum(q[b, s, t] * pay[0, b, s, t] for s in range(2) for t in range(2))
            assert audit.gains[0][b, p] == pytest.approx(best - c[p] - obey + c[b])
