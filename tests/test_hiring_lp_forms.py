"""The one correlated hiring LP in all its forms, and the one set of scoring-rule incentive rows.

``solve_estimated_mechanism_lp`` (the online learner's LP on estimates, with per-row effort margins and two
forms of truthfulness) used to be a second builder; it is now ``build_hiring_lp`` with ``effort_margins``,
a diagonal ``relaxation`` and ``truthful_margins``.  Both old behaviours are checked here against an
independent oracle that enumerates every reporting map (no z-trick, dense rows, ``scipy.optimize.linprog``;
:func:`mechsim.testing.hiring.enumerated_mechanism_value`).
The single-agent scoring-rule LPs and the cost sampler share :mod:`mechsim.hiring.incentive_rows`; they are
checked against the correlated LP and against values recorded before the rows were shared.
"""


import numpy as np
import pytest

from mechsim.errors import InfeasibleError
from mechsim.hiring import HiringInstance, Mechanism, audit_incentives
from mechsim.solvers.hiring_lp import (
    build_hiring_lp,
    inducing_scoring_rules,
    min_payment,
    optimal_mechanism,
    solve_hiring_lp,
)
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.testing.hiring import enumerated_ic_rows, enumerated_mechanism_value


def _oracle_worst_slack(joint, C, utility, cap, m_eff, m_tr, rho, sol):
    """Largest violation of the oracle's rows by the returned (phi, gamma) (y = phi * gamma)."""
    A, _, _ = enumerated_ic_rows(joint, C, utility, cap, effort_margins=m_eff, truthful_margins=m_tr,
                                 truthful_relaxation=rho)
    n = sol.payments.shape[0]
    phi = sol.recommendation.ravel()
    y = (sol.payments * sol.recommendation.reshape(sol.recommendation.shape + (1,) * (n + 1))[None]).ravel()
    return float((A @ np.concatenate([phi, y])).max())


def _estimate(inst, draws, seed):
    rng = np.random.default_rng(seed)
    flat = inst.joint.reshape(inst.n_profiles, -1)
    return np.array([rng.multinomial(draws, row / row.sum()) / draws for row in flat]).reshape(inst.joint.shape)


CASES = [  # (instance seed, correlation, effort margin, truthful margin or None, truthful relaxation)
    (3, 0.6, 0.0, None, 0.0),
    (3, 0.6, -0.02, None, 0.01),
    (12, 0.3, 0.01, 0.0, 0.0),
    (20, 0.3, 0.005, 0.003, 0.0),
    (8, 0.0, -0.01, 0.002, 0.0),
    (11, 0.7, 0.02, None, 0.0),
]


@pytest.mark.parametrize("seed, corr, m, tau, rho", CASES)
def test_estimated_lp_matches_the_enumerated_oracle(seed, corr, m, tau, rho):
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=corr, seed=seed).scale_costs(0.25)
    q = _estimate(inst, 500, seed)
    rng = np.random.default_rng(seed)
    C = [inst.cost_differences(i) + rng.normal(0, 0.01, (2, 2)) for i in range(2)]  # estimates, any diagonal
    m_eff = [m + rng.uniform(0, 0.005, (2, 2)) for _ in range(2)]
    m_tr = None if tau is None else [np.full((2, 2), tau) for _ in range(2)]
    C_oracle = [np.where(np.eye(2, dtype=bool), 0.0, c) for c in C]
    expected = enumerated_mechanism_value(q, C_oracle, inst.utility, inst.payment_cap, effort_margins=m_eff,
                                          truthful_margins=m_tr, truthful_relaxation=rho)
    try:
        sol = solve_estimated_mechanism_lp(q, C, inst.utility, inst.payment_cap, effort_margins=m_eff,
                                           truthful_margins=m_tr, truthful_relaxation=rho)
    except InfeasibleError:
        assert expected is None
        return
    assert sol.value == pytest.approx(expected, abs=1e-8)
    assert sol.status == "Optimal" and sol.solve_time >= 0
    assert _oracle_worst_slack(q, C_oracle, inst.utility, inst.payment_cap, m_eff, m_tr, rho, sol) <= 1e-8
    assert np.all((sol.payments >= 0) & (sol.payments <= inst.payment_cap))
    # the estimate-side entry point is the one correlated LP with per-row margins
    direct = solve_hiring_lp(q, C_oracle, inst.utility, inst.payment_cap, effort_margins=m_eff,
                             truthful_margins=m_tr, relaxation=[rho * np.eye(2)] * 2)
    assert direct.value == sol.value


