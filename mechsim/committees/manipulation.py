"""Strategic misreports: can a voter raise its *true* score by submitting another ranking?

The mechanism is exact committee selection by enumeration: the lexicographically first optimal committee
among all committees of size ``k`` satisfying the group bounds (:mod:`mechsim.committees.constraints`;
the same committee as ``best_committee(..., method="brute-force")`` of :mod:`mechsim.solvers.committee`).
Voter ``i`` with true ranking ``v_i`` manipulates when some report ``v'`` makes the mechanism pick
``S'`` with ``f(v_i, S') > f(v_i, S)`` for the truthful outcome ``S``.

The search is vectorised over reports: the scores of every feasible committee under every candidate
report are one gather-sort-dot, added to the other voters' fixed totals.  With ``m! <= max_reports``
every ranking is tried (so "no manipulation found" is a proof); otherwise a seeded random sample of
reports plus every single transposition of the truthful ranking.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from mechsim.committees._checks import check_bool, check_index_array
from mechsim.committees.constraints import check_group_bounds, feasible_committees, first_optimal
from mechsim.committees.rankings import (
    _positions,
    check_culture,
    check_profile_size,
    check_rankings,
    check_weights,
    random_groups,
    sample_rankings,
)
from mechsim.committees.rules import rule_from_name
from mechsim.committees.scores import _batch_voter_scores
from mechsim.validation import as_generator, check_allocation, check_integer

__all__ = ["Manipulation", "ManipulationFrequency", "find_manipulation", "manipulation_frequency"]

@dataclass(frozen=True, eq=False)
class Manipulation:
    """A profitable misreport.

    Attributes
    ----------
    voter : int
    true_ranking : ndarray, shape (m,)
        The voter's true ranking.
    report : ndarray, shape (m,)
        The misreported ranking.
    truthful_members, manipulated_members : ndarray
        Committees chosen under the truthful profile and after the misreport.
    truthful_score, manipulated_score : float
        The voter's true score ``f(v_i, .)`` of each committee.
    exhaustive : bool
        Whether every ranking was tried.
    """

    voter: int
    true_ranking: np.ndarray
    report: np.ndarray
    truthful_members: np.ndarray
    manipulated_members: np.ndarray
    truthful_score: float
    manipulated_score: float
    exhaustive: bool

    @property
    def gain(self) -> float:
        return self.manipulated_score - self.truthful_score


def _exhaustive(m: int, max_reports: int) -> bool:
    # 21! > 5e19 rankings could never be scored; this also keeps math.factorial off huge m
    return m <= 20 and math.factorial(m) <= max_reports


def _candidate_reports(truth: np.ndarray, max_reports: int, rng) -> tuple[np.ndarray, bool]:
    m = truth.size
    if _exhaustive(m, max_reports):
        return np.array(list(itertools.permutations(range(m))), dtype=np.int64), True
    swaps = []
    for a, b in itertools.combinations(range(m), 2):
        rep = truth.copy()
        rep[a], rep[b] = rep[b], rep[a]
        swaps.append(rep)
    n_random = max(0, max_reports - len(swaps))
    rand = np.argsort(rng.random((n_random, m)), axis=1)
    return np.vstack([np.array(swaps, dtype=np.int64).reshape(-1, m), rand]), False


def find_manipulation(rankings, k: int, rule, groups=None, bounds=None, weights=None, voters=None,
                      max_reports: int = 5040, seed=None) -> Manipulation | None:
    """Search for a voter whose misreport raises its true score.

    Parameters
    ----------
    rankings : array_like of int, shape (n, m)
        True rankings.
    k, rule, groups, bounds, weights
        As in :func:`mechsim.solvers.committee.best_committee`.
    voters : iterable of int, optional
        Voters to try (default all), in order.
    max_reports : int
        Exhaustive search when ``m! <= max_reports``; otherwise this many reports per voter.
    seed : int, Generator or None
        For the sampled reports.

    Returns
    -------
    Manipulation or None
        The misreport with the largest gain for the first manipulating voter, or None.
    """
    r = check_rankings(rankings)
    n, m = r.shape
    k = check_integer("k", k, minimum=1, maximum=m)
    rule = rule_from_name(rule)
    w = check_weights(weights, n)
    gb = check_group_bounds(groups, bounds, m, k)
    voters = range(n) if voters is None else check_index_array("voters", voters, n, what="voter indices")
    max_reports = check_integer("max_reports", max_reports, minimum=1)
    combos = feasible_committees(m, k, gb)
    c = combos.shape[0]
    # (n, c, k) member scores of the truthful profile, and per candidate report its ranking, positions and
    # (R, c, k) member scores
    n_reports = math.factorial(m) if _exhaustive(m, max_reports) else max_reports + m * (m - 1) // 2
    check_allocation("max_reports", 16.0 * n * c * k + n_reports * (24.0 * m + 16.0 * c * k),
                     f"scoring {n_reports} candidate reports against {c} committees")
    gamma, lam = rule.gamma(m), rule.owa_vector(k)
    per_voter = _batch_voter_scores(_positions(r), combos, gamma, lam)        # (n, c)
    totals = w @ per_voter
    truthful = int(first_optimal(totals[None, :])[0])
    rng = as_generator(seed)
    exhaustive_reports = None  # every ranking, the same for every voter: scored once
    for i in voters:
        if exhaustive_reports is None:
            reports, exhaustive = _candidate_reports(r[i], max_reports, rng)
            report_scores = _batch_voter_scores(_positions(reports), combos, gamma, lam)   # (R, c)
            if exhaustive:
                exhaustive_reports = (reports, report_scores)
        else:
            reports, report_scores = exhaustive_reports
        outcome = first_optimal(totals[None, :] - w[i] * per_voter[i][None, :] + w[i] * report_scores)
        gains = per_voter[i, outcome] - per_voter[i, truthful]
        best = int(np.argmax(gains))
        if gains[best] > 1e-9 * max(1.0, abs(per_voter[i, truthful])):
            return Manipulation(int(i), r[i].copy(), reports[best], combos[truthful], combos[outcome[best]],
                                float(per_voter[i, truthful]), float(per_voter[i, outcome[best]]), exhaustive)
    return None


@dataclass(frozen=True)
class ManipulationFrequency:
    """Share of random profiles in which some voter can manipulate (with its standard error)."""

    rule: str
    frequency: float
    se: float
    profiles: int
    exhaustive: bool
    example: Manipulation | None


def manipulation_frequency(rule, culture: str = "impartial", n_voters: int = 5, n_items: int = 5, k: int = 2,
                           profiles: int = 50, seed=None, with_groups: bool = False,
                           max_reports: int = 5040, **culture_params) -> ManipulationFrequency:
    """How often a random profile admits a profitable misreport under ``rule``.

    With ``with_groups=True`` the items are split at random into two halves and the committee must
    hold ``k // 2`` items of group 1.
    """
    rule = rule_from_name(rule)
    n_voters = check_integer("n_voters", n_voters, minimum=1)
    n_items = check_integer("n_items", n_items, minimum=1)
    k = check_integer("k", k, minimum=1, maximum=n_items)
    profiles = check_integer("profiles", profiles, minimum=1)
    max_reports = check_integer("max_reports", max_reports, minimum=1)
    with_groups = check_bool("with_groups", with_groups)
    culture, culture_params = check_culture(culture, n_items, culture_params)
    check_profile_size(n_voters, n_items)
    rng = as_generator(seed)
    hits, example, exhaustive = 0, None, _exhaustive(n_items, max_reports)
    for _ in range(profiles):
        r = sample_rankings(culture, n_voters, n_items, seed=rng, **culture_params)
        groups = bounds = None
        if with_groups:
            groups = random_groups(n_items, seed=rng)
            bounds = {1: (k // 2, k // 2)}
        found = find_manipulation(r, k, rule, groups, bounds, max_reports=max_reports, seed=rng)
        if found is not None:
            hits += 1
            example = example or found
    p = hits / profiles
    return ManipulationFrequency(rule.name, p, float(np.sqrt(p * (1 - p) / profiles)), profiles, exhaustive,
                                 example)
