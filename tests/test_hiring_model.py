"""Tests of the hiring model: validation, derived quantities and the random generator."""

import itertools

import numpy as np
import pytest
from hypothesis import given

from mechsim.errors import InvalidInstanceError
from mechsim.hiring import HiringInstance, Mechanism, evaluate_mechanism
from mechsim.testing import hiring_instances


def tiny_instance(**overrides):
    """One agent with two efforts, two signals, two states."""
    law = np.array(
        [
            [[0.5, 0.5], [0.5, 0.5]],  # effort 0: uninformative
            [[0.9, 0.2], [0.1, 0.8]],
        ]
    )  # effort 1: (signal, state)
    args = dict(
        prior=[0.4, 0.6],
        costs=[[0.0, 0.1]],
        signal_law=law,
        utility=[[1.0, 0.0], [0.0, 1.0]],
        payment_cap=1.0,
    )
    args.update(overrides)
    return HiringInstance(**args)


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "overrides, argument, fragment",
    [
        (dict(prior=[0.5, 0.6]), "prior", "summing to 1"),
        (dict(prior=[[0.5, 0.5]]), "prior", "1-dimensional"),
        (dict(costs=[[0.0, -0.1]]), "costs[0]", ">= 0"),
        (dict(costs=[[0.0, 0.1, 0.2]]), "signal_law", "shape"),
        (dict(costs="ab"), "costs", "sequence"),
        (dict(costs=[]), "costs", "at least one agent"),
        (dict(signal_law=np.ones((2, 2, 2))), "signal_law", "summing to 1"),
        (dict(signal_law=np.full((2, 2), 0.5)), "signal_law", "3 dimensions"),
        (dict(utility=[[1.5, 0.0]]), "utility", "<= 1"),
        (dict(utility=[[1.0, 0.0, 0.0]]), "utility", "shape"),
        (dict(payment_cap=0.0), "payment_cap", "positive"),
        (dict(payment_cap=float("nan")), "payment_cap", "finite"),
    ],
)
def test_invalid_instances_name_the_argument(overrides, argument, fragment):
    with pytest.raises(InvalidInstanceError) as err:
        tiny_instance(**overrides)
    assert err.value.argument.startswith(argument.split("[")[0])
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_sizes_and_derived_arrays():
    inst = tiny_instance()
    assert (inst.n_agents, inst.n_efforts, inst.n_signals, inst.n_states, inst.n_actions) == (
        1,
        (2,),
        (2,),
        2,
        2,
    )
    np.testing.assert_allclose(inst.joint, inst.signal_law * inst.prior)
    # V(b) = sum_s max_a sum_theta q_b(s, theta) u(a, theta): effort 0 -> best prior action 0.6,
    # effort 1 -> max(0.36, 0.12) + max(0.04, 0.48)
    np.testing.assert_allclose(inst.value_of_information, [0.6, 0.36 + 0.48])
    np.testing.assert_allclose(inst.cost_differences(0), [[0.0, -0.1], [0.1, 0.0]])
    assert not inst.joint.flags.writeable
    with pytest.raises(InvalidInstanceError, match="i: expected an integer <= 0"):
        inst.marginal(1)


@given(hiring_instances(max_agents=3, max_efforts=2, max_signals=2, own_effort_marginals=False))
def test_value_of_information_matches_enumeration(inst):
    n = inst.n_agents
    for b in np.ndindex(*inst.n_efforts):
        expected = 0.0
        for s in np.ndindex(*inst.n_signals):
            q = inst.joint[b + s]
            expected += max(float(q @ inst.utility[a]) for a in range(inst.n_actions))
        assert inst.value_of_information[b] == pytest.approx(expected, abs=1e-12)
    for i in range(n):
        np.testing.assert_allclose(inst.marginal(i).sum(axis=n), 1.0, atol=1e-9)


def test_own_marginal_rejects_dependence_on_others():
    rng = np.random.default_rng(0)
    law = rng.dirichlet(np.ones(4), size=(2, 2, 2)).reshape(
        2, 2, 2, 2, 2
    )  # (b0, b1, theta, s0, s1)
    law = np.moveaxis(law, 2, -1)
    inst = HiringInstance([0.5, 0.5], [[0, 0.1], [0, 0.1]], law, [[1, 0], [0, 1]])
    assert not inst.has_own_effort_marginals
    with pytest.raises(InvalidInstanceError, match="own effort only"):
        inst.own_marginal(0)


