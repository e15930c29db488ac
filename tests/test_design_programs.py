"""The cvxpy design layer: every program equals an independent oracle and returns only audited solutions."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.auctions import (
    DirectMechanism,
    FiniteAuction,
    audit_direct,
    myerson_revenue,
    optimal_reserve,
    posted_price_revenue,
    second_price_mechanism,
    second_price_revenue,
    virtual_values,
)
from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.errors import InfeasibleError, InvalidInstanceError, SolverError
from mechsim.hiring import HiringInstance, audit_incentives
from mechsim.persuasion import (
    PersuasionInstance,
    audit_obedience,
    concavified_value,
    evaluate_scheme,
    full_information_value,
    no_information_value,
)
from mechsim.solvers.cmdp_lp import solve_cmdp
from mechsim.solvers.design import (
    auction_program,
    budget_balance,
    cmdp_program,
    direct_program,
    hiring_program,
    payment_caps,
    persuasion_program,
    scoring_rule_program,
)
from mechsim.solvers.hiring_lp import min_payment, optimal_mechanism
from mechsim.testing import (
    assert_incentive_compatible,
    auction_instances,
    direct_mechanisms,
    finite_cmdps,
    hiring_instances,
    persuasion_instances,
)


def expected_top_values(auction: FiniteAuction) -> float:
    """E[sum of the `units` highest values]: the welfare of the efficient allocation (VCG is DSIC, IR)."""
    import itertools
    total = 0.0
    for profile in itertools.product(range(auction.n_values), repeat=auction.n_bidders):
        prob = np.prod([auction.prior[i, k] for i, k in enumerate(profile)])
        vals = sorted((auction.values[i, k] for i, k in enumerate(profile)), reverse=True)
        total += prob * sum(vals[:auction.units])
    return total


# ------------------------------------------------------------------------------------------------ auctions
@settings(max_examples=20, deadline=None)
@given(auction=auction_instances(max_bidders=3, max_values=4, max_units=2))
def test_auction_program_equals_myerson_for_both_incentive_notions(auction):
    opt = myerson_revenue(auction)
    for incentive in ("bayesian", "dominant"):
        res = auction_program(auction, incentive=incentive).solve()
        assert res.value == pytest.approx(opt, rel=1e-7, abs=1e-9)
        participation = "interim" if incentive == "bayesian" else "ex_post"
        assert_incentive_compatible(auction, res.solution, incentive=incentive, participation=participation)
        assert res.solution.allocation.shape == (auction.n_values,) * auction.n_bidders + (auction.n_bidders,)


@settings(max_examples=10, deadline=None)
@given(auction=auction_instances(max_bidders=3, max_values=3, max_units=2))
def test_welfare_program_equals_the_efficient_allocation(auction):
    res = auction_program(auction, objective="welfare", incentive="dominant").solve()
    assert res.value == pytest.approx(expected_top_values(auction), rel=1e-7)


def test_one_bidder_is_the_best_posted_price_and_ironing_matters():
    values, prior = [1.0, 2.0, 3.0, 4.0], [0.1, 0.4, 0.1, 0.4]     # irregular: virtual values not monotone
    res = auction_program(values, prior, n_bidders=1).solve()
    assert res.value == pytest.approx(posted_price_revenue(values, prior)) == pytest.approx(1.8)
    two = FiniteAuction(values, prior, n_bidders=2)
    assert auction_program(two).solve().value == pytest.approx(myerson_revenue(two), rel=1e-9)


def test_second_price_with_the_optimal_reserve_is_dominated_and_audited():
    auction = FiniteAuction(np.arange(1.0, 7.0), np.full(6, 1 / 6), n_bidders=2)
    reserve, revenue = optimal_reserve(auction)
    sp = second_price_mechanism(auction, reserve)
    assert audit_direct(auction.model(), sp.mechanism, incentive="dominant", participation="ex_post").is_ic
    assert revenue == pytest.approx(second_price_revenue(auction, reserve))
    # On a value grid the optimal mechanism charges the lowest *grid* type that still wins, which second price
    # does not: it is dominated; its best reserve excludes every type with a negative virtual value.
    assert revenue < myerson_revenue(auction)
    phi = virtual_values(auction.values[0], auction.prior[0])
    assert reserve >= auction.values[0][np.argmax(phi >= 0)]
    capped = auction_program(auction, reserve=reserve).solve()
    assert capped.value <= myerson_revenue(auction) + 1e-9
    low = np.asarray(auction.values[0]) < reserve
    assert np.all(capped.solution.allocation[low, :, 0] <= 1e-12)


def test_a_broken_auction_fails_the_audit_and_hypothesis_finds_it():
    auction = FiniteAuction(np.arange(1.0, 5.0), np.full(4, 0.25), n_bidders=2)
    sp = second_price_mechanism(auction)
    first_price = DirectMechanism(sp.mechanism.outcome_probabilities,
                                  sp.allocation * auction.values[0][:, None, None].repeat(1, 0) *
                                  np.array([1, 0])[None, None, :] + sp.allocation * auction.values[1][None, :, None]
                                  * np.array([0, 1])[None, None, :])
    report = audit_direct(auction.model(), first_price, incentive="dominant", participation="ex_post")
    assert not report.is_ic and report.max_gain > 0.4
    with pytest.raises(AssertionError, match="not incentive compatible"):
        assert_incentive_compatible(auction, first_price, incentive="dominant", participation="ex_post")


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_random_mechanisms_audit_agrees_with_brute_force(data):
    auction = data.draw(auction_instances(max_bidders=2, max_values=3))
    model = auction.model()
    mech = data.draw(direct_mechanisms(model))
    report = audit_direct(model, mech, incentive="bayesian", participation="interim", atol=0.0)
    # Brute force: interim utilities by explicit loops.
    import itertools
    best = 0.0
    q, p = mech.outcome_probabilities, mech.payments
    for i in range(model.n_agents):
        others = [range(k) for j, k in enumerate(model.n_types) if j != i]
        for s in range(model.n_types[i]):
            def interim(report_type, i=i, s=s, others=others):
                total = 0.0
                for rest in itertools.product(*others):
                    true_profile = list(rest)
                    true_profile.insert(i, s)
                    rep = list(rest)
                    rep.insert(i, report_type)
                    w = model.prior[tuple(true_profile)]
                    total += w * (q[tuple(rep)] @ model.valuations[i][:, s] - p[tuple(rep)][i])
                return total / model.marginal(i)[s]
            truth = interim(s)
            for s2 in range(model.n_types[i]):
                best = max(best, interim(s2) - truth)
    assert report.max_gain == pytest.approx(best, abs=1e-9)


def test_bad_auction_inputs_are_typed_and_named():
    with pytest.raises(InvalidInstanceError, match="values: .*unsorted"):
        FiniteAuction([3.0, 1.0], [0.5, 0.5], n_bidders=2)
    with pytest.raises(InvalidInstanceError, match="values: .*duplicate"):
        FiniteAuction([1.0, 1.0], [0.5, 0.5], n_bidders=2)
    with pytest.raises(InvalidInstanceError, match="prior"):
        FiniteAuction([1.0, 2.0], [0.5, 0.6], n_bidders=2)
    with pytest.raises(InvalidInstanceError, match="prior: expected the shape"):
        FiniteAuction([1.0, 2.0], [1.0], n_bidders=2)
    with pytest.raises(InvalidInstanceError, match="n_bidders"):
        FiniteAuction([1.0, 2.0], [0.5, 0.5])
    with pytest.raises(InvalidInstanceError, match="incentive"):
        auction_program([1.0, 2.0], [0.5, 0.5], 2, incentive="ex-ante")


# ------------------------------------------------------------------------------------------------ persuasion
def test_the_prosecutor_convicts_sixty_percent():
    inst = PersuasionInstance([0.7, 0.3], [[0, 1], [0, 1]], [[1, 0], [0, 1]])
    res = persuasion_program(inst).solve()
    assert res.value == pytest.approx(0.6)
    assert (no_information_value(inst), full_information_value(inst)) == (0.0, pytest.approx(0.3))


@settings(max_examples=25, deadline=None)
@given(inst=persuasion_instances(states=2, max_actions=4))
def test_two_state_persuasion_equals_the_concavification(inst):
    res = persuasion_program(inst).solve()
    assert res.value == pytest.approx(concavified_value(inst), abs=1e-8)
    assert evaluate_scheme(inst, res.solution)["sender_value"] == pytest.approx(res.value, abs=1e-7)


@settings(max_examples=20, deadline=None)
@given(inst=persuasion_instances(max_states=4, max_actions=4))
def test_persuasion_beats_no_and_full_information_and_is_obedient(inst):
    res = persuasion_program(inst).solve()
    assert audit_obedience(inst, res.solution).is_obedient
    assert res.value >= max(no_information_value(inst), full_information_value(inst)) - 1e-8
    assert evaluate_scheme(inst, res.solution)["sender_value"] == pytest.approx(res.value, abs=1e-7)


# ------------------------------------------------------------------------------------------------ CMDP
@settings(max_examples=15, deadline=None)
@given(m=finite_cmdps(max_states=4, max_actions=3, max_constraints=2))
def test_cmdp_program_equals_solve_cmdp(m):
    res = cmdp_program(m).solve()
    ref = solve_cmdp(m)
    peak = max(np.abs(m.reward).max() / (1 - m.discount), 1e-12)
    assert res.value == pytest.approx(ref.value, abs=1e-7 * peak)
    assert res.duals["limits"] == pytest.approx(ref.multipliers, rel=1e-5, abs=1e-6 * peak)


def test_cmdp_program_takes_a_users_own_constraint_and_reports_its_price():
    m = FiniteCMDP(np.ones((1, 2, 1)), [[1, 0]], [[[1.0, 0]]], [5.0], [1], 0.9)
    program = cmdp_program(m)
    program.add_constraint(program.variables["occupancy"][0, 0] <= 2.0, "cap")
    res = program.solve()
    assert res.value == pytest.approx(2.0)
    assert res.duals["cap"] == pytest.approx([1.0])          # each unit of the cap is worth one reward
    ev = evaluate_policy(m, res.solution.policy)
    assert ev.value == pytest.approx(2.0) and ev.cost_values[0] <= 5.0 + 1e-9


# ------------------------------------------------------------------------------------------------ the program API
def test_budget_caps_and_duals_on_a_direct_program():
    # Two agents with a public good: the designer maximises welfare subject to budget balance.
    auction = FiniteAuction([1.0, 3.0], [0.5, 0.5], n_bidders=2)
    program = direct_program(auction.model(), incentive="dominant", participation="ex_post", objective="revenue")
    z = program.variables["z"]
    program.add_constraint(payment_caps(auction.model(), z, 2.0), "cap")
    program.add_constraint(budget_balance(auction.model(), z, kind="ex_ante"), "budget")
    res = program.solve()
    assert np.abs(res.solution.payments).max() <= 2.0 + 1e-9
    assert set(res.duals) == {"feasibility", "incentive", "participation", "cap", "budget"}
    welfare = program.with_objective(program.expressions["welfare"]).solve()
    assert welfare.value == pytest.approx(expected_top_values(auction))
    assert program.objective is not welfare  # with_objective left the original alone
    assert program.solve().value == pytest.approx(res.value)


def test_program_errors_are_typed():
    program = auction_program([1.0, 2.0], [0.5, 0.5], 1)
    stranger = cp.Variable(3, name="stranger")
    with pytest.raises(InvalidInstanceError, match="constraint: refers to variable.*stranger"):
        program.add_constraint(stranger >= 0, "mine")
    with pytest.raises(InvalidInstanceError, match="constraint: expected a cvxpy constraint"):
        program.add_constraint("revenue <= 1", "mine")
    with pytest.raises(InvalidInstanceError, match="solver"):
        program.solve(solver="NO_SUCH_SOLVER")
    infeasible = auction_program([1.0, 2.0], [0.5, 0.5], 1)
    infeasible.add_constraint(infeasible.expressions["revenue"] >= 5.0, "greed")
    with pytest.raises(InfeasibleError):
        infeasible.solve()
    unbounded = direct_program(FiniteAuction([1.0, 2.0], [0.5, 0.5], n_bidders=1).model(), participation="none")
    with pytest.raises(SolverError, match="unbounded"):
        unbounded.solve()


def test_interior_point_answers_are_cleaned_completed_and_audited():
    auction = FiniteAuction(np.arange(1.0, 6.0), np.array([0.1, 0.3, 0.2, 0.3, 0.1]), n_bidders=2)
    exact = auction_program(auction).solve()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ipm = auction_program(auction).solve(solver="CLARABEL")
    assert ipm.solver == "CLARABEL" and ipm.audit.is_ic and ipm.audit.is_ir
    assert ipm.value == pytest.approx(exact.value, rel=1e-3) and ipm.value <= exact.value + 1e-9


def test_persuasion_prior_is_a_parameter_for_fast_re_solves():
    inst = PersuasionInstance([0.7, 0.3], [[0, 1], [0, 1]], [[1, 0], [0, 1]])
    program = persuasion_program(inst)
    assert program.problem.is_dpp()
    for guilty in (0.1, 0.3, 0.45, 0.6):
        program.parameters["prior"].value = np.array([1 - guilty, guilty])
        res = program.solve()
        assert res.value == pytest.approx(min(1.0, 2 * guilty))       # concavification of the prosecutor
        other = PersuasionInstance([1 - guilty, guilty], [[0, 1], [0, 1]], [[1, 0], [0, 1]])
        assert res.value == pytest.approx(concavified_value(other))


# ------------------------------------------------------------------------------------------------ hiring


@settings(max_examples=15, deadline=None)
@given(inst=hiring_instances(max_agents=2, max_efforts=2, max_signals=2, max_states=2))
def test_hiring_program_equals_optimal_mechanism_and_passes_the_audit(inst):
    res = hiring_program(inst).solve()
    assert res.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-8)
    assert audit_incentives(inst, res.solution).is_ic


def test_a_budget_on_one_agent_and_its_shadow_price():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=15, cost_margin=0.05)   # agent 0 is paid
    base_program = hiring_program(inst)
    base = base_program.solve()
    paid = float(base_program.expressions["expected_payment"].value[0])
    per_profile = base.solution.expected_payments(inst)[0]           # (n_efforts...): not weighted by phi
    assert paid == pytest.approx(float(np.sum(base.solution.recommendation * per_profile)), abs=1e-9)

    def with_budget(b):
        p = hiring_program(inst)
        p.add_constraint(p.expressions["expected_payment"][0] <= b, "budget")
        r = p.solve()
        assert audit_incentives(inst, r.solution).is_ic
        return r.value, float(r.duals["budget"][0])

    values = [with_budget(b)[0] for b in np.linspace(paid, 0.2 * paid, 5)]
    assert values[0] == pytest.approx(base.value, abs=1e-9)
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))      # less budget never helps
    b, h = 0.6 * paid, 1e-4 * paid
    (v_lo, _), (_, dual), (v_hi, _) = with_budget(b - h), with_budget(b), with_budget(b + h)
    assert dual >= 0
    assert dual == pytest.approx((v_hi - v_lo) / (2 * h), rel=1e-3, abs=1e-6)   # the dual is the slope


def test_scoring_rule_program_equals_min_payment():
    inst = HiringInstance.random(1, 3, 3, 2, 2, seed=4, cost_margin=0.05)
    for effort in range(3):
        try:
            expected, _ = min_payment(inst, 0, (effort,))
        except InfeasibleError:
            with pytest.raises(InfeasibleError):
                scoring_rule_program(inst.prior, inst.signal_law, inst.costs[0], effort, inst.payment_cap).solve()
            continue
        res = scoring_rule_program(inst.prior, inst.signal_law, inst.costs[0], effort, inst.payment_cap).solve()
        assert res.value == pytest.approx(expected, abs=1e-9)
        assert res.solution.rule.shape == (3, 2) and res.solution.effort == effort
        assert res.solution.expected_payment == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("factor", [2.0 ** -12, 1e-3, 0.3, 1.0])   # utilities live in [0, 1]
def test_hiring_program_is_invariant_to_the_units(factor):
    """Payments, costs and utilities in other units: the value and duals scale, the mechanism does not change."""
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=15, cost_margin=0.05)
    scaled = HiringInstance(inst.prior, [c * factor for c in inst.costs], inst.signal_law, inst.utility * factor,
                            inst.payment_cap * factor)
    base, res = hiring_program(inst).solve(), hiring_program(scaled).solve()
    assert res.value == pytest.approx(factor * base.value, rel=1e-8)
    assert res.value == pytest.approx(optimal_mechanism(scaled).value, rel=1e-8)
    assert audit_incentives(scaled, res.solution).is_ic
    for group in ("normalisation", "obedience"):
        ratio = 1.0 if group == "obedience" else factor       # obedience rows are in units of payment
        np.testing.assert_allclose(res.duals[group], ratio * base.duals[group], rtol=1e-6, atol=1e-9 * factor)


def test_hiring_program_on_a_one_action_instance_whose_cap_is_not_the_unit():
    """The LP's unit is the largest utility, not the cap (the case the scaled LP once got wrong by 1/scale)."""
    inst = HiringInstance([1.0], [[0.0]], [[[1.0]]], [[0.26978671]], 0.5)
    res = hiring_program(inst).solve()
    assert res.value == pytest.approx(0.26978671, abs=1e-12)
    assert res.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-12)
