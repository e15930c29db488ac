"""Where the hiring names live: the domain imports nothing above layer 1, and the old paths keep working."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import mechsim.hiring
import mechsim.learners
import mechsim.learners.hiring_online as hiring_online
from mechsim.hiring import HiringInstance
from mechsim.solvers.hiring_lp import optimal_mechanism, optimal_uncorrelated_mechanism, solve_hiring_lp
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp


def test_the_domain_imports_no_solver_and_no_learner():
    code = ("import sys, mechsim.hiring\n"
            "print(sorted(m for m in sys.modules if m.startswith(('mechsim.solvers', 'mechsim.learners'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_online_learner_is_offered_by_the_domain_lazily():
    from mechsim.hiring import ONLINE_VARIANTS, OnlineResult, simulate_online

    assert simulate_online is hiring_online.simulate_online is mechsim.learners.simulate_online
    assert OnlineResult is hiring_online.OnlineResult
    assert ONLINE_VARIANTS == hiring_online.VARIANTS == ("default", "faithful", "plugin")
    assert {"simulate_online", "OnlineResult", "ONLINE_VARIANTS", "HiringWorld"} <= set(mechsim.hiring.__all__)
    assert "simulate_online" in dir(mechsim.hiring)
    with pytest.raises(AttributeError, match="no attribute"):
        mechsim.hiring.does_not_exist  # noqa: B018 - the lookup is the test


def test_the_old_module_path_still_works():
    from mechsim.hiring.online import VARIANTS, OnlineResult, empirical_bernstein_width, simulate_online

    assert simulate_online is hiring_online.simulate_online and OnlineResult is hiring_online.OnlineResult
    assert empirical_bernstein_width is hiring_online.empirical_bernstein_width and VARIANTS == ("default",
                                                                                              "faithful", "plugin")


def test_result_vocabulary_and_deprecated_aliases():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=3)
    C = [inst.cost_differences(i) for i in range(2)]
    sol = solve_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap)
    assert sol.status == "Optimal" and sol.solve_time == sol.info.solve_time > 0
    assert sol.value == sol.info.value == pytest.approx(optimal_mechanism(inst).value, abs=1e-12)
    est = solve_estimated_mechanism_lp(inst.joint, C, inst.utility, inst.payment_cap)
    assert est.value == pytest.approx(sol.value, abs=1e-9) and est.status == "Optimal" and est.solve_time > 0
    with pytest.warns(DeprecationWarning, match="HiringLPSolution.value"):
        assert sol.objective == sol.value
    with pytest.warns(DeprecationWarning, match="LPInfo.value"):
        assert sol.info.objective == sol.info.value
    with pytest.warns(DeprecationWarning, match="EstimatedLPSolution.value"):
        assert est.estimated_value == est.value
    mech, unc = optimal_uncorrelated_mechanism(inst, return_info=True)
    assert unc.value == pytest.approx(mech.value, abs=1e-9) and unc.value == unc.profile_values[unc.profile]
    assert unc.status == "Optimal" and unc.solve_time > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = (sol.value, sol.info.value, est.value, unc.value)


def test_learnable_instances_are_the_online_test_bed():
    bed = hiring_online.learnable_instances(3)
    assert bed is hiring_online.learnable_instances(3)               # cached
    assert [seed for seed, _ in bed] == sorted({seed for seed, _ in bed})
    for seed, inst in bed:
        base = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.3, seed=seed)
        assert inst == base.scale_costs(0.25)
        assert optimal_mechanism(inst).recommendation.flat[0] <= 0.99
        assert np.all([c[0] == 0 for c in inst.costs])