# ------------------------------------------------------------------------------------ generator
def test_random_is_deterministic_and_preserves_marginals():
    a = HiringInstance.random(2, [2, 3], [2, 3], 3, 2, correlation=0.6, seed=7)
    b = HiringInstance.random(2, [2, 3], [2, 3], 3, 2, correlation=0.6, seed=7)
    assert a == b
    independent = HiringInstance.random(2, [2, 3], [2, 3], 3, 2, correlation=0.0, seed=7)
    assert independent != a
    assert a.has_own_effort_marginals and independent.has_own_effort_marginals
    for i in range(2):
        np.testing.assert_allclose(a.own_marginal(i), independent.own_marginal(i), atol=1e-12)
    # correlation 0: the law is the product of the marginals
    m0, m1 = independent.own_marginal(0), independent.own_marginal(1)
    product = m0[:, None, :, None, :] * m1[None, :, None, :, :]
    np.testing.assert_allclose(independent.signal_law, product, atol=1e-12)
    # correlation > 0 couples the signals: some (b, theta) slice is not a product
    assert np.abs(a.signal_law - product).max() > 1e-3


def test_comonotone_coupling_of_identical_marginals_is_perfect_correlation():
    inst = HiringInstance.random(2, 1, 3, 2, 2, correlation=1.0, seed=3)
    # with kappa = 1 each agent's signal is a monotone function of one common uniform: the support
    # of every (b, theta) slice is a chain (no two support points are incomparable)
    for theta in range(inst.n_states):
        support = np.argwhere(inst.signal_law[0, 0, :, :, theta] > 1e-15)
        for (x0, y0), (x1, y1) in itertools.combinations(support, 2):
            assert (x0 - x1) * (y0 - y1) >= 0


def test_random_effort_costs_increase_and_signals_get_more_informative():
    inst = HiringInstance.random(3, 3, 3, 3, 3, seed=11)
    for i in range(3):
        assert inst.costs[i][0] == 0.0
        assert np.all(np.diff(inst.costs[i]) > 0)
    # more effort, more valuable information for the principal (Blackwell garbling)
    single = HiringInstance.random(1, 4, 3, 3, 3, seed=2)
    assert np.all(np.diff(single.value_of_information) >= -1e-12)
    assert single.value_of_information[-1] > single.value_of_information[0]


def test_random_validates_arguments():
    with pytest.raises(InvalidInstanceError, match="n_efforts"):
        HiringInstance.random(2, [2, 2, 2], 2, 2, 2)
    with pytest.raises(InvalidInstanceError, match="correlation"):
        HiringInstance.random(2, 2, 2, 2, 2, correlation=1.5)
    with pytest.raises(InvalidInstanceError, match="seed"):
        HiringInstance.random(2, 2, 2, 2, 2, seed=-1)


def test_permute_agents_round_trip():
    inst = HiringInstance.random(3, [1, 2, 3], [2, 3, 2], 2, 2, correlation=0.4, seed=5)
    perm = inst.permute_agents([2, 0, 1])
    assert perm.n_efforts == (3, 1, 2) and perm.n_signals == (2, 2, 3)
    back = perm.permute_agents([1, 2, 0])
    assert back == inst
    with pytest.raises(InvalidInstanceError, match="permutation"):
        inst.permute_agents([0, 0, 1])


# ------------------------------------------------------------------------------------ mechanisms
def test_mechanism_validation():
    pay = np.zeros((1, 2, 2, 2))
    dec = np.full((2, 2, 2), 0.5)
    with pytest.raises(InvalidInstanceError, match="recommendation"):
        Mechanism([0.5, 0.6], pay, dec, 0.0)
    with pytest.raises(InvalidInstanceError, match="payments"):
        Mechanism([0.5, 0.5], np.zeros((1, 2, 2)), dec, 0.0)
    with pytest.raises(InvalidInstanceError, match="decision"):
        Mechanism([0.5, 0.5], pay, np.full((2, 2, 2), 0.6), 0.0)
    with pytest.raises(InvalidInstanceError, match="value"):
        Mechanism([0.5, 0.5], pay, dec, float("nan"))
    mech = Mechanism([0.5, 0.5], pay, dec, 0.0)
    other = HiringInstance.random(1, 3, 2, 2, 2, seed=0)
    with pytest.raises(InvalidInstanceError, match="mechanism.recommendation"):
        mech.check_compatible(other)
    with pytest.raises(InvalidInstanceError, match="payments"):
        Mechanism([0.5, 0.5], np.full((1, 2, 2, 2), np.inf), dec, 0.0)


def test_build_values_a_hand_computed_mechanism():
    inst = tiny_instance()
    # recommend effort 1, pay 0.3 whenever the report matches the state
    pay = np.zeros((1, 2, 2, 2))
    pay[0, 1] = 0.3 * np.eye(2)
    mech = Mechanism.build(inst, [0.0, 1.0], pay)
    # V(1) = 0.84; expected payment = 0.3 * (P(s=0, th=0) + P(s=1, th=1)) = 0.3 * (0.36 + 0.48)
    assert mech.value == pytest.approx(0.84 - 0.3 * 0.84)
    assert evaluate_mechanism(inst, mech) == pytest.approx(mech.value)
    assert mech.is_deterministic and mech.support.tolist() == [[1]]
    assert mech.respects_limits(inst)


