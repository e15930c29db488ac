"""Swap and implicit bias models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.committees.bias import (
    ImplicitBias,
    SwapBias,
    count_biasable_pairs,
    implicit_bias,
    rank_utilities,
    swap_bias,
    swap_bias_path,
)
from mechsim.committees.rankings import check_rankings, random_groups, sample_rankings
from mechsim.errors import InvalidInstanceError
from mechsim.testing import rankings_profiles

FRACTIONS = np.linspace(0, 1, 8)


@pytest.fixture(scope="module")
def profile():
    return sample_rankings("impartial", 40, 12, seed=0), random_groups(12, seed=1)


def test_fraction_zero_is_identity(profile):
    r, g = profile
    for stale in (False, True):
        assert np.array_equal(swap_bias(r, g, 1, 0.0, seed=3, stale=stale), r)


@settings(max_examples=25)
@given(rankings=rankings_profiles(max_voters=5, min_items=2, max_items=7), data=st.data())
def test_swaps_keep_permutations_and_recomputed_full_bias_sorts_groups(rankings, data):
    m = rankings.shape[1]
    groups = np.asarray(data.draw(st.lists(st.integers(0, 1), min_size=m, max_size=m)))
    if not (groups == 1).any():
        groups[0] = 1
    fraction = data.draw(st.floats(0, 1))
    out = swap_bias(rankings, groups, 1, fraction, seed=data.draw(st.integers(0, 100)))
    check_rankings(out)
    # recomputed weights: every swap removes at least one biasable pair
    before, after = count_biasable_pairs(rankings, groups, 1), count_biasable_pairs(out, groups, 1)
    assert np.all(after <= before - np.minimum(np.floor(fraction * before + 1e-9), before))
    # fraction 1 leaves no disadvantaged item above an advantaged one
    full = swap_bias(rankings, groups, 1, 1.0, seed=0)
    assert count_biasable_pairs(full, groups, 1).sum() == 0


def test_biasable_pairs_fall_monotonically_with_fraction(profile):
    r, g = profile
    counts = [count_biasable_pairs(p, g, 1).sum() for p in swap_bias_path(r, g, 1, FRACTIONS, seed=2)]
    assert all(a >= b for a, b in zip(counts, counts[1:])) and counts[-1] == 0


def test_stale_weights_give_a_weaker_bias(profile):
    r, g = profile
    fresh = count_biasable_pairs(swap_bias(r, g, 1, 0.6, seed=5), g, 1).sum()
    stale = count_biasable_pairs(swap_bias(r, g, 1, 0.6, seed=5, stale=True), g, 1).sum()
    assert fresh < stale < count_biasable_pairs(r, g, 1).sum()


def test_stale_swaps_only_swap_latent_pairs():
    # one disadvantaged item on top of one advantaged item: the only pair; stale swapping twice undoes it
    r = np.array([[0, 1]])
    g = np.array([1, 0])
    assert swap_bias(r, g, 1, 1.0, stale=True, seed=0).tolist() == [[1, 0]]


def test_path_matches_single_fraction_and_is_deterministic(profile):
    r, g = profile
    for stale in (False, True):
        path = swap_bias_path(r, g, 1, FRACTIONS, seed=9, stale=stale)
        for f, p in zip(FRACTIONS, path):
            assert np.array_equal(swap_bias(r, g, 1, f, seed=9, stale=stale), p)
        assert not np.array_equal(path[-1], swap_bias_path(r, g, 1, FRACTIONS, seed=10, stale=stale)[-1])


def test_low_phi_prefers_adjacent_swaps():
    r = sample_rankings("impartial", 400, 10, seed=1)
    g = random_groups(10, seed=2)
    counts = count_biasable_pairs(r, g, 1)
    one_swap = (counts >= 10) & (counts < 20)          # fraction 0.1 gives exactly one swap there
    out = swap_bias(r, g, 1, 0.1, phi=1e-3, seed=3)
    displacement = np.abs(np.argsort(r, axis=1) - np.argsort(out, axis=1)).sum(axis=1)
    assert one_swap.sum() > 50
    # with a tiny phi the single swap almost always exchanges neighbours (total displacement 2)
    assert np.mean(displacement[one_swap] == 2) > 0.95
    wide = swap_bias(r, g, 1, 0.1, phi=1.0, seed=3)
    assert np.mean(np.abs(np.argsort(r, axis=1) - np.argsort(wide, axis=1)).sum(axis=1)[one_swap] == 2) < 0.7


def test_implicit_bias():
    u = np.array([[1.0, 0.9, 0.5], [0.2, 0.3, 0.1]])
    g = np.array([0, 1, 1])
    assert np.array_equal(implicit_bias(u, g, 1, 1.0), rank_utilities(u))
    assert implicit_bias(u, g, 1, 0.5).tolist() == [[0, 1, 2], [0, 1, 2]]
    with pytest.raises(InvalidInstanceError, match="beta"):
        implicit_bias(u, g, 1, 0.0)
    r = sample_rankings("impartial", 5, 6, seed=0)
    gg = random_groups(6, seed=0)
    assert np.array_equal(ImplicitBias(1.0, noise=0.0)(r, gg, 1, seed=0), r)
    assert np.array_equal(SwapBias(0.0)(r, gg, 1, seed=0), r)


def test_bias_validation():
    r = np.array([[0, 1, 2]])
    with pytest.raises(InvalidInstanceError, match="disadvantaged"):
        swap_bias(r, [0, 0, 1], 7, 0.5)
    with pytest.raises(InvalidInstanceError, match="fraction"):
        swap_bias(r, [0, 0, 1], 1, 1.5)
    with pytest.raises(InvalidInstanceError, match="groups: expected shape"):
        swap_bias(r, [0, 1], 1, 0.5)
