"""Per-agent payment caps M_i in the hiring domain (issue #13).

Oracles: (1) caps all equal to a common M reproduce the scalar-cap results bit for bit; (2) the LP optimum
with caps (M_0, M_1) equals a second formulation, the common-cap program with cap max_i M_i plus the rows
y_i <= M_i phi added by hand through ``add_constraint``; (3) on tiny instances, the LP with every reporting map
written out (``enumerated_mechanism_value``, scipy's linprog, no z-trick); (4) monotonicity in each cap and
invariance to the units; (5) the exact audit, which must accept the optimum and reject a payment above M_i.
"""

from __future__ import annotations

import dataclasses
import functools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.envs.hiring import parallel_env
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.hiring import HiringInstance, Mechanism, audit_incentives, audit_incentives_brute_force
from mechsim.learners.hiring_agents import independent_exp3_agents
from mechsim.learners.hiring_online import learnable_instances, simulate_online
from mechsim.solvers.design import hiring_program
from mechsim.solvers.hiring_lp import (
    build_hiring_lp,
    inducing_scoring_rules,
    min_payment,
    optimal_mechanism,
    optimal_uncorrelated_mechanism,
    solve_hiring_lp,
)
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.testing.hiring import (
    assert_hiring_incentive_compatible,
    enumerated_mechanism_value,
    hiring_instances,
    mechanisms,
)


def _with_caps(inst: HiringInstance, caps) -> HiringInstance:
    return HiringInstance(inst.prior, inst.costs, inst.signal_law, inst.utility, caps)


@functools.cache
def _base(seed: int) -> HiringInstance:
    """Small random instances on which hiring pays (costs x 0.25); on seed 9 the optimum pays agent 0 about 0.22
    and on seed 7 agent 1 about 0.47, so caps below those bind."""
    return HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=seed).scale_costs(0.25)


def _used_max(mech: Mechanism) -> np.ndarray:
    """Each agent's largest payment on a recommended profile."""
    used = mech.recommendation > 0
    return np.array([mech.payments[i][used].max() for i in range(mech.n_agents)])


def _cost_differences(inst):
    return [inst.cost_differences(i) for i in range(inst.n_agents)]


# ------------------------------------------------------------------------------------------------ the model
def test_a_scalar_and_equal_per_agent_caps_are_the_same_instance():
    scalar = _base(9)
    listed, array = _with_caps(scalar, [1.0, 1.0]), _with_caps(scalar, np.array([1.0, 1.0]))
    assert scalar == listed == array
    for inst in (scalar, listed, array):
        assert type(inst.payment_cap) is float and inst.payment_cap == 1.0
        assert inst.payment_caps.shape == (2,) and inst.payment_caps.tolist() == [1.0, 1.0]
        assert inst.has_common_cap
        assert "payment_cap=1)" in repr(inst)
    assert not scalar.payment_caps.flags.writeable


def test_per_agent_caps_are_kept_by_every_derivation():
    inst = _with_caps(_base(9), [0.25, 0.75])
    assert inst.payment_caps.tolist() == [0.25, 0.75] and not inst.has_common_cap
    assert inst.payment_cap == 0.75 and isinstance(inst.payment_cap, float)     # the largest cap
    assert "payment_caps=(0.25, 0.75)" in repr(inst)
    assert inst != _base(9) and inst != _with_caps(_base(9), [0.75, 0.25])
    assert inst.scale_costs(0.5).payment_caps.tolist() == [0.25, 0.75]
    assert inst.permute_agents([1, 0]).payment_caps.tolist() == [0.75, 0.25]
    assert inst.permute_agents([1, 0]).permute_agents([1, 0]) == inst
    # handing payment_cap back (dataclasses.replace, copies, pickles) keeps the caps per agent
    assert dataclasses.replace(inst, utility=inst.utility * 0.5).payment_caps.tolist() == [0.25, 0.75]
    assert _with_caps(_base(9), inst.payment_cap) == inst
    assert pickle.loads(pickle.dumps(inst)) == inst
    assert 2 * inst.payment_cap == 1.5 and type(2 * inst.payment_cap) is float
    # the marginals do not depend on the caps
    np.testing.assert_array_equal(inst.marginal(0), _base(9).marginal(0))
    np.testing.assert_array_equal(inst.own_marginal(1), _base(9).own_marginal(1))