def test_uncorrelated_mechanism_pays_on_own_report_only():
    inst = HiringInstance.random(2, 2, [2, 3], 2, 2, correlation=0.5, seed=1)
    rules = [np.arange(4.0).reshape(2, 2) / 4, np.arange(6.0).reshape(3, 2) / 6]
    mech = Mechanism.uncorrelated(inst, (1, 0), rules)
    assert mech.recommendation[1, 0] == 1.0
    for s1 in range(3):
        np.testing.assert_allclose(mech.payments[0, 1, 0, :, s1, :], rules[0])
    for s0 in range(2):
        np.testing.assert_allclose(mech.payments[1, 1, 0, s0, :, :], rules[1])
    with pytest.raises(InvalidInstanceError, match="profile"):
        Mechanism.uncorrelated(inst, (2, 0), rules)
    with pytest.raises(InvalidInstanceError, match="scoring_rules"):
        Mechanism.uncorrelated(inst, (1, 0), rules[:1])


def test_cost_level_scales_costs_only():
    base = HiringInstance.random(2, 3, 2, 2, 2, correlation=0.3, seed=8)
    cheap = HiringInstance.random(2, 3, 2, 2, 2, correlation=0.3, seed=8, cost_level=0.25)
    np.testing.assert_array_equal(base.signal_law, cheap.signal_law)
    for c_base, c_cheap in zip(base.costs, cheap.costs):
        np.testing.assert_allclose(c_cheap, 0.25 * c_base)
    with pytest.raises(InvalidInstanceError, match="cost_level"):
        HiringInstance.random(2, 2, 2, 2, 2, cost_level=0.0)


def test_instances_and_mechanisms_pickle():
    import pickle

    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=0)
    assert pickle.loads(pickle.dumps(inst)) == inst
    mech = Mechanism.build(inst, [[1.0, 0.0], [0.0, 0.0]], np.zeros((2, 2, 2, 2, 2, 2)))
    assert pickle.loads(pickle.dumps(mech)) == mech


# ------------------------------------------------------- helpers moved out of the hiring scenario
def test_scale_costs_scales_costs_only():
    base = HiringInstance.random(2, 2, 3, 2, 2, correlation=0.5, seed=4)
    low = base.scale_costs(0.25)
    assert all(np.array_equal(a, 0.25 * b) for a, b in zip(low.costs, base.costs))
    assert np.array_equal(low.joint, base.joint) and low.payment_cap == base.payment_cap
    assert base.scale_costs(1.0) == base
    with pytest.raises(InvalidInstanceError, match="factor"):
        base.scale_costs(-1.0)


def test_noisy_bits_is_the_product_of_independent_noisy_copies():
    inst = HiringInstance.noisy_bits(2, accuracy=(0.52, 0.95), costs=(0.0, 0.08))
    assert inst.n_efforts == (2, 2) and inst.n_signals == (2, 2) and inst.n_states == 4
    assert np.array_equal(inst.utility, np.eye(4)) and np.allclose(inst.prior, 0.25)
    # agent 0 sees the high bit, agent 1 the low bit, each right with probability accuracy[effort]
    assert inst.signal_law[1, 0, 1, 1, 3] == pytest.approx(0.95 * 0.52)
    assert inst.signal_law[1, 0, 0, 1, 3] == pytest.approx(0.05 * 0.52)
    assert inst.signal_law[0, 1, 1, 0, 2] == pytest.approx(0.52 * 0.95)
    assert inst.has_own_effort_marginals
    three = HiringInstance.noisy_bits(3, accuracy=(0.6, 0.9, 1.0), costs=(0.0, 0.01, 0.05))
    assert three.n_states == 8 and three.n_efforts == (3, 3, 3)
    with pytest.raises(InvalidInstanceError, match="costs"):
        HiringInstance.noisy_bits(2, accuracy=(0.5, 0.9), costs=(0.0,))


def test_flat_fee_keeps_the_value_and_pays_the_expected_payment():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=2)
    rng = np.random.default_rng(0)
    mech = Mechanism.build(inst, rng.dirichlet(np.ones(4)).reshape(2, 2), rng.uniform(0, 1, (2, 2, 2, 2, 2, 2)))
    paid = mech.expected_payments(inst)
    assert paid.shape == (2, 2, 2)
    assert paid[1, 0, 1] == pytest.approx(float((mech.payments[1, 0, 1] * inst.joint[0, 1]).sum()))
    flat = mech.with_flat_fee(inst, 1)
    assert flat.value == pytest.approx(mech.value, abs=1e-12)
    assert np.allclose(flat.expected_payments(inst), paid)
    assert np.array_equal(flat.payments[0], mech.payments[0])
    assert np.ptp(flat.payments[1].reshape(4, -1), axis=1).max() == 0.0   # no dependence on reports or state
