"""Committees: fair subset selection from (biased) rankings with committee scoring rules.

Boehmer, Celis, Huang, Mehrotra and Vishnoi, *Subset Selection Based On Multiple Rankings in the Presence of
Bias* (ICML 2023).  Rankings are int arrays ``(n_voters, n_items)``, best first.  Modules (layer 1):
:mod:`~.rankings` (validation, positions, merging, cultures), :mod:`~.rules` (committee scoring rules and
their registry :data:`~.rules.RULES`), :mod:`~.scores` (vectorised scores), :mod:`~.constraints` (group
bounds, feasible committees), :mod:`~.bias` (swap and implicit bias), :mod:`~.smoothness` (``alpha`` and
``gamma(beta)``), :mod:`~.manipulation` (profitable misreports, by enumeration), :mod:`~.preflib` (PrefLib
files).

Exact selection is layer 2: :mod:`mechsim.solvers.committee` (``best_committee``, ``greedy_committee``),
:mod:`mechsim.solvers.committee_family` and the analyses built on it, :mod:`mechsim.solvers.committee_smoothness`
(``constraint_family``, ``rankings_needed``), which this package re-exports lazily.
"""

from mechsim._lazy import lazy_exports
from mechsim.committees import rules
from mechsim.committees.bias import (
    ImplicitBias,
    SwapBias,
    implicit_bias,
    rank_utilities,
    swap_bias,
    swap_bias_path,
)
from mechsim.committees.constraints import (
    GroupBounds,
    check_group_bounds,
    feasible_committees,
    two_group_bounds,
)
from mechsim.committees.manipulation import Manipulation, find_manipulation, manipulation_frequency
from mechsim.committees.preflib import PreflibProfile, read_preflib, write_preflib
from mechsim.committees.rankings import (
    CULTURES,
    check_rankings,
    merge_rankings,
    positions,
    random_groups,
    sample_rankings,
)
from mechsim.committees.rules import (
    RULES,
    CommitteeScoringRule,
    approval_cc,
    approval_pav,
    available_rules,
    bloc,
    borda_cc,
    harmonic_borda,
    k_borda,
    register_rule,
    rule_from_name,
    sntv,
)
from mechsim.committees.scores import (
    committee_score,
    committee_scores,
    singleton_scores,
    voter_scores,
)
from mechsim.committees.smoothness import estimate_smoothness

_SOLVER_EXPORTS = {"mechsim.solvers.committee_smoothness": ["ConstraintFamily", "RankingsNeeded",
                                                            "constraint_family", "rankings_needed"]}
_lazy_all, __getattr__, __dir__ = lazy_exports("mechsim.committees", _SOLVER_EXPORTS, globals())

__all__ = [
    "CULTURES",
    "RULES",
    "CommitteeScoringRule",
    "GroupBounds",
    "ImplicitBias",
    "Manipulation",
    "PreflibProfile",
    "SwapBias",
    "approval_cc",
    "approval_pav",
    "available_rules",
    "bloc",
    "borda_cc",
    "check_group_bounds",
    "check_rankings",
    "committee_score",
    "committee_scores",
    "estimate_smoothness",
    "feasible_committees",
    "find_manipulation",
    "harmonic_borda",
    "implicit_bias",
    "k_borda",
    "manipulation_frequency",
    "merge_rankings",
    "positions",
    "random_groups",
    "rank_utilities",
    "read_preflib",
    "register_rule",
    "rule_from_name",
    "rules",
    "sample_rankings",
    "singleton_scores",
    "sntv",
    "swap_bias",
    "swap_bias_path",
    "two_group_bounds",
    "voter_scores",
    "write_preflib",
]
__all__ += _lazy_all
