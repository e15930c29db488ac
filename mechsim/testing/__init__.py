"""Hypothesis strategies and assertions for property-testing mechanisms.

General (:mod:`mechsim.testing.core`, which documents the property-testing pattern): ``probability_vectors``,
``stochastic_tensors``, ``seeds``, ``assert_probability_vector``, ``assert_stochastic_tensor``.
Per domain: ``hiring_instances``, ``mechanisms``, ``assert_hiring_incentive_compatible`` (hiring);
``rankings_profiles``, ``group_structures``, ``committee_instances`` (committees); ``finite_cmdps`` (cmdp);
``debate_games``, ``debate_states``, ``evidence_masks``, ``linear_judges``, ``DebateGame``,
``fixed_random_policy`` (debate); ``auction_instances``, ``persuasion_instances``, ``direct_mechanisms``
and ``assert_incentive_compatible`` (any domain's exact audit) for the classic design models.
"""

from mechsim.testing.cmdp import finite_cmdps
from mechsim.testing.committees import committee_instances, group_structures, rankings_profiles
from mechsim.testing.core import (
    assert_probability_vector,
    assert_stochastic_tensor,
    probability_vectors,
    seeds,
    stochastic_tensors,
)
from mechsim.testing.debate import (
    DebateGame,
    debate_games,
    debate_states,
    evidence_masks,
    fixed_random_policy,
    linear_judges,
)
from mechsim.testing.design import (
    assert_incentive_compatible,
    auction_instances,
    direct_mechanisms,
    persuasion_instances,
)
from mechsim.testing.hiring import assert_hiring_incentive_compatible, hiring_instances, mechanisms

__all__ = [
    "probability_vectors", "stochastic_tensors", "seeds", "assert_probability_vector", "assert_stochastic_tensor",
    "hiring_instances", "mechanisms", "assert_hiring_incentive_compatible",
    "rankings_profiles", "group_structures", "committee_instances",
    "finite_cmdps",
    "auction_instances", "persuasion_instances", "direct_mechanisms", "assert_incentive_compatible",
    "debate_games", "debate_states", "evidence_masks", "linear_judges", "DebateGame", "fixed_random_policy",
]
