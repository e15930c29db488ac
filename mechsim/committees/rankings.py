"""Ranking profiles: validation, positions, merging and sampling from cultures.

A profile of ``n`` rankings over ``m`` items is an integer array ``rankings`` of shape ``(n, m)`` whose
rows are permutations of ``0, ..., m-1`` listed best first: ``rankings[v, 0]`` is voter ``v``'s top item.
The *position* of item ``c`` in ranking ``v`` is ``pos[v, c]`` with ``rankings[v, pos[v, c]] == c``
(0 = top).  Voter weights, where accepted, are non-negative finite numbers, one per ranking; identical
rankings can be merged into one ranking carrying the sum of their weights without changing any
committee score (scores are linear in the weights).

Cultures are sampled through ``prefsampling`` (seeded); see :func:`sample_rankings`.  Before sampling,
the memory a profile needs is estimated (:data:`SAMPLE_BYTES_PER_ENTRY` bytes per entry: prefsampling
builds Python lists before the array is made) and a profile that would not fit
:func:`mechsim.validation.memory_limit` is refused with a typed error stating the estimate and the limit
(:func:`check_profile_size`).  Mallows
profiles use prefsampling's normalisation of ``phi`` but a vectorised repeated-insertion sampler of the
same model (:func:`mallows_rim`), about a hundred times faster than drawing vote by vote.
"""

from __future__ import annotations

import numpy as np

from mechsim.committees._checks import check_unit
from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    _describe,
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_in_range,
    check_integer,
    check_nonnegative,
)

__all__ = [
    "CULTURES",
    "SAMPLE_BYTES_PER_ENTRY",
    "check_culture",
    "check_profile_size",
    "check_rankings",
    "check_weights",
    "merge_rankings",
    "positions",
    "random_groups",
    "sample_rankings",
]


def check_rankings(rankings, name: str = "rankings", n_items: int | None = None) -> np.ndarray:
    """Validate a profile and return it as a C-contiguous ``int64`` array of shape ``(n, m)``.

    Parameters
    ----------
    rankings : array_like of int, shape (n_voters, n_items)
        Each row a permutation of ``0..n_items-1``, best first.
    name : str
        Argument name used in error messages.
    n_items : int, optional
        If given, the required number of items.

    Raises
    ------
    InvalidInstanceError
        If the array is not 2-D, is empty, holds non-integers, or a row is not a permutation.
    """
    if n_items is not None:
        n_items = check_integer("n_items", n_items, minimum=1)
    try:
        arr = rankings if isinstance(rankings, np.ndarray) else np.asarray(rankings)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name}: expected an integer array of shape (n_voters, n_items), found "
                                   f"{_describe(rankings)} ({exc})", argument=name) from None
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InvalidInstanceError(f"{name}: expected integer item indices, found non-integer values",
                                       argument=name)
    elif arr.dtype.kind not in "iu":
        raise InvalidInstanceError(f"{name}: expected an integer array of shape (n_voters, n_items), "
                                   f"found dtype {arr.dtype}", argument=name)
    arr = check_array(name, arr, ndim=2, dtype=np.int64)
    n, m = arr.shape
    if n == 0 or m == 0:
        raise InvalidInstanceError(f"{name}: expected at least one ranking over at least one item, "
                                   f"found shape {arr.shape}", argument=name)
    if n_items is not None and m != n_items:
        raise InvalidInstanceError(f"{name}: expected rankings over {n_items} items (n_items), found {m}",
                                   argument=name)
    if arr.min() < 0 or arr.max() >= m:
        bad = np.argwhere((arr < 0) | (arr >= m))[0]
        raise InvalidInstanceError(
            f"{name}: expected item indices in 0..{m - 1}, found {arr[bad[0], bad[1]]} at row {bad[0]}",
            argument=name)
    sorted_rows = np.sort(arr, axis=1)
    ok = np.all(sorted_rows == np.arange(m), axis=1)
    if not ok.all():
        v = int(np.argmin(ok))
        dup = np.flatnonzero(np.bincount(arr[v], minlength=m) > 1)
        raise InvalidInstanceError(
            f"{name}: expected every row to be a permutation of 0..{m - 1}, found row {v} repeating "
            f"item(s) {dup.tolist()}", argument=name)
    return np.ascontiguousarray(arr)


def check_weights(weights, n_voters: int, name: str = "weights") -> np.ndarray:
    """Validate voter weights (``None`` means all ones): finite, non-negative, shape ``(n_voters,)``."""
    if weights is None:
        return np.ones(n_voters)
    w = check_array(name, weights, ndim=1, shape=(n_voters,))
    check_in_range(name, w, low=0.0)
    return w


def positions(rankings) -> np.ndarray:
    """Positions of the items: ``pos[v, c]`` is where ranking ``v`` places item ``c`` (0 = top).

    The inverse permutation of every row, computed with one scatter, after :func:`check_rankings`.
    """
    return _positions(check_rankings(rankings))


