"""Committees: fair subset selection from (biased) rankings with committee scoring rules.

Rankings are int arrays ``(n_voters, n_items)``, best first.  Modules: :mod:`~.rankings` (validation,
positions, merging, cultures), :mod:`~.rules` (committee scoring rules), :mod:`~.scores`
(vectorised scores), :mod:`~.bias` (swap and implicit bias), :mod:`~.smoothness` (constraint families,
smoothness estimates, rankings needed), :mod:`~.manipulation` (profitable misreports),
:mod:`~.preflib` (PrefLib files).  Selection lives in :mod:`mechsim.solvers.committee`
(``best_committee``, ``greedy_committee``); functions here that need it import it when called.
"""

from mechsim.committees import rules
from mechsim.committees.bias import (
                                         ImplicitBias,
                                         SwapBias,
                                         implicit_bias,
                                         rank_utilities,
                                         swap_bias,
                                         swap_bias_path,
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
                                         CommitteeScoringRule,
                                         approval_cc,
                                         approval_pav,
                                         bloc,
                                         borda_cc,
                                         harmonic_borda,
                                         k_borda,
                                         rule_from_name,
                                         sntv,
)
from mechsim.committees.scores import (
                                         committee_score,
                                         committee_scores,
                                         singleton_scores,
                                         voter_scores,
)
from mechsim.committees.smoothness import (
                                         ConstraintFamily,
                                         constraint_family,
                                         estimate_smoothness,
                                         rankings_needed,
)

__all__ = [
                                         "CULTURES",
                                         "CommitteeScoringRule",
                                         "ConstraintFamily",
                                         "ImplicitBias",
                                         "Manipulation",
                                         "PreflibProfile",
                                         "SwapBias",
                                         "approval_cc",
                                         "approval_pav",
                                         "bloc",
                                         "borda_cc",
                                         "check_rankings",
                                         "committee_score",
                                         "committee_scores",
                                         "constraint_family",
                                         "estimate_smoothness",
                                         "find_manipulation",
                                         "harmonic_borda",
                                         "implicit_bias",
                                         "k_borda",
                                         "manipulation_frequency",
                                         "merge_rankings",
                                         "positions",
                                         "random_groups",
                                         "rank_utilities",
                                         "rankings_needed",
                                         "read_preflib",
                                         "rule_from_name",
                                         "rules",
                                         "sample_rankings",
                                         "singleton_scores",
                                         "sntv",
                                         "swap_bias",
                                         "swap_bias_path",
                                         "voter_scores",
                                         "write_preflib",
]