def test_truthfulness_forms_agree_without_margins_and_match_the_exact_optimum():
    for seed in range(6):
        inst = HiringInstance.random(2, 2, 3, 2, 2, correlation=0.5, seed=seed).scale_costs(0.25)
        C = [inst.cost_differences(i) for i in range(2)]
        aggregate = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap)
        per_signal = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap,
                                     truthful_margins=[np.zeros((2, 3))] * 2)
        assert per_signal.value == pytest.approx(aggregate.value, abs=1e-9)
        assert aggregate.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-12)
        mech = Mechanism.build(inst, per_signal.recommendation, per_signal.payments)
        assert audit_incentives(inst, mech).is_ic


def test_per_signal_form_drops_the_truthfulness_rows_it_replaces():
    inst = HiringInstance.random(2, 3, 2, 2, 2, seed=1)
    C = [inst.cost_differences(i) for i in range(2)]
    aggregate = build_hiring_lp(inst.joint, C, inst.utility, 1.0)
    per_signal = build_hiring_lp(inst.joint, C, inst.utility, 1.0, truthful_margins=[np.zeros((3, 2))] * 2)
    B, S = 3, 2
    # minus the B diagonal IC rows and their B S^2 misreport rows, plus B S (S - 1) per-signal rows, per agent
    assert per_signal.n_constraints == aggregate.n_constraints + 2 * (-B - B * S * S + B * S * (S - 1))
    assert per_signal.n_variables == aggregate.n_variables


def test_effort_margins_add_to_the_scalar_margin():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.6, seed=3)
    C = [inst.cost_differences(i) for i in range(2)]
    scalar = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap, margin=0.01)
    per_row = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap,
                              effort_margins=[np.full((2, 2), 0.01) + 5 * np.eye(2)] * 2)  # diagonal ignored
    assert per_row.value == pytest.approx(scalar.value, abs=1e-9)


# ------------------------------------------------------------------------------ scoring-rule rows
def test_min_payment_equals_the_single_agent_correlated_lp():
    """MinPay (single-agent rows) against the correlated LP restricted to one agent and one profile."""
    for seed in range(8):
        inst = HiringInstance.random(1, 3, 3, 2, 2, seed=seed)
        q = inst.marginal(0) * inst.prior                      # (B, S, T)
        for k in range(3):
            try:
                value, g = min_payment(inst, 0, (k,))
            except InfeasibleError:
                with pytest.raises(InfeasibleError):
                    solve_hiring_lp(q, [inst.cost_differences(0)], np.zeros((1, 2)), inst.payment_cap,
                                    profile=(k,))
                continue
            lp = solve_hiring_lp(q, [inst.cost_differences(0)], np.zeros((1, 2)), inst.payment_cap, profile=(k,))
            assert value == pytest.approx(-lp.value, abs=1e-9)
            assert float((q[k] * g).sum()) == pytest.approx(value, abs=1e-9)


def test_inducing_rules_and_sampled_costs_are_unchanged():
    """Values recorded before the rows were shared (the sampler's draws feed every random instance)."""
    inst = HiringInstance.random(2, 3, 3, 3, 3, correlation=0.0, seed=0)
    assert inst.costs[0] == pytest.approx([0.0, 0.06097739938475751, 0.15854123840036957], abs=1e-12)
    assert inst.costs[1] == pytest.approx([0.0, 0.031150528162373167, 0.14843195956800417], abs=1e-12)
    assert inducing_scoring_rules(inst).iota == pytest.approx(0.009345158448711954, abs=1e-12)
    inst = HiringInstance.random(3, 2, 2, 2, 2, correlation=0.6, seed=7)
    assert [c[1] for c in inst.costs] == pytest.approx([0.2747067240307379, 0.29243625240536025,
                                                        0.2517296373382646], abs=1e-12)
    assert inducing_scoring_rules(inst).iota == pytest.approx(0.02922099288565072, abs=1e-12)
    assert optimal_mechanism(inst).value == pytest.approx(0.5767980514518967, abs=1e-12)
