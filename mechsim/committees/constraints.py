"""Group constraints on committees, and the committees that satisfy them.

Items carry disjoint group labels ``G_1, ..., G_T``: integers, of any sign (a float array is accepted when
its entries are integral; a non-integral label such as ``0.5`` is refused, never truncated, see
:mod:`mechsim.committees._checks`).  A committee ``S`` of size ``k`` is *feasible* for bounds
``(L_g, U_g)`` when::

    |S| = k,        L_g <= |S ∩ G_g| <= U_g     for every group g.

Such a committee exists exactly when ``L_g <= min(U_g, |G_g|)`` for every group,
``sum_g L_g <= k`` and ``sum_g min(U_g, |G_g|) >= k`` (fill every group to its lower bound, then add
items from groups below their capped upper bound): :func:`check_group_bounds` checks these three
conditions and says which one fails.  The fair-selection family of Boehmer et al. (ICML 2023) uses two
groups and "exactly ``l`` members of the disadvantaged group" (:func:`two_group_bounds`).

Small instances are solved by enumeration: :func:`all_committees` lists every ``k``-subset in
lexicographic order, :func:`feasible_committees` keeps those within the bounds, and :func:`first_optimal`
picks the first committee whose score is within floating-point noise of the maximum, so that enumeration
breaks ties towards the lexicographically smallest committee (the convention of
``best_committee(..., method="brute-force")`` in :mod:`mechsim.solvers.committee` and of the
manipulation search in :mod:`mechsim.committees.manipulation`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mechsim.committees._checks import check_label, check_labels
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.validation import _describe, check_allocation, check_integer

__all__ = [
    "GroupBounds",
    "all_committees",
    "check_enumeration",
    "check_group_bounds",
    "feasible_committees",
    "first_optimal",
    "two_group_bounds",
]

#: Relative tolerance of :func:`first_optimal`: scores this close to the maximum count as ties.
TIE_RTOL = 1e-9


@dataclass(frozen=True)
class GroupBounds:
    """Validated group structure: ``group_index[c]`` in ``0..G-1``, per-group ``lower``/``upper``/``size``."""

    labels: np.ndarray
    group_index: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    size: np.ndarray

    def counts(self, members) -> dict:
        """Number of members per group label."""
        cnt = np.bincount(self.group_index[np.asarray(members, dtype=int)], minlength=self.labels.size)
        return {_plain(lab): int(c) for lab, c in zip(self.labels, cnt)}


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label


def check_group_bounds(groups, bounds, n_items: int, k: int) -> GroupBounds | None:
    """Validate ``groups``/``bounds`` and check feasibility.

    Parameters
    ----------
    groups : array_like of int, shape (n_items,), or None
        Group label of every item (disjoint groups): integers; non-integral labels are refused.
    bounds : mapping label -> (lower, upper), or None
        ``None`` entries mean 0 / no upper limit.  Groups without an entry are unconstrained.
    n_items, k : int
        Number of items and committee size.

    Returns
    -------
    GroupBounds or None
        ``None`` without groups (unconstrained).

    Raises
    ------
    InvalidInstanceError
        Malformed input (bounds without groups, unknown label, negative or non-integer bound).
    InfeasibleError
        No committee of size ``k`` satisfies the bounds; the message says which condition fails.
    """
    n_items = check_integer("n_items", n_items, minimum=1)
    k = check_integer("k", k, minimum=1, maximum=n_items)
    if bounds is not None and not isinstance(bounds, Mapping):
        raise InvalidInstanceError(f"bounds: expected a mapping label -> (lower, upper), found "
                                   f"{_describe(bounds)}", argument="bounds")
    if groups is None:
        if bounds:
            raise InvalidInstanceError("bounds: given without groups; pass groups (a label per item)",
                                       argument="bounds")
        return None
    g = check_labels("groups", groups, n_items)
    labels, index = np.unique(g, return_inverse=True)
    size = np.bincount(index, minlength=labels.size)
    lower = np.zeros(labels.size, dtype=np.int64)
    upper = size.copy()
    if bounds is not None:
        where = {int(lab): i for i, lab in enumerate(labels)}
        for lab, pair in bounds.items():
            if isinstance(lab, bool) or not isinstance(lab, (int, np.integer)) or int(lab) not in where:
                raise InvalidInstanceError(f"bounds: expected keys among the group labels "
                                           f"{labels.tolist()}, found {lab!r}", argument="bounds")
            try:
                lo, hi = pair
            except (TypeError, ValueError):
                raise InvalidInstanceError(f"bounds[{lab}]: expected a pair (lower, upper), found {pair!r}",
                                           argument="bounds") from None
            i = where[int(lab)]
            lo = 0 if lo is None else check_integer(f"bounds[{lab}] lower", lo, minimum=0)
            hi = size[i] if hi is None else check_integer(f"bounds[{lab}] upper", hi, minimum=0)
            if lo > hi:
                raise InfeasibleError(f"bounds[{lab}]: lower bound {lo} exceeds upper bound {hi}",
                                      status="infeasible", group=_plain(labels[i]))
            if lo > size[i]:
                raise InfeasibleError(f"bounds[{lab}]: group {lab} has only {size[i]} items but its lower "
                                      f"bound is {lo}", status="infeasible", group=_plain(labels[i]))
            lower[i], upper[i] = lo, min(hi, size[i])
    if lower.sum() > k:
        raise InfeasibleError(f"bounds: the lower bounds sum to {lower.sum()}, above the committee size "
                              f"k={k}", status="infeasible", lower_sum=int(lower.sum()), k=k)
    if upper.sum() < k:
        raise InfeasibleError(f"bounds: the upper bounds (capped at group sizes) sum to {upper.sum()}, below "
                              f"the committee size k={k}", status="infeasible", upper_sum=int(upper.sum()), k=k)
    return GroupBounds(labels, index.astype(np.int64), lower, upper, size)


def two_group_bounds(groups, disadvantaged: int, l: int, k: int) -> dict:
    """Bounds "exactly ``l`` members with label ``disadvantaged`` and ``k - l`` from every other label".

    With two groups this is the constraint that defines ``S_l`` in the fair-selection family.
    """
    g = check_labels("groups", groups, None)
    disadvantaged = int(check_label("disadvantaged", disadvantaged, g)[0])
    k = check_integer("k", k, minimum=1, maximum=g.size)
    l = check_integer("l", l, minimum=0, maximum=k)
    labels = np.unique(g)
    bounds = {int(g): (k - l, k - l) for g in labels if g != disadvantaged}
    bounds[int(disadvantaged)] = (l, l)
    return bounds


def all_committees(m: int, k: int) -> np.ndarray:
    """Every ``k``-subset of ``range(m)`` in lexicographic order, shape ``(C(m, k), k)`` (cached, read-only)."""
    return _all_committees(*check_enumeration(m, k))


@functools.lru_cache(maxsize=8)
def _all_committees(m: int, k: int) -> np.ndarray:
    combos = np.array(list(itertools.combinations(range(m), k)), dtype=np.int64).reshape(-1, k)
    combos.setflags(write=False)
    return combos


def check_enumeration(m: int, k: int) -> tuple[int, int]:
    """Validate ``1 <= k <= m`` and refuse, before allocating, ``C(m, k)`` committees beyond the memory limit."""
    m = check_integer("m", m, minimum=1)
    k = check_integer("k", k, minimum=1, maximum=m)
    # log C(m, k) by lgamma: math.comb(10**12, 10**11) would take longer than the refusal should
    log_count = math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)
    # per committee: a k-tuple in itertools' list (56 + 8k bytes and a pointer) and a row of the int64 array
    n_bytes = math.inf if log_count > 700 else (16.0 * k + 64.0) * math.exp(log_count)
    check_allocation("m, k", n_bytes, f"every committee of size k={k} out of m={m} items (about "
                                      f"{math.exp(min(log_count, 700)):.3g} committees)")
    return m, k


def feasible_committees(m: int, k: int, gb: GroupBounds | None) -> np.ndarray:
    """The rows of :func:`all_committees` that satisfy ``gb`` (all of them when ``gb`` is None), in order."""
    m, k = check_enumeration(m, k)
    if gb is not None and not isinstance(gb, GroupBounds):
        raise InvalidInstanceError(f"gb: expected GroupBounds (from check_group_bounds) or None, found "
                                   f"{_describe(gb)}", argument="gb")
    if gb is not None and gb.group_index.shape != (m,):
        raise InvalidInstanceError(f"gb: expected group bounds over m={m} items, found {gb.group_index.size}",
                                   argument="gb")
    combos = _all_committees(m, k)
    if gb is not None and combos.size:
        counts = np.zeros((combos.shape[0], gb.labels.size), dtype=np.int64)
        for g in range(gb.labels.size):
            counts[:, g] = (gb.group_index[combos] == g).sum(axis=1)
        ok = np.all((counts >= gb.lower) & (counts <= gb.upper), axis=1)
        combos = combos[ok]
    return combos


def first_optimal(scores) -> np.ndarray | np.intp:
    """Index, along the last axis, of the first score within ``TIE_RTOL`` (relative) of the maximum.

    Over committees listed in lexicographic order this is the lexicographic tie-break.  A 1-D input gives
    one index; an ``(..., c)`` input gives one per leading index.
    """
    scores = np.asarray(scores)
    best = scores.max(axis=-1, keepdims=True)
    # Relative only, so that the choice does not depend on the units of the voters' weights.
    return np.argmax(scores >= best - TIE_RTOL * np.abs(best), axis=-1)
