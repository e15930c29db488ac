"""Group bounds, feasible committees and the lexicographic tie-break of mechsim.committees.constraints."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mechsim.solvers.committee as solver
from mechsim.committees import constraints
from mechsim.committees.constraints import (
    all_committees,
    check_group_bounds,
    feasible_committees,
    first_optimal,
    two_group_bounds,
)
from mechsim.testing import group_structures


def first_best_1d(scores):
    """The enumeration tie-break best_committee used (first index within 1e-9 relative of the maximum)."""
    best = scores.max()
    return int(np.flatnonzero(scores >= best - 1e-9 * max(1.0, abs(best)))[0])


def first_argmax_rows(totals):
    """The tie-break the manipulation search used, row by row."""
    best = totals.max(axis=-1, keepdims=True)
    return np.argmax(totals >= best - 1e-9 * np.maximum(1.0, np.abs(best)), axis=-1)


@settings(max_examples=40)
@given(values=st.lists(st.sampled_from([0.0, 1.0, 2.5, 2.5 + 1e-12, 2.5 - 1e-3, -3.0, 1e9, 1e9 + 0.5]),
                       min_size=3, max_size=24), rows=st.integers(1, 3))
def test_first_optimal_equals_both_former_tie_breaks(values, rows):
    x = np.asarray(values)
    assert first_optimal(x) == first_best_1d(x)
    grid = np.resize(x, (rows, x.size)) * np.arange(1, rows + 1)[:, None]
    assert first_optimal(grid).tolist() == first_argmax_rows(grid).tolist()


@settings(max_examples=30)
@given(data=st.data(), m=st.integers(2, 7))
def test_feasible_committees_are_the_lexicographic_feasible_subsets(data, m):
    k = data.draw(st.integers(1, m))
    groups, bounds = data.draw(group_structures(m, k))
    gb = check_group_bounds(groups, bounds, m, k)
    expected = [c for c in itertools.combinations(range(m), k)
                if all((lo or 0) <= sum(groups[list(c)] == g) <= (k if hi is None else hi)
                       for g, (lo, hi) in bounds.items())]
    assert feasible_committees(m, k, gb).tolist() == [list(c) for c in expected]
    assert feasible_committees(m, k, None).tolist() == [list(c) for c in itertools.combinations(range(m), k)]


def test_all_committees_is_cached_and_read_only():
    a = all_committees(6, 3)
    assert a is all_committees(6, 3) and a.shape == (20, 3) and not a.flags.writeable


def test_two_group_bounds():
    groups = np.array([0, 1, 1, 0, 1])
    assert two_group_bounds(groups, 1, 2, 3) == {0: (1, 1), 1: (2, 2)}
    gb = check_group_bounds(groups, two_group_bounds(groups, 1, 2, 3), 5, 3)
    assert gb.lower.tolist() == [1, 2] and gb.upper.tolist() == [1, 2]
    assert gb.counts([0, 1, 2]) == {0: 1, 1: 2}


def test_one_copy_offered_at_the_solver_path():
    assert solver.check_group_bounds is constraints.check_group_bounds
    assert solver.GroupBounds is constraints.GroupBounds


@pytest.mark.parametrize("bounds", [None, {1: (2, 2)}, {0: (None, 1)}])
def test_brute_force_picks_the_first_optimal_feasible_committee(bounds):
    r = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])      # symmetric: many ties under k-Borda
    groups = np.array([0, 0, 1, 1, 1])
    gb = check_group_bounds(groups if bounds else None, bounds, 5, 3)
    combos = feasible_committees(5, 3, gb)
    scores = np.array([solver.committee_score(r, c, "k-borda") for c in combos])
    c = solver.best_committee(r, 3, "k-borda", groups if bounds else None, bounds, method="brute-force")
    assert c.members.tolist() == combos[first_optimal(scores)].tolist()
