"""Exact committee selection is invariant to the scale of the weights and never returns an infeasible committee."""

import numpy as np
import pytest

from mechsim.committees import sample_rankings
from mechsim.errors import SolverError
from mechsim.solvers import committee as committee_solver
from mechsim.solvers.committee import best_committee
from mechsim.solvers.committee_family import best_committee_family

GROUPS = np.array([0] * 6 + [1] * 6)
BOUNDS = {0: (2, 4), 1: (0, 2)}


@pytest.mark.parametrize("rule", ["borda-cc", "harmonic-borda", "k-borda", "3-pav"])
@pytest.mark.parametrize("exponent", [-12, -6, 0, 6, 12])
def test_ilp_value_is_invariant_to_the_scale_of_the_weights(rule, exponent):
    r = sample_rankings("impartial", 20, 12, seed=3)
    exact = best_committee(r, 4, rule, groups=GROUPS, bounds=BOUNDS, method="brute-force").value
    w = np.full(20, 10.0**exponent)
    c = best_committee(r, 4, rule, groups=GROUPS, bounds=BOUNDS, weights=w, method="ilp")
    assert c.value == pytest.approx(exact * 10.0**exponent, rel=1e-12)
    counts = np.bincount(GROUPS[c.members], minlength=2)
    assert 2 <= counts[0] <= 4 and counts[1] <= 2


@pytest.mark.parametrize("exponent", [-12, 0, 12])
def test_family_relaxation_is_invariant_to_the_scale_of_the_weights(exponent):
    r = sample_rankings("mallows", 30, 14, seed=1, phi=0.5)
    groups = np.array([0] * 7 + [1] * 7)
    bounds_list = [{0: (l, l), 1: (4 - l, 4 - l)} for l in range(5)]
    base = [c.value for c in best_committee_family(r, 4, "harmonic-borda", groups, bounds_list)]
    scaled = best_committee_family(r, 4, "harmonic-borda", groups, bounds_list, weights=np.full(30, 10.0**exponent))
    assert [c.value / 10.0**exponent for c in scaled] == pytest.approx(base, rel=1e-12)


def test_an_infeasible_selection_is_never_returned(monkeypatch):
    r = sample_rankings("impartial", 10, 12, seed=0)
    monkeypatch.setattr(committee_solver, "_separable_select", lambda scores, k, gb: np.arange(k))  # ignores bounds
    with pytest.raises(SolverError, match="4 members of group 0, outside its bounds"):
        best_committee(r, 4, "k-borda", groups=GROUPS, bounds={0: (0, 1), 1: (3, 4)})
    monkeypatch.setattr(committee_solver, "_separable_select", lambda scores, k, gb: np.array([0, 0, 1, 2]))
    with pytest.raises(SolverError, match="not a committee of 4 distinct items"):
        best_committee(r, 4, "k-borda")
