"""Ranking profiles: validation, positions, merging and sampling from cultures.

A profile of ``n`` rankings over ``m`` items is an integer array ``rankings`` of shape ``(n, m)`` whose
rows are permutations of ``0, ..., m-1`` listed best first: ``rankings[v, 0]`` is voter ``v``'s top item.
The *position* of item ``c`` in ranking ``v`` is ``pos[v, c]`` with ``rankings[v, pos[v, c]] == c``
(0 = top).  Voter weights, where accepted, are non-negative finite numbers, one per ranking; identical
rankings can be merged into one ranking carrying the sum of their weights without changing any
committee score (scores are linear in the weights).

Cultures are sampled through ``prefsampling`` (seeded); see :func:`sample_rankings`.  Mallows
profiles use prefsampling's normalisation of ``phi`` but a vectorised repeated-insertion sampler of the
same model (:func:`mallows_rim`), about a hundred times faster than drawing vote by vote.
"""

from __future__ import annotations

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    as_generator,
    check_array,
    check_choice,
    check_in_range,
    check_integer,
)

__all__ = [
    "CULTURES",
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
    arr = np.asarray(rankings)
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
        raise InvalidInstanceError(f"{name}: expected rankings over {n_items} items, found {m}", argument=name)
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

    The inverse permutation of every row, computed with one scatter.
    """
    r = np.asarray(rankings)
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

    Examples
    --------
    >>> sample_rankings("mallows", 3, 4, seed=0, phi=0.2).shape
    (3, 4)
    """
    from prefsampling import ordinal

    culture = _ALIASES.get(str(culture).lower(), str(culture).lower())
    check_choice("culture", culture, list(CULTURES))
    n_voters = check_integer("n_voters", n_voters, minimum=1)
    n_items = check_integer("n_items", n_items, minimum=1)
    rng = as_generator(seed)
    params = dict(params)
    # prefsampling wants an int seed; derive one so that a Generator can be passed through.
    sub_seed = int(rng.integers(2**31 - 1))
    if culture == "impartial":
        out = ordinal.impartial(n_voters, n_items, seed=sub_seed)
    elif culture in ("mallows", "norm_mallows"):
        if culture == "mallows":
            phi = float(check_in_range("phi", params.pop("phi", 0.5), 0.0, 1.0))
        else:
            from prefsampling.ordinal.mallows import phi_from_norm_phi

            norm_phi = float(check_in_range("norm_phi", params.pop("norm_phi", 0.5), 0.0, 1.0))
            phi = float(phi_from_norm_phi(n_items, norm_phi))
        central = rng.permutation(n_items)
        out = mallows_rim(n_voters, n_items, phi, central, np.random.default_rng(sub_seed))
    elif culture == "urn":
        alpha = float(check_in_range("alpha", params.pop("alpha", 0.1), 0.0))
        out = ordinal.urn(n_voters, n_items, alpha, seed=sub_seed)
    elif culture == "single_peaked":
        axis = rng.permutation(n_items).tolist()
        out = ordinal.single_peaked_conitzer(n_voters, n_items, axis=axis, seed=sub_seed)
    else:  # plackett_luce
        alphas = params.pop("alphas", None)
        if alphas is None:
            alphas = np.empty(n_items)
            alphas[rng.permutation(n_items)] = 1.0 / np.arange(1, n_items + 1)
        alphas = check_array("alphas", alphas, ndim=1, shape=(n_items,))
        if alphas.min() <= 0:
            raise InvalidInstanceError(f"alphas: expected positive weights, found {alphas.min():.6g}",
                                       argument="alphas")
        out = ordinal.plackett_luce(n_voters, n_items, alphas.tolist(), seed=sub_seed)
    if params:
        raise InvalidInstanceError(
            f"params: culture {culture!r} accepts {sorted(CULTURES[culture]) or 'no parameters'}, "
            f"found unexpected {sorted(params)}", argument="params")
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
    rng = as_generator(seed)
    groups = np.zeros(n_items, dtype=np.int64)
    groups[rng.choice(n_items, size=size, replace=False)] = 1
    return groups
