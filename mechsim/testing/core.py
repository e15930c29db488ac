"""Hypothesis strategies and assertions for property-testing mechanisms.

Strategies
----------
``probability_vectors(size, min_mass=0.0)``
    1-D float arrays, non-negative, every entry ``>= min_mass``, summing to 1 within 1e-12.  Includes
    sparse vectors (exact zeros), point masses and wildly unequal weights, which is where mechanisms break.
``stochastic_tensors(shape, axis=-1, min_mass=0.0)``
    Arrays of the given shape whose slices along ``axis`` (an int or a tuple of axes) are probability
    distributions (sum 1 within 1e-12), e.g. transition kernels ``P[s, a, s']`` or joint signal laws.
``seeds()``
    Integer seeds for anything random (shrink towards 0).

Assertions
----------
``assert_probability_vector``, ``assert_stochastic_tensor``: fail with a message naming what is wrong.

Property-testing a mechanism
----------------------------
A mechanism maps reports to outcomes; its guarantees (incentive compatibility, feasibility, budget balance,
monotonicity) are universally quantified statements, so a property test draws the quantified objects with
hypothesis and asserts the statement, letting hypothesis shrink any failure to a minimal counterexample.
The pattern:

1. Draw the instance from strategies (priors with :func:`probability_vectors`, kernels or signal laws with
   :func:`stochastic_tensors`, randomness with :func:`seeds`); domain packages add instance strategies such
   as ``mechsim.testing.hiring_instances``.
2. Compute the mechanism's outcome on the truthful profile.
3. Assert the property for *every* deviation (loop over misreports, or draw one with ``st.data()``), with an
   explicit tolerance.

Example: a second-price auction is dominant-strategy incentive compatible, so no bidder gains by
misreporting, whatever the others bid::

    import numpy as np
    from hypothesis import given, strategies as st
    from mechsim.testing import probability_vectors, seeds

    def second_price(bids):
        order = np.argsort(-bids, kind="stable")
        return order[0], bids[order[1]]          # winner, price

    @given(values=probability_vectors(4), lie=st.floats(0, 1), bidder=st.integers(0, 3))
    def test_second_price_is_truthful(values, lie, bidder):
        def utility(bids):
            winner, price = second_price(bids)
            return values[bidder] - price if winner == bidder else 0.0
        deviated = values.copy()
        deviated[bidder] = lie
        assert utility(deviated) <= utility(values) + 1e-12

The same shape works for randomised mechanisms (draw the seed with :func:`seeds` and compare expected
utilities computed exactly, or over a fixed common sample), for learned mechanisms (assert the audit of the
learned object), and for feasibility (assert the outcome satisfies the constraints for every drawn instance).
Keep tolerances explicit, and make sure each assertion *can* fail: a test that also passes on a deliberately
broken mechanism (e.g. first-price instead of second-price above) is not testing anything.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mechsim.errors import InvalidInstanceError

__all__ = [
    "probability_vectors", "stochastic_tensors", "seeds",
    "assert_probability_vector", "assert_stochastic_tensor",
]

_SUM_ATOL = 1e-12

# raw weights: exact zeros, tiny and large values, so that normalised vectors cover sparse and skewed cases
_WEIGHTS = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False),
    st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_subnormal=False),
)


def _size_strategy(size, name: str):
    if isinstance(size, st.SearchStrategy):
        return size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InvalidInstanceError(f"{name}: expected a positive integer or a hypothesis strategy, found {size!r}",
                                   argument=name)
    return st.just(int(size))


def _check_min_mass(min_mass: float, n: int) -> None:
    if not (0.0 <= min_mass and min_mass * n <= 1.0 + 1e-15):
        raise InvalidInstanceError(
            f"min_mass: expected 0 <= min_mass <= 1/size = {1.0 / n:.6g}, found {min_mass!r}", argument="min_mass")


def _normalise(weights: np.ndarray, axes: tuple[int, ...], min_mass: float) -> np.ndarray:
    """Normalise along ``axes`` and mix with ``min_mass``; all-zero slices become uniform."""
    w = np.asarray(weights, dtype=float)
    w = w / w.max(axis=axes, keepdims=True).clip(min=1e-300)  # rescale first so huge weights cannot overflow
    total = w.sum(axis=axes, keepdims=True)
    n = int(np.prod([w.shape[a] for a in axes]))
    uniform = np.full_like(w, 1.0 / n)
    q = np.where(total > 0, w / np.where(total > 0, total, 1.0), uniform)
    p = min_mass + (1.0 - n * min_mass) * q
    # put the rounding residue on the largest entry of each slice so that sums are 1 to within 1e-12 and
    # entries stay >= min_mass
    resid = 1.0 - p.sum(axis=axes, keepdims=True)
    moved = np.moveaxis(p, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (n,))
    r = np.moveaxis(resid, axes, tuple(range(-len(axes), 0))).reshape(flat.shape[:-1])
    idx = flat.argmax(axis=-1)
    np.put_along_axis(flat, idx[..., None], np.take_along_axis(flat, idx[..., None], -1) + r[..., None], -1)
    moved = flat.reshape(moved.shape)
    return np.moveaxis(moved, tuple(range(-len(axes), 0)), axes).copy()


def probability_vectors(size, min_mass: float = 0.0) -> st.SearchStrategy[np.ndarray]:
    """Strategy for probability vectors of length ``size``.

    Parameters
    ----------
    size : int or strategy of int
        Length ``n >= 1`` (a strategy draws it per example).
    min_mass : float
        Lower bound on every entry (``0 <= min_mass <= 1/n``); positive values exclude zeros, e.g. for
        full-support priors.

    Returns
    -------
    SearchStrategy of ndarray, shape (n,)
        Entries ``>= min_mass``, sum 1 within 1e-12.
    """
    sizes = _size_strategy(size, "size")
    if not isinstance(size, st.SearchStrategy):
        _check_min_mass(min_mass, int(size))

    @st.composite
    def build(draw):
        n = draw(sizes)
        _check_min_mass(min_mass, n)
        w = np.array(draw(st.lists(_WEIGHTS, min_size=n, max_size=n)), dtype=float)
        return _normalise(w, (0,), min_mass)

    return build()


def stochastic_tensors(shape, axis: int | Sequence[int] = -1, min_mass: float = 0.0
                       ) -> st.SearchStrategy[np.ndarray]:
    """Strategy for arrays whose slices along ``axis`` are probability distributions.

    Parameters
    ----------
    shape : tuple of int, or strategy of tuples
        Array shape (every length >= 1).
    axis : int or tuple of int
        The axes that index outcomes: for every index of the other axes, the sub-array over ``axis`` sums to 1
        within 1e-12.
    min_mass : float
        Lower bound on every entry (at most ``1 / prod(shape[axis])``).

    Returns
    -------
    SearchStrategy of ndarray
    """
    shapes = shape if isinstance(shape, st.SearchStrategy) else st.just(_check_shape(shape))

    @st.composite
    def build(draw):
        shp = _check_shape(draw(shapes))
        axes = _check_axes(axis, len(shp))
        n = int(np.prod([shp[a] for a in axes]))
        _check_min_mass(min_mass, n)
        w = draw(hnp.arrays(np.float64, shp, elements=_WEIGHTS))
        return _normalise(w, axes, min_mass)

    return build()


def _check_shape(shape) -> tuple[int, ...]:
    try:
        shp = tuple(int(s) for s in shape)
    except TypeError:
        raise InvalidInstanceError(f"shape: expected a tuple of positive integers, found {shape!r}",
                                   argument="shape") from None
    if not shp or min(shp) < 1:
        raise InvalidInstanceError(f"shape: expected a non-empty tuple of positive integers, found {shape!r}",
                                   argument="shape")
    return shp


def _check_axes(axis, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= int(a) < ndim:
            raise InvalidInstanceError(f"axis: expected axes in [-{ndim}, {ndim}), found {axis!r}", argument="axis")
        out.append(int(a) % ndim)
    if not out or len(set(out)) != len(out):
        raise InvalidInstanceError(f"axis: expected distinct axes, found {axis!r}", argument="axis")
    return tuple(sorted(out))


def seeds() -> st.SearchStrategy[int]:
    """Strategy for seeds: integers in ``[0, 2**32 - 1]``, shrinking towards 0."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def assert_probability_vector(p, *, size: int | None = None, atol: float = 1e-9, name: str = "p") -> None:
    """Assert ``p`` is a finite, non-negative 1-D vector summing to 1 within ``atol``."""
    arr = np.asarray(p, dtype=float)
    assert arr.ndim == 1, f"{name}: expected a 1-D vector, found shape {arr.shape}"
    if size is not None:
        assert arr.size == size, f"{name}: expected length {size}, found {arr.size}"
    assert np.all(np.isfinite(arr)), f"{name}: expected finite entries, found {arr}"
    assert arr.min() >= 0, f"{name}: expected non-negative entries, found {arr.min():.6g} at {int(arr.argmin())}"
    assert abs(arr.sum() - 1.0) <= atol, f"{name}: expected sum 1 within {atol:g}, found {arr.sum():.15g}"


def assert_stochastic_tensor(arr, axis: int | Sequence[int] = -1, *, atol: float = 1e-9,
                             name: str = "tensor") -> None:
    """Assert every slice of ``arr`` over ``axis`` is a probability distribution (within ``atol``)."""
    a = np.asarray(arr, dtype=float)
    assert np.all(np.isfinite(a)), f"{name}: expected finite entries"
    assert a.size == 0 or a.min() >= 0, f"{name}: expected non-negative entries, found {a.min():.6g}"
    axes = _check_axes(axis, a.ndim)
    dev = np.abs(a.sum(axis=axes) - 1.0)
    if dev.size:
        where = np.unravel_index(int(np.argmax(dev)), dev.shape)
        assert dev.max() <= atol, (f"{name}: expected slices over axes {axes} summing to 1 within {atol:g}, "
                                   f"found deviation {dev.max():.3g} at slice {tuple(int(i) for i in where)}")