def _positions(r: np.ndarray) -> np.ndarray:
    """:func:`positions` of a profile already validated by :func:`check_rankings` (the inner loops' version)."""
    n, m = r.shape
    pos = np.empty_like(r)
    pos[np.arange(n)[:, None], r] = np.arange(m, dtype=r.dtype)
    return pos


def merge_rankings(rankings, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Merge identical rankings into one, summing their weights.

    Returns
    -------
    unique : ndarray, shape (u, m)
        Distinct rankings in lexicographic order.
    merged_weights : ndarray, shape (u,)
        Total weight of each distinct ranking.
    """
    r = check_rankings(rankings)
    w = check_weights(weights, r.shape[0])
    unique, inverse = np.unique(r, axis=0, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=w, minlength=unique.shape[0])
    return unique, merged


#: Culture names accepted by :func:`sample_rankings` and their parameters (with defaults).
CULTURES = {
    "impartial": {},
    "mallows": {"phi": 0.5},
    "norm_mallows": {"norm_phi": 0.5},
    "urn": {"alpha": 0.1},
    "single_peaked": {},
    "plackett_luce": {"alphas": None},
}

_ALIASES = {
    "ic": "impartial", "impartial_culture": "impartial",
    "normalized_mallows": "norm_mallows", "normalised_mallows": "norm_mallows",
    "single_peaked_conitzer": "single_peaked", "conitzer": "single_peaked",
    "plackettluce": "plackett_luce", "pl": "plackett_luce",
}


#: Peak bytes per profile entry of :func:`sample_rankings` (measured 18-58 with tracemalloc over every
#: culture: prefsampling builds a list of lists of numpy integers before the array is made).
SAMPLE_BYTES_PER_ENTRY = 64


def check_profile_size(n_voters: int, n_items: int, what: str = "a profile") -> None:
    """Refuse, before allocating, a ``(n_voters, n_items)`` profile whose sampling would exceed the memory limit.

    The estimate is ``SAMPLE_BYTES_PER_ENTRY * n_voters * n_items`` bytes; the limit is
    :func:`mechsim.validation.memory_limit` (``MECHSIM_MEMORY_LIMIT``).
    """
    check_allocation("n_voters * n_items", float(SAMPLE_BYTES_PER_ENTRY) * n_voters * n_items,
                     f"{what} of {n_voters} x {n_items} rankings")


def check_culture(culture, n_items: int, params=None) -> tuple[str, dict]:
    """Validate a culture name and its parameters without sampling; returns ``(name, params)``.

    ``name`` is the canonical name (aliases resolved); ``params`` holds the given parameters, validated
    (missing ones keep their defaults at sampling time).
    """
    if not isinstance(culture, str):
        raise InvalidInstanceError(f"culture: expected one of {list(CULTURES)}, found {_describe(culture)}",
                                   argument="culture")
    name = _ALIASES.get(culture.lower(), culture.lower())
    check_choice("culture", name, list(CULTURES))
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInstanceError(f"culture_params: expected a dict of culture parameters, found "
                                   f"{_describe(params)}", argument="culture_params")
    params = dict(params)
    unknown = sorted(set(params) - set(CULTURES[name]))
    if unknown:
        raise InvalidInstanceError(
            f"params: culture {name!r} accepts {sorted(CULTURES[name]) or 'no parameters'}, "
            f"found unexpected {unknown}", argument="params")
    out = {}
    if "phi" in params:
        out["phi"] = check_unit("phi", params["phi"])
    if "norm_phi" in params:
        out["norm_phi"] = check_unit("norm_phi", params["norm_phi"])
    if "alpha" in params:
        out["alpha"] = check_nonnegative("alpha", params["alpha"])
    if params.get("alphas") is not None:
        alphas = check_array("alphas", params["alphas"], ndim=1, shape=(n_items,))
        if alphas.min() <= 0:
            raise InvalidInstanceError(f"alphas: expected positive weights, found {alphas.min():.6g}",
                                       argument="alphas")
        out["alphas"] = alphas
    return name, out


def sample_rankings(culture: str, n_voters: int, n_items: int, seed=None, **params) -> np.ndarray:
    """Sample a profile from a culture (through ``prefsampling``), reproducibly.

    Parameters
    ----------
    culture : str
        ``"impartial"`` (every ranking uniform), ``"mallows"`` (``phi`` in [0, 1], dispersion around a
        uniformly drawn central ranking), ``"norm_mallows"`` (``norm_phi`` in [0, 1]: ``phi`` chosen so the
        expected swap distance to the centre is ``norm_phi * m(m-1)/4``), ``"urn"`` (Polya-Eggenberger
        urn with contagion ``alpha >= 0``), ``"single_peaked"`` (Conitzer's single-peaked culture on a
        uniformly drawn axis) or ``"plackett_luce"`` (``alphas``: positive item weights, shape
        ``(n_items,)``; default ``1/(1..m)`` on a uniformly drawn item order).  Defaults are in
        :data:`CULTURES`.
    n_voters, n_items : int
        Profile size, both at least 1.
    seed : int, Generator or None
        Same seed, same profile.

    Returns
    -------
    ndarray of int64, shape (n_voters, n_items)

    Raises
    ------
    InvalidInstanceError
        A bad argument (the message names it), or a profile too large for the memory limit (the message
        states the estimate and the limit; see :func:`check_profile_size`).

    Examples
    --------
    >>> sample_rankings("mallows", 3, 4, seed=0, phi=0.2).shape
    (3, 4)
    """
    from prefsampling import ordinal

    n_voters = check_integer("n_voters", n_voters, minimum=1)
    n_items = check_integer("n_items", n_items, minimum=1)
    culture, params = check_culture(culture, n_items, params)
    check_profile_size(n_voters, n_items)
    rng = as_generator(seed)
    # prefsampling wants an int seed; derive one so that a Generator can be passed through.
    sub_seed = int(rng.integers(2**31 - 1))
    if culture == "impartial":
        out = ordinal.impartial(n_voters, n_items, seed=sub_seed)
    elif culture in ("mallows", "norm_mallows"):
        if culture == "mallows":
            phi = params.get("phi", CULTURES["mallows"]["phi"])
        else:
            from prefsampling.ordinal.mallows import phi_from_norm_phi

            phi = float(phi_from_norm_phi(n_items, params.get("norm_phi", CULTURES["norm_mallows"]["norm_phi"])))
        central = rng.permutation(n_items)
        out = mallows_rim(n_voters, n_items, phi, central, np.random.default_rng(sub_seed))
    elif culture == "urn":
        out = ordinal.urn(n_voters, n_items, params.get("alpha", CULTURES["urn"]["alpha"]), seed=sub_seed)
    elif culture == "single_peaked":
        axis = rng.permutation(n_items).tolist()
        out = ordinal.single_peaked_conitzer(n_voters, n_items, axis=axis, seed=sub_seed)
    else:  # plackett_luce
        alphas = params.get("alphas")
        if alphas is None:
            alphas = np.empty(n_items)
            alphas[rng.permutation(n_items)] = 1.0 / np.arange(1, n_items + 1)
        out = ordinal.plackett_luce(n_voters, n_items, alphas.tolist(), seed=sub_seed)
    return check_rankings(np.asarray(out, dtype=np.int64))


def mallows_rim(n_voters: int, n_items: int, phi: float, central, rng: np.random.Generator) -> np.ndarray:
    """Mallows rankings by the repeated insertion model, vectorised over voters.

    Item ``central[j]`` is inserted, for ``j = 1..m-1``, at index ``i in 0..j`` of the partial ranking
    with probability proportional to ``phi ** (j - i)`` (the model ``prefsampling`` samples one vote
    and one insertion at a time; here each insertion is one array operation for all voters, which is
    what makes the paper grid fast).  ``P(v) ∝ phi ** d_KT(v, central)``.
    """
    central = np.asarray(central, dtype=np.int64)
    out = np.zeros((n_voters, n_items), dtype=np.int64)
    for j in range(1, n_items):
        weights = phi ** (j - np.arange(j + 1, dtype=float)) if phi > 0 else (np.arange(j + 1) == j) * 1.0
        cdf = np.cumsum(weights / weights.sum())
        idx = np.minimum(np.searchsorted(cdf, rng.random(n_voters), side="right"), j)
        cols = np.arange(j + 1)[None, :]
        prev = out[:, : j + 1].copy()
        shifted = np.concatenate([np.zeros((n_voters, 1), dtype=np.int64), prev[:, :j]], axis=1)
        out[:, : j + 1] = np.where(cols < idx[:, None], prev, np.where(cols == idx[:, None], j, shifted))
    return central[out]


def random_groups(n_items: int, n_disadvantaged: int | None = None, seed=None) -> np.ndarray:
    """Split items into two groups at random: label 1 (disadvantaged, ``G2``) and 0 (advantaged).

    ``n_disadvantaged`` defaults to ``n_items // 2`` (the paper's random half).
    """
    n_items = check_integer("n_items", n_items, minimum=1)
    size = n_items // 2 if n_disadvantaged is None else check_integer(
        "n_disadvantaged", n_disadvantaged, minimum=0, maximum=n_items)
    # the labels and the permutation rng.choice draws (int64 each)
    check_allocation("n_items", 16.0 * n_items, f"group labels for {n_items} items")
    rng = as_generator(seed)
    groups = np.zeros(n_items, dtype=np.int64)
    groups[rng.choice(n_items, size=size, replace=False)] = 1
    return groups
