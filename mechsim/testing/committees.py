"""Hypothesis strategies for committee-selection tests: ranking profiles and feasible group structures.

* :func:`rankings_profiles` — int arrays ``(n_voters, n_items)`` whose rows are permutations.
* :func:`group_structures` — ``(groups, bounds)`` with feasible bounds for a given ``n_items`` and ``k``.
* :func:`committee_instances` — ``(rankings, k, groups, bounds)`` tuples, bounds possibly ``None``.
* :func:`registered_rules` — rules of the registry :data:`mechsim.committees.rules.RULES` (built-in and
  registered with :func:`~mechsim.committees.rules.register_rule`), families with a drawn ``l``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mechsim.committees.rules import RULES

__all__ = ["committee_instances", "group_structures", "rankings_profiles", "registered_rules"]


@st.composite
def rankings_profiles(draw, min_voters: int = 1, max_voters: int = 6, min_items: int = 2, max_items: int = 6,
                      n_items: int | None = None, duplicates: bool = True):
    """A ranking profile; with ``duplicates=True`` some rows may repeat (to exercise merging)."""
    m = n_items if n_items is not None else draw(st.integers(min_items, max_items))
    n = draw(st.integers(min_voters, max_voters))
    perm = st.permutations(list(range(m)))
    rows = draw(st.lists(perm, min_size=n, max_size=n))
    if duplicates and n > 1 and draw(st.booleans()):
        rows[-1] = rows[0]
    return np.asarray(rows, dtype=np.int64).reshape(n, m)


@st.composite
def group_structures(draw, n_items: int, k: int, max_groups: int = 3):
    """``(groups, bounds)``: labels ``0..G-1`` for the items and bounds that admit a committee of size ``k``."""
    n_groups = draw(st.integers(1, max(1, min(max_groups, n_items))))
    labels = draw(st.lists(st.integers(0, n_groups - 1), min_size=n_items, max_size=n_items))
    groups = np.asarray(labels, dtype=np.int64)
    present = np.unique(groups)
    sizes = {int(g): int((groups == g).sum()) for g in present}
    # a witness committee makes the bounds feasible by construction
    witness = draw(st.permutations(list(range(n_items))))[:k]
    counts = {g: int((groups[witness] == g).sum()) for g in sizes}
    bounds = {}
    for g in sorted(sizes):
        if draw(st.booleans()):
            lo = draw(st.integers(0, counts[g]))
            hi = draw(st.one_of(st.none(), st.integers(counts[g], sizes[g])))
            bounds[g] = (lo, hi)
    return groups, bounds


@st.composite
def committee_instances(draw, max_voters: int = 6, max_items: int = 6, with_bounds: bool | None = None):
    """``(rankings, k, groups, bounds)``; ``groups``/``bounds`` are ``None`` when unconstrained."""
    rankings = draw(rankings_profiles(max_voters=max_voters, max_items=max_items))
    m = rankings.shape[1]
    k = draw(st.integers(1, m))
    use = draw(st.booleans()) if with_bounds is None else with_bounds
    if not use:
        return rankings, k, None, None
    groups, bounds = draw(group_structures(m, k))
    return rankings, k, groups, bounds


@st.composite
def registered_rules(draw, max_l: int = 4):
    """A rule of :data:`~mechsim.committees.rules.RULES` (as registered when drawn); families get ``l <= max_l``."""
    entry = draw(st.sampled_from(list(RULES.values())))
    return entry.build(draw(st.integers(1, max_l))) if entry.parametrised else entry.build()