def test_random_and_noisy_bits_take_per_agent_caps():
    common = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=3, payment_cap=0.8)
    assert HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=3, payment_cap=[0.8, 0.8]) == common
    mixed = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=3, payment_cap=[0.8, 0.2])
    assert mixed.payment_caps.tolist() == [0.8, 0.2]
    # agent 0 draws its costs against the same cap as before, agent 1 against its own smaller one
    np.testing.assert_array_equal(mixed.costs[0], common.costs[0])
    assert not np.array_equal(mixed.costs[1], common.costs[1])
    np.testing.assert_array_equal(mixed.signal_law, common.signal_law)
    inducing_scoring_rules(mixed)            # every effort inducible within agent i's own cap, as documented
    bits = HiringInstance.noisy_bits(3, payment_cap=[0.1, 0.2, 0.3])
    assert bits.payment_caps.tolist() == [0.1, 0.2, 0.3]
    assert HiringInstance.noisy_bits(3, payment_cap=[0.3] * 3) == HiringInstance.noisy_bits(3, payment_cap=0.3)


@pytest.mark.parametrize("caps, fragment", [
    ([0.5], "sequence of 2 positive numbers"),
    ([0.5, 1.0, 1.0], "sequence of 2 positive numbers"),
    ([[0.5, 1.0]], "found shape (1, 2)"),
    ([], "found shape (0,)"),
    ([0.5, float("nan")], "finite"),
    ([0.5, float("inf")], "finite"),
    ([0.5, 0.0], "payment_cap[1]: expected a positive number"),
    ([-0.5, 1.0], "payment_cap[0]: expected a positive number"),
    ([0.5, None], "objects"),
    ([None, None], "objects"),
    (["0.5", 1.0], "strings"),
    (None, "real number"),
    ("1", "real number"),
    (0.0, "positive"),
])
def test_bad_caps_raise_a_typed_error_naming_payment_cap(caps, fragment):
    inst = _base(9)
    calls = [
        lambda: _with_caps(inst, caps),
        lambda: HiringInstance.random(2, 2, 2, 2, 2, seed=0, payment_cap=caps),
        lambda: HiringInstance.noisy_bits(2, payment_cap=caps),
        lambda: build_hiring_lp(inst.joint, _cost_differences(inst), inst.utility, caps),
        lambda: solve_estimated_mechanism_lp(inst.joint, _cost_differences(inst), inst.utility, caps),
    ]
    for call in calls:
        with pytest.raises(InvalidInstanceError, match="payment_cap") as err:
            call()
        assert fragment in str(err.value)
        assert err.value.argument == "payment_cap"


# ----------------------------------------------------------------------- equal caps reproduce the scalar case
@pytest.mark.parametrize("seed, cap", [(9, 1.0), (7, 0.5), (4, 3.0)])
def test_equal_per_agent_caps_reproduce_the_scalar_results_exactly(seed, cap):
    scalar = HiringInstance(_base(seed).prior, _base(seed).costs, _base(seed).signal_law, _base(seed).utility, cap)
    listed = _with_caps(scalar, [cap, cap])
    a, b = optimal_mechanism(scalar), optimal_mechanism(listed)
    assert a == b                               # value, recommendation, payments and decision, bit for bit
    assert optimal_uncorrelated_mechanism(scalar) == optimal_uncorrelated_mechanism(listed)
    ra, rb = inducing_scoring_rules(scalar), inducing_scoring_rules(listed)
    assert ra.iota == rb.iota and all(np.array_equal(x, y) for x, y in zip(ra.rules, rb.rules))
    pa, pb = min_payment(scalar, 1, (0, 1)), min_payment(listed, 1, (0, 1))
    assert pa[0] == pb[0] and np.array_equal(pa[1], pb[1])
    ha, hb = hiring_program(scalar).solve(), hiring_program(listed).solve()
    assert ha.value == hb.value and ha.solution == hb.solution
    C = _cost_differences(scalar)
    la = solve_hiring_lp(scalar.joint, C, scalar.utility, cap)
    lb = solve_hiring_lp(scalar.joint, C, scalar.utility, [cap, cap])
    assert la.value == lb.value and la.mechanism == lb.mechanism
    ea = solve_estimated_mechanism_lp(scalar.joint, C, scalar.utility, cap, effort_margins=-0.01)
    eb = solve_estimated_mechanism_lp(scalar.joint, C, scalar.utility, (cap, cap), effort_margins=-0.01)
    assert ea.value == eb.value and np.array_equal(ea.payments, eb.payments)


