"""Tests of the user-facing hypothesis strategies and assertions in mechsim.testing.core."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import mechsim.testing as mt
from mechsim.errors import InvalidInstanceError
from mechsim.testing import (
    assert_probability_vector,
    assert_stochastic_tensor,
    probability_vectors,
    seeds,
    stochastic_tensors,
)
from mechsim.validation import check_probability_vector, check_stochastic


@given(probability_vectors(5))
def test_probability_vectors_are_valid(p):
    assert p.shape == (5,) and p.dtype == np.float64
    assert np.all(p >= 0) and abs(p.sum() - 1.0) <= 1e-12
    check_probability_vector("p", p)  # the library's own validator accepts them


@given(probability_vectors(st.integers(1, 9), min_mass=0.05))
def test_probability_vectors_min_mass_and_drawn_size(p):
    assert 1 <= p.size <= 9
    assert p.min() >= 0.05 or p.size * 0.05 > 1
    assert abs(p.sum() - 1.0) <= 1e-12


def test_probability_vectors_reach_sparse_and_skewed_cases():
    # hypothesis must be able to produce exact zeros and very unequal weights (where mechanisms break)
    assert find(probability_vectors(4), lambda p: np.sum(p == 0) >= 2) is not None
    assert find(probability_vectors(3), lambda p: p.max() > 1e3 * p[p > 0].min()) is not None
    full = find(probability_vectors(4, min_mass=0.2), lambda p: True)
    assert full.min() >= 0.2


@settings(max_examples=40)
@given(stochastic_tensors((3, 2, 4), axis=(0, 2), min_mass=0.01))
def test_stochastic_tensors_over_several_axes(t):
    assert t.shape == (3, 2, 4)
    assert np.abs(t.sum(axis=(0, 2)) - 1).max() <= 1e-12
    assert t.min() >= 0.01
    check_stochastic("t", t, axis=(0, 2))


@given(stochastic_tensors(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5)), axis=-1))
def test_stochastic_tensors_kernel_shape_from_strategy(t):
    assert t.ndim == 3
    assert np.abs(t.sum(axis=-1) - 1).max() <= 1e-12
    assert_stochastic_tensor(t, axis=-1, atol=1e-12)


@given(seeds())
def test_seeds_are_valid_numpy_seeds(s):
    assert 0 <= s < 2**32
    np.random.default_rng(s)


def test_strategy_argument_errors():
    with pytest.raises(InvalidInstanceError, match="min_mass: expected 0 <= min_mass <= 1/size"):
        probability_vectors(4, min_mass=0.3)
    with pytest.raises(InvalidInstanceError, match="size: expected a positive integer"):
        probability_vectors(0)
    with pytest.raises(InvalidInstanceError, match="shape"):
        stochastic_tensors((2, 0))
    with pytest.raises(InvalidInstanceError, match="axis"):
        find(stochastic_tensors((2, 3), axis=5), lambda t: True)


def test_assertions_fail_with_clear_messages():
    assert_probability_vector([0.25, 0.75])
    with pytest.raises(AssertionError, match="expected sum 1"):
        assert_probability_vector([0.25, 0.7])
    with pytest.raises(AssertionError, match="non-negative"):
        assert_probability_vector([1.5, -0.5])
    with pytest.raises(AssertionError, match="expected length 3"):
        assert_probability_vector([0.5, 0.5], size=3)
    with pytest.raises(AssertionError, match="slice"):
        assert_stochastic_tensor(np.array([[0.5, 0.5], [0.2, 0.3]]), axis=1)


def test_reexported_from_package():
    for name in ("probability_vectors", "stochastic_tensors", "seeds", "assert_probability_vector",
                 "assert_stochastic_tensor"):
        assert hasattr(mt, name)


# ---------------------------------------------------------------- the documented pattern, run for real

def second_price(bids):
    order = np.argsort(-bids, kind="stable")
    return order[0], bids[order[1]]


def first_price(bids):
    winner = int(np.argmax(bids))
    return winner, bids[winner]


def gain_from_lying(mechanism, values, lie, bidder):
    def utility(bids):
        winner, price = mechanism(bids)
        return values[bidder] - price if winner == bidder else 0.0

    deviated = values.copy()
    deviated[bidder] = lie
    return utility(deviated) - utility(values)


@given(values=probability_vectors(4), lie=st.floats(0, 1), bidder=st.integers(0, 3))
def test_documented_pattern_second_price_is_truthful(values, lie, bidder):
    assert gain_from_lying(second_price, values, lie, bidder) <= 1e-12


def test_documented_pattern_catches_a_manipulable_mechanism():
    # the same property fails for first price: hypothesis finds a profitable lie
    example = find(st.tuples(probability_vectors(4), st.floats(0, 1), st.integers(0, 3)),
                   lambda args: gain_from_lying(first_price, *args) > 1e-9)
    values, lie, bidder = example
    assert lie < values[bidder]
