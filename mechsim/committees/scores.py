"""Committee scores under a committee scoring rule, vectorised.

For a profile ``rankings`` (shape ``(n, m)``), voter weights ``w`` and a rule ``(gamma, lambda)``::

    f(v, S) = sum_{j=1..k} lambda_j * gamma(p_j(v, S)),      F(S) = sum_v w_v f(v, S)

where ``p_1(v, S) < ... < p_k(v, S)`` are the positions of the members of ``S`` in ranking ``v``.
Each function works on whole arrays: positions by one scatter, member positions by one gather, the
within-voter order by one sort along the last axis.

For a separable rule (``lambda`` constant ``= c``) ``F(S) = sum_{s in S} F({s})`` with the singleton
scores ``F({s}) = c * sum_v w_v gamma(pos_v(s))`` returned by :func:`singleton_scores`.
"""

from __future__ import annotations

import numpy as np

from mechsim.committees._checks import check_index_array
from mechsim.committees.rankings import _positions, check_rankings, check_weights
from mechsim.committees.rules import rule_from_name
from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_integer

__all__ = [
    "check_members",
    "committee_score",
    "committee_scores",
    "order_items",
    "singleton_scores",
    "voter_scores",
]


def check_members(members, n_items: int, name: str = "members") -> np.ndarray:
    """Validate a committee: distinct integer items in ``0..n_items-1`` (integral floats accepted); returned sorted."""
    arr = check_index_array(name, members, n_items, what="item indices")
    if arr.size == 0:
        raise InvalidInstanceError(f"{name}: expected a non-empty 1-D array of item indices, "
                                   f"found shape {arr.shape}", argument=name)
    out = np.sort(arr)
    if np.any(np.diff(out) == 0):
        raise InvalidInstanceError(f"{name}: expected distinct items, found {out[np.flatnonzero(np.diff(out) == 0)[0]]}"
                                   " more than once", argument=name)
    return out


#: Up to this committee size the per-voter sort uses a vectorised odd-even transposition network
#: (elementwise min/max over whole arrays), much faster than ``np.sort`` on many tiny rows.
_NETWORK_MAX_K = 12


def _batch_voter_scores(pos: np.ndarray, committees: np.ndarray, gamma: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``f(v, S)`` for every voter (rows of ``pos``) and committee (rows of ``committees``): ``(n, c)``."""
    k = committees.shape[1]
    values = gamma[pos[:, committees]]            # (n, c, k): gamma of each member's position
    if np.all(lam == lam[0]):                     # separable: order irrelevant
        return lam[0] * values.sum(axis=-1)
    if k > 1 and np.all(lam[1:] == 0):            # Chamberlin-Courant: best member only
        return lam[0] * values.max(axis=-1)
    if k > _NETWORK_MAX_K:
        return -np.sort(-values, axis=-1) @ lam
    cols = [values[..., j] for j in range(k)]
    for rnd in range(k):                          # odd-even transposition sort, descending
        for j in range(rnd % 2, k - 1, 2):
            hi = np.maximum(cols[j], cols[j + 1])
            cols[j + 1] = np.minimum(cols[j], cols[j + 1])
            cols[j] = hi
    out = lam[0] * cols[0]
    for j in range(1, k):
        out = out + lam[j] * cols[j]
    return out


def voter_scores(rankings, members, rule) -> np.ndarray:
    """Per-voter scores ``f(v, S)``, shape ``(n_voters,)``."""
    r = check_rankings(rankings)
    rule = rule_from_name(rule)
    members = check_members(members, r.shape[1])
    gamma = rule.gamma(r.shape[1])
    lam = rule.owa_vector(members.size)
    return _batch_voter_scores(_positions(r), members[None, :], gamma, lam)[:, 0]


def committee_score(rankings, members, rule, weights=None) -> float:
    """Score ``F(S) = sum_v w_v f(v, S)`` of one committee.

    Parameters
    ----------
    rankings : array_like of int, shape (n_voters, n_items)
        Profile, rows best first.
    members : array_like of int, shape (k,)
        Distinct items of the committee.
    rule : CommitteeScoringRule or str
        The rule (or a name accepted by :func:`~mechsim.committees.rules.rule_from_name`).
    weights : array_like, shape (n_voters,), optional
        Non-negative voter weights (default all ones).

    Examples
    --------
    >>> from mechsim.committees import rules
    >>> committee_score([[0, 1, 2], [2, 1, 0]], [0, 1], rules.k_borda())
    4.0
    """
    r = check_rankings(rankings)
    w = check_weights(weights, r.shape[0])
    return float(w @ voter_scores(r, members, rule))


def committee_scores(rankings, committees, rule, weights=None) -> np.ndarray:
    """Scores of many committees of the same size at once.

    Parameters
    ----------
    committees : array_like of int, shape (c, k)
        One committee per row (distinct items within a row).

    Returns
    -------
    ndarray, shape (c,)
    """
    r = check_rankings(rankings)
    rule = rule_from_name(rule)
    w = check_weights(weights, r.shape[0])
    comm = check_index_array("committees", committees, r.shape[1], what="item indices", ndim=2)
    if comm.shape[1] == 0:
        raise InvalidInstanceError(f"committees: expected shape (c, k) with k >= 1, found {comm.shape}",
                                   argument="committees")
    if comm.shape[0] == 0:
        return np.zeros(0)
    repeated = np.any(np.diff(np.sort(comm, axis=1), axis=1) == 0, axis=1)
    if repeated.any():
        row = int(np.argmax(repeated))
        raise InvalidInstanceError(f"committees: expected rows of distinct item indices, found row {row} = "
                                   f"{comm[row].tolist()}", argument="committees")
    gamma = rule.gamma(r.shape[1])
    lam = rule.owa_vector(comm.shape[1])
    pos = _positions(r)
    # in chunks of about 2 million (voter, member) entries, so that memory stays bounded for many committees
    chunk = max(1, 2_000_000 // (pos.shape[0] * comm.shape[1]))
    return np.concatenate([w @ _batch_voter_scores(pos, comm[i:i + chunk], gamma, lam)
                           for i in range(0, comm.shape[0], chunk)])


def singleton_scores(rankings, rule, weights=None, k: int | None = None) -> np.ndarray:
    """Per-item scores ``F({c}) = lambda_1 * sum_v w_v gamma(pos_v(c))``, shape ``(n_items,)``.

    For a separable rule with committee size ``k``, ``F(S)`` is the sum of these over ``S``; pass ``k``
    to take ``lambda_1`` from the size-``k`` OWA vector (default: ``k = 1``).
    """
    r = check_rankings(rankings)
    rule = rule_from_name(rule)
    w = check_weights(weights, r.shape[0])
    k = 1 if k is None else check_integer("k", k, minimum=1, maximum=r.shape[1])
    gamma = rule.gamma(r.shape[1])
    lam1 = rule.owa_vector(k)[0]
    return lam1 * (w @ gamma[_positions(r)])


def order_items(scores) -> np.ndarray:
    """Items sorted by score, highest first, ties broken towards the smaller index (stable)."""
    s = np.asarray(scores, dtype=float)
    return np.argsort(-s, kind="stable")