def test_equal_caps_reproduce_the_online_learner_and_the_learning_agents_exactly():
    _, scalar = learnable_instances(1)[0]
    listed = _with_caps(scalar, scalar.payment_caps)
    for variant in ("default", "faithful"):
        a = simulate_online(scalar, 10**5, seed=2, variant=variant)
        b = simulate_online(listed, 10**5, seed=2, variant=variant)
        np.testing.assert_array_equal(a.cumulative_regret, b.cumulative_regret)
        assert a.mechanism == b.mechanism
    mech = optimal_mechanism(scalar)
    runs = [independent_exp3_agents(parallel_env(instance=inst, mechanism=mech, max_cycles=400), inst, 200, seed=5)
            for inst in (scalar, listed)]
    assert all(np.array_equal(x, y) for x, y in zip(runs[0].tail_counts, runs[1].tail_counts))


# ------------------------------------------------------------------------------ genuinely different caps
def _value_with_cap_rows(inst: HiringInstance) -> tuple[float, Mechanism]:
    """Second formulation: the common-cap program with cap max_i M_i, plus y_i <= M_i phi as user rows."""
    caps = inst.payment_caps
    common = _with_caps(inst, float(caps.max()))
    program = hiring_program(common)
    # the program's y is phi * gamma in units of the LP's scale (module docstring of solvers/design/hiring.py)
    scale = build_hiring_lp(common.joint, _cost_differences(common), common.utility, common.payment_cap).scale
    P = common.n_profiles
    Y = P * int(np.prod(common.n_signals)) * common.n_states
    x, y = program.variables["x"], program.variables["y"]
    # row (i, b, s, theta): scale * y_i(b, s, theta) <= M_i phi(b), all rows in one vectorised constraint
    phi_of_rows = sp.kron(caps.reshape(-1, 1), sp.kron(sp.eye(P), np.ones((Y // P, 1)))).tocsr()
    program.add_constraint(scale * y.flatten(order="C") <= phi_of_rows @ x[:P], "own caps")
    res = program.solve()
    return res.value, res.solution


@pytest.mark.parametrize("seed, caps", [(9, (0.15, 1.0)), (9, (0.05, 0.5)), (7, (1.0, 0.3)), (7, (0.2, 0.25)),
                                        (8, (0.6, 0.1)), (0, (0.02, 0.2))])
def test_per_agent_caps_equal_the_common_cap_program_with_cap_rows_added(seed, caps):
    inst = _with_caps(_base(seed), caps)
    mech = optimal_mechanism(inst)
    value, other = _value_with_cap_rows(inst)
    assert mech.value == pytest.approx(value, abs=1e-8)
    assert np.all(_used_max(other) <= inst.payment_caps + 1e-9)
    audit = audit_incentives(inst, mech)
    assert audit.is_ic and audit.respects_limits and audit.limit_agent == -1
    assert np.all(_used_max(mech) <= inst.payment_caps)
    assert mech.respects_limits(inst, atol=0.0)
    assert_hiring_incentive_compatible(inst, mech, limits=True)


def test_a_binding_cap_on_one_agent_costs_the_principal_and_is_respected():
    inst = _base(9)
    free = optimal_mechanism(inst)
    paid = _used_max(free)
    assert paid[0] > 0.2 and paid[1] == 0.0                 # the unconstrained optimum pays agent 0 only
    capped = _with_caps(inst, [0.15, 1.0])
    mech = optimal_mechanism(capped)
    assert mech.value < free.value - 1e-3                    # the cap binds: the principal loses
    assert _used_max(mech)[0] <= 0.15
    # the same cap on the other agent changes nothing: it is agent 0's own cap that binds
    assert optimal_mechanism(_with_caps(inst, [1.0, 0.15])).value == pytest.approx(free.value, abs=1e-9)
    # and a common cap of 0.15 is no better than capping agent 0 alone
    assert optimal_mechanism(_with_caps(inst, 0.15)).value <= mech.value + 1e-9


@pytest.mark.parametrize("seed", [9, 7])
def test_the_value_is_monotone_in_each_cap(seed):
    inst = _base(seed)
    grid = [0.02, 0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0]
    for agent in range(2):
        values = []
        for m in grid:
            caps = [1.0, 1.0]
            caps[agent] = m
            values.append(optimal_mechanism(_with_caps(inst, caps)).value)
        assert all(a <= b + 1e-9 for a, b in zip(values, values[1:])), (agent, values)
    # the uncorrelated optimum too
    unc = [optimal_uncorrelated_mechanism(_with_caps(inst, [m, 0.5])).value for m in grid]
    assert all(a <= b + 1e-9 for a, b in zip(unc, unc[1:]))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 200), correlation=st.sampled_from((0.0, 0.5, 1.0)),
       caps=st.lists(st.sampled_from((0.02, 0.05, 0.1, 0.2, 0.4, 1.0)), min_size=2, max_size=2))
def test_the_z_trick_lp_equals_the_lp_with_every_reporting_map_written_out(seed, correlation, caps):
    # random instances on which hiring pays (costs x 0.25), so that small caps bind in a good share of draws
    base = HiringInstance.random(2, 2, 2, 2, 2, correlation=correlation, seed=seed).scale_costs(0.25)
    inst = _with_caps(base, caps)
    mech = optimal_mechanism(inst)
    oracle = enumerated_mechanism_value(inst.joint, _cost_differences(inst), inst.utility, inst.payment_caps)
    assert mech.value == pytest.approx(oracle, abs=1e-8)
    assert mech.value <= optimal_mechanism(_with_caps(base, max(caps))).value + 1e-9
    audit = audit_incentives(inst, mech)
    assert audit.is_ic and audit.respects_limits
    assert np.all(_used_max(mech) <= inst.payment_caps)
    unc = optimal_uncorrelated_mechanism(inst)
    assert unc.respects_limits(inst) and unc.value <= mech.value + 1e-8


@settings(max_examples=20, deadline=None)
@given(inst=hiring_instances(min_agents=2, max_agents=2, max_efforts=2, max_signals=2, max_states=2,
                             max_actions=2, per_agent_caps=True, payment_caps=(0.05, 0.2, 1.0)))
def test_optimal_mechanisms_of_drawn_instances_pass_the_audit_within_each_cap(inst):
    mech = optimal_mechanism(inst)
    assert_hiring_incentive_compatible(inst, mech, limits=True)
    assert hiring_program(inst).solve().value == pytest.approx(mech.value, abs=1e-8)


@settings(max_examples=15, deadline=None)
@given(inst=hiring_instances(max_agents=2, max_efforts=2, max_signals=2, max_states=2, per_agent_caps=None),
       data=st.data())
def test_random_mechanisms_respect_per_agent_limits_and_the_audits_agree(inst, data):
    mech = data.draw(mechanisms(inst))
    assert mech.respects_limits(inst)
    fast, slow = audit_incentives(inst, mech), audit_incentives_brute_force(inst, mech)
    assert fast.respects_limits and slow.respects_limits
    assert fast.max_gain == pytest.approx(slow.max_gain, abs=1e-10)


@pytest.mark.parametrize("factor", [1e-3, 0.25])
def test_per_agent_caps_are_invariant_to_the_units(factor):
    inst = _with_caps(_base(9), [0.15, 0.6])
    scaled = HiringInstance(inst.prior, [c * factor for c in inst.costs], inst.signal_law, inst.utility * factor,
                            inst.payment_caps * factor)
    base, small = optimal_mechanism(inst), optimal_mechanism(scaled)
    assert small.value == pytest.approx(factor * base.value, rel=1e-8)
    np.testing.assert_allclose(small.payments, factor * base.payments, atol=1e-9 * factor)
    assert audit_incentives(scaled, small, atol=1e-7 * factor).respects_limits
    assert hiring_program(scaled).solve().value == pytest.approx(small.value, rel=1e-8)


def test_min_payment_and_inducing_rules_use_the_agents_own_cap():
    inst = _base(9)
    needed, rule = min_payment(inst, 0, (1, 0))
    cap = 0.75 * float(rule.max())                               # below what agent 0's cheapest rule pays
    capped = _with_caps(inst, [cap, 1.0])
    try:
        tight, tight_rule = min_payment(capped, 0, (1, 0))
    except InfeasibleError:                                      # acceptable under a tight cap
        pass
    else:
        assert tight_rule.max() <= cap and tight >= needed - 1e-12
    assert min_payment(_with_caps(inst, [1.0, cap]), 0, (1, 0))[0] == pytest.approx(needed, abs=1e-12)
    rules = inducing_scoring_rules(_with_caps(_base(7), [0.4, 1.0]))
    assert rules.rules[0].max() <= 0.4 + 1e-12 and rules.rules[1].max() > 0.4
    assert all(np.all(m <= c) for m, c in zip(rules.margins, (0.4, 1.0)))


def test_hiring_program_decodes_within_each_agents_cap():
    inst = _with_caps(_base(7), [1.0, 0.3])
    res = hiring_program(inst).solve()
    assert res.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-8)
    assert res.audit.respects_limits and np.all(_used_max(res.solution) <= inst.payment_caps)


# ------------------------------------------------------------------------------------------------ the audit
def test_the_audit_rejects_a_payment_above_the_agents_own_cap():
    inst = _with_caps(_base(9), [0.5, 1.0])
    common = _with_caps(_base(9), 1.0)
    rec = np.zeros(inst.n_efforts)
    rec[1, 0] = 1.0
    payments = np.zeros((2, *inst.n_efforts, *inst.n_signals, inst.n_states))
    payments[0, 1, 0] = 0.7                                   # above agent 0's cap 0.5, below the largest cap 1
    payments[1, 1, 0] = 0.9                                   # within agent 1's cap
    mech = Mechanism.build(inst, rec, payments)
    for audit in (audit_incentives(inst, mech), audit_incentives_brute_force(inst, mech)):
        assert not audit.respects_limits and audit.limit_agent == 0
        assert audit.limit_excess == pytest.approx(0.2, abs=1e-12)
        assert "OUTSIDE LIMITS" in str(audit)
    assert not mech.respects_limits(inst) and mech.respects_limits(inst, atol=0.21)
    assert mech.respects_limits(common) and audit_incentives(common, mech).respects_limits
    # a flat 0.7 to agent 0 for recommending the free efforts (0, 0) is IC, but above agent 0's cap
    free = np.zeros(inst.n_efforts)
    free[0, 0] = 1.0
    fee = np.zeros_like(payments)
    fee[0] = 0.7
    flat = Mechanism.build(inst, free, fee)
    assert_hiring_incentive_compatible(inst, flat)
    with pytest.raises(AssertionError, match="agent 0"):
        assert_hiring_incentive_compatible(inst, flat, limits=True)
    # a payment on a profile that is never recommended is not used, and a negative one is outside the limits
    payments[0, 0, 0] = 5.0
    payments[0, 1, 0] = -0.1
    negative = audit_incentives(inst, Mechanism.build(inst, rec, payments))
    assert negative.limit_agent == 0 and negative.limit_excess == pytest.approx(0.1, abs=1e-12)


def test_the_online_learner_commits_within_each_agents_cap():
    _, base = learnable_instances(1)[0]
    paid = _used_max(optimal_mechanism(base))
    assert paid[0] == 0 and paid[1] > 0.3                      # the optimum pays agent 1 only
    binding = [1.0, 0.9 * float(paid[1])]                      # a cap below what the optimum pays agent 1
    for caps in ([0.5, 1.0], [1.0, 0.5], binding):
        inst = _with_caps(base, caps)
        for variant in ("default", "faithful", "plugin"):
            res = simulate_online(inst, 10**6, seed=0, variant=variant)
            if variant != "plugin":                            # the plug-in control need not be IC
                assert res.is_ic, (caps, variant)
            assert res.mechanism.respects_limits(inst), (caps, variant)
            assert np.all(_used_max(res.mechanism) <= inst.payment_caps + 1e-12)
    # the plug-in learner pays agent 1 up to its own cap when that cap binds
    res = simulate_online(_with_caps(base, binding), 10**6, seed=0, variant="plugin")
    assert _used_max(res.mechanism)[1] == pytest.approx(binding[1], abs=1e-9)


def test_learning_agents_and_the_environment_run_with_per_agent_caps():
    inst = _with_caps(_base(9), [0.3, 1.0])
    mech = optimal_mechanism(inst)
    env = parallel_env(instance=inst, mechanism=mech, max_cycles=200)
    res = independent_exp3_agents(env, inst, 100, seed=0)
    assert all(p.sum() == pytest.approx(1.0) for per_agent in res.final_probabilities for p in per_agent)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({a: np.array([1, 0]) for a in env.agents})
    _, rewards, _, _, infos = env.step({a: np.array([0, 0]) for a in env.agents})
    for i, a in enumerate(env.possible_agents):
        assert 0.0 <= infos[a]["payment"] <= inst.payment_caps[i]
