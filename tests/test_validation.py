"""Validation helpers and the error hierarchy: messages name the argument, expectation and finding."""

import numpy as np
import pytest

from mechsim.errors import InfeasibleError, InvalidInstanceError, MechsimError, SolverError
from mechsim.validation import (
    as_generator,
    check_array,
    check_choice,
    check_finite,
    check_in_range,
    check_integer,
    check_positive,
    check_probability_vector,
    check_shape,
    check_stochastic,
)


def test_hierarchy():
    assert issubclass(InvalidInstanceError, ValueError) and issubclass(InvalidInstanceError, MechsimError)
    err = InfeasibleError("limits cannot be met", status="Infeasible", constraint=2)
    assert err.status == "Infeasible" and err.details == {"constraint": 2}
    assert "Infeasible" in str(err) and isinstance(err, MechsimError)
    assert SolverError("failed", status="kTimeLimit").status == "kTimeLimit"


@pytest.mark.parametrize("value, fragment", [
    ([0.5, 0.4], "sum 0.9"),
    ([1.5, -0.5], "non-negative"),
    ([[0.5, 0.5]], "1-dimensional"),
    ([np.nan, 1.0], "finite"),
    ([], "non-empty"),
])
def test_probability_vector_messages(value, fragment):
    with pytest.raises(InvalidInstanceError, match="prior: expected") as info:
        check_probability_vector("prior", value)
    assert fragment in str(info.value) and info.value.argument == "prior"


def test_probability_vector_accepts_within_tolerance():
    p = check_probability_vector("p", [0.5, 0.5 + 1e-12])
    assert p.dtype == float and p.shape == (2,)
    with pytest.raises(InvalidInstanceError, match="size|shape"):
        check_probability_vector("p", [0.5, 0.5], size=3)


def test_stochastic_tensor_over_several_axes():
    law = np.full((2, 3, 3, 4), 1 / 9)
    check_stochastic("signal_law", law, axis=(1, 2))
    law[1, 0, 0, 2] += 0.01
    with pytest.raises(InvalidInstanceError, match=r"signal_law: expected slices summing to 1 over axes \(1, 2\)"):
        check_stochastic("signal_law", law, axis=(1, 2))
    with pytest.raises(InvalidInstanceError, match="at slice \\(1, 2\\)"):
        check_stochastic("signal_law", law, axis=(1, 2))


def test_shape_and_array_messages():
    with pytest.raises(InvalidInstanceError, match=r"utility: expected shape \(3, \*\), found shape \(2, 4\)"):
        check_shape("utility", np.zeros((2, 4)), (3, None))
    with pytest.raises(InvalidInstanceError, match="costs: expected a 1-dimensional array"):
        check_array("costs", np.zeros((2, 2)), ndim=1)
    with pytest.raises(InvalidInstanceError, match="x: expected an array convertible"):
        check_array("x", ["a", "b"])
    with pytest.raises(InvalidInstanceError, match=r"r: expected finite values, found inf at index \(1,\)"):
        check_finite("r", np.array([0.0, np.inf]))


def test_range_scalar_integer_choice():
    with pytest.raises(InvalidInstanceError, match=r"utility: expected values <= 1, found 1.5 at index \(0, 1\)"):
        check_in_range("utility", [[0, 1.5]], 0, 1)
    with pytest.raises(InvalidInstanceError, match="payment_cap: expected a positive number"):
        check_positive("payment_cap", 0.0)
    with pytest.raises(InvalidInstanceError, match="payment_cap: expected a real number"):
        check_positive("payment_cap", "1")
    with pytest.raises(InvalidInstanceError, match="k: expected an integer >= 1, found 0"):
        check_integer("k", 0, minimum=1)
    with pytest.raises(InvalidInstanceError, match="k: expected an integer"):
        check_integer("k", True)
    with pytest.raises(InvalidInstanceError, match="variant: expected one of 'a', 'b'"):
        check_choice("variant", "c", ["a", "b"])


def test_as_generator():
    g = np.random.default_rng(0)
    assert as_generator(g) is g
    assert as_generator(3).random() == np.random.default_rng(3).random()
    with pytest.raises(InvalidInstanceError, match="seed"):
        as_generator(-1)
    with pytest.raises(InvalidInstanceError, match="seed"):
        as_generator("abc")
